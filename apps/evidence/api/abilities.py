"""What the requesting user may do with each evidence item, for the API's `can` flags, in bulk.

The rules are those of `apps.evidence.permissions` (can_edit, can_review, the services' guards), evaluated without
a query per row: the only query is one per page, for which of the page's owners sit under the user in the org.
The services stay the authority; these flags only tell a client which buttons to show.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property

from apps.common.roles import is_cx_reviewer, is_hr
from apps.org.models import Employee
from apps.org.selectors import heads_whole_organisation, reports_subtree_sql

from ..constants import EDITABLE_STATUSES, EvidenceStatus
from ..models import Evidence
from ..permissions import employee_of


def is_owner(user: object, evidence: Evidence) -> bool:
    """Is `user` the employee who owns this item?"""
    employee = employee_of(user)
    return employee is not None and evidence.owner_id == employee.pk


class Abilities:
    """The `can` flags of one user, with manager rights loaded once per batch of items."""

    def __init__(self, user: object) -> None:
        employee = employee_of(user)
        self.employee_id: int | None = employee.pk if employee is not None else None
        self.employee = employee
        self.reviews_anyone = bool(getattr(user, "is_authenticated", False)) and (is_hr(user) or is_cx_reviewer(user))
        self._managed: set[int] = set()
        self._checked: set[int] = set()

    @cached_property
    def heads_whole_organisation(self) -> bool:
        return self.employee is not None and heads_whole_organisation(self.employee)

    def prime(self, items: Iterable[Evidence]) -> None:
        """Load, in one query, which owners of these submitted items the user manages (at any depth)."""
        if self.reviews_anyone or self.employee_id is None:
            return
        wanted = {
            item.owner_id
            for item in items
            if item.status == EvidenceStatus.SUBMITTED and item.owner_id != self.employee_id
        } - self._checked
        if not wanted:
            return
        if self.heads_whole_organisation:
            managed: Iterable[int] = wanted  # everyone reports to them
        else:
            managed = (
                Employee.objects.filter(pk__in=wanted)
                .filter(pk__in=reports_subtree_sql(self.employee_id))
                .values_list("pk", flat=True)
            )
        self._managed.update(managed)
        self._checked.update(wanted)

    def may_review(self, evidence: Evidence) -> bool:
        """Could the user verify, reject or send back this item now?"""
        if evidence.status != EvidenceStatus.SUBMITTED or evidence.owner_id == self.employee_id:
            return False
        if self.reviews_anyone:
            return True
        if self.employee_id is None:
            return False
        self.prime([evidence])
        return evidence.owner_id in self._managed

    def for_item(self, evidence: Evidence) -> dict[str, bool]:
        """The flags of one item; `has_correction` comes from the API queryset's annotation when present."""
        own = self.employee_id is not None and evidence.owner_id == self.employee_id
        status = evidence.status
        editable = own and status in EDITABLE_STATUSES
        never_submitted = evidence.submitted_at is None and evidence.previous_id is None
        correctable = own and status == EvidenceStatus.VERIFIED and evidence.is_current
        if correctable:  # only then does an existing correction matter (asked only when not annotated)
            has_correction = getattr(evidence, "has_correction", None)
            if has_correction is None:
                has_correction = Evidence.objects.filter(previous_id=evidence.pk).exists()
            correctable = not has_correction
        return {
            "edit": editable,
            "submit": editable,
            "review": self.may_review(evidence),
            "correct": correctable,
            "delete": own and status == EvidenceStatus.DRAFT and never_submitted,
        }
