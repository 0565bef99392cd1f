"""Schemathesis with every check against our OpenAPI schema, as an employee, a reviewer and HR (token auth).

The in-process counterpart of `schemathesis run --checks all`: the schema as /api/schema/ serves it, requests through
the WSGI app (no network, the test database), a bounded derandomized set of examples per operation and role. Every
answer must be no 5xx and match the schema (status code, content type, headers, body), and the API must refuse what
the schema says is invalid and ask for credentials where it says so. The schema's shared rules (the standard error
answers, the control-character pattern, int64 ids, closed request bodies) come from apps/common/schema.py. The whole
run takes well under a minute on a 2-core machine, so it runs with the suite (`make test`).
"""

from __future__ import annotations

import pytest
import schemathesis
from axes.utils import reset as reset_lockouts
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import positive_data_acceptance

MAX_EXAMPLES = 5
ROLES = ("employee", "cx_reviewer", "hr")
FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # report the first failure as found; no shrinking in CI
    suppress_health_check=list(HealthCheck),
)

# Operations whose valid input names rows of the database: a static schema cannot list them (a category code, a
# cycle, a ritual or a unit is data, not an enum), so a value the schema allows may name no row and the API answers
# a documented 400 that says which. Every other check still runs for them; only "schema-valid input is accepted"
# (positive_data_acceptance, ST202) is off.
DATABASE_DEPENDENT_INPUT = {
    "GET /api/evidence/": "category codes (evidence categories are rows); a cursor only from a next/previous link",
    "GET /api/notifications/": "a cursor is opaque: only one handed out by a next/previous link is valid",
    "GET /api/cases/": "a cursor only from a next/previous link",
    "GET /api/review-queue/": "a cursor only from a next/previous link",
    "GET /api/insights/": "touchpoint and unit codes; a cursor only from a next/previous link",
    "GET /api/insights/inbox/": "the unit (one whose inbox the caller reads); a cursor only from a next/previous link",
    "POST /api/insights/raise/": "the unit's code (a unit that exists, not the raiser's own)",
    "GET /api/reports/insights/": "cycle, ritual and unit filters",
    "POST /api/evidence/": "category code",
    "PUT /api/evidence/{id}/": "category code",
    "PATCH /api/evidence/{id}/": "category code",
    "POST /api/cycles/{id}/cases/": "the subject (employee or unit) the cycle's ritual type asks for",
    "GET /api/reports/boundary/": "cycle, ritual and unit filters",
    "GET /api/reports/compliance/": "cycle, ritual and unit filters",
    "GET /api/reports/evidence-mix/": "cycle, ritual and unit filters",
    "GET /api/reports/inventory/": "cycle, ritual and unit filters",
    "GET /api/reports/review-health/": "cycle, ritual and unit filters",
    "GET /api/reports/unmet-requirements/": "cycle, ritual and unit filters",
    "POST /api/reports/exports/": "cycle, ritual and unit filters",
}


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The WSGI handler closes "old" connections around each request, which on PostgreSQL closes the test's own
    (it is in a transaction, not in autocommit). Django's test client switches this off the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def fuzz(operation, role: str, headers: dict[str, str]) -> str | None:  # type: ignore[no-untyped-def]
    """Run the operation's examples as one role with every check that applies; the first failure."""
    excluded = [positive_data_acceptance] if operation.label in DATABASE_DEPENDENT_INPUT else None

    @FUZZ_SETTINGS
    @given(case=operation.as_strategy())
    def run(case):  # type: ignore[no-untyped-def]
        # The invalid-credentials check (ST401) sends wrong credentials for every example: after five, django-axes
        # locks the test client's address out and answers 429, which is the lockout working, not a wrong status
        # (tests/security/test_login_protection.py). Each example starts with no lockout, so ST401 sees 401/403.
        reset_lockouts()
        response = case.call(headers=headers)
        case.validate_response(response, headers=headers, excluded_checks=excluded)

    try:
        run()
    except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collect every operation's failure, report all
        return f"{operation.label} as {role}: {type(exc).__name__}: {str(exc)[:2000]}"
    return None


def test_every_operation_passes_every_check_as_employee_reviewer_and_hr(cast):
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30  # evidence, review queue, attachments, cases, cycles, exceptions, reports
    assert DATABASE_DEPENDENT_INPUT.keys() <= {operation.label for operation in operations}

    failures = [
        failure
        for role in ROLES
        for operation in operations
        if (failure := fuzz(operation, role, {"Authorization": f"Token {cast.token(role)}"}))
    ]

    assert not failures, f"{len(failures)} failing operation(s):\n\n" + "\n\n".join(failures)
