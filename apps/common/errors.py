"""Domain errors that services raise and every interface (admin, pages, API, commands) turns into a clear answer."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults


class InvalidTransition(Exception):
    """The object is not in a state that allows this action (API: 409 Conflict)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# Error views for Django's URL handlers (ritualcriteria/urls.py): API callers get JSON, people the usual pages.
API_PREFIX = "/api/"


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: `{"detail": "Not found."}` as JSON under /api/ (as DRF answers), the HTML page elsewhere."""
    if _is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler403: JSON under /api/, the HTML page elsewhere."""
    if _is_api(request):
        return JsonResponse({"detail": "You do not have permission to perform this action."}, status=403)
    return defaults.permission_denied(request, exception)  # type: ignore[arg-type]
