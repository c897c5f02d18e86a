"""The affiliate portal: dashboard, campaigns, links, postback endpoints and their deliveries,
conversions, payouts and end-user points.

Views parse and authorize (`affiliate_required`, then the scoped selectors); the campaigns,
tracker and payouts services do every write. Affiliates never see revenue or margin.
"""

from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Affiliate
from campaigns import selectors as campaign_selectors
from campaigns import services as campaign_services
from campaigns.landing_pages import landing_page_list
from campaigns.targeting import targeting_summary
from core.exceptions import ApplicationError, NotFoundError
from core.formatting import format_money, money_floor
from core.models import AuditSource
from forwarding.models import DeliveryStatus
from forwarding.selectors import (
    delivery_get,
    delivery_list,
    endpoint_get,
    endpoint_list,
    endpoint_test_get,
)
from forwarding.services import delivery as delivery_services
from forwarding.services import endpoints as endpoint_services
from forwarding.services.endpoints import FORWARD_MACROS
from payouts.exports import payouts_csv, statement_csv
from payouts.payout_methods import payout_method_summary
from payouts.selectors import affiliate_balances, payout_list, payout_method_list
from payouts.services import payout_minimum_amount, payout_request_create
from portal import selectors
from portal.access import AffiliateRequest, affiliate_required
from portal.charts import traffic_charts
from portal.forms import (
    ApplyForm,
    BreakdownForm,
    BrowseFilterForm,
    ConversionFilterForm,
    DeliveryFilterForm,
    EndpointForm,
    LinkBuilderForm,
    PayoutRequestForm,
    PeriodForm,
    SearchForm,
    service_errors_apply,
)
from portal.tables import Column, Table, csv_export, csv_lines, csv_response, wants_csv
from portal.terms import source_terms_text
from portal.views.report import report_response
from tracker.selectors import conversion_list


def _filters(form) -> dict:
    return form.cleaned_data if form.is_valid() else {}


def _affiliate(request: AffiliateRequest) -> Affiliate:
    return request.profile


@affiliate_required
def dashboard(request: AffiliateRequest) -> HttpResponse:
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
        "portal/affiliate/dashboard.html",
        {
            "period_form": period_form,
            "breakdown_form": breakdown_form,
            "breakdown": breakdown,
            "breakdown_count": breakdown_count,
            "breakdown_money": "Approved payout",
            "fraud": selectors.fraud_summary(viewer=request.user, period=period),
            "summary": summary,
            "events": events,
            "charts": charts,
            "balances": sorted(affiliate_balances(affiliate_id=request.user.pk).items()),
            "endpoints": list(endpoint_list(viewer=request.user)[:3]),
        },
    )


@affiliate_required
def report(request: AffiliateRequest) -> HttpResponse | StreamingHttpResponse:
    return report_response(request, template="portal/affiliate/report.html")


# --- campaigns and links -----------------------------------------------------------------------

BROWSE_COLUMNS = [
    Column("Campaign", "name"),
    Column("Payout"),
    Column("Visibility", "visibility"),
    Column("Status", "status"),
    Column("My access"),
    Column("Actions"),
]
BROWSE_SORTS = {"name": "name", "visibility": "visibility", "status": "status", "id": "id"}


@affiliate_required
def campaign_list(request: AffiliateRequest) -> HttpResponse:
    form = BrowseFilterForm(request.GET or None)
    filters = _filters(form)
    queryset, access_rows = selectors.campaigns_with_access(
        selectors.campaigns_filtered(
            campaign_selectors.campaign_list(viewer=request.user), search=filters.get("q", "")
        ),
        affiliate_id=request.user.pk,
        access=filters.get("access", ""),
    )
    table = Table(request, queryset, columns=BROWSE_COLUMNS, sorts=BROWSE_SORTS, default_sort="-id")
    rows = [(campaign, access_rows.get(campaign.pk)) for campaign in table.page]
    return render(
        request,
        "portal/affiliate/campaign_list.html",
        {"form": form, "table": table, "rows": rows, "apply_form": ApplyForm()},
    )


@dataclass(frozen=True)
class EventPayoutRow:
    """One event's payout for this affiliate in words: `30.00% of revenue`, and per condition."""

    name: str
    code: str
    base: str
    conditional: list[tuple[str, str]]

    @property
    def summary(self) -> str:
        parts = [f"{self.name}: {self.base}"] + [
            f"{cond}: {terms}" for cond, terms in self.conditional
        ]
        return "; ".join(parts)


@affiliate_required
def campaign_detail(request: AffiliateRequest, campaign_id: int) -> HttpResponse:
    """A campaign with, per event, the payout that applies to this affiliate now: the event's
    terms or the rules for everyone or for this affiliate (never another's), never revenue."""
    campaign = campaign_selectors.campaign_get_for_affiliate(
        affiliate=_affiliate(request), campaign_id=campaign_id
    )
    payouts = campaign_selectors.event_payouts_for_affiliate(
        campaign=campaign, affiliate_id=request.user.pk, at=timezone.now()
    )
    rows = [
        EventPayoutRow(
            name=payout.event.name,
            code=payout.event.code,
            base=source_terms_text(payout.base, campaign.currency),
            conditional=[
                (condition, source_terms_text(terms, campaign.currency))
                for condition, terms in payout.conditional
            ],
        )
        for payout in payouts
    ]
    access = selectors.affiliate_access_get(affiliate_id=request.user.pk, campaign_id=campaign.pk)
    return render(
        request,
        "portal/affiliate/campaign_detail.html",
        {
            "campaign": campaign,
            "rows": rows,
            "access": access,
            "apply_form": ApplyForm(),
            "targeting_summary": targeting_summary(campaign.targeting),
        },
    )


@affiliate_required
@require_POST
def campaign_apply(request: AffiliateRequest, campaign_id: int) -> HttpResponse:
    campaign = campaign_selectors.campaign_get(viewer=request.user, campaign_id=campaign_id)
    form = ApplyForm(request.POST)
    message = form.cleaned_data["message"] if form.is_valid() else ""
    try:
        access = campaign_services.access_apply(
            campaign=campaign, affiliate=_affiliate(request), message=message
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Your access to “{campaign.name}” is {access.status}.")
    return redirect("portal:affiliate-campaigns")


@affiliate_required
@require_POST
def campaign_link(request: AffiliateRequest, campaign_id: int) -> HttpResponse:
    campaign = campaign_selectors.campaign_get(viewer=request.user, campaign_id=campaign_id)
    link = campaign_services.link_get_or_create(campaign=campaign, affiliate=_affiliate(request))
    return redirect("portal:affiliate-link", link_id=link.pk)


LINK_COLUMNS = [
    Column("Campaign", "campaign"),
    Column("Tracking link"),
    Column("Created", "created"),
    Column("Actions"),
]
LINK_SORTS = {"campaign": "campaign__name", "created": "id"}


@affiliate_required
def link_list(request: AffiliateRequest) -> HttpResponse | StreamingHttpResponse:
    table = Table(
        request,
        campaign_selectors.link_list(viewer=request.user),
        columns=LINK_COLUMNS,
        sorts=LINK_SORTS,
        default_sort="-created",
    )
    if wants_csv(request):
        return csv_export(
            "links.csv",
            table.queryset,
            ["campaign_id", "campaign", "url", "created_at"],
            lambda link: [
                link.campaign_id,
                link.campaign.name,
                campaign_services.link_url(link=link),
                link.created_at,
            ],
        )
    rows = [(link, campaign_services.link_url(link=link)) for link in table.page]
    return render(request, "portal/affiliate/link_list.html", {"table": table, "rows": rows})


@affiliate_required
def link_detail(request: AffiliateRequest, link_id: int) -> HttpResponse:
    """The sub id builder: the link with the sub ids and end user id typed in."""
    link = campaign_selectors.link_get(viewer=request.user, link_id=link_id)
    form = LinkBuilderForm(request.GET or None)
    base = campaign_services.link_url(link=link)
    values = {name: value for name, value in _filters(form).items() if value}
    built = f"{base}?{urlencode(values)}" if values else base
    # The link exists, so the affiliate runs the campaign unless its access was revoked since.
    try:
        pages = list(landing_page_list(viewer=request.user, campaign=link.campaign))
    except NotFoundError:
        pages = []
    landing_pages = [(page, f"{base}?{urlencode({'lp': page.pk})}") for page in pages]
    return render(
        request,
        "portal/affiliate/link_detail.html",
        {
            "link": link,
            "form": form,
            "base_url": base,
            "built_url": built,
            "landing_pages": landing_pages,
            "targeting_summary": targeting_summary(link.campaign.targeting),
        },
    )


# --- postback endpoints and deliveries ---------------------------------------------------------


def _endpoint_data(form: EndpointForm) -> dict:
    return {
        "name": form.cleaned_data["name"],
        "url": form.cleaned_data["url"],
        "method": form.cleaned_data["method"],
        "events": form.cleaned_data["events"],
        "campaign": form.cleaned_data["campaign"],
        "conversion_events": form.cleaned_data["conversion_events"],
        "is_active": form.cleaned_data["is_active"],
    }


def _visible_campaigns(request: AffiliateRequest) -> list[tuple[int, str]]:
    return list(
        campaign_selectors.campaign_list(viewer=request.user)
        .prefetch_related(None)
        .values_list("id", "name")
    )


@affiliate_required
@require_http_methods(["GET", "POST"])
def endpoint_list_view(request: AffiliateRequest) -> HttpResponse:
    form = EndpointForm(
        request.POST or None,
        campaigns=_visible_campaigns(request),
        initial={"events": ["approved"], "is_active": True},
    )
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = endpoint_services.endpoint_create(
                affiliate=_affiliate(request),
                actor=request.user,
                source=AuditSource.PORTAL,
                **_endpoint_data(form),
            )
        except ApplicationError as exc:
            service_errors_apply(form, exc)
        else:
            return render(
                request,
                "portal/affiliate/endpoint_secret.html",
                {"endpoint": endpoint, "created": True},
            )
    return render(
        request,
        "portal/affiliate/endpoint_list.html",
        {
            "form": form,
            "endpoints": endpoint_list(viewer=request.user),
            "macros": sorted(FORWARD_MACROS),
            "event_codes": selectors.event_codes_visible(viewer=request.user),
        },
    )


@affiliate_required
@require_http_methods(["GET", "POST"])
def endpoint_edit(request: AffiliateRequest, endpoint_id: int) -> HttpResponse:
    endpoint = endpoint_get(viewer=request.user, endpoint_id=endpoint_id)
    form = EndpointForm(
        request.POST or None,
        campaigns=_visible_campaigns(request),
        initial={
            "name": endpoint.name,
            "url": endpoint.url,
            "method": endpoint.method,
            "events": endpoint.events,
            "campaign": endpoint.campaign_id,
            "conversion_events": ", ".join(endpoint.conversion_events),
            "is_active": endpoint.is_active,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            endpoint_services.endpoint_update(
                endpoint=endpoint,
                data=_endpoint_data(form),
                actor=request.user,
                source=AuditSource.PORTAL,
            )
        except ApplicationError as exc:
            service_errors_apply(form, exc)
        else:
            messages.success(request, "Postback endpoint saved.")
            return redirect("portal:affiliate-endpoints")
    return render(
        request,
        "portal/affiliate/endpoint_form.html",
        {
            "form": form,
            "endpoint": endpoint,
            "macros": sorted(FORWARD_MACROS),
            "event_codes": selectors.event_codes_visible(viewer=request.user),
        },
    )


@affiliate_required
@require_POST
def endpoint_delete(request: AffiliateRequest, endpoint_id: int) -> HttpResponse:
    endpoint = endpoint_get(viewer=request.user, endpoint_id=endpoint_id)
    endpoint_services.endpoint_delete(
        endpoint=endpoint, actor=request.user, source=AuditSource.PORTAL
    )
    messages.success(request, "Postback endpoint deleted.")
    return redirect("portal:affiliate-endpoints")


@affiliate_required
@require_POST
def endpoint_rotate(request: AffiliateRequest, endpoint_id: int) -> HttpResponse:
    endpoint = endpoint_get(viewer=request.user, endpoint_id=endpoint_id)
    rotated = endpoint_services.endpoint_secret_rotate(
        endpoint=endpoint, actor=request.user, source=AuditSource.PORTAL
    )
    return render(
        request, "portal/affiliate/endpoint_secret.html", {"endpoint": rotated, "created": False}
    )


@affiliate_required
@require_POST
def endpoint_test(request: AffiliateRequest, endpoint_id: int) -> HttpResponse:
    endpoint = endpoint_get(viewer=request.user, endpoint_id=endpoint_id)
    try:
        delivery = endpoint_services.endpoint_test_create(endpoint=endpoint)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("portal:affiliate-endpoints")
    return redirect(
        "portal:affiliate-endpoint-test-result", endpoint_id=endpoint.pk, delivery_id=delivery.pk
    )


@affiliate_required
def endpoint_test_result(
    request: AffiliateRequest, endpoint_id: int, delivery_id: int
) -> HttpResponse:
    """One endpoint test: "sending" while the worker has not sent it yet, then its answer.

    Reloading by hand works; portal/poll.js refreshes the result panel in place until it is final.
    """
    delivery = endpoint_test_get(
        viewer=request.user, endpoint_id=endpoint_id, delivery_id=delivery_id
    )
    attempts = list(delivery.attempts.all())
    return render(
        request,
        "portal/affiliate/endpoint_test.html",
        {
            "endpoint": delivery.endpoint,
            "delivery": delivery,
            "attempt": attempts[-1] if attempts else None,
            "is_pending": delivery.status == DeliveryStatus.PENDING,
        },
    )


DELIVERY_COLUMNS = [
    Column("ID", "id", numeric=True),
    Column("Created", "created"),
    Column("Endpoint"),
    Column("Event", "event"),
    Column("Status", "status"),
    Column("Attempts", numeric=True),
    Column("Last answer"),
    Column("Actions"),
]
DELIVERY_SORTS = {"id": "id", "created": "created_at", "event": "event", "status": "status"}


@affiliate_required
def delivery_list_view(request: AffiliateRequest) -> HttpResponse:
    endpoints = list(endpoint_list(viewer=request.user))
    form = DeliveryFilterForm(request.GET or None, endpoints=endpoints)
    filters = _filters(form)
    table = Table(
        request,
        delivery_list(
            viewer=request.user,
            status=filters.get("status") or None,
            endpoint_id=filters.get("endpoint"),
        ),
        columns=DELIVERY_COLUMNS,
        sorts=DELIVERY_SORTS,
        default_sort="-id",
    )
    return render(request, "portal/affiliate/delivery_list.html", {"form": form, "table": table})


@affiliate_required
@require_POST
def delivery_replay(request: AffiliateRequest, delivery_id: int) -> HttpResponse:
    delivery = delivery_get(viewer=request.user, delivery_id=delivery_id)
    try:
        delivery_services.delivery_replay(delivery=delivery)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Delivery #{delivery.pk} queued again.")
    return redirect("portal:affiliate-deliveries")


# --- conversions -------------------------------------------------------------------------------

CONVERSION_COLUMNS = [
    Column("ID", "id", numeric=True),
    Column("Date", "created"),
    Column("Campaign", "campaign"),
    Column("Status", "status"),
    Column("Payout", "payout", numeric=True),
    Column("Click"),
    Column("Sub ids"),
    Column("End user"),
]
CONVERSION_SORTS = {
    "id": "id",
    "created": "created_at",
    "campaign": "campaign__name",
    "status": "status",
    "payout": "payout",
}
# (CSV column, where it comes from: a conversion field, or `click__<field>` of its click).
CONVERSION_CSV_COLUMNS = [
    ("id", "id"),
    ("created_at", "created_at"),
    ("campaign_id", "campaign_id"),
    ("campaign", "campaign__name"),
    ("status", "status"),
    ("reason", "reason"),
    ("fraud_signals", "fraud_signals"),
    ("currency", "currency"),
    ("payout", "payout"),
    ("click_id", "click__click_id"),
    ("transaction_id", "transaction_id"),
    ("sub1", "click__sub1"),
    ("sub2", "click__sub2"),
    ("sub3", "click__sub3"),
    ("sub4", "click__sub4"),
    ("sub5", "click__sub5"),
    ("user_id", "user_id"),
    ("device_type", "click__device_type"),
    ("os", "click__os"),
    ("browser", "click__browser"),
]


@affiliate_required
def conversion_list_view(request: AffiliateRequest) -> HttpResponse | StreamingHttpResponse:
    campaigns = campaign_selectors.link_list(viewer=request.user).values_list(
        "campaign_id", "campaign__name"
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
        request, queryset, columns=CONVERSION_COLUMNS, sorts=CONVERSION_SORTS, default_sort="-id"
    )
    if wants_csv(request):
        header, fields = zip(*CONVERSION_CSV_COLUMNS, strict=True)
        rows = selectors.conversion_export_rows(table.queryset, columns=fields)
        return csv_response("conversions.csv", csv_lines(header, rows))
    return render(request, "portal/affiliate/conversion_list.html", {"form": form, "table": table})


# --- payouts and points ------------------------------------------------------------------------

PAYOUT_COLUMNS = [
    Column("ID", "id", numeric=True),
    Column("Requested", "created"),
    Column("Amount", "amount", numeric=True),
    Column("Method"),
    Column("Status", "status"),
    Column("Reference"),
    Column("Paid"),
]
PAYOUT_SORTS = {"id": "id", "created": "created_at", "amount": "amount", "status": "status"}


def _payout_refusal(
    error: ApplicationError, *, affiliate: Affiliate, currency: str
) -> ApplicationError:
    """The payout service's refusal with its amount written for people, in the currency asked
    for (the service's own text, which the API answers, keeps plain decimals). The balance is
    rounded down, so that asking for the amount stated is accepted."""
    if error.code == "below_minimum":
        limit = f"At least {format_money(payout_minimum_amount(), currency)}."
    elif error.code == "insufficient_balance":
        available = affiliate_balances(affiliate_id=affiliate.pk).get(currency, {})
        most = money_floor(available.get("available", Decimal(0)), currency)
        limit = f"At most {format_money(most, currency)}."
    else:
        return error
    return ApplicationError(error.message, code=error.code, fields={"amount": [limit]})


@affiliate_required
@require_http_methods(["GET", "POST"])
def payouts(request: AffiliateRequest) -> HttpResponse | StreamingHttpResponse:
    affiliate = _affiliate(request)
    is_export = request.method == "GET" and wants_csv(request)
    methods = (
        []
        if is_export
        else [
            (method, payout_method_summary(method))
            for method in payout_method_list(viewer=request.user)
        ]
    )
    form = PayoutRequestForm(
        request.POST or None,
        initial={"method": affiliate.payout_method, "currency": "USD"},
        payout_methods=methods,
    )
    if request.method == "POST" and form.is_valid():
        try:
            payout = payout_request_create(
                affiliate=affiliate,
                amount=form.cleaned_data["amount"],
                currency=form.cleaned_data["currency"],
                method=form.cleaned_data.get("method"),
                payout_method=form.cleaned_data.get("payout_method"),
            )
        except ApplicationError as exc:
            service_errors_apply(
                form,
                _payout_refusal(exc, affiliate=affiliate, currency=form.cleaned_data["currency"]),
            )
        else:
            amount = format_money(payout.amount, payout.currency)
            messages.success(request, f"Payout #{payout.pk} of {amount} requested.")
            return redirect("portal:affiliate-payouts")
    table = Table(
        request,
        payout_list(viewer=request.user).select_related("payout_method"),
        columns=PAYOUT_COLUMNS,
        sorts=PAYOUT_SORTS,
        default_sort="-id",
    )
    if is_export:
        return csv_response("payouts.csv", payouts_csv(table.queryset))
    return render(
        request,
        "portal/affiliate/payouts.html",
        {
            "form": form,
            "table": table,
            "balances": sorted(affiliate_balances(affiliate_id=request.user.pk).items()),
            "minimum": payout_minimum_amount(),
            "has_payout_methods": bool(methods),
        },
    )


@affiliate_required
def statement(request: AffiliateRequest, currency: str) -> HttpResponse | StreamingHttpResponse:
    """The affiliate's ledger lines in one currency, as CSV (its own account only)."""
    currency = currency.upper()
    return csv_response(
        f"statement-{currency}.csv",
        statement_csv(affiliate_id=request.user.pk, currency=currency),
    )


POINTS_COLUMNS = [
    Column("End user", "user"),
    Column("Points", "points", numeric=True),
    Column("Updated", "updated"),
]
POINTS_SORTS = {"user": "user_id", "points": "points", "updated": "updated_at"}


@affiliate_required
def points(request: AffiliateRequest) -> HttpResponse | StreamingHttpResponse:
    form = SearchForm(request.GET or None)
    table = Table(
        request,
        selectors.points_filtered(viewer=request.user, search=_filters(form).get("q", "")),
        columns=POINTS_COLUMNS,
        sorts=POINTS_SORTS,
        default_sort="user",
    )
    if wants_csv(request):
        return csv_export(
            "points.csv",
            table.queryset,
            ["user_id", "points", "updated_at"],
            lambda row: [row.user_id, row.points, row.updated_at],
        )
    return render(request, "portal/affiliate/points.html", {"form": form, "table": table})
