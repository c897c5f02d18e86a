"""Forwarding test helpers: endpoint and delivery factories, and an independent Standard Webhooks
verifier used to check what ClickLedger signs."""

import base64
import hashlib
import hmac
import uuid

import factory
from django.utils import timezone

from accounts.tests.factories import AffiliateFactory
from core.models import OperatorEventType
from forwarding.models import (
    Delivery,
    EndpointMethod,
    ForwardEvent,
    OperatorWebhook,
    PostbackEndpoint,
)
from forwarding.signing import endpoint_secret_new

# The known-answer vector of the Standard Webhooks specification (its reference libraries'
# `test_sign_function`).
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_PAYLOAD = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def standard_webhook_verify(*, secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The receiver's side of the spec, written from the spec (not from our signing code)."""
    msg_id = headers["webhook-id"]
    timestamp = headers["webhook-timestamp"]
    key = base64.b64decode(secret.split("_", 1)[1])
    expected = base64.b64encode(
        hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    ).decode()
    for candidate in headers["webhook-signature"].split(" "):
        version, _, signature = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            return True
    return False


class PostbackEndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PostbackEndpoint

    affiliate = factory.SubFactory(AffiliateFactory)
    url = "https://receiver.example/postback?cid={click_id}&status={status}"
    method = EndpointMethod.GET
    events = factory.LazyFunction(lambda: [ForwardEvent.APPROVED])
    secret = factory.LazyFunction(endpoint_secret_new)
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyFunction(timezone.now)


class DeliveryFactory(factory.django.DjangoModelFactory):
    """A due test-event delivery with a small payload (no conversion)."""

    class Meta:
        model = Delivery

    endpoint = factory.SubFactory(PostbackEndpointFactory)
    event_id = factory.LazyFunction(uuid.uuid4)
    event_key = factory.LazyAttribute(lambda o: f"test:{o.event_id}")
    event = ForwardEvent.TEST
    payload = factory.LazyAttribute(
        lambda o: {"click_id": "CLICK-1", "status": "test", "event_id": str(o.event_id)}
    )
    next_attempt_at = factory.LazyFunction(timezone.now)
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyFunction(timezone.now)


class OperatorWebhookFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OperatorWebhook

    name = factory.Sequence(lambda n: f"Ops hook {n}")
    url = "https://ops.example/hooks"
    events = factory.LazyFunction(lambda: list(OperatorEventType.values))
    secret = factory.LazyFunction(endpoint_secret_new)
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyFunction(timezone.now)
