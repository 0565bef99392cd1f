"""Pieces every portal view shares: the refusal pages, pagination and the employee check."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.evidence.permissions import employee_of
from apps.org.models import Employee

from ..constants import PAGE_SIZE


def forbidden(request: HttpRequest, message: str) -> HttpResponse:
    """A 403 page that says why, in words the user can act on."""
    return render(request, "portal/forbidden.html", {"message": message}, status=403)


def no_employee(request: HttpRequest) -> HttpResponse:
    """Explain that this login has no employee record, instead of failing."""
    return render(request, "portal/no_employee.html")


def paginate(request: HttpRequest, queryset: QuerySet[Any]) -> Page:
    """The requested page (a bad or too-large page number shows the nearest valid one)."""
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def employee_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Pass the signed-in user's employee record to the view, or show why there is none."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        employee: Employee | None = employee_of(request.user)
        if employee is None:
            return no_employee(request)
        return view(request, employee, *args, **kwargs)

    return wrapper
