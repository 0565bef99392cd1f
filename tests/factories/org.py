"""Factories for the org app."""

import factory

from apps.org.constants import JobFunction, JobLevel
from apps.org.models import Employee, JourneyStage, OrgUnit, Touchpoint


class OrgUnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrgUnit

    name = factory.Sequence(lambda n: f"Unit {n}")
    code = factory.Sequence(lambda n: f"unit-{n}")
    customer_layer = 0


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "auth.User"
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password("correct-horse-battery")


class EmployeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Employee

    employee_number = factory.Sequence(lambda n: f"E{n:05d}")
    full_name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"person{n}@example.com")
    org_unit = factory.SubFactory(OrgUnitFactory)
    job_level = JobLevel.PROFESSIONAL
    job_function = JobFunction.SUPPORT
    timezone = "Europe/Paris"


class JourneyStageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JourneyStage

    name = factory.Sequence(lambda n: f"Stage {n}")
    code = factory.Sequence(lambda n: f"stage-{n}")


class TouchpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Touchpoint

    name = factory.Sequence(lambda n: f"Touchpoint {n}")
    code = factory.Sequence(lambda n: f"tp-{n}")
    stage = factory.SubFactory(JourneyStageFactory)
