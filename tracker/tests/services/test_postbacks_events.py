"""Conversion events through the real postback path: one click brings one conversion per event,
each priced by its own terms (or the rule that wins), deduplicated per event, capped per event
and per campaign, exact under concurrency."""

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from django.test import Client

from campaigns.events import event_create
from campaigns.models import (
    CapCounter,
    CapMetric,
    CapPeriod,
    CapScope,
    ConversionEvent,
    PricingRule,
)
from campaigns.pricing_rules import pricing_rule_create
from campaigns.tests.factories import CapFactory
from payouts.models import LedgerTransaction
from payouts.selectors import advertiser_balances, affiliate_balances
from payouts.services import payout_approve, payout_mark_paid, payout_request_create
from tracker.models import Conversion, ConversionStatus
from tracker.tests.factories import postback_world
from tracker.tests.services.test_postbacks_concurrency import _run_together


def _lead_and_sale_world(**campaign_fields):
    world = postback_world()
    campaign = world.campaign(**campaign_fields)
    lead = event_create(
        campaign=campaign,
        data={"code": "lead", "name": "Lead", "payout_type": "fixed", "payout_amount": "1.00"},
    )
    sale = event_create(
        campaign=campaign,
        data={
            "code": "sale",
            "name": "Sale",
            "payout_type": "revshare",
            "revshare_percent": "30",
            "default_revenue": "10.00",
            "allow_multiple": True,
        },
    )
    return world, campaign, lead, sale


def _get(world, **params):
    response = Client().get(world.postback_path, params)
    return response.status_code, response.json()


@pytest.mark.django_db
def test_lead_then_sale_on_one_click_are_two_conversions_each_priced_by_its_event():
    world, _, lead, sale = _lead_and_sale_world()
    click = world.click()

    lead_status, lead_body = _get(world, click_id=click.click_id, event="lead")
    sale_status, sale_body = _get(
        world, click_id=click.click_id, goal="sale", transaction_id="ORDER-1", payout="50.00"
    )
    repeat_status, repeat_body = _get(
        world, click_id=click.click_id, event_code="sale", transaction_id="ORDER-1", payout="50.00"
    )

    assert (lead_status, lead_body["result"]) == (200, "created")
    assert (sale_status, sale_body["result"]) == (200, "created")
    assert (repeat_status, repeat_body["result"]) == (200, "duplicate")
    assert repeat_body["conversion_id"] == sale_body["conversion_id"]
    rows = {
        c.event_id: (c.status, c.revenue, c.payout, c.transaction_id, c.pricing_rule_id)
        for c in Conversion.objects.all()
    }
    assert rows == {
        lead.pk: ("approved", Decimal("0.0000"), Decimal("1.0000"), "", None),
        sale.pk: ("approved", Decimal("50.0000"), Decimal("15.0000"), "ORDER-1", None),
    }


@pytest.mark.django_db
def test_a_postback_without_an_event_converts_on_the_default_event():
    world, campaign, _, _ = _lead_and_sale_world()
    click = world.click()

    _, body = _get(world, click_id=click.click_id, payout="5.00")

    conversion = Conversion.objects.get(pk=body["conversion_id"])
    default = ConversionEvent.objects.get(campaign=campaign, is_default=True)
    assert (conversion.event_id, conversion.payout) == (default.pk, Decimal("4.0000"))


@pytest.mark.django_db
def test_an_unknown_event_is_refused_with_the_campaigns_codes():
    world, _, _, _ = _lead_and_sale_world()
    click = world.click()

    status, body = _get(world, click_id=click.click_id, event="deposit")

    assert status == 400
    assert body["code"] == "unknown_event"
    assert body["message"] == "Unknown event 'deposit' for this campaign."
    assert body["fields"] == {"event": ["Choose one of: default, lead, sale."]}
    assert Conversion.objects.count() == 0


@pytest.mark.django_db
def test_an_event_without_a_status_takes_its_initial_status():
    world, campaign, _, _ = _lead_and_sale_world()
    event_create(
        campaign=campaign,
        data={
            "code": "deposit",
            "name": "First deposit",
            "payout_type": "fixed",
            "payout_amount": "20",
            "initial_status": "pending",
        },
    )
    click = world.click()

    _, first = _get(world, click_id=click.click_id, event="deposit")
    _, repeat = _get(world, click_id=click.click_id, event="deposit")
    _, approved = _get(world, click_id=click.click_id, event="deposit", status="approved")
    _, repeat_after = _get(world, click_id=click.click_id, event="deposit")

    assert [first["result"], repeat["result"], approved["result"], repeat_after["result"]] == [
        "created",
        "duplicate",
        "updated",
        "duplicate",
    ]
    conversion = Conversion.objects.get()
    assert (conversion.status, conversion.payout) == ("approved", Decimal("20.0000"))


@pytest.mark.django_db
def test_a_single_conversion_event_refuses_a_second_transaction_id_on_the_same_click():
    world, _, _, _ = _lead_and_sale_world()
    click = world.click()

    _get(world, click_id=click.click_id, event="lead", transaction_id="L-1")
    status, body = _get(world, click_id=click.click_id, event="lead", transaction_id="L-2")

    assert (status, body["code"]) == (409, "click_already_converted")


@pytest.mark.django_db
def test_the_winning_rule_prices_the_conversion_and_is_kept_on_it():
    world, campaign, lead, _ = _lead_and_sale_world()
    everyone = pricing_rule_create(
        campaign=campaign,
        data={"event": "lead", "payout_type": "fixed", "payout_amount": "2.00"},
    )
    for_this_affiliate_in_gb = pricing_rule_create(
        campaign=campaign,
        data={
            "event": lead.pk,
            "affiliate": world.affiliate.pk,
            "country": "gb",
            "payout_type": "fixed",
            "payout_amount": "12.00",
            "revenue_amount": "15.00",
        },
    )
    gb_click, us_click = world.click(country="GB"), world.click(country="US")

    _get(world, click_id=gb_click.click_id, event="lead")
    _get(world, click_id=us_click.click_id, event="lead")

    rows = {c.click_id: (c.pricing_rule_id, c.revenue, c.payout) for c in Conversion.objects.all()}
    assert rows == {
        gb_click.pk: (for_this_affiliate_in_gb.pk, Decimal("15.0000"), Decimal("12.0000")),
        us_click.pk: (everyone.pk, Decimal("0.0000"), Decimal("2.0000")),
    }


@pytest.mark.django_db
def test_a_status_change_later_never_reprices_even_when_the_rules_change():
    world, campaign, _, _ = _lead_and_sale_world()
    rule = pricing_rule_create(
        campaign=campaign, data={"event": "lead", "payout_type": "fixed", "payout_amount": "3"}
    )
    click = world.click()
    _get(world, click_id=click.click_id, event="lead", status="pending")
    PricingRule.objects.filter(pk=rule.pk).update(payout_amount=Decimal("9"))
    pricing_rule_create(
        campaign=campaign,
        data={
            "event": "lead",
            "affiliate": world.affiliate.pk,
            "payout_type": "fixed",
            "payout_amount": "7",
        },
    )

    _get(world, click_id=click.click_id, event="lead", status="approved")

    conversion = Conversion.objects.get()
    assert (conversion.status, conversion.pricing_rule_id, conversion.payout) == (
        "approved",
        rule.pk,
        Decimal("3.0000"),
    )


@pytest.mark.django_db(transaction=True)
def test_fifty_identical_event_postbacks_at_once_make_exactly_one_conversion():
    world, _, _, sale = _lead_and_sale_world()
    click = world.click()
    params = {
        "click_id": click.click_id,
        "event": "sale",
        "transaction_id": "ORDER-9",
        "payout": "20.00",
    }

    results = _run_together([lambda client: client.get(world.postback_path, params)] * 50)

    assert {status for status, _ in results} == {200}, results
    assert Counter(body["result"] for _, body in results) == {"created": 1, "duplicate": 49}
    conversion = Conversion.objects.get()
    assert (conversion.event_id, conversion.payout) == (sale.pk, Decimal("6.0000"))
    assert LedgerTransaction.objects.filter(reference_id=conversion.pk).count() == 1


@pytest.mark.django_db(transaction=True)
def test_event_caps_and_campaign_caps_together_are_exact_under_concurrency():
    # given a campaign cap of 6 conversions a day and a cap of 2 on the lead event
    world, campaign, lead, _ = _lead_and_sale_world()
    CapFactory(campaign=campaign, scope=CapScope.CAMPAIGN, period=CapPeriod.DAY, limit=6)
    CapFactory(
        campaign=campaign,
        event=lead,
        scope=CapScope.CAMPAIGN,
        period=CapPeriod.DAY,
        metric=CapMetric.CONVERSIONS,
        limit=2,
    )
    clicks = [world.click() for _ in range(5)]
    senders = []
    for index, click in enumerate(clicks):
        for event in ("lead", "sale"):
            for repeat in range(3):
                params = {
                    "click_id": click.click_id,
                    "event": event,
                    "transaction_id": f"{event}-{index}-{repeat}",
                }
                senders.append(lambda client, p=params: client.get(world.postback_path, p))

    # when 5 x N = 30 postbacks (lead and sale, several per click) arrive at once
    results = _run_together(senders)

    # then no cap went over: 6 approved in all (more than 6 were sent), at most 2 of them
    # leads, and each counter holds exactly what was approved under it; the rest are cap_reached
    assert {status for status, _ in results} <= {200, 409}, results
    approved = Conversion.objects.filter(status=ConversionStatus.APPROVED)
    approved_leads = approved.filter(event=lead).count()
    assert approved.count() == 6
    assert approved_leads <= 2
    counters = {
        (counter.cap.event_id, counter.cap.limit): counter.used
        for counter in CapCounter.objects.select_related("cap")
    }
    # (no lead approved, when the sales took the campaign's 6 first: no lead counter row)
    assert counters.pop((None, Decimal(6))) == Decimal(6)
    assert counters.get((lead.pk, Decimal(2)), Decimal(0)) == approved_leads
    assert set(counters) <= {(lead.pk, Decimal(2))}
    rejected = Conversion.objects.filter(status=ConversionStatus.REJECTED)
    assert set(rejected.values_list("reason", flat=True)) == {"cap_reached"}
    assert rejected.count() == Conversion.objects.count() - 6


@pytest.mark.django_db
def test_reversing_a_rule_priced_conversion_after_payout_takes_back_exactly_what_it_paid(
    settings,
):
    # given a sale priced by the affiliate's rule (45.5 % of 33.33), paid out to the affiliate
    settings.PAYOUT_MINIMUM_AMOUNT = "1.00"
    world, campaign, _, _ = _lead_and_sale_world(hold_days=0)
    rule = pricing_rule_create(
        campaign=campaign,
        data={
            "event": "sale",
            "affiliate": world.affiliate.pk,
            "payout_type": "revshare",
            "revshare_percent": "45.5",
        },
    )
    click = world.click()
    _, created = _get(
        world, click_id=click.click_id, event="sale", transaction_id="O-1", payout="33.33"
    )
    conversion = Conversion.objects.get(pk=created["conversion_id"])
    payout = payout_request_create(
        affiliate=world.affiliate, amount=Decimal("15.1652"), currency="USD"
    )
    payout_mark_paid(payout=payout_approve(payout=payout, actor=None), actor=None, reference="P1")

    # when the partner reverses the sale
    _, reversed_body = _get(
        world, click_id=click.click_id, event="sale", transaction_id="O-1", status="reversed"
    )

    # then exactly the rule's payout is taken back: the affiliate owes 15.1652, nothing else
    assert (conversion.pricing_rule_id, conversion.payout) == (rule.pk, Decimal("15.1652"))
    assert reversed_body["result"] == "updated"
    assert affiliate_balances(affiliate_id=world.affiliate.pk) == {
        "USD": {
            "pending": Decimal("0.0000"),
            "available": Decimal("-15.1652"),
            "requested": Decimal("0.0000"),
            "paid": Decimal("15.1652"),
        }
    }
    assert advertiser_balances(advertiser_id=world.advertiser.pk) == {
        "USD": {"receivable": Decimal("0.0000")}
    }


@pytest.mark.django_db
def test_the_rule_valid_at_the_conversions_creation_wins(settings):
    world, campaign, _, _ = _lead_and_sale_world()
    now = dt.datetime.now(dt.UTC)
    promo = pricing_rule_create(
        campaign=campaign,
        data={
            "event": "lead",
            "starts_at": (now - dt.timedelta(days=1)).isoformat(),
            "ends_at": (now + dt.timedelta(days=6)).isoformat(),
            "payout_type": "fixed",
            "payout_amount": "5",
        },
    )
    pricing_rule_create(
        campaign=campaign,
        data={
            "event": "lead",
            "starts_at": (now + dt.timedelta(days=6)).isoformat(),
            "payout_type": "fixed",
            "payout_amount": "8",
        },
    )
    click = world.click()

    _get(world, click_id=click.click_id, event="lead")

    conversion = Conversion.objects.get()
    assert (conversion.pricing_rule_id, conversion.payout) == (promo.pk, Decimal("5.0000"))
