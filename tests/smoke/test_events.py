"""Conversion events and pricing rules on SQLite: a lead and a sale of one click are two
conversions, a repeated sale transaction is a duplicate, and a pricing rule prices a conversion."""

from decimal import Decimal

import pytest
from django.test import Client

from campaigns.events import event_create
from campaigns.pricing_rules import pricing_rule_create
from tracker.models import Conversion
from tracker.tests.factories import postback_world

pytestmark = [pytest.mark.smoke, pytest.mark.django_db]

LEAD = {
    "code": "lead",
    "name": "Lead",
    "payout_type": "fixed",
    "payout_amount": "1.50",
    "default_revenue": "3.00",
}
SALE = {
    "code": "sale",
    "name": "Sale",
    "payout_type": "revshare",
    "revshare_percent": "30",
    "allow_multiple": True,
}


def test_a_lead_and_a_sale_of_one_click_are_two_conversions_and_a_repeated_sale_a_duplicate():
    # given a campaign with a lead and a repeatable sale, and one click
    world = postback_world()
    campaign = world.campaign()
    event_create(campaign=campaign, data=LEAD)
    event_create(campaign=campaign, data=SALE)
    click = world.click()
    client = Client()

    # when the partner reports the lead, a sale, the same sale again, and a second sale
    answers = [
        client.get(world.postback_path, {"click_id": click.click_id, **params})
        for params in (
            {"event": "lead"},
            {"event": "sale", "transaction_id": "ORDER-1", "payout": "80.00"},
            {"event": "sale", "transaction_id": "ORDER-1", "payout": "80.00"},
            {"goal": "sale", "transaction_id": "ORDER-2", "payout": "25.00"},
        )
    ]

    # then the lead and each sale transaction are one conversion each, priced by their event
    assert [answer.json()["result"] for answer in answers] == [
        "created",
        "created",
        "duplicate",
        "created",
    ]
    assert answers[2].json()["conversion_id"] == answers[1].json()["conversion_id"]
    assert sorted(
        Conversion.objects.values_list("event__code", "transaction_id", "revenue", "payout")
    ) == [
        ("lead", "", Decimal("3.0000"), Decimal("1.5000")),
        ("sale", "ORDER-1", Decimal("80.0000"), Decimal("24.0000")),
        ("sale", "ORDER-2", Decimal("25.0000"), Decimal("7.5000")),
    ]


def test_an_unknown_event_is_refused():
    world = postback_world()
    world.campaign()
    click = world.click()

    answer = Client().get(world.postback_path, {"click_id": click.click_id, "event": "signup"})

    assert (answer.status_code, answer.json()["code"]) == (400, "unknown_event")
    assert not Conversion.objects.exists()


def test_the_most_specific_pricing_rule_prices_the_conversion_and_is_kept_on_it():
    # given a sale at 30 %, a rule for every sale at 35 % and one for this affiliate at 40 %
    world = postback_world()
    campaign = world.campaign()
    event_create(campaign=campaign, data=SALE)
    pricing_rule_create(
        campaign=campaign,
        data={"event": "sale", "payout_type": "revshare", "revshare_percent": "35"},
    )
    mine = pricing_rule_create(
        campaign=campaign,
        data={
            "event": "sale",
            "affiliate": str(world.affiliate.pk),
            "payout_type": "revshare",
            "revshare_percent": "40",
            "revenue_amount": "50.00",
        },
    )
    click = world.click()

    # when the partner reports a sale without an amount
    answer = Client().get(
        world.postback_path,
        {"click_id": click.click_id, "event": "sale", "transaction_id": "ORDER-9"},
    )

    # then the affiliate's rule wins: its revenue amount, 40 % of it, and the rule is kept
    assert answer.json()["result"] == "created"
    conversion = Conversion.objects.get()
    assert (conversion.revenue, conversion.payout, conversion.pricing_rule_id) == (
        Decimal("50.0000"),
        Decimal("20.0000"),
        mine.pk,
    )
