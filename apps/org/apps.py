from django.apps import AppConfig


class OrgConfig(AppConfig):
    """Org units, employees, journey stages and touchpoints."""

    name = "apps.org"
    label = "org"

    def ready(self) -> None:
        from apps.audit.registry import register_tracked_app

        register_tracked_app(self)
