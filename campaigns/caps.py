"""Caps: how much a campaign (or one affiliate on it) may convert per period.

Periods are counted in the campaign's time zone. A counter row per (cap, affiliate, period) is
consumed with one conditional UPDATE; PostgreSQL re-evaluates the condition on the locked row, so
with a limit of N exactly N consumers succeed under any concurrency. Callers run inside their own
transaction: a consumption that is followed by a failure is rolled back with it.
"""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import F

from campaigns.models import Campaign, Cap, CapAction, CapCounter, CapMetric, CapPeriod, CapScope

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


def caps_consume(
    *, campaign: Campaign, affiliate_id: int, payout: Decimal, at: dt.datetime
) -> bool:
    """Consume one conversion (and `payout` of budget) from every cap of the campaign.

    Returns False, consuming nothing, when any cap would go over its limit. Must run inside a
    transaction (it opens a savepoint so that a partial consumption is undone).
    """
    caps = list(campaign.caps.all())
    if not caps:
        return True
    with transaction.atomic():
        for cap in caps:
            amount = _amount_for(cap, payout)
            period_start = cap_period_start(
                period=cap.period, at=at, timezone_name=campaign.timezone
            )
            key = _counter_key(cap, affiliate_id)
            CapCounter.objects.bulk_create(
                [CapCounter(cap=cap, affiliate_key=key, period_start=period_start, used=0)],
                ignore_conflicts=True,
            )
            updated = CapCounter.objects.filter(
                cap=cap,
                affiliate_key=key,
                period_start=period_start,
                used__lte=cap.limit - amount,
            ).update(used=F("used") + amount)
            if updated == 0:
                transaction.set_rollback(True)
                return False
    return True


def caps_block_clicks(*, campaign: Campaign, affiliate_id: int, at: dt.datetime) -> bool:
    """True when a cap whose action blocks clicks is used up for this affiliate right now."""
    caps = [cap for cap in campaign.caps.all() if cap.action == CapAction.BLOCK_CLICKS]
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
