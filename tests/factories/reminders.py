"""Factories for reminders: a pending evidence-due reminder to an employee, and a digest preference."""

import factory
from django.utils import timezone

from apps.reminders.constants import ReminderKind, ReminderStatus
from apps.reminders.models import Reminder, ReminderPreference
from tests.factories.org import EmployeeFactory


class ReminderFactory(factory.django.DjangoModelFactory):
    """A pending reminder due now (pass kind=..., case=..., evidence=... for others)."""

    class Meta:
        model = Reminder

    recipient_employee = factory.SubFactory(EmployeeFactory)
    kind = ReminderKind.EVIDENCE_DUE
    occasion = "d-7"
    key = factory.Sequence(lambda n: f"evidence_due:case-{n}:employee-{n}:d-7")
    status = ReminderStatus.PENDING
    to_email = factory.LazyAttribute(lambda o: o.recipient_employee.email)
    recipient_name = factory.LazyAttribute(lambda o: o.recipient_employee.full_name)
    recipient_timezone = factory.LazyAttribute(lambda o: o.recipient_employee.timezone)
    reason = "7 days before the evidence deadline; 0 of 1 requirements met"
    context = factory.LazyFunction(lambda: {"unmet": [{"label": "One customer story", "have": 0, "need": 1}]})
    due_at = factory.LazyFunction(timezone.now)


class ReminderPreferenceFactory(factory.django.DjangoModelFactory):
    """An employee who turned the weekly digest off."""

    class Meta:
        model = ReminderPreference

    employee = factory.SubFactory(EmployeeFactory)
    weekly_digest = False
    note = "Asked by e-mail."
