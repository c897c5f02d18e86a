"""The outbox: deliveries are written in the status change's transaction, one per endpoint that
wants the event, each status change once; published after commit (a broker failure is swallowed);
test postbacks; the auto-approve workflow."""

import datetime as dt
import logging
import socket
from decimal import Decimal

import pytest
import time_machine
from django.db import transaction
from django.test import Client

from campaigns.tests.factories import CampaignFactory
from config.celery import app as celery_app
from core.exceptions import ApplicationError
from forwarding.models import Delivery, DeliveryStatus, EndpointMethod, ForwardEvent
from forwarding.services.outbox import deliveries_enqueue
from forwarding.tests.factories import PostbackEndpointFactory
from tests.support.celery_worker import celery_broker_point
from tests.support.http import Receiver
from tracker.models import ChangeSource, Conversion, ConversionHistory
from tracker.services.conversions import conversion_status_change, conversions_auto_approve_due
from tracker.tasks import auto_approve_conversions
from tracker.tests.factories_postbacks import postback_world

ALL_STATUS_EVENTS = ["approved", "pending", "rejected", "reversed"]


@pytest.fixture
def eager_celery():
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def dead_broker():
    """The Celery app points at a port where nothing listens (the broker is down)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    previous = celery_broker_point(f"redis://127.0.0.1:{port}/0")
    yield
    celery_broker_point(previous)


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
def test_deliveries_are_published_after_commit_and_sent(
    eager_celery, django_capture_on_commit_callbacks
):
    # given an endpoint on a loopback receiver
    with Receiver() as receiver:
        world, _, click = _world_with_click()
        PostbackEndpointFactory(
            affiliate=world.affiliate, url=receiver.url("/pb?cid={click_id}&p={payout}")
        )

        # when the conversion commits
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            _postback(world, click, payout="5.00")

        # then the task ran after commit and delivered it
        assert len(callbacks) == 1
        assert [r.query for r in receiver.requests] == [{"cid": click.click_id, "p": "4.0000"}]
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempt_count) == (DeliveryStatus.DELIVERED, 1)


@pytest.mark.django_db(transaction=True)
def test_postbacks_answer_200_when_the_broker_is_down_and_the_rows_wait(dead_broker, caplog):
    # given an endpoint, and a broker that refuses connections
    world, _, click = _world_with_click()
    PostbackEndpointFactory(affiliate=world.affiliate)

    # when a conversion is reported
    with caplog.at_level(logging.WARNING, logger="core.tasks"):
        body = _postback(world, click)

    # then the postback succeeded, the delivery waits for the sweeper, the failure is logged
    assert body["result"] == "created"
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempt_count) == (DeliveryStatus.PENDING, 0)
    assert [r.getMessage() for r in caplog.records] == [
        f"could not publish 1 of 1 forwarding.tasks.deliver task(s) "
        f"(first: {{'delivery_id': {delivery.pk}}})"
    ]
    assert deliveries_enqueue([delivery.pk]) == 0


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
def test_pending_conversions_auto_approve_after_their_campaigns_delay_once():
    # given a campaign approving after 24 h, and an endpoint for approvals
    world = postback_world()
    world.campaign(auto_approve_after_hours=24)
    PostbackEndpointFactory(affiliate=world.affiliate, events=["approved"])
    now = dt.datetime.now(dt.UTC)
    old, young, rejected = world.click(), world.click(), world.click()
    with time_machine.travel(now - dt.timedelta(hours=25), tick=False):
        _postback(world, old, status="pending")
        _postback(world, rejected, status="pending")
        _postback(world, rejected, status="rejected")
    with time_machine.travel(now - dt.timedelta(hours=23), tick=False):
        _postback(world, young, status="pending")

    # when the job runs twice
    first = conversions_auto_approve_due(now=now)
    second = auto_approve_conversions()

    # then only the old pending conversion is approved, by the system, and forwarded once
    assert (first, second) == (1, 0)
    statuses = dict(Conversion.objects.values_list("click_id", "status"))
    assert statuses == {old.pk: "approved", young.pk: "pending", rejected.pk: "rejected"}
    approved = Conversion.objects.get(click=old)
    last = approved.history.order_by("id").last()
    assert (last.from_status, last.to_status, last.source, last.reason, last.actor) == (
        "pending",
        "approved",
        ChangeSource.SYSTEM,
        "auto_approved",
        None,
    )
    assert approved.payout == Decimal("0.0000")
    assert list(Delivery.objects.values_list("conversion_id", "event")) == [
        (approved.pk, "approved")
    ]


@pytest.mark.django_db
def test_campaigns_without_the_setting_never_auto_approve():
    world = postback_world()
    world.campaign()
    click = world.click()
    with time_machine.travel(dt.datetime.now(dt.UTC) - dt.timedelta(days=90), tick=False):
        _postback(world, click, status="pending")

    assert conversions_auto_approve_due() == 0
    assert Conversion.objects.get().status == "pending"


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
