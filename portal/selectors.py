"""Every number and filtered list the portals show, read through the scoped selectors.

Dashboards read the hourly rollups through the reports service (`reporting.services.reports`),
never raw clicks. Scoping is never decided here: each function starts from the viewer's scoped
selector (`stats_list`, `conversion_list`, ...).

Periods are whole UTC days [date_from, date_to]. A conversion counts on the day it was created;
revenue and payout are those of conversions that are approved now (what the ledger books). The
money a viewer may read follows `tracker.selectors.money_visible`: the reports service does not
even sum the rest, and what it did not sum is None here.
"""

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from itertools import chain, islice, repeat
from typing import Any

from django.apps import apps
from django.db.models import F, OuterRef, Q, QuerySet, Subquery, Sum
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApprovalStatus, User
from campaigns.models import AccessStatus, Campaign, CampaignAccess, ConversionEvent
from campaigns.selectors import campaign_list
from core.money import quantize_money
from payouts.models import PayoutStatus
from reporting.services.fraud import FraudReport, FraudReportQuery, fraud_report
from reporting.services.reports import STATUSES, ReportQuery, report_build, stats_list
from tracker.models import Click, Conversion, ConversionStatus, EndUserPoints
from tracker.selectors import EPC, PAYOUT, REVENUE, money_visible, points_list

PERIOD_CHOICES = (7, 30, 90)
DEFAULT_PERIOD_DAYS = 30
EXPORT_CHUNK = 2000
EXPORT_FIRST_CHUNK = 100
_CLICK = "click__"
_ZERO = Decimal("0.0000")
_DAY_COUNTS = ("clicks", "unique_clicks", "conversions", "approved")


@dataclass(frozen=True)
class Period:
    date_from: dt.date
    date_to: dt.date

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.date_from, dt.time.min, tzinfo=dt.UTC)

    @property
    def end(self) -> dt.datetime:
        return dt.datetime.combine(self.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)

    @property
    def days(self) -> list[dt.date]:
        span = (self.date_to - self.date_from).days
        return [self.date_from + dt.timedelta(days=offset) for offset in range(span + 1)]


def period_last_days(days: int, *, today: dt.date | None = None) -> Period:
    today = today or timezone.now().astimezone(dt.UTC).date()
    return Period(date_from=today - dt.timedelta(days=days - 1), date_to=today)


@dataclass(frozen=True)
class MoneyTotals:
    """One currency's approved money: None for what the viewer may not read."""

    currency: str
    revenue: Decimal | None
    payout: Decimal | None
    epc: Decimal | None  # payout per click, 4 places; None without clicks


@dataclass(frozen=True)
class DayStats:
    day: dt.date
    clicks: int = 0
    unique_clicks: int = 0
    conversions: int = 0
    approved: int = 0


@dataclass
class TrafficSummary:
    period: Period
    clicks: int
    unique_clicks: int
    conversions: int
    approved: int
    pending: int
    rejected: int
    money: list[MoneyTotals]
    daily: list[DayStats] = field(default_factory=list)

    @property
    def conversion_rate(self) -> Decimal | None:
        """Conversions per 100 clicks, 2 places; None without clicks."""
        if not self.clicks:
            return None
        rate = Decimal(self.conversions) * 100 / Decimal(self.clicks)
        return rate.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _epc(payout: Decimal, clicks: int) -> Decimal | None:
    return quantize_money(payout / clicks) if clicks else None


def traffic_summary(*, viewer: User, period: Period) -> TrafficSummary:
    """Totals and the daily series of the viewer's traffic in `period`, from the hourly rollups
    (one query: the reports service's sums per UTC day and currency). No raw click is read, so
    the page costs the same at 10 k or 10 M clicks; figures are as fresh as the rollups (~20 s).
    """
    report = report_build(
        viewer=viewer,
        query=ReportQuery(group_by=("day",), date_from=period.date_from, date_to=period.date_to),
    )
    by_day: dict[dt.date, dict[str, int]] = {
        day: dict.fromkeys(_DAY_COUNTS, 0) for day in period.days
    }
    totals = dict.fromkeys((*_DAY_COUNTS, "pending", "rejected"), 0)
    money: dict[str, dict[str, Any]] = {}
    for row in report.rows:
        counts = {
            "clicks": row["clicks"] or 0,
            "unique_clicks": row["unique_clicks"] or 0,
            "conversions": sum(row[f"conversions_{status}"] or 0 for status in STATUSES),
            "approved": row["conversions_approved"] or 0,
            "pending": row["conversions_pending"] or 0,
            "rejected": row["conversions_rejected"] or 0,
        }
        day = by_day.setdefault(row["date"], dict.fromkeys(_DAY_COUNTS, 0))
        for name in _DAY_COUNTS:
            day[name] += counts[name]
        for name in totals:
            totals[name] += counts[name]
        per_currency = money.setdefault(
            row["currency"], {"clicks": 0, "approved": 0, "revenue": _ZERO, "payout": _ZERO}
        )
        per_currency["clicks"] += counts["clicks"]
        per_currency["approved"] += counts["approved"]
        per_currency["revenue"] += row.get(REVENUE) or _ZERO
        per_currency["payout"] += row.get(PAYOUT) or _ZERO
    visible = money_visible(viewer=viewer)
    return TrafficSummary(
        period=period,
        **totals,
        money=[
            MoneyTotals(
                currency=currency,
                revenue=quantize_money(values["revenue"]) if REVENUE in visible else None,
                payout=quantize_money(values["payout"]) if PAYOUT in visible else None,
                epc=_epc(values["payout"], values["clicks"]) if EPC in visible else None,
            )
            for currency, values in sorted(money.items())
            # As the ledger books it: a currency shows once it has an approved conversion.
            if values["approved"]
        ],
        daily=[DayStats(day=day, **values) for day, values in sorted(by_day.items())],
    )


@dataclass(frozen=True)
class EventStats:
    """One conversion event's conversions in a period, in one currency (events are named by
    code: the same code on several campaigns is one row). Money of approved conversions, None
    for what the viewer may not read."""

    code: str
    currency: str
    conversions: int
    approved: int
    pending: int
    revenue: Decimal | None
    payout: Decimal | None


def event_breakdown(
    *, viewer: User, date_from: dt.date, date_to: dt.date, now: dt.datetime | None = None
) -> list[EventStats]:
    """The viewer's conversions per event code and currency over whole UTC days, from the
    rollups' event rows (one query through the reports service). Clicks have no event: their
    row is left out, so an event with no conversion in the period does not show."""
    report = report_build(
        viewer=viewer,
        query=ReportQuery(group_by=("event",), date_from=date_from, date_to=date_to),
        now=now,
    )
    return [
        EventStats(
            code=row["event"],
            currency=row["currency"],
            conversions=row["conversions"],
            approved=row["conversions_approved"],
            pending=row["conversions_pending"],
            revenue=row.get(REVENUE),
            payout=row.get(PAYOUT),
        )
        for row in report.shaped()
        if row["event"]
    ]


@dataclass(frozen=True)
class AffiliateRank:
    affiliate_id: int
    name: str
    clicks: int
    conversions: int
    revenue: Decimal  # of approved conversions, all currencies added (ranked within a currency)
    currency: str


def top_affiliates(*, viewer: User, period: Period, limit: int = 5) -> list[AffiliateRank]:
    """The affiliates that brought the most approved revenue to the viewer's campaigns, from the
    hourly rollups (one query): revenue, then conversions, then clicks decide; affiliates
    without a conversion in the period are left out."""
    conversions = sum(F(f"conversions_{status}") for status in STATUSES)
    rows = (
        stats_list(viewer=viewer)
        .filter(hour__gte=period.start, hour__lt=period.end)
        .values("affiliate_id", "affiliate__company", "affiliate__user__email", "currency")
        .annotate(
            clicks=Sum("clicks"),
            conversions=Sum(conversions),
            revenue=Sum("revenue", default=_ZERO),
        )
        .filter(conversions__gt=0)
        .order_by("-revenue", "-conversions", "-clicks", "affiliate_id")[:limit]
    )
    return [
        AffiliateRank(
            affiliate_id=row["affiliate_id"],
            name=row["affiliate__company"] or row["affiliate__user__email"],
            clicks=row["clicks"],
            conversions=row["conversions"],
            revenue=quantize_money(row["revenue"]),
            currency=row["currency"],
        )
        for row in rows
    ]


# --- list filters ------------------------------------------------------------------------------


def conversions_filtered(
    queryset: QuerySet[Conversion],
    *,
    viewer: User,
    status: str = "",
    campaign_id: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    search: str = "",
) -> QuerySet[Conversion]:
    """`queryset` (already scoped to `viewer`) narrowed by the list page's filters, with the
    campaign.

    `search` is an exact click id, transaction id, end-user id or click sub1. It never joins
    the click table (an OR across that join makes PostgreSQL hash the whole table): the click id
    resolves through its unique index; sub1 is looked up per conversion by the click's primary
    key, and only when the viewer's rollups know the term as a sub1 value (a sub1 seen for the
    first time is searchable once the rollups refresh, ~20 s).
    """
    if status:
        queryset = queryset.filter(status=status)
    if campaign_id is not None:
        queryset = queryset.filter(campaign_id=campaign_id)
    if date_from is not None:
        queryset = queryset.filter(created_at__gte=Period(date_from, date_from).start)
    if date_to is not None:
        queryset = queryset.filter(created_at__lt=Period(date_to, date_to).end)
    if search:
        condition = (
            Q(transaction_id=search)
            | Q(user_id=search)
            | Q(click_id__in=Click.objects.filter(click_id=search).values("pk"))
        )
        if stats_list(viewer=viewer, dimension="sub1").filter(value=search).exists():
            # A scalar subquery: PostgreSQL cannot turn it into a hashed scan of every click
            # (as it does an EXISTS under an OR).
            click_sub1 = Click.objects.filter(pk=OuterRef("click_id")).values("sub1")[:1]
            queryset = queryset.annotate(click_sub1=Subquery(click_sub1))
            condition |= Q(click_sub1=search)
        queryset = queryset.filter(condition)
    return queryset.select_related("campaign")


def conversion_export_rows(
    queryset: QuerySet[Conversion], *, columns: Sequence[str], chunk_size: int = EXPORT_CHUNK
) -> Iterator[list[Any]]:
    """The values of `columns` for every row of `queryset` (scoped, filtered and ordered),
    streamed in chunks for CSV exports. A column is a field path from the conversion
    (`campaign__name`) or `click__<field>` of its click.

    Conversions are read as plain values (no model instances); each chunk's clicks are then
    fetched by primary key in one query: joining the click table instead lets PostgreSQL
    hash-join every click of the network once an export is large.
    """
    own = [column for column in columns if not column.startswith(_CLICK)]
    click_fields = [column.removeprefix(_CLICK) for column in columns if column.startswith(_CLICK)]
    keys = [
        (column.startswith(_CLICK), column.removeprefix(_CLICK)) for column in columns
    ]  # (from the click?, field) per output column
    rows = queryset.values(*own, "click_id").iterator(chunk_size=chunk_size)
    # A small first chunk: the download starts at once; then big ones, fewer round trips.
    for size in chain([EXPORT_FIRST_CHUNK], repeat(chunk_size)):
        chunk = list(islice(rows, size))
        if not chunk:
            return
        clicks = {
            values["pk"]: values
            for values in Click.objects.filter(pk__in={row["click_id"] for row in chunk}).values(
                "pk", *click_fields
            )
        }
        for row in chunk:
            sources = (row, clicks[row["click_id"]])
            yield [sources[is_click][key] for is_click, key in keys]


def campaigns_filtered(
    queryset: QuerySet[Campaign], *, status: str = "", search: str = ""
) -> QuerySet[Campaign]:
    if status:
        queryset = queryset.filter(status=status)
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(external_offer_id=search))
    return queryset


def campaigns_with_access(
    queryset: QuerySet[Campaign], *, affiliate_id: int, access: str = ""
) -> tuple[QuerySet[Campaign], dict[int, CampaignAccess]]:
    """The affiliate's view of `queryset` and its own access row per campaign (by id), an
    invitation's included (`invited_at`).

    `access` narrows to one access status, or "none" for campaigns it has not applied to.
    """
    rows = {
        row.campaign_id: row
        for row in CampaignAccess.objects.filter(affiliate_id=affiliate_id).only(
            "id", "campaign_id", "status", "invited_at"
        )
    }
    if access == "none":
        queryset = queryset.exclude(pk__in=list(rows))
    elif access in AccessStatus.values:
        queryset = queryset.filter(
            pk__in=[campaign_id for campaign_id, row in rows.items() if row.status == access]
        )
    return queryset, rows


def affiliate_access_get(*, affiliate_id: int, campaign_id: int) -> CampaignAccess | None:
    """The affiliate's own access row to one campaign (None: it has not applied)."""
    return (
        CampaignAccess.objects.filter(affiliate_id=affiliate_id, campaign_id=campaign_id)
        .only("id", "campaign_id", "status", "invited_at")
        .first()
    )


def event_codes_visible(*, viewer: User) -> list[str]:
    """The conversion event codes of the campaigns the viewer may see, each once, sorted: what a
    postback endpoint may subscribe to."""
    visible = campaign_list(viewer=viewer).prefetch_related(None).values("pk")
    return list(
        ConversionEvent.objects.filter(campaign_id__in=visible)
        .order_by("code")
        .values_list("code", flat=True)
        .distinct()
    )


def points_filtered(*, viewer: User, search: str = "") -> QuerySet[EndUserPoints]:
    queryset = points_list(viewer=viewer)
    if search:
        queryset = queryset.filter(user_id__icontains=search)
    return queryset


# --- operator console (the Django admin's index) -------------------------------------------


@dataclass(frozen=True)
class ConsolePeriod:
    """The network's figures over one period: counts over every currency, money per currency
    (rows of `Report.totals`: `currency`, `revenue`, `payout`, `margin`, ...)."""

    label: str
    date_from: dt.date
    date_to: dt.date
    clicks: int
    unique_clicks: int
    conversions: int
    approved: int
    pending: int
    money: list[dict[str, Any]]


@dataclass(frozen=True)
class PendingWork:
    label: str
    count: int
    url: str  # the admin changelist filtered to exactly these rows


@dataclass(frozen=True)
class ConsoleMoney:
    """One currency's approved money today and this month."""

    currency: str
    today: dict[str, Decimal]  # revenue, payout, margin
    month: dict[str, Decimal]


@dataclass(frozen=True)
class ConsoleOverview:
    today: ConsolePeriod
    month: ConsolePeriod
    pending: list[PendingWork]
    events: list[EventStats] = field(default_factory=list)  # this month
    devices: "list[BreakdownRow]" = field(default_factory=list)  # this month

    @property
    def money(self) -> list[ConsoleMoney]:
        today = {row["currency"]: row for row in self.today.money}
        empty = dict.fromkeys(_MONEY, _ZERO)
        return [
            ConsoleMoney(
                currency=row["currency"],
                today={name: today.get(row["currency"], empty)[name] for name in _MONEY},
                month={name: row[name] for name in _MONEY},
            )
            for row in self.month.money
        ]


_MONEY = ("revenue", "payout", "margin")


# (label, app label, model name, status): every queue the operator works through.
_PENDING_QUEUES = (
    ("Affiliates to approve", "accounts", "affiliate", ApprovalStatus.PENDING),
    ("Advertisers to approve", "accounts", "advertiser", ApprovalStatus.PENDING),
    ("Campaign applications to decide", "campaigns", "campaignaccess", AccessStatus.PENDING),
    ("Payout requests to approve", "payouts", "payoutrequest", PayoutStatus.REQUESTED),
    ("Approved payouts to pay", "payouts", "payoutrequest", PayoutStatus.APPROVED),
    ("Conversions pending approval", "tracker", "conversion", ConversionStatus.PENDING),
)


def console_overview(*, viewer: User, now: dt.datetime | None = None) -> ConsoleOverview:
    """The operator console's index: the network's figures of today and of this month (UTC)
    from the hourly rollups (one query through the reports service), this month's conversions
    per event and per device type (two more), and how many rows wait in
    each approval queue the viewer may open (one indexed COUNT per queue)."""
    today = (now or timezone.now()).astimezone(dt.UTC).date()
    month_start = today.replace(day=1)
    report = report_build(
        viewer=viewer,
        query=ReportQuery(group_by=("day",), date_from=month_start, date_to=today),
        now=now,
    )
    rows = list(report.rows)

    def period(label: str, date_from: dt.date, period_rows: list[dict]) -> ConsolePeriod:
        money = report.totals(period_rows)
        return ConsolePeriod(
            label=label,
            date_from=date_from,
            date_to=today,
            clicks=sum(row["clicks"] for row in money),
            unique_clicks=sum(row["unique_clicks"] for row in money),
            conversions=sum(row["conversions"] for row in money),
            approved=sum(row["conversions_approved"] for row in money),
            pending=sum(row["conversions_pending"] for row in money),
            money=money,
        )

    pending = []
    for label, app_label, model_name, status in _PENDING_QUEUES:
        if not viewer.has_perm(f"{app_label}.view_{model_name}"):
            continue
        model = apps.get_model(app_label, model_name)
        pending.append(
            PendingWork(
                label=label,
                count=model._default_manager.filter(status=status).count(),
                url=reverse(f"admin:{app_label}_{model_name}_changelist")
                + f"?status__exact={status}",
            )
        )
    return ConsoleOverview(
        today=period("Today", today, [row for row in rows if row["date"] == today]),
        month=period("This month", month_start, rows),
        pending=pending,
        events=event_breakdown(viewer=viewer, date_from=month_start, date_to=today, now=now),
        devices=traffic_breakdown(
            viewer=viewer,
            period=Period(date_from=month_start, date_to=today),
            dimension="device_type",
            now=now,
        )[0],
    )


# --- fraud report ------------------------------------------------------------------------------

_FRAUD_HEADINGS = {
    "date": "Day",
    "campaign_name": "Campaign",
    "affiliate_name": "Affiliate",
    "signal": "Signal",
    "currency": "Currency",
    "clicks": "Flagged clicks",
    "blocked_clicks": "Blocked",
    "conversions": "Flagged conversions",
    "conversions_pending": "Pending",
    "conversions_approved": "Approved",
    "conversions_rejected": "Rejected",
    "conversions_reversed": "Reversed",
    "revenue": "Revenue",
    "payout": "Payout",
}


@dataclass(frozen=True)
class TableCell:
    value: Any
    kind: str  # "text", "number" or "money"
    currency: str = ""


@dataclass(frozen=True)
class FraudTable:
    headings: list[tuple[str, str]]  # (label, kind)
    rows: list[list[TableCell]]
    totals: list[list[TableCell]]


def fraud_report_table(report: FraudReport) -> FraudTable:
    """A `reporting.services.fraud.FraudReport` as headed cells for the pages: names instead
    of ids, money in its currency (the columns are already the viewer's)."""
    columns = [column for column in report.columns if column in _FRAUD_HEADINGS]

    def kind(column: str) -> str:
        if column in (REVENUE, PAYOUT):
            return "money"
        if column.startswith(("clicks", "blocked", "conversions")):
            return "number"
        return "text"

    def cells(row: dict, shown: Sequence[str]) -> list[TableCell]:
        return [
            TableCell(value=row.get(column, ""), kind=kind(column), currency=row["currency"])
            for column in shown
        ]

    total_columns = [column for column in columns if kind(column) != "text" or column == "currency"]
    return FraudTable(
        headings=[(_FRAUD_HEADINGS[column], kind(column)) for column in columns],
        rows=[cells(row, columns) for row in report.rows],
        totals=[
            [TableCell(value="Total", kind="text")]
            + [
                TableCell(value="", kind="text")
                for _ in columns[: len(columns) - len(total_columns) - 1]
            ]
            + cells(total, total_columns)
            for total in report.totals
        ]
        if len(columns) > len(total_columns)
        else [cells(total, total_columns) for total in report.totals],
    )


# --- traffic breakdowns ------------------------------------------------------------------------

BREAKDOWNS = (
    ("device_type", "Device"),
    ("os", "Operating system"),
    ("browser", "Browser"),
    ("landing_page", "Landing page"),
    ("country", "Country"),
    ("sub1", "Sub ID 1"),
)
BREAKDOWN_ROWS = 10
_NO_VALUE = {"landing_page": "No landing page", "country": "Unknown", "sub1": "(none)"}


@dataclass(frozen=True)
class BreakdownRow:
    """One value of a dimension in one currency: the viewer's counts and the money it reads
    (None for what it may not: revenue for affiliates, payout for advertisers)."""

    label: str
    currency: str
    clicks: int
    conversions: int
    approved: int
    conversion_rate: Decimal | None
    revenue: Decimal | None
    payout: Decimal | None


def traffic_breakdown(
    *,
    viewer: User,
    period: Period,
    dimension: str,
    limit: int = BREAKDOWN_ROWS,
    now: dt.datetime | None = None,
) -> tuple[list[BreakdownRow], int]:
    """The viewer's traffic per value of one dimension (device type, OS, browser, landing page,
    country, sub1) in `period`, from the rollups (one query through the reports service, the
    same numbers as `GET /api/reports?group_by=<dimension>`): the `limit` values with the most
    clicks, then conversions, and how many rows there are in all. Landing pages by name."""
    report = report_build(
        viewer=viewer,
        query=ReportQuery(
            group_by=(dimension,), date_from=period.date_from, date_to=period.date_to
        ),
        now=now,
    )
    rows = list(report.shaped())
    rows.sort(key=lambda row: (-row["clicks"], -row["conversions"]))
    label_column = "landing_page_name" if dimension == "landing_page" else dimension
    return [
        BreakdownRow(
            label=row[label_column] or _NO_VALUE.get(dimension, "Unknown"),
            currency=row["currency"],
            clicks=row["clicks"],
            conversions=row["conversions"],
            approved=row["conversions_approved"],
            conversion_rate=row["conversion_rate"],
            revenue=row.get(REVENUE),
            payout=row.get(PAYOUT),
        )
        for row in rows[:limit]
    ], len(rows)


def fraud_summary(*, viewer: User, period: Period, now: dt.datetime | None = None) -> FraudTable:
    """The viewer's fraud signals in `period` per signal (the fraud report's rows, scoped and
    with the money the viewer reads), as a table for the dashboards (two queries)."""
    report = fraud_report(
        viewer=viewer,
        query=FraudReportQuery(
            group_by=("signal",), date_from=period.date_from, date_to=period.date_to
        ),
        now=now,
    )
    return fraud_report_table(report)


# --- the portal report -------------------------------------------------------------------------

REPORT_GROUPS = (
    ("day", "Day"),
    ("campaign", "Campaign"),
    ("event", "Conversion event"),
    ("affiliate", "Affiliate"),
    ("country", "Country"),
    ("device_type", "Device"),
    ("os", "Operating system"),
    ("browser", "Browser"),
    ("landing_page", "Landing page"),
    ("sub1", "Sub ID 1"),
    ("sub2", "Sub ID 2"),
    ("sub3", "Sub ID 3"),
    ("sub4", "Sub ID 4"),
    ("sub5", "Sub ID 5"),
)
REPORT_PAGE_ROWS = 500
_REPORT_HEADINGS = {
    "date": "Day",
    "campaign_name": "Campaign",
    "affiliate_name": "Affiliate",
    "event": "Event",
    "country": "Country",
    "device_type": "Device",
    "os": "Operating system",
    "browser": "Browser",
    "landing_page_name": "Landing page",
    **{f"sub{n}": f"Sub ID {n}" for n in range(1, 6)},
    "currency": "Currency",
    "clicks": "Clicks",
    "unique_clicks": "Unique clicks",
    "conversions": "Conversions",
    "conversions_approved": "Approved",
    "conversions_pending": "Pending",
    "conversions_rejected": "Rejected",
    "conversion_rate": "Conversion rate",
    "revenue": "Approved revenue",
    "payout": "Approved payout",
    "epc": "EPC",
}
# Ids the pages replace by the name next to them.
_REPORT_IDS = {"campaign_id", "affiliate_id", "landing_page_id"}


def report_groups(*, viewer: User) -> list[tuple[str, str]]:
    """The breakdowns of the viewer's report page: an affiliate's traffic is all its own."""
    return [
        (value, label)
        for value, label in REPORT_GROUPS
        if value != "affiliate" or not viewer.is_affiliate
    ]


@dataclass(frozen=True)
class PortalReport:
    date_from: dt.date
    date_to: dt.date
    group: str
    headings: list[tuple[str, str]]  # (label, kind)
    rows: list[list[TableCell]]
    totals: list[list[TableCell]]
    row_count: int


def _report_kind(column: str) -> str:
    if column in (REVENUE, PAYOUT, EPC):
        return "money"
    if column == "conversion_rate":
        return "percent"
    if column == "date":
        return "date"
    if column in _REPORT_HEADINGS and column.startswith(("clicks", "unique", "conversions")):
        return "number"
    return "text"


def portal_report(
    *,
    viewer: User,
    date_from: dt.date,
    date_to: dt.date,
    group: str,
    limit: int = REPORT_PAGE_ROWS,
    now: dt.datetime | None = None,
) -> PortalReport:
    """The viewer's report by one breakdown over whole UTC days, from the rollups through the
    reports service: the rows of `GET /api/reports?group_by=<group>` (same numbers), the first
    `limit` of them for the page, named (campaigns, landing pages, affiliates), with totals per
    currency. Raises ApplicationError for a period the reports refuse."""
    report = report_build(
        viewer=viewer,
        query=ReportQuery(group_by=(group,), date_from=date_from, date_to=date_to),
        now=now,
    )
    grouped = list(report.rows[: limit + 1])
    rows = list(report.shaped(grouped[:limit]))
    totals = report.totals(grouped if len(grouped) <= limit else None)
    names: dict[int, str] = {}
    if group == "affiliate":
        names = {
            pk: company or email
            for pk, company, email in apps.get_model("accounts", "Affiliate")
            .objects.filter(pk__in={row["affiliate_id"] for row in rows})
            .values_list("pk", "company", "user__email")
        }
    columns = [
        "affiliate_name" if column == "affiliate_id" else column
        for column in report.columns
        if column in _REPORT_HEADINGS or column == "affiliate_id"
    ]
    columns = [column for column in columns if column not in _REPORT_IDS]
    group_columns = [column for column in columns if _report_kind(column) in ("text", "date")]

    def cells(row: dict[str, Any], shown: Sequence[str]) -> list[TableCell]:
        values = {**row, "affiliate_name": names.get(row.get("affiliate_id") or 0, "")}
        return [
            TableCell(value=values.get(column), kind=_report_kind(column), currency=row["currency"])
            for column in shown
        ]

    metric_columns = [column for column in columns if column not in group_columns]
    blank = [TableCell(value="", kind="text") for _ in group_columns[:-2]]
    return PortalReport(
        date_from=report.period.date_from,
        date_to=report.period.date_to,
        group=group,
        headings=[(_REPORT_HEADINGS[column], _report_kind(column)) for column in columns],
        rows=[cells(row, columns) for row in rows],
        totals=[
            [
                TableCell(value="Total", kind="text"),
                *blank,
                *cells(total, ["currency", *metric_columns]),
            ]
            for total in totals
        ],
        row_count=len(grouped)
        if len(grouped) <= limit
        else (len(report.rows) if isinstance(report.rows, list) else report.rows.count()),
    )
