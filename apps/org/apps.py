from django.apps import AppConfig


class OrgConfig(AppConfig):
    """Org units, employees, journey stages and touchpoints."""

    name = "apps.org"
    label = "org"

    def ready(self) -> None:
        from apps.audit.registry import register_tracked_app

        register_tracked_app(self)
        # The employee's personal fields are declared to the audit trail by apps.privacy, from its data map.
