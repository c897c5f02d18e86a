"""The outbox publishes deliveries after commit; when the broker is down the postback still
answers 200 and the rows wait for the sweeper."""

import logging
import socket

import pytest
from django.test import Client

from config.celery import app as celery_app
from forwarding.models import Delivery, DeliveryStatus
from forwarding.services.outbox import deliveries_enqueue
from forwarding.tests.factories import PostbackEndpointFactory
from tests.support.celery_worker import celery_broker_point
from tests.support.http import Receiver
from tracker.tests.factories import postback_world


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
