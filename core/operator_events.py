"""Network events for the operator's webhooks, emitted by the services where they happen.

Each `operator_event_<name>` function below is the one way to emit its event; its docstring is
the event's `data`. They write an `OperatorEvent` row in the caller's transaction (an event
exists exactly when its change committed) and, after commit, ask the forwarding app to fan it
out into one signed delivery per subscribed operator webhook. The forwarding app comes after
every app that emits, so the task is named, not imported; when the publish is lost the
forwarding sweeper dispatches the event anyway (`operator_events_dispatch_due`).

Every webhook body is `{"type", "id", "created_at", "data"}`: `id` is the event's id (the same
for every webhook that receives it; each delivery has its own `webhook-id` header), `data` holds
ids and plain values, never secrets. docs/operations.md lists the events and their data.
"""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.models import OperatorEvent, OperatorEventType
from core.tasks import enqueue_on_commit

# The forwarding app's task that turns an event into deliveries (see the module docstring).
DISPATCH_TASK = "forwarding.tasks.dispatch_operator_event"


def operator_event_emit(
    *,
    type: str,
    data: dict[str, Any],
    dedupe_key: str | None = None,
    now: dt.datetime | None = None,
) -> OperatorEvent | None:
    """Record an event in the caller's transaction and dispatch it after commit.

    With `dedupe_key`, a second event with the same key is not recorded (None is returned):
    the unique constraint decides, so two concurrent emitters record one event.
    """
    if type not in OperatorEventType.values:
        raise ValueError(f"unknown operator event type {type!r}")
    if dedupe_key is not None and OperatorEvent.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    try:
        with transaction.atomic():
            event = OperatorEvent.objects.create(
                type=type, data=data, dedupe_key=dedupe_key, created_at=now or timezone.now()
            )
    except IntegrityError:
        return None
    enqueue_on_commit(DISPATCH_TASK, event_id=event.pk)
    return event


def operator_event_body(event: OperatorEvent) -> dict[str, Any]:
    """The JSON body every operator webhook receives for `event`."""
    return {
        "type": event.type,
        "id": str(event.event_id),
        "created_at": event.created_at.isoformat(),
        "data": event.data,
    }


def operator_event_partner_signed_up(
    *, user_id: int, role: str, profile_id: int, status: str
) -> OperatorEvent | None:
    """`partner.signed_up`: an advertiser or affiliate registered.

    data: `user_id`, `role` (`advertiser` | `affiliate`), `profile_id` (the advertiser's or
    affiliate's id), `status` (`pending` unless created approved).
    """
    return operator_event_emit(
        type=OperatorEventType.PARTNER_SIGNED_UP,
        data={"user_id": user_id, "role": role, "profile_id": profile_id, "status": status},
    )


def operator_event_application_created(
    *, application_id: int, campaign_id: int, affiliate_id: int, status: str
) -> OperatorEvent | None:
    """`application.created`: an affiliate applied to a campaign.

    data: `application_id`, `campaign_id`, `affiliate_id`, `status` (`pending` for a campaign
    by approval, `approved` for a public one).
    """
    return operator_event_emit(
        type=OperatorEventType.APPLICATION_CREATED,
        data={
            "application_id": application_id,
            "campaign_id": campaign_id,
            "affiliate_id": affiliate_id,
            "status": status,
        },
    )


def operator_event_cap_reached(
    *,
    cap_id: int,
    campaign_id: int,
    affiliate_id: int | None,
    scope: str,
    period: str,
    metric: str,
    limit: Decimal,
    period_start: dt.date,
) -> OperatorEvent | None:
    """`cap.reached`: the first conversion refused by a cap in one of its periods.

    Once per cap and period (and per affiliate for a per-affiliate cap), whatever the number of
    conversions refused after it. data: `cap_id`, `campaign_id`, `affiliate_id` (the affiliate
    whose conversion was refused), `scope` (`campaign` | `affiliate`), `period` (`day` | `week`
    | `month` | `total`), `metric` (`conversions` | `payout`), `limit` (a string, `"100.0000"`),
    `period_start` (the period's first day in the campaign's time zone, `YYYY-MM-DD`).
    """
    counter = affiliate_id if scope == "affiliate" else 0
    return operator_event_emit(
        type=OperatorEventType.CAP_REACHED,
        data={
            "cap_id": cap_id,
            "campaign_id": campaign_id,
            "affiliate_id": affiliate_id,
            "scope": scope,
            "period": period,
            "metric": metric,
            "limit": str(limit),
            "period_start": period_start.isoformat(),
        },
        dedupe_key=f"cap.reached:{cap_id}:{counter}:{period_start.isoformat()}",
    )


def operator_event_payout_requested(
    *, payout_id: int, affiliate_id: int, amount: Decimal, currency: str
) -> OperatorEvent | None:
    """`payout.requested`: an affiliate asked to be paid.

    data: `payout_id`, `affiliate_id`, `amount` (a string, `"50.0000"`), `currency`.
    """
    return operator_event_emit(
        type=OperatorEventType.PAYOUT_REQUESTED,
        data={
            "payout_id": payout_id,
            "affiliate_id": affiliate_id,
            "amount": str(amount),
            "currency": currency,
        },
    )


def operator_event_endpoint_disabled(
    *, endpoint_id: int, affiliate_id: int, reason: str
) -> OperatorEvent | None:
    """`endpoint.disabled`: an affiliate's postback endpoint was disabled (failing for 5 days,
    410 Gone, or by an admin).

    data: `endpoint_id`, `affiliate_id`, `reason` (the text its owner is emailed).
    """
    return operator_event_emit(
        type=OperatorEventType.ENDPOINT_DISABLED,
        data={"endpoint_id": endpoint_id, "affiliate_id": affiliate_id, "reason": reason},
    )


def operator_event_fraud_threshold(
    *,
    rule: str,
    affiliate_id: int,
    campaign_id: int | None,
    count: int,
    threshold: int,
    window_start: dt.datetime,
    window_end: dt.datetime,
    now: dt.datetime | None = None,
) -> OperatorEvent | None:
    """`fraud.threshold`: a fraud rule counted more suspicious events than it allows.

    Emitted by the conversion fraud checks (rule `conversion_fraud_rejections`: an affiliate's
    conversions rejected for fraud on a campaign in one clock hour reached the campaign's
    threshold; docs/fraud.md). Once per rule, affiliate, campaign and window. data: `rule` (the
    rule's name), `affiliate_id`, `campaign_id` (null for a rule across campaigns), `count`,
    `threshold`, `window_start`, `window_end` (ISO 8601).
    """
    return operator_event_emit(
        type=OperatorEventType.FRAUD_THRESHOLD,
        data={
            "rule": rule,
            "affiliate_id": affiliate_id,
            "campaign_id": campaign_id,
            "count": count,
            "threshold": threshold,
            "window_start": window_start.isoformat(),
            "window_end": window_end.isoformat(),
        },
        dedupe_key=(
            f"fraud.threshold:{rule}:{affiliate_id}:{campaign_id or 0}:{window_start.isoformat()}"
        ),
        now=now,
    )
