"""The data migration that gives every campaign its default event, on a copy of the demo data:
campaigns without one get it with their own terms, the others are left alone, a second run
writes nothing, and going back removes what it made."""

import importlib
from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

from accounts.tests.factories import AdvertiserFactory
from campaigns.models import Campaign, ConversionEvent, PayoutType

pytestmark = pytest.mark.django_db

migration = importlib.import_module("campaigns.migrations.0005_default_events")


def _terms(event: ConversionEvent) -> tuple:
    return (
        event.code,
        event.is_default,
        event.payout_type,
        event.payout_amount,
        event.revshare_percent,
        event.default_revenue,
        event.allow_multiple,
        event.initial_status,
    )


def test_campaigns_without_a_default_event_get_one_with_their_terms_and_nothing_else_changes():
    # given the demo network, plus two campaigns made as they were before events existed
    call_command("seed_demo", clicks=200, seed=21, verbosity=0, stdout=StringIO())
    demo_events = {event.pk: _terms(event) for event in ConversionEvent.objects.all()}
    advertiser = AdvertiserFactory()
    fixed = Campaign.objects.create(
        advertiser=advertiser,
        name="Old fixed",
        landing_url="https://a.example/?c={click_id}",
        payout_type=PayoutType.FIXED,
        payout_amount=Decimal("2.5000"),
        default_revenue=Decimal("4.0000"),
        allow_multiple_conversions=True,
    )
    revshare = Campaign.objects.create(
        advertiser=advertiser,
        name="Old revshare",
        landing_url="https://a.example/?c={click_id}",
        payout_type=PayoutType.REVSHARE,
        revshare_percent=Decimal("65.5000"),
    )

    # when the migration's forward step runs, twice
    migration.default_events_create(apps, None)
    migration.default_events_create(apps, None)

    # then exactly the two old campaigns got one default event each, with their own terms
    added = ConversionEvent.objects.exclude(pk__in=demo_events).order_by("campaign_id")
    assert [(event.campaign_id, _terms(event)) for event in added] == [
        (
            fixed.pk,
            (
                "default",
                True,
                "fixed",
                Decimal("2.5000"),
                Decimal(0),
                Decimal("4.0000"),
                True,
                "approved",
            ),
        ),
        (
            revshare.pk,
            (
                "default",
                True,
                "revshare",
                Decimal(0),
                Decimal("65.5000"),
                Decimal(0),
                False,
                "approved",
            ),
        ),
    ]
    assert {
        event.pk: _terms(event) for event in ConversionEvent.objects.filter(pk__in=demo_events)
    } == demo_events


def test_going_back_removes_the_default_events_it_made():
    advertiser = AdvertiserFactory()
    Campaign.objects.create(
        advertiser=advertiser,
        name="Old",
        landing_url="https://a.example/?c={click_id}",
        payout_type=PayoutType.FIXED,
    )
    migration.default_events_create(apps, None)
    assert ConversionEvent.objects.count() == 1

    migration.default_events_delete(apps, None)

    assert ConversionEvent.objects.count() == 0
