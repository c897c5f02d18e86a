"""The affiliate portal's smart links: list with the ready URL, create, edit, deactivate.

Views parse and authorize (`affiliate_required`, `smart_link_get` for ownership); the
`campaigns.smart_links` services do every write, with the portal as the audit source.
"""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from campaigns import selectors as campaign_selectors
from campaigns.models import SmartLink
from campaigns.smart_links import (
    CATCH_ALL_MACROS,
    smart_link_create,
    smart_link_deactivate,
    smart_link_update,
    smart_link_url,
)
from core.exceptions import ApplicationError
from core.models import AuditSource
from portal.access import AffiliateRequest, affiliate_required
from portal.forms import SmartLinkForm, service_errors_apply


def _offered_campaigns(
    request: AffiliateRequest, smart_link: SmartLink | None = None
) -> list[tuple[int, str]]:
    """The campaigns the affiliate may run, and those the smart link already names (a revoked
    one stays visible, checked, until the affiliate takes it out)."""
    offered = dict(
        campaign_selectors.campaigns_runnable_by_affiliate(affiliate_id=request.user.pk)
        .order_by("name", "id")
        .values_list("id", "name")
    )
    if smart_link is not None:
        for entry in smart_link.entries.all():
            offered.setdefault(entry.campaign_id, entry.campaign.name)
    return list(offered.items())


def _context(form: SmartLinkForm, **extra) -> dict:
    return {"form": form, "macros": sorted(CATCH_ALL_MACROS), **extra}


@affiliate_required
@require_http_methods(["GET", "POST"])
def smart_link_list(request: AffiliateRequest) -> HttpResponse:
    form = SmartLinkForm(
        request.POST or None, campaigns=_offered_campaigns(request), initial={"is_active": True}
    )
    if request.method == "POST" and form.is_valid():
        try:
            smart_link = smart_link_create(
                affiliate=request.profile,
                name=form.cleaned_data["name"],
                entries=form.entries(),
                catch_all_url=form.cleaned_data["catch_all_url"],
                actor=request.user,
                source=AuditSource.PORTAL,
            )
        except ApplicationError as exc:
            service_errors_apply(form, exc)
        else:
            messages.success(request, f"Smart link “{smart_link.name}” created.")
            return redirect("portal:affiliate-smart-links")
    rows = [
        (smart_link, smart_link_url(smart_link=smart_link))
        for smart_link in campaign_selectors.smart_link_list(viewer=request.user)
    ]
    return render(request, "portal/affiliate/smart_link_list.html", _context(form, rows=rows))


@affiliate_required
@require_http_methods(["GET", "POST"])
def smart_link_edit(request: AffiliateRequest, smart_link_id: int) -> HttpResponse:
    smart_link = campaign_selectors.smart_link_get(viewer=request.user, smart_link_id=smart_link_id)
    form = SmartLinkForm(
        request.POST or None,
        campaigns=_offered_campaigns(request, smart_link),
        initial=SmartLinkForm.initial_from(smart_link),
    )
    if request.method == "POST" and form.is_valid():
        try:
            smart_link_update(
                smart_link=smart_link,
                data={
                    "name": form.cleaned_data["name"],
                    "catch_all_url": form.cleaned_data["catch_all_url"],
                    "is_active": form.cleaned_data["is_active"],
                    "entries": form.entries(),
                },
                actor=request.user,
                source=AuditSource.PORTAL,
            )
        except ApplicationError as exc:
            service_errors_apply(form, exc)
        else:
            messages.success(request, "Smart link saved.")
            return redirect("portal:affiliate-smart-links")
    return render(
        request,
        "portal/affiliate/smart_link_form.html",
        _context(form, smart_link=smart_link, url=smart_link_url(smart_link=smart_link)),
    )


@affiliate_required
@require_POST
def smart_link_deactivate_view(request: AffiliateRequest, smart_link_id: int) -> HttpResponse:
    smart_link = campaign_selectors.smart_link_get(viewer=request.user, smart_link_id=smart_link_id)
    smart_link_deactivate(smart_link=smart_link, actor=request.user, source=AuditSource.PORTAL)
    messages.success(request, f"Smart link “{smart_link.name}” deactivated: its URL answers 404.")
    return redirect("portal:affiliate-smart-links")
