"""Reads of the org structure; the tree is loaded in one query and walked in memory."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models.expressions import RawSQL

from .models import Employee, OrgUnit


@dataclass(slots=True)
class OrgTree:
    """The whole org-unit tree, for ancestor and descendant walks without further queries."""

    parent_of: dict[int, int | None]
    layer_of: dict[int, int]
    name_of: dict[int, str]
    children_of: dict[int | None, list[int]] = field(default_factory=dict)

    def ancestors(self, unit_id: int, *, include_self: bool = True) -> list[int]:
        """Return the unit's ancestors, nearest first (the unit itself first when include_self)."""
        chain: list[int] = [unit_id] if include_self else []
        seen = {unit_id}
        node = self.parent_of.get(unit_id)
        while node is not None and node not in seen:
            chain.append(node)
            seen.add(node)
            node = self.parent_of.get(node)
        return chain

    def descendants(self, unit_id: int, *, include_self: bool = True) -> list[int]:
        """Return every unit under `unit_id`, breadth first."""
        found: list[int] = [unit_id] if include_self else []
        queue = list(self.children_of.get(unit_id, []))
        seen = {unit_id}
        while queue:
            node = queue.pop(0)
            if node in seen:
                continue
            seen.add(node)
            found.append(node)
            queue.extend(self.children_of.get(node, []))
        return found


def org_tree_get() -> OrgTree:
    """Load the org tree in a single query."""
    parent_of: dict[int, int | None] = {}
    layer_of: dict[int, int] = {}
    name_of: dict[int, str] = {}
    children: dict[int | None, list[int]] = defaultdict(list)
    for pk, parent_id, layer, name in OrgUnit.objects.values_list("id", "parent_id", "customer_layer", "name"):
        parent_of[pk] = parent_id
        layer_of[pk] = layer
        name_of[pk] = name
        children[parent_id].append(pk)
    return OrgTree(parent_of=parent_of, layer_of=layer_of, name_of=name_of, children_of=dict(children))


def _subtree_sql(start_column: str, employee_id: int) -> RawSQL:
    # The employees whose `start_column` is the id, then everyone under them (recursive CTE, one round trip).
    table = Employee._meta.db_table
    return RawSQL(  # noqa: S611 - no user input in the SQL text; the id is a bound parameter
        f"WITH RECURSIVE subtree(id) AS ("  # noqa: S608 - names from model meta, value bound as a parameter
        f"SELECT id FROM {table} WHERE {start_column} = %s "
        f"UNION SELECT e.id FROM {table} e JOIN subtree s ON e.manager_id = s.id"
        f") SELECT id FROM subtree",
        [employee_id],
    )


def reports_subtree_sql(manager_id: int) -> RawSQL:
    """A subquery of the ids of everyone under a manager, at any depth."""
    return _subtree_sql("manager_id", manager_id)


def self_and_reports_sql(employee_id: int) -> RawSQL:
    """A subquery of the ids of an employee and of everyone under them, at any depth."""
    return _subtree_sql("id", employee_id)


def heads_whole_organisation(employee: Employee) -> bool:
    """Is this employee the only one with no manager, so that everyone reports to them at some depth?

    Free for anyone with a manager (most people); one index lookup otherwise. Manager chains cannot loop
    (`Employee.clean`), so with a single person at the top every other employee's chain ends with them: callers can
    skip walking a subtree of the whole company (`self_and_reports_sql` over 100,000 people costs a second per list)
    and filter on their own rows instead.
    """
    if employee.manager_id is not None:
        return False
    tops = list(Employee.objects.filter(manager__isnull=True).order_by("pk").values_list("pk", flat=True)[:2])
    return tops == [employee.pk]


def has_reports(employee_id: int) -> bool:
    """Does anyone report to this employee?"""
    return Employee.objects.filter(manager_id=employee_id).exists()


def is_in_manager_chain(*, manager_id: int, employee_id: int) -> bool:
    """True when `manager_id` manages `employee_id` directly or through others."""
    return Employee.objects.filter(pk=employee_id, pk__in=reports_subtree_sql(manager_id)).exists()
