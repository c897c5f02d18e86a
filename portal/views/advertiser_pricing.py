"""The advertiser portal's conversion events and pricing rules of a campaign: event pages, the
rules table with its filters and price preview, the rule editor and the CSV import.

Views parse and authorize (`advertiser_required`, then the scoped campaign selectors); the
campaigns' events and pricing-rules services do every write and every check of the values.
"""

import base64
import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.db.models import Q
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from campaigns import selectors as campaign_selectors
from campaigns.events import event_create, event_delete, event_update
from campaigns.models import Campaign, ConversionEvent, PricingRule
from campaigns.pricing_rules import (
    IMPORT_COLUMNS,
    ImportResult,
    pricing_rule_candidates,
    pricing_rule_create,
    pricing_rule_delete,
    pricing_rule_describe,
    pricing_rule_update,
    pricing_rules_import,
)
from core.exceptions import ApplicationError
from core.models import AuditSource
from portal.access import AdvertiserRequest, advertiser_required
from portal.forms import (
    EventForm,
    PricingImportForm,
    PricingPreviewForm,
    PricingRuleFilterForm,
    PricingRuleForm,
    service_errors_apply,
)
from portal.tables import Column, Table, csv_lines, csv_response
from portal.terms import source_terms_text

# At most this many affiliates are suggested on the rule form (any may be named by id).
KNOWN_AFFILIATES_SHOWN = 500


# --- events ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventRow:
    event: ConversionEvent
    terms: str
    caps: list[str]


def event_rows(events: list[ConversionEvent], currency: str) -> list[EventRow]:
    """The campaign page's events table (the events' caps prefetched)."""
    return [
        EventRow(
            event=event,
            terms=source_terms_text(event, currency),
            caps=[str(cap) for cap in event.caps.all()],
        )
        for event in events
    ]


def _event_editor(
    request: AdvertiserRequest, campaign: Campaign, event: ConversionEvent | None = None
) -> HttpResponse:
    initial = EventForm.initial_from(event) if event else None
    form = EventForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if event is None:
                saved = event_create(
                    campaign=campaign,
                    data=form.service_data(),
                    actor=request.user,
                    source=AuditSource.PORTAL,
                )
            else:
                saved = event_update(
                    event=event,
                    data=form.service_data(),
                    actor=request.user,
                    source=AuditSource.PORTAL,
                )
        except ApplicationError as exc:
            service_errors_apply(form, exc)
        else:
            messages.success(request, f"Event “{saved.name}” ({saved.code}) saved.")
            return redirect("portal:advertiser-campaign-edit", campaign_id=campaign.pk)
    return render(
        request,
        "portal/advertiser/event_form.html",
        {"form": form, "campaign": campaign, "event": event},
    )


@advertiser_required
@require_http_methods(["GET", "POST"])
def event_new(request: AdvertiserRequest, campaign_id: int) -> HttpResponse:
    campaign = campaign_selectors.campaign_get(viewer=request.user, campaign_id=campaign_id)
    return _event_editor(request, campaign)


@advertiser_required
@require_http_methods(["GET", "POST"])
def event_edit(request: AdvertiserRequest, event_id: int) -> HttpResponse:
    event = campaign_selectors.event_get(viewer=request.user, event_id=event_id)
    return _event_editor(request, event.campaign, event)


@advertiser_required
@require_POST
def event_remove(request: AdvertiserRequest, event_id: int) -> HttpResponse:
    event = campaign_selectors.event_get(viewer=request.user, event_id=event_id)
    try:
        event_delete(event=event, actor=request.user, source=AuditSource.PORTAL)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Event “{event.name}” ({event.code}) deleted.")
    return redirect("portal:advertiser-campaign-edit", campaign_id=event.campaign_id)


# --- pricing rules -----------------------------------------------------------------------------

RULE_COLUMNS = [
    Column("Rule", "id", numeric=True),
    Column("Applies to"),
    Column("Event", "event"),
    Column("Country", "country"),
    Column("sub1", "sub1"),
    Column("Valid", "starts"),
    Column("Pays"),
    Column("Revenue"),
    Column("Now"),
    Column("Actions"),
]
RULE_SORTS = {
    "id": "id",
    "event": "event__code",
    "country": "country",
    "sub1": "sub1",
    "starts": "starts_at",
}


def _active_now(now: dt.datetime) -> Q:
    return (Q(starts_at__isnull=True) | Q(starts_at__lte=now)) & (
        Q(ends_at__isnull=True) | Q(ends_at__gt=now)
    )


def _is_active(rule: PricingRule, now: dt.datetime) -> bool:
    return (rule.starts_at is None or rule.starts_at <= now) and (
        rule.ends_at is None or now < rule.ends_at
    )


@dataclass(frozen=True)
class RuleRow:
    rule: PricingRule
    applies_to: str
    terms: str
    active: bool


@dataclass(frozen=True)
class PricePreview:
    """Which rule prices a conversion with the criteria typed in, and the rules it beats."""

    criteria: str
    winner: RuleRow | None
    event_terms: str
    beaten: list[RuleRow]


def _rule_row(rule: PricingRule, campaign: Campaign, now: dt.datetime) -> RuleRow:
    return RuleRow(
        rule=rule,
        applies_to=pricing_rule_describe(rule),
        terms=source_terms_text(rule, campaign.currency),
        active=_is_active(rule, now),
    )


def _price_preview(
    form: PricingPreviewForm, campaign: Campaign, events: dict[int, ConversionEvent]
) -> PricePreview:
    data = form.cleaned_data
    event = events[int(data["preview_event"])]
    day = data["preview_date"]
    now = timezone.now()
    at = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) if day else now
    rules = pricing_rule_candidates(
        campaign_id=campaign.pk,
        event_id=event.pk,
        affiliate_id=data["preview_affiliate"],
        country=data["preview_country"],
        sub1=data["preview_sub1"],
        at=at,
    )
    for rule in rules:
        # The campaign's events are loaded already: no query per rule for its event.
        rule.event = events.get(rule.event_id) if rule.event_id else None
    parts = [f"affiliate {data['preview_affiliate']}", f"event {event.code}"]
    if data["preview_country"]:
        parts.append(f"country {data['preview_country']}")
    if data["preview_sub1"]:
        parts.append(f"sub1 {data['preview_sub1']}")
    if day:
        parts.append(f"on {day.isoformat()}")
    rows = [_rule_row(rule, campaign, at) for rule in rules]
    return PricePreview(
        criteria=", ".join(parts),
        winner=rows[0] if rows else None,
        event_terms=source_terms_text(event, campaign.currency),
        beaten=rows[1:],
    )


def _rules_filtered(queryset, filters: dict, now: dt.datetime):
    event, affiliate, active = (filters.get(name, "") for name in ("event", "affiliate", "active"))
    if event == "all":
        queryset = queryset.filter(event__isnull=True)
    elif event:
        queryset = queryset.filter(event_id=int(event))
    if affiliate == "all":
        queryset = queryset.filter(affiliate__isnull=True)
    elif affiliate:
        queryset = queryset.filter(affiliate_id=int(affiliate))
    if active == "now":
        queryset = queryset.filter(_active_now(now))
    elif active == "not":
        queryset = queryset.exclude(_active_now(now))
    return queryset


@advertiser_required
def pricing_rule_list(request: AdvertiserRequest, campaign_id: int) -> HttpResponse:
    campaign = campaign_selectors.campaign_get(viewer=request.user, campaign_id=campaign_id)
    # The events' caps are not shown here.
    events = list(
        campaign_selectors.event_list(viewer=request.user, campaign=campaign).prefetch_related(None)
    )
    rules = campaign_selectors.pricing_rule_list(viewer=request.user).filter(campaign=campaign)
    affiliates = [
        (pk, company or email)
        for pk, company, email in rules.filter(affiliate__isnull=False)
        .order_by("affiliate_id")
        .values_list("affiliate_id", "affiliate__company", "affiliate__user__email")
        .distinct()
    ]
    form = PricingRuleFilterForm(request.GET or None, events=events, affiliates=affiliates)
    now = timezone.now()
    filters = form.cleaned_data if form.is_valid() else {}
    table = Table(
        request,
        _rules_filtered(rules, filters, now),
        columns=RULE_COLUMNS,
        sorts=RULE_SORTS,
        default_sort="-id",
    )
    rows = [_rule_row(rule, campaign, now) for rule in table.page]
    preview_form = PricingPreviewForm(
        request.GET if "preview_affiliate" in request.GET else None, events=events
    )
    preview = None
    if preview_form.is_bound and preview_form.is_valid():
        preview = _price_preview(preview_form, campaign, {event.pk: event for event in events})
    return render(
        request,
        "portal/advertiser/pricing_rules.html",
        {
            "campaign": campaign,
            "form": form,
            "table": table,
            "rows": rows,
            "preview_form": preview_form,
            "preview": preview,
        },
    )


def _rule_editor(
    request: AdvertiserRequest, campaign: Campaign, rule: PricingRule | None = None
) -> HttpResponse:
    # The events' caps are not shown here.
    events = list(
        campaign_selectors.event_list(viewer=request.user, campaign=campaign).prefetch_related(None)
    )
    initial = PricingRuleForm.initial_from(rule) if rule else None
    form = PricingRuleForm(request.POST or None, initial=initial, events=events)
    if request.method == "POST" and form.is_valid():
        try:
            if rule is None:
                saved = pricing_rule_create(
                    campaign=campaign,
                    data=form.service_data(),
                    actor=request.user,
                    source=AuditSource.PORTAL,
                )
            else:
                saved = pricing_rule_update(
                    rule=rule,
                    data=form.service_data(),
                    actor=request.user,
                    source=AuditSource.PORTAL,
                )
        except ApplicationError as exc:
            service_errors_apply(form, exc)
        else:
            messages.success(request, f"Pricing rule #{saved.pk} saved.")
            return redirect("portal:advertiser-pricing-rules", campaign_id=campaign.pk)
    known_affiliates = list(
        campaign_selectors.affiliate_list_for_invitation(viewer=request.user)[
            :KNOWN_AFFILIATES_SHOWN
        ]
    )
    return render(
        request,
        "portal/advertiser/pricing_rule_form.html",
        {"form": form, "campaign": campaign, "rule": rule, "known_affiliates": known_affiliates},
    )


@advertiser_required
@require_http_methods(["GET", "POST"])
def pricing_rule_new(request: AdvertiserRequest, campaign_id: int) -> HttpResponse:
    campaign = campaign_selectors.campaign_get(viewer=request.user, campaign_id=campaign_id)
    return _rule_editor(request, campaign)


@advertiser_required
@require_http_methods(["GET", "POST"])
def pricing_rule_edit(request: AdvertiserRequest, rule_id: int) -> HttpResponse:
    rule = campaign_selectors.pricing_rule_get(viewer=request.user, rule_id=rule_id)
    return _rule_editor(request, rule.campaign, rule)


@advertiser_required
@require_POST
def pricing_rule_remove(request: AdvertiserRequest, rule_id: int) -> HttpResponse:
    rule = campaign_selectors.pricing_rule_get(viewer=request.user, rule_id=rule_id)
    try:
        pricing_rule_delete(rule=rule, actor=request.user, source=AuditSource.PORTAL)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Pricing rule #{rule.pk} deleted.")
    return redirect("portal:advertiser-pricing-rules", campaign_id=rule.campaign_id)


# --- CSV import --------------------------------------------------------------------------------


def _moment_csv(value: dt.datetime | None) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if value else ""


@advertiser_required
def pricing_rule_template(request: AdvertiserRequest, campaign_id: int) -> StreamingHttpResponse:
    """The import's columns, with the campaign's current rules: edit the rows (keep `id` to
    change a rule, leave it empty for a new one) and import the file back."""
    campaign = campaign_selectors.campaign_get(viewer=request.user, campaign_id=campaign_id)
    rules = (
        campaign_selectors.pricing_rule_list(viewer=request.user)
        .filter(campaign=campaign)
        .order_by("id")
    )
    rows = (
        [
            rule.pk,
            rule.event.code if rule.event else "",
            rule.affiliate_id or "",
            rule.country,
            rule.sub1,
            _moment_csv(rule.starts_at),
            _moment_csv(rule.ends_at),
            rule.payout_type,
            rule.payout_amount,
            rule.revshare_percent,
            "" if rule.revenue_amount is None else rule.revenue_amount,
            rule.note,
        ]
        for rule in rules
    )
    return csv_response(f"pricing-rules-{campaign.pk}.csv", csv_lines(IMPORT_COLUMNS, rows))


@advertiser_required
@require_http_methods(["GET", "POST"])
def pricing_rule_import(request: AdvertiserRequest, campaign_id: int) -> HttpResponse:
    """Upload: a dry run, row by row, with the content kept in the page to apply it unchanged.
    Apply: the real import, all or nothing (a row that has become wrong since shows again)."""
    campaign = campaign_selectors.campaign_get(viewer=request.user, campaign_id=campaign_id)
    posted = request.method == "POST"
    form = PricingImportForm(request.POST if posted else None, request.FILES if posted else None)
    result: ImportResult | None = None
    content_b64 = ""
    if posted and form.is_valid():
        applying = "apply" in request.POST
        try:
            content = form.file_content()
            result = pricing_rules_import(
                campaign=campaign,
                content=content,
                dry_run=not applying,
                actor=request.user,
                source=AuditSource.PORTAL,
            )
        except ApplicationError as exc:
            form.add_error("file", exc.message)
        else:
            counts = result.counts
            if applying and not counts["error"]:
                messages.success(
                    request,
                    f"Import applied: {counts['create']} created, {counts['update']} updated, "
                    f"{counts['unchanged']} unchanged.",
                )
                return redirect("portal:advertiser-pricing-rules", campaign_id=campaign.pk)
            content_b64 = base64.b64encode(content).decode("ascii")
    return render(
        request,
        "portal/advertiser/pricing_rule_import.html",
        {
            "campaign": campaign,
            "form": form,
            "result": result,
            "content_b64": content_b64,
            "columns": IMPORT_COLUMNS,
        },
    )
