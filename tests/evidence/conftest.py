"""People around a piece of evidence: its owner, their managers, a peer, a CX reviewer and HR."""

import pytest

from apps.common.roles import Role, ensure_role_groups
from tests.factories.org import EmployeeFactory, OrgUnitFactory, UserFactory


@pytest.fixture
def people(db):
    groups = ensure_role_groups()
    unit = OrgUnitFactory(name="Front Desk")
    director = EmployeeFactory(org_unit=unit, user=UserFactory(username="director"))
    manager = EmployeeFactory(org_unit=unit, manager=director, user=UserFactory(username="manager"))
    owner = EmployeeFactory(org_unit=unit, manager=manager, user=UserFactory(username="owner"))
    peer = EmployeeFactory(org_unit=unit, manager=manager, user=UserFactory(username="peer"))
    reviewer_user = UserFactory(username="cx")
    reviewer_user.groups.add(groups[Role.CX_REVIEWER])
    reviewer = EmployeeFactory(org_unit=OrgUnitFactory(name="CX"), user=reviewer_user)
    hr_user = UserFactory(username="hr")
    hr_user.groups.add(groups[Role.HR])
    return {
        "unit": unit,
        "director": director,
        "manager": manager,
        "owner": owner,
        "peer": peer,
        "reviewer": reviewer,
        "hr": hr_user,
        "stranger": UserFactory(username="stranger"),
    }
