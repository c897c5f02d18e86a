"""The fraud report: the fraud signals of clicks and conversions, counted per affiliate,
campaign and signal (and day) over a period.

Signals are stored on the rows themselves (`Click.fraud_signals`, `Conversion.fraud_signals`:
JSON lists of codes), not in the rollups, so this reads raw rows, but only flagged ones: the
scoped, dated selection is narrowed to `fraud_signals <> '[]'` first (on PostgreSQL the clicks'
partial index `click_flagged_time` holds exactly those), then each row's list is unnested in SQL
(`jsonb_array_elements_text`; SQLite: `json_each`) and grouped in the database. A row with two
signals counts once under each, so adding the rows of several signals counts such a row twice.

Scoping follows the tracker's selectors: an admin reads every row, an advertiser the rows of its
own campaigns, an affiliate its own traffic. Money (flagged conversions' revenue and payout, of
every status: what the signals put at stake, in the conversion's currency, which is its
campaign's) follows `money_visible`: advertisers never see the payout, affiliates never the
revenue; a sum the viewer may not read is not computed.

Periods are whole days in a time zone, as in the traffic reports (`report_period`).
"""

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import F, Q, QuerySet, TextField
from django.db.models.functions import Cast, TruncDate

from accounts.models import Affiliate, User
from campaigns.models import Campaign
from core.exceptions import ApplicationError
from core.money import quantize_money
from reporting.services.reports import Period, report_period
from tracker.models import BlockedReason, ConversionStatus
from tracker.selectors import PAYOUT, REVENUE, click_list, conversion_list, money_visible

FRAUD_GROUPS = ("day", "campaign", "affiliate", "signal")
DEFAULT_GROUPS = ("affiliate", "campaign", "signal")
_ZERO = Decimal("0.0000")
# Output columns per group, in the order of FRAUD_GROUPS.
_GROUP_OUTPUT = {
    "day": ("date",),
    "campaign": ("campaign_id", "campaign_name"),
    "affiliate": ("affiliate_id", "affiliate_name"),
    "signal": ("signal",),
}
COUNT_OUTPUT = (
    "clicks",
    "blocked_clicks",
    "conversions",
    "conversions_pending",
    "conversions_approved",
    "conversions_rejected",
    "conversions_reversed",
)
_KEY_COLUMNS = {"day": "f_date", "campaign": "f_campaign", "affiliate": "f_affiliate"}


@dataclass(frozen=True)
class FraudReportQuery:
    group_by: tuple[str, ...] = DEFAULT_GROUPS
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    tz: str = "UTC"
    campaign_ids: tuple[int, ...] = ()
    affiliate_ids: tuple[int, ...] = ()
    signals: tuple[str, ...] = ()


@dataclass(frozen=True)
class FraudReport:
    period: Period
    group_by: tuple[str, ...]
    columns: list[str]
    rows: list[dict[str, Any]]
    totals: list[dict[str, Any]]  # per currency


def _invalid(field_name: str, message: str) -> ApplicationError:
    return ApplicationError(message, code="invalid_report", fields={field_name: [message]})


def fraud_report_columns(*, viewer: User, group_by: Sequence[str]) -> list[str]:
    visible = money_visible(viewer=viewer)
    columns = [name for group in FRAUD_GROUPS if group in group_by for name in _GROUP_OUTPUT[group]]
    columns += ["currency", *COUNT_OUTPUT]
    columns += [money for money in (REVENUE, PAYOUT) if money in visible]
    return columns


def _grouped_sql(
    inner: str, *, keys: Sequence[str], aggregates: Sequence[str], unnest: bool
) -> str:
    """`inner` (a SELECT with `f_signals` and the `keys` columns) grouped by (signal, keys): its
    rows unnested into one per signal when `unnest`, else each row once (signal NULL)."""
    group = ", ".join(f"t.{key}" for key in keys)
    columns = ", ".join([*(f"t.{key}" for key in keys), *aggregates])
    if not unnest:
        return f"SELECT NULL, {columns} FROM ({inner}) AS t GROUP BY {group}"  # noqa: S608
    if connection.vendor == "postgresql":
        source = f"({inner}) AS t CROSS JOIN LATERAL jsonb_array_elements_text(t.f_signals) AS s"
    else:
        # SQLite: json_each is a table-valued function over the row's own list.
        source = f"({inner}) AS t, json_each(t.f_signals) AS s"
    return f"SELECT s.value, {columns} FROM {source} GROUP BY s.value, {group}"  # noqa: S608


def _grouped(
    queryset: QuerySet, *, keys: Sequence[str], aggregates: Sequence[str], unnest: bool
) -> list[tuple]:
    inner, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    with connection.cursor() as cursor:
        cursor.execute(_grouped_sql(inner, keys=keys, aggregates=aggregates, unnest=unnest), params)
        return cursor.fetchall()


def _flagged(queryset: QuerySet, *, period: Period, query: FraudReportQuery) -> QuerySet:
    """The scoped rows of the period (and filters) that raised a signal (one of `signals`).
    `fraud_signals <> '[]'` as PostgreSQL reads it is the predicate of the clicks' partial
    index, so the planner can use it."""
    queryset = queryset.filter(created_at__gte=period.start, created_at__lt=period.end).filter(
        ~Q(fraud_signals=[])
    )
    if query.campaign_ids:
        queryset = queryset.filter(campaign_id__in=query.campaign_ids)
    if query.affiliate_ids:
        queryset = queryset.filter(affiliate_id__in=query.affiliate_ids)
    if query.signals:
        if connection.vendor == "postgresql":
            # jsonb `?|`: the list holds any of these strings.
            queryset = queryset.filter(fraud_signals__has_any_keys=list(query.signals))
        else:
            # SQLite keeps the list as JSON text.
            matches = Q()
            for signal in query.signals:
                matches |= Q(signals_text__contains=f'"{signal}"')
            queryset = queryset.alias(signals_text=Cast("fraud_signals", TextField())).filter(
                matches
            )
    return queryset.select_related(None).order_by()


def _money(value: Any) -> Decimal:
    # SQLite sums decimals as floats: through str, then quantized like every amount.
    return quantize_money(Decimal(str(value))) if value is not None else _ZERO


def fraud_report(
    *, viewer: User, query: FraudReportQuery, now: dt.datetime | None = None
) -> FraudReport:
    """The viewer's flagged clicks and conversions per group and currency, ordered by the
    groups (day, campaign, affiliate, signal), with totals per currency. Raises
    ApplicationError (400 `invalid_report`) for an unknown group or a bad period."""
    group_by = tuple(dict.fromkeys(query.group_by))
    unknown = [group for group in group_by if group not in FRAUD_GROUPS]
    if unknown or not group_by:
        raise _invalid(
            "group_by",
            f"Unknown group {unknown[0]!r}: use {', '.join(FRAUD_GROUPS)} (comma-separated)."
            if unknown
            else f"Group by at least one of {', '.join(FRAUD_GROUPS)}.",
        )
    period = report_period(date_from=query.date_from, date_to=query.date_to, tz=query.tz, now=now)
    visible = money_visible(viewer=viewer)
    keys = [
        _KEY_COLUMNS[group] for group in FRAUD_GROUPS if group in _KEY_COLUMNS and group in group_by
    ]
    columns_of = {
        "f_signals": F("fraud_signals"),
        "f_campaign": F("campaign_id"),
        "f_affiliate": F("affiliate_id"),
        "f_date": TruncDate("created_at", tzinfo=zoneinfo.ZoneInfo(period.tz)),
    }

    def inner(queryset: QuerySet, **extra: Any) -> QuerySet:
        wanted = {"f_signals", *keys}
        return queryset.values(
            **{name: expression for name, expression in columns_of.items() if name in wanted},
            **extra,
        )

    # Unnested only when grouped by signal: otherwise a row counts once, whatever its signals.
    unnest = "signal" in group_by
    merged: dict[tuple, dict[str, Any]] = {}

    def row_for(signal: str | None, key_values: Sequence[Any], currency: str) -> dict[str, Any]:
        if signal is not None and query.signals and signal not in query.signals:
            return {}
        key = (*key_values, signal, currency)
        if key not in merged:
            merged[key] = {
                **dict(zip(keys, key_values, strict=True)),
                "signal": signal,
                "currency": currency,
                **dict.fromkeys(COUNT_OUTPUT, 0),
                REVENUE: _ZERO,
                PAYOUT: _ZERO,
            }
        return merged[key]

    clicks = _flagged(click_list(viewer=viewer), period=period, query=query)
    for signal, *key_values, currency, count, blocked in _grouped(
        inner(clicks, f_currency=F("campaign__currency"), f_blocked=F("blocked_reason")),
        keys=[*keys, "f_currency"],
        aggregates=[
            "count(*)",
            f"sum(CASE WHEN t.f_blocked = '{BlockedReason.FRAUD.value}' THEN 1 ELSE 0 END)",
        ],
        unnest=unnest,
    ):
        row = row_for(signal, key_values, currency)
        if row:
            row["clicks"] += count
            row["blocked_clicks"] += blocked or 0

    conversions = _flagged(conversion_list(viewer=viewer), period=period, query=query)
    statuses = list(ConversionStatus.values)
    money = [name for name in (REVENUE, PAYOUT) if name in visible]
    extra: dict[str, Any] = {"f_currency": F("currency"), "f_status": F("status")}
    extra.update({f"f_{name}": F(name) for name in money})
    for signal, *values in _grouped(
        inner(conversions, **extra),
        keys=[*keys, "f_currency"],
        aggregates=[
            "count(*)",
            *(f"sum(CASE WHEN t.f_status = '{status}' THEN 1 ELSE 0 END)" for status in statuses),
            *(f"sum(t.f_{name})" for name in money),
        ],
        unnest=unnest,
    ):
        key_values, currency = values[: len(keys)], values[len(keys)]
        counts = values[len(keys) + 1 :]
        row = row_for(signal, key_values, currency)
        if not row:
            continue
        row["conversions"] += counts[0]
        for status, count in zip(statuses, counts[1 : 1 + len(statuses)], strict=True):
            row[f"conversions_{status}"] += count or 0
        for name, amount in zip(money, counts[1 + len(statuses) :], strict=True):
            row[name] += _money(amount)

    return _report(viewer=viewer, period=period, group_by=group_by, merged=merged, keys=keys)


def _report(
    *,
    viewer: User,
    period: Period,
    group_by: tuple[str, ...],
    merged: dict[tuple, dict[str, Any]],
    keys: Sequence[str],
) -> FraudReport:
    """Name the campaigns and affiliates, fold rows that differ only by an ungrouped signal,
    shape the viewer's columns and add the per-currency totals."""
    columns = fraud_report_columns(viewer=viewer, group_by=group_by)
    campaign_ids = {row["f_campaign"] for row in merged.values() if "f_campaign" in row}
    affiliate_ids = {row["f_affiliate"] for row in merged.values() if "f_affiliate" in row}
    campaign_names = dict(Campaign.objects.filter(pk__in=campaign_ids).values_list("pk", "name"))
    affiliate_names = {
        pk: company or email
        for pk, company, email in Affiliate.objects.filter(pk__in=affiliate_ids).values_list(
            "pk", "company", "user__email"
        )
    }
    shaped: dict[tuple, dict[str, Any]] = {}
    totals: dict[str, dict[str, Any]] = {}
    metric_columns = [
        column for column in columns if column in COUNT_OUTPUT or column in (REVENUE, PAYOUT)
    ]
    for row in merged.values():
        date = row.get("f_date")
        values = {
            # SQLite hands the day back as text.
            "date": dt.date.fromisoformat(date) if isinstance(date, str) else date,
            "campaign_id": row.get("f_campaign"),
            "campaign_name": campaign_names.get(row.get("f_campaign", 0), ""),
            "affiliate_id": row.get("f_affiliate"),
            "affiliate_name": affiliate_names.get(row.get("f_affiliate", 0), ""),
            "signal": row["signal"],
            "currency": row["currency"],
        }
        group_values = tuple(values[column] for column in columns if column not in metric_columns)
        target = shaped.setdefault(
            group_values,
            {
                **{column: values[column] for column in columns if column not in metric_columns},
                **{column: 0 if column in COUNT_OUTPUT else _ZERO for column in metric_columns},
            },
        )
        total = totals.setdefault(
            row["currency"],
            {
                "currency": row["currency"],
                **{column: 0 if column in COUNT_OUTPUT else _ZERO for column in metric_columns},
            },
        )
        for column in metric_columns:
            target[column] += row[column]
            total[column] += row[column]
    ordered = sorted(shaped.values(), key=lambda row: tuple(_sort_key(row, columns)))
    return FraudReport(
        period=period,
        group_by=group_by,
        columns=columns,
        rows=ordered,
        totals=[totals[currency] for currency in sorted(totals)],
    )


def _sort_key(row: dict[str, Any], columns: Sequence[str]) -> list[Any]:
    order = ["date", "campaign_id", "affiliate_id", "signal", "currency"]
    return [(row[column] is None, row[column]) for column in order if column in columns]
