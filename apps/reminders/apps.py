from django.apps import AppConfig


class RemindersConfig(AppConfig):
    """Reminders, escalations and digests: planned by Celery beat, sent at most once per unique key."""

    name = "apps.reminders"
    label = "reminders"

    def ready(self) -> None:
        from . import receivers  # noqa: F401 - registers the evidence-event notifications
