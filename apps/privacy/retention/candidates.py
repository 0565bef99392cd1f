"""Erasing one hiring case's candidate: their audit key, their personal fields and the text written about them.

The case row stays, named "Erased candidate #N", with its status and frozen evaluation, so reports still count it.
Which fields are the candidate's comes from the data map (`apps.privacy.datamap`: every entry with a "candidate"
subject, values from `erased_values`); JSON fields (a reminder's context) keep their shape with the candidate's name
and address replaced, so the notices still render.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models, transaction

from apps.audit.personal import person_erase
from apps.cases.models import Case, CaseEvidence
from apps.evidence.models import Attachment

from ..constants import erased_candidate_email, erased_candidate_label
from ..models import CandidateErasure

CANDIDATE_EMAIL = "candidate_email"


def _candidate_parts() -> Iterator[tuple[Any, Any, type[models.Model], str, frozenset[str]]]:
    """(entry, subject, model, lookup to the case's pk, the candidate's field names) for each map entry about
    candidates."""
    from ..datamap import DATA_MAP

    for entry in DATA_MAP:
        for subject in entry.subjects:
            if subject.kind != "candidate" or not subject.lookup.endswith(CANDIDATE_EMAIL):
                continue
            names = frozenset(f.name for f in entry.subject_fields(subject))
            if names:
                yield entry, subject, entry.model_class(), f"{subject.lookup[: -len(CANDIDATE_EMAIL)]}pk", names


def _scrubbed(value: Any, secrets: list[str], replacement: str) -> Any:
    """A JSON value with every occurrence of the secrets replaced (its keys and shape kept)."""
    text = json.dumps(value, ensure_ascii=False)
    for secret in secrets:
        text = text.replace(json.dumps(secret, ensure_ascii=False)[1:-1], replacement)
    return json.loads(text)


def _blank_rows(case: Case, pseudonym: str, secrets: list[str]) -> int:
    """Save every row about the case's candidate with the candidate's values erased; return how many changed."""
    from ..datamap import erased_values

    changed = 0
    for entry, subject, model, lookup, names in _candidate_parts():
        for row in model._default_manager.filter(**{lookup: case.pk}).order_by("pk"):
            values = erased_values(entry, row, subject=subject)
            for name in names:
                field = model._meta.get_field(name)
                if isinstance(field, models.JSONField):
                    values[name] = _scrubbed(getattr(row, name), secrets, pseudonym)
            if isinstance(row, Case):
                values["candidate_name"] = pseudonym  # a hiring case must keep a name (its check constraint)
                values["candidate_email"] = erased_candidate_email(row.pk)
            values = {name: value for name, value in values.items() if getattr(row, name) != value}
            if not values:
                continue
            for name, value in values.items():
                setattr(row, name, value)
            auto_now = [f.name for f in model._meta.concrete_fields if getattr(f, "auto_now", False)]
            row.save(update_fields=[*values, *auto_now])
            changed += 1
    return changed


def _erase_keys(case: Case, by: Any) -> None:
    """Destroy the candidate's audit key ("cases.case", pk) first, so the trail's record of the blanking stores
    "[erased]". A run without a person (`by=None`: the beat job, the command) erases as the system process it is."""
    person_erase(label="cases.case", pk=case.pk, by=by)


def _attachments_of(case: Case) -> list[Attachment]:
    evidence_ids = CaseEvidence.objects.filter(case=case).values_list("evidence_id", flat=True)
    return list(Attachment.objects.filter(evidence_id__in=evidence_ids).order_by("pk"))


def delete_attachments(attachments: list[Attachment]) -> int:
    """Delete attachment rows (audited by the capture) and, after commit, their files no other row still uses."""
    names = {a.file.name for a in attachments if a.file.name}
    ids = [a.pk for a in attachments]
    for attachment in attachments:
        attachment.delete()
    if names:
        storage = Attachment._meta.get_field("file").storage

        def remove_unshared() -> None:
            still_used = set(
                Attachment.objects.filter(file__in=names).exclude(pk__in=ids).values_list("file", flat=True)
            )
            for name in names - still_used:
                storage.delete(name)

        transaction.on_commit(remove_unshared)
    return len(attachments)


def candidate_erase(*, case: Case, cause: str, by: Any) -> CandidateErasure:
    """Erase the candidate of a decided hiring case (in the caller's transaction, the case row locked by it)."""
    if case.subject_employee_id is not None or case.subject_unit_id is not None:
        raise PermissionDenied(f"Case #{case.pk} is not about a candidate.")
    pseudonym = erased_candidate_label(case.pk)
    secrets = [s for s in (case.candidate_name, case.candidate_email) if s and s != pseudonym]
    _erase_keys(case, by)
    _blank_rows(case, pseudonym, secrets)
    delete_attachments(_attachments_of(case))
    return CandidateErasure.objects.create(case=case, cause=cause, erased_by=by)
