"""Erasure of one person on request (GDPR art. 17): an employee with their login, or a login without an employee.

Crypto-shredding first, then blanking: the person's audit keys are destroyed before any row changes, so the trail's
record of the blanking itself stores "[erased]" and never the values being removed. Every data-map entry's rows about
the person are then blanked as the map says (`erased_values`), saved through the ORM so the capture records them;
attachment files go from storage once the transaction commits. The Employee and User rows stay, named
"Erased person #N", so ids, counts and decided cases keep working; the trail still verifies (its hashes cover the
ciphertext, which does not change).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.contrib.auth import SESSION_KEY
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models.fields.files import FieldFile

from apps.audit.personal import ERASED, erase_person_keys
from apps.audit.registry import register_actions
from apps.audit.services import audit_record
from apps.cases.models import Case

from .datamap import DATA_MAP, Entry, Erase, erased_values
from .holds import person_on_hold
from .persons import Person, rows_for

ERASE_PERMISSION = "privacy.erase_person"
NO_PERMISSION = "You do not have permission to erase a person's personal data."

# Tables erasure handles by hand rather than row by row from the map: the trail itself (crypto-shredding: its rows
# never change), and framework tables whose rows are removed as a whole (see _framework_rows). The admin's log is
# blanked from the map (entries the person made) and by hand (entries about the person's rows: _blank_admin_log).
_AUDIT_TABLES = frozenset({"audit.auditevent", "audit.auditseal", "audit.personkey"})
_FRAMEWORK_TABLES = frozenset(
    {
        "sessions.session",
        "authtoken.token",
        "authtoken.tokenproxy",
        "axes.accessattempt",
        "axes.accesslog",
        "axes.accessfailurelog",
    }
)
_AXES_MODELS = ("axes.AccessAttempt", "axes.AccessLog", "axes.AccessFailureLog")


class PrivacyRequestAction(models.TextChoices):
    """The trail's events about privacy requests (no content: counts only)."""

    PERSON_ERASED = "person_erased", "Person's personal data erased"
    PERSON_EXPORTED = "person_exported", "Person's personal data exported"


register_actions(PrivacyRequestAction)


# ---------------------------------------------------------------------------------------------------- the rows


@dataclass(frozen=True)
class SubjectRows:
    """The rows of one data-map entry that are about the person through one of its subjects, and the personal
    fields that belong to the person on them (a row may hold other people's values too)."""

    entry: Entry
    owned: frozenset[str]
    queryset: models.QuerySet[Any]


def person_rows(person: Person) -> Iterator[SubjectRows]:
    """Every (entry, subject) of the data map with the person's rows, except the trail and framework tables."""
    for entry in DATA_MAP:
        label = entry.model.lower()
        if label in _AUDIT_TABLES or label in _FRAMEWORK_TABLES:
            continue
        for subject in entry.subjects:
            owned = frozenset(f.name for f in entry.subject_fields(subject))
            yield SubjectRows(entry=entry, owned=owned, queryset=rows_for(entry, person, subject=subject))


def _file_fields(entry: Entry) -> tuple[str, ...]:
    return tuple(f.name for f in entry.fields if f.erase == Erase.FILE)


def _label(model: type[models.Model]) -> str:
    return model._meta.label_lower


def _counted_rows(label: str, count: int) -> str:
    """ "1 employee", "2 evidence items": the model's verbose name, plural when it needs one."""
    opts = apps.get_model(label)._meta
    singular, plural = str(opts.verbose_name), str(opts.verbose_name_plural)
    if count != 1 and plural == singular:
        plural = f"{singular} items"
    return f"{count} {singular if count == 1 else plural}"


# ---------------------------------------------------------------------------------------------------- refusals


def _open_cases(person: Person) -> list[Case]:
    if person.employee is None:
        return []
    return list(Case.objects.open().filter(subject_employee=person.employee).select_related("cycle").order_by("pk"))


def erasure_refusals(person: Person, *, by: Any) -> list[str]:
    """Why the person cannot be erased now (empty: they can). Permission first: it hides the rest."""
    if by is None or not by.has_perm(ERASE_PERMISSION):
        return [NO_PERMISSION]
    refusals = []
    if person.user is not None and person.user.pk == by.pk:
        refusals.append("You cannot erase your own personal data: another HR person must do it.")
    elif person.employee is not None and getattr(getattr(by, "employee", None), "pk", None) == person.employee.pk:
        refusals.append("You cannot erase your own personal data: another HR person must do it.")
    if person.employee is not None and person_on_hold(person.employee):
        refusals.append(
            f"{person.label} is under a legal hold: nothing about them may be erased until the hold is released."
        )
    cases = _open_cases(person)
    if cases:
        names = "; ".join(f"{case.cycle.name} (case #{case.pk})" for case in cases)
        refusals.append(
            f"{person.label} has {len(cases)} open case{'s' if len(cases) != 1 else ''}: {names}. "
            "HR must decide or withdraw them first."
        )
    return refusals


# ---------------------------------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class ErasurePlan:
    """What erasing the person would do, shown on the confirmation page before anything happens."""

    person: Person
    counts: dict[str, int]  # model label -> rows whose personal values would be erased
    files: int  # stored files that would be deleted
    decided_cases: int  # decided cases about the person: kept, and still counted by reports
    refusals: list[str]

    @property
    def rows(self) -> list[tuple[str, int]]:
        """(what, how many) for the page, by label."""
        return [
            (str(apps.get_model(label)._meta.verbose_name_plural), count)
            for label, count in sorted(self.counts.items())
        ]


def erasure_plan(person: Person, *, by: Any) -> ErasurePlan:
    """Count what erasing the person would erase and keep, without changing anything."""
    counts: Counter[str] = Counter()
    files = 0
    seen: dict[str, set[Any]] = {}
    for part in person_rows(person):
        pks = set(part.queryset.values_list("pk", flat=True))
        label = part.entry.model.lower()
        already = seen.setdefault(label, set())
        counts[label] += len(pks - already)
        already |= pks
        names = [name for name in _file_fields(part.entry) if name in part.owned]
        if names and pks:
            for values in part.entry.model_class()._default_manager.filter(pk__in=pks).values_list(*names):
                files += sum(1 for value in values if value)
    decided = 0
    if person.employee is not None:
        decided = Case.objects.decided().filter(subject_employee=person.employee).count()
    return ErasurePlan(
        person=person,
        counts={label: n for label, n in counts.items() if n},
        files=files,
        decided_cases=decided,
        refusals=erasure_refusals(person, by=by),
    )


# ---------------------------------------------------------------------------------------------------- erasure


@dataclass
class ErasureReport:
    """What an erasure did: rows erased per model, files deleted, framework rows removed."""

    label: str
    counts: dict[str, int] = field(default_factory=dict)
    files_deleted: int = 0
    sessions: int = 0
    tokens: int = 0
    login_records: int = 0
    admin_log_entries: int = 0

    def summary(self) -> str:
        """One sentence for the success message."""
        parts = [_counted_rows(label, count) for label, count in sorted(self.counts.items())]
        extra = []
        if self.files_deleted:
            extra.append(f"{self.files_deleted} file{'s' if self.files_deleted != 1 else ''} deleted")
        if self.sessions or self.tokens:
            extra.append(f"{self.sessions} session(s) and {self.tokens} API token(s) removed")
        if self.login_records:
            extra.append(f"{self.login_records} login record(s) removed")
        rows = ", ".join(parts) if parts else "no rows"
        return f"Erased the personal data of {self.label}: {rows}" + (f"; {'; '.join(extra)}" if extra else "") + "."


def _delete_file_after_commit(value: FieldFile) -> None:
    """Remove a stored file once the erasure commits (a rolled-back erasure keeps its files)."""
    storage, name = value.storage, value.name
    if name:
        transaction.on_commit(lambda: storage.delete(name))


def _erase_row(row: models.Model, entry: Entry, owned: frozenset[str], report: ErasureReport) -> bool:
    """Blank the owned personal values of one row (or delete the row when its required file is erased).

    Returns True when the row was deleted.
    """
    opts = row._meta
    for name in _file_fields(entry):
        if name not in owned:
            continue
        value = getattr(row, name)
        if value:
            _delete_file_after_commit(value)
            report.files_deleted += 1
        if not getattr(opts.get_field(name), "blank", True):
            row.delete()  # the file is the row's reason to exist (an attachment): the row goes with it
            return True
        setattr(row, name, "")
    values = {name: value for name, value in erased_values(entry, row).items() if name in owned}
    for name, value in values.items():
        setattr(row, name, value)
    update = set(values) | {name for name in _file_fields(entry) if name in owned}
    if update:
        row.save(update_fields=sorted(update))
    return False


def _close_login(user: Any) -> None:
    """The login stays (ids of who acted keep working) but can never sign in again nor hold a role."""
    user.set_unusable_password()
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.save(update_fields=["password", "is_active", "is_staff", "is_superuser"])
    user.groups.clear()
    user.user_permissions.clear()


def _framework_rows(user: Any, username: str, report: ErasureReport) -> None:
    """Sessions, API tokens and failed-login records of the login: removed (they are worth nothing once it is
    closed)."""
    for session in Session.objects.iterator():
        if str(session.get_decoded().get(SESSION_KEY, "")) == str(user.pk):
            session.delete()
            report.sessions += 1
    if apps.is_installed("rest_framework.authtoken"):
        report.tokens += apps.get_model("authtoken", "Token").objects.filter(user=user).delete()[0]
    for label in _AXES_MODELS:
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        report.login_records += model.objects.filter(username=username).delete()[0]


def _blank_admin_log(touched: dict[str, set[Any]], names: dict[tuple[str, str], str], report: ErasureReport) -> None:
    """The admin's own history names objects by their text at the time: blanked for every row erased."""
    for label, pks in touched.items():
        if not pks:
            continue
        content_type = ContentType.objects.get_for_model(apps.get_model(label), for_concrete_model=False)
        entries = LogEntry.objects.filter(content_type=content_type, object_id__in=[str(pk) for pk in pks])
        for entry in entries.iterator():
            entry.object_repr = names.get((label, str(entry.object_id)), ERASED)[:200]
            entry.change_message = ""
            entry.save(update_fields=["object_repr", "change_message"])
            report.admin_log_entries += 1


@transaction.atomic
def erase_person(*, person: Person, by: Any, reason: str) -> ErasureReport:
    """Erase the person's personal data for good, keeping the rows that decisions and counts need.

    Refuses (PermissionDenied without `privacy.erase_person`, ValidationError otherwise) on a legal hold, open
    cases, or one's own data; nothing is written then.
    """
    if not reason.strip():
        raise ValidationError({"reason": "Say why the person is erased (the request and its date, e.g.)."})
    if by is None or not by.has_perm(ERASE_PERMISSION):
        raise PermissionDenied(NO_PERMISSION)
    refusals = erasure_refusals(person, by=by)
    if refusals:
        raise ValidationError(refusals)
    employee, user = person.employee, person.user
    if employee is not None:  # the row decides "who": lock it for the length of the erasure
        employee = type(employee).objects.select_for_update().get(pk=employee.pk)
    username = user.get_username() if user is not None else ""

    # 1. Keys first: everything the capture records from here on about the person stores "[erased]".
    erase_person_keys(person.key_ids, by=by)

    # 2. The rows, as the data map says. Every set of rows is read before any is written (a subject's lookup may go
    # through a value that erasure changes).
    parts = [(part, list(part.queryset.order_by("pk"))) for part in person_rows(person)]
    report = ErasureReport(label="")
    touched: dict[str, set[Any]] = {}
    deleted: set[tuple[str, Any]] = set()
    for part, rows in parts:
        label = part.entry.model.lower()
        done = touched.setdefault(label, set())
        for row in rows:
            if (label, row.pk) in deleted:
                continue
            if _erase_row(row, part.entry, part.owned, report):
                deleted.add((label, row.pk))
            done.add(row.pk)
    report.counts = {label: len(pks) for label, pks in touched.items() if pks}

    # 3. The login and the framework's tables.
    names: dict[tuple[str, str], str] = {}
    if user is not None:
        user.refresh_from_db()
        _close_login(user)
        _framework_rows(user, username, report)
        touched.setdefault(_label(type(user)), set()).add(user.pk)
        names[(_label(type(user)), str(user.pk))] = str(user)
    if employee is not None:
        employee.refresh_from_db()
        touched.setdefault(_label(type(employee)), set()).add(employee.pk)
        names[(_label(type(employee)), str(employee.pk))] = str(employee)
        if employee.active:  # an erased person gets no more reminders nor cases
            employee.active = False
            employee.save(update_fields=["active"])
    _blank_admin_log(touched, names, report)

    report.label = (Person.for_employee(employee) if employee is not None else Person.for_user(user)).label

    # 4. One event, without content: what was erased (counts), by whom, and how long the reason was.
    subject: models.Model = employee if employee is not None else user  # type: ignore[assignment] # one is set
    audit_record(
        action=PrivacyRequestAction.PERSON_ERASED,
        object_type=_label(type(subject)),
        object_id=str(subject.pk),
        object_repr=report.label,
        context={
            "counts": report.counts,
            "files_deleted": report.files_deleted,
            "sessions": report.sessions,
            "tokens": report.tokens,
            "login_records": report.login_records,
            "admin_log_entries": report.admin_log_entries,
            "erased_by": by.pk,
            "reason_length": len(reason),
        },
    )
    return report
