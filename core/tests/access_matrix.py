"""The access matrix (GitHub issue 7): every URL pattern x method x role -> expected status.

`ROWS` is the table; `world_build()` makes the objects its paths point at. Two tenants of each
kind: advertiser A and B (each with a private campaign, an approval-only campaign, a partner key),
affiliate A and B (each with a link, a click, a conversion, an end user with points, a postback
endpoint with a failed delivery, a requested and an approved payout, a pending application).
A's objects carry `MARK-A` in their free-text fields and B's `MARK-B`, so a body that leaks the
other tenant's rows is caught by its text.

Every path names tenant A's object. So per row: `advertiser_a` / `affiliate_a` are the owners,
`advertiser_b` / `affiliate_b` the other tenant (404 when the role may use the endpoint at all),
`admin` sees everything, `anonymous` gets 401 unless the endpoint is public.
"""

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.test import Client
from django.utils import timezone

from accounts.models import ApprovalStatus, User
from accounts.tests.factories import (
    DEFAULT_PASSWORD,
    AdminUserFactory,
    AdvertiserFactory,
    AffiliateFactory,
)
from campaigns.models import AccessStatus, Visibility
from campaigns.tests.factories import (
    CampaignAccessFactory,
    CampaignFactory,
    PartnerKeyFactory,
    TrackingLinkFactory,
)
from payouts import services as payout_services
from payouts.tests.factories import conversion_approve
from tracker.models import DeliveryStatus
from tracker.tests.factories import ClickFactory
from tracker.tests.factories_api import postback
from tracker.tests.factories_forwarding import DeliveryFactory, PostbackEndpointFactory

ROLES = ("anonymous", "admin", "advertiser_a", "advertiser_b", "affiliate_a", "affiliate_b")


@dataclass
class World:
    users: dict[str, User | None]
    ids: dict[str, Any]
    # Free text that only tenant A's / B's objects carry (leak detection).
    markers: dict[str, str] = field(default_factory=lambda: {"a": "MARK-A", "b": "MARK-B"})


def _tenant(tag: str, *, admin: User, receiver_url: str) -> dict[str, Any]:
    """One advertiser and one affiliate with everything the API can show about them."""
    mark = f"MARK-{tag.upper()}"
    advertiser = AdvertiserFactory(company=f"{mark} advertiser")
    affiliate = AffiliateFactory(company=f"{mark} affiliate")
    campaign = CampaignFactory(
        advertiser=advertiser,
        name=f"{mark} private campaign",
        visibility=Visibility.PRIVATE,
        external_offer_id=f"{mark}-offer",
    )
    applied_to = CampaignFactory(
        advertiser=advertiser, name=f"Approval campaign {tag}", visibility=Visibility.APPROVAL
    )
    application = CampaignAccessFactory(
        campaign=applied_to, affiliate=affiliate, status=AccessStatus.PENDING
    )
    key = PartnerKeyFactory(advertiser=advertiser, name=f"{mark} key")
    link = TrackingLinkFactory(campaign=campaign, affiliate=affiliate)
    click = ClickFactory(link=link, sub1=f"{mark}-sub", user_id=f"{mark}-player")
    conversion = postback(key, click_id=click.click_id, payout="5.00", transaction_id=f"{mark}-txn")
    endpoint = PostbackEndpointFactory(affiliate=affiliate, url=receiver_url, name=f"{mark} hook")
    delivery = DeliveryFactory(
        endpoint=endpoint, status=DeliveryStatus.FAILED, attempt_count=8, next_attempt_at=None
    )
    # Ledger money for the payouts (no conversion row: the ledger references ids only).
    conversion_approve(affiliate=affiliate, advertiser=advertiser, payout=Decimal("500"))
    payout = payout_services.payout_request_create(affiliate=affiliate, amount="60", currency="USD")
    approved_payout = payout_services.payout_request_create(
        affiliate=affiliate, amount="70", currency="USD"
    )
    payout_services.payout_approve(payout=approved_payout, actor=admin)
    return {
        "advertiser": advertiser.pk,
        "affiliate": affiliate.pk,
        "affiliate_email": affiliate.user.email,
        "campaign": campaign.pk,
        "applied_campaign": applied_to.pk,
        "application": application.pk,
        "access": link.campaign.accesses.get(affiliate=affiliate).pk,
        "key": key.pk,
        "key_secret": key.key,
        "link_token": link.token,
        "click": click.pk,
        "click_id": click.click_id,
        "player": click.user_id,
        "conversion": conversion.pk,
        "endpoint": endpoint.pk,
        "delivery": delivery.pk,
        "payout": payout.pk,
        "approved_payout": approved_payout.pk,
        "advertiser_user": advertiser.user,
        "affiliate_user": affiliate.user,
    }


def _refresh_token(email: str) -> str:
    response = Client().post(
        "/api/auth/login",
        json.dumps({"email": email, "password": DEFAULT_PASSWORD}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()["refresh"]


def world_build(*, receiver_url: str) -> World:
    admin = AdminUserFactory()
    a = _tenant("a", admin=admin, receiver_url=receiver_url)
    b = _tenant("b", admin=admin, receiver_url=receiver_url)
    # An open campaign nobody has applied to (applying is the affiliate's own act, no tenant).
    public = CampaignFactory(advertiser_id=a["advertiser"], visibility=Visibility.PUBLIC)
    pending_affiliate = AffiliateFactory(status=ApprovalStatus.PENDING)
    pending_advertiser = AdvertiserFactory(status=ApprovalStatus.PENDING)
    ids: dict[str, Any] = {f"{k}_{tag}": v for tag, t in (("a", a), ("b", b)) for k, v in t.items()}
    ids.update(
        public_campaign=public.pk,
        pending_affiliate=pending_affiliate.pk,
        pending_advertiser=pending_advertiser.pk,
        refresh_a=_refresh_token(a["affiliate_email"]),
        receiver_url=receiver_url,
        now=timezone.now().date().isoformat(),
    )
    users = {
        "anonymous": None,
        "admin": admin,
        "advertiser_a": a["advertiser_user"],
        "advertiser_b": b["advertiser_user"],
        "affiliate_a": a["affiliate_user"],
        "affiliate_b": b["affiliate_user"],
    }
    return World(users=users, ids=ids)


@dataclass(frozen=True)
class Row:
    """One (route, method): the request to make and the status each role must get."""

    route: str
    method: str
    path: str
    expect: dict[str, int]
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    note: str = ""


def expect(
    anonymous: int,
    admin: int,
    advertiser_a: int,
    advertiser_b: int,
    affiliate_a: int,
    affiliate_b: int,
) -> dict[str, int]:
    return {
        "anonymous": anonymous,
        "admin": admin,
        "advertiser_a": advertiser_a,
        "advertiser_b": advertiser_b,
        "affiliate_a": affiliate_a,
        "affiliate_b": affiliate_b,
    }


def everyone(code: int) -> dict[str, int]:
    return expect(code, code, code, code, code, code)


ROWS: list[Row] = []

# Who may call what, in the shapes the permission classes give.
ANY_USER = expect(401, 200, 200, 200, 200, 200)
ADMIN_ONLY = expect(401, 200, 403, 403, 403, 403)
APPROVED_ROLES = expect(401, 200, 200, 200, 200, 200)
ADMIN_OR_ADVERTISER = expect(401, 200, 200, 200, 403, 403)
ADMIN_OR_AFFILIATE = expect(401, 200, 403, 403, 200, 200)
# A's object: the owner and the admin may, the other tenant gets 404, other roles 403.
ADVERTISER_A_OBJECT = expect(401, 200, 200, 404, 403, 403)
AFFILIATE_A_OBJECT = expect(401, 200, 403, 403, 200, 404)
# Traffic both A's advertiser and A's affiliate see (a conversion, an affiliate's clicks).
TRAFFIC_A = expect(401, 200, 200, 404, 200, 404)

ROWS += [
    # --- site --------------------------------------------------------------------------------
    Row("healthz", "GET", "/healthz", everyone(200)),
    Row("bench/trivial", "GET", "/bench/trivial", everyone(200)),
    Row("api/schema/", "GET", "/api/schema/", everyone(200)),
    Row("api/docs/", "GET", "/api/docs/", everyone(200)),
    # --- auth (public: no authentication classes, the role of the caller does not matter) ----
    Row(
        "api/auth/register",
        "POST",
        "/api/auth/register",
        everyone(201),
        body={
            "email": "new@example.test",
            "password": "A-long-enough passphrase 42",
            "role": "affiliate",
            "name": "New",
        },
    ),
    Row(
        "api/auth/login",
        "POST",
        "/api/auth/login",
        everyone(200),
        body={"email": "{affiliate_email_a}", "password": DEFAULT_PASSWORD},
    ),
    Row(
        "api/auth/refresh",
        "POST",
        "/api/auth/refresh",
        everyone(200),
        body={"refresh": "{refresh_a}"},
    ),
    Row(
        "api/auth/logout",
        "POST",
        "/api/auth/logout",
        everyone(204),
        body={"refresh": "{refresh_a}"},
    ),
    Row("api/auth/me", "GET", "/api/auth/me", ANY_USER),
    # --- partners (admin) ----------------------------------------------------------------------
    Row("api/affiliates", "GET", "/api/affiliates", ADMIN_ONLY),
    Row(
        "api/affiliates/<int:affiliate_id>",
        "GET",
        "/api/affiliates/{affiliate_a}",
        AFFILIATE_A_OBJECT,
    ),
    Row(
        "api/affiliates/<int:partner_id>/approve",
        "POST",
        "/api/affiliates/{pending_affiliate}/approve",
        ADMIN_ONLY,
    ),
    Row(
        "api/affiliates/<int:partner_id>/reject",
        "POST",
        "/api/affiliates/{pending_affiliate}/reject",
        ADMIN_ONLY,
    ),
    Row(
        "api/affiliates/<int:partner_id>/suspend",
        "POST",
        "/api/affiliates/{affiliate_a}/suspend",
        ADMIN_ONLY,
    ),
    Row("api/advertisers", "GET", "/api/advertisers", ADMIN_ONLY),
    Row(
        "api/advertisers/<int:advertiser_id>",
        "GET",
        "/api/advertisers/{advertiser_a}",
        ADVERTISER_A_OBJECT,
    ),
    Row(
        "api/advertisers/<int:partner_id>/approve",
        "POST",
        "/api/advertisers/{pending_advertiser}/approve",
        ADMIN_ONLY,
    ),
    Row(
        "api/advertisers/<int:partner_id>/reject",
        "POST",
        "/api/advertisers/{pending_advertiser}/reject",
        ADMIN_ONLY,
    ),
    Row(
        "api/advertisers/<int:partner_id>/suspend",
        "POST",
        "/api/advertisers/{advertiser_a}/suspend",
        ADMIN_ONLY,
    ),
    # --- campaigns -----------------------------------------------------------------------------
    Row("api/campaigns", "GET", "/api/campaigns", APPROVED_ROLES),
    Row(
        "api/campaigns",
        "POST",
        "/api/campaigns",
        expect(401, 201, 201, 400, 403, 403),
        body={
            "name": "New campaign",
            "landing_url": "https://adv.example/land?cid={{click_id}}",
            "payout_type": "revshare",
            "revshare_percent": "80",
            "advertiser_id": "{advertiser_a}",
        },
        note="advertiser B naming A's advertiser_id: 400 invalid_advertiser",
    ),
    Row(
        "api/campaigns/<int:campaign_id>",
        "GET",
        "/api/campaigns/{campaign_a}",
        TRAFFIC_A,
        note="a private campaign: only affiliates with access see it",
    ),
    Row(
        "api/campaigns/<int:campaign_id>",
        "PATCH",
        "/api/campaigns/{campaign_a}",
        ADVERTISER_A_OBJECT,
        body={"description": "changed"},
    ),
    Row(
        "api/campaigns/<int:campaign_id>/pause",
        "POST",
        "/api/campaigns/{campaign_a}/pause",
        ADVERTISER_A_OBJECT,
    ),
    Row(
        "api/campaigns/<int:campaign_id>/resume",
        "POST",
        "/api/campaigns/{campaign_a}/resume",
        ADVERTISER_A_OBJECT,
    ),
    Row(
        "api/campaigns/<int:campaign_id>/archive",
        "POST",
        "/api/campaigns/{campaign_a}/archive",
        ADVERTISER_A_OBJECT,
    ),
    Row(
        "api/campaigns/<int:campaign_id>/apply",
        "POST",
        "/api/campaigns/{public_campaign}/apply",
        expect(401, 403, 403, 403, 200, 200),
    ),
    Row(
        "api/campaigns/<int:campaign_id>/link",
        "GET",
        "/api/campaigns/{campaign_a}/link",
        expect(401, 403, 403, 403, 200, 404),
    ),
    Row("api/applications", "GET", "/api/applications", APPROVED_ROLES),
    Row(
        "api/applications/<int:application_id>/approve",
        "POST",
        "/api/applications/{application_a}/approve",
        ADVERTISER_A_OBJECT,
    ),
    Row(
        "api/applications/<int:application_id>/reject",
        "POST",
        "/api/applications/{application_a}/reject",
        ADVERTISER_A_OBJECT,
    ),
    Row(
        "api/applications/<int:application_id>/revoke",
        "POST",
        "/api/applications/{access_a}/revoke",
        ADVERTISER_A_OBJECT,
    ),
    Row("api/partner-keys", "GET", "/api/partner-keys", ADMIN_OR_ADVERTISER),
    Row(
        "api/partner-keys",
        "POST",
        "/api/partner-keys",
        expect(401, 201, 201, 400, 403, 403),
        body={"name": "Another key", "advertiser_id": "{advertiser_a}"},
    ),
    Row(
        "api/partner-keys/<int:partner_key_id>",
        "PATCH",
        "/api/partner-keys/{key_a}",
        ADVERTISER_A_OBJECT,
        body={"is_active": False},
    ),
    Row(
        "api/partner-keys/<int:partner_key_id>/rotate",
        "POST",
        "/api/partner-keys/{key_a}/rotate",
        ADVERTISER_A_OBJECT,
    ),
    # --- payouts -------------------------------------------------------------------------------
    Row("api/balance", "GET", "/api/balance?affiliate_id={affiliate_a}", AFFILIATE_A_OBJECT),
    Row("api/payouts", "GET", "/api/payouts", ADMIN_OR_AFFILIATE),
    Row(
        "api/payouts",
        "POST",
        "/api/payouts",
        expect(401, 403, 403, 403, 201, 201),
        body={"amount": "50", "currency": "USD"},
    ),
    Row("api/payouts/export.csv", "GET", "/api/payouts/export.csv", ADMIN_OR_AFFILIATE),
    Row(
        "api/payouts/<int:payout_id>",
        "GET",
        "/api/payouts/{payout_a}",
        AFFILIATE_A_OBJECT,
    ),
    Row(
        "api/payouts/approve/<int:payout_id>",
        "POST",
        "/api/payouts/approve/{payout_a}",
        ADMIN_ONLY,
    ),
    Row(
        "api/payouts/<int:payout_id>/approve",
        "POST",
        "/api/payouts/{payout_a}/approve",
        ADMIN_ONLY,
    ),
    Row(
        "api/payouts/<int:payout_id>/reject",
        "POST",
        "/api/payouts/{payout_a}/reject",
        ADMIN_ONLY,
        body={"reason": "no"},
    ),
    Row(
        "api/payouts/<int:payout_id>/mark-paid",
        "POST",
        "/api/payouts/{approved_payout_a}/mark-paid",
        ADMIN_ONLY,
        body={"reference": "wire-1"},
    ),
    Row(
        "api/statement.csv",
        "GET",
        "/api/statement.csv?currency=USD&affiliate_id={affiliate_a}",
        AFFILIATE_A_OBJECT,
    ),
    # --- traffic -------------------------------------------------------------------------------
    Row("api/clicks", "GET", "/api/clicks", APPROVED_ROLES),
    Row("api/conversions", "GET", "/api/conversions", APPROVED_ROLES),
    Row(
        "api/conversions/<int:conversion_id>",
        "GET",
        "/api/conversions/{conversion_a}",
        TRAFFIC_A,
    ),
    Row(
        "api/conversions/<int:conversion_id>/status",
        "POST",
        "/api/conversions/{conversion_a}/status",
        ADVERTISER_A_OBJECT,
        body={"status": "rejected", "reason": "fraud"},
    ),
    Row("api/points", "GET", "/api/points", ADMIN_OR_AFFILIATE),
    # --- forwarding ----------------------------------------------------------------------------
    Row("api/postback-endpoints", "GET", "/api/postback-endpoints", ADMIN_OR_AFFILIATE),
    Row(
        "api/postback-endpoints",
        "POST",
        "/api/postback-endpoints",
        expect(401, 201, 403, 403, 201, 400),
        body={"url": "{receiver_url}", "affiliate_id": "{affiliate_a}"},
    ),
    Row(
        "api/postback-endpoints/<int:endpoint_id>",
        "PATCH",
        "/api/postback-endpoints/{endpoint_a}",
        AFFILIATE_A_OBJECT,
        body={"is_active": True},
    ),
    Row(
        "api/postback-endpoints/<int:endpoint_id>",
        "DELETE",
        "/api/postback-endpoints/{endpoint_a}",
        expect(401, 204, 403, 403, 204, 404),
    ),
    Row(
        "api/postback-endpoints/<int:endpoint_id>/test",
        "POST",
        "/api/postback-endpoints/{endpoint_a}/test",
        AFFILIATE_A_OBJECT,
    ),
    Row(
        "api/postback-endpoints/<int:endpoint_id>/rotate-secret",
        "POST",
        "/api/postback-endpoints/{endpoint_a}/rotate-secret",
        AFFILIATE_A_OBJECT,
    ),
    Row("api/deliveries", "GET", "/api/deliveries", ADMIN_OR_AFFILIATE),
    Row(
        "api/deliveries/<int:delivery_id>/replay",
        "POST",
        "/api/deliveries/{delivery_a}/replay",
        AFFILIATE_A_OBJECT,
    ),
    # --- reports -------------------------------------------------------------------------------
    Row("api/reports", "GET", "/api/reports", APPROVED_ROLES),
    Row(
        "api/analytics/campaign/<int:campaign_id>",
        "GET",
        "/api/analytics/campaign/{campaign_a}",
        ADVERTISER_A_OBJECT,
    ),
    # --- seeds 000/001 listings (login required, scoped) --------------------------------------
    Row("clicks", "GET", "/clicks", APPROVED_ROLES),
    Row("conversions", "GET", "/conversions", APPROVED_ROLES),
    Row(
        "affiliates/<int:affiliate_id>/clicks",
        "GET",
        "/affiliates/{affiliate_a}/clicks",
        TRAFFIC_A,
    ),
    Row(
        "affiliates/<int:affiliate_id>/conversions",
        "GET",
        "/affiliates/{affiliate_a}/conversions",
        TRAFFIC_A,
    ),
    # --- tracking (public: a visitor's browser and partners' servers) --------------------------
    Row("c/<str:token>", "GET", "/c/{link_token_a}", everyone(302)),
    Row("api/track/click/<str:token>", "GET", "/api/track/click/{link_token_a}", everyone(302)),
    Row(
        "click",
        "GET",
        "/click?affiliate_id={affiliate_a}&campaign_id={campaign_a}",
        everyone(200),
    ),
    Row(
        "^postback/(?P<key>[^/]+)/?$",
        "GET",
        "/postback/{key_secret_a}?click_id={click_id_a}&payout=1",
        everyone(200),
    ),
    Row(
        "^postback/(?P<key>[^/]+)/?$",
        "POST",
        "/postback/{key_secret_a}",
        everyone(200),
        body={"click_id": "{click_id_a}", "payout": "1"},
    ),
    Row(
        "postback",
        "GET",
        "/postback?affiliate_id={affiliate_a}&click_id={click_id_a}&amount=1&currency=USD",
        everyone(200),
    ),
    Row(
        "api/track/postback",
        "POST",
        "/api/track/postback",
        everyone(200),
        body={"click_id": "{click_id_a}", "payout": "1"},
        headers={"HTTP_X_POSTBACK_KEY": "{key_secret_a}"},
    ),
    Row("api/analytics/postback/test", "GET", "/api/analytics/postback/test", everyone(200)),
]

# Patterns the matrix deliberately leaves out, with the reason.
EXCLUDED_PREFIXES = {
    "admin/": "Django admin: staff-session HTML with its own permission model "
    "(covered by */tests/test_admin.py), not part of the API contract",
    # TODO(portal): rows for the server-rendered portal once it has landed (it was being built
    # while this table was written); its pages redirect anonymous visitors to the login page.
    "portal/": "server-rendered portal (HTML, session login): access tested in portal/tests",
}
