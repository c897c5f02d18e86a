"""Postback endpoints: create, update, rotate, queue a test (and its limit)."""

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from accounts.tests.factories import AffiliateFactory
from campaigns.models import Visibility
from campaigns.tests.factories import CampaignFactory
from config.celery import app as celery_app
from core.exceptions import ApplicationError
from forwarding.models import Delivery, DeliveryStatus, ForwardEvent
from forwarding.services.endpoints import (
    ENDPOINT_TESTS_PENDING_MAX,
    endpoint_create,
    endpoint_secret_rotate,
    endpoint_test_create,
    endpoint_update,
)
from forwarding.signing import SECRET_PREFIX
from forwarding.tests.factories import (
    DeliveryFactory,
    PostbackEndpointFactory,
    standard_webhook_verify,
)
from tests.support.http import Receiver, dns_stub

NOW = dt.datetime(2026, 4, 1, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _stub_dns(monkeypatch):
    dns_stub(monkeypatch, {})


@pytest.mark.django_db
def test_create_saves_a_linted_endpoint_with_a_fresh_secret():
    affiliate = AffiliateFactory()
    campaign = CampaignFactory()

    endpoint = endpoint_create(
        affiliate=affiliate,
        url=" https://receiver.example/pb?cid={click_id}&p={payout}&e={event_id} ",
        method="post",
        events=["reversed", "approved", "approved"],
        campaign=campaign.pk,
        name="Main",
    )

    assert endpoint.url == "https://receiver.example/pb?cid={click_id}&p={payout}&e={event_id}"
    assert (endpoint.method, endpoint.events, endpoint.campaign, endpoint.name) == (
        "POST",
        ["approved", "reversed"],
        campaign,
        "Main",
    )
    assert endpoint.is_active
    assert endpoint.secret.startswith(SECRET_PREFIX)


@pytest.mark.django_db
def test_create_defaults_to_get_approved_all_campaigns():
    endpoint = endpoint_create(affiliate=AffiliateFactory(), url="https://r.example/{click_id}")

    assert (endpoint.method, endpoint.events, endpoint.campaign) == ("GET", ["approved"], None)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "code", "field", "message"),
    [
        ({"url": ""}, "invalid_url", "url", "The URL is required."),
        (
            {"url": "https://r.example/?a={payoutt}"},
            "invalid_url",
            "url",
            "Unknown macro(s): {payoutt}.",
        ),
        (
            {"url": "https://{sub1}.r.example/"},
            "invalid_url",
            "url",
            "Macros may not be used in the host or port.",
        ),
        (
            {"url": "https://r.example/" + "a" * 2000},
            "invalid_url",
            "url",
            "The URL is longer than 2000 characters.",
        ),
        ({"method": "PUT"}, "invalid_method", "method", "Choose GET or POST."),
        (
            {"events": []},
            "invalid_events",
            "events",
            "Choose at least one of: approved, pending, rejected, reversed, test.",
        ),
        (
            {"events": ["paid"]},
            "invalid_events",
            "events",
            "Unknown event 'paid': choose from approved, pending, rejected, reversed, test.",
        ),
        ({"campaign": "x"}, "invalid_campaign", "campaign", "A campaign id or null."),
        ({"campaign": 987654}, "invalid_campaign", "campaign", "Campaign not found."),
        ({"is_active": "yes"}, "invalid_is_active", "is_active", "Must be true or false."),
    ],
)
def test_create_refuses_bad_fields_naming_them(fields, code, field, message):
    data = {"url": "https://r.example/pb?c={click_id}", **fields}

    with pytest.raises(ApplicationError) as refused:
        endpoint_create(affiliate=AffiliateFactory(), **data)

    assert (refused.value.code, refused.value.status) == (code, 400)
    assert refused.value.message == message
    assert refused.value.fields == {field: [message]}


@pytest.mark.django_db
def test_an_endpoint_cannot_be_scoped_to_a_private_campaign_the_affiliate_cannot_see():
    private = CampaignFactory(visibility=Visibility.PRIVATE)

    with pytest.raises(ApplicationError) as refused:
        endpoint_create(affiliate=AffiliateFactory(), url="https://r.example/", campaign=private)

    assert refused.value.code == "invalid_campaign"


@pytest.mark.django_db
def test_update_lints_the_same_way_and_reactivation_clears_the_disabled_state():
    endpoint = PostbackEndpointFactory(is_active=False, disabled_reason="410", failing_since=None)

    with pytest.raises(ApplicationError) as refused:
        endpoint_update(endpoint=endpoint, data={"url": "ftp://r.example/"})
    with pytest.raises(ApplicationError) as unknown:
        endpoint_update(endpoint=endpoint, data={"secret": "mine"})
    updated = endpoint_update(
        endpoint=endpoint,
        data={"url": "https://new.example/{status}", "events": ["test"], "is_active": True},
    )

    assert refused.value.code == "invalid_url"
    assert (unknown.value.code, unknown.value.fields) == (
        "unknown_field",
        {"secret": ["Not a field of a postback endpoint."]},
    )
    assert (updated.url, updated.events, updated.is_active, updated.disabled_reason) == (
        "https://new.example/{status}",
        ["test"],
        True,
        "",
    )


@pytest.mark.django_db
def test_rotation_issues_a_new_secret():
    endpoint = PostbackEndpointFactory()
    first = endpoint.secret

    rotated = endpoint_secret_rotate(endpoint=endpoint)

    assert rotated.secret != first
    assert rotated.secret.startswith(SECRET_PREFIX)
    assert rotated.previous_secret == first


@pytest.fixture
def eager_celery():
    """Tasks run inline when published, as an idle worker would run them at once."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def _test_values(endpoint, delivery) -> dict[str, str]:
    return {
        "click_id": "test-click",
        "transaction_id": "test-transaction",
        "conversion_id": "0",
        "event_id": str(delivery.event_id),
        "status": "test",
        "payout": "1.0000",
        "currency": "USD",
        "points": "0.0000",
        "campaign_id": "0",
        "offer_id": "0",
        "affiliate_id": str(endpoint.affiliate_id),
        "sub1": "",
        "sub2": "",
        "sub3": "",
        "sub4": "",
        "sub5": "",
        "user_id": "",
        "country": "",
        "timestamp": str(int(NOW.timestamp())),
    }


@pytest.mark.django_db
def test_a_test_is_a_pending_delivery_sent_by_the_task_after_commit(
    eager_celery, django_capture_on_commit_callbacks
):
    # given an endpoint on a receiver
    with Receiver(respond=lambda request, index: (202, {}, b'{"received": true}')) as receiver:
        endpoint = PostbackEndpointFactory(url=receiver.url("/pb?s={status}&c={click_id}"))

        # when the owner presses "send a test"
        with django_capture_on_commit_callbacks() as callbacks:
            delivery = endpoint_test_create(endpoint=endpoint, now=NOW)
        # then nothing has been sent yet: the row waits for its task
        sent_before_commit = list(receiver.requests)
        row = Delivery.objects.get()
        pending = (row.pk, row.status, row.attempt_count, row.max_attempts, row.next_attempt_at)

        # and when the transaction has committed, the task sends it once, signed
        for callback in callbacks:
            callback()

        assert sent_before_commit == []
        assert pending == (delivery.pk, DeliveryStatus.PENDING, 0, 1, NOW)
        assert [r.query for r in receiver.requests] == [{"s": "test", "c": "test-click"}]
        assert standard_webhook_verify(
            secret=endpoint.secret, headers=receiver.requests[0].headers, body=b""
        )
    delivery.refresh_from_db()
    assert (delivery.endpoint_id, delivery.conversion_id, delivery.event) == (
        endpoint.pk,
        None,
        ForwardEvent.TEST,
    )
    assert delivery.event_key == f"endpoint-test:{delivery.event_id}"
    assert delivery.payload == _test_values(endpoint, delivery)
    assert (delivery.status, delivery.attempt_count, delivery.last_status_code) == (
        DeliveryStatus.DELIVERED,
        1,
        202,
    )
    attempt = delivery.attempts.get()
    assert (attempt.status_code, attempt.response_excerpt, attempt.is_success) == (
        202,
        '{"received": true}',
        True,
    )


@pytest.mark.django_db
def test_a_test_to_a_failing_receiver_is_not_retried(
    eager_celery, django_capture_on_commit_callbacks
):
    with Receiver(respond=lambda request, index: (500, {}, b"boom")) as receiver:
        endpoint = PostbackEndpointFactory(url=receiver.url())

        with django_capture_on_commit_callbacks(execute=True):
            delivery = endpoint_test_create(endpoint=endpoint)

        assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    attempt = delivery.attempts.get()
    assert (attempt.status_code, attempt.response_excerpt) == (500, "boom")
    assert (delivery.status, delivery.next_attempt_at, delivery.last_error) == (
        DeliveryStatus.FAILED,
        None,
        "HTTP 500",
    )


@pytest.mark.django_db
def test_a_test_is_refused_for_an_inactive_endpoint():
    with pytest.raises(ApplicationError) as refused:
        endpoint_test_create(endpoint=PostbackEndpointFactory(is_active=False))

    assert (refused.value.code, refused.value.status) == ("endpoint_inactive", 409)
    assert not Delivery.objects.exists()


@pytest.mark.django_db
def test_an_affiliate_may_have_five_tests_waiting_across_its_endpoints():
    # given an affiliate with two endpoints and five tests waiting between them
    affiliate = AffiliateFactory()
    first = PostbackEndpointFactory(affiliate=affiliate)
    second = PostbackEndpointFactory(affiliate=affiliate)
    waiting = [endpoint_test_create(endpoint=e) for e in (first, second, first, second, first)]
    # ... and rows that are not waiting tests of its own: a test already answered, a partner's
    # test postback forwarded to it, another affiliate's waiting tests
    answered = endpoint_test_create(endpoint=PostbackEndpointFactory())
    Delivery.objects.filter(pk=answered.pk).update(endpoint=second, status=DeliveryStatus.DELIVERED)
    DeliveryFactory(endpoint=first)
    other = PostbackEndpointFactory()
    for _ in range(ENDPOINT_TESTS_PENDING_MAX):
        endpoint_test_create(endpoint=other)

    # when it presses "send a test" a sixth time
    with pytest.raises(ApplicationError) as refused:
        endpoint_test_create(endpoint=second)

    # then it is refused until one of its tests is answered
    assert ENDPOINT_TESTS_PENDING_MAX == 5
    assert (refused.value.code, refused.value.status, refused.value.message) == (
        "too_many_tests",
        429,
        "5 tests are still waiting to be sent: wait for their results before sending another.",
    )
    assert Delivery.objects.filter(endpoint__affiliate=affiliate).count() == 7
    Delivery.objects.filter(pk=waiting[0].pk).update(status=DeliveryStatus.FAILED)
    assert endpoint_test_create(endpoint=second).status == DeliveryStatus.PENDING


@pytest.mark.django_db(transaction=True)
def test_concurrent_presses_never_queue_more_than_five_tests():
    # given an endpoint
    endpoint = PostbackEndpointFactory()
    presses = 8
    barrier = threading.Barrier(presses)

    def press(_: int) -> str:
        try:
            barrier.wait(timeout=30)
            return endpoint_test_create(endpoint=endpoint).status
        except ApplicationError as exc:
            return exc.code
        finally:
            connection.close()

    # when eight presses arrive at once
    with ThreadPoolExecutor(max_workers=presses) as executor:
        outcomes = sorted(executor.map(press, range(presses)))

    # then five tests are queued and three refused
    assert outcomes == ["pending"] * 5 + ["too_many_tests"] * 3
    assert Delivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.PENDING).count() == 5
