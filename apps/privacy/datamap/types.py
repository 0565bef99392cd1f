"""The words of the data map: what kind of data a field holds, what erasing its person does to it, whose it is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from django.apps import apps
from django.db import models


class Category(models.TextChoices):
    """What kind of data a field holds."""

    IDENTITY = "identity", "Identity (name, number, login)"
    CONTACT = "contact", "Contact (e-mail address, time zone)"
    EMPLOYMENT = "employment", "Employment (unit, level, function, manager)"
    EVIDENCE = "evidence", "Evidence (what a person wrote about their work and customers)"
    JUDGEMENT = "judgement", "Judgement (reviews, decisions, notes written about a person)"
    CANDIDATE = "candidate", "Candidate (a hiring case's applicant)"
    COMMUNICATION = "communication", "Communication (notices sent to a person)"
    SECURITY = "security", "Security (logins, IP addresses, sessions, tokens)"
    TECHNICAL = "technical", "Technical (ids, timestamps, statuses: personal only by linkage)"
    NOT_PERSONAL = "not_personal", "Not personal"


class Erase(models.TextChoices):
    """What erasing the person does to the field."""

    KEEP = "keep", "Kept"
    BLANK = "blank", "Blanked"
    PSEUDONYM = "pseudonym", "Replaced by a pseudonym"
    FILE = "file", "File deleted"


# Categories that are not personal data by themselves.
NOT_PERSONAL_CATEGORIES = frozenset({Category.TECHNICAL, Category.NOT_PERSONAL})

SubjectKind = Literal["employee", "user", "candidate"]


@dataclass(frozen=True)
class Field:
    """One concrete field of a model, classified."""

    name: str
    category: Category
    erase: Erase = Erase.KEEP
    note: str = ""

    @property
    def personal(self) -> bool:
        return self.category not in NOT_PERSONAL_CATEGORIES


@dataclass(frozen=True)
class Subject:
    """A person a model's rows are about, and how to reach them from the model.

    `lookup` is an ORM lookup from the model to the person: to an Employee for "employee" ("owner",
    "case__subject_employee", "pk" on Employee itself), to a User for "user" ("recipient_user", "pk" on User), to the
    candidate e-mail of a hiring case for "candidate" ("candidate_email", "case__candidate_email"). `fields` names the
    personal fields that are this subject's (their values are encrypted in the audit trail with this person's key);
    () means every personal field of the entry.
    """

    kind: SubjectKind
    lookup: str
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class Entry:
    """One model in the record of processing: why it is kept, on what legal basis, for how long, whose data it holds."""

    model: str
    purpose: str
    legal_basis: str
    retention: str
    subjects: tuple[Subject, ...]
    fields: tuple[Field, ...]

    def model_class(self) -> type[models.Model]:
        return apps.get_model(self.model)

    def personal_fields(self) -> tuple[Field, ...]:
        return tuple(field for field in self.fields if field.personal)

    def field(self, name: str) -> Field:
        """The classified field `name` (KeyError when the map does not name it)."""
        for field in self.fields:
            if field.name == name:
                return field
        raise KeyError(f"{self.model}.{name} is not in the data map.")

    def subject_fields(self, subject: Subject) -> tuple[Field, ...]:
        """The personal fields that belong to `subject`."""
        personal = self.personal_fields()
        if not subject.fields:
            return personal
        return tuple(field for field in personal if field.name in subject.fields)


# Shorthands for the map's tables --------------------------------------------------------------------------------


def tech(*names: str, note: str = "") -> tuple[Field, ...]:
    """Ids, links, timestamps and statuses: kept (they count and explain decisions)."""
    return tuple(Field(name, Category.TECHNICAL, Erase.KEEP, note) for name in names)


def plain(*names: str, note: str = "") -> tuple[Field, ...]:
    """Fields with nothing about a person."""
    return tuple(Field(name, Category.NOT_PERSONAL, Erase.KEEP, note) for name in names)


# Legal bases (GDPR art. 6(1)); nothing in the product needs an art. 9 condition.
CONTRACT = "Contract (art. 6(1)(b)): the employment relationship"
CANDIDATE_CONTRACT = "Steps at the candidate's request before a contract (art. 6(1)(b))"
LEGITIMATE = "Legitimate interest (art. 6(1)(f)): fair, explainable people decisions"
SECURITY_INTEREST = "Legitimate interest (art. 6(1)(f)): security of the system"
LEGAL_OBLIGATION = "Legal obligation (art. 6(1)(c)) and legitimate interest: an accountable record of changes"
NONE = "None needed: no personal data"
