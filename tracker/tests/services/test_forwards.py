"""What a conversion's status changes tell the affiliate's postback endpoints: one delivery per
endpoint that wants the event, written in the status change's transaction with every value, each
status change once (a rolled-back or refused change leaves none); test postbacks go to the
endpoints subscribed to test events."""

import pytest
from django.db import transaction
from django.test import Client

from campaigns.tests.factories import CampaignFactory
from core.exceptions import ApplicationError
from forwarding.models import Delivery, DeliveryStatus, EndpointMethod, ForwardEvent
from forwarding.tests.factories import PostbackEndpointFactory
from tracker.models import Conversion, ConversionHistory
from tracker.services.conversions import conversion_status_change
from tracker.tests.factories import postback_world

ALL_STATUS_EVENTS = ["approved", "pending", "rejected", "reversed"]


def _postback(world, click, **params):
    response = Client().get(world.postback_path, {"click_id": click.click_id, **params})
    assert response.status_code == 200, response.json()
    return response.json()


def _world_with_click():
    world = postback_world()
    campaign = world.campaign(external_offer_id="OFFER-9")
    click = world.click(
        sub1="s/1", sub2="s 2", sub3="", sub4="x&y", sub5="5", user_id="U-1", country="DE"
    )
    return world, campaign, click


@pytest.mark.django_db
def test_an_approved_conversion_is_queued_to_each_endpoint_that_wants_it_with_every_value():
    # given endpoints of the affiliate (and one of someone else)
    world, campaign, click = _world_with_click()
    everything = PostbackEndpointFactory(affiliate=world.affiliate, events=ALL_STATUS_EVENTS)
    this_campaign = PostbackEndpointFactory(
        affiliate=world.affiliate, campaign=campaign, method=EndpointMethod.POST
    )
    PostbackEndpointFactory(affiliate=world.affiliate, campaign=CampaignFactory())
    PostbackEndpointFactory(affiliate=world.affiliate, events=["reversed"])
    PostbackEndpointFactory(affiliate=world.affiliate, is_active=False)
    PostbackEndpointFactory(events=ALL_STATUS_EVENTS)

    # when the partner reports an approved conversion
    body = _postback(world, click, payout="5.00", transaction_id="T-1")

    # then exactly the two matching endpoints get a pending delivery with the values snapshot
    conversion = Conversion.objects.get()
    history = ConversionHistory.objects.get()
    deliveries = list(Delivery.objects.order_by("endpoint_id"))
    assert body["result"] == "created"
    assert [d.endpoint_id for d in deliveries] == [everything.pk, this_campaign.pk]
    for delivery in deliveries:
        assert (delivery.conversion_id, delivery.event, delivery.status) == (
            conversion.pk,
            "approved",
            DeliveryStatus.PENDING,
        )
        assert delivery.event_key == f"history:{history.pk}"
        assert delivery.next_attempt_at == history.created_at
        assert delivery.payload == {
            "click_id": click.click_id,
            "transaction_id": "T-1",
            "conversion_id": str(conversion.pk),
            "event_id": str(delivery.event_id),
            "status": "approved",
            "payout": "4.0000",
            "currency": "USD",
            "points": "4.0000",
            "campaign_id": str(campaign.pk),
            "offer_id": "OFFER-9",
            "affiliate_id": str(world.affiliate.pk),
            "sub1": "s/1",
            "sub2": "s 2",
            "sub3": "",
            "sub4": "x&y",
            "sub5": "5",
            "user_id": "U-1",
            "country": "DE",
            "timestamp": str(int(history.created_at.timestamp())),
            "event": "default",
            "event_name": "Conversion",
        }


@pytest.mark.django_db
def test_each_status_change_is_queued_once_and_repeats_are_not():
    # given an endpoint that wants every status event
    world, _, click = _world_with_click()
    endpoint = PostbackEndpointFactory(affiliate=world.affiliate, events=ALL_STATUS_EVENTS)

    # when the partner sends pending, pending again, approved, approved again, reversed
    results = [
        _postback(world, click, status=status, payout="5.00")["result"]
        for status in ("pending", "pending", "approved", "approved", "reversed", "reversed")
    ]

    # then one delivery per change, none for the duplicates
    assert results == ["created", "duplicate", "updated", "duplicate", "updated", "duplicate"]
    deliveries = list(Delivery.objects.filter(endpoint=endpoint).order_by("id"))
    assert [d.event for d in deliveries] == ["pending", "approved", "reversed"]
    assert [d.payload["points"] for d in deliveries] == ["0.0000", "4.0000", "4.0000"]
    assert len({d.event_id for d in deliveries}) == 3


@pytest.mark.django_db
def test_a_status_reached_twice_is_forwarded_each_time():
    world, _, click = _world_with_click()
    endpoint = PostbackEndpointFactory(affiliate=world.affiliate, events=ALL_STATUS_EVENTS)
    _postback(world, click, status="approved")
    conversion = Conversion.objects.get()

    conversion_status_change(
        conversion_id=conversion.pk, status="rejected", actor=None, reason="fraud", source="admin"
    )
    conversion_status_change(
        conversion_id=conversion.pk, status="approved", actor=None, reason="ok", source="admin"
    )

    events = list(Delivery.objects.filter(endpoint=endpoint).order_by("id").values_list("event"))
    assert events == [("approved",), ("rejected",), ("approved",)]


@pytest.mark.django_db
def test_a_rolled_back_status_change_leaves_no_delivery():
    world, _, click = _world_with_click()
    PostbackEndpointFactory(affiliate=world.affiliate, events=ALL_STATUS_EVENTS)
    _postback(world, click, status="pending")
    conversion = Conversion.objects.get()

    @transaction.atomic
    def approve_then_fail() -> None:
        conversion_status_change(
            conversion_id=conversion.pk, status="approved", actor=None, reason="", source="admin"
        )
        raise RuntimeError("the caller fails after the change")

    with pytest.raises(RuntimeError):
        approve_then_fail()

    assert list(Delivery.objects.values_list("event", flat=True)) == ["pending"]


@pytest.mark.django_db
def test_a_test_postback_is_forwarded_to_endpoints_subscribed_to_test_events():
    # given an endpoint for test events and one for approvals only
    world, campaign, click = _world_with_click()
    tests = PostbackEndpointFactory(affiliate=world.affiliate, events=["test"])
    PostbackEndpointFactory(affiliate=world.affiliate, events=["approved"])

    # when the partner sends a test postback for the click, and one for an unknown click
    body = _postback(world, click, status="test", payout="10.00", transaction_id="T-9")
    Client().get(world.postback_path, {"click_id": "nope", "status": "test"})

    # then one test delivery, no conversion
    assert body["result"] == "test"
    assert Conversion.objects.count() == 0
    delivery = Delivery.objects.get()
    assert (delivery.endpoint_id, delivery.event, delivery.conversion_id) == (
        tests.pk,
        ForwardEvent.TEST,
        None,
    )
    assert delivery.event_key.startswith("test:")
    assert delivery.payload == {
        "click_id": click.click_id,
        "transaction_id": "T-9",
        "conversion_id": "",
        "event_id": str(delivery.event_id),
        "status": "test",
        "payout": "8.0000",
        "currency": "USD",
        "points": "8.0000",
        "campaign_id": str(campaign.pk),
        "offer_id": "OFFER-9",
        "affiliate_id": str(world.affiliate.pk),
        "sub1": "s/1",
        "sub2": "s 2",
        "sub3": "",
        "sub4": "x&y",
        "sub5": "5",
        "user_id": "U-1",
        "country": "DE",
        "timestamp": delivery.payload["timestamp"],
        "event": "default",
        "event_name": "Conversion",
    }


@pytest.mark.django_db
def test_a_test_postback_for_another_advertisers_click_forwards_nothing():
    world, _, _ = _world_with_click()
    other = postback_world(key="other-key")
    other.campaign()
    foreign_click = other.click()
    PostbackEndpointFactory(affiliate=other.affiliate, events=["test"])

    response = Client().get(
        world.postback_path, {"click_id": foreign_click.click_id, "status": "test"}
    )

    assert response.json()["result"] == "test"
    assert Delivery.objects.count() == 0


@pytest.mark.django_db
def test_status_change_errors_create_no_delivery():
    world, _, click = _world_with_click()
    PostbackEndpointFactory(affiliate=world.affiliate, events=ALL_STATUS_EVENTS)
    _postback(world, click, status="rejected")
    conversion = Conversion.objects.get()

    with pytest.raises(ApplicationError):
        conversion_status_change(
            conversion_id=conversion.pk, status="approved", actor=None, reason="", source="admin"
        )

    assert list(Delivery.objects.values_list("event", flat=True)) == ["rejected"]
