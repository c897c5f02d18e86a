"""Payout decisions in the audit log: approve and mark paid through the API, reject in the
console."""

from decimal import Decimal

import pytest
from django.test import Client

from campaigns.tests.factories import network
from core.models import AuditEntry
from payouts import services
from payouts.tests.factories import funded_affiliate

pytestmark = pytest.mark.django_db


def test_payout_decisions_are_logged_with_their_actor_and_source():
    net = network()
    api = net.client_as("admin")
    console = Client()
    console.force_login(net.admin)
    paid, rejected = (
        services.payout_request_create(
            affiliate=funded_affiliate(available=Decimal("100")), amount="100", currency="USD"
        )
        for _ in range(2)
    )

    api.post(f"/api/payouts/{paid.pk}/approve")
    api.post(f"/api/payouts/{paid.pk}/mark-paid", {"reference": "WIRE-1"}, format="json")
    console.post(
        "/admin/payouts/payoutrequest/",
        {
            "action": "reject",
            "_selected_action": [rejected.pk],
            "confirm": "yes",
            "reason": "fraud",
        },
    )

    assert list(
        AuditEntry.objects.order_by("id").values_list(
            "actor_id", "source", "action", "object_id", "changes"
        )
    ) == [
        (net.admin.pk, "api", "approve", str(paid.pk), {"status": ["requested", "approved"]}),
        (
            net.admin.pk,
            "api",
            "mark_paid",
            str(paid.pk),
            {"status": ["approved", "paid"], "reference": ["", "WIRE-1"]},
        ),
        (
            net.admin.pk,
            "console",
            "reject",
            str(rejected.pk),
            {"status": ["requested", "rejected"], "note": ["", "fraud"]},
        ),
    ]
