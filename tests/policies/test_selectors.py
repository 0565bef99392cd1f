"""The effective policy of a subject: the baseline in force plus the additions of its unit and ancestors."""

import datetime as dt

import pytest

from apps.policies.engine import EvidenceFact, SubjectFacts
from apps.policies.models import RitualType
from apps.policies.selectors import effective_policies_get, effective_policy_get, group_additions_inventory
from apps.policies.services import policy_create, policy_version_create, policy_version_publish, requirement_add
from tests.factories.org import OrgUnitFactory

pytestmark = pytest.mark.django_db

JAN_1 = dt.date(2026, 1, 1)


def publish(policy, start, specs, end=None):
    version = policy_version_create(policy=policy, effective_from=start)
    if end:
        version.effective_to = end
        version.save()
    for kind, params, *label in specs:
        requirement_add(version=version, kind=kind, params=params, label=label[0] if label else "")
    return policy_version_publish(version=version, today=start)


@pytest.fixture
def tree():
    root = OrgUnitFactory(name="Company", customer_layer=3)
    finance = OrgUnitFactory(name="Finance", parent=root, customer_layer=2)
    billing = OrgUnitFactory(name="Billing", parent=finance, customer_layer=1)
    sales = OrgUnitFactory(name="Sales", parent=root, customer_layer=0)
    return {"root": root, "finance": finance, "billing": billing, "sales": sales}


@pytest.fixture
def promotion():
    return RitualType.objects.get(code="promotion")


def test_effective_policy_is_baseline_plus_every_ancestor_groups_additions(tree, promotion):
    publish(policy_create(ritual_type=promotion, scope=None), JAN_1, [("min_evidence", {"count": 2}, "baseline")])
    publish(
        policy_create(ritual_type=promotion, scope=tree["finance"]),
        JAN_1,
        [("internal_customer", {"count": 1}, "finance")],
    )
    publish(
        policy_create(ritual_type=promotion, scope=tree["billing"]),
        JAN_1,
        [("customer_voice", {"count": 1}, "billing")],
    )
    publish(
        policy_create(ritual_type=promotion, scope=tree["sales"]), JAN_1, [("customer_voice", {"count": 3}, "sales")]
    )

    billing = effective_policy_get(ritual_type_id=promotion.pk, org_unit_id=tree["billing"].pk, as_of=JAN_1)
    sales = effective_policy_get(ritual_type_id=promotion.pk, org_unit_id=tree["sales"].pk, as_of=JAN_1)

    assert [spec.label for spec in billing.specs] == ["baseline", "finance", "billing"]
    assert [spec.label for spec in sales.specs] == ["baseline", "sales"]
    assert billing.has_baseline


def test_effective_policy_uses_the_versions_in_force_on_the_date(promotion, tree):
    baseline = policy_create(ritual_type=promotion, scope=None)
    publish(baseline, dt.date(2025, 1, 1), [("min_evidence", {"count": 1}, "2025 rule")])
    publish(baseline, JAN_1, [("min_evidence", {"count": 2}, "2026 rule")])

    def labels(on):
        policy = effective_policy_get(ritual_type_id=promotion.pk, org_unit_id=tree["sales"].pk, as_of=on)
        return [spec.label for spec in policy.specs]

    assert labels(dt.date(2024, 12, 31)) == []
    assert labels(dt.date(2025, 12, 31)) == ["2025 rule"]
    assert labels(JAN_1) == ["2026 rule"]


def test_drafts_never_apply(promotion, tree):
    baseline = policy_create(ritual_type=promotion, scope=None)
    draft = policy_version_create(policy=baseline, effective_from=JAN_1)
    requirement_add(version=draft, kind="min_evidence", params={"count": 1})

    policy = effective_policy_get(ritual_type_id=promotion.pk, org_unit_id=tree["sales"].pk, as_of=JAN_1)

    assert policy.specs == []
    assert not policy.has_baseline


def test_effective_policies_for_many_units_take_a_fixed_number_of_queries(
    promotion, tree, django_assert_max_num_queries
):
    publish(policy_create(ritual_type=promotion, scope=None), JAN_1, [("min_evidence", {"count": 2})])
    units = [OrgUnitFactory(parent=tree["finance"]) for _ in range(30)]
    for unit in units[:10]:
        publish(policy_create(ritual_type=promotion, scope=unit), JAN_1, [("customer_voice", {"count": 1})])

    with django_assert_max_num_queries(4):
        policies = effective_policies_get(ritual_type_id=promotion.pk, org_unit_ids=[u.pk for u in units], as_of=JAN_1)

    assert len(policies[units[0].pk].specs) == 2
    assert len(policies[units[20].pk].specs) == 1


def test_effective_policy_compiles_and_evaluates_with_the_engine(promotion, tree):
    publish(
        policy_create(ritual_type=promotion, scope=None),
        JAN_1,
        [("min_evidence", {"count": 1, "categories": ["customer_story"]})],
    )
    policy = effective_policy_get(ritual_type_id=promotion.pk, org_unit_id=tree["sales"].pk, as_of=JAN_1)
    story = EvidenceFact(
        id=7,
        category_code="customer_story",
        is_outcome=False,
        status="verified",
        impact_date=JAN_1,
        customer_type="external",
        internal_customer_unit_id=None,
        touchpoint_code=None,
    )

    evaluation = policy.compile().evaluate(SubjectFacts(subject_unit_id=tree["sales"].pk, evidence=[story]), JAN_1)

    assert evaluation.compliant
    assert evaluation.results[0].counted_ids == (7,)
    assert "customer stor" in evaluation.results[0].label.lower()


def test_inventory_lists_group_additions_and_how_many_groups_chose_them(promotion, tree):
    publish(policy_create(ritual_type=promotion, scope=None), JAN_1, [("min_evidence", {"count": 2})])
    for unit in (tree["finance"], tree["billing"]):
        publish(policy_create(ritual_type=promotion, scope=unit), JAN_1, [("internal_customer", {"count": 1})])
    publish(policy_create(ritual_type=promotion, scope=tree["sales"]), JAN_1, [("min_evidence", {"count": 2})])

    rows = group_additions_inventory(as_of=JAN_1)

    by_unit = {row.org_unit: row for row in rows}
    assert set(by_unit) == {"Finance", "Billing", "Sales"}
    assert by_unit["Finance"].shared_by == 2
    assert by_unit["Finance"].in_baseline is False
    assert by_unit["Sales"].in_baseline is True
