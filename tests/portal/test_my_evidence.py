"""The "My evidence" page: the employee's own current items, filters, feedback, pagination and query count."""

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.evidence.constants import EvidenceStatus
from tests.factories.evidence import AttachmentFactory, EvidenceFactory, category
from tests.portal.helpers import page_text

pytestmark = pytest.mark.django_db

URL = reverse("portal:my-evidence")


def test_lists_only_the_employees_own_items_in_every_status(cast, as_user):
    mine = [EvidenceFactory(owner=cast.dana_employee, status=status) for status in EvidenceStatus.values]
    EvidenceFactory(title="Colleague's item")

    response = as_user(cast.dana).get(URL)

    assert response.status_code == 200
    assert {item.pk for item in response.context["page"].object_list} == {item.pk for item in mine}
    text = page_text(response)
    for label in EvidenceStatus.labels:
        assert label in text
    assert "Colleague's item" not in text


def test_shows_the_reviewer_comment_and_gaming_flags_on_the_row(cast, as_user):
    EvidenceFactory(
        owner=cast.dana_employee,
        status=EvidenceStatus.CHANGES_REQUESTED,
        review_comment="Add the ticket number, please.",
        reviewer=cast.manager,
        gaming_flags=[{"code": "score_solicitation", "reason": "Asks the customer for a score."}],
    )

    text = page_text(as_user(cast.dana).get(URL))

    assert "Add the ticket number, please." in text
    assert "Maria Head" in text
    assert "Flag: Score solicitation" in text


def test_filters_by_status_and_category(cast, as_user):
    story = EvidenceFactory(owner=cast.dana_employee, status=EvidenceStatus.VERIFIED)
    EvidenceFactory(owner=cast.dana_employee, status=EvidenceStatus.DRAFT)
    kpi = EvidenceFactory(
        owner=cast.dana_employee, status=EvidenceStatus.VERIFIED, category=category("operational_kpi")
    )
    client = as_user(cast.dana)

    by_status = client.get(URL, {"status": "verified"}).context["page"].object_list
    by_both = client.get(URL, {"status": "verified", "category": kpi.category_id}).context["page"].object_list

    assert {item.pk for item in by_status} == {story.pk, kpi.pk}
    assert [item.pk for item in by_both] == [kpi.pk]


def test_a_nonsense_filter_value_is_ignored(cast, as_user):
    EvidenceFactory(owner=cast.dana_employee)

    response = as_user(cast.dana).get(URL, {"status": "bogus", "category": "x"})

    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 1


def test_empty_state_tells_a_new_employee_how_to_start(cast, as_user):
    text = page_text(as_user(cast.dana).get(URL))

    assert "You have no evidence yet" in text
    assert "Write your first evidence item" in text


def test_empty_filtered_state_offers_to_clear_the_filters(cast, as_user):
    EvidenceFactory(owner=cast.dana_employee)

    text = page_text(as_user(cast.dana).get(URL, {"status": "verified"}))

    assert "No items match these filters" in text
    assert "Clear the filters" in text


def test_shows_current_versions_and_links_to_the_older_one(cast, as_user):
    old = EvidenceFactory(owner=cast.dana_employee, status=EvidenceStatus.VERIFIED, is_current=False)
    new = EvidenceFactory(owner=cast.dana_employee, status=EvidenceStatus.VERIFIED, previous=old, version=2)

    response = as_user(cast.dana).get(URL)

    assert [item.pk for item in response.context["page"].object_list] == [new.pk]
    assert reverse("portal:evidence-detail", args=[old.pk]) in response.content.decode()
    assert "Version 2" in page_text(response)


def test_paginates_by_25_and_keeps_the_filters_in_page_links(cast, as_user):
    EvidenceFactory.create_batch(30, owner=cast.dana_employee, status=EvidenceStatus.VERIFIED)
    client = as_user(cast.dana)

    first = client.get(URL, {"status": "verified"})
    second = client.get(URL, {"status": "verified", "page": 2})

    assert len(first.context["page"].object_list) == 25
    assert len(second.context["page"].object_list) == 5
    assert "?status=verified&amp;page=2" in first.content.decode()


def test_page_does_a_fixed_number_of_queries_for_30_items(cast, as_user, django_assert_max_num_queries):
    for index in range(30):
        item = EvidenceFactory(
            owner=cast.dana_employee,
            status=EvidenceStatus.CHANGES_REQUESTED if index % 2 else EvidenceStatus.SUBMITTED,
            reviewer=cast.manager,
            review_comment="Please add the metric.",
            submitted_at=timezone.now(),
            gaming_flags=[{"code": "outcome_only", "reason": "Rests on a score."}],
        )
        AttachmentFactory(evidence=item)
    client = as_user(cast.dana)

    # session, user, roles, employee, has-reports, unread notifications (bell), categories (filter), count, page
    with django_assert_max_num_queries(9):
        response = client.get(URL)

    assert len(response.context["page"].object_list) == 25


def test_a_comment_whose_reviewer_login_was_deleted_still_shows(cast, as_user):
    # Evidence.reviewer is SET_NULL: the comment outlives the reviewer's login.
    item = EvidenceFactory(
        owner=cast.dana_employee,
        status=EvidenceStatus.CHANGES_REQUESTED,
        review_comment="Add the date.",
        reviewer=None,
        reviewed_at=timezone.now(),
    )
    client = as_user(cast.dana)

    listing = client.get(URL)
    page = client.get(reverse("portal:evidence-detail", args=[item.pk]))

    assert listing.status_code == 200 and "Add the date." in page_text(listing)
    assert page.status_code == 200 and "Add the date." in page_text(page)
    assert "by a former user" in page_text(page)
