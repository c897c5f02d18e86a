"""One JSON error shape for the whole API: `{"status": "error", "code", "message", "fields"}`."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
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


# Server-rendered pages keep Django's HTML 404; everything else here speaks JSON.
_HTML_PREFIXES = ("/portal/", "/admin/", "/static/")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """`handler404` for config/urls.py: a URL that matches no route (e.g. `/api/campaigns/-1`)
    answers the API's error shape, not an HTML page."""
    if request.path.startswith(_HTML_PREFIXES):
        return defaults.page_not_found(request, exception)
    return JsonResponse(
        {"status": "error", "code": "not_found", "message": "Not found."}, status=404
    )
