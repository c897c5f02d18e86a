"""Helpers for postback tests: one advertiser with a partner key, campaigns, links and clicks."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone

from accounts.models import Advertiser, Affiliate
from accounts.tests.factories import AdvertiserFactory, AffiliateFactory
from campaigns.models import Campaign, PartnerKey, TrackingLink
from campaigns.tests.factories import CampaignFactory, PartnerKeyFactory, TrackingLinkFactory
from tracker.models import Click
from tracker.tests.factories import ClickFactory

SEED_KEY = "abc123xyz"


@dataclass
class PostbackWorld:
    advertiser: Advertiser
    partner_key: PartnerKey
    affiliate: Affiliate
    campaigns: dict[str, Campaign] = field(default_factory=dict)
    links: dict[str, TrackingLink] = field(default_factory=dict)

    def campaign(self, name: str = "main", **fields: Any) -> Campaign:
        defaults: dict[str, Any] = {
            "payout_type": "revshare",
            "revshare_percent": Decimal("80"),
            "payout_amount": Decimal("0"),
            "default_revenue": Decimal("0"),
            "currency": "USD",
        }
        defaults.update(fields)
        campaign = CampaignFactory(advertiser=self.advertiser, **defaults)
        self.campaigns[name] = campaign
        self.links[name] = TrackingLinkFactory(campaign=campaign, affiliate=self.affiliate)
        return campaign

    def click(
        self,
        campaign: str = "main",
        *,
        click_id: str | None = None,
        age: dt.timedelta = dt.timedelta(minutes=1),
        **fields: Any,
    ) -> Click:
        extra: dict[str, Any] = {"created_at": timezone.now() - age, **fields}
        if click_id is not None:
            extra["click_id"] = click_id
        return ClickFactory(link=self.links[campaign], **extra)

    @property
    def postback_path(self) -> str:
        return f"/postback/{self.partner_key.key}"


def postback_world(*, key: str = SEED_KEY, **key_fields: Any) -> PostbackWorld:
    advertiser = AdvertiserFactory()
    return PostbackWorld(
        advertiser=advertiser,
        partner_key=PartnerKeyFactory(advertiser=advertiser, key=key, **key_fields),
        affiliate=AffiliateFactory(),
    )
