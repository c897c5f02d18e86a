"""Forwarding: the affiliates' postback endpoints and the operator's webhooks, the outbox of
events due to them (one `Delivery` per event and receiver) and every attempt to send one.

A delivery names the conversion it forwards by id (`conversion_id`): conversions belong to the
tracker, which comes after this app and writes the outbox rows in its own transactions.
"""

import uuid

from django.db import models
from django.db.models import Q

from accounts.models import Affiliate
from campaigns.models import Campaign
from core.models import OperatorEventType


class EndpointMethod(models.TextChoices):
    GET = "GET", "GET (values in the URL)"
    POST = "POST", "POST (values as a JSON body)"


class ForwardEvent(models.TextChoices):
    APPROVED = "approved", "Approved"
    PENDING = "pending", "Pending"
    REJECTED = "rejected", "Rejected"
    REVERSED = "reversed", "Reversed"
    TEST = "test", "Test"


class PostbackEndpoint(models.Model):
    """An affiliate's receiver: where and how conversion events are forwarded.

    `secret` is the Standard Webhooks signing secret (`whsec_<base64>`); after a rotation the
    previous one keeps signing alongside it until `previous_secret_expires_at`. `failing_since` is
    the time of the first failed attempt since the last success (None while healthy).
    """

    affiliate = models.ForeignKey(
        Affiliate, on_delete=models.CASCADE, related_name="postback_endpoints"
    )
    name = models.CharField(max_length=100, blank=True)
    url = models.CharField(max_length=2000)
    method = models.CharField(
        max_length=4, choices=EndpointMethod.choices, default=EndpointMethod.GET
    )
    events = models.JSONField(default=list)
    campaign = models.ForeignKey(
        Campaign,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="postback_endpoints",
        help_text="Only this campaign's events; empty for every campaign.",
    )
    is_active = models.BooleanField(default=True)
    conversion_events = models.JSONField(
        default=list,
        blank=True,
        help_text="Conversion event codes (lead, sale, ...) to forward; empty for every event.",
    )
    secret = models.CharField(max_length=100)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["affiliate", "is_active"], name="endpoint_affiliate")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.method} {self.url[:80]}"


class OperatorWebhook(models.Model):
    """An operator's receiver of network events (sign-ups, applications, caps, payouts...).

    Managed by admins only (console and `/api/operator-webhooks`). Always a signed JSON POST of
    `{"type", "id", "created_at", "data"}`; `events` lists the `OperatorEventType`s it wants.
    `secret` is the Standard Webhooks signing secret, shown once when it is created.
    """

    name = models.CharField(max_length=100, blank=True)
    url = models.CharField(max_length=2000)
    events = models.JSONField(default=list)
    is_active = models.BooleanField(default=True)
    secret = models.CharField(max_length=100)
    last_success_at = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.name or self.url[:80]}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (gave up)"
    CANCELLED = "cancelled", "Cancelled"


class Delivery(models.Model):
    """One event due to one receiver: the outbox row, written in the event's transaction.

    The receiver is an affiliate's `endpoint` or an `operator_webhook`, never both. An operator
    event's row has `event_key` `operator:<OperatorEvent id>` and its `payload` is the whole
    JSON body it sends.

    `event_key` names the event (`history:<ConversionHistory id>` for a status change,
    `test:<uuid>` for a test event), so (endpoint, conversion, event_key) is unique and an event
    is never queued twice for one endpoint. `payload` is the snapshot of the macro values taken
    when the event happened. `attempt_count` counts attempts since the row was last queued
    (created or replayed) and drives the retry schedule; every attempt is a DeliveryAttempt row.
    A worker claims the row by setting `locked_until` (see `delivery_attempt`).
    """

    endpoint = models.ForeignKey(
        PostbackEndpoint,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    operator_webhook = models.ForeignKey(
        OperatorWebhook,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    # The tracker's conversion this event is about (None: a test event).
    conversion_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event_key = models.CharField(max_length=64)
    event = models.CharField(
        max_length=32, choices=[*ForwardEvent.choices, *OperatorEventType.choices]
    )
    payload = models.JSONField(default=dict)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempt_count = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=8)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "conversion_id", "event_key"], name="delivery_once_per_event"
            ),
            models.UniqueConstraint(
                fields=["operator_webhook", "event_key"],
                condition=Q(operator_webhook__isnull=False),
                name="delivery_once_per_operator_event",
            ),
            models.CheckConstraint(
                condition=Q(endpoint__isnull=False, operator_webhook__isnull=True)
                | Q(endpoint__isnull=True, operator_webhook__isnull=False),
                name="delivery_one_receiver",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="delivery_due",
            ),
            models.Index(fields=["endpoint", "created_at"], name="delivery_endpoint_time"),
            models.Index(fields=["status", "created_at"], name="delivery_status_time"),
        ]

    def __str__(self) -> str:
        return f"delivery #{self.pk} ({self.event}, {self.status})"


class DeliveryAttempt(models.Model):
    """One HTTP request of a delivery, whatever its outcome. Append-only."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts")
    attempt_number = models.PositiveSmallIntegerField()
    attempted_at = models.DateTimeField()
    request_url = models.TextField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.TextField(blank=True)
    error = models.CharField(max_length=500, blank=True)
    is_success = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"attempt {self.attempt_number} of delivery #{self.delivery_id}"
