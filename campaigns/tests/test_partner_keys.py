import datetime as dt
import hashlib
import hmac

import pytest

from accounts.tests.factories import AdvertiserFactory
from campaigns.models import PartnerKey
from campaigns.partner_keys import (
    partner_key_create,
    partner_key_pixel_snippets,
    partner_key_postback_url,
    partner_key_resolve,
    partner_key_rotate,
    partner_key_takes_pixels,
    partner_key_update,
    partner_key_verify_request,
)
from core.exceptions import ApplicationError

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)


def _sign(secret: str, timestamp: str, payload: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def test_partner_key_create_issues_random_key_and_secret_and_normalises_the_allowlist():
    advertiser = AdvertiserFactory()

    key = partner_key_create(
        advertiser=advertiser,
        name="Survey partner",
        ip_allowlist=["203.0.113.7", "198.51.100.0/24", "2001:db8::1/64"],
        require_signature=True,
    )

    stored = PartnerKey.objects.get()
    assert stored == key
    assert stored.advertiser == advertiser
    assert len(stored.key) == 32
    assert len(stored.signing_secret) == 43
    assert stored.ip_allowlist == ["203.0.113.7/32", "198.51.100.0/24", "2001:db8::/64"]
    assert stored.require_signature is True
    assert stored.is_active is True


def test_partner_key_create_refuses_a_bad_allowlist_entry_naming_it():
    with pytest.raises(ApplicationError) as error:
        partner_key_create(advertiser=AdvertiserFactory(), ip_allowlist=["10.0.0.1", "nope/8"])

    assert error.value.code == "invalid_ip_allowlist"
    assert "'nope/8'" in error.value.message
    assert error.value.fields == {"ip_allowlist": ["'nope/8' is not an IP address or CIDR range."]}
    assert PartnerKey.objects.count() == 0


def test_partner_key_update_changes_allowed_fields_only():
    key = partner_key_create(advertiser=AdvertiserFactory())

    partner_key_update(partner_key=key, ip_allowlist=["10.1.2.3"], is_active=False)
    with pytest.raises(ApplicationError) as error:
        partner_key_update(partner_key=key, key="chosen-by-me")

    key.refresh_from_db()
    assert key.ip_allowlist == ["10.1.2.3/32"]
    assert key.is_active is False
    assert error.value.code == "invalid_fields"
    assert key.key != "chosen-by-me"


def test_partner_key_rotate_keeps_the_old_key_for_the_grace_period_only(settings):
    settings.PARTNER_KEY_ROTATION_GRACE_HOURS = 24
    key = partner_key_create(advertiser=AdvertiserFactory())
    old = key.key

    rotated = partner_key_rotate(partner_key=key, now=NOW)

    assert rotated.key != old
    assert rotated.previous_key == old
    assert rotated.previous_key_expires_at == NOW + dt.timedelta(hours=24)
    assert rotated.rotated_at == NOW
    assert partner_key_resolve(key=rotated.key, now=NOW) == rotated
    assert partner_key_resolve(key=old, now=NOW + dt.timedelta(hours=23, minutes=59)) == rotated
    assert partner_key_resolve(key=old, now=NOW + dt.timedelta(hours=24)) is None


def test_partner_key_resolve_is_one_query_and_ignores_disabled_and_unknown_keys(
    django_assert_num_queries,
):
    key = partner_key_create(advertiser=AdvertiserFactory())
    disabled = partner_key_create(advertiser=AdvertiserFactory())
    partner_key_update(partner_key=disabled, is_active=False)

    with django_assert_num_queries(1):
        assert partner_key_resolve(key=key.key, now=NOW) == key
    with django_assert_num_queries(1):
        assert partner_key_resolve(key=disabled.key, now=NOW) is None
    with django_assert_num_queries(0):
        assert partner_key_resolve(key="", now=NOW) is None
        assert partner_key_resolve(key="x" * 65, now=NOW) is None
        assert partner_key_resolve(key="a\x00b", now=NOW) is None


def test_partner_key_verify_request_checks_the_allowlist():
    key = partner_key_create(
        advertiser=AdvertiserFactory(), ip_allowlist=["198.51.100.0/24", "2001:db8::/32"]
    )
    common = {
        "timestamp_header": None,
        "signature_header": None,
        "query": b"",
        "body": b"",
        "now": NOW,
    }

    partner_key_verify_request(partner_key=key, source_ip="198.51.100.9", **common)
    partner_key_verify_request(partner_key=key, source_ip="2001:db8::5", **common)
    for source_ip in ("198.51.101.1", None, "garbage"):
        with pytest.raises(ApplicationError) as error:
            partner_key_verify_request(partner_key=key, source_ip=source_ip, **common)
        assert (error.value.code, error.value.status) == ("ip_not_allowed", 403)


def test_partner_key_verify_request_checks_the_signature(settings):
    settings.POSTBACK_SIGNATURE_MAX_AGE_SECONDS = 300
    key = partner_key_create(advertiser=AdvertiserFactory(), require_signature=True)
    query, body = b"click_id=CLK-1&status=approved", b"{}"
    payload = query + b"." + body  # what the module docstring says the partner signs
    ts = str(int(NOW.timestamp()))
    good = _sign(key.signing_secret, ts, payload)

    partner_key_verify_request(
        partner_key=key,
        source_ip="203.0.113.1",
        timestamp_header=ts,
        signature_header=good,
        query=query,
        body=body,
        now=NOW,
    )
    old_ts = str(int(NOW.timestamp()) - 301)
    refused = [
        (ts, None),
        (None, good),
        ("soon", good),
        (ts, good.replace("sha256=", "md5=")),
        (ts, _sign("another-secret", ts, payload)),
        (ts, _sign(key.signing_secret, ts, payload + b"x")),
        (old_ts, _sign(key.signing_secret, old_ts, payload)),
        (ts, "sha256=é"),
    ]
    for timestamp, signature in refused:
        with pytest.raises(ApplicationError) as error:
            partner_key_verify_request(
                partner_key=key,
                source_ip="203.0.113.1",
                timestamp_header=timestamp,
                signature_header=signature,
                query=query,
                body=body,
                now=NOW,
            )
        assert (error.value.code, error.value.status) == ("bad_signature", 403)


def test_partner_key_postback_url_has_the_partner_guide_macros(settings):
    settings.PUBLIC_BASE_URL = "https://track.example"
    key = partner_key_create(advertiser=AdvertiserFactory())

    url = partner_key_postback_url(partner_key=key)

    assert url == (
        f"https://track.example/postback/{key.key}?click_id={{click_id}}&status={{status}}"
        "&payout={payout}&offer_id={offer_id}&transaction_id={transaction_id}"
    )


def test_partner_key_create_takes_a_custom_profile_with_its_maps_cleaned():
    key = partner_key_create(
        advertiser=AdvertiserFactory(),
        profile="custom",
        param_map={" clickref ": "click_id", "order": "Transaction_ID"},
        status_map={"OK": "approved"},
    )

    key.refresh_from_db()
    assert (key.profile, key.param_map, key.status_map) == (
        "custom",
        {"clickref": "click_id", "order": "transaction_id"},
        {"ok": "approved"},
    )


@pytest.mark.parametrize(
    ("fields", "code", "field", "message"),
    [
        (
            {"profile": "hasoffers"},
            "invalid_profile",
            "profile",
            "Unknown profile 'hasoffers': choose one of clickledger, tune, everflow, cake, affise,"
            " keitaro, voluum, custom.",
        ),
        (
            {"profile": "tune", "param_map": {"sub9": "sub1"}},
            "invalid_param_map",
            "param_map",
            "Only the custom profile takes its own map.",
        ),
        (
            {"profile": "keitaro", "status_map": {"sale": "approved"}},
            "invalid_status_map",
            "status_map",
            "Only the custom profile takes its own map.",
        ),
        (
            {"profile": "custom", "param_map": {f"p{n}": "sub1" for n in range(51)}},
            "invalid_param_map",
            "param_map",
            "At most 50 entries.",
        ),
        (
            {"profile": "custom", "param_map": {"clickref": "clickid"}},
            "invalid_param_map",
            "param_map",
            "'clickref' -> 'clickid': choose one of click_id, status, payout, currency, offer_id,"
            " survey_id, campaign_id, transaction_id, conversion_id, user_id, affiliate_id, sub1,"
            " sub2, sub3, sub4, sub5, country, device_id, ip, user_agent, reason, event.",
        ),
        (
            {"profile": "custom", "param_map": {"clickref": 5}},
            "invalid_param_map",
            "param_map",
            "Names and values must be strings.",
        ),
        (
            {"profile": "custom", "param_map": ["clickref"]},
            "invalid_param_map",
            "param_map",
            "Must be an object of their name -> ours.",
        ),
        (
            {"profile": "custom", "status_map": {"sale": "paid"}},
            "invalid_status_map",
            "status_map",
            "'sale' -> 'paid': choose one of pending, approved, rejected, reversed, test.",
        ),
        (
            {"profile": "custom", "status_map": {"": "approved"}},
            "invalid_status_map",
            "status_map",
            "Each name must have 1 to 64 printable characters.",
        ),
        (
            {"profile": "custom", "param_map": {"a\x00b": "click_id"}},
            "invalid_param_map",
            "param_map",
            "Each name must have 1 to 64 printable characters.",
        ),
        (
            {"profile": "custom", "param_map": {"\ud800": "click_id"}},
            "invalid_param_map",
            "param_map",
            "Each name must have 1 to 64 printable characters.",
        ),
    ],
)
def test_partner_key_profile_refusals(fields, code, field, message):
    with pytest.raises(ApplicationError) as raised:
        partner_key_create(advertiser=AdvertiserFactory(), **fields)

    assert (raised.value.code, raised.value.fields) == (code, {field: [message]})
    assert PartnerKey.objects.count() == 0


def test_leaving_the_custom_profile_clears_its_maps():
    key = partner_key_create(
        advertiser=AdvertiserFactory(), profile="custom", param_map={"cref": "click_id"}
    )

    partner_key_update(partner_key=key, profile="affise")

    key.refresh_from_db()
    assert (key.profile, key.param_map, key.status_map) == ("affise", {}, {})


def test_partner_key_pixel_snippets_are_the_three_tags_with_example_placeholders(settings):
    settings.PUBLIC_BASE_URL = "https://track.example"
    key = partner_key_create(advertiser=AdvertiserFactory())

    snippets = partner_key_pixel_snippets(partner_key=key)

    query = "event={event}&amp;transaction_id={transaction_id}&amp;payout={payout}"
    base = f"https://track.example/px/{key.key}"
    assert snippets == {
        "gif": f'<img src="{base}.gif?{query}" width="1" height="1" alt="">',
        "html": f'<iframe src="{base}.html?{query}" width="1" height="1" title="" hidden></iframe>',
        "js": f'<script src="{base}.js?{query}" async></script>',
    }


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, True),
        ({"require_signature": True}, False),
        ({"ip_allowlist": ["10.0.0.0/8"]}, False),
    ],
)
def test_only_keys_without_allowlist_or_signature_take_pixels(fields, expected):
    key = partner_key_create(advertiser=AdvertiserFactory(), **fields)

    assert partner_key_takes_pixels(partner_key=key) is expected
