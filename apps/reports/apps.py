from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Compliance reports, exports and the leadership dashboard."""

    name = "apps.reports"
    label = "reports"

    def ready(self) -> None:
        from apps.audit.registry import register_tracked_app

        register_tracked_app(self)
