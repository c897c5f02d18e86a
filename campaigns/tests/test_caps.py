import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction

from accounts.tests.factories import AffiliateFactory
from campaigns.caps import TOTAL_PERIOD_START, cap_period_start, caps_block_clicks, caps_consume
from campaigns.models import CapAction, CapCounter, CapMetric, CapPeriod, CapScope
from campaigns.tests.factories import CampaignFactory, CapFactory

UTC = dt.UTC


def _at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("period", "at", "timezone_name", "expected"),
    [
        # 03:00 UTC on Monday 4 March is still Sunday evening in New York.
        (CapPeriod.DAY, _at(2024, 3, 4, 3, 0), "America/New_York", dt.date(2024, 3, 3)),
        (CapPeriod.DAY, _at(2024, 3, 4, 3, 0), "UTC", dt.date(2024, 3, 4)),
        (CapPeriod.WEEK, _at(2024, 3, 4, 3, 0), "America/New_York", dt.date(2024, 2, 26)),
        (CapPeriod.WEEK, _at(2024, 3, 4, 3, 0), "UTC", dt.date(2024, 3, 4)),
        # 16:00 UTC on 29 February is already 1 March in Tokyo (UTC+9).
        (CapPeriod.MONTH, _at(2024, 2, 29, 16, 0), "Asia/Tokyo", dt.date(2024, 3, 1)),
        (CapPeriod.MONTH, _at(2024, 2, 29, 14, 59), "Asia/Tokyo", dt.date(2024, 2, 1)),
        # 02:00 UTC on 1 March is 29 February in Los Angeles.
        (CapPeriod.MONTH, _at(2024, 3, 1, 2, 0), "America/Los_Angeles", dt.date(2024, 2, 1)),
        # New Year's Eve in Kiritimati (UTC+14) starts at 10:00 UTC on 31 December.
        (CapPeriod.DAY, _at(2024, 12, 31, 10, 0), "Pacific/Kiritimati", dt.date(2025, 1, 1)),
        (CapPeriod.MONTH, _at(2024, 12, 31, 9, 59), "Pacific/Kiritimati", dt.date(2024, 12, 1)),
        # Across the US DST change (10 March 2024, 02:00 local): midnight is still midnight.
        (CapPeriod.DAY, _at(2024, 3, 11, 3, 59), "America/New_York", dt.date(2024, 3, 10)),
        (CapPeriod.DAY, _at(2024, 3, 11, 4, 0), "America/New_York", dt.date(2024, 3, 11)),
        (CapPeriod.TOTAL, _at(2024, 3, 11, 4, 0), "Asia/Tokyo", TOTAL_PERIOD_START),
    ],
)
def test_cap_period_start_is_computed_in_the_campaign_time_zone(
    period, at, timezone_name, expected
):
    assert cap_period_start(period=period, at=at, timezone_name=timezone_name) == expected


@pytest.mark.django_db
def test_caps_consume_with_no_caps_always_succeeds():
    campaign = CampaignFactory()

    assert caps_consume(
        campaign=campaign, event_id=None, affiliate_id=1, payout=Decimal("9"), at=_at(2024, 1, 1)
    )
    assert CapCounter.objects.count() == 0


@pytest.mark.django_db
def test_caps_consume_counts_conversions_and_payout_per_period_and_affiliate():
    campaign = CampaignFactory(timezone="Europe/Berlin")
    daily = CapFactory(campaign=campaign, period=CapPeriod.DAY, limit=Decimal("10"))
    budget = CapFactory(
        campaign=campaign,
        scope=CapScope.AFFILIATE,
        period=CapPeriod.TOTAL,
        metric=CapMetric.PAYOUT,
        limit=Decimal("100"),
    )
    at = _at(2024, 5, 1, 22, 30)  # already 2 May in Berlin

    with transaction.atomic():
        assert caps_consume(
            campaign=campaign, event_id=None, affiliate_id=7, payout=Decimal("1.25"), at=at
        )
        assert caps_consume(
            campaign=campaign, event_id=None, affiliate_id=8, payout=Decimal("2.5"), at=at
        )

    rows = set(CapCounter.objects.values_list("cap_id", "affiliate_key", "period_start", "used"))
    assert rows == {
        (daily.pk, 0, dt.date(2024, 5, 2), Decimal("2.0000")),
        (budget.pk, 7, TOTAL_PERIOD_START, Decimal("1.2500")),
        (budget.pk, 8, TOTAL_PERIOD_START, Decimal("2.5000")),
    }


@pytest.mark.django_db
def test_caps_consume_when_the_second_cap_fails_the_first_is_not_consumed():
    campaign = CampaignFactory()
    conversions = CapFactory(campaign=campaign, period=CapPeriod.DAY, limit=Decimal("10"))
    budget = CapFactory(
        campaign=campaign,
        scope=CapScope.AFFILIATE,
        period=CapPeriod.DAY,
        metric=CapMetric.PAYOUT,
        limit=Decimal("5"),
    )
    at = _at(2024, 6, 1, 12)

    with transaction.atomic():
        first = caps_consume(
            campaign=campaign, event_id=None, affiliate_id=3, payout=Decimal("4"), at=at
        )
        second = caps_consume(
            campaign=campaign, event_id=None, affiliate_id=3, payout=Decimal("4"), at=at
        )
        exact_fit = caps_consume(
            campaign=campaign, event_id=None, affiliate_id=3, payout=Decimal("1"), at=at
        )

    assert (first, second, exact_fit) == (True, False, True)
    assert CapCounter.objects.get(cap=conversions).used == Decimal("2.0000")
    assert CapCounter.objects.get(cap=budget).used == Decimal("5.0000")


@pytest.mark.django_db
def test_caps_consume_starts_a_new_period_with_a_fresh_counter():
    campaign = CampaignFactory(timezone="America/New_York")
    CapFactory(campaign=campaign, period=CapPeriod.DAY, limit=Decimal("1"))

    with transaction.atomic():
        results = [
            caps_consume(campaign=campaign, event_id=None, affiliate_id=1, payout=Decimal(0), at=at)
            for at in (_at(2024, 3, 4, 3, 0), _at(2024, 3, 4, 4, 0), _at(2024, 3, 4, 5, 0))
        ]

    assert results == [True, False, True]
    assert set(CapCounter.objects.values_list("period_start", "used")) == {
        (dt.date(2024, 3, 3), Decimal("1.0000")),
        (dt.date(2024, 3, 4), Decimal("1.0000")),
    }


@pytest.mark.django_db(transaction=True)
def test_caps_consume_is_exact_under_concurrency():
    campaign = CampaignFactory()
    cap = CapFactory(campaign=campaign, period=CapPeriod.TOTAL, limit=Decimal("5"))
    workers = 12
    barrier = threading.Barrier(workers)
    results: list[bool] = []
    failures: list[BaseException] = []

    def consume() -> None:
        try:
            barrier.wait(timeout=10)
            with transaction.atomic():
                results.append(
                    caps_consume(
                        campaign=campaign,
                        event_id=None,
                        affiliate_id=1,
                        payout=Decimal(1),
                        at=_at(2024, 1, 1),
                    )
                )
        except BaseException as exc:  # collected and asserted in the main thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=consume) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert failures == []
    assert sorted(results) == [False] * 7 + [True] * 5
    assert CapCounter.objects.get(cap=cap).used == Decimal("5.0000")


@pytest.mark.django_db
def test_caps_block_clicks_only_for_used_up_click_blocking_caps():
    campaign = CampaignFactory()
    CapFactory(
        campaign=campaign,
        scope=CapScope.AFFILIATE,
        period=CapPeriod.DAY,
        limit=Decimal("1"),
        action=CapAction.BLOCK_CLICKS,
    )
    at = _at(2024, 7, 1, 9)

    before = caps_block_clicks(campaign=campaign, affiliate_id=11, at=at)
    with transaction.atomic():
        assert caps_consume(
            campaign=campaign, event_id=None, affiliate_id=11, payout=Decimal(0), at=at
        )

    assert before is False
    assert caps_block_clicks(campaign=campaign, affiliate_id=11, at=at) is True
    assert caps_block_clicks(campaign=campaign, affiliate_id=12, at=at) is False
    assert caps_block_clicks(campaign=campaign, affiliate_id=11, at=at + dt.timedelta(1)) is False


@pytest.mark.django_db
def test_caps_block_clicks_ignores_caps_that_only_reject_conversions():
    campaign = CampaignFactory()
    CapFactory(campaign=campaign, period=CapPeriod.TOTAL, limit=Decimal("1"))
    affiliate = AffiliateFactory()
    at = _at(2024, 7, 1, 9)

    with transaction.atomic():
        assert caps_consume(
            campaign=campaign, event_id=None, affiliate_id=affiliate.pk, payout=Decimal(0), at=at
        )
        assert not caps_consume(
            campaign=campaign, event_id=None, affiliate_id=affiliate.pk, payout=Decimal(0), at=at
        )

    assert caps_block_clicks(campaign=campaign, affiliate_id=affiliate.pk, at=at) is False
