"""The "API keys" page of both portals: a partner's own keys for scripts and servers.

Making a key shows it on the answering page and nowhere else (no redirect, no message, nothing
in the session): the database keeps only its prefix and hash (accounts.api_keys).
"""

import datetime as dt

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors
from accounts.api_keys import api_key_create, api_key_revoke, api_key_status
from accounts.http import AuthenticatedHttpRequest
from core.exceptions import ApplicationError
from portal.access import (
    AdvertiserRequest,
    AffiliateRequest,
    advertiser_required,
    affiliate_required,
)
from portal.forms import ApiKeyCreateForm, service_errors_apply


def _expiry(day: dt.date | None) -> dt.datetime | None:
    """A key that expires "on" a day works through that day (UTC)."""
    if day is None:
        return None
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)


def _api_keys_page(request: AuthenticatedHttpRequest, *, portal: str) -> HttpResponse:
    form = ApiKeyCreateForm(request.POST or None)
    context = {"portal": portal, "base_template": f"portal/{portal}/base.html"}
    if request.method == "POST" and form.is_valid():
        try:
            issued = api_key_create(
                user=request.user,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                expires_at=_expiry(form.cleaned_data["expires_on"]),
                ip_allowlist=form.allowlist(),
                now=timezone.now(),
            )
        except ApplicationError as exc:
            service_errors_apply(form, exc)
        else:
            response = render(
                request,
                "portal/api_key_created.html",
                {**context, "api_key": issued.api_key, "key": issued.key},
            )
            response["Cache-Control"] = "no-store"
            return response
    now = timezone.now()
    keys = [
        (api_key, api_key_status(api_key, now=now))
        for api_key in selectors.api_key_list(viewer=request.user)
    ]
    return render(request, "portal/api_keys.html", {**context, "form": form, "keys": keys})


def _api_key_revoke(request: AuthenticatedHttpRequest, api_key_id: int, *, portal: str):
    api_key = selectors.api_key_get(viewer=request.user, api_key_id=api_key_id)
    api_key_revoke(api_key=api_key, now=timezone.now())
    messages.success(request, f"API key “{api_key.name}” ({api_key.prefix}…) revoked.")
    return redirect(f"portal:{portal}-api-keys")


@advertiser_required
@require_http_methods(["GET", "POST"])
def advertiser_api_keys(request: AdvertiserRequest) -> HttpResponse:
    return _api_keys_page(request, portal="advertiser")


@advertiser_required
@require_POST
def advertiser_api_key_revoke(request: AdvertiserRequest, api_key_id: int) -> HttpResponse:
    return _api_key_revoke(request, api_key_id, portal="advertiser")


@affiliate_required
@require_http_methods(["GET", "POST"])
def affiliate_api_keys(request: AffiliateRequest) -> HttpResponse:
    return _api_keys_page(request, portal="affiliate")


@affiliate_required
@require_POST
def affiliate_api_key_revoke(request: AffiliateRequest, api_key_id: int) -> HttpResponse:
    return _api_key_revoke(request, api_key_id, portal="affiliate")
