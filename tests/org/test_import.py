"""CSV import of org units and employees: every row is checked, and a file is written whole or not at all."""

import sys
import types

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, ManagementUtility, call_command
from django.db import IntegrityError
from django.urls import reverse

from apps.org.constants import JobFunction, JobLevel
from apps.org.importers import ImportResult, org_csv_import, reading, service, writing
from apps.org.models import Employee, OrgUnit
from tests.factories.org import EmployeeFactory, OrgUnitFactory, UserFactory

pytestmark = pytest.mark.django_db

UNIT_HEADER = "code,name,parent_code,customer_layer"
EMPLOYEE_HEADER = (
    "employee_number,full_name,email,org_unit_code,job_level,job_function,manager_employee_number,timezone"
)


def csv_bytes(header: str, *rows: str) -> bytes:
    return "\n".join([header, *rows]).encode() + b"\n"


def import_units(*rows: str, header: str = UNIT_HEADER, dry_run: bool = False) -> ImportResult:
    return org_csv_import(kind="units", content=csv_bytes(header, *rows), file_name="units.csv", dry_run=dry_run)


def import_employees(*rows: str, header: str = EMPLOYEE_HEADER, dry_run: bool = False) -> ImportResult:
    content = csv_bytes(header, *rows)
    return org_csv_import(kind="employees", content=content, file_name="people.csv", dry_run=dry_run)


def person(number: str, *, unit: str = "support", manager: str = "", email: str | None = None, **cells: str) -> str:
    """One employee row; every cell valid unless overridden."""
    values = {
        "full_name": f"Person {number}",
        "email": email or f"{number.lower()}@example.com",
        "job_level": "senior",
        "job_function": "support",
        "timezone": "Europe/Paris",
        **cells,
    }
    in_header_order = [number, values["full_name"], values["email"], unit, values["job_level"]]
    return ",".join([*in_header_order, values["job_function"], manager, values["timezone"]])


def errors_of(result: ImportResult) -> list[str]:
    return [str(error) for error in result.errors]


def org_counts() -> tuple[int, int]:
    return OrgUnit.objects.count(), Employee.objects.count()


# Units ----------------------------------------------------------------------------------------------------------------


def test_units_file_creates_the_tree_with_children_listed_before_their_parents():
    result = import_units(
        "front-desk,Front Desk,guest-experience,0",
        "guest-experience,Guest Experience,acme,0",
        "acme,Acme,,3",
    )

    assert result.ok, errors_of(result)
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    front_desk = OrgUnit.objects.select_related("parent__parent").get(code="front-desk")
    assert front_desk.parent.code == "guest-experience"
    assert front_desk.parent.parent.code == "acme"
    assert OrgUnit.objects.get(code="acme").parent is None
    assert front_desk.active is True


def test_units_upsert_updates_by_code_creates_new_ones_and_counts_unchanged_rows():
    root = OrgUnitFactory(code="acme", name="Acme", customer_layer=3)
    OrgUnitFactory(code="sales", name="Sales", parent=root, customer_layer=0)
    OrgUnitFactory(code="untouched", name="Not in the file")

    result = import_units("acme,Acme,,3", "sales,Sales & Success,acme,1", "billing,Billing,sales,2")

    assert (result.created, result.updated, result.unchanged) == (1, 1, 1)
    sales = OrgUnit.objects.get(code="sales")
    assert (sales.name, sales.customer_layer) == ("Sales & Success", 1)
    assert OrgUnit.objects.get(code="billing").parent == sales
    assert OrgUnit.objects.filter(code="untouched").exists()


def test_units_can_move_under_a_unit_created_by_the_same_file():
    OrgUnitFactory(code="acme")
    OrgUnitFactory(code="sales", parent=OrgUnit.objects.get(code="acme"))

    result = import_units("sales,Sales,commercial,0", "commercial,Commercial,acme,0")

    assert result.ok, errors_of(result)
    assert OrgUnit.objects.get(code="sales").parent.code == "commercial"


def test_units_optional_columns_update_description_and_active_and_blank_active_keeps_current_value():
    OrgUnitFactory(code="legacy", name="Legacy", description="Old text", active=False)
    OrgUnitFactory(code="kept", name="Kept", active=False)

    result = import_units(
        "legacy,Legacy,,2,,yes",
        "kept,Kept,,0,New text,",
        header=UNIT_HEADER + ",description,active",
    )

    assert result.ok, errors_of(result)
    legacy, kept = OrgUnit.objects.get(code="legacy"), OrgUnit.objects.get(code="kept")
    assert (legacy.description, legacy.active, legacy.customer_layer) == ("", True, 2)
    assert (kept.description, kept.active) == ("New text", False)


def test_units_without_optional_columns_leave_description_and_active_alone():
    OrgUnitFactory(code="legacy", name="Legacy", description="Keep me", active=False, customer_layer=2)

    result = import_units("legacy,Legacy,,2")

    assert result.unchanged == 1
    legacy = OrgUnit.objects.get(code="legacy")
    assert (legacy.description, legacy.active) == ("Keep me", False)


def test_units_any_invalid_row_writes_nothing_and_names_the_row_and_column():
    OrgUnitFactory(code="acme", name="Acme")
    before = org_counts()

    result = import_units("acme,Acme renamed,,3", "sales,Sales,acme,0", "support,Support,acme,12")

    assert errors_of(result) == ["Row 4, column customer_layer: '12' is not a whole number from 0 to 9."]
    assert (result.created, result.updated) == (0, 0)
    assert org_counts() == before
    assert OrgUnit.objects.get(code="acme").name == "Acme"


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (",Nameless,,0,", "Row 2, column code: a value is required."),
        ("Sales Team,Sales,,0,", "Row 2, column code: 'Sales Team': Use lower-case letters, digits"),
        ("sales,,,0,", "Row 2, column name: a value is required."),
        ("sales,Sales,,,", "Row 2, column customer_layer: a value is required."),
        ("sales,Sales,,one,", "Row 2, column customer_layer: 'one' is not a whole number from 0 to 9."),
        ("sales,Sales,,-1,", "Row 2, column customer_layer: '-1' is not a whole number from 0 to 9."),
        ("sales,Sales,,²,", "Row 2, column customer_layer: '²' is not a whole number from 0 to 9."),
        ("sales,Sales,nowhere,0,", "Row 2, column parent_code: no unit has the code 'nowhere'"),
        ("sales,Sales,sales,0,", "Row 2, column parent_code: a unit cannot be its own parent."),
        ("sales," + "S" * 201 + ",,0,", "Row 2, column name: is 201 characters long; the limit is 200."),
        ("sales,Sales,,0,maybe", "Row 2, column active: 'maybe' is not yes/no; use one of: yes, true, 1, y, no"),
        ("sales,Sales,,0,yes,extra", "Row 2: has 6 cells but the header has 5."),
    ],
)
def test_units_each_bad_cell_is_reported_by_row_and_column(row, expected):
    result = import_units(row, header=UNIT_HEADER + ",active")

    assert len(result.errors) == 1, errors_of(result)
    assert errors_of(result)[0].startswith(expected)
    assert OrgUnit.objects.count() == 0


def test_units_duplicate_code_in_the_file_names_both_rows():
    result = import_units("sales,Sales,,0", "support,Support,,0", "sales,Sales again,,0")

    assert errors_of(result) == ["Row 4, column code: 'sales' is already on row 2."]


def test_units_loop_within_the_file_is_refused_with_its_path():
    result = import_units("a,A,c,0", "b,B,a,0", "c,C,b,0", "d,D,a,0")

    assert errors_of(result) == ["Row 2, column parent_code: this makes a loop: a → c → b → a."]
    assert OrgUnit.objects.count() == 0


def test_units_loop_through_existing_units_is_refused():
    root = OrgUnitFactory(code="root")
    OrgUnitFactory(code="child", parent=root)

    result = import_units("root,Root,child,0")

    assert errors_of(result) == ["Row 2, column parent_code: this makes a loop: root → child → root."]
    assert OrgUnit.objects.get(code="root").parent is None


def test_units_all_errors_are_collected_in_row_order():
    result = import_units("a,,,0", "b,B,zzz,0", "c,C,,10")

    assert [(error.row, error.column) for error in result.errors] == [
        (2, "name"),
        (3, "parent_code"),
        (4, "customer_layer"),
    ]


# Employees ------------------------------------------------------------------------------------------------------------


@pytest.fixture
def support():
    return OrgUnitFactory(code="support", name="Support")


def test_employees_file_creates_people_with_managers_listed_after_their_reports(support):
    result = import_employees(
        person("E3", manager="E2"),
        person("E2", manager="E1", job_level="Manager"),
        person("E1", job_level="executive", job_function="Customer support"),
    )

    assert result.ok, errors_of(result)
    assert result.created == 3
    e3 = Employee.objects.select_related("manager__manager", "org_unit").get(employee_number="E3")
    assert (e3.manager.employee_number, e3.manager.manager.employee_number) == ("E2", "E1")
    assert e3.org_unit == support
    assert (e3.email, e3.timezone, e3.job_level, e3.active) == ("e3@example.com", "Europe/Paris", "senior", True)
    e1 = Employee.objects.get(employee_number="E1")
    assert (e1.job_level, e1.job_function, e1.manager) == (JobLevel.EXECUTIVE, JobFunction.SUPPORT, None)
    assert Employee.objects.get(employee_number="E2").job_level == JobLevel.MANAGER


def test_employees_upsert_updates_by_employee_number_and_links_to_existing_managers(support):
    boss = EmployeeFactory(employee_number="B1", email="boss@example.com")
    EmployeeFactory(employee_number="E1", email="e1@example.com", full_name="Old Name", org_unit=support)

    result = import_employees(person("E1", manager="B1", full_name="New Name"), person("E2", manager="E1"))

    assert (result.created, result.updated, result.unchanged) == (1, 1, 0)
    e1 = Employee.objects.get(employee_number="E1")
    assert (e1.full_name, e1.manager) == ("New Name", boss)
    assert Employee.objects.get(employee_number="E2").manager == e1


def test_employees_reimporting_the_same_file_changes_nothing(support):
    rows = (person("E1"), person("E2", manager="E1"))
    import_employees(*rows)

    result = import_employees(*rows)

    assert (result.created, result.updated, result.unchanged) == (0, 0, 2)


def test_employees_active_column_deactivates_and_blank_keeps_current_value(support):
    EmployeeFactory(employee_number="E1", email="e1@example.com", org_unit=support, active=True)
    EmployeeFactory(employee_number="E2", email="e2@example.com", org_unit=support, active=False)

    result = import_employees(person("E1") + ",no", person("E2") + ",", header=EMPLOYEE_HEADER + ",active")

    assert result.ok, errors_of(result)
    assert Employee.objects.get(employee_number="E1").active is False
    assert Employee.objects.get(employee_number="E2").active is False


def test_employees_any_invalid_row_writes_nothing(support):
    EmployeeFactory(employee_number="E1", email="e1@example.com", full_name="Before", org_unit=support)
    before = org_counts()

    result = import_employees(person("E1", full_name="After"), person("E2"), person("E3", timezone="Paris"))

    assert errors_of(result) == [
        "Row 4, column timezone: 'Paris' is not a known time zone; use an IANA name such as 'Europe/Paris'."
    ]
    assert org_counts() == before
    assert Employee.objects.get(employee_number="E1").full_name == "Before"


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (person("E1", job_level="ceo"), "Row 2, column job_level: 'ceo' is not a job level; use one of: entry, "),
        (person("E1", job_function="magic"), "Row 2, column job_function: 'magic' is not a job function; use one"),
        (person("E1", email="not-an-email"), "Row 2, column email: 'not-an-email' is not a valid e-mail address."),
        (person("E1", unit="nowhere"), "Row 2, column org_unit_code: no org unit has the code 'nowhere'"),
        (person("E1", unit=""), "Row 2, column org_unit_code: a value is required."),
        (person("E1", timezone=""), "Row 2, column timezone: a value is required."),
        (person("E1", full_name=""), "Row 2, column full_name: a value is required."),
        (person("E1", manager="E9"), "Row 2, column manager_employee_number: no employee has the number 'E9'"),
        (person("E1", manager="E1"), "Row 2, column manager_employee_number: a person cannot be their own manager."),
        (person("E" + "1" * 40), "Row 2, column employee_number: is 41 characters long; the limit is 32."),
    ],
)
def test_employees_each_bad_cell_is_reported_by_row_and_column(support, row, expected):
    result = import_employees(row)

    assert len(result.errors) == 1, errors_of(result)
    assert errors_of(result)[0].startswith(expected)
    assert Employee.objects.count() == 0


def test_employees_choice_errors_list_every_allowed_value(support):
    result = import_employees(person("E1", job_level="ceo"))

    assert errors_of(result)[0].endswith("use one of: " + ", ".join(JobLevel.values) + ".")


def test_employees_duplicate_number_and_email_in_the_file_are_refused(support):
    result = import_employees(
        person("E1"), person("E1", email="other@example.com"), person("E3", email="E1@Example.com")
    )

    assert errors_of(result) == [
        "Row 3, column employee_number: 'E1' is already on row 2.",
        "Row 4, column email: 'E1@Example.com' is already used on row 2.",
    ]


def test_employees_email_of_another_existing_employee_is_refused_whatever_its_case(support):
    EmployeeFactory(employee_number="X1", email="taken@example.com")

    result = import_employees(person("E1", email="Taken@example.com"))

    assert errors_of(result) == ["Row 2, column email: 'Taken@example.com' already belongs to employee X1."]


def test_employees_can_swap_email_addresses_in_one_file(support):
    EmployeeFactory(employee_number="E1", email="first@example.com", org_unit=support)
    EmployeeFactory(employee_number="E2", email="second@example.com", org_unit=support)

    result = import_employees(
        person("E1", email="second@example.com"),
        person("E2", email="third@example.com"),
        person("E3", email="first@example.com"),
    )

    assert result.ok, errors_of(result)
    emails = dict(Employee.objects.values_list("employee_number", "email"))
    assert emails == {"E1": "second@example.com", "E2": "third@example.com", "E3": "first@example.com"}


def test_employees_manager_loop_within_the_file_is_refused(support):
    result = import_employees(person("E1", manager="E2"), person("E2", manager="E1"))

    assert errors_of(result) == ["Row 2, column manager_employee_number: this makes a loop: E1 → E2 → E1."]


def test_employees_manager_loop_through_existing_employees_is_refused(support):
    boss = EmployeeFactory(employee_number="B1", email="b1@example.com")
    EmployeeFactory(employee_number="M1", email="m1@example.com", manager=boss)

    result = import_employees(person("B1", manager="M1", email="b1@example.com"))

    assert errors_of(result) == ["Row 2, column manager_employee_number: this makes a loop: B1 → M1 → B1."]
    assert Employee.objects.get(employee_number="B1").manager is None


# The file as a whole --------------------------------------------------------------------------------------------------


def test_invalid_utf8_is_reported_with_its_row_and_nothing_is_written():
    content = csv_bytes(UNIT_HEADER, "acme,Acme,,0") + "café,Café,,0\n".encode("latin-1")

    result = org_csv_import(kind="units", content=content, file_name="latin1.csv")

    assert errors_of(result) == ["Row 3: this is not UTF-8 text; save the file as 'CSV UTF-8' and retry."]
    assert OrgUnit.objects.count() == 0


def test_byte_order_mark_windows_line_ends_and_header_case_are_accepted():
    content = "\ufeffCode,NAME,Parent_Code,Customer Layer\r\nacme,Acme,,3\r\n".encode()

    result = org_csv_import(kind="units", content=content, file_name="excel.csv")

    assert result.ok, errors_of(result)
    assert OrgUnit.objects.get(code="acme").customer_layer == 3


def test_missing_required_columns_are_listed():
    result = import_units("acme,Acme", header="code,name")

    assert errors_of(result) == [
        "Row 1: missing required columns: parent_code, customer_layer "
        "(expected: code, name, parent_code, customer_layer, description, active)."
    ]


def test_unknown_and_repeated_columns_are_refused():
    result = import_units("acme,Acme,,0,x,Acme", header=UNIT_HEADER + ",colour,name")

    assert errors_of(result) == [
        "Row 1: repeated columns: name.",
        "Row 1: unknown columns: colour (allowed: code, name, parent_code, customer_layer, description, active).",
    ]


def test_semicolon_separated_file_gets_a_hint():
    result = import_units("acme;Acme;;0", header=UNIT_HEADER.replace(",", ";"))

    assert errors_of(result) == ["Row 1: the header is separated by ';'; save the file with commas."]


def test_empty_file_is_refused():
    result = org_csv_import(kind="units", content=b"", file_name="empty.csv")

    assert errors_of(result) == ["The file is empty; its first row must be the header."]


def test_blank_lines_are_skipped_and_row_numbers_stay_file_line_numbers():
    content = b'code,name,parent_code,customer_layer\n\nacme,"Acme\nHotels",,0\n,,,\nsales,Sales,acme,x\n'

    result = org_csv_import(kind="units", content=content, file_name="gaps.csv")

    assert errors_of(result) == ["Row 6, column customer_layer: 'x' is not a whole number from 0 to 9."]


def test_files_over_the_size_or_row_limit_are_refused(monkeypatch):
    monkeypatch.setattr(reading, "MAX_IMPORT_BYTES", 100)
    assert "the limit is 0 MB" in errors_of(import_units(*[f"u{n},U,,0" for n in range(20)]))[0]

    monkeypatch.setattr(reading, "MAX_IMPORT_BYTES", 5 * 1024 * 1024)
    monkeypatch.setattr(reading, "MAX_IMPORT_ROWS", 3)
    assert errors_of(import_units(*[f"u{n},U,,0" for n in range(4)])) == ["The file has over 3 rows; split it."]
    assert OrgUnit.objects.count() == 0


def test_the_error_report_stops_at_200_lines_and_counts_the_rest():
    result = import_units(*[f"u{n},,,0" for n in range(250)])

    lines = result.error_lines()
    assert len(result.errors) == 250
    assert len(lines) == 201
    assert lines[-1] == "... and 50 more."


def test_dry_run_reports_counts_and_writes_nothing():
    OrgUnitFactory(code="acme", name="Acme", customer_layer=3)

    result = import_units("acme,Acme Group,,3", "sales,Sales,acme,0", dry_run=True)

    assert result.summary() == "Would create 1, update 1, leave 0 unchanged."
    assert OrgUnit.objects.count() == 1
    assert OrgUnit.objects.get().name == "Acme"


def test_a_conflicting_concurrent_change_rolls_the_import_back(monkeypatch):
    def collide(plan, kind):
        OrgUnit.objects.create(code="written-first", name="Written")
        raise IntegrityError("duplicate key")

    monkeypatch.setattr(service, "_write", collide)

    result = import_units("acme,Acme,,0")

    assert errors_of(result) == ["The organisation changed during the import (duplicate key); nothing written."]
    assert OrgUnit.objects.count() == 0


def test_a_real_import_is_recorded_in_the_audit_trail_when_the_audit_service_exists(monkeypatch):
    recorded = []
    fake = types.ModuleType("apps.audit.services")
    fake.audit_record = lambda **kwargs: recorded.append(kwargs)
    monkeypatch.setitem(sys.modules, "apps.audit.services", fake)
    monkeypatch.setattr(writing.importlib.util, "find_spec", lambda name: object())

    import_units("acme,Acme,,0", dry_run=True)
    import_units("acme,Acme,,0")

    assert recorded == [
        {
            "action": "import_made",
            "object_type": "org.orgunit",
            "object_repr": "units.csv: Created 1, updated 0, left 0 unchanged.",
            "context": {"kind": "units", "created": 1, "updated": 0, "unchanged": 0, "file_name": "units.csv"},
        }
    ]


def test_validating_a_500_row_file_takes_a_fixed_number_of_queries(django_assert_max_num_queries, support):
    boss = EmployeeFactory(employee_number="B0", email="b0@example.com", org_unit=support)
    EmployeeFactory.create_batch(20, org_unit=support, manager=boss)
    rows = [person(f"E{n}", manager=f"E{n - 1}" if n % 10 else "B0") for n in range(500)]

    with django_assert_max_num_queries(2):
        result = import_employees(*rows, dry_run=True)

    assert result.ok, errors_of(result)[:3]
    assert result.created == 500


# The command ----------------------------------------------------------------------------------------------------------


def test_command_dry_run_prints_what_would_change_and_writes_nothing(tmp_path, capsys):
    path = tmp_path / "units.csv"
    path.write_bytes(csv_bytes(UNIT_HEADER, "acme,Acme,,3", "sales,Sales,acme,0"))

    call_command("import_org", "units", str(path), "--dry-run")

    assert "Would create 2, update 0, leave 0 unchanged." in capsys.readouterr().out
    assert OrgUnit.objects.count() == 0


def test_command_imports_units_then_employees(tmp_path, capsys):
    units, people = tmp_path / "units.csv", tmp_path / "people.csv"
    units.write_bytes(csv_bytes(UNIT_HEADER, "support,Support,,0"))
    people.write_bytes(csv_bytes(EMPLOYEE_HEADER, person("E2", manager="E1"), person("E1")))

    call_command("import_org", "units", str(units))
    call_command("import_org", "employees", str(people))

    out = capsys.readouterr().out
    assert "Created 1, updated 0, left 0 unchanged." in out
    assert "Created 2, updated 0, left 0 unchanged." in out
    assert Employee.objects.get(employee_number="E2").manager.employee_number == "E1"


def test_command_lists_row_errors_and_fails_without_writing(tmp_path):
    path = tmp_path / "units.csv"
    path.write_bytes(csv_bytes(UNIT_HEADER, "acme,Acme,,3", "sales,,acme,0"))

    with pytest.raises(CommandError) as failure:
        call_command("import_org", "units", str(path))

    assert str(failure.value) == (
        "units.csv: 1 error(s); nothing was written.\nRow 3, column name: a value is required."
    )
    assert OrgUnit.objects.count() == 0


def test_command_exits_with_status_1_and_the_errors_on_stderr(tmp_path, capsys):
    path = tmp_path / "units.csv"
    path.write_bytes(b"code,name\nacme,Acme\n")

    with pytest.raises(SystemExit) as exit_:
        ManagementUtility(["manage.py", "import_org", "units", str(path)]).execute()

    assert exit_.value.code == 1
    assert "Row 1: missing required columns: parent_code, customer_layer" in capsys.readouterr().err


def test_command_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="Cannot read .*nope.csv"):
        call_command("import_org", "units", str(tmp_path / "nope.csv"))


# The admin page -------------------------------------------------------------------------------------------------------


def upload(client, model: str, content: bytes, *, dry_run: bool = False):
    data = {"file": SimpleUploadedFile("org.csv", content, content_type="text/csv")}
    if dry_run:
        data["dry_run"] = "on"
    return client.post(reverse(f"admin:org_{model}_import"), data)


def test_admin_changelists_link_to_the_import_page(admin_client):
    for model in ("orgunit", "employee"):
        page = admin_client.get(reverse(f"admin:org_{model}_changelist"))
        assert reverse(f"admin:org_{model}_import").encode() in page.content


def test_admin_import_page_documents_the_format_with_an_example(admin_client):
    page = admin_client.get(reverse("admin:org_employee_import"))

    assert page.status_code == 200
    assert b"manager_employee_number" in page.content
    assert b"E00002,Dana Okafor" in page.content
    assert b'name="csrfmiddlewaretoken"' in page.content


def test_admin_dry_run_shows_counts_and_writes_nothing(admin_client):
    page = upload(admin_client, "orgunit", csv_bytes(UNIT_HEADER, "acme,Acme,,3"), dry_run=True)

    assert page.status_code == 200
    assert b"Would create 1, update 0, leave 0 unchanged." in page.content
    assert OrgUnit.objects.count() == 0


def test_admin_import_writes_and_returns_to_the_changelist_with_counts(admin_client):
    page = upload(admin_client, "orgunit", csv_bytes(UNIT_HEADER, "acme,Acme,,3", "sales,Sales,acme,0"))

    assert page.status_code == 302
    assert page.url == reverse("admin:org_orgunit_changelist")
    assert OrgUnit.objects.count() == 2
    follow = admin_client.get(page.url)
    assert b"Import of org.csv: Created 2, updated 0, left 0 unchanged." in follow.content


def test_admin_import_shows_row_errors_next_to_the_form_and_writes_nothing(admin_client):
    OrgUnitFactory(code="support")
    content = csv_bytes(EMPLOYEE_HEADER, person("E1"), person("E2", job_level="boss"))

    page = upload(admin_client, "employee", content)

    assert page.status_code == 200
    assert b"nothing was written" in page.content
    assert b"Row 3, column job_level: &#x27;boss&#x27; is not a job level" in page.content
    assert Employee.objects.count() == 0


def test_admin_import_reports_invalid_utf8_instead_of_failing(admin_client):
    page = upload(admin_client, "orgunit", b"code,name,parent_code,customer_layer\nacme,\xe9,,0\n")

    assert page.status_code == 200
    assert b"Row 2: this is not UTF-8 text" in page.content


def test_admin_import_page_redirects_non_staff_to_the_login(client):
    client.force_login(UserFactory(is_staff=False))

    page = client.get(reverse("admin:org_orgunit_import"))

    assert page.status_code == 302
    assert reverse("admin:login") in page.url


def test_admin_import_page_is_forbidden_to_staff_without_add_and_change_permission(client):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_orgunit", "change_orgunit"]))
    client.force_login(staff)

    assert client.get(reverse("admin:org_orgunit_import")).status_code == 403
    assert upload(client, "orgunit", csv_bytes(UNIT_HEADER, "acme,Acme,,3")).status_code == 403
    assert b"Import CSV" not in client.get(reverse("admin:org_orgunit_changelist")).content
    assert OrgUnit.objects.count() == 0
