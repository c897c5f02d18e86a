"""The conversion side of the fraud policy through the partner postback: each signal, each action
(flag, hold, reject), what the partner may do afterwards, the operator's webhook event, and the
traces (explanation, sandbox) that show the checks with their inputs."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from accounts.tests.factories import AdminUserFactory
from campaigns.fraud_policy import fraud_policy_clean
from core.models import OperatorEvent
from tracker.explain import conversion_trace
from tracker.models import Conversion, ConversionStatus
from tracker.services.conversions import conversion_auto_approve, conversion_status_change
from tracker.services.sandbox import postback_sandbox
from tracker.tests.factories import postback_world

pytestmark = pytest.mark.django_db

CLICK_IP = "203.0.113.10"  # ClickFactory's


def _world(actions: dict[str, str], *, min_seconds: int = 0, **policy):
    world = postback_world()
    world.campaign(
        fraud_policy=fraud_policy_clean({"actions": actions, **policy}),
        min_seconds_to_convert=min_seconds,
    )
    return world


def _postback(world, click, **params):
    query = "&".join(
        f"{name}={value}" for name, value in {"click_id": click.click_id, **params}.items()
    )
    response = Client().get(f"{world.postback_path}?{query}")
    assert response.status_code == 200, response.json()
    return response.json()


def test_a_conversion_5_s_after_its_click_on_a_30_s_reject_campaign_is_rejected_too_fast():
    world = _world({"too_fast": "reject"}, min_seconds=30)
    click = world.click(age=dt.timedelta(seconds=5))

    body = _postback(world, click, payout="10")

    conversion = Conversion.objects.get()
    assert (body["result"], body["reason"]) == ("rejected", "fraud:too_fast")
    assert (conversion.status, conversion.reason, conversion.fraud_signals) == (
        "rejected",
        "fraud:too_fast",
        ["too_fast"],
    )
    assert conversion.history.get().to_status == "rejected"


def test_a_conversion_after_the_minimum_is_not_too_fast():
    world = _world({"too_fast": "reject"}, min_seconds=30)
    click = world.click(age=dt.timedelta(seconds=31))

    body = _postback(world, click, payout="10")

    conversion = Conversion.objects.get()
    assert body["result"] == "created"
    assert (conversion.status, conversion.reason, conversion.fraud_signals) == ("approved", "", [])


def test_too_fast_flag_records_the_signal_and_keeps_the_status():
    world = _world({"too_fast": "flag"}, min_seconds=30)
    click = world.click(age=dt.timedelta(seconds=5))

    body = _postback(world, click, payout="10")

    conversion = Conversion.objects.get()
    assert body["result"] == "created"
    assert (conversion.status, conversion.reason, conversion.fraud_signals) == (
        "approved",
        "",
        ["too_fast"],
    )


def test_too_fast_allowed_is_not_even_recorded():
    world = _world({"too_fast": "allow", "ip_mismatch": "flag"}, min_seconds=30)
    click = world.click(age=dt.timedelta(seconds=5))

    _postback(world, click)

    assert Conversion.objects.get().fraud_signals == []


def test_ip_mismatch_hold_forces_pending_until_an_admin_decides():
    world = _world({"ip_mismatch": "hold"})
    click = world.click()

    created = _postback(world, click, ip="198.51.100.99", payout="10")
    partner_approval = _postback(world, click, ip="198.51.100.99", status="approved", payout="10")
    held = Conversion.objects.get()
    conversion_status_change(
        conversion_id=held.pk,
        status="approved",
        actor=AdminUserFactory(),
        reason="checked by hand",
        source="admin",
    )

    assert created["result"] == "created"
    assert partner_approval["result"] == "duplicate"
    assert (held.status, held.reason, held.fraud_signals) == (
        "pending",
        "fraud_hold:ip_mismatch",
        ["ip_mismatch"],
    )
    assert Conversion.objects.get().status == "approved"


def test_the_same_ip_written_differently_is_no_mismatch_and_no_ip_is_none():
    world = _world({"ip_mismatch": "reject"})
    first, second = world.click(), world.click()

    same = _postback(world, first, ip=f"::ffff:{CLICK_IP}")
    without = _postback(world, second)

    assert (same["result"], without["result"]) == ("created", "created")
    assert list(Conversion.objects.values_list("fraud_signals", flat=True)) == [[], []]


def test_ip_mismatch_flag():
    world = _world({"ip_mismatch": "flag"})
    click = world.click()

    _postback(world, click, ip="198.51.100.99")

    conversion = Conversion.objects.get()
    assert (conversion.status, conversion.fraud_signals) == ("approved", ["ip_mismatch"])


def test_conversion_velocity_rejects_past_the_daily_limit_per_ip():
    world = _world({"conversion_velocity": "reject"}, conversion_velocity_per_day=2)
    clicks = [world.click() for _ in range(3)]
    other_ip = world.click(ip="198.51.100.1")

    results = [_postback(world, click).get("reason", "") for click in clicks]
    other = _postback(world, other_ip)

    assert results == ["", "", "fraud:conversion_velocity"]
    assert other["result"] == "created"
    assert list(Conversion.objects.order_by("id").values_list("status", "fraud_signals")) == [
        ("approved", []),
        ("approved", []),
        ("rejected", ["conversion_velocity"]),
        ("approved", []),
    ]


def test_conversion_velocity_hold_and_the_first_reject_wins_over_a_hold():
    world = _world(
        {"conversion_velocity": "hold", "too_fast": "reject"},
        min_seconds=30,
        conversion_velocity_per_day=1,
    )
    slow, fast = world.click(age=dt.timedelta(minutes=5)), world.click(age=dt.timedelta(seconds=1))
    slow_again = world.click(age=dt.timedelta(minutes=5))

    first = _postback(world, slow)
    second = _postback(world, slow_again)
    third = _postback(world, fast)

    assert (first["result"], second["result"], third["reason"]) == (
        "created",
        "created",
        "fraud:too_fast",
    )
    assert list(
        Conversion.objects.order_by("id").values_list("status", "reason", "fraud_signals")
    ) == [
        ("approved", "", []),
        ("pending", "fraud_hold:conversion_velocity", ["conversion_velocity"]),
        ("rejected", "fraud:too_fast", ["too_fast", "conversion_velocity"]),
    ]


def test_a_partner_repeating_a_fraud_rejected_postback_gets_the_same_answer():
    world = _world({"too_fast": "reject"}, min_seconds=30)
    click = world.click(age=dt.timedelta(seconds=5))

    _postback(world, click)
    repeat = _postback(world, click, status="approved")

    assert (repeat["result"], repeat["reason"]) == ("rejected", "fraud:too_fast")
    assert Conversion.objects.get().status == "rejected"


def test_auto_approval_leaves_a_held_conversion_pending():
    world = postback_world()
    world.campaign(
        fraud_policy=fraud_policy_clean({"actions": {"ip_mismatch": "hold"}}),
        auto_approve_after_hours=1,
    )
    click = world.click()
    _postback(world, click, ip="198.51.100.99", status="pending")
    conversion = Conversion.objects.get()

    approved = conversion_auto_approve(
        conversion_id=conversion.pk, now=timezone.now() + dt.timedelta(hours=2)
    )

    assert approved is False
    conversion.refresh_from_db()
    assert conversion.status == ConversionStatus.PENDING


def test_a_fraud_rejection_emits_the_operator_threshold_event_once_per_hour():
    world = _world({"too_fast": "reject"}, min_seconds=30, alert_fraud_rejections_per_hour=2)
    clicks = [world.click(age=dt.timedelta(seconds=1)) for _ in range(3)]

    _postback(world, clicks[0])
    after_one = OperatorEvent.objects.count()
    _postback(world, clicks[1])
    _postback(world, clicks[2])

    event = OperatorEvent.objects.get()
    assert after_one == 0
    assert event.type == "fraud.threshold"
    campaign = world.campaigns["main"]
    assert {key: event.data[key] for key in ("rule", "affiliate_id", "campaign_id")} == {
        "rule": "conversion_fraud_rejections",
        "affiliate_id": world.affiliate.pk,
        "campaign_id": campaign.pk,
    }
    assert (event.data["count"], event.data["threshold"]) == (2, 2)


def test_an_empty_policy_checks_nothing():
    world = postback_world()
    world.campaign(min_seconds_to_convert=30)
    click = world.click(age=dt.timedelta(seconds=1))

    body = _postback(world, click, ip="198.51.100.99")

    conversion = Conversion.objects.get()
    assert body["result"] == "created"
    assert (conversion.status, conversion.fraud_signals) == ("approved", [])


def test_the_explanation_shows_the_checks_with_their_inputs():
    world = _world({"too_fast": "reject", "ip_mismatch": "flag"}, min_seconds=30)
    click = world.click(age=dt.timedelta(seconds=5))
    _postback(world, click, ip="198.51.100.99")

    trace = conversion_trace(conversion_id=Conversion.objects.get().pk)

    assert trace["conversion"]["fraud_signals"] == ["too_fast", "ip_mismatch"]
    checks = {check["signal"]: check for check in trace["fraud"]}
    assert checks["too_fast"]["inputs"]["min_seconds_to_convert"] == 30
    assert 5 <= checks["too_fast"]["inputs"]["seconds_after_click"] <= 6
    assert {
        signal: (check["action"], check["detected"], check["recorded"])
        for signal, check in checks.items()
    } == {
        "too_fast": ("reject", True, True),
        "ip_mismatch": ("flag", True, True),
        "conversion_velocity": ("allow", False, False),
    }
    assert checks["ip_mismatch"]["inputs"] == {
        "postback_ip": "198.51.100.99",
        "click_ip": CLICK_IP,
    }
    assert checks["conversion_velocity"]["inputs"] == {
        "ip": "198.51.100.99",
        "earlier_in_24h": 0,
        "per_day_limit": 5,
    }


def test_the_sandbox_shows_the_fraud_checks_and_keeps_nothing():
    world = _world({"too_fast": "reject"}, min_seconds=30)
    click = world.click(age=dt.timedelta(seconds=5))

    report = postback_sandbox(partner_key=world.partner_key, params={"click_id": click.click_id})

    assert (report.result, report.reason) == ("rejected", "fraud:too_fast")
    assert report.conversion["fraud_signals"] == ["too_fast"]
    assert [(check["signal"], check["action"], check["detected"]) for check in report.fraud] == [
        ("too_fast", "reject", True),
        ("ip_mismatch", "allow", False),
        ("conversion_velocity", "allow", False),
    ]
    assert Conversion.objects.count() == 0
    assert OperatorEvent.objects.count() == 0
