"""The operator's webhooks: saving them (URL SSRF-checked like an affiliate's endpoint), and
turning each network event (`core.operator_events`) into one signed delivery per webhook that
subscribes to it.

Dispatch. An event row commits with its change; `dispatch_operator_event` (published after that
commit) locks it, writes one `Delivery` per active webhook that wants its type, marks it
dispatched and publishes the `deliver` tasks after commit. Deliveries then follow the forwarding
outbox's rules: signed per Standard Webhooks, retried on the same schedule, replayable in the
console. A webhook is never disabled on its own (the operator watches its deliveries); an
inactive one gets nothing. The sweeper dispatches any event still undispatched a minute later
(a lost publish, a crashed task), so each event is delivered, once per webhook: the event row
is locked and marked, and (webhook, event) is unique.
"""

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from campaigns.macros import MACRO_PATTERN
from core.audit import audit_record, audit_snapshot
from core.exceptions import ApplicationError
from core.models import AuditSource, OperatorEvent, OperatorEventType
from core.operator_events import operator_event_body
from forwarding.models import Delivery, OperatorWebhook
from forwarding.services.endpoints import endpoint_url_check
from forwarding.services.outbox import deliveries_enqueue_on_commit
from forwarding.signing import endpoint_secret_new

OPERATOR_EVENT_KEY_PREFIX = "operator:"
# How long an undispatched event is left to its own task before the sweeper takes it.
DISPATCH_GRACE = dt.timedelta(minutes=1)
DISPATCH_BATCH = 500

_AUDITED_FIELDS = ("name", "url", "events", "is_active", "secret")
_UPDATABLE = frozenset({"name", "url", "events", "is_active"})


def _invalid(field: str, message: str, code: str) -> ApplicationError:
    return ApplicationError(message, code=code, fields={field: [message]})


def operator_webhook_url_check(url: Any) -> str:
    """The URL, or ApplicationError: no macros, then the checks of an affiliate's endpoint."""
    if isinstance(url, str) and MACRO_PATTERN.search(url):
        raise _invalid("url", "An operator webhook's URL takes no macros.", "invalid_url")
    return endpoint_url_check(url)


def _events_clean(events: Any) -> list[str]:
    choices = ", ".join(OperatorEventType.values)
    if not isinstance(events, list | tuple) or not events:
        raise _invalid("events", f"Choose at least one of: {choices}.", "invalid_events")
    for event in events:
        if event not in OperatorEventType.values:
            raise _invalid(
                "events", f"Unknown event {event!r}: choose from {choices}.", "invalid_events"
            )
    return [event for event in OperatorEventType.values if event in events]


def _name_clean(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value.strip()) > 100:
        raise _invalid("name", "At most 100 characters of text.", "invalid_name")
    return value.strip()


def _bool_clean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise _invalid("is_active", "Must be true or false.", "invalid_is_active")


def _audit(
    webhook: OperatorWebhook,
    *,
    action: str,
    actor: User | None,
    source: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
) -> None:
    audit_record(
        actor=actor,
        source=source,
        action=action,
        obj_type=OperatorWebhook,
        obj_id=webhook.pk,
        obj_repr=str(webhook),
        before=before,
        after=after,
    )


@transaction.atomic
def operator_webhook_create(
    *,
    url: str,
    events: Iterable[str],
    name: str = "",
    is_active: bool = True,
    actor: User | None = None,
    source: str = AuditSource.SYSTEM,
    now: dt.datetime | None = None,
) -> OperatorWebhook:
    """Save a webhook; its `secret` is generated here and shown once by the caller.

    Refusals are ApplicationError 400 naming the field: `invalid_url` (a macro, a bad scheme or
    port), `unsafe_url` (credentials in the URL, a host resolving to a non-public address),
    `invalid_events`, `invalid_name`, `invalid_is_active`.
    """
    now = now or timezone.now()
    webhook = OperatorWebhook.objects.create(
        name=_name_clean(name),
        url=operator_webhook_url_check(url),
        events=_events_clean(list(events)),
        is_active=_bool_clean(is_active),
        secret=endpoint_secret_new(),
        created_at=now,
        updated_at=now,
    )
    _audit(
        webhook,
        action="create",
        actor=actor,
        source=source,
        before={},
        after=audit_snapshot(webhook, _AUDITED_FIELDS),
    )
    return webhook


@transaction.atomic
def operator_webhook_update(
    *,
    webhook: OperatorWebhook,
    data: Mapping[str, Any],
    actor: User | None = None,
    source: str = AuditSource.SYSTEM,
    now: dt.datetime | None = None,
) -> OperatorWebhook:
    """Change some of `name url events is_active` (the same checks as create).

    Deliveries already queued keep going to the webhook's current URL; an inactive webhook's
    pending deliveries are cancelled at their next attempt (replayable).
    """
    unknown = sorted(set(data) - _UPDATABLE)
    if unknown:
        raise ApplicationError(
            f"Unknown field(s): {', '.join(unknown)}.",
            code="unknown_field",
            fields={name: ["Not a field of an operator webhook."] for name in unknown},
        )
    locked = OperatorWebhook.objects.select_for_update().get(pk=webhook.pk)
    before = audit_snapshot(locked, _AUDITED_FIELDS)
    if "name" in data:
        locked.name = _name_clean(data["name"])
    if "url" in data:
        locked.url = operator_webhook_url_check(data["url"])
    if "events" in data:
        locked.events = _events_clean(data["events"])
    if "is_active" in data:
        locked.is_active = _bool_clean(data["is_active"])
    locked.updated_at = now or timezone.now()
    locked.save(update_fields=[*(name for name in data), "updated_at"])
    _audit(
        locked,
        action="update",
        actor=actor,
        source=source,
        before=before,
        after=audit_snapshot(locked, _AUDITED_FIELDS),
    )
    return locked


@transaction.atomic
def operator_webhook_delete(
    *, webhook: OperatorWebhook, actor: User | None = None, source: str = AuditSource.SYSTEM
) -> None:
    """Delete the webhook with its deliveries and their attempts (a missing one: no-op)."""
    locked = OperatorWebhook.objects.select_for_update().filter(pk=webhook.pk).first()
    if locked is None:
        return
    _audit(
        locked,
        action="delete",
        actor=actor,
        source=source,
        before=audit_snapshot(locked, _AUDITED_FIELDS),
        after={},
    )
    locked.delete()


@transaction.atomic
def operator_event_dispatch(*, event_id: int, now: dt.datetime | None = None) -> list[int]:
    """Queue the event to every active webhook that wants it; the queued delivery ids.

    Harmless to repeat: the event row is locked (SKIP LOCKED: a concurrent dispatch of it
    leaves it to the first), a dispatched event is skipped, and (webhook, event) is unique.
    """
    now = now or timezone.now()
    event = (
        OperatorEvent.objects.select_for_update(skip_locked=True)
        .filter(pk=event_id, dispatched_at__isnull=True)
        .first()
    )
    if event is None:
        return []
    webhooks = [
        webhook
        for webhook in OperatorWebhook.objects.filter(is_active=True).order_by("pk")
        if event.type in webhook.events
    ]
    body = operator_event_body(event)
    event_key = f"{OPERATOR_EVENT_KEY_PREFIX}{event.pk}"
    Delivery.objects.bulk_create(
        [
            Delivery(
                operator_webhook=webhook,
                event_id=uuid.uuid4(),
                event_key=event_key,
                event=event.type,
                payload=body,
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
            )
            for webhook in webhooks
        ],
        ignore_conflicts=True,
    )
    event.dispatched_at = now
    event.save(update_fields=["dispatched_at"])
    ids = list(
        Delivery.objects.filter(
            operator_webhook__in=webhooks, event_key=event_key, attempt_count=0
        ).values_list("pk", flat=True)
    )
    deliveries_enqueue_on_commit(ids)
    return ids


def operator_events_dispatch_due(*, now: dt.datetime | None = None) -> int:
    """Dispatch the events left undispatched past DISPATCH_GRACE; how many were dispatched."""
    now = now or timezone.now()
    due = list(
        OperatorEvent.objects.filter(
            dispatched_at__isnull=True, created_at__lte=now - DISPATCH_GRACE
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:DISPATCH_BATCH]
    )
    for event_id in due:
        operator_event_dispatch(event_id=event_id, now=now)
    return len(due)
