"""Postback endpoint changes in the audit log: from the portal and the API, secrets masked."""

import pytest

from campaigns.tests.factories import network
from core.audit import MASK
from core.models import AuditEntry
from forwarding.models import PostbackEndpoint
from portal.tests.factories import portal_client

pytestmark = pytest.mark.django_db


def test_endpoint_create_update_rotate_and_delete_are_logged():
    net = network()
    portal = portal_client(net, "affiliate1")
    user = net.affiliate1.user

    portal.post(
        "/portal/affiliate/endpoints/",
        {
            "url": "http://127.0.0.1:9000/pb?c={click_id}",
            "method": "GET",
            "events": ["approved"],
            "is_active": "on",
        },
    )
    endpoint = PostbackEndpoint.objects.get()
    api = net.client_as("affiliate1")
    api.patch(f"/api/postback-endpoints/{endpoint.pk}", {"events": ["pending"]}, format="json")
    api.post(f"/api/postback-endpoints/{endpoint.pk}/rotate-secret")
    portal.post(f"/portal/affiliate/endpoints/{endpoint.pk}/delete/")

    entries = list(
        AuditEntry.objects.order_by("id").values_list("actor_id", "source", "action", "changes")
    )
    assert [entry[:3] for entry in entries] == [
        (user.pk, "portal", "create"),
        (user.pk, "api", "update"),
        (user.pk, "api", "rotate"),
        (user.pk, "portal", "delete"),
    ]
    assert entries[0][3]["secret"] == [MASK, MASK]
    assert entries[1][3] == {"events": [["approved"], ["pending"]]}
    assert entries[2][3] == {"secret": [MASK, MASK]}
    assert entries[3][3]["url"] == ["http://127.0.0.1:9000/pb?c={click_id}", None]
    assert all(endpoint.secret not in str(entry) for entry in entries)
