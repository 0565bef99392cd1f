"""A small organisation for insights: units, a journey stage with two touchpoints, a source system's account, HR."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from apps.common.roles import Role, ensure_role_groups
from tests.factories.org import JourneyStageFactory, OrgUnitFactory, TouchpointFactory, UserFactory

LAST_WEEK = dt.date.today() - dt.timedelta(days=7)


@pytest.fixture
def org(db: Any) -> dict[str, Any]:
    """Billing owns the invoice touchpoint; support and onboarding are plain units; 'buy' holds invoice and checkout."""
    billing = OrgUnitFactory(name="Billing", code="billing")
    support = OrgUnitFactory(name="Support", code="support")
    onboarding = OrgUnitFactory(name="Onboarding", code="onboarding", customer_layer=1)
    buy = JourneyStageFactory(name="Buy", code="buy")
    use = JourneyStageFactory(name="Use", code="use")
    invoice = TouchpointFactory(name="Invoice", code="invoice", stage=buy, owner_unit=billing)
    checkout = TouchpointFactory(name="Checkout", code="checkout", stage=buy)
    chat = TouchpointFactory(name="Support chat", code="chat", stage=use)
    return {
        "billing": billing, "support": support, "onboarding": onboarding, "buy": buy, "use": use,
        "invoice": invoice, "checkout": checkout, "chat": chat,
    }  # fmt: skip


@pytest.fixture
def source_user(db: Any) -> Any:
    """The service account a survey tool sends insights with."""
    user = UserFactory(username="qualtrics-bot")
    user.user_permissions.add(Permission.objects.get(codename="add_insight", content_type__app_label="insights"))
    return user


@pytest.fixture
def source_client(source_user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(source_user)
    return client


@pytest.fixture
def hr_user(db: Any) -> Any:
    """HR, with the admin rights on insights it needs (view insights and routes, edit routing rules)."""
    user = UserFactory(username="hr", is_staff=True)
    user.groups.add(ensure_role_groups()[Role.HR])
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="insights"))
    return user


def row(source_id: str = "R-1", **fields: Any) -> dict[str, Any]:
    """One valid API row (a survey answer at the invoice), with `fields` replacing or adding to it."""
    return {"source_id": source_id, "text": "The invoice listed a room I never booked.", "score": 3,
            "channel": "survey", "said_on": str(LAST_WEEK), "touchpoint": "invoice", **fields}  # fmt: skip
