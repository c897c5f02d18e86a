"""Operator webhooks: saving them (checks, audit), events recorded in the emitting transaction,
dispatched once per subscribed active webhook, and a cap reached reported once per period."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import transaction

from campaigns.models import CapPeriod
from campaigns.tests.factories import CapFactory
from core.exceptions import ApplicationError
from core.models import AuditEntry, OperatorEvent, PendingTask
from core.operator_events import operator_event_emit, operator_event_payout_requested
from forwarding.models import Delivery, DeliveryStatus
from forwarding.services.operator_webhooks import (
    operator_event_dispatch,
    operator_events_dispatch_due,
    operator_webhook_create,
    operator_webhook_delete,
    operator_webhook_update,
)
from forwarding.tests.factories import OperatorWebhookFactory
from tracker.tests.factories import postback, postback_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def private_destinations_refused(settings):
    settings.POSTBACK_ALLOW_PRIVATE_DESTINATIONS = False


def test_create_generates_a_secret_orders_events_and_logs_the_change_masked():
    webhook = operator_webhook_create(
        url="http://127.0.0.1:8080/ops",
        events=["payout.requested", "partner.signed_up"],
        name=" Ops ",
    )

    assert webhook.secret.startswith("whsec_")
    assert (webhook.name, webhook.events) == ("Ops", ["partner.signed_up", "payout.requested"])
    entry = AuditEntry.objects.get()
    assert (entry.source, entry.action, entry.object_type) == (
        "system",
        "create",
        "forwarding.operatorwebhook",
    )
    assert entry.changes == {
        "name": [None, "Ops"],
        "url": [None, "http://127.0.0.1:8080/ops"],
        "events": [None, ["partner.signed_up", "payout.requested"]],
        "is_active": [None, True],
        "secret": ["********", "********"],
    }


@pytest.mark.parametrize(
    ("url", "events", "code", "field"),
    [
        ("https://ops.example/?c={click_id}", ["cap.reached"], "invalid_url", "url"),
        ("ftp://ops.example/", ["cap.reached"], "invalid_url", "url"),
        ("http://127.0.0.1:22/", ["cap.reached"], "unsafe_url", "url"),
        ("http://127.0.0.1:8080/", [], "invalid_events", "events"),
        ("http://127.0.0.1:8080/", ["approved"], "invalid_events", "events"),
    ],
)
def test_create_refuses_bad_urls_and_events(url, events, code, field):
    with pytest.raises(ApplicationError) as refused:
        operator_webhook_create(url=url, events=events)

    assert (refused.value.code, list(refused.value.fields)) == (code, [field])


@pytest.mark.usefixtures("private_destinations_refused")
def test_create_refuses_a_private_destination_like_an_affiliates_endpoint():
    with pytest.raises(ApplicationError) as refused:
        operator_webhook_create(url="http://10.0.0.5:8080/ops", events=["cap.reached"])

    assert refused.value.code == "unsafe_url"


def test_update_and_delete_are_logged_with_the_changed_fields_only():
    webhook = OperatorWebhookFactory(url="http://127.0.0.1:8080/a", events=["cap.reached"])

    operator_webhook_update(webhook=webhook, data={"is_active": False, "events": ["cap.reached"]})
    operator_webhook_delete(webhook=webhook)

    assert list(AuditEntry.objects.order_by("id").values_list("action", "changes")) == [
        ("update", {"is_active": [True, False]}),
        (
            "delete",
            {
                "name": [webhook.name, None],
                "url": ["http://127.0.0.1:8080/a", None],
                "events": [["cap.reached"], None],
                "is_active": [False, None],
                "secret": ["********", "********"],
            },
        ),
    ]


def test_an_event_is_recorded_with_its_transaction_and_dispatched_after_commit():
    with transaction.atomic():
        operator_event_payout_requested(
            payout_id=1, affiliate_id=2, amount=Decimal("5.0000"), currency="EUR"
        )
        transaction.set_rollback(True)
    kept = operator_event_payout_requested(
        payout_id=3, affiliate_id=2, amount=Decimal("5.0000"), currency="EUR"
    )

    assert kept is not None
    assert list(OperatorEvent.objects.values_list("pk", "type", "data")) == [
        (
            kept.pk,
            "payout.requested",
            {"payout_id": 3, "affiliate_id": 2, "amount": "5.0000", "currency": "EUR"},
        )
    ]
    assert list(PendingTask.objects.values_list("task_name", "kwargs")) == [
        ("forwarding.tasks.dispatch_operator_event", {"event_id": kept.pk})
    ]


def test_dispatch_queues_one_delivery_per_subscribed_active_webhook_once():
    wants = OperatorWebhookFactory(events=["payout.requested"])
    OperatorWebhookFactory(events=["cap.reached"])
    OperatorWebhookFactory(events=["payout.requested"], is_active=False)
    event = operator_event_emit(type="payout.requested", data={"payout_id": 1})
    assert event is not None

    first = operator_event_dispatch(event_id=event.pk)
    second = operator_event_dispatch(event_id=event.pk)

    delivery = Delivery.objects.get()
    assert (first, second) == ([delivery.pk], [])
    assert (delivery.operator_webhook_id, delivery.endpoint_id, delivery.event) == (
        wants.pk,
        None,
        "payout.requested",
    )
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.payload == {
        "type": "payout.requested",
        "id": str(event.event_id),
        "created_at": event.created_at.isoformat(),
        "data": {"payout_id": 1},
    }


def test_the_sweeper_dispatches_events_left_undispatched_after_a_minute():
    OperatorWebhookFactory(events=["payout.requested"])
    with time_machine.travel(dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC), tick=False):
        event = operator_event_emit(type="payout.requested", data={"payout_id": 1})
    assert event is not None

    early = operator_events_dispatch_due(now=event.created_at + dt.timedelta(seconds=30))
    late = operator_events_dispatch_due(now=event.created_at + dt.timedelta(minutes=2))

    event.refresh_from_db()
    assert (early, late, Delivery.objects.count()) == (0, 1, 1)
    assert event.dispatched_at is not None


def test_a_cap_is_reported_reached_once_per_period():
    world = postback_world()
    campaign = world.campaign(payout_type="fixed", payout_amount=Decimal("2"))
    cap = CapFactory(campaign=campaign, period=CapPeriod.DAY, limit=Decimal("1"))

    with time_machine.travel(dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC), tick=False):
        day_one = [
            postback(world.partner_key, click_id=world.click().click_id, transaction_id=f"A{n}")
            for n in range(3)
        ]
    with time_machine.travel(dt.datetime(2026, 5, 2, 12, 0, tzinfo=dt.UTC), tick=False):
        day_two = [
            postback(world.partner_key, click_id=world.click().click_id, transaction_id=f"B{n}")
            for n in range(2)
        ]

    assert [c.reason for c in [*day_one, *day_two]] == [
        "",
        "cap_reached",
        "cap_reached",
        "",
        "cap_reached",
    ]
    assert list(
        OperatorEvent.objects.filter(type="cap.reached")
        .order_by("id")
        .values_list("data__cap_id", "data__period_start", "dedupe_key")
    ) == [
        (cap.pk, "2026-05-01", f"cap.reached:{cap.pk}:0:2026-05-01"),
        (cap.pk, "2026-05-02", f"cap.reached:{cap.pk}:0:2026-05-02"),
    ]


def test_an_unknown_event_type_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown operator event type 'nope'"):
        operator_event_emit(type="nope", data={})
