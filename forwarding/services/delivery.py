"""Sending one delivery: claim, request, attempt record, retry schedule; and replays.

Claim. `delivery_attempt` claims a row with one conditional UPDATE (pending, due, and not claimed
or the claim expired) that sets `locked_until`; a second worker holding the same message updates
zero rows and does nothing. The HTTP request runs outside any transaction. The attempt row and
the row's new state are written together in one transaction, so a row is marked delivered in
the same commit that records its successful attempt. A worker killed between sending and that
commit leaves the claim to expire; the row is then sent again. Receivers may therefore see one
`webhook-id` twice (at-least-once delivery) and should dedupe on it, as Standard Webhooks says.

Retries: attempt 1 at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h after each failure
(+-20 % jitter), 8 attempts in all; a `Retry-After` (seconds or HTTP date, capped at 24 h) that
asks for longer wins. Any non-2xx is a failure (3xx included: redirects are never followed) and
is retried: a misconfigured receiver often gets fixed within the schedule. 410 Gone disables the
endpoint at once; an endpoint with no success for 5 days of failures is disabled too
(`forwarding.services.endpoints`). Short waits (<= 300 s) ride on a Celery countdown, longer ones
live only in `next_attempt_at` for the sweeper.
"""

import datetime as dt
import email.utils
import json
import math
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from campaigns.macros import template_fill
from core.exceptions import ApplicationError
from core.http_client import HttpResult, http_send
from forwarding.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    EndpointMethod,
    OperatorWebhook,
    PostbackEndpoint,
)
from forwarding.services.endpoints import endpoint_disable, endpoints_disable_failing
from forwarding.services.outbox import deliveries_enqueue_on_commit
from forwarding.signing import webhook_signature
from forwarding.tasks import MAX_COUNTDOWN_SECONDS

# Delay before attempt n + 1 after attempt n failed; attempt 1 goes out at once.
RETRY_SCHEDULE_SECONDS = (0, 5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
MAX_ATTEMPTS = len(RETRY_SCHEDULE_SECONDS)
RETRY_JITTER = 0.2
RETRY_AFTER_MAX_SECONDS = 24 * 3600

_random = secrets.SystemRandom()


@dataclass(frozen=True)
class ForwardRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes


def delivery_request_build(
    *, delivery: Delivery, endpoint: PostbackEndpoint, now: dt.datetime
) -> ForwardRequest:
    """The exact request of one attempt: URL filled (every value percent-encoded), JSON body for
    POST (the same values), Standard Webhooks headers signed with the current secret(s)."""
    values = {name: str(value) for name, value in delivery.payload.items()}
    values["event_id"] = str(delivery.event_id)
    url = template_fill(endpoint.url, values)
    body = b""
    headers: dict[str, str] = {}
    if endpoint.method == EndpointMethod.POST:
        body = json.dumps(values, separators=(",", ":"), sort_keys=True).encode()
        headers["Content-Type"] = "application/json"
    timestamp = int(now.timestamp())
    msg_id = str(delivery.event_id)
    signatures = [
        webhook_signature(secret=endpoint.secret, msg_id=msg_id, timestamp=timestamp, body=body)
    ]
    if (
        endpoint.previous_secret
        and endpoint.previous_secret_expires_at
        and endpoint.previous_secret_expires_at > now
    ):
        signatures.append(
            webhook_signature(
                secret=endpoint.previous_secret, msg_id=msg_id, timestamp=timestamp, body=body
            )
        )
    headers.update(
        {
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": " ".join(signatures),
        }
    )
    return ForwardRequest(method=endpoint.method, url=url, headers=headers, body=body)


def operator_delivery_request_build(
    *, delivery: Delivery, webhook: OperatorWebhook, now: dt.datetime
) -> ForwardRequest:
    """An operator webhook's request: its stored body (`{"type", "id", "created_at", "data"}`)
    POSTed as JSON, with the same Standard Webhooks headers as a forward."""
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = int(now.timestamp())
    msg_id = str(delivery.event_id)
    return ForwardRequest(
        method=EndpointMethod.POST,
        url=webhook.url,
        headers={
            "Content-Type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": webhook_signature(
                secret=webhook.secret, msg_id=msg_id, timestamp=timestamp, body=body
            ),
        },
        body=body,
    )


def retry_after_seconds(value: str | None, *, now: dt.datetime) -> int | None:
    """`Retry-After` as seconds from `now` (delta-seconds or HTTP date), capped at 24 h."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        seconds = int(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        seconds = int((when - now).total_seconds())
    return min(max(seconds, 0), RETRY_AFTER_MAX_SECONDS)


def retry_delay_seconds(*, attempt_count: int, retry_after: float | None = None) -> float:
    """Seconds to wait after the failed attempt number `attempt_count` (1-based)."""
    base = RETRY_SCHEDULE_SECONDS[min(attempt_count, MAX_ATTEMPTS - 1)]
    delay = base * _random.uniform(1 - RETRY_JITTER, 1 + RETRY_JITTER)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


def _claim_seconds() -> int:
    return settings.FORWARDING_CLAIM_SECONDS


def _delivery_claim(*, delivery_id: int, now: dt.datetime) -> dt.datetime | None:
    claim_until = now + dt.timedelta(seconds=_claim_seconds())
    claimed = (
        Delivery.objects.filter(
            pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
        )
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(locked_until=claim_until)
    )
    return claim_until if claimed else None


def delivery_attempt(*, delivery_id: int, now: dt.datetime | None = None) -> DeliveryAttempt | None:
    """Make one attempt of a due delivery, if this caller wins the claim; else return None.

    Not inside a transaction: the claim commits first, the HTTP request (at most ~20 s) holds no
    database lock, then `_attempt_record` writes the outcome in one transaction. Safe to call any
    number of times for one row: only a due, unclaimed row is sent, and a delivered row never
    again (replay aside).
    """
    now = now or timezone.now()
    claim_until = _delivery_claim(delivery_id=delivery_id, now=now)
    if claim_until is None:
        return None
    delivery = Delivery.objects.select_related("endpoint", "operator_webhook").get(pk=delivery_id)
    endpoint = delivery.endpoint
    webhook = delivery.operator_webhook
    receiver = endpoint or webhook
    if receiver is None or not receiver.is_active:
        with transaction.atomic():
            Delivery.objects.filter(
                pk=delivery_id, status=DeliveryStatus.PENDING, locked_until=claim_until
            ).update(
                status=DeliveryStatus.CANCELLED,
                next_attempt_at=None,
                locked_until=None,
                last_error="endpoint inactive",
                updated_at=now,
            )
        return None
    if webhook is not None:
        request = operator_delivery_request_build(delivery=delivery, webhook=webhook, now=now)
    else:
        assert endpoint is not None  # noqa: S101 - a check constraint: one receiver is set
        request = delivery_request_build(delivery=delivery, endpoint=endpoint, now=now)
    result = http_send(
        method=request.method,
        url=request.url,
        headers=request.headers,
        body=request.body if request.method == EndpointMethod.POST else None,
    )
    return _attempt_record(
        delivery_id=delivery_id, claim_until=claim_until, url=request.url, result=result, now=now
    )


@transaction.atomic
def _attempt_record(
    *, delivery_id: int, claim_until: dt.datetime, url: str, result: HttpResult, now: dt.datetime
) -> DeliveryAttempt:
    delivery = Delivery.objects.select_for_update(of=("self",)).get(pk=delivery_id)
    # The receiver's health columns: an affiliate's endpoint, or an operator webhook.
    receivers: QuerySet[PostbackEndpoint] | QuerySet[OperatorWebhook] = (
        PostbackEndpoint.objects.filter(pk=delivery.endpoint_id)
        if delivery.endpoint_id is not None
        else OperatorWebhook.objects.filter(pk=delivery.operator_webhook_id or 0)
    )
    holds_claim = delivery.status == DeliveryStatus.PENDING and delivery.locked_until == claim_until
    attempt = DeliveryAttempt.objects.create(
        delivery=delivery,
        attempt_number=delivery.attempt_count + 1,
        attempted_at=now,
        request_url=url,
        status_code=result.status_code,
        latency_ms=result.latency_ms,
        response_excerpt=result.response_excerpt,
        error=result.error[:500],
        is_success=result.is_success,
    )
    if result.is_success:
        receivers.update(failing_since=None, last_success_at=now)
        # Someone else's expired claim may still be in flight: a success is a success anyway.
        if delivery.status == DeliveryStatus.PENDING:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            delivery.locked_until = None
            delivery.attempt_count += 1
            delivery.last_status_code = result.status_code
            delivery.last_error = ""
            delivery.updated_at = now
            delivery.save(
                update_fields=[
                    "status",
                    "delivered_at",
                    "next_attempt_at",
                    "locked_until",
                    "attempt_count",
                    "last_status_code",
                    "last_error",
                    "updated_at",
                ]
            )
        return attempt

    receivers.filter(failing_since__isnull=True).update(failing_since=now)
    if not holds_claim:
        # Another worker took the row over after our claim expired; its outcome decides.
        return attempt
    delivery.attempt_count += 1
    delivery.last_status_code = result.status_code
    delivery.last_error = result.error or f"HTTP {result.status_code}"
    delivery.locked_until = None
    delivery.updated_at = now
    countdown: int | None = None
    if result.status_code == 410 or delivery.attempt_count >= delivery.max_attempts:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
    else:
        delay = retry_delay_seconds(
            attempt_count=delivery.attempt_count,
            retry_after=retry_after_seconds(result.retry_after, now=now),
        )
        delivery.next_attempt_at = now + dt.timedelta(seconds=delay)
        if delay <= MAX_COUNTDOWN_SECONDS:
            countdown = math.ceil(delay)
    delivery.save(
        update_fields=[
            "attempt_count",
            "last_status_code",
            "last_error",
            "locked_until",
            "updated_at",
            "status",
            "next_attempt_at",
        ]
    )
    if countdown is not None:
        deliveries_enqueue_on_commit([delivery.pk], countdown=countdown)
    if delivery.endpoint_id is None:
        return attempt  # operator webhooks are never disabled on their own
    if result.status_code == 410:
        endpoint_disable(
            endpoint_id=delivery.endpoint_id, reason="the receiver answered 410 Gone", now=now
        )
    else:
        endpoints_disable_failing(now=now, endpoint_id=delivery.endpoint_id)
    return attempt


@transaction.atomic
def delivery_replay(*, delivery: Delivery, now: dt.datetime | None = None) -> Delivery:
    """Send a delivered, failed or cancelled delivery again, from attempt 1 of the schedule.

    The row is reused (same `webhook-id`: it is the same event; a receiver that dedupes on it
    will see a replay of a delivered event as a repeat) and its earlier attempts are kept. A
    pending row is refused (409 `delivery_pending`: it is already queued), and so is a row whose
    endpoint is inactive (409 `endpoint_inactive`: re-enable it first).
    """
    now = now or timezone.now()
    locked = (
        Delivery.objects.select_for_update(of=("self",))
        .select_related("endpoint", "operator_webhook")
        .get(pk=delivery.pk)
    )
    receiver = locked.endpoint or locked.operator_webhook
    if locked.status == DeliveryStatus.PENDING:
        raise ApplicationError(
            "This delivery is already queued.", code="delivery_pending", status=409
        )
    if receiver is None or not receiver.is_active:
        raise ApplicationError(
            "The endpoint is disabled: enable it before replaying.",
            code="endpoint_inactive",
            status=409,
        )
    locked.status = DeliveryStatus.PENDING
    locked.attempt_count = 0
    locked.next_attempt_at = now
    locked.locked_until = None
    locked.delivered_at = None
    locked.last_error = ""
    locked.updated_at = now
    locked.save(
        update_fields=[
            "status",
            "attempt_count",
            "next_attempt_at",
            "locked_until",
            "delivered_at",
            "last_error",
            "updated_at",
        ]
    )
    deliveries_enqueue_on_commit([locked.pk])
    return locked
