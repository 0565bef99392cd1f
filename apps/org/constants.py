"""Choices for the org model."""

from django.db import models

MAX_CUSTOMER_LAYER = 9


class JobLevel(models.TextChoices):
    """Career levels; every level is subject to the criteria, from entry to executive."""

    ENTRY = "entry", "Entry"
    PROFESSIONAL = "professional", "Professional"
    SENIOR = "senior", "Senior"
    LEAD = "lead", "Lead"
    MANAGER = "manager", "Manager"
    DIRECTOR = "director", "Director"
    EXECUTIVE = "executive", "Executive"


class JobFunction(models.TextChoices):
    """What a person does; customer-facing or not, the criteria apply."""

    SUPPORT = "support", "Customer support"
    SALES = "sales", "Sales"
    SUCCESS = "success", "Customer success"
    ENGINEERING = "engineering", "Engineering"
    PRODUCT = "product", "Product"
    OPERATIONS = "operations", "Operations"
    FINANCE = "finance", "Finance"
    HR = "hr", "Human resources"
    LEGAL = "legal", "Legal"
    IT = "it", "IT"
    MARKETING = "marketing", "Marketing"
    FACILITIES = "facilities", "Facilities"
