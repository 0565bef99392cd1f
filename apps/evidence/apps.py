from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    """Evidence items, their attachments and their review."""

    name = "apps.evidence"
    label = "evidence"

    def ready(self) -> None:
        from apps.audit.registry import register_actions, register_tracked_app

        from .constants import EvidenceAuditAction

        register_tracked_app(self)
        register_actions(EvidenceAuditAction)
