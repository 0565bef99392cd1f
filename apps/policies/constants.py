"""Choices for rituals, evidence categories and policy versions."""

from django.db import models


class SubjectKind(models.TextChoices):
    """Who a ritual decides about."""

    EMPLOYEE = "employee", "Employee"
    CANDIDATE = "candidate", "Candidate"
    ORG_UNIT = "org_unit", "Org unit"


class CategoryKind(models.TextChoices):
    """The nature of an evidence category; outcome scores are capped, operational metrics count most."""

    STORY = "story", "Customer story"
    VOICE = "voice", "Customer voice insight"
    OPERATIONAL_METRIC = "operational_metric", "Operational metric"
    OUTCOME_METRIC = "outcome_metric", "Outcome score (NPS, CSAT)"
    HANDOFF = "handoff", "Internal handoff"
    COLLABORATION = "collaboration", "Collaboration"
    PREVENTION = "prevention", "Problem prevention"
    CONSISTENCY = "consistency", "Consistency across channels"
    MUTUAL_VALUE = "mutual_value", "New mutual value"
    SILO_BRIDGING = "silo_bridging", "Silo bridging"


class VersionStatus(models.TextChoices):
    """Life of a policy version: drafts are edited, published versions are immutable, retired ones end."""

    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    RETIRED = "retired", "Retired"


# Fields HR may still change on a published version: only the transition to retired touches these.
VERSION_TRANSITION_FIELDS = frozenset({"status", "effective_to", "retired_at", "retired_by_id", "updated_at"})


class PolicyAuditAction(models.TextChoices):
    """A policy version's life on the audit trail (registered in PoliciesConfig.ready())."""

    POLICY_DRAFTED = "policy_drafted", "Policy drafted"
    POLICY_PUBLISHED = "policy_published", "Policy published"
    POLICY_RETIRED = "policy_retired", "Policy retired"
