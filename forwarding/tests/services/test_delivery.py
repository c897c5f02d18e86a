"""Delivery attempts against real loopback receivers, on a controlled clock (no sleeps): the retry
schedule with jitter, Retry-After, giving up, 410, the 5-day disable, redirects not followed,
claims, cancellation and replay."""

import datetime as dt
from email.utils import format_datetime

import pytest
import time_machine
from django.core import mail

from config.celery import app as celery_app
from core.exceptions import ApplicationError
from forwarding.models import DeliveryStatus
from forwarding.services import delivery as delivery_service
from forwarding.services.delivery import (
    MAX_ATTEMPTS,
    RETRY_SCHEDULE_SECONDS,
    delivery_attempt,
    delivery_replay,
)
from forwarding.services.endpoints import endpoint_update, endpoints_disable_failing
from forwarding.services.outbox import deliveries_requeue_due
from forwarding.tasks import MAX_COUNTDOWN_SECONDS
from forwarding.tests.factories import DeliveryFactory, PostbackEndpointFactory
from tests.support.http import Receiver

START = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


def _failing(times: int, status: int = 500, headers: dict[str, str] | None = None):
    def respond(request, index):
        if index < times:
            return status, headers or {}, b"receiver trouble"
        return 200, {}, b"ok"

    return respond


@pytest.fixture
def eager_celery():
    """Tasks published after commit run in-process (nothing reaches a broker)."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def _attempt_rows(delivery):
    return list(
        delivery.attempts.order_by("id").values_list(
            "attempt_number", "attempted_at", "status_code", "is_success"
        )
    )


@pytest.mark.django_db
@pytest.mark.parametrize("failures", range(1, 8))
def test_receiver_failing_k_times_gets_the_delivery_at_attempt_k_plus_1(failures):
    with Receiver(respond=_failing(failures)) as receiver:
        # given a due delivery to a receiver that fails `failures` times
        endpoint = PostbackEndpointFactory(url=receiver.url("/hook?c={click_id}"))
        delivery = DeliveryFactory(endpoint=endpoint, next_attempt_at=START)
        expected_times = [START]
        with time_machine.travel(START, tick=False) as clock:
            # when each attempt runs at the time the previous failure scheduled
            for number in range(1, failures + 1):
                attempt = delivery_attempt(delivery_id=delivery.pk)
                assert (attempt.attempt_number, attempt.status_code) == (number, 500)
                delivery.refresh_from_db()
                delay = (delivery.next_attempt_at - expected_times[-1]).total_seconds()
                base = RETRY_SCHEDULE_SECONDS[number]
                assert base * 0.8 <= delay <= base * 1.2, (number, delay)
                # not due yet: nothing is sent
                clock.move_to(expected_times[-1] + dt.timedelta(seconds=delay / 2))
                assert delivery_attempt(delivery_id=delivery.pk) is None
                clock.move_to(delivery.next_attempt_at)
                expected_times.append(delivery.next_attempt_at)
            final = delivery_attempt(delivery_id=delivery.pk)

        # then the last attempt delivered it, and every attempt is recorded
        assert (final.attempt_number, final.status_code, final.is_success) == (
            failures + 1,
            200,
            True,
        )
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.DELIVERED
        assert delivery.attempt_count == failures + 1
        assert delivery.delivered_at == expected_times[-1]
        assert (delivery.next_attempt_at, delivery.locked_until) == (None, None)
        assert _attempt_rows(delivery) == [
            (n + 1, at, 500 if n < failures else 200, n == failures)
            for n, at in enumerate(expected_times)
        ]
        assert len(receiver.requests) == failures + 1
        assert {r.query["c"] for r in receiver.requests} == {"CLICK-1"}
        endpoint.refresh_from_db()
        assert (endpoint.failing_since, endpoint.last_success_at) == (None, expected_times[-1])


@pytest.mark.django_db
def test_after_eight_failed_attempts_the_delivery_is_given_up():
    with Receiver(respond=_failing(100, status=503)) as receiver:
        delivery = DeliveryFactory(
            endpoint=PostbackEndpointFactory(url=receiver.url()), next_attempt_at=START
        )
        with time_machine.travel(START, tick=False) as clock:
            for _ in range(MAX_ATTEMPTS):
                assert delivery_attempt(delivery_id=delivery.pk) is not None
                delivery.refresh_from_db()
                if delivery.next_attempt_at:
                    clock.move_to(delivery.next_attempt_at)
            clock.shift(dt.timedelta(days=2))
            assert delivery_attempt(delivery_id=delivery.pk) is None

        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempt_count, delivery.next_attempt_at) == (
            DeliveryStatus.FAILED,
            8,
            None,
        )
        assert (delivery.last_status_code, delivery.last_error) == (503, "HTTP 503")
        assert delivery.attempts.count() == 8
        assert len(receiver.requests) == 8


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("retry_after", "expected_seconds"),
    [
        ("3600", 3600),
        (format_datetime(START + dt.timedelta(hours=2), usegmt=True), 7200),
        ("9999999", 24 * 3600),
    ],
)
def test_retry_after_longer_than_the_schedule_is_honoured_and_capped(retry_after, expected_seconds):
    with Receiver(respond=_failing(1, status=429, headers={"Retry-After": retry_after})) as rcv:
        delivery = DeliveryFactory(endpoint=PostbackEndpointFactory(url=rcv.url()))
        with time_machine.travel(START, tick=False):
            delivery.next_attempt_at = START
            delivery.save()
            delivery_attempt(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert delivery.next_attempt_at == START + dt.timedelta(seconds=expected_seconds)
    assert delivery.last_status_code == 429


@pytest.mark.django_db
def test_retry_after_shorter_than_the_schedule_does_not_shorten_it():
    with Receiver(respond=_failing(1, status=503, headers={"Retry-After": "1"})) as receiver:
        delivery = DeliveryFactory(
            endpoint=PostbackEndpointFactory(url=receiver.url()), next_attempt_at=START
        )
        with time_machine.travel(START, tick=False):
            delivery_attempt(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert 4 <= (delivery.next_attempt_at - START).total_seconds() <= 6


@pytest.mark.django_db(transaction=False)
def test_410_gone_fails_the_delivery_disables_the_endpoint_and_emails_the_owner(
    eager_celery, django_capture_on_commit_callbacks
):
    with Receiver(respond=_failing(1, status=410)) as receiver:
        # given an endpoint with two due deliveries
        endpoint = PostbackEndpointFactory(url=receiver.url())
        first = DeliveryFactory(endpoint=endpoint, next_attempt_at=START)
        second = DeliveryFactory(endpoint=endpoint, next_attempt_at=START + dt.timedelta(hours=1))

        # when the first one is answered 410
        with (
            time_machine.travel(START, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            delivery_attempt(delivery_id=first.pk)

    # then the endpoint is disabled, both deliveries stop, the owner is told once
    endpoint.refresh_from_db()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (endpoint.is_active, endpoint.disabled_at) == (False, START)
    assert endpoint.disabled_reason == "the receiver answered 410 Gone"
    assert (first.status, first.last_status_code) == (DeliveryStatus.FAILED, 410)
    assert (second.status, second.last_error) == (
        DeliveryStatus.CANCELLED,
        "endpoint disabled: the receiver answered 410 Gone",
    )
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [endpoint.affiliate.user.email]
    assert mail.outbox[0].subject == f"Postback endpoint #{endpoint.pk} disabled"
    assert "the receiver answered 410 Gone" in mail.outbox[0].body


@pytest.mark.django_db
def test_an_endpoint_failing_for_five_days_is_disabled_at_its_next_failure(
    eager_celery, django_capture_on_commit_callbacks
):
    with Receiver(respond=_failing(100)) as receiver:
        endpoint = PostbackEndpointFactory(
            url=receiver.url(), failing_since=START - dt.timedelta(days=5, seconds=1)
        )
        delivery = DeliveryFactory(endpoint=endpoint, next_attempt_at=START)
        with (
            time_machine.travel(START, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            delivery_attempt(delivery_id=delivery.pk)

    endpoint.refresh_from_db()
    delivery.refresh_from_db()
    assert (endpoint.is_active, endpoint.disabled_reason) == (
        False,
        "every attempt failed for 5 days",
    )
    assert delivery.status == DeliveryStatus.CANCELLED
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_failing_for_four_days_keeps_the_endpoint_and_a_success_clears_the_streak():
    endpoint = PostbackEndpointFactory(failing_since=START - dt.timedelta(days=4))
    assert endpoints_disable_failing(now=START) == []

    with Receiver() as receiver:
        endpoint.url = receiver.url()
        endpoint.save()
        delivery = DeliveryFactory(endpoint=endpoint, next_attempt_at=START)
        with time_machine.travel(START, tick=False):
            delivery_attempt(delivery_id=delivery.pk)

    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.failing_since) == (True, None)
    assert endpoints_disable_failing(now=START + dt.timedelta(days=30)) == []


@pytest.mark.django_db
def test_the_sweeper_disables_endpoints_failing_for_five_days_once(
    eager_celery, django_capture_on_commit_callbacks
):
    stale = PostbackEndpointFactory(failing_since=START - dt.timedelta(days=6))
    PostbackEndpointFactory(failing_since=START - dt.timedelta(days=1))

    with django_capture_on_commit_callbacks(execute=True):
        first = endpoints_disable_failing(now=START)
        second = endpoints_disable_failing(now=START)

    assert (first, second) == ([stale.pk], [])
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_redirect_is_a_failure_and_is_not_followed():
    with Receiver() as elsewhere:
        redirect = {"Location": elsewhere.url("/stolen")}
        with Receiver(respond=lambda request, index: (302, redirect, b"")) as receiver:
            delivery = DeliveryFactory(
                endpoint=PostbackEndpointFactory(url=receiver.url()), next_attempt_at=START
            )
            with time_machine.travel(START, tick=False):
                attempt = delivery_attempt(delivery_id=delivery.pk)

            assert (attempt.status_code, attempt.is_success) == (302, False)
            assert len(receiver.requests) == 1
        assert (elsewhere.connections, elsewhere.requests) == (0, [])
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count) == (DeliveryStatus.PENDING, 1)


@pytest.mark.django_db
def test_a_claimed_row_is_skipped_until_the_claim_expires(settings):
    settings.FORWARDING_CLAIM_SECONDS = 60
    with Receiver() as receiver:
        delivery = DeliveryFactory(
            endpoint=PostbackEndpointFactory(url=receiver.url()),
            next_attempt_at=START,
            locked_until=START + dt.timedelta(seconds=30),  # another worker is on it
        )
        with time_machine.travel(START, tick=False) as clock:
            skipped = delivery_attempt(delivery_id=delivery.pk)
            clock.move_to(START + dt.timedelta(seconds=31))  # that worker died
            attempt = delivery_attempt(delivery_id=delivery.pk)

        assert skipped is None
        assert attempt.is_success
        assert len(receiver.requests) == 1


@pytest.mark.django_db
def test_an_attempt_outcome_recorded_after_losing_the_claim_does_not_reschedule():
    # given a worker whose claim expired and was taken over while its request was in flight
    with Receiver(respond=_failing(1)) as receiver:
        delivery = DeliveryFactory(
            endpoint=PostbackEndpointFactory(url=receiver.url()), next_attempt_at=START
        )
        with time_machine.travel(START, tick=False) as clock:
            slow_claim = delivery_service._delivery_claim(delivery_id=delivery.pk, now=START)
            clock.move_to(START + dt.timedelta(minutes=5))
            winner = delivery_attempt(delivery_id=delivery.pk)  # fails (first answer is 500)
            delivery.refresh_from_db()
            scheduled = delivery.next_attempt_at
            # when the slow worker finally records its own failure
            delivery_service._attempt_record(
                delivery_id=delivery.pk,
                claim_until=slow_claim,
                url=receiver.url(),
                result=delivery_service.HttpResult(
                    status_code=None,
                    latency_ms=15000,
                    response_excerpt="",
                    error="timeout after 15 s",
                    retry_after=None,
                ),
                now=START + dt.timedelta(minutes=5),
            )

    # then its attempt is kept but the winner's schedule stands
    delivery.refresh_from_db()
    assert winner.status_code == 500
    assert (delivery.attempt_count, delivery.next_attempt_at) == (1, scheduled)
    assert delivery.attempts.count() == 2


@pytest.mark.django_db
def test_a_delivery_to_an_inactive_endpoint_is_cancelled_not_sent():
    with Receiver() as receiver:
        endpoint = PostbackEndpointFactory(url=receiver.url(), is_active=False)
        delivery = DeliveryFactory(endpoint=endpoint, next_attempt_at=START)
        with time_machine.travel(START, tick=False):
            assert delivery_attempt(delivery_id=delivery.pk) is None
        assert receiver.connections == 0
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error) == (DeliveryStatus.CANCELLED, "endpoint inactive")


@pytest.mark.django_db
def test_deactivating_an_endpoint_cancels_its_pending_deliveries():
    endpoint = PostbackEndpointFactory()
    pending = DeliveryFactory(endpoint=endpoint)
    delivered = DeliveryFactory(endpoint=endpoint, status=DeliveryStatus.DELIVERED)

    endpoint_update(endpoint=endpoint, data={"is_active": False})

    pending.refresh_from_db()
    delivered.refresh_from_db()
    assert (pending.status, pending.last_error) == (
        DeliveryStatus.CANCELLED,
        "endpoint deactivated",
    )
    assert delivered.status == DeliveryStatus.DELIVERED


@pytest.mark.django_db
def test_replay_sends_a_delivered_row_again_from_attempt_one():
    with Receiver() as receiver:
        delivery = DeliveryFactory(
            endpoint=PostbackEndpointFactory(url=receiver.url()), next_attempt_at=START
        )
        with time_machine.travel(START, tick=False) as clock:
            delivery_attempt(delivery_id=delivery.pk)
            clock.shift(dt.timedelta(hours=1))
            replayed = delivery_replay(delivery=delivery)
            assert (replayed.status, replayed.attempt_count) == (DeliveryStatus.PENDING, 0)
            again = delivery_attempt(delivery_id=delivery.pk)

        assert again.is_success
        assert [r.headers["webhook-id"] for r in receiver.requests] == [str(delivery.event_id)] * 2
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count) == (DeliveryStatus.DELIVERED, 1)
    assert [row[0] for row in _attempt_rows(delivery)] == [1, 1]


@pytest.mark.django_db
def test_replay_refuses_a_pending_row_and_an_inactive_endpoint():
    pending = DeliveryFactory()
    failed = DeliveryFactory(
        endpoint=PostbackEndpointFactory(is_active=False), status=DeliveryStatus.FAILED
    )

    with pytest.raises(ApplicationError) as queued:
        delivery_replay(delivery=pending)
    with pytest.raises(ApplicationError) as inactive:
        delivery_replay(delivery=failed)

    assert (queued.value.code, queued.value.status) == ("delivery_pending", 409)
    assert (inactive.value.code, inactive.value.status) == ("endpoint_inactive", 409)
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.FAILED


@pytest.mark.django_db
def test_the_sweeper_queues_due_rows_and_expired_claims_only(
    eager_celery, django_capture_on_commit_callbacks
):
    with Receiver() as receiver:
        endpoint = PostbackEndpointFactory(url=receiver.url())
        due = DeliveryFactory(endpoint=endpoint, next_attempt_at=START - dt.timedelta(minutes=1))
        expired_claim = DeliveryFactory(
            endpoint=endpoint,
            next_attempt_at=START - dt.timedelta(minutes=3),
            locked_until=START - dt.timedelta(seconds=1),
        )
        claimed = DeliveryFactory(
            endpoint=endpoint, next_attempt_at=START, locked_until=START + dt.timedelta(seconds=9)
        )
        later = DeliveryFactory(endpoint=endpoint, next_attempt_at=START + dt.timedelta(hours=2))
        done = DeliveryFactory(endpoint=endpoint, status=DeliveryStatus.DELIVERED)

        with time_machine.travel(START, tick=False):
            published = deliveries_requeue_due()

        assert published == 2
        statuses = {
            d.pk: d.status
            for d in type(due).objects.filter(
                pk__in=[due.pk, expired_claim.pk, claimed.pk, later.pk, done.pk]
            )
        }
        assert statuses == {
            due.pk: DeliveryStatus.DELIVERED,
            expired_claim.pk: DeliveryStatus.DELIVERED,
            claimed.pk: DeliveryStatus.PENDING,
            later.pk: DeliveryStatus.PENDING,
            done.pk: DeliveryStatus.DELIVERED,
        }
        assert len(receiver.requests) == 2


@pytest.mark.django_db
def test_short_waits_ride_a_countdown_long_ones_wait_for_the_sweeper(
    django_capture_on_commit_callbacks,
):
    with Receiver(respond=_failing(100)) as receiver:
        delivery = DeliveryFactory(
            endpoint=PostbackEndpointFactory(url=receiver.url()), next_attempt_at=START
        )
        callbacks, waits = [], []
        with time_machine.travel(START, tick=False) as clock:
            for _ in range(4):
                with django_capture_on_commit_callbacks() as captured:
                    attempt = delivery_attempt(delivery_id=delivery.pk)
                callbacks.append(len(captured))
                delivery.refresh_from_db()
                waits.append((delivery.next_attempt_at - attempt.attempted_at).total_seconds())
                clock.move_to(delivery.next_attempt_at)

    # 5 s, 5 min +-20 % (over 300 s half the time), 30 min, 2 h: a message only up to 300 s
    assert callbacks == [1 if wait <= MAX_COUNTDOWN_SECONDS else 0 for wait in waits]
    assert callbacks[0] == 1
    assert callbacks[2:] == [0, 0]
