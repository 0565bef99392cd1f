"""A promotion baseline in force, an open cycle, and the people around a case."""

import datetime as dt

import pytest
from django.utils import timezone

from apps.common.roles import Role, ensure_role_groups
from apps.policies.models import RitualType
from apps.policies.services import policy_create, policy_version_create, policy_version_publish, requirement_add
from tests.factories.cases import CycleFactory
from tests.factories.org import EmployeeFactory, OrgUnitFactory, UserFactory

STORY_RULE = {"count": 1, "categories": ["customer_story"], "within_days": 365}


@pytest.fixture
def promotion(db):
    return RitualType.objects.get(code="promotion")


@pytest.fixture
def baseline(promotion):
    """The promotion baseline: one verified customer story in the last year."""
    policy = policy_create(ritual_type=promotion, scope=None)
    version = policy_version_create(policy=policy, effective_from=timezone.localdate() - dt.timedelta(days=60))
    requirement_add(version=version, kind="min_evidence", params=STORY_RULE, label="One customer story")
    return policy_version_publish(version=version, today=version.effective_from)


@pytest.fixture
def cycle(baseline):
    return CycleFactory()


@pytest.fixture
def org(db):
    groups = ensure_role_groups()
    unit = OrgUnitFactory(name="Front Desk")
    director = EmployeeFactory(org_unit=unit, user=UserFactory(username="director"))
    manager = EmployeeFactory(org_unit=unit, manager=director, user=UserFactory(username="manager"))
    dana = EmployeeFactory(org_unit=unit, manager=manager, full_name="Dana Okafor", user=UserFactory(username="dana"))
    hr_a = UserFactory(username="hr-a")
    hr_a.groups.add(groups[Role.HR])
    hr_b = UserFactory(username="hr-b")
    hr_b.groups.add(groups[Role.HR])
    return {"unit": unit, "director": director, "manager": manager, "dana": dana, "hr_a": hr_a, "hr_b": hr_b}


@pytest.fixture
def hiring_cycle(db):
    """An open hiring cycle with a baseline in force (one customer story, linked by the hiring manager)."""
    hiring = RitualType.objects.get(code="hiring")
    policy = policy_create(ritual_type=hiring, scope=None)
    version = policy_version_create(policy=policy, effective_from=timezone.localdate() - dt.timedelta(days=60))
    requirement_add(version=version, kind="min_evidence", params=STORY_RULE, label="One customer story")
    policy_version_publish(version=version, today=version.effective_from)
    return CycleFactory(ritual_type=hiring, name="Hiring 2026")


@pytest.fixture
def second_admin(db):
    """Another superuser: HR in the admin, for four-eyes steps."""
    from django.contrib.auth.models import User

    return User.objects.create_superuser("second-admin", "second@example.com", "correct-horse-battery")


@pytest.fixture
def attesting_cycle(promotion):
    """A promotion cycle whose baseline asks for a customer story and the manager's attestation."""
    policy = policy_create(ritual_type=promotion, scope=None)
    version = policy_version_create(policy=policy, effective_from=timezone.localdate() - dt.timedelta(days=60))
    requirement_add(version=version, kind="min_evidence", params=STORY_RULE, label="One customer story")
    requirement_add(version=version, kind="attestation", params={"role": "manager"}, label="Manager attests")
    policy_version_publish(version=version, today=version.effective_from)
    return CycleFactory()
