"""Who sees and reviews what: the same rules for lists and single items."""

import pytest

from apps.evidence.constants import EvidenceStatus
from apps.evidence.permissions import can_edit, can_review, can_view, evidence_visible_to, review_queue_for
from apps.org.selectors import heads_whole_organisation
from tests.factories.evidence import EvidenceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def items(people):
    return {
        "draft": EvidenceFactory(owner=people["owner"]),
        "submitted": EvidenceFactory(owner=people["owner"], status=EvidenceStatus.SUBMITTED),
        "verified": EvidenceFactory(owner=people["owner"], status=EvidenceStatus.VERIFIED),
        "peer_submitted": EvidenceFactory(owner=people["peer"], status=EvidenceStatus.SUBMITTED),
    }


def visible(user):
    return set(evidence_visible_to(user).values_list("title", flat=True))


def titles(items, *keys):
    return {items[key].title for key in keys}


def test_owner_sees_all_their_items_and_nobody_elses(people, items):
    assert visible(people["owner"].user) == titles(items, "draft", "submitted", "verified")


def test_manager_chain_sees_reports_items_except_drafts(people, items):
    expected = titles(items, "submitted", "verified", "peer_submitted")
    assert visible(people["manager"].user) == expected
    assert visible(people["director"].user) == expected


def test_peer_sees_only_their_own(people, items):
    assert visible(people["peer"].user) == titles(items, "peer_submitted")


def test_cx_reviewer_sees_everything_but_drafts(people, items):
    assert visible(people["reviewer"].user) == titles(items, "submitted", "verified", "peer_submitted")


def test_hr_sees_everything(people, items):
    assert visible(people["hr"]) == titles(items, "draft", "submitted", "verified", "peer_submitted")


def test_someone_outside_sees_nothing(people, items):
    assert visible(people["stranger"]) == set()


@pytest.mark.parametrize("who", ["owner", "manager", "director", "peer", "reviewer", "stranger", "hr"])
@pytest.mark.parametrize("item", ["draft", "submitted", "verified", "peer_submitted"])
def test_single_item_rule_agrees_with_the_list_rule(people, items, who, item):
    user = people[who] if who in {"hr", "stranger"} else people[who].user
    in_list = evidence_visible_to(user).filter(pk=items[item].pk).exists()
    assert can_view(user, items[item]) is in_list


def test_review_queue_holds_submitted_reports_items_never_ones_own(people, items):
    assert set(review_queue_for(people["manager"].user)) == {items["submitted"], items["peer_submitted"]}
    assert set(review_queue_for(people["owner"].user)) == set()
    assert set(review_queue_for(people["reviewer"].user)) == {items["submitted"], items["peer_submitted"]}


def test_only_the_owner_edits_and_only_editable_items(people, items):
    assert can_edit(people["owner"].user, items["draft"])
    assert not can_edit(people["owner"].user, items["verified"])
    assert not can_edit(people["manager"].user, items["draft"])


def test_review_rights(people, items):
    assert can_review(people["manager"].user, items["submitted"])
    assert can_review(people["reviewer"].user, items["submitted"])
    assert not can_review(people["owner"].user, items["submitted"])
    assert not can_review(people["peer"].user, items["submitted"])
    assert not can_review(people["stranger"], items["submitted"])


def test_the_head_of_the_whole_organisation_sees_every_item_beyond_draft_and_reviews_every_submission(people, items):
    director, reviewer = people["director"], people["reviewer"]
    reviewer.manager = director  # now the director is the only person without a manager
    reviewer.save()
    theirs = EvidenceFactory(owner=reviewer, status=EvidenceStatus.SUBMITTED, title="The CX reviewer's submission")
    own_draft = EvidenceFactory(owner=director, title="The director's own draft")

    assert heads_whole_organisation(director)
    assert visible(director.user) == titles(items, "submitted", "verified", "peer_submitted") | {
        theirs.title,
        own_draft.title,
    }
    assert set(review_queue_for(director.user)) == {items["submitted"], items["peer_submitted"], theirs}


def test_with_a_second_person_at_the_top_the_head_sees_only_their_own_tree(people, items):
    outside = EvidenceFactory(owner=people["reviewer"], status=EvidenceStatus.SUBMITTED)

    assert not heads_whole_organisation(people["director"])  # the CX reviewer has no manager either
    assert outside.title not in visible(people["director"].user)
    assert outside not in set(review_queue_for(people["director"].user))
