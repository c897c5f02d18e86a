"""Partner approvals in the audit log, from the console and from the API."""

import pytest

from accounts.models import ApprovalStatus
from accounts.tests.factories import AdminUserFactory, AdvertiserFactory, AffiliateFactory
from campaigns.tests.factories import network
from core.models import AuditEntry

pytestmark = pytest.mark.django_db


def _entries() -> list[tuple]:
    return list(
        AuditEntry.objects.order_by("id").values_list(
            "actor_id", "source", "action", "object_type", "object_id", "changes"
        )
    )


def test_console_and_api_decisions_are_logged_with_their_source(client):
    admin = AdminUserFactory()
    affiliate = AffiliateFactory(status=ApprovalStatus.PENDING)
    advertiser = AdvertiserFactory(status=ApprovalStatus.APPROVED)
    client.force_login(admin)
    net = network()

    client.post(
        "/admin/accounts/affiliate/",
        {"action": "mark_approved", "_selected_action": [affiliate.pk], "confirm": "yes"},
    )
    response = net.client_as("admin").post(
        f"/api/advertisers/{advertiser.pk}/suspend", {"reason": "unpaid"}, format="json"
    )

    assert response.status_code == 200
    assert _entries() == [
        (
            admin.pk,
            "console",
            "approve",
            "accounts.affiliate",
            str(affiliate.pk),
            {"status": ["pending", "approved"]},
        ),
        (
            net.admin.pk,
            "api",
            "suspend",
            "accounts.advertiser",
            str(advertiser.pk),
            {"status": ["approved", "suspended"], "status_reason": ["", "unpaid"]},
        ),
    ]
