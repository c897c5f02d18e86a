"""One JSON error shape for the whole API: `{"status": "error", "code", "message", "fields"}`."""

from typing import Any

from django.conf import settings
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import csrf, defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import ApplicationError

_DRF_CODES = {
    status.HTTP_400_BAD_REQUEST: "invalid",
    status.HTTP_401_UNAUTHORIZED: "not_authenticated",
    status.HTTP_403_FORBIDDEN: "permission_denied",
    status.HTTP_404_NOT_FOUND: "not_found",
    status.HTTP_405_METHOD_NOT_ALLOWED: "method_not_allowed",
    status.HTTP_406_NOT_ACCEPTABLE: "not_acceptable",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "unsupported_media_type",
    status.HTTP_429_TOO_MANY_REQUESTS: "throttled",
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, SuspiciousOperation):
        status_code, code, message = _suspicious_answer(exc)
        return Response(error_body(code, message), status=status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    body: dict[str, Any] = {"status": "error"}
    if isinstance(exc, exceptions.ValidationError):
        body["code"] = "invalid"
        body["message"] = "The request has invalid fields."
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body["fields"] = detail
    else:
        body["code"], body["message"] = _code_and_message(exc, response.status_code)
    response.data = body
    return response


def _code_and_message(exc: Exception, status_code: int) -> tuple[str, str]:
    """A plain-string code and message from any APIException's `detail`.

    `detail` is usually one ErrorDetail, but some raise a dict (SimpleJWT:
    `{"detail", "code", "messages"}`) or a list; their text must not become the message.
    """
    default_code = _DRF_CODES.get(status_code) or "error"
    detail = getattr(exc, "detail", "")
    if isinstance(detail, dict):
        code = detail.get("code")
        message = detail.get("detail")
        if message is None:
            message = next(iter(detail.values()), "")
        detail = message if code is None else exceptions.ErrorDetail(str(message), code=str(code))
    if isinstance(detail, list):
        detail = detail[0] if detail else ""
    if isinstance(detail, (list, dict)):  # nested deeper than any handler raises: no text
        return default_code, str(getattr(exc, "default_detail", "")) or "Error."
    code = getattr(detail, "code", None)
    if not isinstance(code, str):
        code = default_code
    return code, str(detail)


# Server-rendered pages keep Django's HTML error pages; every other path speaks JSON (the API,
# the postbacks, the legacy endpoints, /healthz).
_HTML_PREFIXES = ("/portal/", "/admin/", "/static/")

# Machine codes of error answers that no view wrote (Django's own 4xx/5xx).
HTTP_ERROR_CODES = {
    400: "bad_request",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    429: "throttled",
    500: "server_error",
}
HTTP_ERROR_MESSAGES = {
    400: "Bad request.",
    403: "You do not have permission to perform this action.",
    404: "Not found.",
    413: "The request body is too large.",
    429: "Too many requests.",
    500: "Server error.",
}


def is_page_path(path: str) -> bool:
    """Whether `path` is a server-rendered page (portal, admin, static) rather than JSON."""
    return path.startswith(_HTML_PREFIXES)


def error_body(code: str, message: str) -> dict[str, str]:
    return {"status": "error", "code": code, "message": message}


def error_json(
    status_code: int, *, code: str | None = None, message: str | None = None
) -> JsonResponse:
    """The API's error shape as a plain Django response (for answers no DRF view renders)."""
    return JsonResponse(
        error_body(
            code or HTTP_ERROR_CODES.get(status_code, "error"),
            message or HTTP_ERROR_MESSAGES.get(status_code, "Error."),
        ),
        status=status_code,
    )


def _suspicious_answer(exc: SuspiciousOperation) -> tuple[int, str, str]:
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return 413, "body_too_large", f"The request body is larger than {limit} bytes."
    if isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        return 400, "too_many_fields", "The request has too many fields."
    return 400, "bad_request", "Bad request."


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """`handler400`: Django's refusals before a view runs (a body over the upload limit, too many
    fields, a malformed request) answer the error shape outside the HTML pages."""
    if is_page_path(request.path):
        return defaults.bad_request(request, exception)
    if isinstance(exception, SuspiciousOperation):
        status_code, code, message = _suspicious_answer(exception)
        return error_json(status_code, code=code, message=message)
    return error_json(400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """`handler403` (PermissionDenied raised in a plain Django view)."""
    if is_page_path(request.path):
        return defaults.permission_denied(request, exception)
    return error_json(403)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """`handler404` for config/urls.py: a URL that matches no route (e.g. `/api/campaigns/-1`)
    answers the API's error shape, not an HTML page."""
    if is_page_path(request.path):
        return defaults.page_not_found(request, exception)
    return error_json(404)


def server_error(request: HttpRequest) -> HttpResponse:
    """`handler500`: an unhandled exception (logged by Django) answers the error shape."""
    if is_page_path(request.path):
        return defaults.server_error(request)
    return error_json(500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """`CSRF_FAILURE_VIEW`: a JSON 403 `csrf_failed` outside the HTML pages, which keep
    Django's explanation page."""
    if is_page_path(request.path):
        return csrf.csrf_failure(request, reason=reason)
    return error_json(403, code="csrf_failed", message=f"CSRF check failed: {reason}")
