"""Caps on SQLite: exactly the limit, never one more, sequentially and from several threads."""

import datetime as dt
import threading
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test import Client

from campaigns.caps import caps_consume
from campaigns.models import CapAction, CapCounter, CapMetric, CapPeriod, CapScope
from campaigns.tests.factories import CampaignFactory, CapFactory
from tracker.models import BlockedReason, Click, Conversion
from tracker.tests.factories import postback_world

pytestmark = pytest.mark.smoke


def _results(responses) -> list[tuple[str, str | None]]:
    return [(r.json()["result"], r.json().get("reason")) for r in responses]


@pytest.mark.django_db
def test_a_daily_cap_of_two_conversions_accepts_two_and_refuses_every_later_postback():
    # given a campaign capped at 2 conversions a day and 4 clicks
    world = postback_world()
    campaign = world.campaign()
    cap = CapFactory(
        campaign=campaign, period=CapPeriod.DAY, metric=CapMetric.CONVERSIONS, limit=Decimal(2)
    )
    clicks = [world.click() for _ in range(4)]
    client = Client()

    # when a postback arrives for each click, one after the other
    responses = [
        client.get(world.postback_path, {"click_id": click.click_id, "payout": "5.00"})
        for click in clicks
    ]

    # then two are recorded and the two over the limit are rejected by the cap
    assert _results(responses) == [
        ("created", None),
        ("created", None),
        ("rejected", "cap_reached"),
        ("rejected", "cap_reached"),
    ]
    assert Counter(Conversion.objects.values_list("status", flat=True)) == {
        "approved": 2,
        "rejected": 2,
    }
    assert CapCounter.objects.get(cap=cap).used == Decimal("2.0000")


@pytest.mark.django_db
def test_a_payout_budget_is_exact_to_the_last_ten_thousandth():
    # given a budget of 0.3000 a day: 0.1 + 0.2 is exactly 0.3 (binary floats say otherwise)
    campaign = CampaignFactory()
    cap = CapFactory(
        campaign=campaign,
        period=CapPeriod.DAY,
        metric=CapMetric.PAYOUT,
        limit=Decimal("0.3000"),
    )
    at = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)

    # when 0.1000, 0.2000, then 0.0001 are consumed
    with transaction.atomic():
        results = [
            caps_consume(
                campaign=campaign, event_id=None, affiliate_id=1, payout=Decimal(amount), at=at
            )
            for amount in ("0.1000", "0.2000", "0.0001", "0.0000")
        ]

    # then the budget is used to the last ten-thousandth, and not a ten-thousandth more
    assert results == [True, True, False, True]
    assert CapCounter.objects.get(cap=cap).used == Decimal("0.3000")


@pytest.mark.django_db
def test_a_payout_budget_counts_the_affiliate_payout_of_each_postback():
    # given a 100 % revshare campaign with a per-affiliate budget of 1.0000
    world = postback_world()
    campaign = world.campaign(revshare_percent=Decimal(100))
    CapFactory(
        campaign=campaign,
        scope=CapScope.AFFILIATE,
        period=CapPeriod.TOTAL,
        metric=CapMetric.PAYOUT,
        limit=Decimal("1.0000"),
    )
    clicks = [world.click() for _ in range(4)]
    client = Client()

    # when postbacks pay 0.70, 0.30, 0.01, 0.00
    responses = [
        client.get(world.postback_path, {"click_id": click.click_id, "payout": payout})
        for click, payout in zip(clicks, ("0.70", "0.30", "0.01", "0.00"), strict=True)
    ]

    # then 0.70 + 0.30 fill it exactly; 0.01 is over; a zero payout still fits
    assert _results(responses) == [
        ("created", None),
        ("created", None),
        ("rejected", "cap_reached"),
        ("created", None),
    ]


@pytest.mark.django_db
def test_a_used_up_click_blocking_cap_blocks_the_next_click():
    # given a campaign whose one conversion a day blocks further clicks once used
    world = postback_world()
    campaign = world.campaign()
    CapFactory(
        campaign=campaign,
        period=CapPeriod.DAY,
        metric=CapMetric.CONVERSIONS,
        action=CapAction.BLOCK_CLICKS,
        limit=Decimal(1),
    )
    token = world.links["main"].token
    client = Client()
    before = client.get(f"/c/{token}")
    first_click = Click.objects.get()

    # when its one conversion arrives, then another visitor clicks
    converted = client.get(world.postback_path, {"click_id": first_click.click_id})
    after = client.get(f"/c/{token}")

    # then the first click went to the landing page, the later one to the fallback
    assert converted.json()["result"] == "created"
    assert before.status_code == after.status_code == 302
    assert before["Location"].startswith("https://advertiser.example/landing")
    assert after["Location"] == "https://advertiser.example/fallback"
    assert list(Click.objects.order_by("id").values_list("blocked_reason", flat=True)) == [
        "",
        BlockedReason.CAP_REACHED,
    ]


THREADS = 8


@pytest.mark.django_db(transaction=True)
def test_postbacks_from_several_threads_at_once_never_exceed_the_cap():
    # given a cap of 3 conversions and 8 clicks
    world = postback_world()
    campaign = world.campaign()
    CapFactory(campaign=campaign, period=CapPeriod.TOTAL, limit=Decimal(3))
    click_ids = [world.click().click_id for _ in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    results: list = [None] * THREADS

    def postback(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            response = Client().get(
                world.postback_path, {"click_id": click_ids[index], "status": "pending"}
            )
            results[index] = (response.status_code, response.json().get("result"))
        except Exception as exc:  # the assertion below shows it
            results[index] = ("exception", repr(exc))
        finally:
            connection.close()

    # when 8 postbacks arrive at once (SQLite serialises their transactions)
    threads = [threading.Thread(target=postback, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then exactly 3 are recorded and 5 rejected
    assert Counter(results) == {(200, "created"): 3, (200, "rejected"): 5}, results
    assert CapCounter.objects.get().used == Decimal("3.0000")
