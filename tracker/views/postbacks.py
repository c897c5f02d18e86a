"""Postback endpoints: plain Django views that read the raw request and call one service.

The service parses, authenticates and records; the views only gather the raw query string and
body (the signature covers the raw bytes) and turn its result into the JSON answer
(`tracker.postback_answers`). Partners' servers post without CSRF tokens, hence csrf_exempt.
"""

from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig, TooManyFieldsSent
from django.core.handlers.wsgi import get_bytes_from_wsgi
from django.http import HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt

from core.net import client_ip
from tracker.postback_answers import postback_answer, postback_answer_legacy
from tracker.postback_params import (
    ENDPOINT_API,
    ENDPOINT_KEYED,
    ENDPOINT_LEGACY,
    OPTIONAL_PARAMS,
    PostbackInbound,
)
from tracker.services.postbacks import PostbackResult, postback_receive, postback_receive_legacy

_RECEIVE_METHODS = ("GET", "POST")


def _method_not_allowed(allowed: tuple[str, ...]) -> JsonResponse:
    response = JsonResponse(
        {
            "status": "error",
            "message": f"Use {' or '.join(allowed)}.",
            "code": "method_not_allowed",
        },
        status=405,
    )
    response["Allow"] = ", ".join(allowed)
    return response


def raw_query(request: HttpRequest) -> bytes:
    """The query string's bytes as the client sent them (a signature covers these)."""
    try:
        return get_bytes_from_wsgi(request.META, "QUERY_STRING", "")
    except UnicodeEncodeError:
        return request.META.get("QUERY_STRING", "").encode("utf-8", errors="replace")


def _body(request: HttpRequest) -> bytes | None:
    """The raw body, or None when it is larger than POSTBACK_MAX_BODY_BYTES (refused unread
    when its Content-Length says so)."""
    limit = settings.POSTBACK_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return None
    try:
        body = request.body
    except RequestDataTooBig:
        return None
    return body if len(body) <= limit else None


def _inbound(request: HttpRequest, *, endpoint: str, path_key: str | None) -> PostbackInbound:
    body = _body(request)
    content_type = request.META.get("CONTENT_TYPE", "")
    form_data = None
    if body and content_type.lower().startswith("multipart/form-data"):
        try:
            form_data = request.POST.dict()
        except (MultiPartParserError, TooManyFieldsSent, BadRequest):
            form_data = None
    return PostbackInbound(
        endpoint=endpoint,
        method=request.method or "",
        query_string=raw_query(request),
        body=body,
        content_type=content_type,
        source_ip=client_ip(request),
        path_key=path_key,
        header_key=request.headers.get("X-Postback-Key", "").strip(),
        signature_timestamp=request.headers.get("X-ClickLedger-Timestamp"),
        signature=request.headers.get("X-ClickLedger-Signature"),
        form_data=form_data,
    )


def _answer(result: PostbackResult, *, legacy: bool = False) -> JsonResponse:
    status, payload = postback_answer_legacy(result) if legacy else postback_answer(result)
    response = JsonResponse(payload, status=status)
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt
def postback_by_key(request: HttpRequest, key: str) -> JsonResponse:
    """`GET|POST /postback/<key>`."""
    if request.method not in _RECEIVE_METHODS:
        return _method_not_allowed(_RECEIVE_METHODS)
    inbound = _inbound(request, endpoint=ENDPOINT_KEYED, path_key=key)
    return _answer(postback_receive(inbound=inbound))


@csrf_exempt
def postback_api(request: HttpRequest) -> JsonResponse:
    """`POST /api/track/postback` (GET too); the key in `key` or the `X-Postback-Key` header."""
    if request.method not in _RECEIVE_METHODS:
        return _method_not_allowed(_RECEIVE_METHODS)
    inbound = _inbound(request, endpoint=ENDPOINT_API, path_key=None)
    return _answer(postback_receive(inbound=inbound))


@csrf_exempt
def postback_legacy(request: HttpRequest) -> JsonResponse:
    """The first integrations' keyless `GET /postback?affiliate_id=&click_id=&amount=&currency=`."""
    if not settings.LEGACY_POSTBACK_ENABLED:
        return JsonResponse(
            {"status": "error", "success": False, "message": "Not found.", "code": "not_found"},
            status=404,
        )
    if request.method != "GET":
        return _method_not_allowed(("GET",))
    inbound = _inbound(request, endpoint=ENDPOINT_LEGACY, path_key=None)
    return _answer(postback_receive_legacy(inbound=inbound), legacy=True)


def postback_test_info(request: HttpRequest) -> JsonResponse:
    """`GET /api/analytics/postback/test`: the partner's "is it online" check (no database)."""
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed(("GET",))
    return JsonResponse(
        {
            "status": "online",
            "endpoint": "/postback/{key}",
            "methods": list(_RECEIVE_METHODS),
            "required_params": ["click_id"],
            "optional_params": OPTIONAL_PARAMS,
        }
    )
