"""A partner's whole journey, end to end through the HTTP API only: an advertiser and an
affiliate register and are approved, the advertiser creates a campaign, the affiliate gets a link,
a visitor clicks it, the partner posts the conversion back with a partner key, and both list it."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.tests.factories import AdminUserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "A-long-enough passphrase 42"


def logged_in(email: str) -> APIClient:
    client = APIClient()
    response = client.post("/api/auth/login", {"email": email, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.json()
    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    return bearer


def register(role: str, email: str) -> int:
    response = APIClient().post(
        "/api/auth/register",
        {"email": email, "password": PASSWORD, "role": role, "name": role.title()},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "pending"
    return response.json()["id"]


def test_register_to_conversion_flow_through_the_api():
    cache.clear()  # the auth endpoints' throttle counters live in the (per-process) cache
    admin = APIClient()
    admin.force_authenticate(AdminUserFactory())

    # register an advertiser and an affiliate; they wait for the admin
    advertiser_id = register("advertiser", "adv@example.test")
    affiliate_id = register("affiliate", "aff@example.test")
    advertiser = logged_in("adv@example.test")
    affiliate = logged_in("aff@example.test")
    assert advertiser.get("/api/campaigns").status_code == 403

    # the admin approves both
    assert admin.post(f"/api/advertisers/{advertiser_id}/approve").status_code == 200
    assert admin.post(f"/api/affiliates/{affiliate_id}/approve").status_code == 200

    # the advertiser creates a campaign and a partner key
    created = advertiser.post(
        "/api/campaigns",
        {
            "name": "Offerwall survey",
            "landing_url": "https://adv.example/land?cid={click_id}&aff={affiliate_id}",
            "payout_type": "revshare",
            "revshare_percent": "80",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    campaign_id = created.json()["id"]
    key = advertiser.post("/api/partner-keys", {"name": "Partner"}, format="json").json()["key"]

    # the affiliate gets its tracking link
    link = affiliate.get(f"/api/campaigns/{campaign_id}/link")
    assert link.status_code == 200
    link_id = link.json()["link_id"]
    assert link.json() == {
        "link_id": link_id,
        "url": f"http://testserver/c/{link_id}",
        "campaign_id": campaign_id,
    }

    # a visitor clicks; the landing URL carries the platform's click id
    click = APIClient().get(f"/api/track/click/{link_id}", {"sub1": "banner", "user_id": "u-7"})
    assert click.status_code == 302
    landing = parse_qs(urlsplit(click["Location"]).query)
    click_id = landing["cid"][0]
    assert landing["aff"] == [str(affiliate_id)]

    # the partner's server posts the conversion back
    posted = APIClient().post(
        "/api/track/postback",
        {"click_id": click_id, "payout": "5.00", "transaction_id": "TXN-1"},
        format="json",
        HTTP_X_POSTBACK_KEY=key,
    )
    assert posted.status_code == 200, posted.json()
    assert posted.json()["result"] == "created"
    conversion_id = posted.json()["conversion_id"]

    # the affiliate sees it with its payout (no revenue), the advertiser with the revenue (no
    # payout)
    mine = affiliate.get("/api/conversions").json()["results"]
    theirs = advertiser.get("/api/conversions").json()["results"]
    assert [
        (row["id"], row["click_id"], row["status"], row["payout"], row["sub1"], "revenue" in row)
        for row in mine
    ] == [(conversion_id, click_id, "approved", "4.0000", "banner", False)]
    assert [(row["id"], row["revenue"], "payout" in row) for row in theirs] == [
        (conversion_id, "5.0000", False)
    ]
    assert [
        (row["click_id"], row["campaign_id"])
        for row in affiliate.get("/api/clicks").json()["results"]
    ] == [(click_id, campaign_id)]
    points = affiliate.get("/api/points", {"user_id": "u-7"}).json()["results"]
    assert [(row["user_id"], row["points"]) for row in points] == [("u-7", "4.0000")]
    legacy = affiliate.get(f"/affiliates/{affiliate_id}/conversions").json()
    assert [(row["id"], row["amount"]) for row in legacy["data"]] == [(conversion_id, "4.0000")]
