"""Writes for policies: drafting, requirements, publishing and retiring versions, all transactional."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.audit.services import audit_record
from apps.common.errors import InvalidTransition
from apps.org.models import OrgUnit, Touchpoint

from .constants import PolicyAuditAction, VersionStatus
from .engine.requirement_kinds import ParamsError, validate_params
from .models import EvidenceCategory, Policy, PolicyVersion, Requirement, RequirementTemplate, RitualType
from .selectors import policy_version_fingerprint


def requirement_params_clean(*, kind: str, params: Any) -> dict[str, Any]:
    """Return validated params for `kind`, or raise ValidationError with field errors HR can act on."""
    category_codes = set(EvidenceCategory.objects.values_list("code", flat=True))
    touchpoint_codes = set(Touchpoint.objects.values_list("code", flat=True))
    try:
        return validate_params(kind, params, category_codes=category_codes, touchpoint_codes=touchpoint_codes)
    except ParamsError as exc:
        errors: dict[str, list[str]] = {}
        for field, messages in exc.errors.items():
            if field == "kind":
                errors.setdefault("kind", []).extend(messages)
            elif field == "__all__":
                errors.setdefault("params", []).extend(messages)
            else:
                errors.setdefault("params", []).extend(f"{field}: {message}" for message in messages)
        raise ValidationError(errors) from exc


@transaction.atomic
def policy_create(*, ritual_type: RitualType, scope: OrgUnit | None, name: str = "", description: str = "") -> Policy:
    """Create the baseline (no scope) or a group's policy for a ritual."""
    policy = Policy(
        ritual_type=ritual_type,
        scope=scope,
        name=name or (f"{ritual_type} baseline" if scope is None else f"{ritual_type}: {scope} additions"),
        description=description,
    )
    policy.full_clean()
    policy.save()
    return policy


@transaction.atomic
def policy_version_create(
    *, policy: Policy, effective_from: dt.date, by: User | None = None, notes: str = ""
) -> PolicyVersion:
    """Start an empty draft version of a policy."""
    version = PolicyVersion(policy=policy, effective_from=effective_from, notes=notes, created_by=by)
    version.full_clean(exclude=["number"])
    version.save()
    audit_record(action=PolicyAuditAction.POLICY_DRAFTED, obj=version, context={"policy_id": policy.pk})
    return version


@transaction.atomic
def requirement_add(
    *,
    version: PolicyVersion,
    kind: str,
    params: dict[str, Any],
    label: str = "",
    weight: int = 1,
    help_text: str = "",
    order: int | None = None,
) -> Requirement:
    """Add a validated requirement to a draft version."""
    if order is None:
        order = version.requirements.count()
    requirement = Requirement(
        version=version, kind=kind, params=params, label=label, weight=weight, help_text=help_text, order=order
    )
    requirement.full_clean()
    requirement.save()
    return requirement


@transaction.atomic
def policy_version_draft_from(
    *, version: PolicyVersion, by: User | None = None, effective_from: dt.date | None = None
) -> PolicyVersion:
    """Start a new draft that copies a version's requirements, to change criteria without touching the original."""
    draft = PolicyVersion(
        policy=version.policy,
        effective_from=effective_from or max(version.effective_from, timezone.localdate()),
        notes=f"Based on version {version.number}.",
        based_on=version,
        created_by=by,
    )
    draft.save()
    for requirement in version.requirements.all():
        Requirement(
            version=draft,
            kind=requirement.kind,
            params=requirement.params,
            label=requirement.label,
            weight=requirement.weight,
            help_text=requirement.help_text,
            order=requirement.order,
        ).save()
    audit_record(
        action=PolicyAuditAction.POLICY_DRAFTED,
        obj=draft,
        context={"policy_id": version.policy_id, "based_on": version.pk},
    )
    return draft


def _overlapping(version: PolicyVersion) -> list[PolicyVersion]:
    """Published or retired versions of the same policy whose dates overlap this version's."""
    others = PolicyVersion.objects.filter(
        policy_id=version.policy_id, status__in=[VersionStatus.PUBLISHED, VersionStatus.RETIRED]
    ).exclude(pk=version.pk)
    if version.effective_to is not None:
        others = others.filter(effective_from__lte=version.effective_to)
    others = others.filter(Q(effective_to__isnull=True) | Q(effective_to__gte=version.effective_from))
    # A retired version with an empty range (retired before it began) was never in force.
    return [other for other in others if other.effective_to is None or other.effective_to >= other.effective_from]


def policy_version_publish_check(*, version: PolicyVersion, today: dt.date | None = None) -> list[PolicyVersion]:
    """Raise ValidationError if the draft cannot be published now; return the versions publishing would end.

    Read-only, so the admin can explain a refusal before HR confirms; `policy_version_publish` runs it again
    under the row lock.
    """
    today = today or timezone.localdate()
    if version.status != VersionStatus.DRAFT:
        raise ValidationError(f"Version {version.number} is already {version.status}; only drafts can be published.")
    if version.effective_from < today:
        raise ValidationError(
            {
                "effective_from": f"A version cannot take effect in the past ({version.effective_from}); use {today} "
                "or later, so cases already opened keep the criteria they were judged by."
            }
        )
    requirements = list(version.requirements.all())
    if not requirements:
        raise ValidationError("Add at least one requirement before publishing.")
    problems = []
    for requirement in requirements:
        try:
            requirement_params_clean(kind=requirement.kind, params=requirement.params)
        except ValidationError as exc:
            problems.append(f"{requirement}: {'; '.join(exc.messages)}")
    if problems:
        raise ValidationError(["Fix these requirements before publishing:", *problems])

    handed_over = []
    for other in _overlapping(version):
        if other.effective_to is None and other.effective_from < version.effective_from:
            handed_over.append(other)
            continue
        raise ValidationError(
            {
                "effective_from": f"Dates overlap version {other.number} ({other.effective_from} to "
                f"{other.effective_to or 'open-ended'}). Change this version's dates or retire that one first."
            }
        )
    return handed_over


@transaction.atomic
def policy_version_publish(
    *, version: PolicyVersion, by: User | None = None, today: dt.date | None = None, reviewed: str | None = None
) -> PolicyVersion:
    """Publish a draft: validate it whole, refuse date overlaps, and make it immutable.

    An open-ended published predecessor that began earlier is ended the day before this version starts,
    which is how HR hands over from one year's criteria to the next; any other overlap is refused.
    `reviewed` is the fingerprint of the draft HR confirmed (`policy_version_fingerprint`); publishing is
    refused when the draft has changed since.
    """
    version = PolicyVersion.objects.select_for_update(of=("self",)).select_related("policy").get(pk=version.pk)
    if reviewed is not None and version.is_draft and reviewed != policy_version_fingerprint(version):
        raise InvalidTransition(
            f"{version} changed after you reviewed it (someone saved edits). Review it again before publishing."
        )
    handed_over = []
    for other in policy_version_publish_check(version=version, today=today):
        other.effective_to = version.effective_from - dt.timedelta(days=1)
        other.save()
        handed_over.append(other.number)
    requirement_count = version.requirements.count()

    version.status = VersionStatus.PUBLISHED
    version.published_by = by
    version.published_at = timezone.now()
    version.save()
    audit_record(
        action=PolicyAuditAction.POLICY_PUBLISHED,
        obj=version,
        context={
            "policy_id": version.policy_id,
            "effective_from": version.effective_from.isoformat(),
            "effective_to": version.effective_to.isoformat() if version.effective_to else None,
            "requirements": requirement_count,
            "ended_versions": handed_over,
        },
    )
    return version


@transaction.atomic
def policy_version_retire(
    *, version: PolicyVersion, by: User | None = None, today: dt.date | None = None
) -> PolicyVersion:
    """Retire a published version: it stops applying to cases opened from today; open cases keep it."""
    today = today or timezone.localdate()
    version = PolicyVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != VersionStatus.PUBLISHED:
        raise ValidationError(f"Version {version.number} is {version.status}; only published versions can be retired.")
    last_day = today - dt.timedelta(days=1)
    if version.effective_to is None or version.effective_to > last_day:
        # Retired before it began: the empty range means it was never in force.
        version.effective_to = max(last_day, version.effective_from - dt.timedelta(days=1))
    version.status = VersionStatus.RETIRED
    version.retired_by = by
    version.retired_at = timezone.now()
    version.save()
    audit_record(
        action=PolicyAuditAction.POLICY_RETIRED,
        obj=version,
        context={"policy_id": version.policy_id, "effective_to": version.effective_to.isoformat()},
    )
    return version


@transaction.atomic
def requirement_templates_apply(*, version: PolicyVersion, template_ids: Iterable[int], by: User) -> list[Requirement]:
    """Copy the chosen templates into a draft version as requirements, after the ones it already has."""
    if not by.has_perm("policies.add_requirement"):
        raise PermissionDenied("You do not have permission to add requirements to policy versions.")
    ids = list(dict.fromkeys(template_ids))
    if not ids:
        raise ValidationError({"templates": "Choose at least one template to add."})
    version = PolicyVersion.objects.select_for_update(of=("self",)).select_related("policy").get(pk=version.pk)
    if version.status != VersionStatus.DRAFT:
        raise InvalidTransition(
            f"Version {version.number} of {version.policy} is {version.status}; templates can only be added to a "
            "draft. Create a new draft from it first."
        )
    templates = {template.pk: template for template in RequirementTemplate.objects.active().filter(pk__in=ids)}
    missing = [template_id for template_id in ids if template_id not in templates]
    if missing:
        raise ValidationError({"templates": "Some chosen templates no longer exist or are inactive; choose again."})
    order = version.requirements.count()
    added = []
    for offset, template_id in enumerate(ids):
        template = templates[template_id]
        added.append(
            requirement_add(
                version=version,
                kind=template.kind,
                params=template.params,
                label=template.label,
                help_text=template.help_text,
                order=order + offset,
            )
        )
    return added
