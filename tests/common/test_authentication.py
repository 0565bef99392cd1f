"""Token authentication: two queries give the token, its login, its employee record and role groups."""

import pytest
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.common.authentication import token_with_user_and_employee
from apps.common.roles import Role, is_hr, user_role_names
from apps.evidence.permissions import employee_of
from tests.factories.org import EmployeeFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_lookup_loads_the_login_and_its_employee_record(django_assert_num_queries):
    employee = EmployeeFactory(user=UserFactory(username="ann", first_name="Ann"))
    key = Token.objects.create(user=employee.user).key
    with django_assert_num_queries(2):
        token = token_with_user_and_employee(key)
        assert employee_of(token.user) == employee
        assert employee_of(token.user).full_name == employee.full_name
    assert token.user.username == "ann"


@pytest.mark.parametrize(
    "groups",
    [[], [Role.HR], [Role.CX_REVIEWER, Role.LEADERSHIP, 'Café "quoted", comma', 'x"]; HR'], ["HR\x1fx", "[]"]],
)
def test_the_login_s_role_groups_come_with_the_lookup(groups, django_assert_num_queries):
    user = UserFactory()
    user.groups.set([Group.objects.get_or_create(name=name)[0] for name in groups])
    key = Token.objects.create(user=user).key
    with django_assert_num_queries(2):
        token = token_with_user_and_employee(key)
        assert user_role_names(token.user) == frozenset(groups)
        assert is_hr(token.user) is (Role.HR in groups)


def test_a_login_without_employee_record_has_none_without_another_query(django_assert_num_queries):
    key = Token.objects.create(user=UserFactory(username="hr-only")).key
    with django_assert_num_queries(2):
        token = token_with_user_and_employee(key)
        assert employee_of(token.user) is None


@pytest.mark.parametrize("key", ["0" * 40, "' OR 1=1 --", "%", ""])
def test_an_unknown_key_finds_nothing(key):
    Token.objects.create(user=UserFactory())
    assert token_with_user_and_employee(key) is None


def test_the_api_refuses_unknown_keys_and_inactive_logins():
    user = UserFactory(username="leaver")
    key = Token.objects.create(user=user).key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/evidence/").status_code == 200
    user.is_active = False
    user.save()
    response = client.get("/api/evidence/")
    assert response.status_code == 401
    assert response.json()["detail"] == "User inactive or deleted."
    client.credentials(HTTP_AUTHORIZATION="Token " + "f" * 40)
    assert client.get("/api/evidence/").json()["detail"] == "Invalid token."


def test_roles_are_read_once_per_login_object_and_follow_changes_to_its_groups(django_assert_num_queries):
    user = UserFactory()
    with django_assert_num_queries(1):
        assert user_role_names(user) == frozenset()
        assert not is_hr(user)
    hr = Group.objects.get_or_create(name=Role.HR)[0]
    user.groups.add(hr)
    assert is_hr(user)
    user.groups.remove(hr)
    assert not is_hr(user)
