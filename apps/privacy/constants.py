from django.db import models


class RetentionKind(models.TextChoices):
    """The kinds of personal data a retention rule can cover; each says from when its period counts."""

    REJECTED_CANDIDATES = "rejected_candidates", "Rejected candidates (from the decision)"
    HIRED_CANDIDATES = "hired_candidates", "Hired candidates' hiring-case data (from the decision)"
    LEAVER_ATTACHMENTS = "leaver_attachments", "Evidence attachments of people who left (from leaving)"
    REMINDER_LOGS = "reminder_logs", "Reminder and notification log (from sending)"
    DECIDED_CASES = "decided_cases", "Decided cases (from the decision)"
