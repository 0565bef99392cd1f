"""The whole demo company: calls each app's seeder in dependency order."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.cases.constants import CaseAuditAction, CaseStatus, ExceptionStatus
from apps.cases.demo import as_person, seed_cases
from apps.cases.models import Attestation, Case, PolicyException
from apps.cases.preview import preview_job_request, preview_job_run
from apps.common.credentials import new_password, remember_credentials
from apps.common.roles import Role, ensure_role_groups, grant_hr_permissions
from apps.evidence.demo import seed_evidence, seed_showcase_review
from apps.insights.demo import seed_insights
from apps.org.demo import seed_org
from apps.policies.constants import VersionStatus
from apps.policies.demo import seed_policies
from apps.policies.models import PolicyVersion
from apps.policies.services import requirement_params_clean
from apps.privacy.demo import seed_privacy
from apps.privacy.demo_person import seed_erased_person
from apps.reminders.constants import ReminderKind
from apps.reminders.demo import seed_reminders
from apps.reminders.selectors import notification_list
from apps.reports.hr_home import cases_ready_for_hr, exceptions_waiting

from .logins import persona_lines

# The refused attempts the trail records (each written after the refused service rolled back).
REFUSED_ACTIONS = [action for action in CaseAuditAction.values if action.endswith("_refused")]
REFUSED_ACTIONS.remove(CaseAuditAction.EXCEPTION_REFUSED)  # a decision (HR said no), not a refused attempt
# Whose bell the summary reports, and the kind of notification the demo gave each.
NOTIFIED = {
    "dana": ReminderKind.EVIDENCE_REVIEWED,
    "manager": ReminderKind.STEP_WAITING,
    "hr2": ReminderKind.EXCEPTION_WAITING,
}


@dataclass(slots=True)
class DemoSummary:
    """What seed_demo prints: what was built, then the logins (last, so they are easy to find)."""

    lines: list[str] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)


def _counted(count: int, singular: str, plural: str = "") -> str:
    return f"{count} {singular if count == 1 else (plural or singular + 's')}"


def workbench_line(*, users: Mapping[str, object]) -> str:
    """The HR workbench's showcases in one line, counted as the HR home and the case pages show them."""
    hr, hr2 = users["hr"], users["hr2"]
    waiting = exceptions_waiting(user=hr2).exclude(pk__in=exceptions_waiting(user=hr).values("pk")).count()
    ready = cases_ready_for_hr().count()
    granted = PolicyException.objects.filter(status=ExceptionStatus.GRANTED).count()
    with_exception = Case.objects.filter(status=CaseStatus.APPROVED_WITH_EXCEPTION).count()
    attested = Attestation.objects.count()
    withdrawn = AuditEvent.objects.filter(action=CaseAuditAction.ATTESTATION_WITHDRAWN).count()
    refused = AuditEvent.objects.filter(action__in=REFUSED_ACTIONS).count()
    return (
        f"Workbench: {_counted(waiting, 'exception')} waiting for a second HR (hr asked, hr2 decides), "
        f"{_counted(ready, 'case')} ready for HR to approve, {_counted(granted, 'exception')} granted and "
        f"{_counted(with_exception, 'case')} approved with exception, {_counted(attested, 'manager attestation')} "
        f"and {withdrawn} withdrawn with a note, {_counted(refused, 'refused attempt')} on the audit trail."
    )


def notification_line() -> str:
    """Unread notifications of the personas the demo notified (read after commit: the case hooks write them then)."""
    users = {user.username: user for user in get_user_model().objects.filter(username__in=list(NOTIFIED))}
    parts = []
    for name, kind in NOTIFIED.items():
        if name in users:
            unread = notification_list(user=users[name]).filter(read_at__isnull=True)
            shown = unread.filter(kind=kind).count()
            parts.append(f"{name} {unread.count()} unread ({shown} {ReminderKind(kind).label.lower()})")
    return "Notifications: " + ", ".join(parts) + "; the bell in the portal lists them (/me/notifications/)."


def seed_preview(*, hr: User) -> str:
    """HR tightens next year's draft (four distinct categories instead of three) and runs its background preview
    once, so the result page (who would fall short) is there to open."""
    draft = PolicyVersion.objects.filter(status=VersionStatus.DRAFT).order_by("pk").first()
    if draft is None:
        return "Preview: no draft version to preview."
    with as_person(hr):
        tightened = draft.requirements.filter(kind="distinct_categories").order_by("order").first()
        if tightened is not None:
            tightened.params = requirement_params_clean(kind=tightened.kind, params={**tightened.params, "count": 4})
            tightened.save(update_fields=["params"])
        job = preview_job_request(version=draft, by=hr, today=timezone.localdate())
    done = preview_job_run(job_id=job.pk) or job
    return (
        f"Preview: the draft {draft} would make {_counted(done.would_fail or 0, 'open case')} fall short and "
        f"{_counted(done.would_pass or 0, 'case')} start to meet the policy (Admin, Cases, preview job #{job.pk})."
    )


def seed_all(*, employees: int, rng: random.Random) -> DemoSummary:
    """Create the whole demo company and return what to print."""
    groups = ensure_role_groups()
    grant_hr_permissions()
    org = seed_org(employees=employees, rng=rng)
    policies = seed_policies(units=org.units, today=timezone.localdate())

    # Logins for a few personas, so every role can be tried at once.
    user_model = get_user_model()
    # Dana is the first member of the front desk (apps.org.demo names her).
    personas = {
        "dana": (next(e for e in org.employees if e.manager_id == org.heads["front-desk"].pk), []),
        "manager": (org.heads["front-desk"], []),
        "reviewer": (org.heads["contact-centre"], [Role.CX_REVIEWER]),
        "leader": (org.heads["acme"], [Role.LEADERSHIP]),
        "hr": (org.heads["people"], [Role.HR]),
        "hr2": (org.heads["legal"], [Role.HR]),
    }
    logins: dict[str, str] = {}
    users = {}
    for username, (employee, roles) in personas.items():
        password = new_password()
        user = user_model.objects.create_user(
            username=username,
            email=employee.email,
            password=password,
            first_name=employee.full_name.split()[0],
            last_name=employee.full_name.split()[-1],
        )
        user.groups.add(*(groups[role] for role in roles))
        if Role.HR in roles:
            # HR works in the admin.
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        employee.user = user
        employee.save(update_fields=["user"])
        logins[username] = password
        users[username] = user
    remember_credentials(logins)
    dana = personas["dana"][0]
    evidence = seed_evidence(
        employees=org.employees, units=org.units, reviewer=users["reviewer"], rng=rng, showcase=dana
    )
    # Dana's manager reviews one of her items on the review page: she is told (a notification in her portal).
    with as_person(users["manager"]):
        seed_showcase_review(owner=dana, by=users["manager"])
    cases = seed_cases(units=org.units, heads=org.heads, users=users, today=timezone.localdate(), rng=rng)
    seed_reminders(heads=org.heads)
    preview_line = seed_preview(hr=users["hr"])
    # Customers' insights in the units' inboxes, some answered with verified evidence (after the cases and the
    # preview, whose figures they would otherwise move).
    insights_line = seed_insights(units=org.units, users=users, rng=rng, today=timezone.localdate())
    # Privacy: last year's rejected candidates for the retention dry run (one under legal hold), and one person
    # erased on request ("Erased person #N" on the pages, the trail still verifying).
    with as_person(users["hr"]):
        privacy = seed_privacy(hr=users["hr"], hiring_manager=org.heads["front-desk"], today=timezone.localdate())
        erased_line = seed_erased_person(employees=org.employees, by=users["hr"])

    return DemoSummary(
        lines=[
            f"Org: {len(org.units)} units over customer layers 0-3, {len(org.employees)} employees.",
            f"Policies: a baseline for each of {len(policies.baselines)} rituals, "
            f"{len(policies.versions)} versions (last year's, this year's, a draft for next year, group additions).",
            "Evidence: "
            + ", ".join(f"{count} {status.replace('_', ' ')}" for status, count in sorted(evidence.items()))
            + ".",
            "Cases: " + ", ".join(f"{count} {status.lower()}" for status, count in cases.items()) + ".",
            workbench_line(users=users),
            preview_line,
            insights_line,
            f"Retention: {_counted(privacy['cases'], 'rejected candidate')} of last year for the dry run, "
            f"{_counted(privacy['holds'], 'legal hold')}.",
            erased_line,
        ],
        logins=["Demo logins (user / password   who they are):", *(f"  {line}" for line in persona_lines(logins))],
    )
