import sys

from django.apps import AppConfig


class AuditConfig(AppConfig):
    """The append-only, hash-chained audit trail and its automatic capture."""

    name = "apps.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from . import auth_events, celery_hooks, checks  # noqa: F401 - connects receivers and registers the check
        from .actor import use_command_actor
        from .capture import connect_capture
        from .registry import build_registry

        # All models are loaded before any ready() runs, so models added later are found here too.
        build_registry()
        connect_capture()
        use_command_actor(sys.argv)
