"""Partner-key profiles through the real postback path: each platform's documented postback
(tracker/tests/fixtures/partner_postbacks.json) converts the right click with the right
transaction id, event, amount and status; statuses map per profile and the raw one is kept in
history; our own names keep working; the platform's unreplaced placeholders are refused."""

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from campaigns.events import event_create
from campaigns.partner_profiles import OUR_STATUSES, PartnerProfile
from tracker.models import ConversionHistory, PostbackLog
from tracker.postback_params import VALID_STATUSES, postback_reading
from tracker.tests.factories import postback_world

pytestmark = pytest.mark.django_db

FIXTURES: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "partner_postbacks.json").read_text()
)
PRESETS = [name for name in FIXTURES if not name.startswith("_")]


def _world(key: dict[str, Any], *events: str):
    world = postback_world(**key)
    campaign = world.campaign()
    for code in events:
        event_create(
            campaign=campaign,
            data={"code": code, "name": code, "payout_type": "revshare", "revshare_percent": "50"},
        )
    return world


def test_every_profile_has_a_documented_sample():
    assert sorted(PRESETS) == sorted(PartnerProfile.values)


def test_the_profiles_know_our_statuses():
    # campaigns cannot import tracker: the two status lists are kept equal here
    assert sorted(OUR_STATUSES) == sorted(VALID_STATUSES)


@pytest.mark.parametrize("preset", PRESETS)
def test_documented_postback_converts_the_click(preset):
    # given a key with the platform's profile and a click the platform reports
    sample = FIXTURES[preset]
    world = _world(sample["key"], *([sample["event"]] if sample["event"] else []))
    click = world.click(click_id=sample["click_id"])

    # when the platform fires its postback, as documented
    response = Client().get(world.postback_path + sample["url"])

    # then the conversion holds what the platform meant
    body = response.json()
    assert response.status_code == 200, body
    expected = sample["expected"]
    assert body["result"] == expected["result"]
    conversion = click.conversions.get()
    history = ConversionHistory.objects.get(conversion=conversion)
    assert {
        "result": body["result"],
        "transaction_id": conversion.transaction_id,
        "event": conversion.event.code,
        "revenue": str(conversion.revenue),
        "status": conversion.status,
        "partner_status": history.partner_status,
        "custom_data": conversion.custom_data,
    } == expected
    log = PostbackLog.objects.get(id=body["log_id"])
    assert (log.click_id, log.transaction_id) == (sample["click_id"], expected["transaction_id"])


@pytest.mark.parametrize(
    ("profile", "status_map", "sent", "status", "partner_status"),
    [
        ("tune", {}, "approved", "approved", ""),
        ("tune", {}, "pending", "pending", ""),
        ("tune", {}, "rejected", "rejected", ""),
        ("affise", {}, "1", "approved", "1"),
        ("affise", {}, "2", "pending", "2"),
        ("affise", {}, "3", "rejected", "3"),
        ("affise", {}, "5", "pending", "5"),
        ("keitaro", {}, "sale", "approved", "sale"),
        ("keitaro", {}, "Lead", "pending", "Lead"),
        ("keitaro", {}, "rejected", "rejected", "rejected"),
        ("keitaro", {}, "rebill", "approved", "rebill"),
        ("keitaro", {}, "trash", "rejected", "trash"),
        ("everflow", {}, "pending", "pending", ""),
        ("cake", {}, "approved", "approved", ""),
        ("voluum", {}, "pending", "pending", ""),
        ("custom", {"ok": "approved", "hold": "pending"}, "HOLD", "pending", "HOLD"),
        ("clickledger", {}, "pending", "pending", ""),
    ],
)
def test_status_maps_per_profile_and_the_raw_status_is_kept(
    profile, status_map, sent, status, partner_status
):
    world = _world({"profile": profile, "status_map": status_map})
    click = world.click()

    response = Client().get(world.postback_path, {"click_id": click.click_id, "status": sent})

    assert response.status_code == 200, response.json()
    conversion = click.conversions.get()
    history = ConversionHistory.objects.get(conversion=conversion)
    assert (conversion.status, history.to_status, history.partner_status) == (
        status,
        status,
        partner_status,
    )


def test_the_raw_status_is_kept_on_a_later_change():
    world = _world({"profile": "keitaro"})
    click = world.click()
    client = Client()
    client.get(world.postback_path, {"subid": click.click_id, "status": "lead", "tid": "K-1"})

    response = client.get(
        world.postback_path, {"subid": click.click_id, "status": "sale", "tid": "K-1"}
    )

    assert response.json()["result"] == "updated"
    assert list(
        ConversionHistory.objects.order_by("id").values_list(
            "from_status", "to_status", "partner_status"
        )
    ) == [("", "pending", "lead"), ("pending", "approved", "sale")]


def test_a_status_the_profile_does_not_know_is_refused():
    world = _world({"profile": "affise"})
    click = world.click()

    response = Client().get(world.postback_path, {"clickid": click.click_id, "status": "4"})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_status"


@pytest.mark.parametrize("preset", [p for p in PRESETS if p != "custom"])
def test_our_own_names_keep_working_with_every_profile(preset):
    world = _world({"profile": preset})
    click = world.click()

    response = Client().get(
        world.postback_path,
        {
            "click_id": click.click_id,
            "transaction_id": "OURS-1",
            "payout": "10.00",
            "status": "pending",
        },
    )

    assert response.json()["result"] == "created"
    conversion = click.conversions.get()
    assert (conversion.transaction_id, str(conversion.revenue), conversion.status) == (
        "OURS-1",
        "10.0000",
        "pending",
    )


@pytest.mark.parametrize(
    ("profile", "query", "parameter"),
    [
        ("tune", "transaction_id={aff_sub}&adv_sub=O-1", "transaction_id"),
        ("tune", "transaction_id=CLK&adv_sub={adv_sub}", "adv_sub"),
        ("everflow", "transaction_id={transaction_id}&amount=5", "transaction_id"),
        ("keitaro", "subid={subid}&status=sale", "subid"),
        ("keitaro", "subid=CLK&status={status}", "status"),
        ("voluum", "cid={clickid}&payout=1", "cid"),
        ("voluum", "cid=CLK&payout=OPTIONAL&txid=OPTIONAL", "payout"),
        ("voluum", "cid=REPLACE", "cid"),
        # a raw `#` starts the URL's fragment, which is never sent: CAKE's tokens arrive encoded
        ("cake", "r=%23s2%23&p=1.00", "r"),
        ("cake", "r=5500123&p=%23price%23", "p"),
        ("cake", "click_id=%23s2%23", "click_id"),
        ("affise", "clickid={clickid}&sum=1", "clickid"),
    ],
)
def test_unreplaced_platform_placeholders_are_refused_naming_the_parameter(
    profile, query, parameter
):
    world = _world({"profile": profile})

    response = Client().get(f"{world.postback_path}?{query}")

    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "unreplaced_macro"
    assert parameter in body["fields"]
    assert PostbackLog.objects.get(id=body["log_id"]).code == "unreplaced_macro"


def test_postback_reading_reads_a_pasted_url_without_the_database():
    reading = postback_reading(
        profile="tune",
        param_map=None,
        status_map=None,
        url="https://tracker.example.com/postback/KEY?transaction_id=CLK-1&adv_sub=O-9"
        "&amount=12.5&goal_id=7&status=pending&promo=SPRING",
    )

    assert reading.error is None
    assert reading.fields is not None
    fields = reading.fields
    assert (
        fields.click_id,
        fields.transaction_id,
        fields.event,
        fields.status,
        str(fields.payout),
        fields.custom_data,
    ) == ("CLK-1", "O-9", "7", "pending", "12.5000", {"promo": "SPRING"})
    assert reading.renamed == {
        "transaction_id": "click_id",
        "adv_sub": "transaction_id",
        "amount": "payout",
        "goal_id": "event",
    }


def test_postback_reading_reports_the_refusal():
    reading = postback_reading(
        profile="keitaro", param_map=None, status_map=None, url="?subid=abc&status=hold"
    )

    assert reading.fields is None
    assert reading.error is not None
    assert reading.error.code == "invalid_status"
