"""A policy preview runs as a background job for large scopes: progress, the same flips as inline, filters, CSV."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from apps.cases.constants import PREVIEW_PROGRESS_CACHE_KEY, PreviewStatus
from apps.cases.models import CaseRequirementResult, PreviewJob
from apps.cases.preview import policy_preview, preview_job_run
from apps.cases.preview.compute import preview_chunk, preview_chunk_ids, preview_plan
from apps.cases.services import case_open
from apps.evidence.constants import EvidenceStatus
from apps.policies.models import Requirement
from apps.policies.services import policy_version_create, requirement_add
from tests.factories.cases import PreviewJobFactory
from tests.factories.evidence import EvidenceFactory, OperationalMetricEvidenceFactory
from tests.factories.org import EmployeeFactory, OrgUnitFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def flips_world(cycle, org, baseline):
    """Open cases whose compliance a draft 'one sourced customer quote' (instead of a story) would change.

    Ann meets both; Bo and Cy (another unit) have a story without a quote (would fall short); Di has a quoted
    operational metric but no story (would start to meet); Ed has nothing (short either way).
    """
    back = OrgUnitFactory(name="Back Office")
    ann, bo, di, ed = (EmployeeFactory(org_unit=org["unit"], full_name=n) for n in ("Ann", "Bo", "Di", "Ed"))
    cy = EmployeeFactory(org_unit=back, full_name="Cy")
    EvidenceFactory(owner=ann, status=EvidenceStatus.VERIFIED)
    EvidenceFactory(owner=bo, status=EvidenceStatus.VERIFIED, customer_quote="", source_reference="")
    EvidenceFactory(owner=cy, status=EvidenceStatus.VERIFIED, customer_quote="", source_reference="")
    OperationalMetricEvidenceFactory(owner=di, status=EvidenceStatus.VERIFIED)
    cases = {p.full_name: case_open(cycle=cycle, subject_employee=p) for p in (ann, bo, cy, di, ed)}
    draft = policy_version_create(policy=baseline.policy, effective_from=timezone.localdate())
    requirement_add(version=draft, kind="customer_voice", params={"count": 1}, label="One sourced quote")
    return {"draft": draft, "cases": cases, "back": back, "cycle": cycle}


def _flips(job):
    return {(f.case_id, f.would_be_compliant, tuple(f.newly_unmet), tuple(f.newly_met)) for f in job.flip_rows.all()}


def _inline(draft):
    rows = policy_preview(version=draft, today=timezone.localdate()).rows
    return {(r.case_id, r.would_be_compliant, r.newly_unmet, r.newly_met) for r in rows}


def test_job_finds_the_same_flips_as_the_inline_preview(flips_world):
    job = PreviewJobFactory(version=flips_world["draft"])

    job = preview_job_run(job_id=job.pk, chunk_size=2)

    cases = flips_world["cases"]
    assert job.status == PreviewStatus.DONE
    assert (job.examined, job.would_fail, job.would_pass) == (5, 2, 1)
    assert _flips(job) == _inline(flips_world["draft"])
    assert {case_id for case_id, *_ in _flips(job)} == {cases["Bo"].pk, cases["Cy"].pk, cases["Di"].pk}
    assert (cases["Di"].pk, True, (), ("One customer story",)) in _flips(job)


def test_cases_without_stored_evaluations_are_evaluated_live_with_the_same_result(flips_world):
    CaseRequirementResult.objects.all().delete()
    job = PreviewJobFactory(version=flips_world["draft"])

    job = preview_job_run(job_id=job.pk)

    assert (job.would_fail, job.would_pass) == (2, 1)
    assert _flips(job) == _inline(flips_world["draft"])


def test_progress_reaches_the_total_of_covered_open_cases(flips_world):
    job = PreviewJobFactory(version=flips_world["draft"])

    job = preview_job_run(job_id=job.pk, chunk_size=2)

    assert job.total == job.examined == 5
    assert job.started_at <= job.finished_at
    assert cache.get(PREVIEW_PROGRESS_CACHE_KEY.format(job_id=job.pk)) is None  # progress key cleaned up


def test_a_finished_job_is_not_run_again(flips_world):
    job = PreviewJobFactory(version=flips_world["draft"])
    preview_job_run(job_id=job.pk)

    assert preview_job_run(job_id=job.pk) is None
    assert preview_job_run(job_id=999999) is None


def test_a_job_whose_worker_died_long_ago_no_longer_blocks_a_new_preview(flips_world):
    recent = PreviewJobFactory(version=flips_world["draft"], status=PreviewStatus.RUNNING)
    abandoned = PreviewJobFactory(version=flips_world["draft"], status=PreviewStatus.RUNNING)
    PreviewJob.objects.filter(pk=abandoned.pk).audited_update(created_at=timezone.now() - dt.timedelta(hours=3))

    assert list(PreviewJob.objects.active()) == [recent]


def test_a_job_that_fails_records_its_error_and_keeps_no_partial_result(flips_world):
    Requirement.objects.filter(version=flips_world["draft"]).audited_update(kind="no_such_kind")
    job = PreviewJobFactory(version=flips_world["draft"])

    job = preview_job_run(job_id=job.pk, chunk_size=2)

    assert job.status == PreviewStatus.FAILED
    assert "no_such_kind" in job.error
    assert not job.flip_rows.exists()


def test_each_chunk_takes_the_same_bounded_number_of_queries(flips_world, cycle, django_assert_max_num_queries):
    for _ in range(12):
        case_open(cycle=cycle, subject_employee=EmployeeFactory())
    plan = preview_plan(version=flips_world["draft"])
    small, large = next(preview_chunk_ids(plan, chunk_size=2)), next(preview_chunk_ids(plan, chunk_size=17))

    with django_assert_max_num_queries(9):
        preview_chunk(plan, small, today=timezone.localdate())
    with django_assert_max_num_queries(9):
        preview_chunk(plan, large, today=timezone.localdate())


# The admin pages.


@pytest.fixture
def hr_client(client, org):
    org["hr_a"].is_staff = True
    org["hr_a"].save()
    from django.contrib.auth.models import Permission

    org["hr_a"].user_permissions.add(Permission.objects.get(codename="view_case"))
    client.force_login(org["hr_a"])
    return client


@override_settings(CASES_PREVIEW_INLINE_CASES=3)
def test_a_large_scope_asks_to_start_a_job_then_shows_its_progress(
    hr_client, flips_world, django_capture_on_commit_callbacks
):
    url = reverse("admin:cases_case_preview", args=[flips_world["draft"].pk])

    start = hr_client.get(url).content.decode()
    assert "covers <strong>5</strong> open cases" in start and "Start the preview" in start
    assert not PreviewJob.objects.exists()

    with django_capture_on_commit_callbacks() as callbacks:
        response = hr_client.post(url)
    job = PreviewJob.objects.get()
    assert response.url == reverse("admin:cases_case_preview_job", args=[job.pk])
    assert len(callbacks) == 1  # the task is queued once the job row is committed
    assert job.requested_by.username == "hr-a"

    PreviewJob.objects.filter(pk=job.pk).audited_update(status=PreviewStatus.RUNNING, total=5)
    cache.set(PREVIEW_PROGRESS_CACHE_KEY.format(job_id=job.pk), 2)
    page = hr_client.get(response.url).content.decode()
    assert 'value="40"' in page and "2 of 5 open cases" in page and 'http-equiv="refresh"' in page
    # Opening the preview again while it runs goes to the running job rather than starting another.
    assert hr_client.get(url).url == response.url


def test_the_result_page_lists_the_flips_filterable_by_direction_unit_and_cycle(hr_client, flips_world):
    job = preview_job_run(job_id=PreviewJobFactory(version=flips_world["draft"]).pk)
    url = reverse("admin:cases_case_preview_job", args=[job.pk])

    page = hr_client.get(url).content.decode()
    assert "<strong>3</strong> would change" in page and "2 would fall short, 1 would start" in page
    assert all(name in page for name in ("Bo", "Cy", "Di")) and ">Ann<" not in page

    failing = hr_client.get(url, {"direction": "fail"}).content.decode()
    assert ">Bo<" in failing and ">Cy<" in failing and ">Di<" not in failing
    back = hr_client.get(url, {"unit": flips_world["back"].pk}).content.decode()
    assert ">Cy<" in back and ">Bo<" not in back
    other_cycle = hr_client.get(url, {"cycle": 999999}).content.decode()
    assert "No case matches these filters." in other_cycle


def test_the_result_page_takes_a_fixed_number_of_queries(hr_client, flips_world, django_assert_max_num_queries):
    job = preview_job_run(job_id=PreviewJobFactory(version=flips_world["draft"]).pk)

    with django_assert_max_num_queries(14):
        hr_client.get(reverse("admin:cases_case_preview_job", args=[job.pk]))


def test_the_flips_download_as_csv_with_the_filters_and_the_export_is_audited(hr_client, flips_world):
    from apps.audit.models import AuditEvent

    job = preview_job_run(job_id=PreviewJobFactory(version=flips_world["draft"]).pk)
    url = reverse("admin:cases_case_preview_job", args=[job.pk])

    response = hr_client.get(url, {"direction": "fail", "format": "csv"})

    assert response["Content-Disposition"].startswith('attachment; filename="preview-')
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0] == "case_id,subject,unit,cycle,now,with_draft,because_of"
    assert sorted(line.split(",")[1] for line in lines[1:]) == ["Bo", "Cy"]
    assert all(",meets,short,One sourced quote" in line for line in lines[1:])
    assert AuditEvent.objects.filter(action="export_made", context__report="policy_preview").exists()


def test_a_failed_job_page_shows_the_error_and_offers_to_run_again(hr_client, flips_world):
    job = PreviewJobFactory(version=flips_world["draft"], status=PreviewStatus.FAILED, error="ValueError: boom")

    page = hr_client.get(reverse("admin:cases_case_preview_job", args=[job.pk])).content.decode()

    assert "The preview failed: ValueError: boom" in page
    assert "Run the preview again" in page


def test_small_scopes_still_preview_inline_with_filters_and_csv(hr_client, flips_world):
    url = reverse("admin:cases_case_preview", args=[flips_world["draft"].pk])

    page = hr_client.get(url, {"direction": "pass"}).content.decode()
    csv = b"".join(hr_client.get(url, {"format": "csv"}).streaming_content).decode()

    assert "<strong>3</strong> would change" in page and ">Di<" in page and ">Bo<" not in page
    assert not PreviewJob.objects.exists()
    assert len(csv.splitlines()) == 4


def test_only_hr_may_see_or_start_previews(client, flips_world):
    job = preview_job_run(job_id=PreviewJobFactory(version=flips_world["draft"]).pk)
    staff = UserFactory(username="not-hr", is_staff=True)
    client.force_login(staff)

    assert client.get(reverse("admin:cases_case_preview_job", args=[job.pk])).status_code == 403
    assert client.post(reverse("admin:cases_case_preview", args=[flips_world["draft"].pk])).status_code == 403
    client.logout()
    assert client.get(reverse("admin:cases_case_preview_job", args=[job.pk])).status_code == 302
    assert PreviewJob.objects.count() == 1
