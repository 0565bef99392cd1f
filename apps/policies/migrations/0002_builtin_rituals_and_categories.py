"""Create the six built-in rituals and the starting set of evidence categories."""

from django.db import migrations

RITUAL_TYPES = [
    {
        "code": "promotion",
        "name": "Promotion",
        "subject_kind": "employee",
        "order": 1,
        "description": "Moving a person to a higher job level.",
    },
    {
        "code": "raise",
        "name": "Raise",
        "subject_kind": "employee",
        "order": 2,
        "description": "A pay increase outside the automatic scale.",
    },
    {
        "code": "hiring",
        "name": "Hiring",
        "subject_kind": "candidate",
        "order": 3,
        "description": "Hiring a candidate; the nominating team brings evidence of customer focus.",
    },
    {
        "code": "bonus",
        "name": "Bonus",
        "subject_kind": "employee",
        "order": 4,
        "description": "A one-off bonus for a period's results.",
    },
    {
        "code": "budget-expansion",
        "name": "Budget expansion",
        "subject_kind": "org_unit",
        "order": 5,
        "description": "More budget or headcount for a group.",
    },
    {
        "code": "recognition",
        "name": "Recognition",
        "subject_kind": "employee",
        "order": 6,
        "description": "Awards and public recognition.",
    },
]

EVIDENCE_CATEGORIES = [
    {
        "code": "customer_story",
        "name": "Customer story",
        "kind": "story",
        "is_outcome": False,
        "description": "A specific customer, what they needed, and how you changed their experience.",
        "example": "A guest's wheelchair-access booking failed online; I fixed the form and called them back.",
    },
    {
        "code": "customer_voice",
        "name": "Customer voice insight",
        "kind": "voice",
        "is_outcome": False,
        "description": "What customers said, where, and what it revealed.",
        "example": "Twelve support tickets asked the same question about invoice VAT; we rewrote the invoice.",
    },
    {
        "code": "operational_kpi",
        "name": "Operational KPI improvement",
        "kind": "operational_metric",
        "is_outcome": False,
        "description": "An operational metric you could move, with baseline and result (first-contact resolution, "
        "time to onboard, handoff defects).",
        "example": "First-contact resolution on the phone line from 61% to 74% in one quarter.",
    },
    {
        "code": "outcome_score",
        "name": "Outcome score (NPS/CSAT)",
        "kind": "outcome_metric",
        "is_outcome": True,
        "description": "A survey score such as NPS or CSAT. Counts less: scores invite gaming.",
        "example": "CSAT of the concierge desk from 4.1 to 4.4.",
    },
    {
        "code": "handoff_improvement",
        "name": "Internal handoff improvement",
        "kind": "handoff",
        "is_outcome": False,
        "description": "Fewer defects or delays where your output is handed to another group.",
        "example": "Housekeeping status reaches the front desk in 2 minutes instead of 20.",
    },
    {
        "code": "cross_org_collaboration",
        "name": "Cross-organisation collaboration",
        "kind": "collaboration",
        "is_outcome": False,
        "description": "Work with another group that solved a customer problem neither could alone.",
        "example": "Billing and Sales rebuilt the corporate invoice together.",
    },
    {
        "code": "recurrence_prevention",
        "name": "Problem-recurrence prevention",
        "kind": "prevention",
        "is_outcome": False,
        "description": "A root cause removed so a customer problem stops coming back.",
        "example": "Double-charge tickets fell to zero after the payment retry fix.",
    },
    {
        "code": "omnichannel_consistency",
        "name": "Omni-channel consistency",
        "kind": "consistency",
        "is_outcome": False,
        "description": "Customers get the same answer and service whatever the channel.",
        "example": "App, phone and desk now quote the same late-checkout policy.",
    },
    {
        "code": "new_mutual_value",
        "name": "New mutual value",
        "kind": "mutual_value",
        "is_outcome": False,
        "description": "Something new that is good for the customer and the company alike.",
        "example": "A flexible-dates rate that fills weekdays and saves guests money.",
    },
    {
        "code": "silo_bridging",
        "name": "Silo bridging",
        "kind": "silo_bridging",
        "is_outcome": False,
        "description": "A link between groups that did not talk, for a customer's sake.",
        "example": "A weekly huddle between IT service desk and front desk on guest Wi-Fi issues.",
    },
]


def create(apps, schema_editor):
    """Insert the catalogue; existing codes are left as HR edited them."""
    RitualType = apps.get_model("policies", "RitualType")
    EvidenceCategory = apps.get_model("policies", "EvidenceCategory")
    for row in RITUAL_TYPES:
        RitualType.objects.get_or_create(code=row["code"], defaults=row)
    for row in EVIDENCE_CATEGORIES:
        EvidenceCategory.objects.get_or_create(code=row["code"], defaults=row)


def remove(apps, schema_editor):
    """Remove the built-in rows (only possible while nothing refers to them)."""
    apps.get_model("policies", "RitualType").objects.filter(code__in=[r["code"] for r in RITUAL_TYPES]).delete()
    apps.get_model("policies", "EvidenceCategory").objects.filter(
        code__in=[r["code"] for r in EVIDENCE_CATEGORIES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("policies", "0001_initial")]

    operations = [migrations.RunPython(create, remove)]
