"""Forwarding: conversion events sent on to the affiliates' own servers (DESIGN.md section 4).

Outbox. Each status change of a conversion becomes one `Delivery` row per endpoint that wants it,
written by `deliveries_create_for_event` inside the transaction that changes the status; the
`deliver` task is enqueued only after that transaction commits. Publishing to the broker may fail
(Redis down): the failure is logged and swallowed, the row stays due, and the sweeper
(`deliveries_requeue_due`, on beat) queues it again. A lost message or a killed worker therefore
costs delay, never a delivery.

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
endpoint at once; an endpoint with no success for 5 days of failures is disabled too; its owner is
emailed either way and its pending deliveries are cancelled (replayable). Short waits (<= 300 s)
ride on a Celery countdown, longer ones live only in `next_attempt_at` for the sweeper.

Signatures follow Standard Webhooks: `webhook-id` (the delivery's event id), `webhook-timestamp`
(unix seconds of the attempt) and `webhook-signature: v1,<base64 HMAC-SHA256(key, signed)>` with
signed = f"{id}.{ts}.{body}", where key is the base64-decoded part of the `whsec_` secret; GET
requests sign the empty body.
During 24 h after a rotation both the new and the previous secret sign (space-separated).

Endpoint tests ("send a test" in the portal, the API and the console) are deliveries too, made by
`endpoint_test_create` and sent by the worker like any other: one attempt, never retried, at
most ENDPOINT_TESTS_PENDING_MAX waiting per affiliate. A slow receiver holds a worker for at
most the client's timeout, never a web process.
"""

import base64
import datetime as dt
import email.utils
import hashlib
import hmac
import json
import logging
import math
import secrets
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Affiliate
from campaigns.macros import MACRO_PATTERN, TemplateError, template_fill, template_validate
from campaigns.models import Campaign
from campaigns.selectors import campaign_get_for_affiliate
from core.exceptions import ApplicationError, NotFoundError
from core.http_client import HttpResult, UnsafeDestinationError, destination_check, http_send
from core.money import quantize_money
from core.tasks import enqueue_on_commit, tasks_publish
from tracker.models import (
    ChangeSource,
    Click,
    Conversion,
    ConversionHistory,
    ConversionStatus,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    EndpointMethod,
    ForwardEvent,
    PostbackEndpoint,
)

logger = logging.getLogger(__name__)

FORWARD_MACROS = frozenset(
    {
        "click_id",
        "transaction_id",
        "conversion_id",
        "event_id",
        "status",
        "payout",
        "currency",
        "points",
        "campaign_id",
        "offer_id",
        "affiliate_id",
        "sub1",
        "sub2",
        "sub3",
        "sub4",
        "sub5",
        "user_id",
        "country",
        "timestamp",
    }
)
DEFAULT_EVENTS = (ForwardEvent.APPROVED,)
URL_MAX_LENGTH = 2000
# Well-known ports below 1024 belong to other protocols (SSH, SMTP, ...): only 80 and 443 there.
ALLOWED_LOW_PORTS = frozenset({80, 443})

SECRET_PREFIX = "whsec_"  # noqa: S105 - a format prefix, not a secret
SECRET_BYTES = 32
SECRET_ROTATION_GRACE = dt.timedelta(hours=24)

# Delay before attempt n + 1 after attempt n failed; attempt 1 goes out at once.
RETRY_SCHEDULE_SECONDS = (0, 5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
MAX_ATTEMPTS = len(RETRY_SCHEDULE_SECONDS)
RETRY_JITTER = 0.2
RETRY_AFTER_MAX_SECONDS = 24 * 3600
# Longer waits are not handed to Celery (a countdown sits in the broker, invisible and fragile):
# the sweeper queues them when `next_attempt_at` comes.
MAX_COUNTDOWN_SECONDS = 300
DISABLE_AFTER_FAILING_FOR = dt.timedelta(days=5)
SWEEP_BATCH = 1000
AUTO_APPROVE_BATCH = 1000
AUTO_APPROVE_REASON = "auto_approved"

_random = secrets.SystemRandom()


# --- secrets and signatures --------------------------------------------------------------------


def endpoint_secret_new() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def webhook_signature(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256>` of `f"{msg_id}.{timestamp}.{body}"` (Standard Webhooks)."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


# --- endpoints ---------------------------------------------------------------------------------


def _invalid(field: str, message: str, code: str) -> ApplicationError:
    return ApplicationError(message, code=code, fields={field: [message]})


def endpoint_url_check(url: Any) -> str:
    """The URL template, or ApplicationError naming what is wrong (macro, scheme, port, host).

    The host cannot hold a macro (`template_validate`), so it is resolved here as saved; every
    address it resolves to must be public (loopback only with POSTBACK_ALLOW_PRIVATE_DESTINATIONS).
    The same rules are applied again when connecting, after DNS resolution.
    """
    if not isinstance(url, str) or not url.strip():
        raise _invalid("url", "The URL is required.", "invalid_url")
    url = url.strip()
    if len(url) > URL_MAX_LENGTH:
        raise _invalid("url", f"The URL is longer than {URL_MAX_LENGTH} characters.", "invalid_url")
    try:
        template_validate(url, allowed=FORWARD_MACROS)
    except TemplateError as exc:
        raise _invalid("url", str(exc), "invalid_url") from exc
    skeleton = MACRO_PATTERN.sub("x", url)
    try:
        destination_check(skeleton, resolve=False)
    except UnsafeDestinationError as exc:
        raise _invalid("url", str(exc), "unsafe_url") from exc
    port = urlsplit(skeleton).port
    if port is not None and port < 1024 and port not in ALLOWED_LOW_PORTS:
        raise _invalid(
            "url", f"Port {port} is not allowed: use 80, 443 or a port above 1023.", "unsafe_url"
        )
    try:
        destination_check(skeleton)
    except UnsafeDestinationError as exc:
        raise _invalid("url", str(exc), "unsafe_url") from exc
    return url


def _method_clean(method: Any) -> str:
    value = method.strip().upper() if isinstance(method, str) else ""
    if value not in EndpointMethod.values:
        raise _invalid("method", "Choose GET or POST.", "invalid_method")
    return value


def _events_clean(events: Any) -> list[str]:
    if isinstance(events, str):
        events = [part for part in events.replace(",", " ").split() if part]
    if not isinstance(events, list | tuple) or not events:
        raise _invalid(
            "events", f"Choose at least one of: {', '.join(ForwardEvent.values)}.", "invalid_events"
        )
    cleaned: list[str] = []
    for event in events:
        if event not in ForwardEvent.values:
            raise _invalid(
                "events",
                f"Unknown event {event!r}: choose from {', '.join(ForwardEvent.values)}.",
                "invalid_events",
            )
        if event not in cleaned:
            cleaned.append(event)
    return [event for event in ForwardEvent.values if event in cleaned]


def _campaign_clean(affiliate: Affiliate, campaign: Any) -> Campaign | None:
    if campaign in (None, ""):
        return None
    campaign_id = campaign.pk if isinstance(campaign, Campaign) else campaign
    try:
        campaign_id = int(campaign_id)
    except (TypeError, ValueError) as exc:
        raise _invalid("campaign", "A campaign id or null.", "invalid_campaign") from exc
    try:
        return campaign_get_for_affiliate(affiliate=affiliate, campaign_id=campaign_id)
    except ApplicationError as exc:
        raise _invalid("campaign", "Campaign not found.", "invalid_campaign") from exc


def _bool_clean(field: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise _invalid(field, "Must be true or false.", f"invalid_{field}")


def _name_clean(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value.strip()) > 100:
        raise _invalid("name", "At most 100 characters of text.", "invalid_name")
    return value.strip()


def endpoint_create(
    *,
    affiliate: Affiliate,
    url: str,
    method: str = EndpointMethod.GET,
    events: Iterable[str] | None = None,
    campaign: Campaign | int | None = None,
    is_active: bool = True,
    name: str = "",
    now: dt.datetime | None = None,
) -> PostbackEndpoint:
    """Save a new endpoint after linting it; its `secret` is generated here.

    The caller shows `secret` once (the API returns it only from create and rotate). Refusals
    are ApplicationError 400 with the field named: `invalid_url` (unknown macro, scheme, port),
    `unsafe_url` (credentials in the URL, a host resolving to a non-public address),
    `invalid_method`, `invalid_events`, `invalid_campaign` (not a campaign the affiliate sees).
    """
    now = now or timezone.now()
    return PostbackEndpoint.objects.create(
        affiliate=affiliate,
        name=_name_clean(name),
        url=endpoint_url_check(url),
        method=_method_clean(method),
        events=_events_clean(list(DEFAULT_EVENTS) if events is None else list(events)),
        campaign=_campaign_clean(affiliate, campaign),
        is_active=_bool_clean("is_active", is_active),
        secret=endpoint_secret_new(),
        created_at=now,
        updated_at=now,
    )


_UPDATABLE = frozenset({"name", "url", "method", "events", "campaign", "is_active"})


@transaction.atomic
def endpoint_update(
    *, endpoint: PostbackEndpoint, data: Mapping[str, Any], now: dt.datetime | None = None
) -> PostbackEndpoint:
    """Change some of `name url method events campaign is_active` (the same lint as create).

    Deactivating cancels the endpoint's pending deliveries (they can be replayed). Reactivating a
    disabled endpoint clears its disabled and failing state. Pending deliveries use the new URL
    and method from their next attempt on.
    """
    unknown = sorted(set(data) - _UPDATABLE)
    if unknown:
        raise ApplicationError(
            f"Unknown field(s): {', '.join(unknown)}.",
            code="unknown_field",
            fields={name: ["Not a field of a postback endpoint."] for name in unknown},
        )
    now = now or timezone.now()
    locked = (
        PostbackEndpoint.objects.select_for_update().select_related("affiliate").get(pk=endpoint.pk)
    )
    fields = ["updated_at"]
    if "name" in data:
        locked.name = _name_clean(data["name"])
        fields.append("name")
    if "url" in data:
        locked.url = endpoint_url_check(data["url"])
        fields.append("url")
    if "method" in data:
        locked.method = _method_clean(data["method"])
        fields.append("method")
    if "events" in data:
        locked.events = _events_clean(data["events"])
        fields.append("events")
    if "campaign" in data:
        locked.campaign = _campaign_clean(locked.affiliate, data["campaign"])
        fields.append("campaign")
    was_active = locked.is_active
    if "is_active" in data:
        locked.is_active = _bool_clean("is_active", data["is_active"])
        fields.append("is_active")
        if locked.is_active and not was_active:
            locked.disabled_at = None
            locked.disabled_reason = ""
            locked.failing_since = None
            fields += ["disabled_at", "disabled_reason", "failing_since"]
    locked.updated_at = now
    locked.save(update_fields=fields)
    if was_active and not locked.is_active:
        _deliveries_cancel_pending(endpoint_id=locked.pk, reason="endpoint deactivated", now=now)
    return locked


def endpoint_delete(*, endpoint: PostbackEndpoint) -> None:
    """Delete the endpoint with its deliveries and their attempts."""
    endpoint.delete()


@transaction.atomic
def endpoint_secret_rotate(
    *, endpoint: PostbackEndpoint, now: dt.datetime | None = None
) -> PostbackEndpoint:
    """Issue a new secret (returned once by the caller); the old one keeps signing for 24 h.

    A second rotation inside the grace period drops the first old secret at once.
    """
    now = now or timezone.now()
    locked = PostbackEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    locked.previous_secret = locked.secret
    locked.previous_secret_expires_at = now + SECRET_ROTATION_GRACE
    locked.secret = endpoint_secret_new()
    locked.updated_at = now
    locked.save(
        update_fields=["previous_secret", "previous_secret_expires_at", "secret", "updated_at"]
    )
    return locked


# --- payloads ----------------------------------------------------------------------------------


def _money_text(amount: Decimal) -> str:
    return str(quantize_money(Decimal(amount)))


def _unix(moment: dt.datetime) -> str:
    return str(int(moment.timestamp()))


def _click_values(click: Click, campaign: Campaign) -> dict[str, str]:
    return {
        "click_id": click.click_id,
        "campaign_id": str(click.campaign_id),
        "offer_id": campaign.external_offer_id or str(click.campaign_id),
        "affiliate_id": str(click.affiliate_id),
        "sub1": click.sub1,
        "sub2": click.sub2,
        "sub3": click.sub3,
        "sub4": click.sub4,
        "sub5": click.sub5,
    }


def conversion_event_values(
    *, conversion: Conversion, history: ConversionHistory
) -> dict[str, str]:
    """The macro values of one status change (everything but `event_id`), all strings.

    `payout` is the affiliate's payout (never the revenue). `points` is what the change credited
    (approved) or took back (leaving approved) for the conversion's end user, else 0.
    """
    to_status = history.to_status
    if conversion.user_id and to_status == ConversionStatus.APPROVED:
        points = conversion.points_awarded
    elif conversion.user_id and history.from_status == ConversionStatus.APPROVED:
        points = conversion.payout
    else:
        points = Decimal(0)
    values = _click_values(conversion.click, conversion.campaign)
    values.update(
        transaction_id=conversion.transaction_id,
        conversion_id=str(conversion.pk),
        status=to_status,
        payout=_money_text(conversion.payout),
        currency=conversion.currency,
        points=_money_text(points),
        user_id=conversion.user_id,
        country=conversion.country,
        timestamp=_unix(history.created_at),
    )
    return values


# --- creating deliveries (the outbox) ----------------------------------------------------------


def _endpoints_due(*, affiliate_id: int, campaign_id: int, event: str) -> list[PostbackEndpoint]:
    # `events` is a short JSON list: filtered here so SQLite (quickstart) works like PostgreSQL.
    endpoints = PostbackEndpoint.objects.filter(affiliate_id=affiliate_id, is_active=True).filter(
        Q(campaign__isnull=True) | Q(campaign_id=campaign_id)
    )
    return [endpoint for endpoint in endpoints if event in endpoint.events]


def _deliveries_insert(
    *,
    endpoints: list[PostbackEndpoint],
    conversion: Conversion | None,
    event: str,
    event_key: str,
    values: Mapping[str, str],
    now: dt.datetime,
) -> list[int]:
    rows = []
    for endpoint in endpoints:
        event_id = uuid.uuid4()
        rows.append(
            Delivery(
                endpoint=endpoint,
                conversion=conversion,
                event_id=event_id,
                event_key=event_key,
                event=event,
                payload={**values, "event_id": str(event_id)},
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
            )
        )
    # A second run for the same event (same key) inserts nothing: the unique constraint decides.
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    return list(
        Delivery.objects.filter(
            endpoint__in=endpoints,
            conversion=conversion,
            event_key=event_key,
            status=DeliveryStatus.PENDING,
            attempt_count=0,
        ).values_list("pk", flat=True)
    )


def deliveries_create_for_event(
    *, conversion: Conversion, history: ConversionHistory, now: dt.datetime
) -> list[int]:
    """Queue the status change `history` of `conversion` to every endpoint that wants it.

    Runs in the caller's transaction (the one that changed the status): the rows commit or roll
    back with the change, and the `deliver` tasks are published only after commit. Idempotent per
    (endpoint, conversion, history row). Returns the ids of the deliveries queued.
    """
    endpoints = _endpoints_due(
        affiliate_id=conversion.affiliate_id,
        campaign_id=conversion.campaign_id,
        event=history.to_status,
    )
    if not endpoints:
        return []
    ids = _deliveries_insert(
        endpoints=endpoints,
        conversion=conversion,
        event=history.to_status,
        event_key=f"history:{history.pk}",
        values=conversion_event_values(conversion=conversion, history=history),
        now=now,
    )
    deliveries_enqueue_on_commit(ids)
    return ids


def deliveries_create_for_test_postback(
    *,
    advertiser_id: int,
    click_id: str,
    revenue: Decimal | None,
    transaction_id: str = "",
    user_id: str = "",
    now: dt.datetime,
) -> list[int]:
    """A partner's `status=test` postback, forwarded to the click's affiliate's endpoints that
    subscribed to test events. Nothing when the click is unknown or not the advertiser's.

    The values are those a real conversion would carry (payout by the campaign's terms), with
    `status=test` and no conversion id. Each test postback is forwarded (no dedupe).
    """
    from tracker.services.conversions import conversion_money  # conversions imports this module

    click = (
        Click.objects.select_related("campaign")
        .filter(click_id=click_id, campaign__advertiser_id=advertiser_id)
        .first()
        if click_id
        else None
    )
    if click is None:
        return []
    endpoints = _endpoints_due(
        affiliate_id=click.affiliate_id, campaign_id=click.campaign_id, event=ForwardEvent.TEST
    )
    if not endpoints:
        return []
    _, payout = conversion_money(campaign=click.campaign, revenue=revenue)
    end_user = click.user_id or user_id
    values = _click_values(click, click.campaign)
    values.update(
        transaction_id=transaction_id,
        conversion_id="",
        status=ForwardEvent.TEST,
        payout=_money_text(payout),
        currency=click.campaign.currency,
        points=_money_text(payout if end_user else Decimal(0)),
        user_id=end_user,
        country=click.country,
        timestamp=_unix(now),
    )
    ids = _deliveries_insert(
        endpoints=endpoints,
        conversion=None,
        event=ForwardEvent.TEST,
        event_key=f"test:{uuid.uuid4()}",
        values=values,
        now=now,
    )
    deliveries_enqueue_on_commit(ids)
    return ids


# --- publishing --------------------------------------------------------------------------------


def deliveries_enqueue(delivery_ids: Iterable[int], *, countdown: int | None = None) -> int:
    """Publish one `deliver` task per id; returns how many were published.

    Never raises: with the broker unreachable the rows stay due in the database and the sweeper
    publishes them later.
    """
    from tracker.tasks import deliver  # tasks import this module

    kwargs_list = [{"delivery_id": delivery_id} for delivery_id in delivery_ids]
    return tasks_publish(deliver, kwargs_list, countdown=countdown)


def deliveries_enqueue_on_commit(delivery_ids: list[int], *, countdown: int | None = None) -> None:
    if delivery_ids:
        transaction.on_commit(lambda: deliveries_enqueue(delivery_ids, countdown=countdown))


# --- sending -----------------------------------------------------------------------------------


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
    delivery = Delivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.is_active:
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
    delivery = (
        Delivery.objects.select_for_update(of=("self",))
        .select_related("endpoint")
        .get(pk=delivery_id)
    )
    endpoint = delivery.endpoint
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
        PostbackEndpoint.objects.filter(pk=endpoint.pk).update(
            failing_since=None, last_success_at=now
        )
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

    PostbackEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(
        failing_since=now
    )
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
    if result.status_code == 410:
        endpoint_disable(endpoint_id=endpoint.pk, reason="the receiver answered 410 Gone", now=now)
    else:
        endpoints_disable_failing(now=now, endpoint_id=endpoint.pk)
    return attempt


# --- disabling, cancelling, replaying ----------------------------------------------------------


def _deliveries_cancel_pending(*, endpoint_id: int, reason: str, now: dt.datetime) -> int:
    # SKIP LOCKED: a row another worker is recording right now is left alone (no deadlock); its
    # next attempt finds the endpoint inactive and cancels it then.
    ids = list(
        Delivery.objects.select_for_update(skip_locked=True)
        .filter(endpoint_id=endpoint_id, status=DeliveryStatus.PENDING)
        .values_list("pk", flat=True)
    )
    return Delivery.objects.filter(pk__in=ids).update(
        status=DeliveryStatus.CANCELLED,
        next_attempt_at=None,
        locked_until=None,
        last_error=reason[:500],
        updated_at=now,
    )


@transaction.atomic
def endpoint_disable(*, endpoint_id: int, reason: str, now: dt.datetime | None = None) -> bool:
    """Disable an active endpoint, cancel its pending deliveries, email its owner after commit.

    True when this call disabled it; False when it was already inactive (no second email).
    """
    now = now or timezone.now()
    disabled = PostbackEndpoint.objects.filter(pk=endpoint_id, is_active=True).update(
        is_active=False, disabled_at=now, disabled_reason=reason[:255], updated_at=now
    )
    if not disabled:
        return False
    _deliveries_cancel_pending(
        endpoint_id=endpoint_id, reason=f"endpoint disabled: {reason}", now=now
    )
    from tracker.tasks import send_endpoint_disabled_email  # tasks import this module

    enqueue_on_commit(send_endpoint_disabled_email, endpoint_id=endpoint_id)
    return True


def endpoints_disable_failing(
    *, now: dt.datetime | None = None, endpoint_id: int | None = None
) -> list[int]:
    """Disable every active endpoint whose attempts have all failed for 5 days; their ids."""
    now = now or timezone.now()
    endpoints = PostbackEndpoint.objects.filter(
        is_active=True, failing_since__lte=now - DISABLE_AFTER_FAILING_FOR
    )
    if endpoint_id is not None:
        endpoints = endpoints.filter(pk=endpoint_id)
    disabled = []
    for pk in list(endpoints.values_list("pk", flat=True)):
        if endpoint_disable(endpoint_id=pk, reason="every attempt failed for 5 days", now=now):
            disabled.append(pk)
    return disabled


def endpoint_disabled_email_send(*, endpoint_id: int) -> None:
    """Tell the owner its endpoint is disabled and why (nothing if it is gone or active again)."""
    endpoint = (
        PostbackEndpoint.objects.select_related("affiliate__user").filter(pk=endpoint_id).first()
    )
    if endpoint is None or endpoint.is_active:
        return
    user = endpoint.affiliate.user
    lines = [
        f"Hello {user.name or user.email},",
        "",
        f"Your postback endpoint #{endpoint.pk} ({endpoint.method} {endpoint.url}) has been "
        f"disabled: {endpoint.disabled_reason}.",
        "",
        "Conversions are no longer forwarded to it. Fix the receiver, re-enable the endpoint in "
        "the portal, then replay the deliveries you missed.",
        "",
        f"{settings.PUBLIC_BASE_URL}/portal/",
    ]
    send_mail(
        subject=f"Postback endpoint #{endpoint.pk} disabled",
        message="\n".join(lines),
        from_email=None,
        recipient_list=[user.email],
    )


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
        .select_related("endpoint")
        .get(pk=delivery.pk)
    )
    if locked.status == DeliveryStatus.PENDING:
        raise ApplicationError(
            "This delivery is already queued.", code="delivery_pending", status=409
        )
    if not locked.endpoint.is_active:
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


def deliveries_requeue_due(*, now: dt.datetime | None = None, limit: int = SWEEP_BATCH) -> int:
    """Publish a task for every pending row that is due and not claimed (or its claim expired).

    A row that already has a message in the broker gets a second one: harmless, the claim lets
    one through. Returns how many were published.
    """
    now = now or timezone.now()
    ids = list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    return deliveries_enqueue(ids)


# --- endpoint tests ----------------------------------------------------------------------------

# Marks the deliveries an endpoint test created (a partner's `status=test` postback makes `test:`
# rows), so only the owner's own presses count against its limit.
ENDPOINT_TEST_KEY_PREFIX = "endpoint-test:"
# Tests waiting to be sent, per affiliate (all its endpoints together).
ENDPOINT_TESTS_PENDING_MAX = 5


@transaction.atomic
def endpoint_test_create(*, endpoint: PostbackEndpoint, now: dt.datetime | None = None) -> Delivery:
    """Queue a `test` event with sample values to the endpoint; a worker sends it after commit.

    The test is an ordinary delivery row with one attempt and no retry, so it is signed, checked
    against private destinations and sent by the hardened client (15 s timeout) exactly like a
    real forward, and it shows in the delivery log. The caller answers at once with the pending
    row; its attempt (status code, latency, response excerpt, error) is there when the worker has
    sent it. No web request ever waits on the receiver.

    Refused for an inactive endpoint (409 `endpoint_inactive`) and when the endpoint's affiliate
    already has ENDPOINT_TESTS_PENDING_MAX tests waiting (429 `too_many_tests`): one affiliate
    cannot fill the workers' queue. The affiliate's row is locked while counting (FOR NO KEY
    UPDATE, which clicks and postbacks referencing the affiliate do not wait on), so concurrent
    presses count each other.
    """
    now = now or timezone.now()
    # Lock, then count: concurrent presses of one affiliate wait here for each other.
    list(
        Affiliate.objects.select_for_update(no_key=True)
        .filter(pk=endpoint.affiliate_id)
        .values_list("pk", flat=True)
    )
    endpoint = PostbackEndpoint.objects.select_related("campaign").filter(pk=endpoint.pk).first()
    if endpoint is None:  # deleted since the caller read it
        raise NotFoundError("Postback endpoint not found.")
    if not endpoint.is_active:
        raise ApplicationError(
            "The endpoint is disabled: enable it before testing.",
            code="endpoint_inactive",
            status=409,
        )
    pending = Delivery.objects.filter(
        endpoint__affiliate_id=endpoint.affiliate_id,
        status=DeliveryStatus.PENDING,
        event_key__startswith=ENDPOINT_TEST_KEY_PREFIX,
    ).count()
    if pending >= ENDPOINT_TESTS_PENDING_MAX:
        raise ApplicationError(
            f"{pending} tests are still waiting to be sent: wait for their results before "
            "sending another.",
            code="too_many_tests",
            status=429,
        )
    event_id = uuid.uuid4()
    campaign_id = str(endpoint.campaign_id or 0)
    values = {
        "click_id": "test-click",
        "transaction_id": "test-transaction",
        "conversion_id": "0",
        "event_id": str(event_id),
        "status": ForwardEvent.TEST,
        "payout": "1.0000",
        "currency": endpoint.campaign.currency if endpoint.campaign else "USD",
        "points": "0.0000",
        "campaign_id": campaign_id,
        "offer_id": campaign_id,
        "affiliate_id": str(endpoint.affiliate_id),
        "sub1": "",
        "sub2": "",
        "sub3": "",
        "sub4": "",
        "sub5": "",
        "user_id": "",
        "country": "",
        "timestamp": _unix(now),
    }
    delivery = Delivery.objects.create(
        endpoint=endpoint,
        conversion=None,
        event_id=event_id,
        event_key=f"{ENDPOINT_TEST_KEY_PREFIX}{event_id}",
        event=ForwardEvent.TEST,
        payload=values,
        max_attempts=1,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )
    deliveries_enqueue_on_commit([delivery.pk])
    return delivery


# --- approval workflow (scheduled) -------------------------------------------------------------


@transaction.atomic
def conversion_auto_approve(*, conversion_id: int, now: dt.datetime | None = None) -> bool:
    """Approve one pending conversion whose campaign's `auto_approve_after_hours` has passed.

    Locks the row and checks it is still pending and due before calling
    `conversion_status_change` (source `system`), so a conversion rejected meanwhile is never
    re-approved. True when it was approved by this call.
    """
    from tracker.services.conversions import conversion_status_change  # imports this module

    now = now or timezone.now()
    conversion = (
        Conversion.objects.select_for_update(of=("self",))
        .select_related("campaign")
        .filter(pk=conversion_id)
        .first()
    )
    if conversion is None or conversion.status != ConversionStatus.PENDING:
        return False
    hours = conversion.campaign.auto_approve_after_hours
    if hours is None or conversion.created_at > now - dt.timedelta(hours=hours):
        return False
    conversion_status_change(
        conversion_id=conversion_id,
        status=ConversionStatus.APPROVED,
        actor=None,
        reason=AUTO_APPROVE_REASON,
        source=ChangeSource.SYSTEM,
    )
    return True


def conversions_auto_approve_due(*, now: dt.datetime | None = None) -> int:
    """Auto-approve every due pending conversion (one transaction each); how many were approved."""
    now = now or timezone.now()
    approved = 0
    campaigns = Campaign.objects.filter(auto_approve_after_hours__isnull=False).values_list(
        "pk", "auto_approve_after_hours"
    )
    for campaign_id, hours in campaigns:
        due = Conversion.objects.filter(
            campaign_id=campaign_id,
            status=ConversionStatus.PENDING,
            created_at__lte=now - dt.timedelta(hours=hours),
        ).order_by("created_at")
        for conversion_id in list(due.values_list("pk", flat=True)[:AUTO_APPROVE_BATCH]):
            if conversion_auto_approve(conversion_id=conversion_id, now=now):
                approved += 1
    return approved
