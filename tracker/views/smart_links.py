"""`/s/<token>`: a smart link's redirect, a plain Django view like `/c/<token>` and answered
the same way (302 with the click id cookie, or a plain 404). HEAD is answered like GET."""

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from core.exceptions import ApplicationError
from core.net import client_country, client_ip
from tracker.services.smart_links import smart_click_record
from tracker.views.clicks import redirect_response

_MAX_TOKEN_LENGTH = 64  # SmartLink.token


@require_safe
def smart_link_redirect(request: HttpRequest, token: str) -> HttpResponse:
    if len(token) > _MAX_TOKEN_LENGTH:
        return redirect_response(request, redirect_url=None, click=None)
    try:
        outcome = smart_click_record(
            token=token,
            params=request.GET,
            ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            referer=request.META.get("HTTP_REFERER", ""),
            country=client_country(request),
            now=timezone.now(),
        )
    except ApplicationError:
        return redirect_response(request, redirect_url=None, click=None)
    return redirect_response(request, redirect_url=outcome.redirect_url, click=outcome.click)
