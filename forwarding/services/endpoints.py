"""The affiliates' postback endpoints: saving them (URL linted, SSRF-checked), rotating their
signing secret, disabling them, and endpoint tests.

An endpoint with no success for 5 days of failures, or one whose receiver answered 410 Gone, is
disabled: its owner is emailed and its pending deliveries are cancelled (replayable).

Endpoint tests ("send a test" in the portal, the API and the console) are deliveries too, made by
`endpoint_test_create` and sent by the worker like any other: one attempt, never retried, at
most ENDPOINT_TESTS_PENDING_MAX waiting per affiliate. A slow receiver holds a worker for at
most the client's timeout, never a web process.
"""

import datetime as dt
import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone

from accounts.models import Affiliate, User
from campaigns.macros import MACRO_PATTERN, TemplateError, template_validate
from campaigns.models import Campaign
from campaigns.selectors import campaign_get_for_affiliate
from core.audit import audit_record, audit_snapshot
from core.exceptions import ApplicationError, NotFoundError
from core.http_client import UnsafeDestinationError, destination_check
from core.models import AuditSource
from core.operator_events import operator_event_endpoint_disabled
from core.tasks import enqueue_on_commit
from forwarding.models import (
    Delivery,
    DeliveryStatus,
    EndpointMethod,
    ForwardEvent,
    PostbackEndpoint,
)
from forwarding.services.outbox import (
    deliveries_cancel_pending,
    deliveries_enqueue_on_commit,
    unix_text,
)
from forwarding.signing import SECRET_ROTATION_GRACE, endpoint_secret_new
from forwarding.tasks import send_endpoint_disabled_email

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
        "event",
        "event_name",
    }
)
CONVERSION_EVENTS_MAX = 50
_EVENT_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
DEFAULT_EVENTS = (ForwardEvent.APPROVED,)
URL_MAX_LENGTH = 2000
# Well-known ports below 1024 belong to other protocols (SSH, SMTP, ...): only 80 and 443 there.
ALLOWED_LOW_PORTS = frozenset({80, 443})
DISABLE_AFTER_FAILING_FOR = dt.timedelta(days=5)


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


def _conversion_events_clean(codes: Any) -> list[str]:
    """The conversion event codes (`lead`, `sale`) the endpoint wants; empty: every event."""
    if codes is None:
        return []
    if isinstance(codes, str):
        codes = [part for part in codes.replace(",", " ").split() if part]
    if not isinstance(codes, list | tuple) or len(codes) > CONVERSION_EVENTS_MAX:
        raise _invalid(
            "conversion_events",
            f"A list of at most {CONVERSION_EVENTS_MAX} event codes (empty for every event).",
            "invalid_conversion_events",
        )
    cleaned: list[str] = []
    for code in codes:
        value = code.strip().lower() if isinstance(code, str) else ""
        if not _EVENT_CODE.match(value):
            raise _invalid(
                "conversion_events",
                f"Not an event code: {code!r} (lowercase letters, digits, '-' or '_').",
                "invalid_conversion_events",
            )
        if value not in cleaned:
            cleaned.append(value)
    return cleaned


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


_AUDITED_FIELDS = (
    "affiliate",
    "name",
    "url",
    "method",
    "events",
    "campaign",
    "is_active",
    "secret",
)


def _audit(
    endpoint: PostbackEndpoint,
    *,
    action: str,
    actor: User | None,
    source: str,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    audit_record(
        actor=actor,
        source=source,
        action=action,
        obj_type=PostbackEndpoint,
        obj_id=endpoint.pk,
        obj_repr=str(endpoint),
        before=before,
        after=after,
    )


@transaction.atomic
def endpoint_create(
    *,
    affiliate: Affiliate,
    url: str,
    method: str = EndpointMethod.GET,
    events: Iterable[str] | None = None,
    campaign: Campaign | int | None = None,
    is_active: bool = True,
    name: str = "",
    conversion_events: Iterable[str] | None = None,
    now: dt.datetime | None = None,
    actor: User | None = None,
    source: str = AuditSource.SYSTEM,
) -> PostbackEndpoint:
    """Save a new endpoint after linting it; its `secret` is generated here.

    The caller shows `secret` once (the API returns it only from create and rotate). Refusals
    are ApplicationError 400 with the field named: `invalid_url` (unknown macro, scheme, port),
    `unsafe_url` (credentials in the URL, a host resolving to a non-public address),
    `invalid_method`, `invalid_events`, `invalid_campaign` (not a campaign the affiliate sees),
    `invalid_conversion_events`.
    """
    now = now or timezone.now()
    endpoint = PostbackEndpoint.objects.create(
        affiliate=affiliate,
        name=_name_clean(name),
        url=endpoint_url_check(url),
        method=_method_clean(method),
        events=_events_clean(list(DEFAULT_EVENTS) if events is None else list(events)),
        campaign=_campaign_clean(affiliate, campaign),
        is_active=_bool_clean("is_active", is_active),
        conversion_events=_conversion_events_clean(
            None if conversion_events is None else list(conversion_events)
        ),
        secret=endpoint_secret_new(),
        created_at=now,
        updated_at=now,
    )
    _audit(
        endpoint,
        action="create",
        actor=actor,
        source=source,
        before={},
        after=audit_snapshot(endpoint, _AUDITED_FIELDS),
    )
    return endpoint


_UPDATABLE = frozenset(
    {"name", "url", "method", "events", "campaign", "is_active", "conversion_events"}
)


@transaction.atomic
def endpoint_update(
    *,
    endpoint: PostbackEndpoint,
    data: Mapping[str, Any],
    now: dt.datetime | None = None,
    actor: User | None = None,
    source: str = AuditSource.SYSTEM,
) -> PostbackEndpoint:
    """Change some of `name url method events campaign is_active conversion_events` (the same
    lint as create).

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
    before = audit_snapshot(locked, _AUDITED_FIELDS)
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
    if "conversion_events" in data:
        locked.conversion_events = _conversion_events_clean(data["conversion_events"])
        fields.append("conversion_events")
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
    _audit(
        locked,
        action="update",
        actor=actor,
        source=source,
        before=before,
        after=audit_snapshot(locked, _AUDITED_FIELDS),
    )
    if was_active and not locked.is_active:
        deliveries_cancel_pending(endpoint_id=locked.pk, reason="endpoint deactivated", now=now)
    return locked


@transaction.atomic
def endpoint_delete(
    *, endpoint: PostbackEndpoint, actor: User | None = None, source: str = AuditSource.SYSTEM
) -> None:
    """Delete the endpoint with its deliveries and their attempts."""
    _audit(
        endpoint,
        action="delete",
        actor=actor,
        source=source,
        before=audit_snapshot(endpoint, _AUDITED_FIELDS),
        after={},
    )
    endpoint.delete()


@transaction.atomic
def endpoint_secret_rotate(
    *,
    endpoint: PostbackEndpoint,
    now: dt.datetime | None = None,
    actor: User | None = None,
    source: str = AuditSource.SYSTEM,
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
    _audit(
        locked,
        action="rotate",
        actor=actor,
        source=source,
        before={"secret": locked.previous_secret},
        after={"secret": locked.secret},
    )
    return locked


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
    deliveries_cancel_pending(
        endpoint_id=endpoint_id, reason=f"endpoint disabled: {reason}", now=now
    )
    enqueue_on_commit(send_endpoint_disabled_email, endpoint_id=endpoint_id)
    affiliate_id = (
        PostbackEndpoint.objects.filter(pk=endpoint_id).values_list("affiliate_id", flat=True).get()
    )
    operator_event_endpoint_disabled(
        endpoint_id=endpoint_id, affiliate_id=affiliate_id, reason=reason[:255]
    )
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
    current = PostbackEndpoint.objects.select_related("campaign").filter(pk=endpoint.pk).first()
    if current is None:  # deleted since the caller read it
        raise NotFoundError("Postback endpoint not found.")
    endpoint = current
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
        "timestamp": unix_text(now),
    }
    delivery = Delivery.objects.create(
        endpoint=endpoint,
        conversion_id=None,
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
