"""Click endpoints: plain Django views that parse the request and call one service.

`/c/<token>` and `/api/track/click/<token>` answer 302 (or a plain 404), leaving the click id in
the `cl_cid` cookie for conversion pixels (`tracker.click_cookie`) unless the click is blocked.
HEAD is answered exactly like GET, click included: the response headers must be the same, and the
Location carries the new click id. The legacy `/click` of the first integrations answers JSON with
both `status` and `success`.
"""

import datetime as dt
import re

from django.http import HttpRequest, HttpResponse, HttpResponseNotFound, JsonResponse
from django.utils import timezone
from django.utils.encoding import iri_to_uri
from django.views.decorators.http import require_safe

from core.exceptions import ApplicationError
from core.net import client_country, client_ip
from tracker.click_cookie import click_cookie_set
from tracker.services.clicks import ClickOutcome, click_record, click_record_external

_MAX_TOKEN_LENGTH = 64  # TrackingLink.token
_INTEGER_ID = re.compile(r"[0-9]{1,18}")
_LEGACY_ID_PARAMS = ("affiliate_id", "campaign_id", "click_id")


def _not_found() -> HttpResponse:
    return HttpResponseNotFound("Not found.\n", content_type="text/plain; charset=utf-8")


@require_safe
def click_redirect(request: HttpRequest, token: str) -> HttpResponse:
    if len(token) > _MAX_TOKEN_LENGTH:
        return _not_found()
    try:
        outcome = click_record(
            token=token,
            params=request.GET,
            ip=client_ip(request),
            # META, not `request.headers`: that builds a dict of every header, per request.
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            referer=request.META.get("HTTP_REFERER", ""),
            country=client_country(request),
            now=timezone.now(),
        )
    except ApplicationError:
        return _not_found()
    return redirect_response(request, redirect_url=outcome.redirect_url, click=outcome)


def redirect_response(
    request: HttpRequest, *, redirect_url: str | None, click: ClickOutcome | None
) -> HttpResponse:
    """302 to `redirect_url` (None: a plain 404), with the click's id in the `cl_cid` cookie
    when the click can convert. Shared by `/c/<token>` and `/s/<token>`."""
    if redirect_url is None:
        return _not_found()
    response = HttpResponse(status=302)
    # Macro values are already percent-encoded; this only escapes non-ASCII in the template.
    response["Location"] = iri_to_uri(redirect_url)
    # Every visit must reach us again to be counted; no browser or proxy may replay the redirect.
    response["Cache-Control"] = "no-store"
    if click is not None and click.cookie_max_age is not None:
        click_cookie_set(
            response, request=request, click_id=click.click_id, max_age=click.cookie_max_age
        )
    return response


def _legacy_error(*, message: str, code: str, status: int) -> JsonResponse:
    body = {"status": "error", "success": False, "message": message, "code": code}
    return JsonResponse(body, status=status)


def _legacy_timestamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@require_safe
def legacy_click(request: HttpRequest) -> JsonResponse:
    """The first integrations' `GET /click?affiliate_id=&campaign_id=&click_id=`."""
    ids: dict[str, int] = {}
    for name in ("affiliate_id", "campaign_id"):
        raw = request.GET.get(name, "").strip()
        if not raw:
            return _legacy_error(message=f"{name} is required.", code=f"missing_{name}", status=400)
        if not _INTEGER_ID.fullmatch(raw):
            return _legacy_error(
                message=f"{name} must be a positive integer.", code=f"invalid_{name}", status=400
            )
        ids[name] = int(raw)
    params = {
        name: value for name, value in request.GET.dict().items() if name not in _LEGACY_ID_PARAMS
    }
    try:
        outcome = click_record_external(
            affiliate_id=ids["affiliate_id"],
            campaign_id=ids["campaign_id"],
            click_id=request.GET.get("click_id"),
            params=params,
            ip=client_ip(request),
            user_agent=request.headers.get("user-agent", ""),
            referer=request.headers.get("referer", ""),
            country=client_country(request),
            now=timezone.now(),
        )
    except ApplicationError as exc:
        return _legacy_error(message=exc.message, code=exc.code, status=exc.status)
    click = outcome.click
    return JsonResponse(
        {
            "status": "success",
            "success": True,
            "message": "Click tracked successfully",
            "data": {
                "click_id": click.click_id,
                "affiliate_id": click.affiliate_id,
                "campaign_id": click.campaign_id,
                "timestamp": _legacy_timestamp(click.created_at),
            },
        }
    )
