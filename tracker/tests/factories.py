"""Tracker test helpers: the click factory; a postback world (one advertiser with a partner key,
an affiliate, and campaigns with their links and clicks); and a conversion reported the way a
partner reports one, through the real postback path."""

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import factory
from django.test import Client
from django.utils import timezone

from accounts.models import Advertiser, Affiliate
from accounts.tests.factories import AdvertiserFactory, AffiliateFactory
from campaigns.models import Campaign, PartnerKey, TrackingLink
from campaigns.tests.factories import CampaignFactory, PartnerKeyFactory, TrackingLinkFactory
from core import tokens
from tracker.models import Click, Conversion

# The partner key of the partner postback guide's examples, so their requests replay verbatim.
EXAMPLE_KEY = "abc123xyz"


class ClickFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Click

    link = factory.SubFactory(TrackingLinkFactory)
    affiliate = factory.SelfAttribute("link.affiliate")
    campaign = factory.SelfAttribute("link.campaign")
    click_id = factory.LazyFunction(tokens.new_click_id)
    created_at = factory.LazyFunction(timezone.now)
    ip = "203.0.113.10"
    user_agent = "Mozilla/5.0 (test)"


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


def postback_world(*, key: str = EXAMPLE_KEY, **key_fields: Any) -> PostbackWorld:
    advertiser = AdvertiserFactory()
    return PostbackWorld(
        advertiser=advertiser,
        partner_key=PartnerKeyFactory(advertiser=advertiser, key=key, **key_fields),
        affiliate=AffiliateFactory(),
    )


def postback(partner_key: PartnerKey, **params: Any) -> Conversion:
    """Report a conversion the way a partner does (`POST /api/track/postback`, JSON body)."""
    response = Client().post(
        "/api/track/postback",
        json.dumps(params),
        content_type="application/json",
        HTTP_X_POSTBACK_KEY=partner_key.key,
    )
    body = response.json()
    assert response.status_code == 200, body
    return Conversion.objects.get(pk=body["conversion_id"])


def reconciliation_world(*, key: str = EXAMPLE_KEY) -> PostbackWorld:
    """A revshare (80 %) campaign without hold and four conversions of ours, as the
    reconciliation fixture file (`fixtures/reconciliation/one_of_each.csv`) expects: T-MATCH
    approved 10.00, T-STATUS pending 20.00, T-AMOUNT approved 30.00, T-OURS approved 40.00
    (which the file lacks)."""
    world = postback_world(key=key)
    world.campaign(hold_days=0)
    for transaction_id, status, payout in (
        ("T-MATCH", "approved", "10.00"),
        ("T-STATUS", "pending", "20.00"),
        ("T-AMOUNT", "approved", "30.00"),
        ("T-OURS", "approved", "40.00"),
    ):
        click = world.click()
        postback(
            world.partner_key,
            click_id=click.click_id,
            transaction_id=transaction_id,
            status=status,
            payout=payout,
        )
    return world
