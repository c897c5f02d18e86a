"""`/api/campaigns`, `/api/campaigns/<id>` and its pause / resume / archive actions."""

from decimal import Decimal

import pytest

from accounts.tests.factories import AdvertiserFactory
from campaigns.models import (
    AccessStatus,
    Campaign,
    CampaignStatus,
    Cap,
    CapAction,
    CapMetric,
    CapPeriod,
    CapScope,
    Visibility,
)
from campaigns.tests.factories import CampaignAccessFactory, CampaignFactory, CapFactory, network
from core.models import AuditEntry
from core.tests.api_bodies import (
    ADMIN_OR_ADVERTISER_FORBIDDEN,
    ANY_ROLE_FORBIDDEN,
    NOT_AUTHENTICATED,
    iso,
    not_found,
)

pytestmark = pytest.mark.django_db

CAMPAIGN_NOT_FOUND = not_found("Campaign not found.")


def owner_body(campaign: Campaign, **changes) -> dict:
    campaign.refresh_from_db()
    body = {
        "id": campaign.pk,
        "advertiser_id": campaign.advertiser_id,
        "name": campaign.name,
        "description": "",
        "landing_url": "https://advertiser.example/landing?cid={click_id}&aff={affiliate_id}",
        "fallback_url": "https://advertiser.example/fallback",
        "status": "active",
        "currency": "USD",
        "payout_type": "revshare",
        "payout_amount": "0.0000",
        "revshare_percent": "80.0000",
        "default_revenue": "0.0000",
        "visibility": "public",
        "external_offer_id": "",
        "attribution_window_hours": 720,
        "hold_days": 0,
        "auto_approve_after_hours": None,
        "allow_multiple_conversions": False,
        "timezone": "UTC",
        "allowed_countries": [],
        "targeting": {},
        "targeting_summary": "everyone, any time",
        "caps": [],
        "created_at": iso(campaign.created_at),
        "updated_at": iso(campaign.updated_at),
        "fraud_policy": {},
        "min_seconds_to_convert": 0,
    }
    body.update(changes)
    return body


def affiliate_body(campaign: Campaign, **changes) -> dict:
    body = {
        "id": campaign.pk,
        "name": campaign.name,
        "description": "",
        "status": "active",
        "currency": "USD",
        "payout_type": "revshare",
        "payout_amount": "0.0000",
        "revshare_percent": "80.0000",
        "visibility": "public",
        "attribution_window_hours": 720,
        "hold_days": 0,
        "allowed_countries": [],
        "targeting_summary": "everyone, any time",
        "caps": [],
        "access_status": None,
        "access_invited_at": None,
        # The default event, on the campaign's own terms (no pricing rule).
        "events": [
            {
                "code": "default",
                "name": "Conversion",
                "payout_type": "revshare",
                "payout_amount": "0.0000",
                "revshare_percent": "80.0000",
                "rule_id": None,
                "conditional": [],
            }
        ],
        "created_at": iso(campaign.created_at),
    }
    body.update(changes)
    return body


def page(results: list) -> dict:
    return {"count": len(results), "next": None, "previous": None, "results": results}


# --- list -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status_code", "expected"),
    [
        ("anonymous", 401, NOT_AUTHENTICATED),
        ("pending_advertiser", 403, ANY_ROLE_FORBIDDEN),
        ("pending_affiliate", 403, ANY_ROLE_FORBIDDEN),
    ],
)
def test_campaign_list_refuses_anonymous_and_unapproved(role, status_code, expected):
    net = network()

    response = net.client_as(role).get("/api/campaigns")

    assert response.status_code == status_code
    assert response.json() == expected


def test_campaign_list_scopes_by_role():
    net = network()
    CampaignFactory(advertiser=net.advertiser2, visibility=Visibility.PRIVATE)

    ids = {
        role: [row["id"] for row in net.client_as(role).get("/api/campaigns").json()["results"]]
        for role in ("admin", "advertiser1", "advertiser2", "affiliate1")
    }

    private = Campaign.objects.get(visibility=Visibility.PRIVATE)
    assert ids == {
        "admin": [private.pk, net.campaign2.pk, net.campaign1.pk],
        "advertiser1": [net.campaign1.pk],
        "advertiser2": [private.pk, net.campaign2.pk],
        "affiliate1": [net.campaign2.pk, net.campaign1.pk],
    }


def test_campaign_list_owner_gets_every_field_with_caps():
    net = network()
    CapFactory(
        campaign=net.campaign1,
        scope=CapScope.AFFILIATE,
        period=CapPeriod.DAY,
        metric=CapMetric.CONVERSIONS,
        limit=Decimal("25"),
    )

    response = net.client_as("advertiser1").get("/api/campaigns")

    assert response.status_code == 200
    assert response.json() == page(
        [
            owner_body(
                net.campaign1,
                caps=[
                    {
                        "scope": "affiliate",
                        "period": "day",
                        "metric": "conversions",
                        "limit": "25.0000",
                        "action": "reject",
                    }
                ],
            )
        ]
    )


def test_campaign_list_affiliate_view_has_no_revenue_or_advertiser_setup():
    net = network()
    approval = CampaignFactory(advertiser=net.advertiser2, visibility=Visibility.APPROVAL)
    CampaignAccessFactory(campaign=approval, affiliate=net.affiliate1, status=AccessStatus.PENDING)

    response = net.client_as("affiliate1").get("/api/campaigns")

    assert response.status_code == 200
    assert response.json() == page(
        [
            affiliate_body(approval, visibility="approval", access_status="pending"),
            affiliate_body(net.campaign2),
            affiliate_body(net.campaign1, access_status="approved"),
        ]
    )


def test_campaign_list_filters_and_orders():
    net = network()
    paused = CampaignFactory(
        advertiser=net.advertiser1, name="Summer sale", status=CampaignStatus.PAUSED
    )
    client = net.client_as("admin")

    by_status = client.get("/api/campaigns", {"status": "paused"}).json()["results"]
    by_search = client.get("/api/campaigns", {"search": "summer"}).json()["results"]
    by_advertiser = client.get(
        "/api/campaigns", {"advertiser": net.advertiser1.pk, "ordering": "id"}
    ).json()["results"]

    assert [row["id"] for row in by_status] == [paused.pk]
    assert [row["id"] for row in by_search] == [paused.pk]
    assert [row["id"] for row in by_advertiser] == [net.campaign1.pk, paused.pk]


def test_campaign_list_rejects_a_bad_filter_value():
    net = network()

    response = net.client_as("admin").get("/api/campaigns", {"status": "sleeping"})

    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "code": "invalid",
        "message": "The request has invalid fields.",
        "fields": {
            "status": ["Select a valid choice. sleeping is not one of the available choices."]
        },
    }


@pytest.mark.parametrize("role", ["admin", "advertiser1", "affiliate1"])
def test_campaign_list_queries_do_not_grow_with_rows(role, django_assert_max_num_queries):
    net = network()
    for _ in range(2):
        CapFactory(campaign=CampaignFactory(advertiser=net.advertiser1), period=CapPeriod.WEEK)
    client = net.client_as(role)
    # Affiliates: two more for the page's events and the pricing rules that may pay them.
    with django_assert_max_num_queries(8 if role == "affiliate1" else 6) as few:
        client.get("/api/campaigns")
    baseline = len(few.captured_queries)
    for _ in range(8):
        CapFactory(campaign=CampaignFactory(advertiser=net.advertiser1), period=CapPeriod.WEEK)

    with django_assert_max_num_queries(baseline):
        response = client.get("/api/campaigns")

    assert response.status_code == 200
    assert response.json()["count"] >= 10


# --- create -----------------------------------------------------------------------------------

FULL_PAYLOAD = {
    "name": "Survey wall",
    "description": "Surveys for US users",
    "landing_url": "https://adv.example/go?c={click_id}&s={sub1}",
    "fallback_url": "https://adv.example/sorry",
    "status": "paused",
    "currency": "eur",
    "payout_type": "fixed",
    "payout_amount": "2.5",
    "default_revenue": 4,
    "visibility": "approval",
    "external_offer_id": "OFFER-7",
    "attribution_window_hours": 48,
    "hold_days": 7,
    "auto_approve_after_hours": 72,
    "allow_multiple_conversions": True,
    "timezone": "Europe/Berlin",
    "allowed_countries": ["us", "CA"],
    "caps": [
        {"period": "day", "limit": "100"},
        {"scope": "affiliate", "period": "month", "metric": "payout", "limit": "250.50"},
    ],
}


def test_advertiser_creates_a_campaign_with_caps():
    net = network()

    response = net.client_as("advertiser1").post("/api/campaigns", FULL_PAYLOAD, format="json")

    assert response.status_code == 201
    campaign = Campaign.objects.get(name="Survey wall")
    assert response.json() == {
        "id": campaign.pk,
        "advertiser_id": net.advertiser1.pk,
        "name": "Survey wall",
        "description": "Surveys for US users",
        "landing_url": "https://adv.example/go?c={click_id}&s={sub1}",
        "fallback_url": "https://adv.example/sorry",
        "status": "paused",
        "currency": "EUR",
        "payout_type": "fixed",
        "payout_amount": "2.5000",
        "revshare_percent": "0.0000",
        "default_revenue": "4.0000",
        "visibility": "approval",
        "external_offer_id": "OFFER-7",
        "attribution_window_hours": 48,
        "hold_days": 7,
        "auto_approve_after_hours": 72,
        "allow_multiple_conversions": True,
        "timezone": "Europe/Berlin",
        "allowed_countries": ["US", "CA"],
        "targeting": {},
        "targeting_summary": "everyone, any time",
        "caps": [
            {
                "scope": "campaign",
                "period": "day",
                "metric": "conversions",
                "limit": "100.0000",
                "action": "reject",
            },
            {
                "scope": "affiliate",
                "period": "month",
                "metric": "payout",
                "limit": "250.5000",
                "action": "reject",
            },
        ],
        "created_at": iso(campaign.created_at),
        "updated_at": iso(campaign.updated_at),
        "fraud_policy": {},
        "min_seconds_to_convert": 0,
    }
    assert list(
        Cap.objects.filter(campaign=campaign).values_list("scope", "period", "metric", "limit")
    ) == [
        ("campaign", "day", "conversions", Decimal("100.0000")),
        ("affiliate", "month", "payout", Decimal("250.5000")),
    ]


def test_admin_creates_a_campaign_for_a_named_advertiser():
    net = network()
    payload = {"name": "Admin made", "landing_url": "https://a.example", "payout_type": "fixed"}
    client = net.client_as("admin")

    missing = client.post("/api/campaigns", payload, format="json")
    unknown = client.post("/api/campaigns", {**payload, "advertiser_id": 999999}, format="json")
    created = client.post(
        "/api/campaigns", {**payload, "advertiser_id": net.advertiser2.pk}, format="json"
    )

    assert missing.status_code == 400
    assert missing.json() == {
        "status": "error",
        "code": "missing_advertiser_id",
        "message": "Admins must name the advertiser.",
        "fields": {"advertiser_id": ["This field is required for admins."]},
    }
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "invalid_advertiser"
    assert created.status_code == 201
    assert created.json()["advertiser_id"] == net.advertiser2.pk
    assert list(Campaign.objects.filter(name="Admin made").values_list("advertiser_id")) == [
        (net.advertiser2.pk,)
    ]


def test_advertiser_cannot_create_for_another_advertiser():
    net = network()
    payload = {
        "name": "Hijack",
        "landing_url": "https://a.example",
        "payout_type": "fixed",
        "advertiser_id": net.advertiser2.pk,
    }

    response = net.client_as("advertiser1").post("/api/campaigns", payload, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "code": "invalid_advertiser",
        "message": "Unknown advertiser.",
        "fields": {"advertiser_id": ["Unknown advertiser."]},
    }
    assert not Campaign.objects.filter(name="Hijack").exists()


@pytest.mark.parametrize(
    ("role", "status_code", "expected"),
    [
        ("anonymous", 401, NOT_AUTHENTICATED),
        ("affiliate1", 403, ADMIN_OR_ADVERTISER_FORBIDDEN),
        ("pending_advertiser", 403, ADMIN_OR_ADVERTISER_FORBIDDEN),
    ],
)
def test_campaign_create_refused_roles_create_nothing(role, status_code, expected):
    net = network()
    payload = {"name": "Nope", "landing_url": "https://a.example", "payout_type": "fixed"}

    response = net.client_as(role).post("/api/campaigns", payload, format="json")

    assert response.status_code == status_code
    assert response.json() == expected
    assert Campaign.objects.count() == 2


def test_campaign_create_reports_service_rules_with_their_code():
    net = network()
    client = net.client_as("advertiser1")

    revshare = client.post(
        "/api/campaigns",
        {"name": "R", "landing_url": "https://a.example", "payout_type": "revshare"},
        format="json",
    )
    macro = client.post(
        "/api/campaigns",
        {"name": "M", "landing_url": "https://a.example/?x={secret}", "payout_type": "fixed"},
        format="json",
    )

    assert revshare.status_code == 400
    assert revshare.json() == {
        "status": "error",
        "code": "invalid_revshare_percent",
        "message": "A revenue share needs a percentage above 0 and at most 100.",
        "fields": {
            "revshare_percent": ["A revenue share needs a percentage above 0 and at most 100."]
        },
    }
    assert macro.status_code == 400
    assert macro.json()["code"] == "invalid_landing_url"
    assert "secret" in macro.json()["fields"]["landing_url"][0]
    assert Campaign.objects.count() == 2


def test_campaign_create_rejects_malformed_types():
    net = network()

    response = net.client_as("advertiser1").post(
        "/api/campaigns",
        {
            "name": "T",
            "landing_url": "https://a.example",
            "payout_type": "fixed",
            "payout_amount": "1.23456",
            "caps": [{"limit": "5"}],
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "code": "invalid",
        "message": "The request has invalid fields.",
        "fields": {
            "payout_amount": ["Ensure that there are no more than 4 decimal places."],
            "caps": {"0": {"period": ["This field is required."]}},
        },
    }


_PLAIN = "Enter a plain decimal such as 12.50 ({})."
_AT_LEAST_0 = "Ensure this value is greater than or equal to 0."


@pytest.mark.parametrize(
    ("field", "raw", "message"),
    [
        ("payout_amount", "1_000", _PLAIN.format("not a decimal")),
        ("payout_amount", "\u0661\u0660\u0660", _PLAIN.format("not a decimal")),
        ("payout_amount", "1E+2", _PLAIN.format("not a decimal")),
        ("payout_amount", "+5", _PLAIN.format("a sign is not accepted")),
        ("payout_amount", "-0", _AT_LEAST_0),
        ("default_revenue", ".5", _PLAIN.format("digits are needed on both sides of the point")),
        ("default_revenue", "-0.00", _AT_LEAST_0),
        ("revshare_percent", "5E+1", _PLAIN.format("not a decimal")),
        ("revshare_percent", "-0", _AT_LEAST_0),
    ],
)
def test_campaign_create_reads_amounts_as_plain_decimals_only(field, raw, message):
    net = network()
    payload = {"name": "T", "landing_url": "https://a.example", "payout_type": "fixed", field: raw}

    response = net.client_as("advertiser1").post("/api/campaigns", payload, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "code": "invalid",
        "message": "The request has invalid fields.",
        "fields": {field: [message]},
    }
    assert Campaign.objects.count() == 2


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("1_000", _PLAIN.format("not a decimal")),
        ("\u0661\u0660", _PLAIN.format("not a decimal")),
        ("1E+2", _PLAIN.format("not a decimal")),
        ("-0", _AT_LEAST_0),
    ],
)
def test_campaign_patch_reads_cap_limits_as_plain_decimals_only(raw, message):
    net = network()
    CapFactory(campaign=net.campaign1, period=CapPeriod.DAY, limit=Decimal("10"))

    response = net.client_as("advertiser1").patch(
        f"/api/campaigns/{net.campaign1.pk}",
        {"caps": [{"period": "day", "limit": raw}]},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["fields"] == {"caps": {"0": {"limit": [message]}}}
    assert list(Cap.objects.filter(campaign=net.campaign1).values_list("limit", flat=True)) == [
        Decimal("10.0000")
    ]


# --- detail and update ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status_code", "expected"),
    [
        ("anonymous", 401, NOT_AUTHENTICATED),
        ("pending_affiliate", 403, ANY_ROLE_FORBIDDEN),
        ("advertiser2", 404, CAMPAIGN_NOT_FOUND),
    ],
)
def test_campaign_detail_refusals(role, status_code, expected):
    net = network()

    response = net.client_as(role).get(f"/api/campaigns/{net.campaign1.pk}")

    assert response.status_code == status_code
    assert response.json() == expected


def test_campaign_detail_owner_admin_and_affiliate_views():
    net = network()
    url = f"/api/campaigns/{net.campaign1.pk}"

    owner = net.client_as("advertiser1").get(url)
    admin = net.client_as("admin").get(url)
    affiliate = net.client_as("affiliate1").get(url)
    stranger = net.client_as("affiliate2").get(url)

    assert owner.status_code == admin.status_code == 200
    assert owner.json() == admin.json() == owner_body(net.campaign1)
    assert affiliate.status_code == 200
    assert affiliate.json() == affiliate_body(net.campaign1, access_status="approved")
    assert stranger.status_code == 200
    assert stranger.json() == affiliate_body(net.campaign1)


def test_private_campaign_is_missing_for_an_affiliate_without_access():
    net = network()
    private = CampaignFactory(advertiser=net.advertiser1, visibility=Visibility.PRIVATE)

    response = net.client_as("affiliate2").get(f"/api/campaigns/{private.pk}")

    assert response.status_code == 404
    assert response.json() == CAMPAIGN_NOT_FOUND


def test_owner_patches_fields_and_replaces_caps():
    net = network()
    CapFactory(campaign=net.campaign1, period=CapPeriod.DAY, limit=Decimal("10"))

    response = net.client_as("advertiser1").patch(
        f"/api/campaigns/{net.campaign1.pk}",
        {
            "name": "Renamed",
            "default_revenue": "3.25",
            "caps": [
                {"period": "total", "metric": "payout", "limit": "999", "action": "block_clicks"}
            ],
        },
        format="json",
    )

    assert response.status_code == 200
    assert response.json() == owner_body(
        net.campaign1,
        name="Renamed",
        default_revenue="3.2500",
        caps=[
            {
                "scope": "campaign",
                "period": "total",
                "metric": "payout",
                "limit": "999.0000",
                "action": "block_clicks",
            }
        ],
    )
    assert list(Cap.objects.filter(campaign=net.campaign1).values_list("period", "action")) == [
        (CapPeriod.TOTAL, CapAction.BLOCK_CLICKS)
    ]


@pytest.mark.parametrize(
    ("role", "status_code", "expected"),
    [
        ("anonymous", 401, NOT_AUTHENTICATED),
        ("affiliate1", 403, ADMIN_OR_ADVERTISER_FORBIDDEN),
        ("advertiser2", 404, CAMPAIGN_NOT_FOUND),
    ],
)
def test_campaign_patch_refusals_change_nothing(role, status_code, expected):
    net = network()

    response = net.client_as(role).patch(
        f"/api/campaigns/{net.campaign1.pk}", {"name": "Stolen"}, format="json"
    )

    assert response.status_code == status_code
    assert response.json() == expected
    net.campaign1.refresh_from_db()
    assert net.campaign1.name == "Campaign one"


def test_admin_patches_any_campaign():
    net = network()

    response = net.client_as("admin").patch(
        f"/api/campaigns/{net.campaign2.pk}", {"hold_days": 14}, format="json"
    )

    assert response.status_code == 200
    assert response.json() == owner_body(net.campaign2, hold_days=14)


# --- pause / resume / archive -----------------------------------------------------------------


def test_owner_pauses_resumes_and_archives():
    net = network()
    client = net.client_as("advertiser1")
    base = f"/api/campaigns/{net.campaign1.pk}"

    paused = client.post(f"{base}/pause")
    paused_again = client.post(f"{base}/pause")
    resumed = client.post(f"{base}/resume")
    archived = client.post(f"{base}/archive")
    resumed_archived = client.post(f"{base}/resume")

    assert [r.status_code for r in (paused, paused_again, resumed, archived)] == [200] * 4
    assert [r.json()["status"] for r in (paused, paused_again, resumed, archived)] == [
        "paused",
        "paused",
        "active",
        "archived",
    ]
    assert archived.json() == owner_body(net.campaign1, status="archived")
    assert resumed_archived.status_code == 409
    assert resumed_archived.json() == {
        "status": "error",
        "code": "invalid_transition",
        "message": "A campaign cannot go from archived to active; archived is final.",
    }
    net.campaign1.refresh_from_db()
    assert net.campaign1.status == CampaignStatus.ARCHIVED


@pytest.mark.parametrize("action", ["pause", "resume", "archive"])
@pytest.mark.parametrize(
    ("role", "status_code", "expected"),
    [
        ("anonymous", 401, NOT_AUTHENTICATED),
        ("affiliate1", 403, ADMIN_OR_ADVERTISER_FORBIDDEN),
        ("advertiser2", 404, CAMPAIGN_NOT_FOUND),
    ],
)
def test_status_actions_refused_change_nothing(action, role, status_code, expected):
    net = network()
    net.campaign1.status = CampaignStatus.PAUSED
    net.campaign1.save(update_fields=["status"])

    response = net.client_as(role).post(f"/api/campaigns/{net.campaign1.pk}/{action}")

    assert response.status_code == status_code
    assert response.json() == expected
    net.campaign1.refresh_from_db()
    assert net.campaign1.status == CampaignStatus.PAUSED


def test_admin_pauses_any_campaign():
    net = network()

    response = net.client_as("admin").post(f"/api/campaigns/{net.campaign2.pk}/pause")

    assert response.status_code == 200
    assert response.json()["status"] == "paused"


def test_unknown_campaign_is_404_for_its_would_be_owner():
    net = network()
    other = AdvertiserFactory()
    missing_id = CampaignFactory(advertiser=other).pk + 1000

    response = net.client_as("advertiser1").post(f"/api/campaigns/{missing_id}/pause")

    assert response.status_code == 404
    assert response.json() == CAMPAIGN_NOT_FOUND


def test_targeting_is_validated_normalized_returned_and_audited():
    net = network()
    campaign = CampaignFactory(advertiser=net.advertiser1)
    client = net.client_as("advertiser1")

    refused = client.patch(
        f"/api/campaigns/{campaign.pk}",
        {"targeting": {"os": {"include": ["iOS"]}, "schedule": {"hours": [24]}}},
        format="json",
    )
    accepted = client.patch(
        f"/api/campaigns/{campaign.pk}",
        {
            "targeting": {
                "countries": {"include": ["us", "ca"]},
                "device_types": {"include": ["mobile"]},
                "os": {"include": ["ios", "Android"]},
                "ip_deny": ["203.0.113.7/24"],
                "schedule": {"days": [4, 3, 2, 1, 0], "hours": list(range(8, 20))},
            }
        },
        format="json",
    )

    assert refused.status_code == 400
    message = "targeting.schedule.hours: whole numbers from 0 to 23 only, got 24"
    assert refused.json() == {
        "status": "error",
        "code": "invalid_targeting",
        "message": message,
        "fields": {"targeting": [message]},
    }
    assert accepted.status_code == 200
    stored = {
        "countries": {"include": ["CA", "US"]},
        "device_types": {"include": ["mobile"]},
        "os": {"include": ["Android", "iOS"]},
        "ip_deny": ["203.0.113.0/24"],
        "schedule": {"days": [0, 1, 2, 3, 4], "hours": list(range(8, 20))},
    }
    assert accepted.json()["targeting"] == stored
    assert accepted.json()["targeting_summary"] == (
        "mobile Android/iOS in CA, US; weekdays 08\u201320 local; 1 range denied"
    )
    campaign.refresh_from_db()
    assert campaign.targeting == stored
    entry = AuditEntry.objects.filter(object_id=str(campaign.pk), action="update").get()
    assert entry.changes == {"targeting": [{}, stored]}
