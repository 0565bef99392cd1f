"""Choices and limits of the customer-insight stream."""

from django.db import models

# The most insights one API call may carry (a survey or support tool sends batches).
INGEST_BATCH_MAX = 1000


class Channel(models.TextChoices):
    """Where the customer said it."""

    SURVEY = "survey", "Survey"
    SUPPORT = "support", "Support ticket or chat"
    REVIEW = "review", "Public review"
    INTERVIEW = "interview", "Interview"
    SALES = "sales", "Sales conversation"
    SOCIAL = "social", "Social media"
    INTERNAL = "internal", "Internal customer (another group)"
    OTHER = "other", "Other"


class InboxStatus(models.TextChoices):
    """Where an insight is in one unit's inbox."""

    NEW = "new", "New"
    IN_PROGRESS = "in_progress", "Being handled"
    RESPONDED = "responded", "Responded"
    NO_ACTION = "no_action", "No action"


OPEN_STATUSES = frozenset({InboxStatus.NEW, InboxStatus.IN_PROGRESS})


class RouteReason(models.TextChoices):
    """Why an insight reached a unit's inbox."""

    TOUCHPOINT = "touchpoint", "Rule on its touchpoint"
    JOURNEY_STAGE = "journey_stage", "Rule on its journey stage"
    EXPLICIT = "explicit", "Sent to the unit by name"
    TOUCHPOINT_OWNER = "touchpoint_owner", "The touchpoint's owning group"


class ScoreBand(models.TextChoices):
    """Score bands the inbox filters by (a score is normalised to 0-10 on arrival)."""

    LOW = "low", "Low (0-6)"
    MIDDLE = "middle", "Middle (7-8)"
    HIGH = "high", "High (9-10)"
    NONE = "none", "No score"
