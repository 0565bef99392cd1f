"""The reviewer's pages: the queue and the review of one item."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from apps.common.errors import InvalidTransition
from apps.common.users import signed_in_user
from apps.evidence.constants import EvidenceStatus
from apps.evidence.models import Evidence
from apps.evidence.permissions import review_refusal
from apps.evidence.services import evidence_reject, evidence_request_changes, evidence_verify

from ..constants import ReviewDecision
from ..forms import ReviewFilterForm, ReviewForm, add_service_errors
from ..selectors import evidence_get_visible, nav_for, review_queue_list
from .base import forbidden, paginate

_DONE = {
    ReviewDecision.VERIFY: "Verified",
    ReviewDecision.REQUEST_CHANGES: "Sent back for changes",
    ReviewDecision.REJECT: "Rejected",
}


@login_required
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    """Submitted items the user may review, oldest first."""
    filters = ReviewFilterForm(request.GET)
    filters.is_valid()
    queryset = review_queue_list(
        user=request.user,
        category=filters.cleaned_data.get("category"),
        flagged_only=bool(filters.cleaned_data.get("flagged")),
    )
    page = paginate(request, queryset)
    filtered = any(filters.cleaned_data.get(name) for name in ("category", "flagged"))
    context = {"page": page, "filters": filters, "filtered": filtered, "nav": nav_for(request.user)}
    return render(request, "portal/review_queue.html", context)


def _decide(evidence: Evidence, request: HttpRequest, form: ReviewForm) -> Evidence:
    decision = form.cleaned_data["decision"]
    comment = form.cleaned_data["comment"]
    if decision == ReviewDecision.VERIFY:
        return evidence_verify(
            evidence=evidence,
            by=signed_in_user(request.user),
            comment=comment,
            acknowledge_flags=bool(form.cleaned_data.get("acknowledge_flags")),
        )
    if decision == ReviewDecision.REQUEST_CHANGES:
        return evidence_request_changes(evidence=evidence, by=signed_in_user(request.user), comment=comment)
    return evidence_reject(evidence=evidence, by=signed_in_user(request.user), comment=comment)


@login_required
@require_http_methods(["GET", "POST"])
def review_item(request: HttpRequest, pk: int) -> HttpResponse:
    """The item and the review form: verify, request changes or reject."""
    evidence = evidence_get_visible(user=request.user, pk=pk)
    refusal = review_refusal(request.user, evidence)
    if refusal:
        return forbidden(request, refusal)
    if evidence.status != EvidenceStatus.SUBMITTED:
        messages.info(request, f"This item is {evidence.get_status_display().lower()}; there is nothing to review.")
        return redirect("portal:evidence-detail", pk=evidence.pk)
    flagged = bool(evidence.gaming_flags)
    status = 200
    if request.method == "POST":
        form = ReviewForm(request.POST, flagged=flagged)
        if form.is_valid():
            try:
                evidence = _decide(evidence, request, form)
            except ValidationError as exc:
                add_service_errors(form, exc)
            except InvalidTransition as exc:
                # Another reviewer decided first.
                messages.error(request, exc.message)
                return redirect("portal:evidence-detail", pk=evidence.pk)
            except PermissionDenied as exc:
                return forbidden(request, str(exc))
            else:
                messages.success(request, f"{_DONE[form.cleaned_data['decision']]}: “{evidence.title}”.")
                return redirect("portal:review-queue")
        status = 400
    else:
        form = ReviewForm(flagged=flagged)
    context = {"evidence": evidence, "attachments": list(evidence.attachments.all()), "form": form}
    return render(request, "portal/review.html", context, status=status)
