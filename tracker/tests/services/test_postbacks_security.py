"""What a stranger can and cannot do with the postback routes: mint money through the keyless
legacy postback, touch another click's conversion by its transaction id, sign with a rotated-out
secret, or fill the disk through the postback log."""

import datetime as dt
import hashlib
import hmac
import json
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from accounts.tests.factories import AffiliateFactory
from campaigns.partner_keys import partner_key_rotate
from campaigns.tests.factories import TrackingLinkFactory
from payouts.models import LedgerEntry
from payouts.selectors import affiliate_balances
from tracker.models import Conversion, ConversionHistory, PostbackLog, PostbackOutcome
from tracker.services.postbacks import postback_logs_prune
from tracker.tests.factories import ClickFactory, postback_world

pytestmark = pytest.mark.django_db

STRANGER = "203.0.113.9"


def _legacy(client: Client, **params: str):
    return client.get("/postback", params)


# --- the keyless legacy postback -----------------------------------------------------------


def test_a_stranger_cannot_mint_a_conversion_through_the_legacy_click_and_postback():
    # given an approved affiliate on a public campaign, and a stranger on the internet
    world = postback_world()
    campaign = world.campaign()
    stranger = Client(REMOTE_ADDR=STRANGER)

    # when the stranger records a click by ids and reports its conversion without a key
    click = stranger.get(
        "/click",
        {"affiliate_id": world.affiliate.pk, "campaign_id": campaign.pk, "click_id": "attacker-1"},
    )
    postback = _legacy(
        stranger, affiliate_id=str(world.affiliate.pk), click_id="attacker-1", amount="1000000"
    )

    # then the click is a click (it moves no money), but the postback is refused and logged
    assert click.status_code == 200
    assert postback.status_code == 403
    body = postback.json()
    assert (body["status"], body["success"], body["code"]) == (
        "error",
        False,
        "source_not_allowed",
    )
    assert Conversion.objects.count() == 0
    assert LedgerEntry.objects.count() == 0
    assert affiliate_balances(affiliate_id=world.affiliate.pk) == {}
    log = PostbackLog.objects.get()
    assert (log.source_ip, log.http_status, log.code) == (STRANGER, 403, "source_not_allowed")


def test_the_legacy_postback_is_accepted_from_an_allowed_source(settings):
    settings.LEGACY_POSTBACK_ALLOWED_IPS = ["198.51.100.0/24", "2001:db8::/32"]
    world = postback_world()
    world.campaign()
    first, second = world.click(), world.click()

    ipv4 = _legacy(
        Client(REMOTE_ADDR="198.51.100.20"),
        affiliate_id=str(world.affiliate.pk),
        click_id=first.click_id,
        amount="100",
    )
    ipv6 = _legacy(
        Client(REMOTE_ADDR="2001:db8::7"),
        affiliate_id=str(world.affiliate.pk),
        click_id=second.click_id,
        amount="100",
    )
    outside = _legacy(
        Client(REMOTE_ADDR="198.51.101.1"),
        affiliate_id=str(world.affiliate.pk),
        click_id=second.click_id,
        amount="100",
    )

    assert (ipv4.status_code, ipv4.json()["result"]) == (200, "created")
    assert (ipv6.status_code, ipv6.json()["result"]) == (200, "created")
    assert (outside.status_code, outside.json()["code"]) == (403, "source_not_allowed")
    assert Conversion.objects.count() == 2


def test_loopback_is_allowed_by_default_so_the_first_integrations_requests_work():
    world = postback_world()
    world.campaign()
    click = world.click()

    response = _legacy(
        Client(),  # the test client's REMOTE_ADDR is 127.0.0.1
        affiliate_id=str(world.affiliate.pk),
        click_id=click.click_id,
        amount="100",
        currency="USD",
    )

    assert response.status_code == 200
    assert response.json()["data"]["amount"] == "100.0000"


@pytest.mark.parametrize("where", ["parameter", "header"])
def test_a_partner_key_admits_any_source_but_only_for_its_advertisers_clicks(where):
    owner = postback_world(key="owner-key")
    owner.campaign()
    own_click = owner.click()
    other = postback_world(key="other-key")
    other.campaign()
    foreign_click = other.click()
    client = Client(REMOTE_ADDR=STRANGER)

    def legacy(click, key):
        params = {
            "affiliate_id": str(click.affiliate_id),
            "click_id": click.click_id,
            "amount": "5",
        }
        if where == "parameter":
            return client.get("/postback", {**params, "key": key})
        return client.get("/postback", params, HTTP_X_POSTBACK_KEY=key)

    own = legacy(own_click, "owner-key")
    foreign = legacy(foreign_click, "owner-key")
    unknown = legacy(own_click, "no-such-key")

    assert (own.status_code, own.json()["result"]) == (200, "created")
    assert (foreign.status_code, foreign.json()["code"]) == (404, "click_not_found")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "invalid_key")
    conversion = Conversion.objects.get()
    assert (conversion.click, conversion.partner_key, conversion.custom_data) == (
        own_click,
        owner.partner_key,
        {},
    )
    logs = PostbackLog.objects.order_by("received_at")
    assert [(log.partner_key_id, log.code) for log in logs] == [
        (owner.partner_key.pk, ""),
        (owner.partner_key.pk, "click_not_found"),
        (None, "invalid_key"),
    ]


def test_a_partner_key_on_the_legacy_postback_keeps_its_allowlist_and_signature_rules():
    allowlisted = postback_world(key="allowlisted-key", ip_allowlist=["198.51.100.0/24"])
    allowlisted.campaign()
    signing = postback_world(key="signing-key", require_signature=True)
    signing.campaign()
    client = Client(REMOTE_ADDR=STRANGER)

    outside_allowlist = client.get(
        "/postback",
        {
            "affiliate_id": str(allowlisted.affiliate.pk),
            "click_id": allowlisted.click().click_id,
            "key": "allowlisted-key",
        },
    )
    unsigned = client.get(
        "/postback",
        {
            "affiliate_id": str(signing.affiliate.pk),
            "click_id": signing.click().click_id,
            "key": "signing-key",
        },
    )

    assert (outside_allowlist.status_code, outside_allowlist.json()["code"]) == (
        403,
        "ip_not_allowed",
    )
    assert (unsigned.status_code, unsigned.json()["code"]) == (403, "bad_signature")
    assert Conversion.objects.count() == 0


def test_a_refused_stranger_learns_nothing_from_a_malformed_legacy_postback():
    response = Client(REMOTE_ADDR=STRANGER).get(
        "/postback", {"affiliate_id": "1", "click_id": "{click_id}", "amount": "x"}
    )

    assert (response.status_code, response.json()["code"]) == (403, "source_not_allowed")


# --- a transaction id names a conversion of the click the request names ----------------------


def _victim_and_attacker():
    world = postback_world()
    world.campaign()
    victim_click, attacker_click = world.click(), world.click()
    client = Client()
    created = client.get(
        world.postback_path,
        {"click_id": victim_click.click_id, "payout": "110.00", "transaction_id": "VICTIM-1"},
    )
    assert created.json()["result"] == "created"
    return world, victim_click, attacker_click, client


@pytest.mark.parametrize("status", ["reversed", "approved", "rejected", "pending"])
def test_a_keyed_postback_cannot_touch_another_clicks_conversion_by_transaction_id(status):
    world, victim_click, attacker_click, client = _victim_and_attacker()
    victim = Conversion.objects.get()
    entries_before = LedgerEntry.objects.count()

    response = client.get(
        world.postback_path,
        {"click_id": attacker_click.click_id, "transaction_id": "VICTIM-1", "status": status},
    )

    assert response.status_code == 409
    body = response.json()
    body.pop("log_id")
    assert body == {
        "status": "error",
        "message": "This transaction_id belongs to a conversion of another click.",
        "code": "transaction_id_conflict",
        "fields": {"transaction_id": ["Already used by another click's conversion."]},
    }
    assert victim_click.click_id not in response.content.decode()
    victim.refresh_from_db()
    assert (victim.status, victim.revenue, victim.click) == (
        "approved",
        Decimal("110.0000"),
        victim_click,
    )
    assert Conversion.objects.count() == 1
    assert ConversionHistory.objects.count() == 1
    assert LedgerEntry.objects.count() == entries_before


def test_the_legacy_postback_cannot_reverse_another_affiliates_conversion():
    # given a victim's approved conversion with a transaction id, and an attacker who is another
    # affiliate on the same campaign with a click of its own
    world, _, _, client = _victim_and_attacker()
    attacker = AffiliateFactory()
    attacker_link = TrackingLinkFactory(campaign=world.campaigns["main"], affiliate=attacker)
    attacker_click = ClickFactory(link=attacker_link)
    victim_balance = affiliate_balances(affiliate_id=world.affiliate.pk)

    response = _legacy(
        client,
        affiliate_id=str(attacker.pk),
        click_id=attacker_click.click_id,
        transaction_id="VICTIM-1",
        status="reversed",
    )

    assert response.status_code == 409
    assert response.json()["code"] == "transaction_id_conflict"
    assert "110" not in response.content.decode()
    assert Conversion.objects.get().status == "approved"
    usd = victim_balance["USD"]
    assert usd["pending"] + usd["available"] == Decimal("88.0000")
    assert affiliate_balances(affiliate_id=world.affiliate.pk) == victim_balance
    assert affiliate_balances(affiliate_id=attacker.pk) == {}


def test_a_postback_without_click_id_still_finds_its_conversion_by_transaction_id():
    world = postback_world()
    world.campaign(external_offer_id="OFFER-9")
    world.click()
    client = Client()

    pending = client.get(
        world.postback_path,
        {"offer_id": "OFFER-9", "transaction_id": "T-1", "status": "pending", "payout": "10"},
    )
    approved = client.get(
        world.postback_path, {"offer_id": "OFFER-9", "transaction_id": "T-1", "status": "approved"}
    )

    assert (pending.json()["result"], approved.json()["result"]) == ("created", "updated")
    assert pending.json()["conversion_id"] == approved.json()["conversion_id"]
    assert Conversion.objects.get().status == "approved"


def test_the_same_click_and_transaction_id_is_still_a_duplicate():
    world, victim_click, _, client = _victim_and_attacker()

    response = client.get(
        world.postback_path,
        {"click_id": victim_click.click_id, "payout": "110.00", "transaction_id": "VICTIM-1"},
    )

    assert (response.status_code, response.json()["result"]) == (200, "duplicate")


# --- rotation rotates the signing secret too -------------------------------------------------


def _signed(secret: str, query: str, at: dt.datetime) -> dict[str, str]:
    timestamp = str(int(at.timestamp()))
    message = f"{timestamp}.".encode() + query.encode() + b"."
    mac = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return {
        "HTTP_X_CLICKLEDGER_TIMESTAMP": timestamp,
        "HTTP_X_CLICKLEDGER_SIGNATURE": f"sha256={mac}",
    }


def test_rotating_a_key_rotates_its_signing_secret_with_the_same_grace_period(settings):
    settings.PARTNER_KEY_ROTATION_GRACE_HOURS = 2
    world = postback_world(key="old-key", require_signature=True)
    world.campaign()
    old_secret = world.partner_key.signing_secret
    clicks = [world.click() for _ in range(4)]
    rotated = partner_key_rotate(partner_key=world.partner_key, now=timezone.now())
    client = Client()

    def send(key: str, secret: str, click, at: dt.datetime):
        query = f"click_id={click.click_id}"
        return client.get(f"/postback/{key}?{query}", **_signed(secret, query, at))

    now = timezone.now()
    old_with_old = send("old-key", old_secret, clicks[0], now)
    new_with_old = send(rotated.key, old_secret, clicks[1], now)
    new_with_new = send(rotated.key, rotated.signing_secret, clicks[2], now)
    later = now + dt.timedelta(hours=2, seconds=1)
    with time_machine.travel(later):
        new_with_old_later = send(rotated.key, old_secret, clicks[3], later)
        new_with_new_later = send(rotated.key, rotated.signing_secret, clicks[3], later)

    assert rotated.signing_secret != old_secret
    assert rotated.previous_signing_secret == old_secret
    assert [r.status_code for r in (old_with_old, new_with_old, new_with_new)] == [200, 200, 200]
    assert (new_with_old_later.status_code, new_with_old_later.json()["code"]) == (
        403,
        "bad_signature",
    )
    assert (new_with_new_later.status_code, new_with_new_later.json()["result"]) == (
        200,
        "created",
    )


def test_a_second_rotation_drops_the_first_secret_at_once():
    world = postback_world(key="key-0", require_signature=True)
    world.campaign()
    first_secret = world.partner_key.signing_secret
    once = partner_key_rotate(partner_key=world.partner_key, now=timezone.now())
    twice = partner_key_rotate(partner_key=once, now=timezone.now())
    click = world.click()
    query = f"click_id={click.click_id}"

    response = Client().get(
        f"/postback/{twice.key}?{query}", **_signed(first_secret, query, timezone.now())
    )

    assert len({first_secret, once.signing_secret, twice.signing_secret}) == 3
    assert twice.previous_signing_secret == once.signing_secret
    assert (response.status_code, response.json()["code"]) == (403, "bad_signature")


# --- the postback log cannot fill the disk ---------------------------------------------------


def test_an_oversized_body_is_refused_unread_and_stores_nothing_of_it(settings):
    settings.POSTBACK_MAX_BODY_BYTES = 65536
    body = json.dumps({"click_id": "x", "padding": "A" * 2_400_000})

    response = Client(REMOTE_ADDR=STRANGER).post(
        "/postback/no-such-key", body, content_type="application/json"
    )

    assert response.status_code == 404
    assert response.json()["code"] == "invalid_key"
    log = PostbackLog.objects.get()
    assert (log.body, log.params) == ("", {})


def test_a_large_body_is_stored_cut_to_the_log_limit(settings):
    settings.POSTBACK_LOG_MAX_BYTES = 8192
    world = postback_world()
    world.campaign()
    click = world.click()
    body = json.dumps({"click_id": click.click_id, "note": "B" * 50_000, "payout": "2.50"})

    response = Client().post(world.postback_path, body, content_type="application/json")

    assert (response.status_code, response.json()["result"]) == (200, "created")
    log = PostbackLog.objects.get()
    assert len(log.body) == 8192
    assert log.params == {"click_id": click.click_id, "payout": "2.50"}
    assert log.warnings == [f"body stored truncated: the first 8192 of {len(body)} bytes"]
    # the conversion itself keeps what the partner sent
    assert Conversion.objects.get().custom_data == {"note": "B" * 50_000}


def test_a_long_query_string_is_stored_cut_to_the_log_limit(settings):
    settings.POSTBACK_LOG_MAX_BYTES = 1000
    query = "click_id=nope&" + "x=" + "C" * 5000

    response = Client(REMOTE_ADDR=STRANGER).get(f"/postback/no-such-key?{query}")

    assert response.status_code == 404
    log = PostbackLog.objects.get()
    assert log.query_string == query[:1000]
    assert log.params == {"click_id": "nope"}


def _log_at(at: dt.datetime, outcome: str) -> PostbackLog:
    return PostbackLog.objects.create(
        received_at=at, endpoint="postback", method="GET", outcome=outcome, http_status=200
    )


def test_pruning_keeps_refused_requests_shorter_than_accepted_ones(settings):
    settings.POSTBACK_LOG_REFUSED_RETENTION_DAYS = 14
    settings.POSTBACK_LOG_RETENTION_DAYS = 365
    now = timezone.now()
    refused_old = _log_at(now - dt.timedelta(days=15), PostbackOutcome.ERROR)
    refused_recent = _log_at(now - dt.timedelta(days=13), PostbackOutcome.ERROR)
    accepted_month = _log_at(now - dt.timedelta(days=30), PostbackOutcome.CREATED)
    accepted_old = _log_at(now - dt.timedelta(days=366), PostbackOutcome.DUPLICATE)

    first = postback_logs_prune(now=now, batch_size=1)
    second = postback_logs_prune(now=now)

    assert (first, second) == (2, 0)
    assert set(PostbackLog.objects.values_list("id", flat=True)) == {
        refused_recent.id,
        accepted_month.id,
    }
    assert not PostbackLog.objects.filter(id__in=[refused_old.id, accepted_old.id]).exists()


def test_a_retention_of_zero_keeps_the_log_forever(settings):
    settings.POSTBACK_LOG_REFUSED_RETENTION_DAYS = 0
    settings.POSTBACK_LOG_RETENTION_DAYS = 0
    _log_at(timezone.now() - dt.timedelta(days=4000), PostbackOutcome.ERROR)

    assert postback_logs_prune() == 0
    assert PostbackLog.objects.count() == 1
