"""The outbox: one `Delivery` row per event and endpoint that wants it, written in the caller's
transaction, and the `deliver` tasks published after it commits.

Publishing to the broker may fail (Redis down): the failure is logged and swallowed, the row
stays due, and the sweeper (`deliveries_requeue_due`, on beat) queues it again. A lost message or
a killed worker therefore costs delay, never a delivery.

The values of an event (its macros) are the caller's: the tracker knows conversions and clicks,
this app only stores and sends what it is given (`forward_money_text` and `unix_text` format
them the same way everywhere).
"""

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.money import quantize_money
from core.tasks import tasks_publish
from forwarding.models import Delivery, DeliveryStatus, PostbackEndpoint
from forwarding.tasks import deliver

SWEEP_BATCH = 1000


def forward_money_text(amount: Decimal) -> str:
    """An amount as forwarded: a plain decimal with 4 places (`5.0000`)."""
    return str(quantize_money(Decimal(amount)))


def unix_text(moment: dt.datetime) -> str:
    return str(int(moment.timestamp()))


def endpoints_due(
    *, affiliate_id: int, campaign_id: int, event: str, conversion_event: str = ""
) -> list[PostbackEndpoint]:
    """The affiliate's active endpoints that want `event` (a status) of this campaign's
    `conversion_event` (its code; an endpoint with no codes wants every one)."""
    # `events` is a short JSON list: filtered here so SQLite (quickstart) works like PostgreSQL.
    endpoints = PostbackEndpoint.objects.filter(affiliate_id=affiliate_id, is_active=True).filter(
        Q(campaign__isnull=True) | Q(campaign_id=campaign_id)
    )
    return [
        endpoint
        for endpoint in endpoints
        if event in endpoint.events
        and (not endpoint.conversion_events or conversion_event in endpoint.conversion_events)
    ]


def _deliveries_insert(
    *,
    endpoints: list[PostbackEndpoint],
    conversion_id: int | None,
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
                conversion_id=conversion_id,
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
            conversion_id=conversion_id,
            event_key=event_key,
            status=DeliveryStatus.PENDING,
            attempt_count=0,
        ).values_list("pk", flat=True)
    )


def deliveries_create(
    *,
    affiliate_id: int,
    campaign_id: int,
    event: str,
    event_key: str,
    conversion_id: int | None,
    values: Mapping[str, str],
    now: dt.datetime,
    conversion_event: str = "",
) -> list[int]:
    """Queue one event to every endpoint of the affiliate that wants it; the queued ids.

    Runs in the caller's transaction (the one that made the event): the rows commit or roll back
    with it, and the `deliver` tasks are published only after commit. `event_key` names the
    event: a second call with the same key for the same endpoint and conversion inserts nothing
    (the unique constraint decides), so an event is queued once per endpoint. `values` are the
    event's macro values, all strings; each row adds its own `event_id`.
    """
    endpoints = endpoints_due(
        affiliate_id=affiliate_id,
        campaign_id=campaign_id,
        event=event,
        conversion_event=conversion_event,
    )
    if not endpoints:
        return []
    ids = _deliveries_insert(
        endpoints=endpoints,
        conversion_id=conversion_id,
        event=event,
        event_key=event_key,
        values=values,
        now=now,
    )
    deliveries_enqueue_on_commit(ids)
    return ids


def deliveries_enqueue(delivery_ids: Iterable[int], *, countdown: int | None = None) -> int:
    """Publish one `deliver` task per id; returns how many were published.

    Never raises: with the broker unreachable the rows stay due in the database and the sweeper
    publishes them later.
    """
    kwargs_list = [{"delivery_id": delivery_id} for delivery_id in delivery_ids]
    return tasks_publish(deliver, kwargs_list, countdown=countdown)


def deliveries_enqueue_on_commit(delivery_ids: list[int], *, countdown: int | None = None) -> None:
    if delivery_ids:
        transaction.on_commit(lambda: deliveries_enqueue(delivery_ids, countdown=countdown))


def deliveries_cancel_pending(*, endpoint_id: int, reason: str, now: dt.datetime) -> int:
    """Cancel the endpoint's pending deliveries (each can be replayed later); how many."""
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
