"""Browser test: HR opens the retention dry run, sees a rejected candidate's case due, places a legal hold on the case,
and the dry run then lists it as kept by that hold. (Why Chromium is Debian's and why DJANGO_ALLOW_ASYNC_UNSAFE is set:
see test_evidence_flow.py.)"""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.apps import apps as django_apps
from django.db import connections
from django.utils import timezone

from apps.cases.constants import CaseStatus
from apps.common.roles import Role, ensure_role_groups, grant_hr_permissions
from apps.privacy.models import LegalHold
from tests.e2e.test_evidence_flow import BROWSER_TEST_MARKS, CHROMIUM, CHROMIUM_ARGS, sign_in, sync_playwright
from tests.factories.cases import CandidateCaseFactory
from tests.factories.org import EmployeeFactory, UserFactory

try:
    from playwright.sync_api import Page, expect
except ImportError:  # a dev machine without the dev requirements
    Page = expect = None

pytestmark = BROWSER_TEST_MARKS


@pytest.fixture
def old_case(transactional_db):
    """HR with a login, the default rules (flushed by transactional tests) and a candidate rejected 200 days ago."""
    importlib.import_module("apps.privacy.migrations.0003_default_retention_rules").create_rules(django_apps, None)
    grant_hr_permissions()
    hr = UserFactory(username="hr", is_staff=True)
    hr.groups.add(ensure_role_groups()[Role.HR])
    EmployeeFactory(full_name="Hilde Rossi", user=hr)
    return CandidateCaseFactory(
        candidate_name="Bram Okonkwo-Lind",
        status=CaseStatus.REJECTED,
        decided_at=timezone.now() - dt.timedelta(days=200),
    )


@pytest.fixture
def page(live_server, old_case, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(base_url=live_server.url)
        context.set_default_timeout(15_000)
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()
            connections.close_all()


def test_hr_places_a_hold_and_the_dry_run_moves_the_case_to_kept_by_legal_hold(page: Page, old_case):
    label = f"Case #{old_case.pk} (hiring, rejected"
    sign_in(page, "hr")
    page.goto("/admin/privacy/retentionrule/")
    page.get_by_role("link", name="Dry run").click()
    expect(page.locator("#due-now")).to_contain_text(label)
    expect(page.locator("#held")).to_contain_text("No due item is under a legal hold.")

    page.goto("/admin/privacy/legalhold/add/")
    page.locator("#id_case").fill(str(old_case.pk))
    page.get_by_label("Reason").fill("Tribunal claim ET-2026-0412")
    page.get_by_role("button", name="Save", exact=True).click()
    hold = LegalHold.objects.get()
    expect(page.locator(".messagelist")).to_contain_text(f"Placed legal hold #{hold.pk}")

    page.goto("/admin/privacy/retentionrule/dry-run/")
    expect(page.locator("#held")).to_contain_text(label)
    expect(page.locator("#held")).to_contain_text(f"kept by legal hold #{hold.pk}")
    expect(page.locator("#due-now")).not_to_contain_text(label)
