"""Schemathesis against our own OpenAPI schema (/api/schema/), through the WSGI app, as an employee and as HR.

Every operation gets a bounded, derandomized set of generated requests (valid and invalid bodies, parameters and
ids); each answer must not be a 5xx and must match the schema's response for its status. Runs in CI with the suite.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

MAX_EXAMPLES = 15
ROLES = ("employee", "hr")
CHECKS = [not_a_server_error, response_schema_conformance]
FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # report the first failure as found; no shrinking in CI
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The WSGI handler closes "old" connections around each request, which on PostgreSQL closes the test's own
    (it is in a transaction, not in autocommit). Django's test client switches this off the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def load_schema():  # type: ignore[no-untyped-def]
    """The schema as the app serves it, called in-process (no server; the test database)."""
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


def fuzz(operation, headers_by_role: dict[str, dict[str, str]]) -> str | None:  # type: ignore[no-untyped-def]
    """Run the operation's examples for every role; the first failure, described, or None."""

    @FUZZ_SETTINGS
    @given(case=operation.as_strategy())
    def run(case):  # type: ignore[no-untyped-def]
        for headers in headers_by_role.values():
            response = case.call(headers=headers)
            case.validate_response(response, checks=CHECKS)

    try:
        run()
    except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collect every operation's failure, report all
        return f"{operation.label}: {type(exc).__name__}: {str(exc)[:2000]}"
    return None


def test_every_operation_answers_without_5xx_and_as_documented(cast):
    schema = load_schema()
    headers_by_role = {role: {"Authorization": f"Token {cast.token(role)}"} for role in ROLES}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30  # evidence, review queue, attachments, cases, cycles, exceptions, reports

    failures = [failure for operation in operations if (failure := fuzz(operation, headers_by_role))]

    assert not failures, "\n\n".join(failures)
