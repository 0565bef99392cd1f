from django.apps import AppConfig


class CasesConfig(AppConfig):
    """Cycles, cases, approval routes, exceptions and the decision gate."""

    name = "apps.cases"
    label = "cases"

    def ready(self) -> None:
        from apps.audit.registry import register_actions, register_tracked_app

        from . import receivers  # noqa: F401 - registers the evidence-review hook
        from .constants import CaseAuditAction

        # CaseRequirementResult is derived data: each row is the engine's reading of inputs that the trail already
        # records (reviews, attestations, links, pinned versions), rewritten nightly for every open case; auditing it
        # would add an event per open case and requirement each night and tell nothing new.
        # PreviewFlip is derived too: a preview job's result rows, recomputed by running the (audited) job again.
        register_tracked_app(self, exclude=["CaseRequirementResult", "PreviewFlip"])
        register_actions(CaseAuditAction)
