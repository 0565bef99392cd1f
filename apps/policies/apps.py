from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    """Rituals, evidence categories, policies and their versions, and the engine."""

    name = "apps.policies"
    label = "policies"

    def ready(self) -> None:
        from apps.audit.registry import register_actions, register_tracked_app

        from .constants import PolicyAuditAction

        register_tracked_app(self)
        register_actions(PolicyAuditAction)
