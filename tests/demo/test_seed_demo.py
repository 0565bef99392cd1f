"""seed_demo builds a realistic company, once."""

import pytest
from django.core.management import CommandError, call_command

from apps.org.models import Employee, OrgUnit


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path


@pytest.mark.django_db
def test_seed_demo_builds_an_org_over_four_customer_layers_with_managed_employees():
    call_command("seed_demo", "--employees", "200")

    assert 18 <= OrgUnit.objects.count() <= 25
    assert set(OrgUnit.objects.values_list("customer_layer", flat=True)) == {0, 1, 2, 3}
    assert Employee.objects.count() == 200
    # Everyone but the chief executive has a manager.
    assert Employee.objects.filter(manager__isnull=True).count() == 1


@pytest.mark.django_db
def test_seed_demo_leaves_its_audit_trail_sealed_and_intact(capsys):
    from apps.audit.selectors import audit_chain_verify

    call_command("seed_demo", "--employees", "50")

    report = audit_chain_verify()
    assert report.intact and report.count > 0 and report.unsealed == 0
    assert f"Audit trail: {report.count} events sealed" in capsys.readouterr().out


@pytest.mark.django_db
def test_seed_demo_twice_does_not_duplicate(capsys):
    call_command("seed_demo", "--employees", "50")
    call_command("seed_demo", "--employees", "50")

    assert Employee.objects.count() == 50
    assert "already present" in capsys.readouterr().out


@pytest.mark.django_db
def test_seed_demo_scales_with_employees_option():
    call_command("seed_demo", "--employees", "1500")

    assert Employee.objects.count() == 1500


@pytest.mark.django_db
def test_seed_demo_refuses_a_silly_size():
    with pytest.raises(CommandError, match="between 25 and 200000"):
        call_command("seed_demo", "--employees", "3")


@pytest.mark.django_db
def test_demo_hr_people_work_in_the_admin_with_hr_permissions(client):
    from django.contrib.auth import get_user_model

    call_command("seed_demo", "--employees", "60")
    hr = get_user_model().objects.get(username="hr")
    client.force_login(hr)

    for url in ("/admin/cases/case/", "/admin/policies/policyversion/", "/admin/evidence/evidence/",
                "/admin/audit/auditevent/"):  # fmt: skip
        assert client.get(url).status_code == 200, url
    assert client.get("/admin/auth/user/add/").status_code == 403
