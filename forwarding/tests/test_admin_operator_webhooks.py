"""Operator webhooks in the console: saved through the services (checks, audit log), the
signing secret shown once, right after adding."""

import pytest
from django.urls import reverse

from accounts.tests.factories import AdminUserFactory
from core.models import AuditEntry
from forwarding.models import OperatorWebhook

pytestmark = pytest.mark.django_db


def test_adding_a_webhook_shows_its_secret_once_and_logs_a_console_entry(client):
    admin = AdminUserFactory()
    client.force_login(admin)

    added = client.post(
        reverse("admin:forwarding_operatorwebhook_add"),
        {
            "name": "Ops",
            "url": "http://127.0.0.1:8080/ops",
            "events": ["cap.reached", "payout.requested"],
            "is_active": "on",
        },
    )
    webhook = OperatorWebhook.objects.get()
    change_url = reverse("admin:forwarding_operatorwebhook_change", args=[webhook.pk])
    first = client.get(change_url)
    second = client.get(change_url)

    assert added.status_code == 302
    assert webhook.events == ["cap.reached", "payout.requested"]
    assert webhook.secret in first.content.decode()  # the message after adding
    assert webhook.secret not in second.content.decode()
    assert list(AuditEntry.objects.values_list("actor_id", "source", "action")) == [
        (admin.pk, "console", "create")
    ]


def test_a_url_with_a_macro_is_refused_on_the_form(client):
    client.force_login(AdminUserFactory())

    refused = client.post(
        reverse("admin:forwarding_operatorwebhook_add"),
        {"url": "http://127.0.0.1:8080/?c={click_id}", "events": ["cap.reached"]},
    )

    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors == {
        "url": ["An operator webhook's URL takes no macros."]
    }
    assert not OperatorWebhook.objects.exists()
