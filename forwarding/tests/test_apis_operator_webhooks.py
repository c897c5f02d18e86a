"""`/api/operator-webhooks` (admins only): the secret shown once, the same URL checks as an
affiliate's endpoint, and every change in the audit log with its actor and source."""

import pytest

from campaigns.tests.factories import network
from core.models import AuditEntry
from forwarding.models import OperatorWebhook
from forwarding.tests.factories import OperatorWebhookFactory

pytestmark = pytest.mark.django_db


def test_admin_creates_lists_changes_and_deletes_a_webhook():
    net = network()
    client = net.client_as("admin")

    created = client.post(
        "/api/operator-webhooks",
        {"url": "http://127.0.0.1:8080/ops", "events": ["cap.reached"], "name": "Ops"},
        format="json",
    )
    webhook = OperatorWebhook.objects.get()
    listed = client.get("/api/operator-webhooks")
    changed = client.patch(
        f"/api/operator-webhooks/{webhook.pk}",
        {"events": ["cap.reached", "payout.requested"]},
        format="json",
    )
    deleted = client.delete(f"/api/operator-webhooks/{webhook.pk}")

    assert created.status_code == 201
    assert created.json()["secret"] == webhook.secret
    assert listed.status_code == 200
    assert listed.json()["results"] == [
        {
            "id": webhook.pk,
            "name": "Ops",
            "url": "http://127.0.0.1:8080/ops",
            "events": ["cap.reached"],
            "is_active": True,
            "last_success_at": None,
            "failing_since": None,
            "created_at": webhook.created_at.isoformat().replace("+00:00", "Z"),
            "updated_at": webhook.updated_at.isoformat().replace("+00:00", "Z"),
        }
    ]
    assert webhook.secret not in listed.content.decode()
    assert changed.json()["events"] == ["cap.reached", "payout.requested"]
    assert deleted.status_code == 204
    assert not OperatorWebhook.objects.exists()
    assert list(AuditEntry.objects.order_by("id").values_list("actor_id", "source", "action")) == [
        (net.admin.pk, "api", "create"),
        (net.admin.pk, "api", "update"),
        (net.admin.pk, "api", "delete"),
    ]


def test_a_url_with_a_macro_or_an_unknown_event_is_refused_by_field():
    client = network().client_as("admin")

    macro = client.post(
        "/api/operator-webhooks",
        {"url": "http://127.0.0.1:8080/?c={click_id}", "events": ["cap.reached"]},
        format="json",
    )
    unknown = client.post(
        "/api/operator-webhooks",
        {"url": "http://127.0.0.1:8080/", "events": ["approved"]},
        format="json",
    )

    assert (macro.status_code, macro.json()["code"]) == (400, "invalid_url")
    assert (unknown.status_code, list(unknown.json()["fields"])) == (400, ["events"])
    assert not OperatorWebhook.objects.exists()


@pytest.mark.parametrize("role", ["advertiser1", "affiliate1"])
def test_partners_are_refused_and_nothing_changes(role):
    net = network()
    webhook = OperatorWebhookFactory()
    client = net.client_as(role)

    answers = [
        client.get("/api/operator-webhooks"),
        client.post(
            "/api/operator-webhooks",
            {"url": "http://127.0.0.1:8080/", "events": ["cap.reached"]},
            format="json",
        ),
        client.patch(f"/api/operator-webhooks/{webhook.pk}", {"is_active": False}, format="json"),
        client.delete(f"/api/operator-webhooks/{webhook.pk}"),
    ]

    assert [answer.status_code for answer in answers] == [403, 403, 403, 403]
    assert all(webhook.url not in answer.content.decode() for answer in answers)
    assert list(OperatorWebhook.objects.values_list("pk", "is_active")) == [(webhook.pk, True)]
    assert not AuditEntry.objects.exists()


def test_a_missing_webhook_is_a_404():
    response = (
        network()
        .client_as("admin")
        .patch("/api/operator-webhooks/999999", {"is_active": False}, format="json")
    )

    assert (response.status_code, response.json()["code"]) == (404, "not_found")
