"""The advertiser portal: dashboard, campaigns, applications, partner keys, conversions.

Views parse and authorize (`advertiser_required`, then the scoped selectors); the campaigns and
tracker services do every write.
"""

import json
from typing import Any

from django.contrib import messages
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from campaigns import selectors as campaign_selectors
from campaigns import services as campaign_services
from campaigns.landing_pages import (
    landing_page_create,
    landing_page_get,
    landing_page_list,
    landing_page_update,
)
from campaigns.macros import LANDING_MACROS, TemplateError, template_fill, template_validate
from campaigns.models import CampaignStatus
from campaigns.partner_keys import (
    partner_key_create,
    partner_key_pixel_snippets,
    partner_key_postback_url,
    partner_key_rotate,
    partner_key_takes_pixels,
    partner_key_update,
)
from campaigns.partner_profiles import profile_maps_clean
from campaigns.targeting import targeting_summary
from core.exceptions import ApplicationError, NotFoundError
from core.models import AuditSource
from core.money import money_text
from portal import selectors
from portal.access import AdvertiserRequest, advertiser_required
from portal.charts import traffic_charts
from portal.forms import (
    ApplicationFilterForm,
    BreakdownForm,
    CampaignFilterForm,
    CampaignForm,
    ConversionFilterForm,
    ConversionStatusForm,
    DecisionForm,
    InviteForm,
    LandingPageForm,
    PartnerKeyCreateForm,
    PartnerKeyEditForm,
    PeriodForm,
    pairs_text,
    service_errors_apply,
)
from portal.tables import Column, Table, csv_export, csv_lines, csv_response, wants_csv
from portal.views.advertiser_pricing import event_rows
from portal.views.report import report_response
from tracker.explain import conversion_explain
from tracker.models import ChangeSource
from tracker.postback_params import postback_reading
from tracker.selectors import conversion_get, conversion_list
from tracker.services.conversions import conversion_status_change

# Sample values for the landing URL preview: what one real click would put in.
PREVIEW_VALUES = {
    "click_id": "AbC123xYz_sample",
    "affiliate_id": "42",
    "campaign_id": "7",
    "offer_id": "OFFER-7",
    "sub1": "facebook",
    "sub2": "ad set 3",
    "sub3": "",
    "sub4": "",
    "sub5": "",
    "user_id": "user-991",
    "country": "DE",
}


def _filters(form) -> dict:
    return form.cleaned_data if form.is_valid() else {}


@advertiser_required
def dashboard(request: AdvertiserRequest) -> HttpResponse:
    period_form = PeriodForm(request.GET or None)
    period = selectors.period_last_days(period_form.period_days())
    summary = selectors.traffic_summary(viewer=request.user, period=period)
    events = selectors.event_breakdown(
        viewer=request.user, date_from=period.date_from, date_to=period.date_to
    )
    charts = traffic_charts(summary.daily)
    breakdown_form = BreakdownForm(request.GET or None)
    breakdown, breakdown_count = selectors.traffic_breakdown(
        viewer=request.user, period=period, dimension=breakdown_form.dimension()
    )
    return render(
        request,
        "portal/advertiser/dashboard.html",
        {
            "period_form": period_form,
            "breakdown_form": breakdown_form,
            "breakdown": breakdown,
            "breakdown_count": breakdown_count,
            "breakdown_money": "Approved revenue",
            "fraud": selectors.fraud_summary(viewer=request.user, period=period),
            "summary": summary,
            "events": events,
            "charts": charts,
            "top_affiliates": selectors.top_affiliates(viewer=request.user, period=period),
            "pending_applications": campaign_selectors.access_list(viewer=request.user)
            .filter(status="pending")
            .count(),
        },
    )


@advertiser_required
def report(request: AdvertiserRequest) -> HttpResponse | StreamingHttpResponse:
    return report_response(request, template="portal/advertiser/report.html")


# --- campaigns ---------------------------------------------------------------------------------

CAMPAIGN_COLUMNS = [
    Column("Campaign", "name"),
    Column("Status", "status"),
    Column("Payout"),
    Column("Visibility", "visibility"),
    Column("Created", "created"),
    Column("Actions"),
]
CAMPAIGN_SORTS = {"name": "name", "status": "status", "visibility": "visibility", "created": "id"}


@advertiser_required
def campaign_list(request: AdvertiserRequest) -> HttpResponse | StreamingHttpResponse:
    form = CampaignFilterForm(request.GET or None)
    queryset = selectors.campaigns_filtered(
        campaign_selectors.campaign_list(viewer=request.user),
        status=_filters(form).get("status", ""),
        search=_filters(form).get("q", ""),
    )
    table = Table(
        request, queryset, columns=CAMPAIGN_COLUMNS, sorts=CAMPAIGN_SORTS, default_sort="-created"
    )
    if wants_csv(request):
        return csv_export(
            "campaigns.csv",
            table.queryset,
            [
                "id",
                "name",
                "status",
                "payout_type",
                "payout_amount",
                "revshare_percent",
                "currency",
                "visibility",
                "landing_url",
                "created_at",
            ],
            lambda c: [
                c.pk,
                c.name,
                c.status,
                c.payout_type,
                c.payout_amount,
                c.revshare_percent,
                c.currency,
                c.visibility,
                c.landing_url,
                c.created_at,
            ],
        )
    return render(request, "portal/advertiser/campaign_list.html", {"form": form, "table": table})


def _landing_preview(url: str) -> tuple[str, str]:
    """(filled URL, error) for the macro helper: what a click would be sent to."""
    if not url:
        return "", ""
    try:
        template_validate(url, allowed=LANDING_MACROS)
    except TemplateError as exc:
        return "", str(exc)
    return template_fill(url, PREVIEW_VALUES), ""


# At most this many affiliates are suggested on the invitation form (any may be named).
KNOWN_AFFILIATES_SHOWN = 500


def _campaign_editor(request: AdvertiserRequest, campaign=None) -> HttpResponse:
    initial = CampaignForm.initial_from(campaign) if campaign else None
    form = CampaignForm(request.POST or None, initial=initial)
    preview, preview_error = "", ""
    if request.method == "POST" and form.is_valid():
        if "preview" in request.POST:
            preview, preview_error = _landing_preview(form.cleaned_data["landing_url"])
        else:
            try:
                if campaign is None:
                    saved = campaign_services.campaign_create(
                        advertiser=request.profile,
                        data=form.service_data(),
                        actor=request.user,
                        source=AuditSource.PORTAL,
                    )
                else:
                    saved = campaign_services.campaign_update(
                        campaign=campaign,
                        data=form.service_data(),
                        actor=request.user,
                        source=AuditSource.PORTAL,
                    )
            except ApplicationError as exc:
                service_errors_apply(form, exc)
            else:
                messages.success(request, f"Campaign “{saved.name}” saved.")
                return redirect("portal:advertiser-campaign-edit", campaign_id=saved.pk)
    elif campaign is not None:
        preview, preview_error = _landing_preview(campaign.landing_url)
    events = []
    if campaign is not None:
        events = event_rows(
            list(campaign_selectors.event_list(viewer=request.user, campaign=campaign)),
            campaign.currency,
        )
    landing_pages = (
        list(landing_page_list(viewer=request.user, campaign=campaign)) if campaign else []
    )
    known_affiliates = []
    if campaign is not None and campaign.status != CampaignStatus.ARCHIVED:
        known_affiliates = list(
            campaign_selectors.affiliate_list_for_invitation(viewer=request.user)[
                :KNOWN_AFFILIATES_SHOWN
            ]
        )
    return render(
        request,
        "portal/advertiser/campaign_form.html",
        {
            "form": form,
            "campaign": campaign,
            "preview": preview,
            "preview_error": preview_error,
            "preview_values": PREVIEW_VALUES,
            "macros": sorted(LANDING_MACROS),
            "invite_form": InviteForm(),
            "known_affiliates": known_affiliates,
            "events": events,
            "targeting_summary": targeting_summary(campaign.targeting) if campaign else "",
            "landing_pages": landing_pages,
            "landing_page_form": LandingPageForm(auto_id="id_lp_%s"),
        },
    )


@advertiser_required
@require_http_methods(["GET", "POST"])
def campaign_create(request: AdvertiserRequest) -> HttpResponse:
    return _campaign_editor(request)


@advertiser_required
@require_http_methods(["GET", "POST"])
def campaign_edit(request: AdvertiserRequest, campaign_id: int) -> HttpResponse:
    campaign = campaign_selectors.campaign_get(viewer=request.user, campaign_id=campaign_id)
    return _campaign_editor(request, campaign)


@advertiser_required
@require_POST
def campaign_status(request: AdvertiserRequest, campaign_id: int) -> HttpResponse:
    campaign = campaign_selectors.campaign_get(viewer=request.user, campaign_id=campaign_id)
    status = request.POST.get("status", "")
    if status not in (CampaignStatus.ACTIVE, CampaignStatus.PAUSED, CampaignStatus.ARCHIVED):
        messages.error(request, "Choose active, paused or archived.")
    else:
        try:
            campaign_services.campaign_set_status(
                campaign=campaign, status=status, actor=request.user, source=AuditSource.PORTAL
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Campaign “{campaign.name}” is now {status}.")
    return redirect("portal:advertiser-campaigns")


def _landing_page_save(request: AdvertiserRequest, *, campaign, page=None) -> HttpResponse:
    form = LandingPageForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(
            f"{form[name].label}: {' '.join(map(str, e))}" for name, e in form.errors.items()
        )
        messages.error(request, f"The landing page was not saved. {errors}")
    else:
        try:
            if page is None:
                page = landing_page_create(
                    campaign=campaign,
                    data=form.cleaned_data,
                    actor=request.user,
                    source=AuditSource.PORTAL,
                )
            else:
                page = landing_page_update(
                    landing_page=page,
                    data=form.cleaned_data,
                    actor=request.user,
                    source=AuditSource.PORTAL,
                )
        except ApplicationError as exc:
            fields = "; ".join(" ".join(map(str, errs)) for errs in exc.fields.values())
            messages.error(request, f"The landing page was not saved. {fields or exc.message}")
        else:
            messages.success(request, f"Landing page “{page.name}” saved.")
    return redirect(
        f"{reverse('portal:advertiser-campaign-edit', args=[campaign.pk])}#landing-pages"
    )


@advertiser_required
@require_POST
def campaign_landing_page_create(request: AdvertiserRequest, campaign_id: int) -> HttpResponse:
    campaign = campaign_selectors.campaign_get(viewer=request.user, campaign_id=campaign_id)
    return _landing_page_save(request, campaign=campaign)


@advertiser_required
@require_POST
def landing_page_edit(request: AdvertiserRequest, landing_page_id: int) -> HttpResponse:
    """Change a page; unchecking Active deactivates it (pages are never deleted)."""
    page = landing_page_get(viewer=request.user, landing_page_id=landing_page_id)
    return _landing_page_save(request, campaign=page.campaign, page=page)


_NO_SUCH_AFFILIATE = "No approved affiliate has this id or email."


@advertiser_required
@require_POST
def campaign_invite(request: AdvertiserRequest, campaign_id: int) -> HttpResponse:
    """Invite an affiliate, named by id or email, into the campaign: approved access at once.

    An unknown affiliate and one whose account is not approved get the same answer, so the
    form tells an advertiser nothing about the network's accounts beyond who can be invited.
    """
    campaign = campaign_selectors.campaign_get(viewer=request.user, campaign_id=campaign_id)
    form = InviteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Name the affiliate to invite by its id or its email.")
        return redirect("portal:advertiser-campaign-edit", campaign_id=campaign.pk)
    started = timezone.now()
    try:
        affiliate = campaign_selectors.affiliate_get_for_invitation(
            viewer=request.user, **form.lookup()
        )
        access = campaign_services.access_invite(
            campaign=campaign, affiliate=affiliate, actor=request.user
        )
    except NotFoundError:
        messages.error(request, _NO_SUCH_AFFILIATE)
    except ApplicationError as exc:
        is_not_invitable = exc.code == "affiliate_not_approved"
        messages.error(request, _NO_SUCH_AFFILIATE if is_not_invitable else exc.message)
    else:
        if access.invited_at is not None and access.invited_at >= started:
            messages.success(
                request,
                f"{affiliate} is invited to “{campaign.name}”: its access is approved and it "
                "has been emailed.",
            )
        else:
            messages.success(request, f"{affiliate} already has access to “{campaign.name}”.")
    return redirect("portal:advertiser-campaign-edit", campaign_id=campaign.pk)


# --- applications ------------------------------------------------------------------------------

APPLICATION_COLUMNS = [
    Column("Affiliate", "affiliate"),
    Column("Campaign", "campaign"),
    Column("Status", "status"),
    Column("Applied", "created"),
    Column("Message"),
    Column("Decision"),
]
APPLICATION_SORTS = {
    "affiliate": "affiliate__company",
    "campaign": "campaign__name",
    "status": "status",
    "created": "id",
}


@advertiser_required
def application_list(request: AdvertiserRequest) -> HttpResponse | StreamingHttpResponse:
    form = ApplicationFilterForm(request.GET or None)
    queryset = campaign_selectors.access_list(viewer=request.user)
    if status := _filters(form).get("status"):
        queryset = queryset.filter(status=status)
    table = Table(
        request,
        queryset,
        columns=APPLICATION_COLUMNS,
        sorts=APPLICATION_SORTS,
        default_sort="-created",
    )
    if wants_csv(request):
        return csv_export(
            "applications.csv",
            table.queryset,
            ["id", "campaign_id", "campaign", "affiliate_id", "affiliate", "status", "created_at"],
            lambda a: [
                a.pk,
                a.campaign_id,
                a.campaign.name,
                a.affiliate_id,
                str(a.affiliate),
                a.status,
                a.created_at,
            ],
        )
    return render(
        request, "portal/advertiser/application_list.html", {"form": form, "table": table}
    )


@advertiser_required
@require_POST
def application_decide(request: AdvertiserRequest, access_id: int) -> HttpResponse:
    access = campaign_selectors.access_get(viewer=request.user, access_id=access_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose approve, reject or revoke.")
    else:
        try:
            campaign_services.access_decide(
                access=access,
                status=form.cleaned_data["status"],
                actor=request.user,
                reason=form.cleaned_data["reason"],
                source=AuditSource.PORTAL,
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                f"{access.affiliate} on “{access.campaign.name}”: {form.cleaned_data['status']}.",
            )
    return redirect("portal:advertiser-applications")


# --- partner keys ------------------------------------------------------------------------------


def _preview(form: PartnerKeyCreateForm) -> dict[str, Any] | None:
    """How the pasted URL would be read with the form's profile (nothing saved, nothing looked
    up); None when the form is invalid or no URL was pasted."""
    if not form.is_valid() or not form.cleaned_data["preview_url"].strip():
        if form.is_valid():
            form.add_error("preview_url", "Paste a postback URL to preview.")
        return None
    try:
        profile_maps_clean(**form.profile_data())
    except ApplicationError as exc:
        service_errors_apply(form, exc)
        return None
    reading = postback_reading(**form.profile_data(), url=form.cleaned_data["preview_url"])
    fields = reading.fields
    if reading.error is not None or fields is None:
        return {"error": reading.error}
    return {
        "rows": [
            ("Click id", fields.click_id or "—"),
            ("Transaction id", fields.transaction_id or "—"),
            ("Event", fields.event or "the campaign's default event"),
            (
                "Status",
                fields.status
                + (f" (sent as {fields.partner_status!r})" if fields.partner_status else "")
                if fields.status_given
                else "not sent: the event's initial status",
            ),
            ("Payout", money_text(fields.payout) if fields.payout is not None else "—"),
            ("Offer id", fields.partner_offer_id or "—"),
            ("Sub ids", ", ".join(f"{k}={v}" for k, v in fields.sub_ids.items()) or "—"),
            (
                "Custom data",
                json.dumps(fields.custom_data, sort_keys=True) if fields.custom_data else "—",
            ),
        ],
        "renamed": reading.renamed,
        "warnings": fields.warnings,
    }


@advertiser_required
@require_http_methods(["GET", "POST"])
def partner_key_list(request: AdvertiserRequest) -> HttpResponse:
    form = PartnerKeyCreateForm(request.POST or None)
    preview = None
    if request.method == "POST" and request.POST.get("action") == "preview":
        preview = _preview(form)
    elif request.method == "POST" and form.is_valid():
        try:
            key = partner_key_create(
                advertiser=request.profile,
                name=form.cleaned_data["name"],
                ip_allowlist=form.allowlist(),
                require_signature=form.cleaned_data["require_signature"],
                actor=request.user,
                source=AuditSource.PORTAL,
                **form.profile_data(),
            )
        except ApplicationError as exc:
            service_errors_apply(form, exc)
        else:
            return _partner_key_secret(request, key, created=True)
    keys = [
        (key, partner_key_postback_url(partner_key=key))
        for key in campaign_selectors.partner_key_list(viewer=request.user)
    ]
    return render(
        request,
        "portal/advertiser/partner_keys.html",
        {"form": form, "keys": keys, "preview": preview},
    )


def _partner_key_secret(request: AdvertiserRequest, key, *, created: bool) -> HttpResponse:
    """The one page that shows a key's signing secret: right after creating or rotating it."""
    return render(
        request,
        "portal/advertiser/partner_key_secret.html",
        {
            "key": key,
            "created": created,
            "postback_url": partner_key_postback_url(partner_key=key),
        },
    )


@advertiser_required
@require_http_methods(["GET", "POST"])
def partner_key_edit(request: AdvertiserRequest, partner_key_id: int) -> HttpResponse:
    key = campaign_selectors.partner_key_get(viewer=request.user, partner_key_id=partner_key_id)
    form = PartnerKeyEditForm(
        request.POST or None,
        initial={
            "name": key.name,
            "ip_allowlist": "\n".join(key.ip_allowlist),
            "require_signature": key.require_signature,
            "is_active": key.is_active,
            "profile": key.profile,
            "param_map": pairs_text(key.param_map),
            "status_map": pairs_text(key.status_map),
        },
    )
    preview = None
    if request.method == "POST" and request.POST.get("action") == "preview":
        preview = _preview(form)
    elif request.method == "POST" and form.is_valid():
        try:
            partner_key_update(
                partner_key=key,
                name=form.cleaned_data["name"],
                ip_allowlist=form.allowlist(),
                is_active=form.cleaned_data["is_active"],
                require_signature=form.cleaned_data["require_signature"],
                actor=request.user,
                source=AuditSource.PORTAL,
                **form.profile_data(),
            )
        except ApplicationError as exc:
            service_errors_apply(form, exc)
        else:
            messages.success(request, f"Partner key “{key}” saved.")
            return redirect("portal:advertiser-partner-keys")
    return render(
        request,
        "portal/advertiser/partner_key_form.html",
        {
            "form": form,
            "key": key,
            "postback_url": partner_key_postback_url(partner_key=key),
            "preview": preview,
            "takes_pixels": partner_key_takes_pixels(partner_key=key),
            "pixels": partner_key_pixel_snippets(partner_key=key),
        },
    )


@advertiser_required
@require_POST
def partner_key_rotate_view(request: AdvertiserRequest, partner_key_id: int) -> HttpResponse:
    key = campaign_selectors.partner_key_get(viewer=request.user, partner_key_id=partner_key_id)
    rotated = partner_key_rotate(
        partner_key=key, now=timezone.now(), actor=request.user, source=AuditSource.PORTAL
    )
    return _partner_key_secret(request, rotated, created=False)


# --- conversions -------------------------------------------------------------------------------

CONVERSION_COLUMNS = [
    Column("ID", "id", numeric=True),
    Column("Date", "created"),
    Column("Campaign", "campaign"),
    Column("Affiliate", "affiliate", numeric=True),
    Column("Status", "status"),
    Column("Revenue", "revenue", numeric=True),
    Column("Click / transaction"),
]
# An advertiser reads the revenue of its conversions, never the affiliate's payout
# (`tracker.selectors.money_visible`): no column, sort or export of it.
CONVERSION_SORTS = {
    "id": "id",
    "created": "created_at",
    "campaign": "campaign__name",
    "affiliate": "affiliate_id",
    "status": "status",
    "revenue": "revenue",
}
# (CSV column, where it comes from: a conversion field, or `click__<field>` of its click).
CONVERSION_CSV_COLUMNS = [
    ("id", "id"),
    ("created_at", "created_at"),
    ("campaign_id", "campaign_id"),
    ("campaign", "campaign__name"),
    ("affiliate_id", "affiliate_id"),
    ("status", "status"),
    ("reason", "reason"),
    ("fraud_signals", "fraud_signals"),
    ("currency", "currency"),
    ("revenue", "revenue"),
    ("click_id", "click__click_id"),
    ("transaction_id", "transaction_id"),
    ("user_id", "user_id"),
    ("sub1", "click__sub1"),
    ("device_type", "click__device_type"),
    ("os", "click__os"),
    ("browser", "click__browser"),
]


@advertiser_required
def conversion_list_view(request: AdvertiserRequest) -> HttpResponse | StreamingHttpResponse:
    campaigns = (
        campaign_selectors.campaign_list(viewer=request.user)
        .prefetch_related(None)
        .values_list("id", "name")
    )
    form = ConversionFilterForm(request.GET or None, campaigns=campaigns)
    filters = _filters(form)
    queryset = selectors.conversions_filtered(
        conversion_list(viewer=request.user),
        viewer=request.user,
        status=filters.get("status", ""),
        campaign_id=filters.get("campaign"),
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
        search=filters.get("q", ""),
    )
    table = Table(
        request,
        queryset,
        columns=CONVERSION_COLUMNS,
        sorts=CONVERSION_SORTS,
        default_sort="-id",
    )
    if wants_csv(request):
        header, fields = zip(*CONVERSION_CSV_COLUMNS, strict=True)
        rows = selectors.conversion_export_rows(table.queryset, columns=fields)
        return csv_response("conversions.csv", csv_lines(header, rows))
    return render(request, "portal/advertiser/conversion_list.html", {"form": form, "table": table})


@advertiser_required
@require_http_methods(["GET", "POST"])
def conversion_detail(request: AdvertiserRequest, conversion_id: int) -> HttpResponse:
    conversion = conversion_get(viewer=request.user, conversion_id=conversion_id)
    form = ConversionStatusForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            conversion_status_change(
                conversion_id=conversion.pk,
                status=form.cleaned_data["status"],
                actor=request.user,
                reason=form.cleaned_data["reason"],
                source=ChangeSource.ADVERTISER,
                audit_source=AuditSource.PORTAL,
            )
        except ApplicationError as exc:
            service_errors_apply(form, exc)
        else:
            messages.success(request, f"Conversion #{conversion.pk} updated.")
            return redirect("portal:advertiser-conversion", conversion_id=conversion.pk)
    return render(
        request,
        "portal/advertiser/conversion_detail.html",
        {
            "conversion": conversion,
            "form": form,
            "explanation": conversion_explain(viewer=request.user, conversion_id=conversion.pk),
        },
    )
