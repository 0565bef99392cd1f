"""A small cast for the portal pages: an employee, her manager, a colleague, a CX reviewer, HR and a bare login."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.test import Client

from apps.common.roles import Role, ensure_role_groups
from apps.org.models import Employee
from tests.factories.org import EmployeeFactory, OrgUnitFactory, UserFactory


@dataclass
class Cast:
    dana: User
    dana_employee: Employee
    manager: User
    colleague: User
    reviewer: User
    hr: User
    bare: User


@pytest.fixture
def cast(db) -> Cast:
    groups = ensure_role_groups()
    front_desk = OrgUnitFactory(name="Front desk")
    contact_centre = OrgUnitFactory(name="Contact centre")
    manager = UserFactory(username="manager", first_name="Maria", last_name="Head")
    manager_employee = EmployeeFactory(user=manager, full_name="Maria Head", org_unit=front_desk)
    dana = UserFactory(username="dana", first_name="Dana", last_name="Desk")
    dana_employee = EmployeeFactory(user=dana, full_name="Dana Desk", org_unit=front_desk, manager=manager_employee)
    colleague = UserFactory(username="colleague")
    EmployeeFactory(user=colleague, full_name="Colin League", org_unit=front_desk)
    reviewer = UserFactory(username="reviewer", first_name="Rita", last_name="Viewer")
    EmployeeFactory(user=reviewer, full_name="Rita Viewer", org_unit=contact_centre)
    reviewer.groups.add(groups[Role.CX_REVIEWER])
    hr = UserFactory(username="hr", first_name="Hana", last_name="Resources")
    hr.groups.add(groups[Role.HR])
    bare = UserFactory(username="bare")
    return Cast(
        dana=dana,
        dana_employee=dana_employee,
        manager=manager,
        colleague=colleague,
        reviewer=reviewer,
        hr=hr,
        bare=bare,
    )


@pytest.fixture
def as_user():
    """A test client signed in as the given user."""

    def login(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return login


@pytest.fixture
def media(settings, tmp_path):
    """Store uploads in a folder of this test, so a test can see every file written."""
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path
