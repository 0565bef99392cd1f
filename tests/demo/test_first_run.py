"""The first run of the demo: Dana is Dana, the logins say who is who, links follow the port, the tab has an icon."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.templatetags.static import static

from ritualcriteria.settings.env import env_site_url


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path


@pytest.mark.django_db
def test_the_demo_employee_login_dana_is_an_employee_named_dana_at_the_front_desk():
    call_command("seed_demo", "--employees", "30")

    dana = get_user_model().objects.select_related("employee__org_unit", "employee__manager").get(username="dana")
    assert dana.employee.full_name.startswith("Dana ")
    assert dana.first_name == "Dana"
    assert dana.employee.org_unit.code == "front-desk"
    assert dana.employee.manager.user.username == "manager"


@pytest.mark.django_db
def test_seed_demo_lists_each_login_with_what_the_persona_does(capsys):
    call_command("seed_demo", "--employees", "30")

    out = capsys.readouterr().out
    assert "dana / " in out and "an employee (Dana " in out and "Front Desk" in out
    assert "hr / " in out and "HR admin" in out
    assert "hr2 / " in out and "the second HR" in out


@pytest.mark.django_db
def test_demo_logins_prints_addresses_mail_folder_and_logins_last(capsys, settings, tmp_path):
    settings.SITE_URL = "http://127.0.0.1:8765"
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    call_command("ensure_admin")
    call_command("seed_demo", "--employees", "30")
    capsys.readouterr()

    call_command("demo_logins")

    out = capsys.readouterr().out
    assert "http://127.0.0.1:8765/admin/" in out
    assert f"files in {tmp_path / 'mail'}" in out
    lines = [line.strip() for line in out.strip().splitlines()]
    logins = [line.split(" / ")[0] for line in lines if " / " in line and not line.startswith("Demo logins")]
    assert logins == ["dana", "manager", "reviewer", "leader", "hr", "hr2", "hr-admin"]
    assert lines[-1] == "Ctrl-C stops web, worker and beat."


@pytest.mark.django_db
def test_demo_logins_before_any_seed_says_how_to_create_them(capsys):
    call_command("demo_logins")

    assert "No demo logins saved yet" in capsys.readouterr().out


def test_email_links_follow_rc_port_when_site_url_is_not_set(monkeypatch):
    monkeypatch.delenv("SITE_URL", raising=False)
    monkeypatch.setenv("RC_PORT", "8765")

    assert env_site_url() == "http://127.0.0.1:8765"


def test_site_url_defaults_to_port_8000(monkeypatch):
    monkeypatch.delenv("SITE_URL", raising=False)
    monkeypatch.delenv("RC_PORT", raising=False)

    assert env_site_url() == "http://127.0.0.1:8000"


def test_an_explicit_site_url_wins_over_rc_port(monkeypatch):
    monkeypatch.setenv("SITE_URL", "https://rc.example.com/")
    monkeypatch.setenv("RC_PORT", "8765")

    assert env_site_url() == "https://rc.example.com"


def test_the_favicon_is_served_at_favicon_ico(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"] == static("portal/favicon.svg")
    assert finders.find("portal/favicon.svg")


@pytest.mark.django_db
def test_portal_and_admin_pages_name_the_icon(client):
    icon = f'<link rel="icon" href="{static("portal/favicon.svg")}" type="image/svg+xml">'

    assert icon in client.get("/accounts/login/").content.decode()
    assert icon in client.get("/admin/login/").content.decode()
