"""Exactly-once under concurrency, on real PostgreSQL: threads released together by a barrier,
each with its own Django test client (and so its own database connection)."""

import threading
from collections import Counter
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client

from campaigns.models import CapMetric, CapPeriod, CapScope
from campaigns.tests.factories import CapFactory
from tracker.models import Conversion, ConversionHistory, EndUserPoints, PostbackLog
from tracker.tests.factories import postback_world

THREADS = 50


def _run_together(requests: list[Callable[[Client], object]]) -> list:
    barrier = threading.Barrier(len(requests))
    results: list = [None] * len(requests)

    def worker(index: int) -> None:
        client = Client()
        try:
            barrier.wait(timeout=30)
            response = requests[index](client)
            results[index] = (response.status_code, response.json())
        except Exception as exc:  # the assertion below shows it
            results[index] = ("exception", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.mark.django_db(transaction=True)
def test_fifty_identical_postbacks_make_one_conversion_and_49_duplicates():
    # given one click with an end user
    world = postback_world()
    world.campaign()
    click = world.click(user_id="USER-1")
    url = f"{world.postback_path}?click_id={click.click_id}&status=approved&payout=5.00"

    # when 50 identical postbacks arrive at once
    results = _run_together([lambda client: client.get(url)] * THREADS)

    # then exactly one created it, every other one is a duplicate; paid and credited once
    assert {status for status, _ in results} == {200}, results
    conversion = Conversion.objects.get()
    assert Counter(body["result"] for _, body in results) == {"created": 1, "duplicate": 49}
    assert {body["conversion_id"] for _, body in results} == {conversion.pk}
    assert (conversion.status, conversion.payout) == ("approved", Decimal("4.0000"))
    assert ConversionHistory.objects.filter(conversion=conversion).count() == 1
    assert EndUserPoints.objects.get().points == Decimal("4.0000")
    assert PostbackLog.objects.count() == THREADS


@pytest.mark.django_db(transaction=True)
def test_identical_postbacks_by_get_form_and_json_at_once_make_one_conversion():
    world = postback_world()
    world.campaign()
    click = world.click()
    params = {"click_id": click.click_id, "status": "approved", "payout": "12.50"}
    senders = [
        lambda client: client.get(world.postback_path, params),
        lambda client: client.post(world.postback_path, params),
        lambda client: client.post(
            world.postback_path,
            f'{{"click_id": "{click.click_id}", "status": "approved", "payout": 12.50}}',
            content_type="application/json",
        ),
    ]

    results = _run_together([senders[i % 3] for i in range(THREADS)])

    assert {status for status, _ in results} == {200}, results
    assert Counter(body["result"] for _, body in results) == {"created": 1, "duplicate": 49}
    conversion = Conversion.objects.get()
    assert (conversion.revenue, conversion.payout) == (Decimal("12.5000"), Decimal("10.0000"))
    assert PostbackLog.objects.count() == THREADS


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("metric", "limit", "payout"),
    [(CapMetric.CONVERSIONS, Decimal("7"), "1.00"), (CapMetric.PAYOUT, Decimal("32"), "5.00")],
    ids=["conversion_count_cap", "payout_budget_cap"],
)
def test_cap_of_n_with_5n_concurrent_conversions_approves_exactly_n(metric, limit, payout):
    # given a cap of N = 7 conversions (or a 32.0000 budget at 4.0000 payout each: N = 8)
    world = postback_world()
    campaign = world.campaign()
    CapFactory(
        campaign=campaign,
        scope=CapScope.CAMPAIGN,
        period=CapPeriod.DAY,
        metric=metric,
        limit=limit,
    )
    n = 7 if metric == CapMetric.CONVERSIONS else 8
    clicks = [world.click() for _ in range(5 * n)]

    # when 5N distinct conversions arrive at once
    results = _run_together(
        [
            (
                lambda client, click_id=click.click_id: client.get(
                    world.postback_path, {"click_id": click_id, "payout": payout}
                )
            )
            for click in clicks
        ]
    )

    # then exactly N are approved and the rest recorded rejected with reason cap_reached
    assert {status for status, _ in results} == {200}, results
    assert Counter(body["result"] for _, body in results) == {"created": n, "rejected": 4 * n}
    assert {body.get("reason") for _, body in results if body["result"] == "rejected"} == {
        "cap_reached"
    }
    statuses = Counter(Conversion.objects.values_list("status", "reason"))
    assert statuses == {("approved", ""): n, ("rejected", "cap_reached"): 4 * n}
