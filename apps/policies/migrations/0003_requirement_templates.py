"""Requirement templates, with a built-in library; and whether a ritual shares exception justifications."""

import django.db.models.deletion
from django.db import migrations, models

# Params are stored as the engine cleans them (every parameter of the kind, defaults filled in).
BUILT_IN_TEMPLATES = [
    {
        "name": "Customer stories for promotions",
        "description": "Promotions should rest on concrete customers whose experience the person changed.",
        "kind": "min_evidence",
        "params": {
            "count": 2,
            "categories": ["customer_story"],
            "customer_type": "any",
            "touchpoints": [],
            "within_days": 365,
        },
        "label": "Two customer stories this year",
        "help_text": "Describe two customers, what they needed and how you changed their experience.",
        "ritual": "promotion",
    },
    {
        "name": "Operational KPI improvement for raises",
        "description": "An operational metric the person could move counts more than a survey score.",
        "kind": "metric_improvement",
        "params": {"count": 1, "min_improvement_pct": 10, "categories": [], "within_days": 365},
        "label": "One operational KPI improved by 10% or more",
        "help_text": "Show the metric before and after (first-contact resolution, handoff defects, time to onboard).",
        "ritual": "raise",
    },
    {
        "name": "Handoff quality for internal-facing groups",
        "description": "For back-office groups whose customer is the next group in the chain.",
        "kind": "min_evidence",
        "params": {
            "count": 1,
            "categories": ["handoff_improvement"],
            "customer_type": "internal",
            "touchpoints": [],
            "within_days": 365,
        },
        "label": "A better handoff to an internal customer",
        "help_text": "Show fewer defects or delays where your output is handed to another group.",
        "ritual": "promotion",
    },
    {
        "name": "Problem-recurrence prevention for internal-facing groups",
        "description": "Removing a root cause so an internal customer's problem stops coming back.",
        "kind": "min_evidence",
        "params": {
            "count": 1,
            "categories": ["recurrence_prevention"],
            "customer_type": "internal",
            "touchpoints": [],
            "within_days": 365,
        },
        "label": "A recurring problem prevented for an internal customer",
        "help_text": "Name the problem, the root cause you removed, and how often it came back before and after.",
        "ritual": "promotion",
    },
    {
        "name": "Cross-group collaboration for recognition",
        "description": "Recognise work with other groups that solved a customer problem neither could alone.",
        "kind": "min_evidence",
        "params": {
            "count": 1,
            "categories": ["cross_org_collaboration", "silo_bridging"],
            "customer_type": "any",
            "touchpoints": [],
            "within_days": 365,
        },
        "label": "Collaboration across groups",
        "help_text": "Describe the other group, the customer problem and what you solved together.",
        "ritual": "recognition",
    },
    {
        "name": "New value creation for recognition",
        "description": "Something new that is good for the customer and the company alike.",
        "kind": "min_evidence",
        "params": {
            "count": 1,
            "categories": ["new_mutual_value"],
            "customer_type": "any",
            "touchpoints": [],
            "within_days": 365,
        },
        "label": "New value for customers and the company",
        "help_text": "Show what is new, what it gives customers and what it gives the company.",
        "ritual": "recognition",
    },
    {
        "name": "Breadth of contribution for recognition",
        "description": "Verified evidence across several categories, so one kind of contribution cannot carry it.",
        "kind": "distinct_categories",
        "params": {"count": 3, "within_days": 730},
        "label": "Evidence in three categories",
        "help_text": "",
        "ritual": "recognition",
    },
    {
        "name": "Outcome-score cap",
        "description": "Survey scores (NPS, CSAT) invite gaming: let at most one count toward each requirement.",
        "kind": "outcome_cap",
        "params": {"max": 1},
        "label": "Survey scores count at most once",
        "help_text": "",
        "ritual": None,
    },
]


def create_templates(apps, schema_editor):
    """Insert the built-in library; category codes missing from this install are left out, and a template whose
    categories are all missing is skipped (it would otherwise accept any evidence). Existing names are kept as HR
    edited them."""
    RequirementTemplate = apps.get_model("policies", "RequirementTemplate")
    RitualType = apps.get_model("policies", "RitualType")
    EvidenceCategory = apps.get_model("policies", "EvidenceCategory")
    known = set(EvidenceCategory.objects.values_list("code", flat=True))
    rituals = {ritual.code: ritual for ritual in RitualType.objects.all()}
    for row in BUILT_IN_TEMPLATES:
        params = dict(row["params"])
        wanted = params.get("categories") or []
        if wanted:
            params["categories"] = [code for code in wanted if code in known]
            if not params["categories"]:
                continue
        RequirementTemplate.objects.get_or_create(
            name=row["name"],
            defaults={
                "description": row["description"],
                "kind": row["kind"],
                "params": params,
                "label": row["label"],
                "help_text": row["help_text"],
                "suggested_ritual": rituals.get(row["ritual"]) if row["ritual"] else None,
                "built_in": True,
            },
        )


class Migration(migrations.Migration):
    dependencies = [
        ("policies", "0002_builtin_rituals_and_categories"),
    ]

    operations = [
        migrations.AddField(
            model_name="ritualtype",
            name="share_exception_justification",
            field=models.BooleanField(
                default=False,
                help_text="Let the employee see HR's written justification of an exception granted on their case",
                verbose_name="share the exception justification with the subject",
            ),
        ),
        migrations.CreateModel(
            name="RequirementTemplate",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=200, unique=True)),
                (
                    "description",
                    models.TextField(blank=True, help_text="When to use it and why; shown when choosing templates."),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("min_evidence", "Minimum verified evidence"),
                            ("metric_improvement", "Operational metric improvements"),
                            ("distinct_categories", "Breadth across evidence categories"),
                            ("customer_voice", "Customer voice (quoted and sourced)"),
                            ("internal_customer", "Internal customers in other units"),
                            ("outcome_cap", "Cap on survey-score evidence"),
                            ("attestation", "Attestation by a role"),
                        ],
                        max_length=30,
                    ),
                ),
                ("params", models.JSONField(blank=True, default=dict)),
                (
                    "label",
                    models.CharField(
                        blank=True,
                        help_text="Copied to the requirement: the short name shown on checklists.",
                        max_length=200,
                    ),
                ),
                (
                    "help_text",
                    models.TextField(
                        blank=True, help_text="Copied to the requirement: guidance for employees on how to meet it."
                    ),
                ),
                (
                    "active",
                    models.BooleanField(
                        default=True, help_text="Inactive templates are not offered on draft versions."
                    ),
                ),
                (
                    "built_in",
                    models.BooleanField(
                        default=False,
                        editable=False,
                        help_text="Shipped with the product; HR can edit or deactivate it.",
                    ),
                ),
                (
                    "suggested_ritual",
                    models.ForeignKey(
                        blank=True,
                        help_text="The ritual this template suits best; it can be used in any ritual's policy.",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="requirement_templates",
                        to="policies.ritualtype",
                    ),
                ),
            ],
            options={
                "ordering": ["name"],
            },
        ),
        # Reversing needs nothing: the table goes away with the CreateModel above.
        migrations.RunPython(create_templates, migrations.RunPython.noop),
    ]
