from django.apps import AppConfig


class OrgConfig(AppConfig):
    """Org units, employees, journey stages and touchpoints."""

    name = "apps.org"
    label = "org"

    def ready(self) -> None:
        from apps.audit.registry import register_personal_fields, register_tracked_app

        register_tracked_app(self)
        # An employee's name and address are erasable from the trail (docs/audit.md, "Event format and erasure").
        register_personal_fields(
            "org.Employee", fields=("full_name", "email"), person=lambda employee: ("org.employee", employee.pk)
        )
