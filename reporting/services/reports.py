"""Reports: read the hourly rollups (`reporting.models`), never raw clicks.

`report_build` answers `GET /api/reports` (JSON pages or a streamed CSV) and
`campaign_analytics` answers `GET /api/analytics/campaign/<id>`. Both aggregate in the database
and hand Python only the grouped rows.

Scoping (`stats_list`): an admin reads every row; an advertiser the rows of its own campaigns; an
affiliate its own rows; anyone else nothing. What each role sees OF a row follows
`tracker.selectors.money_visible`: affiliates never revenue nor margin; advertisers never the
affiliates' payout, the margin or EPC. A sum the viewer may not read is not even selected
(`Report.sums`), so no row of the report carries it.

Periods are whole days in a time zone (IANA name, default UTC): [date_from 00:00, date_to + 1 day
00:00) local, i.e. the UTC hours starting in that interval. A UTC hour belongs to the local day
(or hour) in which it starts, so in zones whose offset is not a whole number of hours (e.g.
Asia/Kolkata, +05:30) days are cut at the first UTC hour boundary after local midnight (00:30).

Metrics (money per currency: a row is always per currency):
- clicks, unique_clicks, blocked_clicks;
- conversions_<status>: conversions created in the period by current status (restricted by the
  `status` filter: statuses left out count 0), and `conversions`, their total;
- conversion_rate = conversions / clicks x 100 (2 places), null without clicks;
- revenue, payout: of approved conversions (what the ledger books); margin = revenue - payout;
- epc = payout / clicks (what affiliates earn per click, 4 places), null without clicks: an
  affiliates' figure, so advertisers do not get it (their own cost per click is revenue / clicks).

The `event` dimension (the conversion event's code; codes are per campaign, so grouping by event
alone adds up the same code across campaigns): clicks have no event, so a report grouped by event
has one row per event code with the conversion metrics and zero clicks (conversion_rate and epc
null), and an event-less row (`event` "") with the clicks and no conversion. The totals are the
same as without the dimension. Filtering by event codes keeps their rows only, so no clicks.

Traffic dimensions: `device_type`, `os` and `browser` are the click's own values ("" when the
user agent said nothing); `landing_page` and `smart_link` give the id and the current name
(`landing_page_id`/`landing_page_name`, `smart_link_id`/`smart_link_name`; null id and "" name
for clicks without one). Conversions count with their click's values, as for country and subs.
"""

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import BigIntegerField, CharField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Cast, Coalesce, NullIf, TruncDate
from django.utils import timezone

from accounts.models import User
from campaigns.models import Campaign, ConversionEvent, LandingPage, SmartLink
from core.exceptions import ApplicationError
from core.money import quantize_money
from payouts.exchange_rates import ExchangeRateTable, money_convert
from reporting.models import HourlyDimStat, HourlyStat, StatsDimension
from reporting.services.rollups import METRIC_COLUMNS
from tracker.models import ConversionStatus
from tracker.selectors import EPC, MARGIN, PAYOUT, REVENUE, money_visible

TIME_GROUPS = ("day", "hour")
ENTITY_GROUPS = ("campaign", "affiliate")
DIMENSION_GROUPS = tuple(StatsDimension.values)
GROUPS = TIME_GROUPS + ENTITY_GROUPS + DIMENSION_GROUPS
STATUSES = tuple(ConversionStatus.values)
MAX_PERIOD_DAYS = 366
DEFAULT_PERIOD_DAYS = 30
_RATE_PLACES = Decimal("0.01")
_ZERO = Decimal("0.0000")
_MONEY_SUMS = (REVENUE, PAYOUT)
_MONEY_OUTPUT = (REVENUE, PAYOUT, MARGIN, EPC)
_EVENT_CODE = "event_code"
_UTC_DAY = "utc_day"
# Dimensions keyed by another table's id: the table and the column their name is read into.
_NAMED_DIMENSIONS: dict[str, tuple[type[LandingPage] | type[SmartLink], str]] = {
    StatsDimension.LANDING_PAGE.value: (LandingPage, "landing_page_name"),
    StatsDimension.SMART_LINK.value: (SmartLink, "smart_link_name"),
}
_EMPTY_METRICS = {column: _ZERO if column in _MONEY_SUMS else 0 for column in METRIC_COLUMNS}

# Output column order; `report_columns` drops what the viewer may not see.
METRIC_OUTPUT = (
    "clicks",
    "unique_clicks",
    "blocked_clicks",
    "conversions",
    "conversions_pending",
    "conversions_approved",
    "conversions_rejected",
    "conversions_reversed",
    "conversion_rate",
    "revenue",
    "payout",
    "margin",
    "epc",
)
_GROUP_OUTPUT = {
    "day": ("date",),
    "hour": ("hour",),
    "campaign": ("campaign_id", "campaign_name"),
    "affiliate": ("affiliate_id",),
    **{dimension: (dimension,) for dimension in DIMENSION_GROUPS},
    StatsDimension.LANDING_PAGE.value: ("landing_page_id", "landing_page_name"),
    StatsDimension.SMART_LINK.value: ("smart_link_id", "smart_link_name"),
}


@dataclass(frozen=True)
class ReportQuery:
    group_by: tuple[str, ...] = ("day",)
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    tz: str = "UTC"
    campaign_ids: tuple[int, ...] = ()
    affiliate_ids: tuple[int, ...] = ()
    statuses: tuple[str, ...] = ()
    # Values of ONE dimension to keep, e.g. {"country": ("US",)}; landing pages and smart links
    # by id ({"landing_page": ("12",)}), events by code.
    dimension_values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # A currency to show all money in (the network's reporting currency), converted per UTC day
    # at that day's rate; "" keeps each row in its own currency.
    convert_to: str = ""


@dataclass(frozen=True)
class Period:
    date_from: dt.date
    date_to: dt.date
    tz: str
    start: dt.datetime  # UTC
    end: dt.datetime  # UTC, exclusive


@dataclass(frozen=True)
class Report:
    period: Period
    group_by: tuple[str, ...]
    columns: list[str]
    dimension: str | None
    statuses: tuple[str, ...]
    # Grouped rows straight from the database, ordered (a list when converted into one
    # currency); `shaped` turns them into output rows.
    rows: QuerySet | list[dict[str, Any]]
    # The filtered, scoped rollup rows before grouping (for the totals).
    selection: QuerySet
    # The rollup columns summed into `rows`: the money the viewer may not read is left out.
    sums: tuple[str, ...] = METRIC_COLUMNS

    def shaped(self, rows: Iterable[dict] | None = None) -> Iterator[dict[str, Any]]:
        if rows is None:
            rows = self.rows if isinstance(self.rows, list) else self.rows.iterator()
        for row in rows:
            yield report_row(
                row, columns=self.columns, statuses=self.statuses, dimension=self.dimension
            )

    def totals(self, rows: Sequence[dict] | None = None) -> list[dict[str, Any]]:
        """One row per currency over the whole period and selection: summed from `rows` when
        the caller already holds every grouped row, else by one more query."""
        columns = ["currency", *(column for column in self.columns if column in METRIC_OUTPUT)]
        if rows is None and isinstance(self.rows, list):
            rows = self.rows
        if rows is None:
            sums = list(_metrics(self.selection.values("currency"), self.sums).order_by("currency"))
        else:
            empty = {column: _EMPTY_METRICS[column] for column in self.sums}
            by_currency: dict[str, dict[str, Any]] = {}
            for row in rows:
                total = by_currency.setdefault(
                    row["currency"], {"currency": row["currency"], **empty}
                )
                for column in self.sums:
                    total[column] += row[column] or 0
            sums = [by_currency[currency] for currency in sorted(by_currency)]
        return [report_row(row, columns=columns, statuses=self.statuses) for row in sums]


def _invalid(field_name: str, message: str, code: str = "invalid_report") -> ApplicationError:
    return ApplicationError(message, code=code, fields={field_name: [message]})


def report_period(
    *, date_from: dt.date | None, date_to: dt.date | None, tz: str, now: dt.datetime | None = None
) -> Period:
    """Whole local days [date_from, date_to] in `tz` as UTC bounds. Defaults: the last 30 days
    up to today (in `tz`). Raises ApplicationError for an unknown zone or a bad period."""
    try:
        zone = zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise _invalid("tz", f"Unknown time zone {tz!r}: use an IANA name such as UTC.") from exc
    today = (now or timezone.now()).astimezone(zone).date()
    date_to = date_to or (today if date_from is None else date_from)
    if date_from is None:
        date_from = min(date_to, today) - dt.timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    if date_to < date_from:
        raise _invalid("date_to", "date_to must not be before date_from.")
    if (date_to - date_from).days + 1 > MAX_PERIOD_DAYS:
        raise _invalid("date_from", f"A report covers at most {MAX_PERIOD_DAYS} days.")
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=zone).astimezone(dt.UTC)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return Period(
        date_from=date_from, date_to=date_to, tz=tz, start=start, end=end.astimezone(dt.UTC)
    )


def stats_list(*, viewer: User, dimension: str | None = None) -> QuerySet:
    """The rollup rows the viewer may read: HourlyStat, or HourlyDimStat of one `dimension`."""
    queryset: QuerySet[HourlyStat] | QuerySet[HourlyDimStat]
    if dimension is None:
        queryset = HourlyStat.objects.all()
    else:
        queryset = HourlyDimStat.objects.filter(dimension=dimension)
    if viewer.is_network_admin:
        return queryset
    if viewer.is_advertiser:
        return queryset.filter(campaign__advertiser_id=viewer.pk)
    if viewer.is_affiliate:
        return queryset.filter(affiliate_id=viewer.pk)
    return queryset.none()


def report_columns(*, viewer: User, group_by: Sequence[str]) -> list[str]:
    """The groups' columns, `currency`, then every metric but the money the viewer may not
    read (`money_visible`)."""
    visible = money_visible(viewer=viewer)
    columns = [name for group in group_by for name in _GROUP_OUTPUT[group]]
    columns.append("currency")
    columns += [
        metric for metric in METRIC_OUTPUT if metric not in _MONEY_OUTPUT or metric in visible
    ]
    return columns


def report_sums(*, viewer: User) -> tuple[str, ...]:
    """The rollup columns a report of the viewer's sums: the counts and the money it sees."""
    visible = money_visible(viewer=viewer)
    return tuple(
        column for column in METRIC_COLUMNS if column not in _MONEY_SUMS or column in visible
    )


def _metrics(queryset: QuerySet, sums: Sequence[str]) -> QuerySet:
    return queryset.annotate(**{column: Sum(column) for column in sums})


def _ratio(numerator: Decimal | int, clicks: int, places: Decimal) -> Decimal | None:
    if not clicks:
        return None
    return (Decimal(numerator) / Decimal(clicks)).quantize(places, rounding=ROUND_HALF_UP)


def report_row(
    row: dict, *, columns: Sequence[str], statuses: Sequence[str], dimension: str | None = None
) -> dict[str, Any]:
    """Shape one grouped row: the viewer's columns, derived metrics, Decimal money."""
    counts = {status: row[f"conversions_{status}"] or 0 for status in STATUSES}
    for status in STATUSES:
        if statuses and status not in statuses:
            counts[status] = 0
    clicks = row["clicks"] or 0
    conversions = sum(counts.values())
    approved_money = not statuses or ConversionStatus.APPROVED in statuses
    # A sum left out of the row (money the viewer may not read) shapes as zero, and the
    # viewer's columns never include it nor what derives from it.
    revenue = quantize_money(row.get(REVENUE) or _ZERO) if approved_money else _ZERO
    payout = quantize_money(row.get(PAYOUT) or _ZERO) if approved_money else _ZERO
    values = {
        **row,
        "campaign_name": row.get("campaign__name"),
        "clicks": clicks,
        "unique_clicks": row["unique_clicks"] or 0,
        "blocked_clicks": row["blocked_clicks"] or 0,
        "conversions": conversions,
        **{f"conversions_{status}": counts[status] for status in STATUSES},
        "conversion_rate": _ratio(conversions * 100, clicks, _RATE_PLACES),
        "revenue": revenue,
        "payout": payout,
        "margin": revenue - payout,
        "epc": _ratio(payout, clicks, Decimal("0.0001")),
    }
    if dimension in _NAMED_DIMENSIONS:
        values[f"{dimension}_id"] = int(row["value"]) if row.get("value") else None
        name_column = _NAMED_DIMENSIONS[dimension][1]
        values[name_column] = row.get(name_column) or ""
    elif dimension is not None:
        values[dimension] = row.get(_EVENT_CODE if dimension == StatsDimension.EVENT else "value")
    return {column: values.get(column) for column in columns}


def report_build(*, viewer: User, query: ReportQuery, now: dt.datetime | None = None) -> Report:
    """The viewer's report: grouped rows (ordered by the groups, then currency) and totals.

    Reads HourlyStat, or HourlyDimStat when a dimension (country, sub1..sub5, event, device_type,
    os, browser, landing_page, smart_link) is grouped or filtered; at most one dimension per
    report, because each dimension's rows count every click once. Raises ApplicationError (400)
    for an invalid combination.
    """
    group_by = tuple(dict.fromkeys(query.group_by))
    unknown = [group for group in group_by if group not in GROUPS]
    if unknown:
        raise _invalid(
            "group_by", f"Unknown group {unknown[0]!r}: use {', '.join(GROUPS)} (comma-separated)."
        )
    if all(group in group_by for group in TIME_GROUPS):
        raise _invalid("group_by", "Group by day or by hour, not both.")
    dimensions = {group for group in group_by if group in DIMENSION_GROUPS} | set(
        query.dimension_values
    )
    if len(dimensions) > 1:
        raise _invalid(
            "group_by",
            f"A report can group or filter by one of {', '.join(DIMENSION_GROUPS)} at a time.",
        )
    bad_status = [status for status in query.statuses if status not in STATUSES]
    if bad_status:
        raise _invalid("status", f"Unknown status {bad_status[0]!r}: use {', '.join(STATUSES)}.")
    period = report_period(date_from=query.date_from, date_to=query.date_to, tz=query.tz, now=now)
    dimension = next(iter(dimensions), None)

    base = stats_list(viewer=viewer, dimension=dimension).filter(
        hour__gte=period.start, hour__lt=period.end
    )
    if query.campaign_ids:
        base = base.filter(campaign_id__in=query.campaign_ids)
    if query.affiliate_ids:
        base = base.filter(affiliate_id__in=query.affiliate_ids)
    if dimension == StatsDimension.EVENT:
        # The rollups key events by id (a renamed code relabels past rows); reports name them
        # by code, looked up per row in the rollup row's own campaign (unique there).
        events = ConversionEvent.objects.annotate(key=Cast("id", CharField()))
        if query.dimension_values.get(dimension):
            base = base.filter(
                value__in=events.filter(code__in=query.dimension_values[dimension]).values("key")
            )
        base = base.annotate(
            **{
                _EVENT_CODE: Coalesce(
                    Subquery(
                        events.filter(campaign_id=OuterRef("campaign_id"), key=OuterRef("value"))
                        .order_by()
                        .values("code")[:1]
                    ),
                    Value(""),
                )
            }
        )
    else:
        if dimension and query.dimension_values.get(dimension):
            base = base.filter(value__in=query.dimension_values[dimension])
        if dimension in _NAMED_DIMENSIONS:
            # Named per row by id ("" is no page / no smart link: no name).
            model, name_column = _NAMED_DIMENSIONS[dimension]
            base = base.annotate(
                **{
                    name_column: Subquery(
                        model.objects.filter(
                            pk=Cast(NullIf(OuterRef("value"), Value("")), BigIntegerField())
                        )
                        .order_by()
                        .values("name")[:1]
                    )
                }
            )

    keys: list[str] = []
    annotations: dict[str, Any] = {}
    for group in group_by:
        if group == "day":
            annotations["date"] = TruncDate("hour", tzinfo=zoneinfo.ZoneInfo(period.tz))
            keys.append("date")
        elif group == "hour":
            keys.append("hour")
        elif group == "campaign":
            keys += ["campaign_id", "campaign__name"]
        elif group == "affiliate":
            keys.append("affiliate_id")
        elif group == StatsDimension.EVENT:
            keys.append(_EVENT_CODE)
        elif group in _NAMED_DIMENSIONS:
            keys += ["value", _NAMED_DIMENSIONS[group][1]]
        else:
            keys.append("value")
    sums = report_sums(viewer=viewer)
    rows: QuerySet | list[dict[str, Any]]
    if query.convert_to:
        rows = _rows_converted(
            base.annotate(**annotations), keys=keys, sums=sums, period=period, to=query.convert_to
        )
    else:
        rows = _metrics(base.annotate(**annotations).values(*keys, "currency"), sums).order_by(
            *keys, "currency"
        )
    return Report(
        period=period,
        group_by=group_by,
        columns=report_columns(viewer=viewer, group_by=group_by),
        dimension=dimension,
        statuses=tuple(query.statuses),
        rows=rows,
        selection=base,
        sums=sums,
    )


def _rows_converted(
    base: QuerySet, *, keys: Sequence[str], sums: Sequence[str], period: Period, to: str
) -> list[dict[str, Any]]:
    """The grouped rows with every amount in the currency `to`.

    Each group is summed per currency and UTC day, each day's money converted at that day's
    rate (`payouts.exchange_rates`, half-up to 4 places), and the days added up. Money in a
    currency with no rate for its day is refused (400 `no_exchange_rate`, naming the currency
    and days); a day with no money in it (clicks only) needs no rate.
    """
    per_day = _metrics(
        base.annotate(**{_UTC_DAY: TruncDate("hour", tzinfo=zoneinfo.ZoneInfo("UTC"))}).values(
            *keys, "currency", _UTC_DAY
        ),
        sums,
    ).order_by(*keys, "currency", _UTC_DAY)
    per_day_rows = list(per_day)
    table = ExchangeRateTable(
        currencies={row["currency"] for row in per_day_rows},
        to_currency=to,
        first=period.start.date(),
        last=(period.end - dt.timedelta(microseconds=1)).date(),
    )
    empty = {column: _EMPTY_METRICS[column] for column in sums}
    missing: dict[str, set[dt.date]] = {}
    merged: dict[tuple, dict[str, Any]] = {}  # in the database's order of the groups
    for row in per_day_rows:
        money = [column for column in sums if column in _MONEY_SUMS and row[column]]
        rate = table.rate(on=row[_UTC_DAY], from_currency=row["currency"])
        if rate is None and money:
            missing.setdefault(row["currency"], set()).add(row[_UTC_DAY])
            continue
        group = tuple(row[key] for key in keys)
        total = merged.setdefault(
            group, {**{key: row[key] for key in keys}, "currency": to, **empty}
        )
        for column in sums:
            if column in _MONEY_SUMS:
                if rate is not None and row[column]:
                    total[column] += money_convert(amount=row[column], rate=rate)
            else:
                total[column] += row[column] or 0
    if missing:
        named = "; ".join(
            f"{currency} on {', '.join(day.isoformat() for day in sorted(days)[:5])}"
            + (f" and {len(days) - 5} more days" if len(days) > 5 else "")
            for currency, days in sorted(missing.items())
        )
        raise ApplicationError(
            f"No exchange rate into {to} for {named}: enter those rates, or ask for the report "
            "in each row's own currency.",
            code="no_exchange_rate",
            fields={"currency": [f"No rate into {to} for {named}."]},
        )
    return list(merged.values())


@dataclass(frozen=True)
class CampaignAnalytics:
    campaign: Campaign
    period: Period
    currency: str
    columns: list[str]
    totals: dict[str, Any]
    daily: list[dict[str, Any]]


def campaign_analytics(
    *,
    viewer: User,
    campaign: Campaign,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    tz: str | None = None,
    now: dt.datetime | None = None,
) -> CampaignAnalytics:
    """Totals and a daily series (every day of the period, zeros included) of one campaign the
    caller already resolved through its selector. Days are in `tz`, default the campaign's time
    zone; money in the campaign's currency (one query on HourlyStat, summed per day)."""
    report = report_build(
        viewer=viewer,
        query=ReportQuery(
            group_by=("day",),
            date_from=date_from,
            date_to=date_to,
            tz=tz or campaign.timezone,
            campaign_ids=(campaign.pk,),
        ),
        now=now,
    )
    metric_columns = [column for column in report.columns if column in METRIC_OUTPUT]
    empty = {column: _EMPTY_METRICS[column] for column in report.sums}
    rows = report.rows
    if isinstance(rows, list):  # never: no conversion was asked for
        raise TypeError("campaign analytics are in the campaign's currency")
    by_day = {row["date"]: row for row in rows.filter(currency=campaign.currency)}
    days = (report.period.date_to - report.period.date_from).days + 1
    daily_raw = [
        {**empty, **by_day.get(day, {}), "date": day}
        for day in (report.period.date_from + dt.timedelta(days=n) for n in range(days))
    ]
    totals_raw = dict(empty)
    for row in daily_raw:
        for column in report.sums:
            totals_raw[column] += row[column]
    return CampaignAnalytics(
        campaign=campaign,
        period=report.period,
        currency=campaign.currency,
        columns=metric_columns,
        totals=report_row(totals_raw, columns=metric_columns, statuses=()),
        daily=[
            report_row(row, columns=["date", *metric_columns], statuses=()) for row in daily_raw
        ],
    )
