"""Campaign test factories, and `network()`: a small network with two tenants of each kind.

`network()` builds an admin, two approved advertisers (each with one campaign and one partner
key), two approved affiliates (each with a link, so traffic, on its own advertiser's campaign:
affiliate 1 on campaign 1, affiliate 2 on campaign 2), plus a pending advertiser and a pending
affiliate. Tests log in with `client_as(role)`; the root conftest's `net` fixture builds one.
"""

from dataclasses import dataclass
from decimal import Decimal

import factory
from rest_framework.test import APIClient

from accounts.models import Advertiser, Affiliate, ApprovalStatus, User
from accounts.tests.factories import AdminUserFactory, AdvertiserFactory, AffiliateFactory
from campaigns.events import campaign_default_event_sync
from campaigns.models import (
    AccessStatus,
    Campaign,
    CampaignAccess,
    CampaignStatus,
    Cap,
    ConversionEvent,
    LandingPage,
    PartnerKey,
    PayoutType,
    PricingRule,
    SmartLink,
    SmartLinkEntry,
    TrackingLink,
    Visibility,
)
from core import tokens


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    advertiser = factory.SubFactory(AdvertiserFactory)
    name = factory.Sequence(lambda n: f"Campaign {n}")
    landing_url = "https://advertiser.example/landing?cid={click_id}&aff={affiliate_id}"
    fallback_url = "https://advertiser.example/fallback"
    status = CampaignStatus.ACTIVE
    currency = "USD"
    payout_type = PayoutType.REVSHARE
    payout_amount = Decimal("0")
    revshare_percent = Decimal("80")
    default_revenue = Decimal("0")
    visibility = Visibility.PUBLIC

    @factory.post_generation
    def default_event(obj, create, extracted, **kwargs):
        # Every campaign has its default event, as the campaign services make it.
        if create:
            campaign_default_event_sync(campaign=obj)


class ConversionEventFactory(factory.django.DjangoModelFactory):
    """A non-default event (the default one comes with its campaign)."""

    class Meta:
        model = ConversionEvent

    campaign = factory.SubFactory(CampaignFactory)
    code = factory.Sequence(lambda n: f"event-{n}")
    name = factory.Sequence(lambda n: f"Event {n}")
    payout_type = PayoutType.FIXED
    payout_amount = Decimal("2")
    default_revenue = Decimal("5")


class PricingRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PricingRule

    campaign = factory.SubFactory(CampaignFactory)
    payout_type = PayoutType.FIXED
    payout_amount = Decimal("3")


class CapFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cap

    campaign = factory.SubFactory(CampaignFactory)
    limit = Decimal("10")


class CampaignAccessFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CampaignAccess

    campaign = factory.SubFactory(CampaignFactory)
    affiliate = factory.SubFactory(AffiliateFactory)
    status = AccessStatus.APPROVED


class TrackingLinkFactory(factory.django.DjangoModelFactory):
    """A link with the approved access it implies."""

    class Meta:
        model = TrackingLink
        skip_postgeneration_save = True

    campaign = factory.SubFactory(CampaignFactory)
    affiliate = factory.SubFactory(AffiliateFactory)
    token = factory.LazyFunction(tokens.new_link_token)

    @factory.post_generation
    def access(obj, create, extracted, **kwargs):
        if create:
            CampaignAccess.objects.get_or_create(
                campaign=obj.campaign,
                affiliate=obj.affiliate,
                defaults={"status": extracted or AccessStatus.APPROVED},
            )


class PartnerKeyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerKey

    advertiser = factory.SubFactory(AdvertiserFactory)
    name = "Main partner"
    key = factory.LazyFunction(tokens.new_partner_key)
    signing_secret = factory.LazyFunction(tokens.new_signing_secret)


class SmartLinkFactory(factory.django.DjangoModelFactory):
    """A smart link row alone: give it entries with `SmartLinkEntryFactory`, whose campaign
    needs the affiliate's tracking link (`TrackingLinkFactory`), as `smart_link_create` makes."""

    class Meta:
        model = SmartLink

    affiliate = factory.SubFactory(AffiliateFactory)
    name = factory.Sequence(lambda n: f"Smart link {n}")
    token = factory.LazyFunction(tokens.new_link_token)
    catch_all_url = ""


class SmartLinkEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SmartLinkEntry

    smart_link = factory.SubFactory(SmartLinkFactory)
    campaign = factory.SubFactory(CampaignFactory)
    priority = 1
    weight = 100


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


class LandingPageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LandingPage

    campaign = factory.SubFactory(CampaignFactory)
    name = factory.Sequence(lambda n: f"Landing page {n}")
    url = factory.Sequence(lambda n: f"https://adv.example/lp{n}?c={{click_id}}")
    weight = 100
