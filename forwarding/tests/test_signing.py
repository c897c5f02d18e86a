"""Standard Webhooks signatures: the spec's known-answer vector, the headers of GET and POST
deliveries, and both secrets signing during a rotation's grace period."""

import base64
import datetime as dt
import json

import pytest

from forwarding.models import EndpointMethod
from forwarding.services.delivery import delivery_request_build
from forwarding.services.endpoints import endpoint_secret_rotate
from forwarding.signing import SECRET_PREFIX, endpoint_secret_new, webhook_signature
from forwarding.tests.factories import (
    SPEC_MSG_ID,
    SPEC_PAYLOAD,
    SPEC_SECRET,
    SPEC_SIGNATURE,
    SPEC_TIMESTAMP,
    DeliveryFactory,
    PostbackEndpointFactory,
    standard_webhook_verify,
)

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def test_signature_matches_the_spec_known_answer_vector():
    signature = webhook_signature(
        secret=SPEC_SECRET, msg_id=SPEC_MSG_ID, timestamp=SPEC_TIMESTAMP, body=SPEC_PAYLOAD
    )

    assert signature == SPEC_SIGNATURE


def test_the_test_verifier_accepts_the_spec_vector_and_refuses_a_changed_body():
    headers = {
        "webhook-id": SPEC_MSG_ID,
        "webhook-timestamp": str(SPEC_TIMESTAMP),
        "webhook-signature": SPEC_SIGNATURE,
    }

    assert standard_webhook_verify(secret=SPEC_SECRET, headers=headers, body=SPEC_PAYLOAD)
    assert not standard_webhook_verify(
        secret=SPEC_SECRET, headers=headers, body=b'{"test": 2432232315}'
    )


def test_new_secrets_are_whsec_base64_of_32_random_bytes():
    secrets = {endpoint_secret_new() for _ in range(20)}

    assert len(secrets) == 20
    for secret in secrets:
        assert secret.startswith(SECRET_PREFIX)
        assert len(base64.b64decode(secret.removeprefix(SECRET_PREFIX))) == 32


@pytest.mark.django_db
def test_get_delivery_signs_the_empty_body_and_fills_the_url():
    # given a GET endpoint and a delivery
    endpoint = PostbackEndpointFactory(
        url="https://receiver.example/pb?cid={click_id}&s={status}&e={event_id}"
    )
    delivery = DeliveryFactory(endpoint=endpoint, payload={"click_id": "a b&c", "status": "test"})

    # when the request is built
    request = delivery_request_build(delivery=delivery, endpoint=endpoint, now=NOW)

    # then
    event_id = str(delivery.event_id)
    assert request.method == "GET"
    assert request.url == f"https://receiver.example/pb?cid=a%20b%26c&s=test&e={event_id}"
    assert request.body == b""
    assert request.headers == {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(NOW.timestamp())),
        "webhook-signature": webhook_signature(
            secret=endpoint.secret, msg_id=event_id, timestamp=int(NOW.timestamp()), body=b""
        ),
    }
    assert standard_webhook_verify(secret=endpoint.secret, headers=request.headers, body=b"")


@pytest.mark.django_db
def test_post_delivery_sends_the_values_as_json_and_signs_that_body():
    endpoint = PostbackEndpointFactory(method=EndpointMethod.POST, url="https://r.example/hook")
    delivery = DeliveryFactory(endpoint=endpoint, payload={"click_id": "C1", "payout": "4.0000"})

    request = delivery_request_build(delivery=delivery, endpoint=endpoint, now=NOW)

    assert request.method == "POST"
    assert json.loads(request.body) == {
        "click_id": "C1",
        "payout": "4.0000",
        "event_id": str(delivery.event_id),
    }
    assert request.headers["Content-Type"] == "application/json"
    assert standard_webhook_verify(
        secret=endpoint.secret, headers=request.headers, body=request.body
    )


@pytest.mark.django_db
def test_after_rotation_both_secrets_sign_until_the_grace_period_ends():
    # given an endpoint whose secret is rotated
    endpoint = PostbackEndpointFactory()
    old_secret = endpoint.secret
    rotated = endpoint_secret_rotate(endpoint=endpoint, now=NOW)
    delivery = DeliveryFactory(endpoint=rotated)

    # when a delivery is signed within 24 h, then after
    within = delivery_request_build(
        delivery=delivery, endpoint=rotated, now=NOW + dt.timedelta(hours=23)
    )
    after = delivery_request_build(
        delivery=delivery, endpoint=rotated, now=NOW + dt.timedelta(hours=24, seconds=1)
    )

    # then both verify within the grace period, only the new one after it
    assert rotated.secret != old_secret
    assert rotated.previous_secret == old_secret
    assert len(within.headers["webhook-signature"].split(" ")) == 2
    assert standard_webhook_verify(secret=old_secret, headers=within.headers, body=b"")
    assert standard_webhook_verify(secret=rotated.secret, headers=within.headers, body=b"")
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    assert not standard_webhook_verify(secret=old_secret, headers=after.headers, body=b"")
    assert standard_webhook_verify(secret=rotated.secret, headers=after.headers, body=b"")
