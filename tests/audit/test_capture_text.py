"""A create's changes, written straight to canonical JSON text, are exactly the canonical JSON of its dict."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.audit.capture import created_changes, created_changes_text
from apps.audit.constants import MASK_CHANGED
from apps.audit.registry import tracked_models, tracked_spec
from apps.audit.serialization import CanonicalJSON, canonical_json_text
from apps.evidence.models import Evidence
from tests.audit.helpers import factory_for

TRACKED = tracked_models()
# Quotes, backslashes, control characters, non-ASCII and emoji: what JSON escapes and what it must not.
_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)


def _dict_form(model: type, instance: object) -> str:
    return canonical_json_text(created_changes(tracked_spec(model), instance))


@pytest.mark.django_db
@pytest.mark.parametrize("model", TRACKED, ids=lambda model: model._meta.label_lower)
def test_each_tracked_models_create_text_equals_the_canonical_json_of_its_changes(model):
    instance = factory_for(model).build()

    text = created_changes_text(tracked_spec(model), instance)

    assert isinstance(text, CanonicalJSON)
    assert text == _dict_form(model, instance)
    assert list(json.loads(text)) == sorted(json.loads(text))  # keys in canonical order


@settings(max_examples=150, deadline=None)
@given(
    title=_text,
    quote=_text,
    owner_id=st.none() | st.integers(min_value=1, max_value=2**62),
    baseline=st.none() | st.decimals(allow_nan=False, allow_infinity=False, places=3, max_value=10**9),
    impact_date=st.none() | st.dates(min_value=dt.date(1990, 1, 1)),
    submitted_at=st.none() | st.datetimes(timezones=st.just(dt.UTC)),
    flags=st.lists(_text, max_size=3),
    acknowledged=st.booleans(),
)
def test_tricky_values_give_the_same_text_both_ways(
    title, quote, owner_id, baseline, impact_date, submitted_at, flags, acknowledged
):
    item = Evidence(
        title=title,
        customer_quote=quote,
        owner_id=owner_id,
        baseline=baseline,
        impact_date=impact_date,
        submitted_at=submitted_at,
        gaming_flags=flags,
        flags_acknowledged=acknowledged,
    )

    assert created_changes_text(tracked_spec(Evidence), item) == _dict_form(Evidence, item)


@pytest.mark.parametrize(
    ("password", "shown"), [("pbkdf2_sha256$1$salt$hash", MASK_CHANGED), ("", MASK_CHANGED), (None, None)]
)
def test_a_masked_field_is_masked_in_the_text_as_in_the_dict(password, shown):
    user = User(username="dana", password=password)

    text = created_changes_text(tracked_spec(User), user)

    assert text == _dict_form(User, user)
    assert json.loads(text)["password"] == [None, shown]


def test_a_decimal_set_as_text_or_number_is_written_as_the_dict_form_writes_it():
    for value in (Decimal("38.50"), "38.5", 38.5, 7):
        item = Evidence(title="Baseline", baseline=value)
        assert created_changes_text(tracked_spec(Evidence), item) == _dict_form(Evidence, item)
