"""Caps: how much a campaign (or one affiliate on it) may convert per period.

Periods are counted in the campaign's time zone. A counter row per (cap, affiliate, period) is
consumed with one conditional upsert; PostgreSQL re-evaluates the condition on the locked row, so
with a limit of N exactly N consumers succeed under any concurrency. Callers run inside their own
transaction: a consumption that is followed by a failure is rolled back with it.
"""

import datetime as dt
from decimal import Decimal
from typing import TypedDict
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Q

from campaigns.models import Campaign, Cap, CapAction, CapCounter, CapMetric, CapPeriod, CapScope
from core.money import MONEY_DECIMAL_PLACES
from core.operator_events import operator_event_cap_reached
from core.sql import execute_fetchone

TOTAL_PERIOD_START = dt.date(1970, 1, 1)


def cap_period_start(*, period: str, at: dt.datetime, timezone_name: str) -> dt.date:
    local = at.astimezone(ZoneInfo(timezone_name)).date()
    if period == CapPeriod.DAY:
        return local
    if period == CapPeriod.WEEK:
        return local - dt.timedelta(days=local.weekday())
    if period == CapPeriod.MONTH:
        return local.replace(day=1)
    return TOTAL_PERIOD_START


def _counter_key(cap: Cap, affiliate_id: int) -> int:
    return affiliate_id if cap.scope == CapScope.AFFILIATE else 0


def _amount_for(cap: Cap, payout: Decimal) -> Decimal:
    return Decimal(1) if cap.metric == CapMetric.CONVERSIONS else payout


_COUNTER_TABLE = CapCounter._meta.db_table
# Portable to SQLite, the quickstart's database, where two details matter:
# - a Decimal parameter is bound as text, and SQLite orders every number before every text, so
#   `used + amount <= '2'` would always be true: the limit is CAST to a number;
# - a decimal column holds a binary float, so 0.1 + 0.2 is not 0.3: the sum is rounded to the
#   4 places money has, before it is compared and when it is stored.
# On PostgreSQL (numeric) the CAST and ROUND change no value.
_COUNTER_CONSUME_SQL = (
    f"INSERT INTO {_COUNTER_TABLE} (cap_id, affiliate_key, period_start, used) "  # noqa: S608
    "VALUES (%s, %s, %s, %s) ON CONFLICT (cap_id, affiliate_key, period_start) "
    f"DO UPDATE SET used = ROUND({_COUNTER_TABLE}.used + EXCLUDED.used, {MONEY_DECIMAL_PLACES}) "
    f"WHERE ROUND({_COUNTER_TABLE}.used + EXCLUDED.used, {MONEY_DECIMAL_PLACES}) "
    "<= CAST(%s AS NUMERIC) RETURNING 1"
)


def _counter_consume(
    *, cap: Cap, affiliate_key: int, period_start: dt.date, amount: Decimal
) -> bool:
    # One upsert: a new counter starts at `amount`; an existing one grows only while it stays
    # within the limit. PostgreSQL locks the conflicting row and re-checks the WHERE on its latest
    # version, so with a limit of N exactly N consumers succeed under any concurrency (SQLite
    # serialises writers: the same holds).
    if amount > cap.limit:
        return False
    row = execute_fetchone(
        _COUNTER_CONSUME_SQL,
        [
            cap.pk,
            affiliate_key,
            connection.ops.adapt_datefield_value(period_start),
            amount,
            cap.limit,
        ],
    )
    return row is not None


class _Consumption(TypedDict):
    cap: Cap
    affiliate_key: int
    period_start: dt.date
    amount: Decimal


def caps_consume(
    *, campaign: Campaign, event_id: int | None, affiliate_id: int, payout: Decimal, at: dt.datetime
) -> bool:
    """Consume one conversion (and `payout` of budget) from every campaign cap of the campaign
    and every cap of the event.

    Returns False, consuming nothing, when any cap would go over its limit. Must run inside a
    transaction; with several caps it opens a savepoint so that a partial consumption is undone.
    """
    caps = list(
        Cap.objects.filter(campaign=campaign)
        .filter(Q(event__isnull=True) | Q(event_id=event_id))
        .order_by("id")
    )
    if not caps:
        return True
    consumptions: list[_Consumption] = [
        {
            "cap": cap,
            "affiliate_key": _counter_key(cap, affiliate_id),
            "period_start": cap_period_start(
                period=cap.period, at=at, timezone_name=campaign.timezone
            ),
            "amount": _amount_for(cap, payout),
        }
        for cap in caps
    ]
    if len(consumptions) == 1:
        # A refused single upsert writes nothing: no savepoint needed.
        if _counter_consume(**consumptions[0]):
            return True
        _cap_reached(campaign=campaign, affiliate_id=affiliate_id, consumption=consumptions[0])
        return False
    refused: _Consumption | None = None
    with transaction.atomic():
        for consumption in consumptions:
            if not _counter_consume(**consumption):
                transaction.set_rollback(True)
                refused = consumption
                break
    if refused is None:
        return True
    # Outside the rolled-back savepoint: the event commits with the refused conversion.
    _cap_reached(campaign=campaign, affiliate_id=affiliate_id, consumption=refused)
    return False


def _cap_reached(*, campaign: Campaign, affiliate_id: int, consumption: _Consumption) -> None:
    """Tell the operator's webhooks, once per cap and period (the event's dedupe key)."""
    cap = consumption["cap"]
    operator_event_cap_reached(
        cap_id=cap.pk,
        campaign_id=campaign.pk,
        affiliate_id=affiliate_id,
        scope=cap.scope,
        period=cap.period,
        metric=cap.metric,
        limit=cap.limit,
        period_start=consumption["period_start"],
    )


def caps_block_clicks(*, campaign: Campaign, affiliate_id: int, at: dt.datetime) -> bool:
    """True when a cap whose action blocks clicks is used up for this affiliate right now."""
    caps = [cap for cap in campaign.campaign_caps if cap.action == CapAction.BLOCK_CLICKS]
    for cap in caps:
        period_start = cap_period_start(period=cap.period, at=at, timezone_name=campaign.timezone)
        used = (
            CapCounter.objects.filter(
                cap=cap, affiliate_key=_counter_key(cap, affiliate_id), period_start=period_start
            )
            .values_list("used", flat=True)
            .first()
        )
        if used is not None and used >= cap.limit:
            return True
    return False
