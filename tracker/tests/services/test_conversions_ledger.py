"""Conversions post their money to the ledger in the same transaction as the status change."""

from decimal import Decimal

import pytest

from payouts.models import LedgerEntry, LedgerTransaction
from payouts.selectors import advertiser_balances, affiliate_balances, network_totals
from tracker.services.conversions import conversion_status_change
from tracker.tests.factories import postback_world
from tracker.tests.services.test_postbacks_concurrency import _run_together

pytestmark = pytest.mark.django_db


def test_approved_postback_books_revenue_and_payout_and_a_reversal_takes_them_back(client):
    # given a revshare campaign without a hold period
    world = postback_world()
    world.campaign(hold_days=0)
    click = world.click()

    # when the partner approves $5.00, then the admin reverses it
    response = client.get(
        world.postback_path, {"click_id": click.click_id, "status": "approved", "payout": "5.00"}
    )
    approved = affiliate_balances(affiliate_id=world.affiliate.pk)
    conversion_status_change(
        conversion_id=response.json()["conversion_id"],
        status="reversed",
        actor=None,
        reason="chargeback",
        source="admin",
    )

    # then the approval moved 5.0000 revenue and 4.0000 payout, and the reversal undid both
    assert approved == {
        "USD": {
            "pending": Decimal("0.0000"),
            "available": Decimal("4.0000"),
            "requested": Decimal("0.0000"),
            "paid": Decimal("0.0000"),
        }
    }
    assert affiliate_balances(affiliate_id=world.affiliate.pk)["USD"]["available"] == Decimal(
        "0.0000"
    )
    assert advertiser_balances(advertiser_id=world.advertiser.pk) == {
        "USD": {"receivable": Decimal("0.0000")}
    }
    assert list(LedgerTransaction.objects.order_by("id").values_list("kind", flat=True)) == [
        "conversion_approved",
        "conversion_reversed",
    ]
    assert sum(LedgerEntry.objects.values_list("amount", flat=True)) == Decimal("0")


def test_a_held_payout_is_pending_and_duplicates_book_nothing(client):
    world = postback_world()
    world.campaign(hold_days=7)
    click = world.click()
    params = {"click_id": click.click_id, "status": "approved", "payout": "10.00"}

    client.get(world.postback_path, params)
    client.get(world.postback_path, params)

    assert affiliate_balances(affiliate_id=world.affiliate.pk)["USD"]["pending"] == Decimal(
        "8.0000"
    )
    assert affiliate_balances(affiliate_id=world.affiliate.pk)["USD"]["available"] == Decimal(
        "0.0000"
    )
    assert LedgerTransaction.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_one_hundred_concurrent_conversions_sum_exactly_in_the_balance():
    # given 100 clicks of one affiliate, with payouts that need rounding (80 % of x.xxx5)
    world = postback_world()
    world.campaign(hold_days=0)
    clicks = [world.click() for _ in range(100)]
    revenues = [Decimal(f"{n}.{n % 100:02d}05") for n in range(1, 101)]
    paths = [
        f"{world.postback_path}?click_id={click.click_id}&status=approved&payout={revenue}"
        for click, revenue in zip(clicks, revenues, strict=True)
    ]

    # when they arrive 50 at a time (PostgreSQL here allows 100 connections in all), each thread
    # sending two back to back
    def send_two(client, first=None, second=None):
        client.get(first)
        return client.get(second)

    results = _run_together(
        [
            lambda c, first=first, second=second: send_two(c, first, second)
            for first, second in zip(paths[::2], paths[1::2], strict=True)
        ]
    )

    # then the balance is the exact sum of the rounded payouts, and the books balance
    assert {status for status, _ in results} == {200}, results
    assert LedgerTransaction.objects.count() == 100
    expected_payouts = sum(
        (revenue * Decimal("0.8")).quantize(Decimal("0.0001"), rounding="ROUND_HALF_UP")
        for revenue in revenues
    )
    balances = affiliate_balances(affiliate_id=world.affiliate.pk)["USD"]
    assert balances["available"] == expected_payouts
    assert network_totals()["USD"]["revenue"] == sum(revenues)
    assert network_totals()["USD"]["margin"] == sum(revenues) - expected_payouts
    assert sum(LedgerEntry.objects.values_list("amount", flat=True)) == Decimal("0")
