"""Who gets what: every role against every page, API endpoint and admin page, in one table.

The test walks the project's URL map (includes and admin included) and fails on a pattern the table does not list,
so a new endpoint cannot ship without its row. Each request runs inside a savepoint that is rolled back, so a
successful write by one role does not change what the next role sees.

Roles: anonymous, an employee (Dana, the owner of the items and the subject of the case), her manager, a CX
reviewer, HR (the group, not an admin login, as in the demo), Leadership, and a superuser (the HR admin).
Statuses: 200/201/204 done, 302 sent to a sign-in page (or redirected after a form), 400 refused input (the
permission check passed), 401 API without credentials, 403 refused, 404 hidden (not yours to see), 405 wrong method,
409 the state does not allow it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.db import transaction
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.authtoken.models import Token, TokenProxy

from apps.cases.models import PolicyException
from apps.evidence.models import Attachment
from apps.reports.models import ExportJob
from tests.factories.cases import ApprovalRouteFactory, DelegationFactory, PolicyExceptionFactory
from tests.factories.evidence import AttachmentFactory
from tests.factories.insights import InsightRouteFactory, RoutingRuleFactory
from tests.factories.org import JourneyStageFactory, TouchpointFactory, UserFactory
from tests.factories.privacy import LegalHoldFactory
from tests.factories.reminders import ReminderFactory, ReminderPreferenceFactory
from tests.factories.reports import ExportJobFactory

from .conftest import ROLES

# anonymous, employee, manager, cx_reviewer, hr, leadership, superuser
ALL = {role: 0 for role in ROLES}


def row(method: str, path: str, anonymous: int, employee: int, manager: int, cx: int, hr: int, lead: int, su: int,
        body: dict | None = None) -> tuple:  # fmt: skip
    return method, path, body, dict(zip(ROLES, (anonymous, employee, manager, cx, hr, lead, su), strict=True))


# THE TABLE. Paths use {draft} (Dana's draft), {submitted} (Dana's submitted item), {case} (Dana's open case),
# {cycle}, {exception} (an exception request on the case), {attachment} (a file on the draft), {export} (an export
# job of the superuser's), {model} (every registered admin model, one row per admin URL family).
MATRIX: dict[str, tuple] = {
    # ------------------------------------------------------------------ health, schema, docs
    "healthz": row("GET", "/healthz", 200, 200, 200, 200, 200, 200, 200),
    "api-schema": row("GET", "/api/schema/", 200, 200, 200, 200, 200, 200, 200),
    "api-docs": row("GET", "/api/docs/", 302, 200, 200, 200, 200, 200, 200),
    # ------------------------------------------------------------------ portal pages
    "portal:home": row("GET", "/", 302, 302, 302, 302, 302, 302, 302),
    "portal:login": row("GET", "/accounts/login/", 200, 302, 302, 302, 302, 302, 302),
    "portal:logout": row("POST", "/accounts/logout/", 302, 302, 302, 302, 302, 302, 302),
    "portal:my-evidence": row("GET", "/me/evidence/", 302, 200, 200, 200, 200, 200, 200),
    "portal:evidence-new": row("GET", "/me/evidence/new/", 302, 200, 200, 200, 200, 200, 200),
    # "My evidence" actions: the owner acts; other employees get 404; logins without an employee record (HR,
    # Leadership and the HR admin here) get the page that explains how HR links a login to an employee (200).
    "portal:evidence-edit": row("GET", "/me/evidence/{draft}/edit/", 302, 200, 404, 404, 200, 200, 200),
    "portal:evidence-submit": row("POST", "/me/evidence/{draft}/submit/", 302, 302, 404, 404, 200, 200, 200),
    "portal:evidence-delete": row("POST", "/me/evidence/{draft}/delete/", 302, 302, 404, 404, 200, 200, 200),
    "portal:evidence-correct": row("POST", "/me/evidence/{submitted}/correct/", 302, 302, 404, 404, 200, 200, 200),
    "portal:attachment-remove": row(
        "POST", "/me/evidence/{draft}/attachments/{attachment}/remove/", 302, 302, 404, 404, 200, 200, 200
    ),
    "portal:evidence-detail": row("GET", "/evidence/{submitted}/", 302, 200, 200, 200, 200, 404, 200),
    "portal:attachment-download": row("GET", "/attachments/{attachment}/download/", 302, 200, 404, 404, 200, 404, 200),
    "portal:review-queue": row("GET", "/review/", 302, 200, 200, 200, 200, 200, 200),
    "portal:review": row("GET", "/review/{submitted}/", 302, 403, 200, 200, 200, 404, 200),
    "portal:my-cases": row("GET", "/me/cases/", 302, 200, 200, 200, 200, 200, 200),
    "portal:case-detail": row("GET", "/cases/{case}/", 302, 200, 200, 404, 200, 200, 200),
    "portal:case-decide": row(
        # HR's step: the gate refuses the approval (policy not met) with its reason: 400, after the permission check.
        "POST",
        "/cases/{case}/decide/",
        302,
        403,
        403,
        404,
        400,
        403,
        400,
        body={"decision": "approve"},
    ),
    "portal:case-exception-request": row("POST", "/cases/{case}/exception/", 302, 403, 400, 404, 400, 403, 400),
    "portal:case-attest": row("POST", "/cases/{case}/attest/", 302, 403, 403, 404, 403, 403, 403),
    "portal:case-attestation-withdraw": row(
        "POST", "/cases/{case}/attestations/999999/withdraw/", 302, 409, 409, 404, 409, 409, 409
    ),
    "portal:notifications": row("GET", "/me/notifications/", 302, 200, 200, 200, 200, 200, 200),
    "favicon": row("GET", "/favicon.ico", 301, 301, 301, 301, 301, 301, 301),
    # ------------------------------------------------------------------ evidence API
    "evidence_api:evidence-list": row("GET", "/api/evidence/", 401, 200, 200, 200, 200, 200, 200),
    "evidence_api:evidence-detail": row("GET", "/api/evidence/{draft}/", 401, 200, 404, 404, 200, 404, 200),
    "evidence_api:evidence-submit": row("POST", "/api/evidence/{draft}/submit/", 401, 200, 404, 404, 403, 404, 403),
    "evidence_api:evidence-verify": row("POST", "/api/evidence/{submitted}/verify/", 401, 403, 200, 200, 200, 404, 200),
    "evidence_api:evidence-request-changes": row(
        "POST", "/api/evidence/{submitted}/request-changes/", 401, 403, 400, 400, 400, 404, 400
    ),
    "evidence_api:evidence-reject": row("POST", "/api/evidence/{submitted}/reject/", 401, 403, 400, 400, 400, 404, 400),
    "evidence_api:evidence-correct": row(
        "POST", "/api/evidence/{submitted}/correct/", 401, 409, 403, 403, 403, 404, 403
    ),
    "evidence_api:evidence-attachments": row(
        "POST",
        "/api/evidence/{draft}/attachments/",
        401,
        415,
        404,
        404,
        403,
        404,
        403,  # 415: JSON, not multipart
    ),
    "evidence_api:evidence-attachment-detail": row(
        "DELETE", "/api/evidence/{draft}/attachments/{attachment}/", 401, 204, 404, 404, 403, 404, 403
    ),
    "evidence_api:review-queue-list": row("GET", "/api/review-queue/", 401, 200, 200, 200, 200, 200, 200),
    "evidence_api:attachment-download": row(
        "GET", "/api/attachments/{attachment}/download/", 401, 200, 404, 404, 200, 404, 200
    ),
    # ------------------------------------------------------------------ cases API
    "cases_api:case-list": row("GET", "/api/cases/", 401, 200, 200, 200, 200, 200, 200),
    "cases_api:case-detail": row("GET", "/api/cases/{case}/", 401, 200, 200, 404, 200, 200, 200),
    "cases_api:case-attest": row(
        "POST", "/api/cases/{case}/attest/", 401, 403, 200, 404, 403, 403, 403, body={"role": "manager"}
    ),
    "cases_api:case-decide": row(
        "POST", "/api/cases/{case}/decide/", 401, 403, 403, 404, 400, 403, 400, body={"decision": "approve"}
    ),
    "cases_api:case-request-exception": row("POST", "/api/cases/{case}/exceptions/", 401, 400, 400, 404, 400, 400, 400),
    "cases_api:case-withdraw": row("POST", "/api/cases/{case}/withdraw/", 401, 400, 400, 404, 400, 400, 400),
    # A withdrawn attestation is gone: an id on no case answers "already withdrawn" (409), as the portal does.
    "cases_api:case-attestation-withdraw": row(
        "POST",
        "/api/cases/{case}/attestations/999999/withdraw/",
        401,
        409,
        409,
        404,
        409,
        409,
        409,
        body={"note": "Attested on the wrong case."},
    ),
    "cases_api:case-timeline": row("GET", "/api/cases/{case}/timeline/", 401, 200, 200, 404, 200, 200, 200),
    "cases_api:cycle-list": row("GET", "/api/cycles/", 401, 200, 200, 200, 200, 200, 200),
    "cases_api:cycle-detail": row("GET", "/api/cycles/{cycle}/", 401, 200, 200, 200, 200, 200, 200),
    # Only HR opens cases; HR's empty body is refused with the missing subject (400, after the permission check).
    "cases_api:cycle-open-case": row("POST", "/api/cycles/{cycle}/cases/", 401, 403, 403, 403, 400, 403, 400),
    "cases_api:exception-list": row("GET", "/api/exceptions/", 401, 200, 200, 200, 200, 200, 200),
    "cases_api:exception-detail": row("GET", "/api/exceptions/{exception}/", 401, 200, 200, 404, 200, 200, 200),
    "cases_api:exception-decide": row(
        "POST", "/api/exceptions/{exception}/decide/", 401, 403, 403, 404, 200, 403, 200, body={"grant": False}
    ),
    # ------------------------------------------------------------------ notifications API (everyone's own)
    "reminders_api:notification-list": row("GET", "/api/notifications/", 401, 200, 200, 200, 200, 200, 200),
    "reminders_api:notification-read": row(
        "POST", "/api/notifications/read/", 401, 200, 200, 200, 200, 200, 200, body={"all": True}
    ),
    # ------------------------------------------------------------------ reports
    "reports_api:compliance": row("GET", "/api/reports/compliance/", 401, 403, 403, 403, 200, 200, 200),
    "reports_api:evidence-mix": row("GET", "/api/reports/evidence-mix/", 401, 403, 403, 403, 200, 200, 200),
    "reports_api:review-health": row("GET", "/api/reports/review-health/", 401, 403, 403, 403, 200, 200, 200),
    "reports_api:boundary": row("GET", "/api/reports/boundary/", 401, 403, 403, 403, 200, 200, 200),
    "reports_api:inventory": row("GET", "/api/reports/inventory/", 401, 403, 403, 403, 200, 200, 200),
    "reports_api:unmet-requirements": row("GET", "/api/reports/unmet-requirements/", 401, 403, 403, 403, 200, 200, 200),
    "reports_api:exports": row("GET", "/api/reports/exports/", 401, 403, 403, 403, 200, 200, 200),
    # Export jobs: the requester's own (the superuser's here); HR administers everyone's. Not finished: 404.
    "reports_api:export-detail": row("GET", "/api/reports/exports/{export}/", 401, 403, 403, 403, 200, 404, 200),
    "reports_api:export-download": row(
        "GET", "/api/reports/exports/{export}/download/", 401, 403, 403, 403, 404, 404, 404
    ),
    # Privacy requests: holders of privacy.erase_person / export_person only (this cast's HR group was not
    # granted them); an empty erasure request is refused input (400), nothing erased.
    "privacy_api:employee-erase": row(
        "POST", "/api/privacy/employees/{employee}/erase/", 401, 403, 403, 403, 403, 403, 400
    ),
    "privacy_api:employee-export": row(
        "GET", "/api/privacy/employees/{employee}/export/", 401, 403, 403, 403, 403, 403, 200
    ),
    "reports_api:insights": row("GET", "/api/reports/insights/", 401, 403, 403, 403, 200, 200, 200),
    # ------------------------------------------------------------------ customer insights
    # Ingest: holders of insights.add_insight (a source system's service user; the HR admin here). An empty batch is
    # refused input (400), nothing written. Reading every insight: HR and Leadership.
    "insights_api:insight-ingest": row("POST", "/api/insights/ingest/", 401, 403, 403, 403, 403, 403, 400),
    "insights_api:insight-list": row("GET", "/api/insights/", 401, 403, 403, 403, 200, 200, 200),
    "insights_api:insight-detail": row("GET", "/api/insights/{insight}/", 401, 403, 403, 403, 200, 200, 200),
    # A unit's inbox ({route}: an insight routed to Dana's unit): its members, managers above them and HR read it;
    # others get 404. Taking, responding and raising need an employee record (HR, Leadership and the HR admin have
    # none in this cast: 403).
    "portal:inbox": row("GET", "/me/inbox/", 302, 200, 200, 200, 200, 200, 200),
    "portal:inbox-route": row("GET", "/me/inbox/{route}/", 302, 200, 200, 404, 200, 404, 200),
    "portal:inbox-take": row("POST", "/me/inbox/{route}/take/", 302, 302, 302, 404, 403, 404, 403),
    "portal:inbox-release": row("POST", "/me/inbox/{route}/release/", 302, 302, 302, 404, 302, 404, 302),
    "portal:inbox-respond": row("POST", "/me/inbox/{route}/respond/", 302, 302, 302, 404, 403, 404, 403),
    "portal:inbox-no-action": row("GET", "/me/inbox/{route}/no-action/", 302, 200, 200, 404, 200, 404, 200),
    "portal:inbox-reopen": row("POST", "/me/inbox/{route}/reopen/", 302, 403, 302, 404, 302, 404, 302),
    "portal:insight-raise": row("GET", "/me/insights/raise/", 302, 200, 200, 200, 200, 200, 200),
    "insights_inbox_api:inbox": row("GET", "/api/insights/inbox/", 401, 200, 200, 200, 200, 200, 200),
    "insights_inbox_api:route-detail": row("GET", "/api/insights/routes/{route}/", 401, 200, 200, 404, 200, 404, 200),
    "insights_inbox_api:route-take": row(
        "POST", "/api/insights/routes/{route}/take/", 401, 200, 200, 404, 403, 404, 403
    ),
    "insights_inbox_api:route-release": row(
        "POST", "/api/insights/routes/{route}/release/", 401, 409, 409, 404, 409, 404, 409
    ),
    "insights_inbox_api:route-no-action": row(
        "POST",
        "/api/insights/routes/{route}/no-action/",
        401,
        200,
        200,
        404,
        403,
        404,
        403,
        body={"reason": "The vendor owns it, passed on."},
    ),
    "insights_inbox_api:route-reopen": row(
        "POST", "/api/insights/routes/{route}/reopen/", 401, 403, 409, 404, 409, 404, 409
    ),
    "insights_inbox_api:route-respond": row(
        "POST", "/api/insights/routes/{route}/respond/", 401, 201, 201, 404, 403, 404, 403
    ),
    # Raising an insight about the CX unit: the CX reviewer belongs to it (one's own unit is refused input, 400).
    "insights_inbox_api:raise": row(
        "POST",
        "/api/insights/raise/",
        401,
        201,
        201,
        400,
        403,
        403,
        403,
        body={"to_unit": "cx", "text": "Your hand-offs lack the contract number."},
    ),
    "reports:dashboard": row("GET", "/reports/", 302, 403, 403, 403, 200, 200, 200),
    "reports:export": row("POST", "/reports/export/compliance.csv", 302, 403, 403, 403, 200, 200, 200),
    "reports:job-status": row("GET", "/reports/jobs/{export}/", 302, 403, 403, 403, 200, 404, 200),
    "reports:job-download": row("GET", "/reports/jobs/{export}/download/", 302, 403, 403, 403, 404, 404, 404),
    "reports:table": row("GET", "/reports/units/", 302, 403, 403, 403, 200, 200, 200),
    # ------------------------------------------------------------------ admin (nobody but the HR admin gets in)
    "admin:index": row("GET", "/admin/", 302, 302, 302, 302, 302, 302, 200),
    "admin:login": row("GET", "/admin/login/", 200, 200, 200, 200, 200, 200, 302),
    "admin:logout": row("POST", "/admin/logout/", 302, 302, 302, 302, 302, 302, 302),
    "admin:password_change": row("GET", "/admin/password_change/", 302, 302, 302, 302, 302, 302, 200),
    "admin:password_change_done": row("GET", "/admin/password_change/done/", 302, 302, 302, 302, 302, 302, 200),
    "admin:autocomplete": row("GET", "/admin/autocomplete/", 302, 302, 302, 302, 302, 302, 403),
    "admin:jsi18n": row("GET", "/admin/jsi18n/", 302, 302, 302, 302, 302, 302, 200),
    "admin:view_on_site": row("GET", "/admin/r/1/1/", 302, 302, 302, 302, 302, 302, 404),
    "admin:app_list": row("GET", "/admin/{app_label}/", 302, 302, 302, 302, 302, 302, 200),
    "admin:audit_auditevent_export": row("GET", "/admin/audit/auditevent/export/", 302, 302, 302, 302, 302, 302, 200),
    # No checkpoint written yet in this world: the superuser is sent back to the list with a message.
    "admin:audit_auditevent_checkpoint": row(
        "GET", "/admin/audit/auditevent/checkpoint/", 302, 302, 302, 302, 302, 302, 302
    ),
    "admin:org_orgunit_import": row("GET", "/admin/org/orgunit/import/", 302, 302, 302, 302, 302, 302, 200),
    "admin:insights_insight_import": row("GET", "/admin/insights/insight/import/", 302, 302, 302, 302, 302, 302, 200),
    "admin:org_employee_import": row("GET", "/admin/org/employee/import/", 302, 302, 302, 302, 302, 302, 200),
    "admin:policies_policy_inventory": row(
        "GET", "/admin/policies/policy/inventory/", 302, 302, 302, 302, 302, 302, 200
    ),
    "admin:policies_policyversion_publish": row(
        "POST", "/admin/policies/policyversion/{version}/publish/", 302, 302, 302, 302, 302, 302, 302
    ),
    "admin:policies_policyversion_draft": row(
        "POST", "/admin/policies/policyversion/{version}/new-draft/", 302, 302, 302, 302, 302, 302, 302
    ),
    "admin:policies_policyversion_retire": row(
        "POST", "/admin/policies/policyversion/{version}/retire/", 302, 302, 302, 302, 302, 302, 302
    ),
    "admin:cases_cycle_nominations": row(
        "GET", "/admin/cases/cycle/{cycle}/nominations/", 302, 302, 302, 302, 302, 302, 200
    ),
    "admin:cases_case_preview": row("GET", "/admin/cases/case/preview/{version}/", 302, 302, 302, 302, 302, 302, 200),
    "admin:cases_case_preview_job": row(
        "GET", "/admin/cases/case/preview/job/999999/", 302, 302, 302, 302, 302, 302, 404
    ),
    "admin:policies_policyversion_publish_confirm": row(
        "GET", "/admin/policies/policyversion/{version}/publish/confirm/", 302, 302, 302, 302, 302, 302, 302
    ),
    "admin:cases_cycle_open_cases": row(
        "GET", "/admin/cases/cycle/{cycle}/open-cases/", 302, 302, 302, 302, 302, 302, 200
    ),
    "admin:cases_case_decide": row(
        "GET", "/admin/cases/case/{case}/decide/approve/", 302, 302, 302, 302, 302, 302, 200
    ),
    "admin:cases_case_exception_request": row(
        "GET", "/admin/cases/case/{case}/exception/", 302, 302, 302, 302, 302, 302, 200
    ),
    "admin:cases_case_attest": row("GET", "/admin/cases/case/{case}/attest/hr/", 302, 302, 302, 302, 302, 302, 200),
    # Privacy requests: Dana has an open case, so the erasure page shows the refusal (200) and changes nothing.
    "admin:org_employee_erase_personal_data": row(
        "GET", "/admin/org/employee/{employee}/erase-personal-data/", 302, 302, 302, 302, 302, 302, 200
    ),
    "admin:org_employee_export_personal_data": row(
        "GET", "/admin/org/employee/{employee}/export-personal-data/", 302, 302, 302, 302, 302, 302, 200
    ),
    "admin:auth_user_erase_personal_data": row(
        "GET", "/admin/auth/user/{user}/erase-personal-data/", 302, 302, 302, 302, 302, 302, 200
    ),
    "admin:auth_user_export_personal_data": row(
        "GET", "/admin/auth/user/{user}/export-personal-data/", 302, 302, 302, 302, 302, 302, 200
    ),
    # Retention and legal holds (HR's own admin pages): the dry run, the run's confirmation, a release of a hold
    # that does not exist (404), and erasing the candidate of Dana's case (no candidate: the page says why, 200).
    "admin:privacy_retentionrule_dry_run": row(
        "GET", "/admin/privacy/retentionrule/dry-run/", 302, 302, 302, 302, 302, 302, 200
    ),
    "admin:privacy_retentionrule_run": row(
        "GET", "/admin/privacy/retentionrule/run/", 302, 302, 302, 302, 302, 302, 200
    ),
    "admin:privacy_legalhold_release": row(
        "GET", "/admin/privacy/legalhold/999999/release/", 302, 302, 302, 302, 302, 302, 404
    ),
    "admin:privacy_erase_candidate": row(
        "GET", "/admin/privacy/retentionrule/erase-candidate/{case}/", 302, 302, 302, 302, 302, 302, 200
    ),
    "admin:cases_case_attestation_withdraw": row(
        "GET", "/admin/cases/case/{case}/attestations/999999/withdraw/", 302, 302, 302, 302, 302, 302, 404
    ),
    "admin:cases_policyexception_decide": row(
        "GET", "/admin/cases/policyexception/{exception}/decide/", 302, 302, 302, 302, 302, 302, 200
    ),
    "admin:auth_user_password_change": row(
        "GET", "/admin/auth/user/{user}/password/", 302, 302, 302, 302, 302, 302, 200
    ),
    "admin:catch-all": row("GET", "/admin/no/such/page/", 302, 302, 302, 302, 302, 302, 404),
    # Families, one request per registered model. ADMIN_DECLARED: 200 when the ModelAdmin allows it, else 403.
    "admin:{model}_changelist": row("GET", "/admin/{model}/", 302, 302, 302, 302, 302, 302, 200),
    "admin:{model}_add": row("GET", "/admin/{model}/add/", 302, 302, 302, 302, 302, 302, -1),
    "admin:{model}_change": row("GET", "/admin/{model}/{pk}/change/", 302, 302, 302, 302, 302, 302, 200),
    "admin:{model}_delete": row("GET", "/admin/{model}/{pk}/delete/", 302, 302, 302, 302, 302, 302, -1),
    "admin:{model}_history": row("GET", "/admin/{model}/{pk}/history/", 302, 302, 302, 302, 302, 302, 200),
    "admin:{model} object redirect": row("GET", "/admin/{model}/{pk}/", 302, 302, 302, 302, 302, 302, 302),
}
ADMIN_DECLARED = -1


# ---------------------------------------------------------------------------------------- the URL map


def walk(patterns: list, prefix: str = "", namespace: str | None = None) -> Iterator[tuple[str, str | None]]:
    """Every (route, name) of the URL map, includes flattened; names carry their namespace."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield prefix + str(pattern.pattern), name


def admin_models() -> dict[str, type]:
    """Registered admin models by 'app_label_model_name'."""
    return {f"{m._meta.app_label}_{m._meta.model_name}": m for m in admin.site._registry}


FAMILY = re.compile(r"^admin:(?P<model>\w+?)_(?P<suffix>changelist|add|change|delete|history)$")


def table_key(route: str, name: str | None) -> str:
    """The table row that covers a URL pattern."""
    models = admin_models()
    if name:
        match = FAMILY.match(name)
        if match and match["model"] in models:
            return f"admin:{{model}}_{match['suffix']}"
        return name
    if route.startswith("admin/") and route.endswith("<path:object_id>/"):
        return "admin:{model} object redirect"
    if route == "admin/(?P<url>.*)$":
        return "admin:catch-all"
    return f"unnamed:{route}"


def test_every_url_pattern_has_a_row_and_every_row_a_pattern():
    keys = {table_key(route, name) for route, name in walk(get_resolver().url_patterns)}

    missing = sorted(keys - MATRIX.keys())
    stale = sorted(MATRIX.keys() - keys)

    assert not missing, f"URL patterns without a row in the permissions matrix: {missing}"
    assert not stale, f"rows of the permissions matrix that match no URL pattern: {stale}"


# ---------------------------------------------------------------------------------------- the requests


@dataclass
class World:
    """The cast plus the objects the paths name."""

    cast: object
    values: dict[str, object]
    clients: dict[str, Client]


@pytest.fixture
def world(cast) -> World:
    attachment = AttachmentFactory(evidence=cast.draft)
    exception = PolicyExceptionFactory(case=cast.case, requested_by=cast.users["manager"])
    exception.waived_requirements.set(cast.case.pinned_versions.first().requirements.all())
    export = ExportJobFactory(requested_by=cast.users["superuser"])
    route = InsightRouteFactory(unit=cast.users["employee"].employee.org_unit)
    values = {
        "draft": cast.draft.pk,
        "submitted": cast.submitted.pk,
        "case": cast.case.pk,
        "cycle": cast.cycle.pk,
        "exception": exception.pk,
        "attachment": attachment.pk,
        "export": export.pk,
        "version": cast.case.pinned_versions.first().pk,
        "app_label": "evidence",
        "user": cast.users["employee"].pk,
        "employee": cast.users["employee"].employee.pk,
        "route": route.pk,
        "insight": route.insight_id,
    }
    clients = {role: cast.client(role) for role in ROLES}
    assert Attachment.objects.exists() and PolicyException.objects.exists() and ExportJob.objects.exists()
    return World(cast=cast, values=values, clients=clients)


def call(world: World, role: str, method: str, path: str, body: dict | None) -> int:
    """One request as `role`, rolled back afterwards so the next role finds the same data."""
    client = world.clients[role]
    savepoint = transaction.savepoint()
    try:
        if method == "GET":
            response = client.get(path)
        elif method == "DELETE":
            response = client.delete(path)
        elif path.startswith("/api/"):
            response = client.generic(method, path, json.dumps(body or {}), content_type="application/json")
        else:
            response = client.generic(
                method, path, urlencode(body or {}), content_type="application/x-www-form-urlencoded"
            )
    finally:
        transaction.savepoint_rollback(savepoint)
    return response.status_code


SINGLE_ROWS = [key for key in MATRIX if "{model}" not in key]


@pytest.mark.parametrize("key", SINGLE_ROWS)
def test_each_role_gets_the_expected_status(world, key):
    method, template, body, expected = MATRIX[key]
    path = template.format(**world.values)

    actual = {role: call(world, role, method, path, body) for role in ROLES}

    assert actual == expected, f"{method} {path}"


FAMILY_ROWS = [key for key in MATRIX if "{model}" in key]
ADMIN_MODEL_KEYS = sorted(admin_models())


def one_of(model: type) -> object:
    """An instance of an admin model, made if the cast has none (a new model needs a line here: the test says so)."""
    obj = model._default_manager.order_by("pk").first()
    if obj is not None:
        return obj
    makers = {
        "axes.accessattempt": lambda: AccessAttempt.objects.create(
            username="someone", ip_address="192.0.2.1", user_agent="test", failures_since_start=1
        ),
        "axes.accessfailurelog": lambda: AccessFailureLog.objects.create(
            username="someone", ip_address="192.0.2.1", user_agent="test"
        ),
        "axes.accesslog": lambda: AccessLog.objects.create(username="someone", ip_address="192.0.2.1", user_agent="t"),
        "authtoken.tokenproxy": lambda: TokenProxy.objects.get(pk=Token.objects.create(user=UserFactory()).pk),
        "org.journeystage": JourneyStageFactory,
        "org.touchpoint": TouchpointFactory,
        "cases.approvalroute": ApprovalRouteFactory,
        "cases.delegation": DelegationFactory,
        "reminders.reminder": ReminderFactory,
        "reminders.reminderpreference": ReminderPreferenceFactory,
        "privacy.legalhold": LegalHoldFactory,
        "insights.routingrule": RoutingRuleFactory,
    }
    maker = makers.get(model._meta.label_lower)
    assert maker is not None, f"no {model._meta.label} to open in the admin: add a maker to one_of()"
    return maker()


@pytest.mark.parametrize("family", FAMILY_ROWS)
@pytest.mark.parametrize("model_key", ADMIN_MODEL_KEYS)
def test_each_role_gets_the_expected_status_on_every_admin_model(world, family, model_key):
    model = admin_models()[model_key]
    method, template, body, expected = MATRIX[family]
    obj = one_of(model)
    path = template.format(model=f"{model._meta.app_label}/{model._meta.model_name}", pk=obj.pk)
    if ADMIN_DECLARED in expected.values():
        model_admin = admin.site._registry[model]
        request = RequestFactory().get(path)
        request.user = world.cast.users["superuser"]
        allowed = (
            model_admin.has_add_permission(request)
            if family.endswith("_add")
            else (model_admin.has_delete_permission(request, obj))
        )
        expected = {role: (200 if allowed else 403) if s == ADMIN_DECLARED else s for role, s in expected.items()}

    actual = {role: call(world, role, method, path, body) for role in ROLES}

    assert actual == expected, f"{method} {path}"
