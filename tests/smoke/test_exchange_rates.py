"""A postback in another currency than its campaign's, on SQLite: converted at the day's rate
(half-up to 4 places, the original kept), reversed to zero, and refused without a rate."""

from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from payouts.exchange_rates import exchange_rate_set
from payouts.models import LedgerEntry
from payouts.selectors import advertiser_balances, affiliate_balances
from tracker.models import Conversion
from tracker.tests.factories import postback_world

pytestmark = [pytest.mark.smoke, pytest.mark.django_db]


def test_a_foreign_currency_postback_converts_then_reverses_to_zero():
    # given a USD campaign (80 %) and the day's EUR/USD rate
    world = postback_world()
    world.campaign(hold_days=0)
    click, unrated = world.click(), world.click()
    client = Client()
    refused = client.get(
        world.postback_path, {"click_id": unrated.click_id, "payout": "1", "currency": "GBP"}
    )
    today = timezone.now().date()
    exchange_rate_set(on=today, from_currency="EUR", to_currency="USD", rate=Decimal("1.08437"))

    # when the partner approves 12.35 EUR, then reverses it
    approved = client.get(
        world.postback_path, {"click_id": click.click_id, "payout": "12.35", "currency": "EUR"}
    )
    conversion = Conversion.objects.get()
    converted = (conversion.revenue, conversion.payout, conversion.exchange_rate)
    client.get(world.postback_path, {"click_id": click.click_id, "status": "reversed"})

    # then 12.35 x 1.08437 = 13.39197 -> 13.3920 USD, 80 % -> 10.7136, and back to zero
    assert (refused.status_code, refused.json()["code"]) == (400, "no_exchange_rate")
    assert approved.json()["result"] == "created"
    assert converted == (Decimal("13.3920"), Decimal("10.7136"), Decimal("1.0843700000"))
    assert (conversion.original_amount, conversion.original_currency) == (
        Decimal("12.3500"),
        "EUR",
    )
    assert affiliate_balances(affiliate_id=world.affiliate.pk)["USD"]["available"] == 0
    assert advertiser_balances(advertiser_id=world.advertiser.pk)["USD"]["receivable"] == 0
    assert sum(LedgerEntry.objects.values_list("amount", flat=True)) == 0
