from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """Personal data: the data map, retention rules and legal holds, access exports and erasure."""

    name = "apps.privacy"
    label = "privacy"

    def ready(self) -> None:
        from apps.audit.registry import register_tracked_app

        register_tracked_app(self)
