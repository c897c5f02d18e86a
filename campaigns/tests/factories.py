from decimal import Decimal

import factory

from accounts.tests.factories import AdvertiserFactory, AffiliateFactory
from campaigns.models import (
    AccessStatus,
    Campaign,
    CampaignAccess,
    CampaignStatus,
    Cap,
    PartnerKey,
    PayoutType,
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
