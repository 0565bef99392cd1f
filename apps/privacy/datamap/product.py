"""The data map of the product's own models (apps.*): every concrete field classified (workflow models in
`workflow.py`)."""

from __future__ import annotations

from .types import (
    CONTRACT,
    LEGITIMATE,
    NONE,
    Category,
    Entry,
    Erase,
    Field,
    Subject,
    plain,
    tech,
)
from .workflow import CASES, NOT_KEPT_BY_RULE, PRIVACY, REMINDERS, REPORTS

C, E = Category, Erase

ORG = (
    Entry(
        model="org.orgunit",
        purpose="The organisation tree and each group's customer layer.",
        legal_basis=NONE,
        retention=NOT_KEPT_BY_RULE,
        subjects=(),
        fields=(
            *tech("id", "parent", "active", "created_at", "updated_at"),
            *plain("name", "code", "customer_layer", "description"),
        ),
    ),
    Entry(
        model="org.employee",
        purpose="Who the criteria apply to: the subject of cases, owner of evidence, recipient of reminders.",
        legal_basis=CONTRACT,
        retention="While employed; after leaving, kept with the decided cases (RetentionKind decided_cases); "
        "evidence attachments of leavers follow leaver_attachments. Erasure pseudonymises the row (it stays "
        "so decided cases keep counting).",
        subjects=(Subject("employee", "pk"),),
        fields=(
            *tech("id", "user", "active", "created_at", "updated_at"),
            *tech("org_unit", "manager", note="Links to a unit and another employee; reports count by unit."),
            Field("employee_number", C.IDENTITY, E.PSEUDONYM, "HR system number; unique, so a numbered pseudonym."),
            Field("full_name", C.IDENTITY, E.PSEUDONYM),
            Field("email", C.CONTACT, E.PSEUDONYM, "Unique, so a numbered pseudonym."),
            Field("job_level", C.EMPLOYMENT, E.KEEP, "Reports count by level."),
            Field("job_function", C.EMPLOYMENT, E.KEEP, "Reports count by function."),
            Field("timezone", C.CONTACT, E.BLANK, "Back to the default (UTC)."),
            Field("left_on", C.EMPLOYMENT, E.KEEP, "Leavers' retention counts from it."),
        ),
    ),
    Entry(
        model="org.journeystage",
        purpose="Stages of the customer journey evidence and insights refer to.",
        legal_basis=NONE,
        retention=NOT_KEPT_BY_RULE,
        subjects=(),
        fields=(*tech("id"), *plain("name", "code", "order", "description")),
    ),
    Entry(
        model="org.touchpoint",
        purpose="Places where customers meet the company, referred to by evidence.",
        legal_basis=NONE,
        retention=NOT_KEPT_BY_RULE,
        subjects=(),
        fields=(*tech("id", "stage", "owner_unit", "active"), *plain("name", "code", "description")),
    ),
)

POLICIES = (
    Entry(
        model="policies.ritualtype",
        purpose="The rituals (promotion, raise, hiring, ...) whose criteria the product enforces.",
        legal_basis=NONE,
        retention=NOT_KEPT_BY_RULE,
        subjects=(),
        fields=(
            *tech("id", "active"),
            *plain("code", "name", "subject_kind", "description", "order", "share_exception_justification"),
        ),
    ),
    Entry(
        model="policies.evidencecategory",
        purpose="Kinds of customer-impact evidence.",
        legal_basis=NONE,
        retention=NOT_KEPT_BY_RULE,
        subjects=(),
        fields=(*tech("id", "active"), *plain("code", "name", "kind", "is_outcome", "description", "example")),
    ),
    Entry(
        model="policies.policy",
        purpose="The baseline and group criteria of a ritual.",
        legal_basis=NONE,
        retention=NOT_KEPT_BY_RULE,
        subjects=(),
        fields=(*tech("id", "ritual_type", "scope", "created_at"), *plain("name", "description")),
    ),
    Entry(
        model="policies.policyversion",
        purpose="Effective-dated, immutable versions of a policy, pinned on cases to explain decisions.",
        legal_basis=NONE,
        retention="Kept while a case pins it (decisions stay explainable); not personal.",
        subjects=(),
        fields=(
            *tech(
                "id",
                "policy",
                "number",
                "status",
                "effective_from",
                "effective_to",
                "based_on",
                "created_at",
                "updated_at",
                "published_at",
                "retired_at",
            ),
            *tech("created_by", "published_by", "retired_by", note="Who did it: a link to a user."),
            *plain("notes"),
        ),
    ),
    Entry(
        model="policies.requirement",
        purpose="The evidence requirements of a policy version.",
        legal_basis=NONE,
        retention=NOT_KEPT_BY_RULE,
        subjects=(),
        fields=(*tech("id", "version"), *plain("kind", "params", "label", "weight", "help_text", "order")),
    ),
    Entry(
        model="policies.requirementtemplate",
        purpose="Ready-made requirements HR copies into drafts.",
        legal_basis=NONE,
        retention=NOT_KEPT_BY_RULE,
        subjects=(),
        fields=(
            *tech("id", "suggested_ritual", "active", "built_in"),
            *plain("name", "description", "kind", "params", "label", "help_text"),
        ),
    ),
)

EVIDENCE = (
    Entry(
        model="evidence.evidence",
        purpose="Customer-impact evidence a person submits for the criteria of their cases, and its review.",
        legal_basis=CONTRACT,
        retention="While employed; verified evidence counted by a decided case is kept with it (RetentionKind "
        "decided_cases). Erasure blanks the texts; the row stays so decided cases and reports keep counting.",
        subjects=(Subject("employee", "owner"),),
        fields=(
            *tech(
                "id",
                "owner",
                "category",
                "responds_to",
                "source_type",
                "customer_type",
                "internal_customer_unit",
                "touchpoint",
                "status",
                "submitted_at",
                "reviewed_at",
                "flags_acknowledged",
                "version",
                "previous",
                "is_current",
                "created_at",
                "updated_at",
            ),
            *tech("reviewer", "created_by", note="Who did it: a link to a user."),
            Field("title", C.EVIDENCE, E.PSEUDONYM, 'Shown as "Erased evidence #N" in lists.'),
            Field("customer_quote", C.EVIDENCE, E.BLANK, "May name a customer."),
            Field("source_reference", C.EVIDENCE, E.BLANK, "May name a customer or a ticket."),
            Field("interpretation", C.EVIDENCE, E.BLANK),
            Field("response", C.EVIDENCE, E.BLANK),
            Field("metric_name", C.EVIDENCE, E.BLANK),
            Field("metric_period", C.EVIDENCE, E.BLANK),
            Field("metric_kind", C.EVIDENCE, E.KEEP, "Counts toward requirements and reports."),
            Field("baseline", C.EVIDENCE, E.KEEP, "Counts toward metric-improvement requirements."),
            Field("result", C.EVIDENCE, E.KEEP, "Counts toward metric-improvement requirements."),
            Field("metric_unit", C.EVIDENCE, E.KEEP),
            Field("direction", C.EVIDENCE, E.KEEP),
            Field("impact_date", C.EVIDENCE, E.KEEP, "Counts toward 'within D days' requirements."),
            Field("review_comment", C.JUDGEMENT, E.BLANK, "Written by the reviewer about the owner's work."),
            Field("gaming_flags", C.JUDGEMENT, E.KEEP, "The gaming report counts flagged items."),
        ),
    ),
    Entry(
        model="evidence.attachment",
        purpose="Files backing an evidence item (screenshots, exports, customer messages).",
        legal_basis=CONTRACT,
        retention="With its evidence; of people who left, RetentionKind leaver_attachments removes the file and row.",
        subjects=(Subject("employee", "evidence__owner"),),
        fields=(
            *tech("id", "evidence", "content_type", "size", "sha256", "uploaded_at"),
            *tech("uploaded_by", note="Who did it: a link to a user."),
            Field("file", C.EVIDENCE, E.FILE, "The stored file is deleted."),
            Field("original_name", C.EVIDENCE, E.BLANK, "A file name may name a customer or the person."),
        ),
    ),
    Entry(
        model="evidence.solicitationphrase",
        purpose="Phrasings that solicit a score, matched against evidence texts (gaming flags).",
        legal_basis=NONE,
        retention=NOT_KEPT_BY_RULE,
        subjects=(),
        fields=(
            *tech("id", "active", "built_in", "created_at", "updated_at"),
            *plain("phrase", "is_pattern", "kind", "language", "description"),
        ),
    ),
)

INSIGHTS = (
    Entry(
        model="insights.insight",
        purpose="What customers said or did, routed to the groups that should hear it (the customer-insight stream).",
        legal_basis=LEGITIMATE,
        retention="As long as reports count it; an internal customer's raiser is blanked on erasure.",
        subjects=(Subject("employee", "raised_by"),),
        fields=(
            *tech(
                "id",
                "source_system",
                "source_id",
                "channel",
                "said_on",
                "customer_type",
                "touchpoint",
                "journey_stage",
                "from_unit",
                "is_score_only",
                "received_at",
            ),
            *tech("raised_by", note="Who raised it from the portal: a link to an employee."),
            Field("text", C.NOT_PERSONAL, E.KEEP, "A customer's words; about the company's service, not an employee."),
            Field("score", C.NOT_PERSONAL, E.KEEP),
            Field("gaming_flags", C.NOT_PERSONAL, E.KEEP, "Score-solicitation flags on the text."),
        ),
    ),
    Entry(
        model="insights.routingrule",
        purpose="Which unit hears insights about which touchpoint or journey stage.",
        legal_basis=NONE,
        retention=NOT_KEPT_BY_RULE,
        subjects=(),
        fields=(
            *tech("id", "unit", "touchpoint", "journey_stage", "active", "created_at", "updated_at"),
            *plain("name"),
        ),
    ),
    Entry(
        model="insights.insightroute",
        purpose="An insight in one unit's inbox: who took it, and whether and when the unit responded.",
        legal_basis=LEGITIMATE,
        retention="With its insight.",
        subjects=(Subject("employee", "taken_by"),),
        fields=(
            *tech(
                "id",
                "insight",
                "unit",
                "reason",
                "rule",
                "said_on",
                "status",
                "taken_at",
                "responded_at",
                "closed_at",
                "routed_at",
            ),
            *tech("taken_by", note="Who took it: a link to an employee."),
            Field("no_action_reason", C.JUDGEMENT, E.KEEP, "About the unit's choice, not about a person."),
        ),
    ),
)

PRODUCT = (*ORG, *POLICIES, *EVIDENCE, *INSIGHTS, *CASES, *REMINDERS, *REPORTS, *PRIVACY)
