from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ReportsConfig(AppConfig):
    """Compliance reports, exports and the leadership dashboard."""

    name = "apps.reports"
    label = "reports"
    default = True

    def ready(self) -> None:
        from apps.audit.registry import register_tracked_app

        register_tracked_app(self)


class HRAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the HR home as its default site (named in INSTALLED_APPS instead of the admin)."""

    default = False
    default_site = "apps.reports.admin_site.HRAdminSite"
