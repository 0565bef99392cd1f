"""Signing in and out, the front door, the navigation bar, and logins without an employee record."""

import pytest
from django.urls import reverse

from tests.factories.evidence import EvidenceFactory
from tests.portal.helpers import page_text

pytestmark = pytest.mark.django_db


def test_sign_in_page_signs_the_employee_in_and_lands_on_my_evidence(cast, client):
    response = client.post(reverse("portal:login"), {"username": "dana", "password": "correct-horse-battery"})

    assert response.status_code == 302
    assert response["Location"] == reverse("portal:my-evidence")
    assert "My evidence" in page_text(client.get(response["Location"]))


def test_sign_in_with_a_wrong_password_says_so_on_the_page(cast, client):
    response = client.post(reverse("portal:login"), {"username": "dana", "password": "nope"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in page_text(response)


def test_front_door_sends_visitors_to_sign_in_and_employees_to_their_evidence(cast, client, as_user):
    assert client.get("/")["Location"] == reverse("portal:login")
    assert as_user(cast.dana).get("/")["Location"] == reverse("portal:my-evidence")


@pytest.mark.parametrize(
    "name,args",
    [
        ("portal:my-evidence", []),
        ("portal:evidence-new", []),
        ("portal:review-queue", []),
        ("portal:evidence-detail", [1]),
        ("portal:review", [1]),
        ("portal:attachment-download", [1]),
    ],
)
def test_every_page_asks_visitors_to_sign_in_first(client, name, args):
    url = reverse(name, args=args)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('portal:login')}?next={url}"


def test_sign_out_is_a_post_and_a_get_changes_nothing(cast, as_user):
    client = as_user(cast.dana)

    assert client.get(reverse("portal:logout")).status_code == 405
    assert client.get(reverse("portal:my-evidence")).status_code == 200

    response = client.post(reverse("portal:logout"))

    assert response["Location"] == reverse("portal:login")
    assert client.get(reverse("portal:my-evidence")).status_code == 302


def test_nav_bar_shows_the_name_roles_and_the_sections_each_person_uses(cast, as_user):
    dana = page_text(as_user(cast.dana).get(reverse("portal:my-evidence")))
    manager = page_text(as_user(cast.manager).get(reverse("portal:my-evidence")))
    reviewer = page_text(as_user(cast.reviewer).get(reverse("portal:my-evidence")))

    assert "Dana Desk Employee" in dana and "Review queue" not in dana
    assert "Maria Head Manager" in manager and "Review queue" in manager
    assert "Rita Viewer CX reviewer" in reviewer and "Review queue" in reviewer
    assert "Sign out" in dana


def test_csrf_is_enforced_on_the_pages(cast):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.dana)
    item = EvidenceFactory(owner=cast.dana_employee)

    response = client.post(reverse("portal:evidence-submit", args=[item.pk]))

    assert response.status_code == 403
    item.refresh_from_db()
    assert item.status == "draft"


@pytest.mark.parametrize("name", ["portal:my-evidence", "portal:evidence-new"])
def test_a_login_without_an_employee_record_gets_an_explanation_not_an_error(cast, as_user, name):
    response = as_user(cast.bare).get(reverse(name))

    assert response.status_code == 200
    text = page_text(response)
    assert "Your login has no employee record" in text
    assert "ask HR" in text


def test_hr_without_an_employee_record_still_reaches_the_review_queue(cast, as_user):
    client = as_user(cast.hr)

    assert "no employee record" in page_text(client.get(reverse("portal:my-evidence")))
    response = client.get(reverse("portal:review-queue"))
    assert response.status_code == 200
    assert "Hana Resources HR" in page_text(response)
