import uuid

from django.db import models
from django.db.models import TextChoices


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class PendingTask(models.Model):
    """A Celery task a committed change still owes (the outbox of `core.tasks.enqueue_on_commit`).

    Written in the same transaction as the change, deleted once the task is published. A row
    that stays means the broker refused it; `core.tasks.republish_pending_tasks` (beat) publishes
    it later.
    """

    task_name = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    # When the sweeper may publish it: a minute after it was written (the commit's own publish
    # comes first), then backing off after each failure.
    next_attempt_at = models.DateTimeField(db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")

    def __str__(self) -> str:
        return f"{self.task_name}({self.kwargs})"


class AuditSource(TextChoices):
    CONSOLE = "console", "Console"
    PORTAL = "portal", "Portal"
    API = "api", "API (logged-in user)"
    API_KEY = "api_key", "API key"
    SYSTEM = "system", "System (task, command)"


class AuditEntry(models.Model):
    """One configuration change: who, through what, which object, and the changed fields.

    Written by the service that makes the change, in its transaction (`core.audit.audit_record`),
    so a change that rolls back leaves no entry. The actor and the object are named by id (core
    comes before every app that owns them); `actor_email` and `object_repr` are snapshots, so the
    entry still reads the same after the user or the object is deleted. `changes` maps each
    changed field to `[before, after]` (JSON; amounts as strings; secrets masked). Append-only.
    """

    created_at = models.DateTimeField(db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_email = models.CharField(max_length=254, blank=True)
    source = models.CharField(max_length=16, choices=AuditSource.choices)
    action = models.CharField(max_length=32)
    object_type = models.CharField(max_length=100, help_text="app_label.model")
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type} #{self.object_id}"


class OperatorEventType(TextChoices):
    PARTNER_SIGNED_UP = "partner.signed_up", "Partner signed up"
    APPLICATION_CREATED = "application.created", "Application created"
    CAP_REACHED = "cap.reached", "Cap reached"
    PAYOUT_REQUESTED = "payout.requested", "Payout requested"
    ENDPOINT_DISABLED = "endpoint.disabled", "Postback endpoint disabled"
    FRAUD_THRESHOLD = "fraud.threshold", "Fraud threshold crossed"


class OperatorEvent(models.Model):
    """A network event for the operator's webhooks: the first half of their outbox.

    Written by `core.operator_events.operator_event_emit` in the transaction of the change it
    reports, so it exists exactly when the change committed. The forwarding app then fans it out
    into one signed delivery per subscribed operator webhook (`dispatched_at` set when done).
    `dedupe_key`, when set, makes an event happen once (a cap reached once per period).
    """

    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    type = models.CharField(max_length=32, choices=OperatorEventType.choices)
    data = models.JSONField(default=dict)
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    created_at = models.DateTimeField()
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(dispatched_at__isnull=True),
                name="operator_event_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"
