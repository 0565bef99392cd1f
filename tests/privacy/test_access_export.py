"""The access export: one archive with everything about one person, checked against the data map, and nothing
about anyone else."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command

from apps.audit.models import AuditEvent
from apps.privacy.access import ANOTHER_PERSON, SECRET, export_person
from apps.privacy.datamap import DATA_MAP
from apps.privacy.persons import Person, rows_for
from tests.privacy.person_history import person_with_history, staff

pytestmark = pytest.mark.django_db

# The trail is exported as events, and sessions only name their user inside encoded data.
NOT_ROW_EXPORTED = {"audit.auditevent", "audit.auditseal", "audit.personkey", "sessions.session"}


@pytest.fixture
def people(db, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return staff()


@pytest.fixture
def dana(people):
    return person_with_history(people, prefix="dana", number="E-7012")


@pytest.fixture
def omar(people):
    """A second employee, with his own markers, reviewed by the same people, in the same cycle."""
    return person_with_history(people, prefix="omar", number="E-7013")


def _archive(person: Person, by) -> tuple[zipfile.ZipFile, dict]:
    exported = export_person(person=person, by=by)
    data = exported.file.read()
    exported.file.close()
    archive = zipfile.ZipFile(io.BytesIO(data))
    return archive, json.loads(archive.read("manifest.json"))


def test_the_archive_holds_every_classified_field_of_every_model_with_a_row_about_the_person(people, dana, omar):
    person = Person.for_employee(dana.employee)
    archive, manifest = _archive(person, people.hr)

    expected = {
        entry.model
        for entry in DATA_MAP
        if entry.model not in NOT_ROW_EXPORTED and entry.subjects and rows_for(entry, person).exists()
    }
    assert {"org.employee", "auth.user", "evidence.evidence", "cases.case", "reminders.reminder"} <= expected
    assert {item["model"] for item in manifest["entries"]} == expected
    for entry in DATA_MAP:
        if entry.model not in expected:
            continue
        rows = json.loads(archive.read(f"data/{entry.model}.json"))
        ids = list(rows_for(entry, person).values_list("pk", flat=True))
        if entry.model == "authtoken.token":  # the token's key is its id: never exported
            assert [row["id"] for row in rows] == [SECRET] * len(ids)
        else:
            assert sorted(row["id"] for row in rows) == ids
        for row in rows:
            assert set(row) == {"id"} | {f.name for f in entry.fields}, entry.model
    employee = json.loads(archive.read("data/org.employee.json"))
    assert employee == [pytest.approx(employee[0])] and employee[0]["full_name"] == f"{dana.markers['name']} Doe"
    evidence = json.loads(archive.read("data/evidence.evidence.json"))[0]
    assert evidence["customer_quote"] == f"The guest said {dana.markers['quote']} on the phone."
    assert evidence["review_comment"] == f"Solid story {dana.markers['review']}."


def test_the_archive_holds_the_attachments_with_their_sha256_in_the_manifest(people, dana):
    archive, manifest = _archive(Person.for_employee(dana.employee), people.hr)

    files = {item["name"]: item for item in manifest["files"]}
    (name,) = [n for n in files if n.startswith("files/evidence.attachment/")]
    content = archive.read(name)
    assert content == dana.file_bytes
    assert files[name]["sha256"] == hashlib.sha256(content).hexdigest() == dana.attachment.sha256
    for member in archive.namelist():
        if member != "manifest.json":
            assert files[member]["sha256"] == hashlib.sha256(archive.read(member)).hexdigest()
            assert files[member]["size"] == len(archive.read(member))


def test_the_archive_holds_nothing_about_anyone_else(people, dana, omar):
    archive, manifest = _archive(Person.for_employee(dana.employee), people.hr)

    text = "\n".join(archive.read(name).decode() for name in archive.namelist())
    leaked = {what: marker for what, marker in omar.markers.items() if marker in text}
    assert not leaked, f"the archive names another person: {leaked}"
    assert dana.markers["title"] in text and dana.markers["name"] in text
    assert "Hugo" not in text and "Rita" not in text  # the reviewers and deciders are not named
    assert ANOTHER_PERSON in text
    assert "pbkdf2" not in text and dana.user.auth_token.key not in text  # no secrets


def test_the_archive_holds_the_audit_events_about_the_person_revealed(people, dana):
    archive, manifest = _archive(Person.for_employee(dana.employee), people.hr)

    events = json.loads(archive.read("audit/events.json"))
    assert manifest["audit_events"] == len(events) > 0
    created = next(e for e in events if e["object_type"] == "org.employee" and e["action"] == "create")
    assert created["object"] == f"{dana.markers['name']} Doe (E-7012)"
    submitted = next(e for e in events if e["action"] == "evidence_submitted")
    assert submitted["actor"] == dana.user.get_username() or dana.markers["name"] in submitted["actor"]
    verified = next(e for e in events if e["action"] == "evidence_verified")
    assert verified["actor"] == ANOTHER_PERSON


def test_the_export_is_recorded_without_content_and_needs_the_permission(people, dana):
    _archive(Person.for_employee(dana.employee), people.hr)

    (event,) = AuditEvent.objects.filter(action="person_exported")
    assert event.object_type == "org.employee" and event.object_id == str(dana.employee.pk)
    assert not any(marker in json.dumps(event.context) + event.object_repr for marker in dana.markers.values())
    with pytest.raises(PermissionDenied):
        export_person(person=Person.for_employee(dana.employee), by=people.reviewer)


def test_export_person_command_writes_the_archive(people, dana, tmp_path, capsys):
    target = tmp_path / "dana.zip"

    call_command("export_person", "--employee", "E-7012", "--by", people.hr.username, "--output", str(target))

    assert "Wrote" in capsys.readouterr().out
    assert "manifest.json" in zipfile.ZipFile(target).namelist()
