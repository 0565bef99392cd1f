from django.apps import AppConfig


class InsightsConfig(AppConfig):
    """The customer-insight stream: what customers said, routed to the groups that should hear it."""

    name = "apps.insights"
    label = "insights"
    verbose_name = "Customer insights"

    def ready(self) -> None:
        from apps.audit.registry import register_tracked_app

        from . import receivers  # noqa: F401 - registers the evidence-verified receiver

        register_tracked_app(self)
