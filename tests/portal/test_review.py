"""The review queue and the review form: who reviews what, required comments, flags, and never one's own item."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.evidence.constants import EvidenceStatus
from apps.evidence.services import evidence_submit
from tests.factories.evidence import EvidenceFactory, category
from tests.factories.org import EmployeeFactory
from tests.portal.helpers import field_error, page_text, submitted

pytestmark = pytest.mark.django_db

QUEUE = reverse("portal:review-queue")
FLAG = {"code": "score_solicitation", "reason": 'Asks the customer for a score ("give us a 10").'}


def review(evidence):
    return reverse("portal:review", args=[evidence.pk])


def test_queue_lists_submitted_items_oldest_first_with_owner_unit_category_and_flags(cast, as_user):
    now = timezone.now()
    newer = submitted(cast.dana_employee, title="Newer", submitted_at=now)
    older = submitted(cast.dana_employee, title="Older", submitted_at=now - dt.timedelta(days=3), gaming_flags=[FLAG])
    EvidenceFactory(owner=cast.dana_employee, title="A draft")

    response = as_user(cast.reviewer).get(QUEUE)

    assert [item.pk for item in response.context["page"].object_list] == [older.pk, newer.pk]
    text = page_text(response)
    assert "Dana Desk" in text and "Front desk" in text and "Customer story" in text
    assert "Flag: Score solicitation" in text
    assert "A draft" not in text


def test_manager_queue_holds_only_their_reports_items(cast, as_user):
    mine = submitted(cast.dana_employee)
    stranger = submitted(EmployeeFactory())

    ids = {item.pk for item in as_user(cast.manager).get(QUEUE).context["page"].object_list}

    assert ids == {mine.pk}
    assert stranger.pk not in ids


def test_nobody_sees_their_own_items_in_the_queue(cast, as_user):
    reviewer_employee = cast.reviewer.employee
    own = submitted(reviewer_employee)
    other = submitted(cast.dana_employee)

    ids = {item.pk for item in as_user(cast.reviewer).get(QUEUE).context["page"].object_list}

    assert ids == {other.pk}
    assert own.pk not in ids


def test_queue_filters_by_category_and_flagged_only(cast, as_user):
    flagged = submitted(cast.dana_employee, gaming_flags=[FLAG])
    kpi = submitted(cast.dana_employee, category=category("operational_kpi"))
    client = as_user(cast.reviewer)

    only_flagged = client.get(QUEUE, {"flagged": "on"}).context["page"].object_list
    only_kpi = client.get(QUEUE, {"category": kpi.category_id}).context["page"].object_list

    assert [item.pk for item in only_flagged] == [flagged.pk]
    assert [item.pk for item in only_kpi] == [kpi.pk]


def test_empty_queue_says_when_items_will_appear(cast, as_user):
    assert "Nothing to review right now" in page_text(as_user(cast.manager).get(QUEUE))
    text = page_text(as_user(cast.dana).get(QUEUE))
    assert "You have nothing to review" in text
    assert "CX reviewers" in text


def test_queue_does_a_fixed_number_of_queries_for_30_items(cast, as_user, django_assert_max_num_queries):
    owners = [EmployeeFactory(manager=cast.dana_employee.manager) for _ in range(6)]
    for index in range(30):
        submitted(owners[index % 6], gaming_flags=[FLAG] if index % 3 == 0 else [])
    client = as_user(cast.manager)

    # session, user, roles, employee, has-reports (nav), unread notifications (bell), categories (filter), whether
    # this manager with no manager heads the whole organisation, count, page
    with django_assert_max_num_queries(10):
        response = client.get(QUEUE)

    assert len(response.context["page"].object_list) == 25


def test_cx_reviewer_verifies_an_item(cast, as_user):
    evidence = submitted(cast.dana_employee)
    client = as_user(cast.reviewer)
    assert "Your decision" in page_text(client.get(review(evidence)))

    response = client.post(review(evidence), {"decision": "verify", "comment": "Clear and sourced."})

    assert response["Location"] == QUEUE
    evidence.refresh_from_db()
    assert evidence.status == EvidenceStatus.VERIFIED
    assert evidence.reviewer == cast.reviewer
    assert evidence.review_comment == "Clear and sourced."


def test_manager_requests_changes_with_a_comment(cast, as_user):
    evidence = submitted(cast.dana_employee)

    as_user(cast.manager).post(review(evidence), {"decision": "request_changes", "comment": "Add the ticket number."})

    evidence.refresh_from_db()
    assert evidence.status == EvidenceStatus.CHANGES_REQUESTED
    assert "Add the ticket number." in page_text(as_user(cast.dana).get(reverse("portal:my-evidence")))


def test_hr_rejects_with_a_comment(cast, as_user):
    evidence = submitted(cast.dana_employee)

    as_user(cast.hr).post(review(evidence), {"decision": "reject", "comment": "This is not customer impact."})

    evidence.refresh_from_db()
    assert evidence.status == EvidenceStatus.REJECTED


@pytest.mark.parametrize("decision", ["request_changes", "reject"])
def test_request_changes_and_reject_need_a_comment_shown_next_to_the_comment_field(cast, as_user, decision):
    evidence = submitted(cast.dana_employee)

    response = as_user(cast.reviewer).post(review(evidence), {"decision": decision, "comment": " "})

    assert response.status_code == 400
    assert "Explain to the owner why you" in field_error(response, "comment")
    evidence.refresh_from_db()
    assert evidence.status == EvidenceStatus.SUBMITTED


def test_a_decision_is_required(cast, as_user):
    evidence = submitted(cast.dana_employee)

    response = as_user(cast.reviewer).post(review(evidence), {"comment": "Fine."})

    assert response.status_code == 400
    assert field_error(response, "decision") == "This field is required."


def test_flag_reasons_are_shown_and_verifying_needs_the_acknowledgement(cast, as_user):
    evidence = EvidenceFactory(owner=cast.dana_employee, customer_quote="Any reason you can't give me a ten?")
    evidence = evidence_submit(evidence=evidence, by=cast.dana)
    assert evidence.gaming_flags
    client = as_user(cast.reviewer)

    page = page_text(client.get(review(evidence)))
    assert "Look twice: this item is flagged" in page
    assert evidence.gaming_flags[0]["reason"] in page
    assert "I have read the flags" in page

    refused = client.post(review(evidence), {"decision": "verify"})

    assert refused.status_code == 400
    assert "Acknowledge the flags to verify." in field_error(refused, "acknowledge_flags")
    evidence.refresh_from_db()
    assert evidence.status == EvidenceStatus.SUBMITTED

    client.post(review(evidence), {"decision": "verify", "acknowledge_flags": "on"})

    evidence.refresh_from_db()
    assert evidence.status == EvidenceStatus.VERIFIED
    assert evidence.flags_acknowledged is True


def test_an_unflagged_item_has_no_acknowledgement_checkbox(cast, as_user):
    html = as_user(cast.reviewer).get(review(submitted(cast.dana_employee))).content.decode()

    assert "acknowledge_flags" not in html


def test_a_reviewer_never_gets_a_review_form_for_their_own_item(cast, as_user):
    own = submitted(cast.reviewer.employee)
    client = as_user(cast.reviewer)

    for response in (client.get(review(own)), client.post(review(own), {"decision": "verify"})):
        assert response.status_code == 403
        assert "You cannot review your own evidence." in page_text(response)
        assert "Your decision" not in page_text(response)
    own.refresh_from_db()
    assert own.status == EvidenceStatus.SUBMITTED


def test_a_colleague_who_may_not_see_the_item_gets_404(cast, as_user):
    evidence = submitted(cast.dana_employee)

    assert as_user(cast.colleague).get(review(evidence)).status_code == 404
    assert as_user(cast.colleague).post(review(evidence), {"decision": "verify"}).status_code == 404


def test_an_item_already_decided_sends_the_reviewer_to_its_page(cast, as_user):
    evidence = EvidenceFactory(owner=cast.dana_employee, status=EvidenceStatus.VERIFIED)

    response = as_user(cast.reviewer).post(review(evidence), {"decision": "reject", "comment": "Too late now."})

    assert response["Location"] == reverse("portal:evidence-detail", args=[evidence.pk])
    evidence.refresh_from_db()
    assert evidence.status == EvidenceStatus.VERIFIED
