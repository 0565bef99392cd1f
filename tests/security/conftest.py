"""The cast of the security tests: one user per role, and a little data each of them may or may not reach."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from apps.cases.models import Case, Cycle
from apps.cases.services import case_open
from apps.common.roles import Role, ensure_role_groups
from apps.evidence.constants import EvidenceStatus
from apps.evidence.models import Evidence
from apps.org.models import Employee
from apps.policies.models import RitualType
from apps.policies.services import policy_create, policy_version_create, policy_version_publish, requirement_add
from tests.factories.cases import CycleFactory
from tests.factories.evidence import EvidenceFactory
from tests.factories.org import EmployeeFactory, OrgUnitFactory, UserFactory

PASSWORD = "correct-horse-battery"  # the factories' password
ROLES = ("anonymous", "employee", "manager", "cx_reviewer", "hr", "leadership", "superuser")


@dataclass
class Cast:
    """Users by role, and objects to aim at: the employee's draft and submitted items and case."""

    users: dict[str, User | None]
    employee: Employee
    manager: Employee
    draft: Evidence
    submitted: Evidence
    case: Case
    cycle: Cycle
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self, role: str) -> Client:
        """A test client signed in (session) as the role's user; anonymous is a fresh client."""
        client = Client()
        user = self.users[role]
        if user is not None:
            client.force_login(user)
        return client

    def token(self, role: str) -> str:
        """The role's API token (created on first use)."""
        if role not in self.tokens:
            self.tokens[role] = Token.objects.get_or_create(user=self.users[role])[0].key
        return self.tokens[role]


def build_cast() -> Cast:
    """Create the roles and their data (also used by transactional tests, after a flush)."""
    groups = ensure_role_groups()
    unit = OrgUnitFactory(name="Front desk", code="front-desk")
    cx_unit = OrgUnitFactory(name="Customer experience", code="cx")
    manager_user = UserFactory(username="manager", first_name="Maria", last_name="Head")
    manager = EmployeeFactory(user=manager_user, full_name="Maria Head", org_unit=unit)
    employee_user = UserFactory(username="dana", first_name="Dana", last_name="Desk")
    employee = EmployeeFactory(user=employee_user, full_name="Dana Desk", org_unit=unit, manager=manager)
    reviewer_user = UserFactory(username="reviewer")
    EmployeeFactory(user=reviewer_user, full_name="Rita Viewer", org_unit=cx_unit)
    reviewer_user.groups.add(groups[Role.CX_REVIEWER])
    hr_user = UserFactory(username="hr")  # HR as in the demo: a role in the product, not an admin login
    hr_user.groups.add(groups[Role.HR])
    leader_user = UserFactory(username="leader")
    leader_user.groups.add(groups[Role.LEADERSHIP])
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)

    ritual = RitualType.objects.get(code="promotion")
    policy = policy_create(ritual_type=ritual, scope=None)
    version = policy_version_create(policy=policy, effective_from=timezone.localdate() - dt.timedelta(days=60))
    requirement_add(
        version=version,
        kind="min_evidence",
        params={"count": 1, "categories": ["customer_story"], "within_days": 365},
        label="One customer story",
    )
    policy_version_publish(version=version, today=version.effective_from)
    cycle = CycleFactory()
    case = case_open(cycle=cycle, subject_employee=employee, nominated_by=manager)

    draft = EvidenceFactory(owner=employee, title="Dana's draft")
    submitted = EvidenceFactory(
        owner=employee, title="Dana's submitted story", status=EvidenceStatus.SUBMITTED, submitted_at=timezone.now()
    )
    users: dict[str, User | None] = {
        "anonymous": None,
        "employee": employee_user,
        "manager": manager_user,
        "cx_reviewer": reviewer_user,
        "hr": hr_user,
        "leadership": leader_user,
        "superuser": superuser,
    }
    return Cast(
        users=users, employee=employee, manager=manager, draft=draft, submitted=submitted, case=case, cycle=cycle
    )


@pytest.fixture
def cast(db) -> Cast:
    return build_cast()
