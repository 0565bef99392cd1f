"""Middleware: request ids, the acting user, body size limits, control characters, and a clean 503 when the database
goes away."""

from __future__ import annotations

import base64
import binascii
import logging
import re
import sys
from collections.abc import Callable, Iterable
from urllib.parse import parse_qsl, unquote_to_bytes

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import escape

from .context import new_request_id, reset_request, reset_request_id, set_request, set_request_id
from .limits import limit_text, too_large_message
from .text import CONTROL_CHARACTERS_MESSAGE, has_control_characters

REQUEST_ID_HEADER = "X-Request-ID"
# A caller-supplied id is kept only when it is short and plain, so it cannot inject into logs.
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# Seconds a client is told to wait after a 503 for a database outage.
DATABASE_RETRY_AFTER_SECONDS = 5

logger = logging.getLogger(__name__)


class RequestIdMiddleware:
    """Take a valid X-Request-ID from the caller or make one; echo it on the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if VALID_REQUEST_ID.match(incoming) else new_request_id()
        request.request_id = request_id  # type: ignore[attr-defined]
        token = set_request_id(request_id)
        try:
            response = self.get_response(request)
        finally:
            reset_request_id(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class ActorMiddleware:
    """Make the request current, so changes are attributed to its authenticated user."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = set_request(request)
        try:
            return self.get_response(request)
        finally:
            reset_request(token)


def _wants_json(request: HttpRequest) -> bool:
    """API callers get JSON errors; people get a short page."""
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def _error_response(request: HttpRequest, *, status: int, title: str, message: str) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": message}, status=status)
    page = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title></head>'
        f"<body><h1>{escape(title)}</h1><p>{escape(message)}</p></body></html>"
    )
    return HttpResponse(page, status=status, content_type="text/html; charset=utf-8")


def database_unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: the database went away; nothing of the request was kept (its transaction died)."""
    response = _error_response(
        request,
        status=503,
        title="Service temporarily unavailable",
        # Also a deadlock or serialization failure (psycopg raises them as OperationalError): retrying is right too.
        message="The database could not complete this request right now and nothing was saved. Try again in a moment.",
    )
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def is_database_outage(exc: BaseException | None) -> bool:
    """A lost or refused database connection (not a bad query: those stay 500s and get fixed)."""
    return isinstance(exc, OperationalError | InterfaceError)


class DatabaseUnavailableMiddleware:
    """Turn a dropped or refused database connection during a view into a clean 503 instead of a 500.

    The view's transaction cannot have committed (the connection that would commit it is gone), so the answer can
    honestly say nothing was saved. Django closes the broken connection at the end of the request and the next
    request opens a fresh one (CONN_HEALTH_CHECKS). Errors raised outside views go through `server_error` below.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_database_outage(exception):
            return None
        logger.error("database unavailable during %s %s: %s", request.method, request.path, exception)
        return database_unavailable_response(request)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database outage outside a view (a middleware, the session save) is a 503 too."""
    exc = sys.exc_info()[1]
    if is_database_outage(exc):
        return database_unavailable_response(request)
    return _error_response(
        request,
        status=500,
        title="Server error",
        message="Something went wrong on our side; it has been logged. Try again, or tell HR if it persists.",
    )


class RequestSizeLimitMiddleware:
    """Refuse bodies larger than the limits before anything reads them: 413 with the sizes.

    Django checks DATA_UPLOAD_MAX_MEMORY_SIZE only when form data is parsed; DRF's JSON parser reads the raw stream
    and would take any size. This checks the declared Content-Length for every request: multipart (file uploads)
    may be up to REQUEST_MAX_UPLOAD_BYTES, anything else up to REQUEST_MAX_BODY_BYTES. A malformed Content-Length
    is a 400. Query strings and form bodies must be valid UTF-8 (Django would silently replace bad bytes); control
    characters in them are ControlCharacterMiddleware's, which follows this one.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        raw_length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(raw_length)
            if length < 0:
                raise ValueError(raw_length)
        except ValueError:
            return _error_response(
                request, status=400, title="Bad request", message="The Content-Length header is not a size."
            )
        content_type = request.content_type or ""
        multipart = content_type == "multipart/form-data"
        limit = settings.REQUEST_MAX_UPLOAD_BYTES if multipart else settings.REQUEST_MAX_BODY_BYTES
        if length > limit:
            what = "upload" if multipart else "request body"
            return _error_response(
                request,
                status=413,
                title="Request too large",
                message=too_large_message(what, size=length, limit=limit),
            )
        problem = _form_problem(request.META.get("QUERY_STRING", "").encode("latin-1", "replace"), "query string")
        if problem is None and length and content_type == "application/x-www-form-urlencoded":
            problem = _form_problem(request.body, "form data")
        if problem is not None:
            return _error_response(request, status=400, title="Bad request", message=problem)
        return self.get_response(request)


def _form_problem(encoded: bytes, what: str) -> str | None:
    """Why a urlencoded string cannot be taken as text: not UTF-8."""
    if not encoded:
        return None
    try:
        unquote_to_bytes(encoded.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return f"The {what} is not valid UTF-8; send it as UTF-8 text."
    return None


# Request headers the product reads whose values reach the database or the logs: the API credentials (a user name
# or token looked up) and the browser's name (django-axes stores it with a failed sign-in). X-Request-ID is kept only
# when plain (RequestIdMiddleware); the client address comes from the server (REMOTE_ADDR), not a header.
CHECKED_HEADERS = ("Authorization", "User-Agent")


class ControlCharacterMiddleware:
    """Refuse control characters (apps.common.text) where no form or parser field can report them: 400 naming where.

    - Query strings (filters, search, pagination of the API and the pages): every parameter name and value.
      The API answers `{"<parameter>": ["Control characters are not allowed."]}`; pages answer a short 400 page.
    - The headers in CHECKED_HEADERS, Basic credentials decoded.
    - Form bodies: a NUL anywhere (no text column can store one). Other control characters in forms are left to the
      form or the API parser, which report them next to their field.
    - Cookies with control characters are dropped, as if the browser had not sent them: a corrupt cookie must not
      lock a person out (the session starts afresh) nor reach the session lookup.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refused = _refused_query_parameter(request.GET.lists())
        if refused is not None:
            return _control_character_response(request, refused, f"The query parameter '{refused}'")
        for header in CHECKED_HEADERS:
            if _header_has_control_characters(request, header):
                return _control_character_response(request, header, f"The {header} header")
        if request.content_type == "application/x-www-form-urlencoded" and request.META.get("CONTENT_LENGTH"):
            fields = parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True)
            for name, value in fields:
                if "\x00" in name:
                    return _control_character_response(request, "non_field_errors", "A form field's name")
                if "\x00" in value:
                    return _control_character_response(request, name, f"The form field '{name}'")
        for name in [
            name
            for name, value in request.COOKIES.items()
            if has_control_characters(name) or has_control_characters(value)
        ]:
            del request.COOKIES[name]
        return self.get_response(request)


def _refused_query_parameter(items: Iterable[tuple[str, list[str]]]) -> str | None:
    for name, values in items:
        if has_control_characters(name):
            return "query string"
        if any(has_control_characters(value) for value in values):
            return name
    return None


def _header_has_control_characters(request: HttpRequest, header: str) -> bool:
    value = request.headers.get(header, "")
    if has_control_characters(value):
        return True
    scheme, _, credentials = value.partition(" ")
    if header == "Authorization" and scheme.lower() == "basic" and credentials:
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False  # not Basic credentials at all: the authentication refuses them itself
        return has_control_characters(decoded)
    return False


def _control_character_response(request: HttpRequest, key: str, where: str) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({key: [CONTROL_CHARACTERS_MESSAGE]}, status=400)
    return _error_response(
        request,
        status=400,
        title="Bad request",
        message=f"{where} contains control characters, which are not allowed. Remove them and try again.",
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400: say what was wrong with the request (too large, too many fields) instead of a bare 400."""
    if isinstance(exception, RequestDataTooBig):
        return _error_response(
            request,
            status=413,
            title="Request too large",
            message=f"The form data is larger than {limit_text(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)}; send less text.",
        )
    if isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
        message = "The form has too many fields or files; send fewer."
    else:
        message = "The request could not be understood; check what was sent and try again."
    return _error_response(request, status=400, title="Bad request", message=message)
