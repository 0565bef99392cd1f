"""What the requesting user may do with each evidence item, for the API's `can` flags, in bulk.

The rules are those of `apps.evidence.permissions` (can_edit, can_review, the services' guards), evaluated without
a query per row: the only query is one per page, for which of the page's owners sit under the user in the org.
The services stay the authority; these flags only tell a client which buttons to show.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from apps.common.roles import is_cx_reviewer, is_hr
from apps.org.models import Employee
from apps.org.selectors import reports_subtree_sql

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
        self.reviews_anyone = bool(getattr(user, "is_authenticated", False)) and (is_hr(user) or is_cx_reviewer(user))
        self._managed: set[int] = set()
        self._checked: set[int] = set()

    def prime(self, items: Iterable[Evidence]) -> None:
        """Load, in one query, which owners of these submitted items the user manages (at any depth)."""
        self.prime_owners(item.owner_id for item in items if item.status == EvidenceStatus.SUBMITTED)

    def prime_owners(self, owner_ids: Iterable[int]) -> None:
        """Load, in one query, which of these owners (of submitted items) the user manages, at any depth."""
        if self.reviews_anyone or self.employee_id is None:
            return
        wanted = {owner_id for owner_id in owner_ids if owner_id != self.employee_id} - self._checked
        if not wanted:
            return
        managed = (
            Employee.objects.filter(pk__in=wanted)
            .filter(pk__in=reports_subtree_sql(self.employee_id))
            .values_list("pk", flat=True)
        )
        self._managed.update(managed)
        self._checked.update(wanted)

    def may_review(self, evidence: Evidence) -> bool:
        """Could the user verify, reject or send back this item now?"""
        return self._may_review(evidence.owner_id, evidence.status)

    def _may_review(self, owner_id: int, status: str) -> bool:
        if status != EvidenceStatus.SUBMITTED or owner_id == self.employee_id:
            return False
        if self.reviews_anyone:
            return True
        if self.employee_id is None:
            return False
        self.prime_owners([owner_id])
        return owner_id in self._managed

    def for_item(self, evidence: Evidence) -> dict[str, bool]:
        """The flags of one item; `has_correction` comes from the API queryset's annotation when present."""
        has_correction = getattr(evidence, "has_correction", None)
        if has_correction is None:
            has_correction = Evidence.objects.filter(previous_id=evidence.pk).exists()
        return self.flags(
            owner_id=evidence.owner_id,
            status=evidence.status,
            is_current=evidence.is_current,
            submitted_at=evidence.submitted_at,
            previous_id=evidence.previous_id,
            has_correction=has_correction,
        )

    def flags(
        self,
        *,
        owner_id: int,
        status: str,
        is_current: bool,
        submitted_at: dt.datetime | None,
        previous_id: int | None,
        has_correction: bool,
    ) -> dict[str, bool]:
        """The flags of an item given its facts (a row of the API's list needs no model instance)."""
        own = self.employee_id is not None and owner_id == self.employee_id
        editable = own and status in EDITABLE_STATUSES
        return {
            "edit": editable,
            "submit": editable,
            "review": self._may_review(owner_id, status),
            "correct": own and status == EvidenceStatus.VERIFIED and is_current and not has_correction,
            "delete": own and status == EvidenceStatus.DRAFT and submitted_at is None and previous_id is None,
        }
