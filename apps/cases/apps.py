from django.apps import AppConfig


class CasesConfig(AppConfig):
    """Cycles, cases, approval routes, exceptions and the decision gate."""

    name = "apps.cases"
    label = "cases"

    def ready(self) -> None:
        from . import receivers  # noqa: F401 - registers the evidence-review hook
