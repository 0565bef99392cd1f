"""A person with a full history, built through the product's services, every text of it carrying a unique marker:
the erasure and access-export tests look for the markers afterwards (in a database dump, in the archive)."""

from __future__ import annotations

import datetime as dt
import io
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.authtoken.models import Token

from apps.audit.sealer import audit_seal_pending, unsealed_events
from apps.cases.models import Case
from apps.cases.services import case_exception_decide, case_exception_request, case_open, case_step_decide
from apps.common.context import Actor, acting_as
from apps.common.roles import Role, ensure_role_groups, grant_hr_permissions
from apps.evidence.models import Attachment, Evidence
from apps.evidence.services import attachment_add, evidence_create, evidence_submit, evidence_verify
from apps.org.models import Employee
from apps.policies.models import RitualType
from apps.policies.services import policy_create, policy_version_create, policy_version_publish, requirement_add
from tests.factories.cases import AttestationFactory, CycleFactory
from tests.factories.org import EmployeeFactory, OrgUnitFactory, UserFactory
from tests.factories.reminders import ReminderFactory

STORY_RULE = {"count": 1, "categories": ["customer_story"], "within_days": 365}


def seal_all() -> None:
    """Seal until nothing waits (on PostgreSQL another session's open transaction may hold sealing back a moment)."""
    deadline = time.monotonic() + 60
    audit_seal_pending()
    while unsealed_events().exists():
        assert time.monotonic() < deadline, "the sealer never got past an open transaction"
        time.sleep(0.2)
        audit_seal_pending()


@dataclass
class Staff:
    """HR people (who may erase and export), a CX reviewer and the promotion cycle."""

    hr: User
    hr2: User
    reviewer: User
    unit: Any
    cycle: Any


def staff() -> Staff:
    groups = ensure_role_groups()
    grant_hr_permissions()
    unit = OrgUnitFactory(name="Front desk")
    hr = UserFactory(username="hr-ines", first_name="Ines", last_name="Ruiz", is_staff=True)
    hr.groups.add(groups[Role.HR])
    hr2 = UserFactory(username="hr-hugo", first_name="Hugo", last_name="Berg", is_staff=True)
    hr2.groups.add(groups[Role.HR])
    reviewer = UserFactory(username="rita", first_name="Rita", last_name="Viewer")
    reviewer.groups.add(groups[Role.CX_REVIEWER])
    for user in (hr, hr2, reviewer):
        EmployeeFactory(full_name=user.get_full_name(), org_unit=unit, user=user)
    promotion = RitualType.objects.get(code="promotion")
    policy = policy_create(ritual_type=promotion, scope=None)
    version = policy_version_create(policy=policy, effective_from=timezone.localdate() - dt.timedelta(days=60))
    requirement_add(version=version, kind="min_evidence", params=STORY_RULE, label="One customer story")
    policy_version_publish(version=version, today=version.effective_from)
    return Staff(hr=hr, hr2=hr2, reviewer=reviewer, unit=unit, cycle=CycleFactory(ritual_type=promotion))


def as_user(user: User) -> Any:
    """Attribute what happens inside the block to `user`, as a request of theirs would."""
    return acting_as(Actor(user_id=user.pk, name=user.get_username()))


@dataclass
class History:
    """An employee with a login, evidence with a file, a decided case with an exception, reminders, a session."""

    employee: Employee
    user: User
    markers: dict[str, str]
    evidence: Evidence
    attachment: Attachment
    case: Case
    file_bytes: bytes
    extra: dict[str, Any] = field(default_factory=dict)


def person_with_history(people: Staff, *, prefix: str, number: str, decide: bool = True) -> History:
    """An employee whose every text carries a marker (`prefix` + what it is + a random part)."""
    tag = uuid.uuid4().hex[:8]
    m = {what: f"{prefix}{what}{tag}" for what in (
        "name", "mail", "login", "title", "quote", "interp", "response", "review", "file", "justify", "grant",
        "approve", "attest", "reminder",
    )}  # fmt: skip
    user = UserFactory(username=m["login"], first_name=m["name"], last_name="Doe", email=f"{m['mail']}@example.com")
    employee = EmployeeFactory(
        employee_number=number,
        full_name=f"{m['name']} Doe",
        email=f"{m['mail']}@example.com",
        org_unit=people.unit,
        user=user,
    )
    with as_user(user):
        evidence = evidence_create(
            by=user,
            data={
                "category": _story(),
                "title": m["title"],
                "customer_quote": f"The guest said {m['quote']} on the phone.",
                "source_type": "support_ticket",
                "source_reference": "TCK-1",
                "interpretation": f"It meant {m['interp']} for wheelchair users.",
                "response": f"I rebuilt the filter: {m['response']}.",
                "customer_type": "external",
                "impact_date": timezone.localdate() - dt.timedelta(days=20),
            },
        )
        content = f"Call notes {m['file']}\n".encode()
        attachment = attachment_add(
            evidence=evidence, by=user, file=io.BytesIO(content), name=f"{m['file']}.txt", size=len(content)
        )
    with as_user(people.hr):
        case = case_open(cycle=people.cycle, subject_employee=employee, by=people.hr)
        requirement = case.pinned_versions.get().requirements.get()
        if decide:
            exception = case_exception_request(
                case=case,
                by=people.hr,
                justification=f"{m['justify']} carried the contact-centre migration alone; stories were not written.",
                waived_requirement_ids=[requirement.pk],
            )
    if decide:
        with as_user(people.hr2):
            case_exception_decide(exception=exception, by=people.hr2, grant=True, note=f"Granted: {m['grant']}.")
    with as_user(user):
        evidence_submit(evidence=evidence, by=user)
    with as_user(people.reviewer):
        evidence = evidence_verify(evidence=evidence, by=people.reviewer, comment=f"Solid story {m['review']}.")
    with as_user(people.hr2):
        AttestationFactory(case=case, role="hr", by=people.hr2, note=f"References checked: {m['attest']}.")
    ReminderFactory(
        recipient_employee=employee,
        recipient_user=user,
        case=case,
        reason=f"7 days before the deadline for {m['reminder']}",
    )
    if decide:
        with as_user(people.hr):
            case = case_step_decide(case=case, by=people.hr, decision="approve", comment=f"Well earned {m['approve']}.")
    Token.objects.create(user=user)
    employee.refresh_from_db()
    return History(
        employee=employee,
        user=user,
        markers=m,
        evidence=evidence,
        attachment=attachment,
        case=case,
        file_bytes=content,
    )


def _story() -> Any:
    from tests.factories.evidence import category

    return category("customer_story")
