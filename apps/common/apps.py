from django.apps import AppConfig


class CommonConfig(AppConfig):
    """Small shared pieces: request context, health check, base models."""

    name = "apps.common"
    label = "common"
