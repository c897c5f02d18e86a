"""Operator webhooks end to end: each network event, emitted by the service where it happens,
reaches a real HTTP receiver on loopback through a real Celery worker, signed per Standard
Webhooks, exactly once (see test_tasks_worker.py for the setup)."""

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.services import user_register
from accounts.tests.factories import AffiliateFactory
from campaigns.models import CapPeriod, Visibility
from campaigns.services import access_apply
from campaigns.tests.factories import CampaignFactory, CapFactory
from core.models import OperatorEvent, OperatorEventType
from core.operator_events import operator_event_fraud_threshold
from forwarding.models import Delivery, DeliveryStatus
from forwarding.services.endpoints import endpoint_disable
from forwarding.services.operator_webhooks import operator_webhook_create
from forwarding.tests.factories import PostbackEndpointFactory, standard_webhook_verify
from payouts.services import payout_request_create
from payouts.tests.factories import funded_affiliate
from tests.support.celery_worker import RedisServer, Workers, celery_broker_point, wait_until
from tests.support.http import Receiver
from tracker.tests.factories import postback, postback_world

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_server(tmp_path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    previous = celery_broker_point(server.url)
    try:
        yield server
    finally:
        celery_broker_point(previous)
        server.stop()


@pytest.fixture
def workers(redis_server, tmp_path) -> Iterator[Workers]:
    pool = Workers(broker_url=redis_server.url, directory=tmp_path)
    try:
        yield pool
    finally:
        pool.kill_all()


def _delivered() -> int:
    return Delivery.objects.filter(
        operator_webhook__isnull=False, status=DeliveryStatus.DELIVERED
    ).count()


def test_every_network_event_reaches_the_operator_webhook_once_signed(workers):
    with Receiver() as receiver:
        # given a webhook for every event, one for sign-ups only, and a running worker
        everything = operator_webhook_create(
            url=receiver.url("/all"), events=list(OperatorEventType.values)
        )
        signups = operator_webhook_create(
            url=receiver.url("/signups"), events=[OperatorEventType.PARTNER_SIGNED_UP]
        )
        world = postback_world()
        campaign = world.campaign(payout_type="fixed", payout_amount=Decimal("2"))
        CapFactory(campaign=campaign, period=CapPeriod.DAY, limit=Decimal("1"))
        clicks = [world.click() for _ in range(3)]
        approval_campaign = CampaignFactory(visibility=Visibility.APPROVAL)
        applicant = AffiliateFactory()
        payee = funded_affiliate(available=Decimal("60"))
        endpoint = PostbackEndpointFactory(affiliate=world.affiliate)
        workers.start("w1")

        # when each event happens (the cap refuses two conversions: one event)
        user = user_register(
            email="new-partner@example.test",
            password="a-long-enough-password-42",
            role="affiliate",
        )
        application = access_apply(campaign=approval_campaign, affiliate=applicant)
        conversions = [
            postback(world.partner_key, click_id=click.click_id, transaction_id=f"T-{n}")
            for n, click in enumerate(clicks)
        ]
        payout = payout_request_create(affiliate=payee, amount="50", currency="USD")
        endpoint_disable(endpoint_id=endpoint.pk, reason="the receiver answered 410 Gone")
        window_end = timezone.now()
        with transaction.atomic():
            operator_event_fraud_threshold(
                rule="clicks_per_ip",
                affiliate_id=world.affiliate.pk,
                campaign_id=campaign.pk,
                count=120,
                threshold=100,
                window_start=window_end - dt.timedelta(hours=1),
                window_end=window_end,
            )
        wait_until(lambda: _delivered() == 7, timeout=45, what="7 operator deliveries")
        wait_until(
            lambda: not OperatorEvent.objects.filter(dispatched_at__isnull=True).exists(),
            timeout=10,
            what="every event dispatched",
        )

        # then each event arrived once at the catch-all webhook, sign-ups at both, all signed
        assert [c.reason for c in conversions] == ["", "cap_reached", "cap_reached"]
        assert len(receiver.requests) == 7
        assert Counter(r.path for r in receiver.requests) == {"/all": 6, "/signups": 1}
        assert len({r.headers["webhook-id"] for r in receiver.requests}) == 7
        secrets = {"/all": everything.secret, "/signups": signups.secret}
        bodies = {}
        for request in receiver.requests:
            assert request.headers["content-type"] == "application/json"
            assert standard_webhook_verify(
                secret=secrets[request.path], headers=request.headers, body=request.body
            )
            body = json.loads(request.body)
            assert set(body) == {"type", "id", "created_at", "data"}
            if request.path == "/all":
                bodies[body["type"]] = body
        events = {event.type: event for event in OperatorEvent.objects.all()}
        assert sorted(bodies) == sorted(OperatorEventType.values)
        for event_type, body in bodies.items():
            assert body["id"] == str(events[event_type].event_id)
        cap = campaign.caps.get()
        assert {event_type: body["data"] for event_type, body in bodies.items()} == {
            "partner.signed_up": {
                "user_id": user.pk,
                "role": "affiliate",
                "profile_id": user.pk,
                "status": "pending",
            },
            "application.created": {
                "application_id": application.pk,
                "campaign_id": approval_campaign.pk,
                "affiliate_id": applicant.pk,
                "status": "pending",
            },
            "cap.reached": {
                "cap_id": cap.pk,
                "campaign_id": campaign.pk,
                "affiliate_id": world.affiliate.pk,
                "scope": "campaign",
                "period": "day",
                "metric": "conversions",
                "limit": "1.0000",
                "period_start": timezone.now().date().isoformat(),
            },
            "payout.requested": {
                "payout_id": payout.pk,
                "affiliate_id": payee.pk,
                "amount": "50.0000",
                "currency": "USD",
            },
            "endpoint.disabled": {
                "endpoint_id": endpoint.pk,
                "affiliate_id": world.affiliate.pk,
                "reason": "the receiver answered 410 Gone",
            },
            "fraud.threshold": {
                "rule": "clicks_per_ip",
                "affiliate_id": world.affiliate.pk,
                "campaign_id": campaign.pk,
                "count": 120,
                "threshold": 100,
                "window_start": (window_end - dt.timedelta(hours=1)).isoformat(),
                "window_end": window_end.isoformat(),
            },
        }
        signup = next(r for r in receiver.requests if r.path == "/signups")
        assert json.loads(signup.body) == bodies["partner.signed_up"]
