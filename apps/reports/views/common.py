"""What every dashboard page shares: the Leadership-and-HR gate and the filters as query-string pairs."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render

from ..filters import ReportFilters
from ..permissions import can_view_reports


def reports_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Signed in (else the sign-in page), and Leadership or HR (else 403 saying who may)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not can_view_reports(request.user):
            return render(
                request,
                "portal/forbidden.html",
                {"message": "The compliance dashboard is for the Leadership and HR groups."},
                status=403,
            )
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def filter_pairs(filters: ReportFilters, form: Any) -> list[tuple[str, str]]:
    """The filters as query-string pairs (download forms and "See the table" links carry them, redirects keep
    them)."""
    data = form.cleaned_data
    pairs = {
        "cycle": data["cycle"].pk if data.get("cycle") else "",
        "ritual": data["ritual"].code if data.get("ritual") else "",
        "unit": data["unit"].code if data.get("unit") else "",
        "from": filters.date_from.isoformat() if filters.date_from else "",
        "to": filters.date_to.isoformat() if filters.date_to else "",
    }
    return [(key, str(value)) for key, value in pairs.items() if value]
