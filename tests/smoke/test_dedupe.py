"""Dedupe on SQLite: a repeated postback, click id or transaction id never counts twice."""

from decimal import Decimal

import pytest
from django.test import Client

from payouts.models import LedgerTransaction
from tracker.models import Click, Conversion, ConversionHistory
from tracker.tests.factories import postback_world

pytestmark = [pytest.mark.smoke, pytest.mark.django_db]


def test_the_same_postback_twice_makes_one_conversion_and_posts_its_money_once():
    # given one click
    world = postback_world()
    world.campaign()
    click = world.click()
    params = {"click_id": click.click_id, "payout": "5.00", "transaction_id": "T-1"}
    client = Client()

    # when the partner sends the same approval twice
    first = client.get(world.postback_path, params)
    second = client.get(world.postback_path, params)

    # then the second is a duplicate of the first, with no second history row or posting
    assert (first.json()["result"], second.json()["result"]) == ("created", "duplicate")
    assert second.json()["conversion_id"] == first.json()["conversion_id"]
    conversion = Conversion.objects.get()
    assert (conversion.status, conversion.payout) == ("approved", Decimal("4.0000"))
    assert ConversionHistory.objects.count() == 1
    assert LedgerTransaction.objects.count() == 1


def test_a_second_transaction_id_for_a_converted_click_is_refused_on_a_single_conversion_campaign():
    world = postback_world()
    world.campaign(allow_multiple_conversions=False)
    click = world.click()
    client = Client()

    client.get(world.postback_path, {"click_id": click.click_id, "transaction_id": "T-1"})
    second = client.get(world.postback_path, {"click_id": click.click_id, "transaction_id": "T-2"})

    assert (second.status_code, second.json()["code"]) == (409, "click_already_converted")
    assert Conversion.objects.count() == 1


def test_a_multi_conversion_campaign_dedupes_per_transaction_id():
    world = postback_world()
    world.campaign(allow_multiple_conversions=True)
    click = world.click()
    client = Client()

    answers = [
        client.get(world.postback_path, {"click_id": click.click_id, "transaction_id": tid})
        for tid in ("T-1", "T-2", "T-1")
    ]

    assert [a.json()["result"] for a in answers] == ["created", "created", "duplicate"]
    assert sorted(Conversion.objects.values_list("transaction_id", flat=True)) == ["T-1", "T-2"]


def test_a_repeated_visit_within_a_day_is_a_click_but_not_a_unique_one():
    world = postback_world()
    world.campaign()
    token = world.links["main"].token
    client = Client()

    for _ in range(2):
        client.get(f"/c/{token}", REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="Smoke/1.0")
    client.get(f"/c/{token}", REMOTE_ADDR="203.0.113.8", HTTP_USER_AGENT="Smoke/1.0")

    assert list(Click.objects.order_by("id").values_list("is_unique", flat=True)) == [
        True,
        False,
        True,
    ]
