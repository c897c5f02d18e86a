"""`/api/campaigns/<id>/events` and `/api/events/<id>`: a campaign's conversion events, and an
affiliate's payouts per event on `/api/campaigns/<id>`."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from campaigns.models import Campaign, Cap, ConversionEvent
from campaigns.tests.factories import ConversionEventFactory, PricingRuleFactory, network
from core.tests.api_bodies import (
    ADMIN_OR_ADVERTISER_FORBIDDEN,
    NOT_AUTHENTICATED,
    iso,
    not_found,
)
from tracker.tests.factories import ClickFactory, postback

pytestmark = pytest.mark.django_db

EVENT_NOT_FOUND = not_found("Event not found.")
CAMPAIGN_NOT_FOUND = not_found("Campaign not found.")
NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)


def event_body(event: ConversionEvent, **changes) -> dict:
    event.refresh_from_db()
    body = {
        "id": event.pk,
        "campaign": event.campaign_id,
        "code": event.code,
        "name": event.name,
        "is_default": event.is_default,
        "payout_type": event.payout_type,
        "payout_amount": f"{event.payout_amount:.4f}",
        "revshare_percent": f"{event.revshare_percent:.4f}",
        "allow_multiple": event.allow_multiple,
        "initial_status": event.initial_status,
        "caps": [],
        "default_revenue": f"{event.default_revenue:.4f}",
        "created_at": iso(event.created_at),
        "updated_at": iso(event.updated_at),
    }
    body.update(changes)
    return body


def affiliate_event_body(event: ConversionEvent, **changes) -> dict:
    body = event_body(event, **changes)
    for name in ("default_revenue", "created_at", "updated_at"):
        del body[name]
    return body


def default_event(campaign: Campaign) -> ConversionEvent:
    return ConversionEvent.objects.get(campaign=campaign, is_default=True)


# --- list -------------------------------------------------------------------------------------


def test_owner_and_admin_list_the_events_default_first_with_revenue():
    net = network()
    sale = ConversionEventFactory(campaign=net.campaign1, code="sale", name="Sale")
    url = f"/api/campaigns/{net.campaign1.pk}/events"

    owner = net.client_as("advertiser1").get(url)
    admin = net.client_as("admin").get(url)

    expected = [event_body(default_event(net.campaign1)), event_body(sale)]
    assert (owner.status_code, owner.json()) == (200, expected)
    assert (admin.status_code, admin.json()) == (200, expected)


def test_an_affiliate_lists_the_events_without_revenue():
    net = network()
    sale = ConversionEventFactory(campaign=net.campaign1, code="sale", default_revenue=9)

    response = net.client_as("affiliate1").get(f"/api/campaigns/{net.campaign1.pk}/events")

    assert response.status_code == 200
    assert response.json() == [
        affiliate_event_body(default_event(net.campaign1)),
        affiliate_event_body(sale),
    ]
    assert "revenue" not in response.content.decode()


@pytest.mark.parametrize(
    ("role", "status_code", "expected"),
    [
        ("anonymous", 401, NOT_AUTHENTICATED),
        ("advertiser2", 404, CAMPAIGN_NOT_FOUND),
    ],
)
def test_event_list_refusals(role, status_code, expected):
    net = network()

    response = net.client_as(role).get(f"/api/campaigns/{net.campaign1.pk}/events")

    assert (response.status_code, response.json()) == (status_code, expected)


def test_event_list_queries_do_not_grow_with_events(django_assert_max_num_queries):
    net = network()
    client = net.client_as("advertiser1")
    ConversionEventFactory(campaign=net.campaign1)
    with django_assert_max_num_queries(6) as few:
        client.get(f"/api/campaigns/{net.campaign1.pk}/events")
    for _ in range(5):
        ConversionEventFactory(campaign=net.campaign1)

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(f"/api/campaigns/{net.campaign1.pk}/events")

    assert len(response.json()) == 7


# --- create -----------------------------------------------------------------------------------


def test_owner_adds_an_event_with_caps():
    net = network()

    response = net.client_as("advertiser1").post(
        f"/api/campaigns/{net.campaign1.pk}/events",
        {
            "code": "Sale",
            "name": "First sale",
            "payout_type": "fixed",
            "payout_amount": "12.5",
            "default_revenue": "20",
            "allow_multiple": True,
            "initial_status": "pending",
            "caps": [{"period": "day", "limit": "10"}],
        },
        format="json",
    )

    event = ConversionEvent.objects.get(campaign=net.campaign1, code="sale")
    assert response.status_code == 201
    assert response.json() == event_body(
        event,
        caps=[
            {
                "scope": "campaign",
                "period": "day",
                "metric": "conversions",
                "limit": "10.0000",
                "action": "reject",
            }
        ],
    )
    assert (event.payout_amount, event.is_default, event.initial_status) == (
        Decimal("12.5000"),
        False,
        "pending",
    )
    assert Cap.objects.get(event=event).campaign_id == net.campaign1.pk


def test_adding_a_used_code_is_a_conflict():
    net = network()
    ConversionEventFactory(campaign=net.campaign1, code="sale")

    response = net.client_as("admin").post(
        f"/api/campaigns/{net.campaign1.pk}/events",
        {"code": "sale", "name": "Again", "payout_type": "fixed"},
        format="json",
    )

    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_event_code"


def test_adding_an_event_refuses_a_bad_code_and_a_zero_revshare():
    net = network()

    response = net.client_as("advertiser1").post(
        f"/api/campaigns/{net.campaign1.pk}/events",
        {"code": "first sale!", "name": "Sale", "payout_type": "revshare"},
        format="json",
    )

    assert response.status_code == 400
    body = response.json()
    assert (body["code"], sorted(body["fields"])) == ("invalid", ["code", "revshare_percent"])


@pytest.mark.parametrize(
    ("role", "status_code", "expected"),
    [
        ("affiliate1", 403, ADMIN_OR_ADVERTISER_FORBIDDEN),
        ("advertiser2", 404, CAMPAIGN_NOT_FOUND),
    ],
)
def test_adding_an_event_refusals_write_nothing(role, status_code, expected):
    net = network()

    response = net.client_as(role).post(
        f"/api/campaigns/{net.campaign1.pk}/events",
        {"code": "sale", "name": "Sale", "payout_type": "fixed"},
        format="json",
    )

    assert (response.status_code, response.json()) == (status_code, expected)
    assert ConversionEvent.objects.filter(campaign=net.campaign1).count() == 1


# --- detail, change, delete -------------------------------------------------------------------


def test_event_detail_for_owner_and_admin_only():
    net = network()
    sale = ConversionEventFactory(campaign=net.campaign1, code="sale")
    url = f"/api/events/{sale.pk}"

    bodies = {
        role: (net.client_as(role).get(url).status_code, net.client_as(role).get(url).json())
        for role in ("admin", "advertiser1", "advertiser2", "affiliate1")
    }

    assert bodies == {
        "admin": (200, event_body(sale)),
        "advertiser1": (200, event_body(sale)),
        "advertiser2": (404, EVENT_NOT_FOUND),
        "affiliate1": (403, ADMIN_OR_ADVERTISER_FORBIDDEN),
    }


def test_changing_the_default_event_changes_the_campaigns_terms():
    net = network()
    event = default_event(net.campaign1)

    response = net.client_as("advertiser1").patch(
        f"/api/events/{event.pk}",
        {"payout_type": "fixed", "payout_amount": "3", "name": "Install"},
        format="json",
    )

    net.campaign1.refresh_from_db()
    assert response.status_code == 200
    assert response.json() == event_body(event, name="Install", payout_type="fixed")
    assert (net.campaign1.payout_type, net.campaign1.payout_amount) == ("fixed", Decimal("3"))


def test_changing_caps_replaces_them():
    net = network()
    sale = ConversionEventFactory(campaign=net.campaign1, code="sale")
    client = net.client_as("admin")
    client.patch(
        f"/api/events/{sale.pk}", {"caps": [{"period": "day", "limit": "5"}]}, format="json"
    )

    response = client.patch(
        f"/api/events/{sale.pk}",
        {"caps": [{"period": "month", "metric": "payout", "limit": "100"}]},
        format="json",
    )

    assert response.status_code == 200
    assert [(cap.period, cap.metric) for cap in Cap.objects.filter(event=sale)] == [
        ("month", "payout")
    ]


def test_another_advertiser_cannot_change_or_delete_an_event():
    net = network()
    sale = ConversionEventFactory(campaign=net.campaign1, code="sale", name="Sale")
    client = net.client_as("advertiser2")

    changed = client.patch(f"/api/events/{sale.pk}", {"name": "Mine"}, format="json")
    deleted = client.delete(f"/api/events/{sale.pk}")

    assert (changed.status_code, changed.json()) == (404, EVENT_NOT_FOUND)
    assert (deleted.status_code, deleted.json()) == (404, EVENT_NOT_FOUND)
    sale.refresh_from_db()
    assert sale.name == "Sale"


def test_deleting_an_event_without_conversions_takes_its_rules_along():
    net = network()
    sale = ConversionEventFactory(campaign=net.campaign1, code="sale")
    PricingRuleFactory(campaign=net.campaign1, event=sale)

    response = net.client_as("advertiser1").delete(f"/api/events/{sale.pk}")

    assert response.status_code == 204
    assert not ConversionEvent.objects.filter(pk=sale.pk).exists()
    assert not net.campaign1.pricing_rules.exists()


def test_deleting_an_event_with_conversions_or_the_default_event_is_a_conflict():
    net = network()
    sale = ConversionEventFactory(campaign=net.campaign1, code="sale")
    click = ClickFactory(link=net.link1)
    postback(net.key1, click_id=click.click_id, event="sale", payout="5")
    client = net.client_as("admin")

    in_use = client.delete(f"/api/events/{sale.pk}")
    default = client.delete(f"/api/events/{default_event(net.campaign1).pk}")

    assert (in_use.status_code, in_use.json()["code"]) == (409, "event_in_use")
    assert (default.status_code, default.json()["code"]) == (409, "default_event")
    assert ConversionEvent.objects.filter(campaign=net.campaign1).count() == 2


# --- an affiliate's payouts per event ---------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_an_affiliate_sees_its_own_payouts_per_event_never_another_affiliates():
    net = network()
    sale = ConversionEventFactory(
        campaign=net.campaign1, code="sale", name="Sale", payout_amount=2, default_revenue=50
    )
    own = PricingRuleFactory(
        campaign=net.campaign1, event=sale, affiliate=net.affiliate1, payout_amount=4
    )
    PricingRuleFactory(
        campaign=net.campaign1, event=sale, affiliate=net.affiliate1, country="GB", payout_amount=6
    )
    PricingRuleFactory(
        campaign=net.campaign1, event=sale, affiliate=net.affiliate2, payout_amount=40
    )
    PricingRuleFactory(
        campaign=net.campaign1, event=sale, payout_amount=9, ends_at=NOW - dt.timedelta(days=1)
    )

    mine = net.client_as("affiliate1").get(f"/api/campaigns/{net.campaign1.pk}").json()
    theirs = net.client_as("affiliate2").get(f"/api/campaigns/{net.campaign1.pk}").json()
    listed = net.client_as("affiliate1").get("/api/campaigns").json()["results"]

    default = {
        "code": "default",
        "name": "Conversion",
        "payout_type": "revshare",
        "payout_amount": "0.0000",
        "revshare_percent": "80.0000",
        "rule_id": None,
        "conditional": [],
    }
    assert mine["events"] == [
        default,
        {
            "code": "sale",
            "name": "Sale",
            "payout_type": "fixed",
            "payout_amount": "4.0000",
            "revshare_percent": "0.0000",
            "rule_id": own.pk,
            "conditional": [
                {
                    "condition": "GB",
                    "payout_type": "fixed",
                    "payout_amount": "6.0000",
                    "revshare_percent": "0.0000",
                }
            ],
        },
    ]
    assert theirs["events"][1]["payout_amount"] == "40.0000"
    assert theirs["events"][1]["conditional"] == []
    assert [row["events"] for row in listed if row["id"] == net.campaign1.pk] == [mine["events"]]
    assert "revenue" not in str(mine)
