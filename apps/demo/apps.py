from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data (`manage.py seed_demo`): the only app that may import all the others."""

    name = "apps.demo"
    label = "demo"

    def ready(self) -> None:
        from apps.audit.registry import register_actions

        from .constants import DemoAuditAction

        register_actions(DemoAuditAction)
