"""The employee's pages: "My evidence", the evidence form with its files, the item page and its actions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.forms.models import model_to_dict
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.common.errors import InvalidTransition
from apps.common.users import signed_in_user
from apps.evidence.constants import EvidenceStatus
from apps.evidence.models import Attachment, Evidence
from apps.evidence.permissions import can_edit, can_review, can_view
from apps.evidence.services import (
    EDITABLE_FIELDS,
    attachment_add,
    attachment_remove,
    evidence_correct,
    evidence_create,
    evidence_delete,
    evidence_submit,
    evidence_update,
)
from apps.org.models import Employee

from ..forms import EvidenceForm, MyEvidenceFilterForm, add_service_errors
from ..selectors import attachment_get_visible, evidence_get_visible, my_evidence_list
from .base import employee_required, forbidden, paginate


@login_required
@require_GET
@employee_required
def my_evidence(request: HttpRequest, employee: Employee) -> HttpResponse:
    """The signed-in employee's current items, with filters."""
    filters = MyEvidenceFilterForm(request.GET)
    filters.is_valid()  # invalid values are dropped from cleaned_data, so they simply do not filter
    queryset = my_evidence_list(
        employee=employee,
        status=filters.cleaned_data.get("status") or None,
        category=filters.cleaned_data.get("category"),
    )
    page = paginate(request, queryset)
    filtered = any(filters.cleaned_data.get(name) for name in ("status", "category"))
    return render(request, "portal/my_evidence.html", {"page": page, "filters": filters, "filtered": filtered})


def _owned(employee: Employee, pk: int) -> Evidence:
    """One of the employee's own items; anyone else's is a 404 on these pages."""
    return get_object_or_404(Evidence.objects.select_related("category"), pk=pk, owner=employee)


def _discard(names: list[str]) -> None:
    """Delete files stored during a request whose transaction was rolled back (their rows are gone)."""
    for name in names:
        default_storage.delete(name)


def _save_all(request: HttpRequest, form: EvidenceForm, evidence: Evidence | None, *, submit: bool) -> Evidence | None:
    """Save the fields, add the files and submit, all or nothing; on failure put the errors on the form."""
    stored: list[str] = []
    files = form.cleaned_data["files"]
    try:
        with transaction.atomic():
            data = form.service_data()
            if evidence is None:
                evidence = evidence_create(by=signed_in_user(request.user), data=data)
            else:
                evidence = evidence_update(evidence=evidence, by=signed_in_user(request.user), data=data)
            for upload in files:
                try:
                    attachment = attachment_add(
                        evidence=evidence,
                        by=signed_in_user(request.user),
                        file=upload,
                        name=upload.name,
                        size=upload.size,
                    )
                except ValidationError as exc:
                    raise ValidationError({"files": [f"{upload.name}: {message}" for message in exc.messages]}) from exc
                if attachment.file.name is not None:
                    stored.append(attachment.file.name)
            if submit:
                evidence = evidence_submit(evidence=evidence, by=signed_in_user(request.user))
    except ValidationError as exc:
        _discard(stored)
        if files:
            advice = "Your files were not stored either: correct the fields marked below, then choose the files again."
        else:
            advice = "Correct the fields marked below and save again; what you typed is still in the form."
        form.add_error(None, f"Nothing was saved. {advice}")
        add_service_errors(form, exc)
        return None
    except BaseException:
        _discard(stored)
        raise
    return evidence


def _form_page(request: HttpRequest, evidence: Evidence | None) -> HttpResponse:
    status = 200
    if request.method == "POST":
        form = EvidenceForm(request.POST, request.FILES, instance=evidence)
        submit = request.POST.get("action") == "submit"
        if form.is_valid():
            try:
                saved = _save_all(request, form, evidence, submit=submit)
            except PermissionDenied as exc:
                return forbidden(request, str(exc))
            except InvalidTransition as exc:
                # Someone else moved the item on (e.g. it was submitted from another tab).
                messages.error(request, exc.message)
                if evidence is None:
                    return redirect("portal:my-evidence")
                return redirect("portal:evidence-detail", pk=evidence.pk)
            if saved is not None:
                if submit:
                    messages.success(request, f"“{saved.title}” was submitted for review.")
                else:
                    messages.success(request, f"“{saved.title}” was saved as a draft.")
                return redirect("portal:evidence-detail", pk=saved.pk)
        status = 400
    else:
        form = EvidenceForm(instance=evidence)
    attachments = list(evidence.attachments.all()) if evidence is not None else []
    context = {"form": form, "evidence": evidence, "attachments": attachments}
    return render(request, "portal/evidence_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
@employee_required
def evidence_new(request: HttpRequest, employee: Employee) -> HttpResponse:
    """Write a new item, optionally with files, and save it as a draft or submit it."""
    return _form_page(request, None)


@login_required
@require_http_methods(["GET", "POST"])
@employee_required
def evidence_edit(request: HttpRequest, employee: Employee, pk: int) -> HttpResponse:
    """Change a draft or an item sent back for changes."""
    evidence = _owned(employee, pk)
    if not evidence.is_editable:
        messages.error(request, f"This item is {evidence.get_status_display().lower()} and can no longer be edited.")
        return redirect("portal:evidence-detail", pk=evidence.pk)
    return _form_page(request, evidence)


def _correction_of(evidence: Evidence, user: object) -> Evidence | None:
    """The newer version of an item, when there is one the user may see (a draft correction is the owner's)."""
    try:
        correction = evidence.correction
    except ObjectDoesNotExist:
        return None
    return correction if can_view(user, correction) else None


@login_required
@require_GET
def evidence_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One item, for anyone who may see it: its story, metric, files, review and versions."""
    evidence = evidence_get_visible(user=request.user, pk=pk)
    correction = _correction_of(evidence, request.user)
    owner_user_id = evidence.owner.user_id
    is_owner = owner_user_id is not None and owner_user_id == request.user.pk
    context = {
        "evidence": evidence,
        "attachments": list(evidence.attachments.all()),
        "correction": correction,
        "is_owner": is_owner,
        "can_edit": can_edit(request.user, evidence),
        # A never-submitted draft, a started correction included (evidence_delete decides; this only shows the button).
        "can_delete": is_owner and evidence.status == EvidenceStatus.DRAFT and evidence.submitted_at is None,
        "can_correct": is_owner
        and evidence.status == EvidenceStatus.VERIFIED
        and evidence.is_current
        and correction is None,
        "can_review": evidence.status == EvidenceStatus.SUBMITTED and can_review(request.user, evidence),
    }
    return render(request, "portal/evidence_detail.html", context)


def _as_form_data(evidence: Evidence) -> dict[str, object]:
    """The item's saved values as form data, so errors can be shown on its form."""
    values = model_to_dict(evidence, EDITABLE_FIELDS)
    return {name: "" if value is None else value for name, value in values.items()}


@login_required
@require_POST
@employee_required
def evidence_submit_view(request: HttpRequest, employee: Employee, pk: int) -> HttpResponse:
    """Send an item for review; what is missing is shown next to its field on the form."""
    evidence = _owned(employee, pk)
    try:
        evidence = evidence_submit(evidence=evidence, by=signed_in_user(request.user))
    except InvalidTransition as exc:
        messages.error(request, exc.message)
        return redirect("portal:evidence-detail", pk=evidence.pk)
    except PermissionDenied as exc:
        return forbidden(request, str(exc))
    except ValidationError as exc:
        form = EvidenceForm(_as_form_data(evidence), instance=evidence)
        form.is_valid()
        form.add_error(None, "Not submitted yet: complete the fields marked below, then choose “Save and submit”.")
        add_service_errors(form, exc)
        context = {"form": form, "evidence": evidence, "attachments": list(evidence.attachments.all())}
        return render(request, "portal/evidence_form.html", context, status=400)
    messages.success(request, f"“{evidence.title}” was submitted for review.")
    return redirect("portal:evidence-detail", pk=evidence.pk)


@login_required
@require_POST
@employee_required
def evidence_delete_view(request: HttpRequest, employee: Employee, pk: int) -> HttpResponse:
    """Delete a draft that was never submitted."""
    evidence = _owned(employee, pk)
    try:
        evidence_delete(evidence=evidence, by=signed_in_user(request.user))
    except InvalidTransition as exc:
        messages.error(request, exc.message)
        return redirect("portal:evidence-detail", pk=evidence.pk)
    except PermissionDenied as exc:
        return forbidden(request, str(exc))
    messages.success(request, f"The draft “{evidence.title}” was deleted.")
    return redirect("portal:my-evidence")


@login_required
@require_POST
@employee_required
def evidence_correct_view(request: HttpRequest, employee: Employee, pk: int) -> HttpResponse:
    """Start a correction of a verified item: a new draft version; the verified one stays as it is."""
    evidence = _owned(employee, pk)
    try:
        copy = evidence_correct(evidence=evidence, by=signed_in_user(request.user))
    except InvalidTransition as exc:
        messages.error(request, exc.message)
        return redirect("portal:evidence-detail", pk=evidence.pk)
    except PermissionDenied as exc:
        return forbidden(request, str(exc))
    messages.success(
        request,
        f"Version {copy.version} was started as a draft. The verified version counts until this one is verified.",
    )
    return redirect("portal:evidence-edit", pk=copy.pk)


@login_required
@require_POST
@employee_required
def attachment_remove_view(request: HttpRequest, employee: Employee, pk: int, attachment_pk: int) -> HttpResponse:
    """Remove a file from an editable item."""
    attachment = get_object_or_404(
        Attachment.objects.select_related("evidence"), pk=attachment_pk, evidence_id=pk, evidence__owner=employee
    )
    try:
        attachment_remove(attachment=attachment, by=signed_in_user(request.user))
    except InvalidTransition as exc:
        messages.error(request, exc.message)
        return redirect("portal:evidence-detail", pk=pk)
    except PermissionDenied as exc:
        return forbidden(request, str(exc))
    messages.success(request, f"“{attachment.original_name}” was removed.")
    return redirect("portal:evidence-edit", pk=pk)


@login_required
@require_GET
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    """Send a file to someone who may see its evidence, as a download that the browser will not render."""
    attachment = attachment_get_visible(user=request.user, pk=pk)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("The stored file is missing.") from exc
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
