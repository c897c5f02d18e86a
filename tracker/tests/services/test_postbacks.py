"""The partner postback's rules one by one, through the HTTP endpoints: which key may touch which
click (rotation, disabled keys, allowlists, signatures), how parameters are read and refused,
attribution, dedupe by transaction id, the status machine's points, caps, and the database down."""

import datetime as dt
import hashlib
import hmac
import json
import time
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.utils import timezone

from campaigns.models import Cap, CapMetric, CapPeriod, CapScope
from campaigns.partner_keys import partner_key_rotate
from tracker.models import BlockedReason, Conversion, ConversionHistory, EndUserPoints, PostbackLog
from tracker.tests.factories import postback_world

pytestmark = pytest.mark.django_db


def _only_log() -> PostbackLog:
    return PostbackLog.objects.get()


def _without_log_id(response) -> dict:
    body = response.json()
    body.pop("log_id")
    return body


def test_a_key_cannot_touch_another_advertisers_click():
    # given advertiser A's key and a click on advertiser B's campaign
    world_a = postback_world(key="key-of-a")
    world_b = postback_world(key="key-of-b")
    world_b.campaign()
    click = world_b.click()

    response = Client().get(f"/postback/key-of-a?click_id={click.click_id}")

    assert response.status_code == 404
    assert _without_log_id(response) == {
        "status": "error",
        "message": "Click not found.",
        "code": "click_not_found",
    }
    assert Conversion.objects.count() == 0
    log = _only_log()
    assert (log.partner_key, log.outcome, log.click_id) == (
        world_a.partner_key,
        "error",
        click.click_id,
    )


def test_a_rotated_key_works_during_the_grace_period_then_answers_invalid_key(settings):
    settings.PARTNER_KEY_ROTATION_GRACE_HOURS = 2
    world = postback_world(key="old-key")
    world.campaign()
    first, second = world.click(), world.click()
    rotated = partner_key_rotate(partner_key=world.partner_key, now=timezone.now())
    client = Client()

    in_grace = client.get(f"/postback/old-key?click_id={first.click_id}")
    new_key = client.get(f"/postback/{rotated.key}?click_id={first.click_id}")
    with time_machine.travel(timezone.now() + dt.timedelta(hours=2, seconds=1)):
        after_grace = client.get(f"/postback/old-key?click_id={second.click_id}")

    assert (in_grace.status_code, in_grace.json()["result"]) == (200, "created")
    assert (new_key.status_code, new_key.json()["result"]) == (200, "duplicate")
    assert after_grace.status_code == 404
    assert after_grace.json()["code"] == "invalid_key"
    assert Conversion.objects.count() == 1


def test_a_disabled_key_answers_invalid_key():
    world = postback_world(is_active=False)
    world.campaign()
    click = world.click()

    response = Client().get(f"{world.postback_path}?click_id={click.click_id}")

    assert response.status_code == 404
    assert response.json()["code"] == "invalid_key"
    assert Conversion.objects.count() == 0
    assert _only_log().key == world.partner_key.key


def test_an_allowlisted_key_refuses_other_sources_with_403():
    world = postback_world(ip_allowlist=["198.51.100.0/24"])
    world.campaign()
    click = world.click()
    url = f"{world.postback_path}?click_id={click.click_id}"

    refused = Client(REMOTE_ADDR="203.0.113.9").get(url)
    allowed = Client(REMOTE_ADDR="198.51.100.20").get(url)

    assert refused.status_code == 403
    assert _without_log_id(refused) == {
        "status": "error",
        "message": "Source address 203.0.113.9 is not allowed for this key.",
        "code": "ip_not_allowed",
    }
    assert allowed.status_code == 200
    assert Conversion.objects.count() == 1
    assert list(PostbackLog.objects.order_by("received_at").values_list("source_ip", "code")) == [
        ("203.0.113.9", "ip_not_allowed"),
        ("198.51.100.20", ""),
    ]


def _signed_headers(secret: str, query: bytes, body: bytes, at: float) -> dict[str, str]:
    timestamp = str(int(at))
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + query + b"." + body, hashlib.sha256)
    return {
        "HTTP_X_CLICKLEDGER_TIMESTAMP": timestamp,
        "HTTP_X_CLICKLEDGER_SIGNATURE": "sha256=" + mac.hexdigest(),
    }


def test_a_key_requiring_signatures_refuses_bad_and_expired_ones_and_accepts_good_ones():
    world = postback_world(require_signature=True)
    world.campaign()
    get_click, post_click = world.click(), world.click()
    secret = world.partner_key.signing_secret
    client = Client()
    query = f"click_id={get_click.click_id}&payout=3.00".encode()
    url = f"{world.postback_path}?{query.decode()}"

    unsigned = client.get(url)
    wrong = client.get(url, **_signed_headers("not-the-secret", query, b"", time.time()))
    expired = client.get(url, **_signed_headers(secret, query, b"", time.time() - 301))
    tampered = client.get(
        url.replace("3.00", "30.00"), **_signed_headers(secret, query, b"", time.time())
    )
    good_get = client.get(url, **_signed_headers(secret, query, b"", time.time()))
    body = json.dumps({"click_id": post_click.click_id, "payout": 2}).encode()
    good_post = client.post(
        world.postback_path,
        body,
        content_type="application/json",
        **_signed_headers(secret, b"", body, time.time()),
    )

    for refused in (unsigned, wrong, expired, tampered):
        assert refused.status_code == 403
        assert refused.json()["code"] == "bad_signature"
    assert (good_get.status_code, good_get.json()["result"]) == (200, "created")
    assert (good_post.status_code, good_post.json()["result"]) == (200, "created")
    assert sorted(Conversion.objects.values_list("revenue", flat=True)) == [
        Decimal("2.0000"),
        Decimal("3.0000"),
    ]


def test_api_track_postback_takes_the_key_from_header_or_body():
    world = postback_world()
    world.campaign()
    first, second = world.click(), world.click()
    client = Client()

    by_header = client.post(
        "/api/track/postback",
        {"click_id": first.click_id, "payout": "1.00"},
        HTTP_X_POSTBACK_KEY=world.partner_key.key,
    )
    by_body = client.post(
        "/api/track/postback",
        json.dumps({"key": world.partner_key.key, "click_id": second.click_id}),
        content_type="application/json",
    )
    without_key = client.post("/api/track/postback", {"click_id": first.click_id})

    assert (by_header.status_code, by_header.json()["result"]) == (200, "created")
    assert (by_body.status_code, by_body.json()["result"]) == (200, "created")
    assert without_key.status_code == 404
    assert without_key.json()["code"] == "invalid_key"
    assert Conversion.objects.get(click=second).custom_data == {}


def test_body_wins_over_query_and_aliases_map_to_fields():
    world = postback_world()
    world.campaign()
    click = world.click(user_id="")

    response = Client().post(
        f"{world.postback_path}?click_id={click.click_id}&payout=99.00&status=pending",
        {
            "revenue": "10.00",
            "status": "approved",
            "conversion_id": "CONV-456",
            "campaign_id": "CAMP-789",
            "user_id": "USER-9",
            "sub_id": "placement",
            "sub_id2": "username",
            "country": "de",
            "device_id": "dev-1",
            "ip": "192.0.2.44",
            "user_agent": "Partner UA",
            "extra_thing": "kept",
        },
    )

    assert response.status_code == 200
    conversion = Conversion.objects.get()
    assert (conversion.status, conversion.revenue, conversion.payout) == (
        "approved",
        Decimal("10.0000"),
        Decimal("8.0000"),
    )
    assert conversion.external_conversion_id == "CONV-456"
    assert conversion.offer_id == "CAMP-789"
    assert conversion.user_id == "USER-9"
    assert conversion.sub_ids == {"sub1": "placement", "sub2": "username"}
    assert (conversion.country, conversion.device_id, conversion.ip, conversion.user_agent) == (
        "DE",
        "dev-1",
        "192.0.2.44",
        "Partner UA",
    )
    assert conversion.custom_data == {"extra_thing": "kept"}
    assert EndUserPoints.objects.get(user_id="USER-9").points == Decimal("8.0000")


def test_json_body_keeps_nested_custom_values_and_exact_decimals():
    world = postback_world()
    world.campaign()
    click = world.click()
    body = (
        f'{{"click_id": "{click.click_id}", "payout": 0.1, '
        '"answers": {"q1": [1, 2.50, null, true]}, "huge": 1e400}'
    )

    response = Client().post(world.postback_path, body, content_type="application/json")

    assert response.status_code == 200
    conversion = Conversion.objects.get()
    assert conversion.revenue == Decimal("0.1000")
    assert conversion.payout == Decimal("0.0800")
    assert conversion.custom_data == {"answers": {"q1": [1, "2.50", None, True]}, "huge": "1E+400"}


@pytest.mark.parametrize(
    ("query", "code", "field"),
    [
        ("payout=-1", "invalid_payout", "payout"),
        ("payout=1.23456", "invalid_payout", "payout"),
        ("payout=abc", "invalid_payout", "payout"),
        ("payout=NaN", "invalid_payout", "payout"),
        ("revenue=Infinity", "invalid_payout", "revenue"),
        ("currency=XYZ", "invalid_currency", "currency"),
        ("status=paid", "invalid_status", "status"),
        ("payout=%24%7Bpayout%7D", "unreplaced_macro", "payout"),
        ("transaction_id={{transaction_id}}", "unreplaced_macro", "transaction_id"),
    ],
)
def test_bad_values_are_refused_with_400_naming_the_field(query, code, field):
    world = postback_world()
    world.campaign()
    click = world.click()

    response = Client().get(f"{world.postback_path}?click_id={click.click_id}&{query}")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code
    assert list(body["fields"]) == [field]
    assert Conversion.objects.count() == 0
    assert (_only_log().outcome, _only_log().code) == ("error", code)


def test_invalid_json_body_is_refused():
    world = postback_world()

    response = Client().post(world.postback_path, "{not json", content_type="application/json")

    assert response.status_code == 400
    assert _without_log_id(response) == {
        "status": "error",
        "message": "The body is not valid JSON.",
        "code": "invalid_body",
        "fields": {"body": ["The body is not valid JSON."]},
    }
    assert _only_log().body == "{not json"


def test_a_click_older_than_the_attribution_window_converts_as_rejected():
    world = postback_world()
    world.campaign(attribution_window_hours=24)
    click = world.click(age=dt.timedelta(hours=25), user_id="U1")

    response = Client().get(f"{world.postback_path}?click_id={click.click_id}&payout=5")

    assert _without_log_id(response) == {
        "status": "success",
        "message": "Postback received and distributed",
        "result": "rejected",
        "conversion_id": Conversion.objects.get().pk,
        "reason": "outside_attribution_window",
    }
    conversion = Conversion.objects.get()
    assert (conversion.status, conversion.reason) == ("rejected", "outside_attribution_window")
    assert EndUserPoints.objects.count() == 0


def test_a_blocked_click_converts_as_rejected():
    world = postback_world()
    world.campaign()
    click = world.click(blocked_reason=BlockedReason.AFFILIATE_NOT_APPROVED)

    response = Client().get(f"{world.postback_path}?click_id={click.click_id}")

    assert (response.json()["result"], response.json()["reason"]) == ("rejected", "click_blocked")


def test_campaign_with_multiple_conversions_needs_and_dedupes_by_transaction_id():
    world = postback_world()
    world.campaign(allow_multiple_conversions=True)
    click = world.click()
    client = Client()
    url = f"{world.postback_path}?click_id={click.click_id}&payout=1"

    missing = client.get(url)
    first = client.get(f"{url}&transaction_id=T1")
    second = client.get(f"{url}&transaction_id=T2")
    repeat = client.get(f"{url}&transaction_id=T1")

    assert (missing.status_code, missing.json()["code"]) == (400, "missing_transaction_id")
    assert [r.json()["result"] for r in (first, second, repeat)] == [
        "created",
        "created",
        "duplicate",
    ]
    assert sorted(Conversion.objects.values_list("dedupe_slot", "transaction_id")) == [
        ("T1", "T1"),
        ("T2", "T2"),
    ]


def test_a_single_conversion_click_refuses_a_second_transaction():
    world = postback_world()
    world.campaign()
    click = world.click()
    client = Client()

    client.get(f"{world.postback_path}?click_id={click.click_id}&transaction_id=T1")
    other = client.get(
        f"{world.postback_path}?click_id={click.click_id}&transaction_id=T2&status=rejected"
    )

    assert other.status_code == 409
    assert other.json()["code"] == "click_already_converted"
    assert Conversion.objects.get().status == "approved"


def test_points_follow_approval_reversal_rejection_and_reapproval():
    # given an approved conversion of end user U1 worth 4.0000
    world = postback_world()
    world.campaign()
    click = world.click(user_id="U1")
    client = Client()
    url = f"{world.postback_path}?click_id={click.click_id}"

    def points() -> Decimal:
        return EndUserPoints.objects.get(user_id="U1").points

    created = client.get(f"{url}&payout=5.00")
    after_approval = points()
    rejected = client.get(f"{url}&status=rejected&reason=chargeback")
    after_rejection = points()
    reapprove_without_reason = client.get(f"{url}&status=approved")
    reapproved = client.get(f"{url}&status=approved&reason=chargeback+cancelled&payout=10")
    after_reapproval = points()
    reversed_ = client.get(f"{url}&status=reversed")
    after_reversal = points()
    after_final = client.get(f"{url}&status=approved&reason=again")

    assert [r.json()["result"] for r in (created, rejected, reapproved, reversed_)] == [
        "created",
        "updated",
        "updated",
        "updated",
    ]
    assert (after_approval, after_rejection, after_reapproval, after_reversal) == (
        Decimal("4.0000"),
        Decimal("0.0000"),
        Decimal("8.0000"),
        Decimal("0.0000"),
    )
    assert (reapprove_without_reason.status_code, reapprove_without_reason.json()["code"]) == (
        400,
        "reason_required",
    )
    assert (after_final.status_code, after_final.json()["code"]) == (409, "invalid_transition")
    conversion = Conversion.objects.get()
    assert (conversion.status, conversion.points_awarded, conversion.revenue) == (
        "reversed",
        Decimal("0.0000"),
        Decimal("10.0000"),
    )
    history = list(
        ConversionHistory.objects.order_by("id").values_list(
            "from_status", "to_status", "payout", "source", "reason"
        )
    )
    assert history == [
        ("", "approved", Decimal("4.0000"), "postback", ""),
        ("approved", "rejected", Decimal("4.0000"), "postback", "chargeback"),
        ("rejected", "approved", Decimal("8.0000"), "postback", "chargeback cancelled"),
        ("approved", "reversed", Decimal("8.0000"), "postback", "reversed_by_partner"),
    ]
    log_ids = set(PostbackLog.objects.filter(outcome="updated").values_list("id", flat=True))
    assert (
        set(
            ConversionHistory.objects.exclude(from_status="").values_list(
                "postback_log_id", flat=True
            )
        )
        == log_ids
    )


def test_reversing_a_conversion_that_does_not_exist_is_an_invalid_transition():
    world = postback_world()
    world.campaign()
    click = world.click()

    response = Client().get(f"{world.postback_path}?click_id={click.click_id}&status=reversed")

    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    assert Conversion.objects.count() == 0


def test_a_postback_refused_by_a_cap_gets_the_same_answer_when_repeated():
    world = postback_world()
    campaign = world.campaign()
    Cap.objects.create(
        campaign=campaign,
        scope=CapScope.AFFILIATE,
        period=CapPeriod.TOTAL,
        metric=CapMetric.CONVERSIONS,
        limit=Decimal("1"),
    )
    first, second = world.click(), world.click()
    client = Client()

    client.get(f"{world.postback_path}?click_id={first.click_id}")
    capped = client.get(f"{world.postback_path}?click_id={second.click_id}")
    repeated = client.get(f"{world.postback_path}?click_id={second.click_id}")

    assert (capped.json()["result"], capped.json()["reason"]) == ("rejected", "cap_reached")
    assert (repeated.json()["result"], repeated.json()["reason"]) == ("rejected", "cap_reached")
    assert repeated.json()["conversion_id"] == capped.json()["conversion_id"]
    assert ConversionHistory.objects.filter(conversion__click=second).count() == 1


@pytest.mark.django_db(transaction=True)
def test_database_down_answers_503_unavailable():
    world = postback_world()
    world.campaign()
    click = world.click()
    client = Client()
    settings_dict = connection.settings_dict
    port = settings_dict["PORT"]
    connection.close()
    settings_dict["PORT"] = "1"
    try:
        response = client.get(f"{world.postback_path}?click_id={click.click_id}")
    finally:
        connection.close()
        settings_dict["PORT"] = port

    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["code"]) == ("error", "unavailable")
    assert len(body["log_id"]) == 36
    assert Conversion.objects.count() == 0


def test_the_legacy_postback_names_amount_when_it_is_invalid():
    world = postback_world()
    world.campaign()
    click = world.click()

    response = Client().get(
        f"/postback?affiliate_id={world.affiliate.pk}&click_id={click.click_id}&amount=1,5"
    )

    assert response.status_code == 400
    body = response.json()
    body.pop("log_id")
    assert body == {
        "status": "error",
        "success": False,
        "message": "Invalid amount '1,5': a non-negative decimal with at most 4 decimal places "
        "is expected.",
        "code": "invalid_amount",
        "fields": {"amount": ["not a decimal"]},
    }
    assert Conversion.objects.count() == 0
