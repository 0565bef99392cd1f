"""Helpers shared by the evidence API tests: a token-authenticated client and a valid new-draft body."""

import datetime as dt

from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


def token_client(user) -> APIClient:
    """An API client that sends `user`'s token, as the load test's clients do."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def new_draft_body(**overrides):
    """The body of a valid new draft for POST /api/evidence/, with `overrides` applied."""
    body = {
        "category": "customer_story",
        "title": "Shorter hold times for accessible-room bookings",
        "customer_quote": "I waited forty minutes to book a room I can use.",
        "source_type": "support_ticket",
        "source_reference": "TCK-4242",
        "interpretation": "Guests with disabilities waited longest of all.",
        "response": "Added a priority line for accessibility requests.",
        "customer_type": "external",
        "impact_date": (timezone.localdate() - dt.timedelta(days=10)).isoformat(),
    }
    body.update(overrides)
    return body
