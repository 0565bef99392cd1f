"""The data map of the product's workflow models: cases, reminders, report exports, privacy's own tables."""

from __future__ import annotations

from .types import (
    CANDIDATE_CONTRACT,
    CONTRACT,
    LEGAL_OBLIGATION,
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

C, E = Category, Erase

# The person a case's child row is about: an employee, or a hiring case's candidate (cases of a unit: nobody).
CASE_SUBJECT = (Subject("employee", "case__subject_employee"), Subject("candidate", "case__candidate_email"))
NOT_KEPT_BY_RULE = "As long as the configuration is in use; not personal."

CASES = (
    Entry(
        model="cases.cycle",
        purpose="Rounds of a ritual with their deadlines.",
        legal_basis=NONE,
        retention=NOT_KEPT_BY_RULE,
        subjects=(),
        fields=(
            *tech("id", "ritual_type", "status", "created_at"),
            *plain("name", "opens_on", "evidence_deadline", "decision_deadline", "reminder_offsets"),
        ),
    ),
    Entry(
        model="cases.case",
        purpose="A ritual decision about an employee, a hiring candidate or a unit, explainable afterwards.",
        legal_basis=f"{CONTRACT}; candidates: {CANDIDATE_CONTRACT}",
        retention="Decided cases: RetentionKind decided_cases (from the decision). Hiring cases: rejected_candidates "
        "/ hired_candidates blank the candidate's data; the case row stays counted.",
        subjects=(
            Subject("employee", "subject_employee", fields=("decision_note",)),
            Subject("candidate", "candidate_email", fields=("candidate_name", "candidate_email", "decision_note")),
        ),
        fields=(
            *tech(
                "id",
                "cycle",
                "subject_employee",
                "subject_unit",
                "policy_unit",
                "opened_at",
                "opened_on",
                "status",
                "decided_at",
                "compliant",
                "evaluated_at",
                "updated_at",
            ),
            *tech("nominated_by", "decided_by", note="Who did it: a link to an employee or a user."),
            Field("candidate_name", C.CANDIDATE, E.PSEUDONYM, 'Shown as "Erased person #N".'),
            Field("candidate_email", C.CANDIDATE, E.BLANK),
            Field("decision_note", C.JUDGEMENT, E.BLANK, "Written by the decider about the subject."),
            Field(
                "frozen_evaluation",
                C.JUDGEMENT,
                E.KEEP,
                "Requirements met or not, with evidence ids: the decision's explanation, counted by reports.",
            ),
        ),
    ),
    Entry(
        model="cases.caserequirementresult",
        purpose="An open case's current result per requirement, stored so pages and reports need no engine run.",
        legal_basis=CONTRACT,
        retention="Derived data: rewritten while the case is open, deleted at its decision (the case keeps its frozen "
        "evaluation).",
        subjects=CASE_SUBJECT,
        fields=(
            *tech("id", "case", "cycle", "requirement", "as_of", "evaluated_at"),
            Field("met", C.JUDGEMENT, E.KEEP, "Counted by reports."),
            Field("have", C.JUDGEMENT, E.KEEP, "Counted by reports."),
            Field("need", C.JUDGEMENT, E.KEEP, "Counted by reports."),
            Field("counted_ids", C.JUDGEMENT, E.KEEP, "Ids of the evidence that counted."),
        ),
    ),
    Entry(
        model="cases.previewjob",
        purpose="A background preview of a draft policy version against the open cases it would cover.",
        legal_basis=LEGITIMATE,
        retention=NOT_KEPT_BY_RULE,
        subjects=(),
        fields=(
            *tech("id", "version", "status", "as_of", "total", "examined", "error", "created_at", "started_at"),
            *tech("finished_at"),
            *plain("would_fail", "would_pass", note="Counts of cases, about no one in particular."),
            *tech("requested_by", note="Who asked: a link to a user."),
        ),
    ),
    Entry(
        model="cases.previewflip",
        purpose="A preview job's result: an open case whose compliance the draft would flip.",
        legal_basis=LEGITIMATE,
        retention="With its preview job; deleted with the case.",
        subjects=CASE_SUBJECT,
        fields=(
            *tech("id", "job", "case", "cycle", "unit"),
            Field("would_be_compliant", C.JUDGEMENT, E.KEEP, "What the draft would decide, for HR's review."),
            Field("newly_unmet", C.JUDGEMENT, E.KEEP, "Labels of requirements, no personal value."),
            Field("newly_met", C.JUDGEMENT, E.KEEP, "Labels of requirements, no personal value."),
        ),
    ),
    Entry(
        model="cases.caseevidence",
        purpose="Evidence linked to a case by hand (candidates' and units' cases).",
        legal_basis=CONTRACT,
        retention="With its case.",
        subjects=CASE_SUBJECT,
        fields=(
            *tech("id", "case", "evidence", "linked_at"),
            *tech("linked_by", note="Who did it: a link to a user."),
            Field("note", C.JUDGEMENT, E.BLANK, "Why the evidence counts for the case's subject."),
        ),
    ),
    Entry(
        model="cases.attestation",
        purpose="A named role vouching for a case.",
        legal_basis=CONTRACT,
        retention="With its case.",
        subjects=CASE_SUBJECT,
        fields=(
            *tech("id", "case", "role", "at"),
            *tech("by", note="Who attested: a link to a user."),
            Field("note", C.JUDGEMENT, E.BLANK, "Written by the attester about the case's subject."),
        ),
    ),
    Entry(
        model="cases.policyexception",
        purpose="A written exception that lets a non-compliant case be approved.",
        legal_basis=f"{CONTRACT}; {LEGITIMATE}",
        retention="With its case.",
        subjects=CASE_SUBJECT,
        fields=(
            *tech("id", "case", "status", "requested_at", "decided_at"),
            *tech("requested_by", "decided_by", note="Who did it: a link to a user."),
            Field("justification", C.JUDGEMENT, E.BLANK, "Why the subject should pass without compliance."),
            Field("decision_note", C.JUDGEMENT, E.BLANK),
        ),
    ),
    Entry(
        model="cases.approvalroute",
        purpose="The approval steps of a ritual.",
        legal_basis=NONE,
        retention=NOT_KEPT_BY_RULE,
        subjects=(),
        fields=(*tech("id", "ritual_type"), *plain("name")),
    ),
    Entry(
        model="cases.approvalstep",
        purpose="One step of an approval route.",
        legal_basis=NONE,
        retention=NOT_KEPT_BY_RULE,
        subjects=(),
        fields=(*tech("id", "route", "group"), *plain("order", "name", "role")),
    ),
    Entry(
        model="cases.delegation",
        purpose="Someone acting for another person on approval steps during a period.",
        legal_basis=CONTRACT,
        retention="As long as the approval history refers to it.",
        subjects=(Subject("user", "principal"), Subject("user", "delegate", fields=("starts_on", "ends_on"))),
        fields=(
            *tech("id", "principal", "delegate", "step"),
            Field("starts_on", C.EMPLOYMENT, E.KEEP, "The principal's absence: explains who approved."),
            Field("ends_on", C.EMPLOYMENT, E.KEEP, "The principal's absence: explains who approved."),
            Field("reason", C.EMPLOYMENT, E.BLANK, "May say why the principal is away."),
        ),
    ),
    Entry(
        model="cases.steprecord",
        purpose="What happened at an approval step of a case: who, when, for whom, decision and comment.",
        legal_basis=CONTRACT,
        retention="With its case.",
        subjects=CASE_SUBJECT,
        fields=(
            *tech("id", "case", "step", "order", "decision", "at"),
            *tech("by", "on_behalf_of", note="Who did it: a link to a user."),
            *plain("step_name"),
            Field("comment", C.JUDGEMENT, E.BLANK, "Written by the approver about the case's subject."),
        ),
    ),
)

# What a reminder says is about the case's subject or the evidence's owner; its address is the recipient's.
_RECIPIENT = ("to_email", "recipient_name", "recipient_timezone", "last_error")
_ABOUT = ("reason", "context")

REMINDERS = (
    Entry(
        model="reminders.reminder",
        purpose="Notices sent to people (deadlines, reviews, decisions): one row per notice, so none is sent twice.",
        legal_basis=CONTRACT,
        retention="RetentionKind reminder_logs (from sending): sent, failed and cancelled rows are deleted.",
        subjects=(
            Subject("employee", "recipient_employee", fields=_RECIPIENT),
            Subject("user", "recipient_user", fields=_RECIPIENT),
            Subject("employee", "case__subject_employee", fields=_ABOUT),
            Subject("candidate", "case__candidate_email", fields=_ABOUT),
            Subject("employee", "evidence__owner", fields=_ABOUT),
        ),
        fields=(
            *tech(
                "id",
                "key",
                "kind",
                "occasion",
                "status",
                "cycle",
                "case",
                "evidence",
                "recipient_employee",
                "recipient_user",
                "due_at",
                "enqueued_at",
                "claimed_at",
                "attempts",
                "sent_at",
                "read_at",
                "created_at",
                "updated_at",
            ),
            Field("to_email", C.CONTACT, E.BLANK),
            Field("recipient_name", C.IDENTITY, E.BLANK),
            Field("recipient_timezone", C.CONTACT, E.BLANK, "Back to the default (UTC)."),
            Field("last_error", C.COMMUNICATION, E.BLANK, "A mail server's refusal may quote the address."),
            Field("reason", C.COMMUNICATION, E.BLANK, "Why the notice was planned: names the case or evidence."),
            Field("context", C.COMMUNICATION, E.BLANK, "What the e-mail shows: subject's name, evidence title."),
        ),
    ),
    Entry(
        model="reminders.reminderpreference",
        purpose="What an employee chose to receive.",
        legal_basis=CONTRACT,
        retention="While employed.",
        subjects=(Subject("employee", "employee"),),
        fields=(
            *tech("id", "employee", "updated_at"),
            Field("weekly_digest", C.COMMUNICATION, E.KEEP),
            Field("note", C.COMMUNICATION, E.BLANK),
        ),
    ),
    Entry(
        model="reminders.pendingevidenceevent",
        purpose="Work queue: evidence events whose notices the worker has yet to write (rows live seconds).",
        legal_basis=NONE,
        retention="Deleted once the worker wrote the notices.",
        subjects=(),
        fields=tech("id", "evidence_id", "event", "created_at"),
    ),
)

REPORTS = (
    Entry(
        model="reports.exportjob",
        purpose="Large report exports written by a worker and downloaded once.",
        legal_basis=LEGITIMATE,
        retention="The file is removed when the job expires (reports cleanup job); the row stays as a log.",
        subjects=(),
        fields=(
            *tech(
                "id",
                "report",
                "format",
                "filters",
                "status",
                "rows_expected",
                "rows_written",
                "file_size",
                "error",
                "created_at",
                "started_at",
                "finished_at",
                "expires_at",
            ),
            *tech("requested_by", note="Who asked: a link to a user."),
            *tech("file", note="A compliance report about many people; deleted when the job expires."),
            *plain("download_name"),
        ),
    ),
)

PRIVACY: tuple[Entry, ...] = (
    Entry(
        model="privacy.retentionrule",
        purpose="How long each kind of personal data is kept.",
        legal_basis=NONE,
        retention=NOT_KEPT_BY_RULE,
        subjects=(),
        fields=(*tech("id", "enabled", "updated_at"), *plain("kind", "keep_days", "note")),
    ),
    Entry(
        model="privacy.legalhold",
        purpose="Data that must be kept for a claim or an investigation, whatever retention or erasure says.",
        legal_basis=LEGAL_OBLIGATION,
        retention="Kept after release as the record of why data was kept; a person on hold cannot be erased.",
        subjects=(
            Subject("employee", "employee"),
            Subject("employee", "case__subject_employee"),
            Subject("candidate", "case__candidate_email"),
        ),
        fields=(
            *tech("id", "employee", "case", "placed_at", "released_at"),
            *tech("placed_by", "released_by", note="Who did it: a link to a user."),
            Field("reason", C.JUDGEMENT, E.KEEP, "The matter that requires keeping the person's data."),
        ),
    ),
)

PRIVACY = (
    *PRIVACY,
    Entry(
        model="privacy.candidateerasure",
        purpose="Which hiring cases' candidate data was erased, so retention never lists them again.",
        legal_basis=LEGAL_OBLIGATION,
        retention="Kept with its case: the record that the erasure happened (it holds no personal value).",
        subjects=(),
        fields=(*tech("id", "case", "cause", "erased_at"), *tech("erased_by", note="Who did it: a link to a user.")),
    ),
)
