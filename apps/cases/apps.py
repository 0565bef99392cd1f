from django.apps import AppConfig


class CasesConfig(AppConfig):
    """Cycles, cases, approval routes, exceptions and the decision gate."""

    name = "apps.cases"
    label = "cases"

    def ready(self) -> None:
        from apps.audit.registry import register_actions, register_tracked_app

        from . import receivers  # noqa: F401 - registers the evidence-review hook
        from .constants import CaseAuditAction

        register_tracked_app(self)
        register_actions(CaseAuditAction)
