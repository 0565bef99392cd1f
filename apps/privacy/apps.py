from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """Personal data: the data map, retention rules and legal holds, access exports and erasure."""

    name = "apps.privacy"
    label = "privacy"

    def ready(self) -> None:
        from apps.audit.registry import register_tracked_app

        from .datamap import DATA_MAP
        from .datamap.audit import register_with_audit

        register_tracked_app(self)
        # Every personal value of the data map is stored encrypted in the audit trail, with its person's key.
        register_with_audit(DATA_MAP)
