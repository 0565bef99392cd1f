"""HR's faces for privacy requests: the buttons on the Employee page, the erasure confirmation, the download, the
API; and the pages that show an erased person afterwards ("Erased person #N", never the old name)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from apps.evidence.models import Evidence
from apps.org.models import Employee
from apps.privacy.models import LegalHold
from tests.factories.org import UserFactory
from tests.privacy.person_history import person_with_history, staff

pytestmark = pytest.mark.django_db
REASON = "Erasure request by e-mail of 3 March."


@pytest.fixture
def people(db, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return staff()


@pytest.fixture
def dana(people):
    return person_with_history(people, prefix="dana", number="E-7012")


@pytest.fixture
def hr_client(client, people):
    client.force_login(people.hr)
    return client


def _erase_url(employee: Employee) -> str:
    return reverse("admin:org_employee_erase_personal_data", args=[employee.pk])


def _export_url(employee: Employee) -> str:
    return reverse("admin:org_employee_export_personal_data", args=[employee.pk])


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# ---------------------------------------------------------------------------------------------------- admin


def test_hr_sees_export_and_erase_buttons_on_the_employee_page(hr_client, dana):
    page = hr_client.get(reverse("admin:org_employee_change", args=[dana.employee.pk])).content.decode()

    assert 'id="export-personal-data"' in page and _export_url(dana.employee) in page
    assert 'id="erase-personal-data"' in page and _erase_url(dana.employee) in page


def test_staff_without_the_privacy_permissions_sees_no_button_and_cannot_open_the_pages(client, people, dana):
    from django.contrib.auth.models import Permission

    clerk = UserFactory(username="clerk", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="change_employee"))
    client.force_login(clerk)

    page = client.get(reverse("admin:org_employee_change", args=[dana.employee.pk])).content.decode()

    assert "export-personal-data" not in page and "erase-personal-data" not in page
    assert client.get(_erase_url(dana.employee)).status_code == 403
    assert client.get(_export_url(dana.employee)).status_code == 403


def test_the_confirmation_page_lists_what_is_erased_and_what_stays(hr_client, dana):
    page = hr_client.get(_erase_url(dana.employee)).content.decode()

    assert "What will be erased" in page and "What stays" in page
    assert "Evidence" in page and "1 stored file" in page
    assert "1 decided case" in page
    assert 'name="reason"' in page and 'name="confirm"' in page and "E-7012" in page


def test_a_wrong_confirmation_erases_nothing_and_says_so_next_to_the_field(hr_client, dana):
    response = hr_client.post(_erase_url(dana.employee), {"reason": REASON, "confirm": "E-7013"})

    assert response.status_code == 200
    assert "This is not E-7012" in response.content.decode()
    assert Evidence.objects.get(pk=dana.evidence.pk).title == dana.markers["title"]


def test_erasing_from_the_admin_says_what_was_erased_and_the_lists_show_the_pseudonym(hr_client, dana):
    response = hr_client.post(_erase_url(dana.employee), {"reason": REASON, "confirm": "E-7012"})

    assert response.status_code == 302
    (message,) = _messages(response)
    assert message.startswith("Erased the personal data of Erased person #") and "evidence" in message
    listing = hr_client.get(reverse("admin:org_employee_changelist")).content.decode()
    assert f"Erased person #{dana.employee.pk}" in listing
    assert dana.markers["name"] not in listing


def test_a_refusal_is_shown_on_the_page_and_nothing_is_erased(hr_client, people, dana):
    LegalHold.objects.create(employee=dana.employee, reason="Claim 2026-17", placed_by=people.hr2)

    page = hr_client.get(_erase_url(dana.employee)).content.decode()
    assert "under a legal hold" in page and 'id="erase-form"' not in page

    response = hr_client.post(_erase_url(dana.employee), {"reason": REASON, "confirm": "E-7012"})
    assert any("Nothing was erased" in m and "legal hold" in m for m in _messages(response))
    assert Evidence.objects.get(pk=dana.evidence.pk).title == dana.markers["title"]


def test_hr_cannot_open_their_own_erasure(hr_client, people):
    me = Employee.objects.get(user=people.hr)

    page = hr_client.get(_erase_url(me)).content.decode()

    assert "You cannot erase your own personal data" in page and 'id="erase-form"' not in page


def test_export_downloads_a_zip_archive(hr_client, dana):
    response = hr_client.get(_export_url(dana.employee))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert 'attachment; filename="personal-data-E-7012-' in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert json.loads(archive.read("manifest.json"))["person"]["employee_number"] == "E-7012"


def test_a_login_without_an_employee_has_the_buttons_on_the_user_page(hr_client):
    contractor = UserFactory(username="contractor-zz", first_name="Zed")

    page = hr_client.get(reverse("admin:auth_user_change", args=[contractor.pk])).content.decode()
    assert reverse("admin:auth_user_erase_personal_data", args=[contractor.pk]) in page

    response = hr_client.post(
        reverse("admin:auth_user_erase_personal_data", args=[contractor.pk]),
        {"reason": REASON, "confirm": "contractor-zz"},
    )
    assert response.status_code == 302
    contractor.refresh_from_db()
    assert contractor.username == f"erased-user-{contractor.pk}" and not contractor.is_active


# ---------------------------------------------------------------------------------------------------- after erasure


def test_pages_show_the_erased_person_without_their_old_name(hr_client, people, dana):
    hr_client.post(_erase_url(dana.employee), {"reason": REASON, "confirm": "E-7012"})
    old = [dana.markers["name"], dana.markers["title"], dana.markers["login"]]

    for url in (
        reverse("portal:case-detail", args=[dana.case.pk]),
        reverse("admin:org_employee_changelist"),
        reverse("admin:cases_case_changelist"),
        reverse("admin:cases_case_change", args=[dana.case.pk]),
        reverse("admin:evidence_evidence_changelist"),
        reverse("reports:dashboard"),
        reverse("admin:audit_auditevent_changelist"),
    ):
        response = hr_client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert not [text for text in old if text in page], url
    assert (
        f"Erased person #{dana.employee.pk}"
        in hr_client.get(reverse("portal:case-detail", args=[dana.case.pk])).content.decode()
    )


# ---------------------------------------------------------------------------------------------------- API


def _api_erase(client, employee: Employee, **data):
    return client.post(
        reverse("privacy_api:employee-erase", args=[employee.pk]), data=data, content_type="application/json"
    )


def test_api_erases_with_the_employee_number_as_confirmation(hr_client, dana):
    response = _api_erase(hr_client, dana.employee, reason=REASON, confirm="E-7012")

    assert response.status_code == 200
    assert response.json()["erased"] == f"Erased person #{dana.employee.pk} (ERASED-{dana.employee.pk})"
    assert response.json()["counts"]["evidence.evidence"] == 1


def test_api_answers_400_with_field_errors(hr_client, people, dana):
    wrong = _api_erase(hr_client, dana.employee, reason="", confirm="E-7013")
    assert wrong.status_code == 400 and {"reason", "confirm"} <= set(wrong.json())

    LegalHold.objects.create(employee=dana.employee, reason="Claim 2026-17", placed_by=people.hr2)
    held = _api_erase(hr_client, dana.employee, reason=REASON, confirm="E-7012")
    assert held.status_code == 400 and "legal hold" in json.dumps(held.json())


def test_api_is_for_hr_only(client, people, dana):
    client.force_login(people.reviewer)

    assert _api_erase(client, dana.employee, reason=REASON, confirm="E-7012").status_code == 403
    assert client.get(reverse("privacy_api:employee-export", args=[dana.employee.pk])).status_code == 403
    client.force_login(people.hr)
    assert _api_erase(client, Employee(pk=987654), reason=REASON, confirm="E-7012").status_code == 404


def test_api_export_downloads_the_archive(hr_client, dana):
    response = hr_client.get(reverse("privacy_api:employee-export", args=[dana.employee.pk]))

    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert "audit/events.json" in archive.namelist()
