"""`/api/partner-keys`: list, issue, change and rotate an advertiser's postback keys."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from campaigns.models import PartnerKey
from campaigns.partner_keys import partner_key_resolve
from campaigns.tests.factories import network
from core.tests.api_bodies import (
    ADMIN_OR_ADVERTISER_FORBIDDEN,
    NOT_AUTHENTICATED,
    invalid_fields_body,
    iso,
    not_found,
)

pytestmark = pytest.mark.django_db

KEY_NOT_FOUND = not_found("Partner key not found.")
NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def key_body(partner_key: PartnerKey, **changes) -> dict:
    partner_key.refresh_from_db()
    body = {
        "id": partner_key.pk,
        "advertiser_id": partner_key.advertiser_id,
        "name": partner_key.name,
        "key": partner_key.key,
        "postback_url": (
            f"http://testserver/postback/{partner_key.key}?click_id={{click_id}}"
            "&status={status}&payout={payout}&offer_id={offer_id}"
            "&transaction_id={transaction_id}"
        ),
        "is_active": partner_key.is_active,
        "ip_allowlist": partner_key.ip_allowlist,
        "require_signature": partner_key.require_signature,
        "previous_key_expires_at": iso(partner_key.previous_key_expires_at),
        "rotated_at": iso(partner_key.rotated_at),
        "profile": partner_key.profile,
        "param_map": partner_key.param_map,
        "status_map": partner_key.status_map,
        "created_at": iso(partner_key.created_at),
        "updated_at": iso(partner_key.updated_at),
    }
    body.update(changes)
    return body


def test_advertiser_lists_only_its_keys_without_secrets():
    net = network()

    response = net.client_as("advertiser1").get("/api/partner-keys")

    assert response.status_code == 200
    assert response.json() == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [key_body(net.key1)],
    }


def test_admin_lists_every_key():
    net = network()

    response = net.client_as("admin").get("/api/partner-keys")

    assert [row["id"] for row in response.json()["results"]] == [net.key2.pk, net.key1.pk]


@pytest.mark.parametrize(
    ("role", "status_code", "expected"),
    [
        ("anonymous", 401, NOT_AUTHENTICATED),
        ("affiliate1", 403, ADMIN_OR_ADVERTISER_FORBIDDEN),
        ("pending_advertiser", 403, ADMIN_OR_ADVERTISER_FORBIDDEN),
    ],
)
def test_partner_key_list_refusals(role, status_code, expected):
    net = network()

    response = net.client_as(role).get("/api/partner-keys")

    assert response.status_code == status_code
    assert response.json() == expected


def test_partner_key_list_filters_on_a_strict_boolean():
    net = network()
    net.key2.is_active = False
    net.key2.save(update_fields=["is_active"])
    client = net.client_as("admin")

    inactive = client.get("/api/partner-keys", {"is_active": "false"})
    junk = client.get("/api/partner-keys", {"is_active": "-58800"})

    assert [row["id"] for row in inactive.json()["results"]] == [net.key2.pk]
    # junk was read as "no filter" and listed every key
    assert junk.status_code == 400
    assert junk.json() == invalid_fields_body({"is_active": ["Use true or false."]})


def test_partner_key_list_options_describe_the_create_input():
    net = network()

    response = net.client_as("advertiser1").options("/api/partner-keys")

    # without a serializer class DRF's metadata raised: a 500
    assert response.status_code == 200
    assert set(response.json()["actions"]["POST"]) == {
        "name",
        "ip_allowlist",
        "require_signature",
        "advertiser_id",
        "profile",
        "param_map",
        "status_map",
    }


def test_partner_key_list_queries_do_not_grow_with_rows(django_assert_max_num_queries):
    net = network()
    client = net.client_as("advertiser1")
    with django_assert_max_num_queries(4) as few:
        client.get("/api/partner-keys")
    baseline = len(few.captured_queries)
    for _ in range(10):
        client.post("/api/partner-keys", {"name": "more"}, format="json")

    with django_assert_max_num_queries(baseline):
        response = client.get("/api/partner-keys")

    assert response.json()["count"] == 11


def test_advertiser_issues_a_key_and_sees_the_secret_once():
    net = network()
    client = net.client_as("advertiser1")

    created = client.post(
        "/api/partner-keys",
        {"name": "Survey partner", "ip_allowlist": ["203.0.113.7"], "require_signature": True},
        format="json",
    )

    partner_key = PartnerKey.objects.get(name="Survey partner")
    assert created.status_code == 201
    assert created.json() == key_body(
        partner_key, ip_allowlist=["203.0.113.7/32"], signing_secret=partner_key.signing_secret
    )
    assert (partner_key.advertiser_id, partner_key.require_signature) == (net.advertiser1.pk, True)
    listed = client.get("/api/partner-keys").json()["results"]
    assert "signing_secret" not in listed[0]


def test_admin_issues_a_key_for_a_named_advertiser():
    net = network()
    client = net.client_as("admin")

    missing = client.post("/api/partner-keys", {"name": "x"}, format="json")
    created = client.post(
        "/api/partner-keys", {"name": "x", "advertiser_id": net.advertiser2.pk}, format="json"
    )

    assert missing.status_code == 400
    assert missing.json()["code"] == "missing_advertiser_id"
    assert created.status_code == 201
    assert created.json()["advertiser_id"] == net.advertiser2.pk


def test_partner_key_create_refused_for_affiliates():
    net = network()

    response = net.client_as("affiliate1").post("/api/partner-keys", {"name": "x"}, format="json")

    assert response.status_code == 403
    assert response.json() == ADMIN_OR_ADVERTISER_FORBIDDEN
    assert PartnerKey.objects.count() == 2


def test_owner_changes_allowlist_flags_and_name():
    net = network()

    response = net.client_as("advertiser1").patch(
        f"/api/partner-keys/{net.key1.pk}",
        {
            "ip_allowlist": ["10.0.0.0/8", "2001:db8::1"],
            "is_active": False,
            "require_signature": True,
            "name": "Renamed",
        },
        format="json",
    )

    assert response.status_code == 200
    assert response.json() == key_body(
        net.key1,
        ip_allowlist=["10.0.0.0/8", "2001:db8::1/128"],
        is_active=False,
        require_signature=True,
        name="Renamed",
    )
    assert "signing_secret" not in response.json()
    assert partner_key_resolve(key=net.key1.key, now=timezone.now()) is None


def test_partner_key_patch_rejects_a_bad_allowlist_entry():
    net = network()

    response = net.client_as("advertiser1").patch(
        f"/api/partner-keys/{net.key1.pk}", {"ip_allowlist": ["not-an-ip"]}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "code": "invalid_ip_allowlist",
        "message": "'not-an-ip' is not an IP address or CIDR range.",
        "fields": {"ip_allowlist": ["'not-an-ip' is not an IP address or CIDR range."]},
    }
    net.key1.refresh_from_db()
    assert net.key1.ip_allowlist == []


@pytest.mark.parametrize(
    ("role", "status_code", "expected"),
    [
        ("anonymous", 401, NOT_AUTHENTICATED),
        ("affiliate1", 403, ADMIN_OR_ADVERTISER_FORBIDDEN),
        ("advertiser2", 404, KEY_NOT_FOUND),
    ],
)
def test_partner_key_patch_and_rotate_refusals_change_nothing(role, status_code, expected):
    net = network()
    client = net.client_as(role)
    before = PartnerKey.objects.filter(pk=net.key1.pk).values().get()

    patched = client.patch(f"/api/partner-keys/{net.key1.pk}", {"is_active": False}, format="json")
    rotated = client.post(f"/api/partner-keys/{net.key1.pk}/rotate")

    assert (patched.status_code, rotated.status_code) == (status_code, status_code)
    assert patched.json() == rotated.json() == expected
    assert PartnerKey.objects.filter(pk=net.key1.pk).values().get() == before


def test_rotation_issues_a_new_key_and_keeps_the_old_one_for_the_grace_period():
    net = network()
    old_key = net.key1.key

    with time_machine.travel(NOW, tick=False):
        response = net.client_as("advertiser1").post(f"/api/partner-keys/{net.key1.pk}/rotate")

    net.key1.refresh_from_db()
    assert response.status_code == 200
    assert response.json() == key_body(
        net.key1,
        previous_key_expires_at="2026-03-02T12:00:00Z",
        rotated_at="2026-03-01T12:00:00Z",
        signing_secret=net.key1.signing_secret,
    )
    assert net.key1.key != old_key
    assert partner_key_resolve(key=old_key, now=NOW + dt.timedelta(hours=23)) == net.key1
    assert partner_key_resolve(key=old_key, now=NOW + dt.timedelta(hours=25)) is None


def test_a_custom_profile_round_trips_through_the_api():
    net = network()
    client = net.client_as("advertiser1")

    created = client.post(
        "/api/partner-keys",
        {
            "name": "Own platform",
            "profile": "custom",
            "param_map": {"clickref": "click_id", "order": "transaction_id"},
            "status_map": {"ok": "approved"},
        },
        format="json",
    )
    key = PartnerKey.objects.get(name="Own platform")
    changed = client.patch(
        f"/api/partner-keys/{key.pk}",
        {"status_map": {"ok": "approved", "hold": "pending"}},
        format="json",
    )

    assert created.status_code == 201
    assert created.json() == key_body(
        key,
        profile="custom",
        param_map={"clickref": "click_id", "order": "transaction_id"},
        status_map={"ok": "approved"},
        signing_secret=key.signing_secret,
        updated_at=created.json()["updated_at"],
    )
    assert changed.status_code == 200
    assert changed.json() == key_body(key, status_map={"ok": "approved", "hold": "pending"})
    assert client.get("/api/partner-keys").json()["results"][0]["param_map"] == {
        "clickref": "click_id",
        "order": "transaction_id",
    }


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"profile": "hasoffers"}, "invalid_profile"),
        ({"profile": "tune", "param_map": {"a": "click_id"}}, "invalid_param_map"),
        ({"profile": "custom", "status_map": {"sale": "paid"}}, "invalid_status_map"),
    ],
)
def test_partner_key_api_refuses_a_bad_profile(data, code):
    net = network()

    response = net.client_as("advertiser1").patch(
        f"/api/partner-keys/{net.key1.pk}", data, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == code
    net.key1.refresh_from_db()
    assert net.key1.profile == "clickledger"
