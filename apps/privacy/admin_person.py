"""HR's faces for privacy requests in the admin: "Export personal data" and "Erase personal data…" on the Employee
change page (and on the User change page, for a login without an employee).

Erasure goes through a confirmation page that lists what will be erased and what stays, asks for the reason and for
the person's employee number (or user name) typed again; a refusal (legal hold, open cases, one's own data, no
permission) is shown there and nothing is written. The Employee and User admins are the org app's and Django's own,
extended here (privacy reads every app; none of them knows privacy).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from apps.common.text import ControlCharacterFormMixin
from apps.common.users import signed_in_user
from apps.org.admin import EmployeeAdmin
from apps.org.models import Employee

from .access import EXPORT_PERMISSION, export_person
from .erasure import ERASE_PERMISSION, erase_person, erasure_plan
from .persons import Person


class ErasureForm(ControlCharacterFormMixin, forms.Form):
    """The reason for an erasure, and the person's identifier typed again to confirm it is the right person."""

    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="The request and its date (e.g. 'Erasure request by e-mail, 3 March'). Recorded only as its "
        "length: the trail keeps no text about the person.",
    )
    confirm = forms.CharField(max_length=150, label="Type to confirm")

    def __init__(self, *args: Any, expected: str, what: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.expected = expected
        self.fields["confirm"].help_text = f"Type the {what} ({expected}) to confirm: erasure cannot be undone."

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"].strip()
        if value != self.expected:
            raise forms.ValidationError(f"This is not {self.expected}: type it exactly to confirm.")
        return value

    def clean_reason(self) -> str:
        value = self.cleaned_data["reason"].strip()
        if not value:
            raise forms.ValidationError("Say why the person is erased.")
        return value


class PersonPrivacyAdminMixin(admin.ModelAdmin):
    """Adds the export download and the erasure confirmation page to a person's admin (Employee or User)."""

    confirm_what = "employee number"

    def person_of(self, obj: Any) -> Person:
        raise NotImplementedError

    def confirm_value(self, obj: Any) -> str:
        raise NotImplementedError

    def _url_name(self, action: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{action}_personal_data"

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/erase-personal-data/", wrap(self.erase_view), name=self._url_name("erase")),
            path("<int:pk>/export-personal-data/", wrap(self.export_view), name=self._url_name("export")),
            *super().get_urls(),
        ]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra = dict(extra_context or {})
        if object_id.isdigit():
            site = self.admin_site.name
            if request.user.has_perm(EXPORT_PERMISSION):
                extra["export_personal_data_url"] = reverse(f"{site}:{self._url_name('export')}", args=[object_id])
            if request.user.has_perm(ERASE_PERMISSION):
                extra["erase_personal_data_url"] = reverse(f"{site}:{self._url_name('erase')}", args=[object_id])
        return super().change_view(request, object_id, form_url, extra)

    def _change_url(self, obj: Any) -> str:
        return reverse(f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])

    def export_view(self, request: HttpRequest, pk: int) -> FileResponse:
        """Download everything about the person as one zip archive (audited)."""
        obj = get_object_or_404(self.get_queryset(request), pk=pk)
        if not request.user.has_perm(EXPORT_PERMISSION):
            raise PermissionDenied
        archive = export_person(person=self.person_of(obj), by=signed_in_user(request.user))
        return FileResponse(archive.file, as_attachment=True, filename=archive.filename, content_type="application/zip")

    def erase_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The confirmation page of an erasure; on POST erase, then say what was erased."""
        obj = get_object_or_404(self.get_queryset(request), pk=pk)
        user = signed_in_user(request.user)
        if not user.has_perm(ERASE_PERMISSION):
            raise PermissionDenied
        person = self.person_of(obj)
        expected = self.confirm_value(obj)
        form = ErasureForm(request.POST if request.method == "POST" else None, expected=expected,
                           what=self.confirm_what)  # fmt: skip
        if request.method == "POST" and form.is_valid():
            try:
                report = erase_person(person=person, by=user, reason=form.cleaned_data["reason"])
            except (ValidationError, PermissionDenied) as exc:
                text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                self.message_user(request, f"Nothing was erased: {text}", messages.ERROR)
            else:
                self.message_user(request, report.summary(), messages.SUCCESS)
                return redirect(self._change_url(obj))
        plan = erasure_plan(person, by=user)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "title": f"Erase the personal data of {person.label}",
            "person": person,
            "plan": plan,
            "form": form,
            "change_url": self._change_url(obj),
        }
        return TemplateResponse(request, "privacy/person/erase_confirm.html", context)


class EmployeePrivacyAdmin(PersonPrivacyAdminMixin, EmployeeAdmin):
    """The org app's Employee admin, with the privacy buttons."""

    change_form_template = "privacy/person/change_form.html"

    def person_of(self, obj: Employee) -> Person:
        return Person.for_employee(obj)

    def confirm_value(self, obj: Employee) -> str:
        return obj.employee_number


User = get_user_model()
_UserAdmin: type[admin.ModelAdmin] = type(admin.site.get_model_admin(User))


class UserPrivacyAdmin(PersonPrivacyAdminMixin, _UserAdmin):  # type: ignore[misc, valid-type]
    """The User admin, with the privacy buttons (a login with an employee is erased with the employee)."""

    confirm_what = "user name"
    change_form_template = "privacy/person/change_form.html"

    def person_of(self, obj: Any) -> Person:
        return Person.for_user(obj)

    def confirm_value(self, obj: Any) -> str:
        return str(obj.get_username())


admin.site.unregister(Employee)
admin.site.register(Employee, EmployeePrivacyAdmin)
admin.site.unregister(User)
admin.site.register(User, UserPrivacyAdmin)
