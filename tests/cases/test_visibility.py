"""Whoever approves a step can open the case the notification links to: named groups and delegates included."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from apps.cases.models import ApprovalRoute, ApprovalStep
from apps.cases.permissions import cases_visible_to
from apps.cases.services import case_open
from tests.factories.cases import DelegationFactory
from tests.factories.org import EmployeeFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(cycle, org):
    return case_open(cycle=cycle, subject_employee=org["dana"])


def test_a_member_of_the_named_group_on_the_route_sees_the_case_and_outsiders_do_not(client, case, promotion):
    committee = Group.objects.create(name="Promotion committee")
    route = ApprovalRoute.objects.create(ritual_type=promotion, name="Committee route")
    ApprovalStep.objects.create(route=route, order=1, name="Committee approves", role="group", group=committee)
    member, outsider = UserFactory(username="member"), UserFactory(username="outsider")
    member.groups.add(committee)

    assert list(cases_visible_to(member)) == [case]
    assert list(cases_visible_to(outsider)) == []
    client.force_login(member)
    assert client.get(reverse("portal:case-detail", args=[case.pk])).status_code == 200
    client.force_login(outsider)
    assert client.get(reverse("portal:case-detail", args=[case.pk])).status_code == 404


def test_a_delegate_sees_what_the_manager_they_stand_in_for_sees_while_the_delegation_runs(case, org):
    stand_in = EmployeeFactory(user=UserFactory(username="stand-in")).user
    today = timezone.localdate()
    DelegationFactory(principal=org["manager"].user, delegate=stand_in, starts_on=today, ends_on=today)

    assert list(cases_visible_to(stand_in, today=today)) == [case]
    assert list(cases_visible_to(stand_in, today=today + dt.timedelta(days=1))) == []


def test_a_delegate_of_hr_sees_every_case(case, org):
    stand_in = UserFactory(username="hr-stand-in")
    DelegationFactory(principal=org["hr_a"], delegate=stand_in)

    assert list(cases_visible_to(stand_in)) == [case]
