"""Choices and limits for evidence and attachments."""

from django.db import models


class EvidenceStatus(models.TextChoices):
    """Where an evidence item is in its review."""

    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    VERIFIED = "verified", "Verified"
    REJECTED = "rejected", "Rejected"


EDITABLE_STATUSES = frozenset({EvidenceStatus.DRAFT, EvidenceStatus.CHANGES_REQUESTED})


class SourceType(models.TextChoices):
    """Where the customer's words were heard (Listen)."""

    INTERVIEW = "interview", "Interview"
    SUPPORT_TICKET = "support_ticket", "Support ticket"
    SURVEY_VERBATIM = "survey_verbatim", "Survey verbatim"
    SALES_CALL = "sales_call", "Sales call"
    SOCIAL = "social", "Social media"
    OTHER = "other", "Other"


class CustomerType(models.TextChoices):
    """Whose experience changed: an external customer, or an internal group that receives one's output."""

    EXTERNAL = "external", "External customer"
    INTERNAL = "internal", "Internal customer (another group)"


class MetricKind(models.TextChoices):
    """Operational metrics (a KPI the person could move) count more than outcome scores (NPS, CSAT)."""

    OPERATIONAL = "operational", "Operational KPI"
    OUTCOME = "outcome", "Outcome score (NPS, CSAT)"


class Direction(models.TextChoices):
    """Which way the metric is better."""

    INCREASE = "increase", "Higher is better"
    DECREASE = "decrease", "Lower is better"


class FlagCode(models.TextChoices):
    """Reasons a reviewer must look twice before verifying."""

    SCORE_SOLICITATION = "score_solicitation", "Score solicitation"
    OUTCOME_ONLY = "outcome_only", "Outcome score only"
    ATTACHMENT_UNREAD = "attachment_unread", "Attachment not checked"


class SolicitationKind(models.TextChoices):
    """How a phrasing asks the customer for a score (docs/security.md, "Score-solicitation flags")."""

    REQUEST = "request", "Request (give us a 10)"
    WISH = "wish", "Wish (we'd love a 10)"
    CONDITION = "condition", "Condition (anything less than 9 is a fail)"
    SURVEY_ANSWER = "survey_answer", "Survey answer (tick 'very satisfied')"


class PhraseLanguage(models.TextChoices):
    """The language a solicitation phrase is written in; every active phrase is matched against every text."""

    ENGLISH = "en", "English"
    GERMAN = "de", "German"
    FRENCH = "fr", "French"
    SPANISH = "es", "Spanish"
    ARABIC = "ar", "Arabic"
    OTHER = "other", "Other or any"


# Limits of the attachment text scanned for score solicitation (apps/evidence/text_extract.py).
ATTACHMENT_TEXT_MAX_CHARS = 200_000
ATTACHMENT_PDF_MAX_PAGES = 40
ATTACHMENT_DOCX_MAX_XML_BYTES = 20 * 1024 * 1024
# All attachments of one submission share this reading time; what is left unread is flagged, never refused.
ATTACHMENT_TEXT_TIME_BUDGET_SECONDS = 8.0


# Upload rules; the size limit is the setting EVIDENCE_MAX_UPLOAD_BYTES.
MAX_ATTACHMENTS_PER_EVIDENCE = 10
ALLOWED_TYPES: dict[str, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "text/plain": (".txt", ".md", ".log"),
    "text/csv": (".csv",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (".xlsx",),
}


class EvidenceAuditAction(models.TextChoices):
    """The evidence review's events on the audit trail (registered in EvidenceConfig.ready())."""

    EVIDENCE_SUBMITTED = "evidence_submitted", "Evidence submitted"
    EVIDENCE_VERIFIED = "evidence_verified", "Evidence verified"
    EVIDENCE_REJECTED = "evidence_rejected", "Evidence rejected"
    EVIDENCE_CHANGES_REQUESTED = "evidence_changes_requested", "Evidence changes requested"
