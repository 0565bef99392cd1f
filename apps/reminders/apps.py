from django.apps import AppConfig


class RemindersConfig(AppConfig):
    """Reminders, escalations and digests: planned by Celery beat, sent at most once per unique key."""

    name = "apps.reminders"
    label = "reminders"

    def ready(self) -> None:
        from apps.audit.registry import register_tracked_app

        from . import receivers  # noqa: F401 - registers the evidence- and case-event notifications

        # PendingEvidenceEvent is a work queue: each row repeats the submission's or review's own audit event and
        # lives for seconds; the reminders written from it are audited.
        register_tracked_app(self, exclude=["PendingEvidenceEvent"])
