"""HR's admin of export jobs: the list with download links, run again, remove files now."""

import pytest
from django.urls import reverse

from apps.reports.constants import ExportStatus
from apps.reports.models import ExportJob
from apps.reports.services import export_job_run
from tests.factories.reports import ExportJobFactory

pytestmark = pytest.mark.django_db


def test_the_list_shows_each_job_with_its_file_in_a_fixed_number_of_queries(
    admin_client, company, django_assert_max_num_queries
):
    jobs = [ExportJobFactory(requested_by=company.users["leader"], report="compliance") for _ in range(5)]
    for job in jobs:
        export_job_run(job_id=job.pk)

    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse("admin:reports_exportjob_changelist"))

    page = response.content.decode()
    assert page.count(reverse("reports:job-download", args=[jobs[0].pk])) == 1
    assert page.count("ritual-criteria-compliance-") == 5


def test_jobs_cannot_be_added_or_edited_in_the_admin(admin_client, company):
    job = ExportJobFactory()

    assert admin_client.get(reverse("admin:reports_exportjob_add")).status_code == 403
    page = admin_client.get(reverse("admin:reports_exportjob_change", args=[job.pk])).content.decode()
    assert 'name="_save"' not in page


def test_run_again_queues_a_new_job_for_the_admin(admin_client, company, django_capture_on_commit_callbacks):
    job = ExportJobFactory(requested_by=company.users["leader"], report="boundary", status=ExportStatus.FAILED)

    with django_capture_on_commit_callbacks(execute=False):
        admin_client.post(
            reverse("admin:reports_exportjob_changelist"), {"action": "run_again", "_selected_action": [job.pk]}
        )

    new = ExportJob.objects.exclude(pk=job.pk).get()
    assert (new.report, new.status, new.requested_by.username) == ("boundary", ExportStatus.QUEUED, "admin")


def test_remove_files_now(admin_client, company):
    job = ExportJobFactory(requested_by=company.users["leader"], report="inventory")
    export_job_run(job_id=job.pk)

    admin_client.post(
        reverse("admin:reports_exportjob_changelist"), {"action": "remove_files_now", "_selected_action": [job.pk]}
    )

    job.refresh_from_db()
    assert job.status == ExportStatus.EXPIRED and not job.file
