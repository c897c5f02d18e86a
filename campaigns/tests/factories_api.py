"""Helpers for API tests: a small network with two tenants of each kind, and a role table.

`network()` builds an admin, two approved advertisers (each with one campaign and one partner
key), two approved affiliates (each with a link, so traffic, on its own advertiser's campaign:
affiliate 1 on campaign 1, affiliate 2 on campaign 2), plus a pending advertiser and a pending
affiliate. Tests log in with `client_as(role)`.
"""

import datetime as dt
from dataclasses import dataclass

from rest_framework.test import APIClient

from accounts.models import Advertiser, Affiliate, ApprovalStatus, User
from accounts.tests.factories import AdminUserFactory, AdvertiserFactory, AffiliateFactory
from campaigns.models import Campaign, PartnerKey, TrackingLink
from campaigns.tests.factories import CampaignFactory, PartnerKeyFactory, TrackingLinkFactory


@dataclass
class Network:
    admin: User
    advertiser1: Advertiser
    advertiser2: Advertiser
    affiliate1: Affiliate
    affiliate2: Affiliate
    pending_advertiser: Advertiser
    pending_affiliate: Affiliate
    campaign1: Campaign
    campaign2: Campaign
    key1: PartnerKey
    key2: PartnerKey
    link1: TrackingLink
    link2: TrackingLink

    def user(self, role: str) -> User | None:
        """`anonymous`, `admin`, `advertiser1|2`, `affiliate1|2`, `pending_advertiser|affiliate`."""
        if role == "anonymous":
            return None
        if role == "admin":
            return self.admin
        return getattr(self, role).user

    def client_as(self, role: str) -> APIClient:
        client = APIClient()
        user = self.user(role)
        if user is not None:
            client.force_authenticate(user)
        return client


def network() -> Network:
    advertiser1 = AdvertiserFactory()
    advertiser2 = AdvertiserFactory()
    affiliate1 = AffiliateFactory()
    affiliate2 = AffiliateFactory()
    campaign1 = CampaignFactory(advertiser=advertiser1, name="Campaign one")
    campaign2 = CampaignFactory(advertiser=advertiser2, name="Campaign two")
    return Network(
        admin=AdminUserFactory(),
        advertiser1=advertiser1,
        advertiser2=advertiser2,
        affiliate1=affiliate1,
        affiliate2=affiliate2,
        pending_advertiser=AdvertiserFactory(status=ApprovalStatus.PENDING),
        pending_affiliate=AffiliateFactory(status=ApprovalStatus.PENDING),
        campaign1=campaign1,
        campaign2=campaign2,
        key1=PartnerKeyFactory(advertiser=advertiser1),
        key2=PartnerKeyFactory(advertiser=advertiser2),
        link1=TrackingLinkFactory(campaign=campaign1, affiliate=affiliate1),
        link2=TrackingLinkFactory(campaign=campaign2, affiliate=affiliate2),
    )


def iso(moment: dt.datetime | None) -> str | None:
    """A datetime as the API writes it (ISO 8601, UTC, `Z`)."""
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


NOT_AUTHENTICATED = {
    "status": "error",
    "code": "not_authenticated",
    "message": "Authentication credentials were not provided.",
}


def forbidden(message: str) -> dict[str, str]:
    return {"status": "error", "code": "permission_denied", "message": message}


ANY_ROLE_FORBIDDEN = forbidden(
    "Only network admins, approved advertisers and approved affiliates may do this."
)
ADMIN_OR_ADVERTISER_FORBIDDEN = forbidden(
    "Only network admins and approved advertisers may do this."
)
ADMIN_OR_AFFILIATE_FORBIDDEN = forbidden("Only network admins and approved affiliates may do this.")
AFFILIATE_FORBIDDEN = forbidden("Only approved affiliates may do this.")


def not_found(message: str) -> dict[str, str]:
    return {"status": "error", "code": "not_found", "message": message}
