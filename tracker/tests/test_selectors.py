"""Who may read which received postbacks (`postback_log_list`)."""

import pytest
from django.test import Client

from campaigns.tests.factories import network
from tracker.models import PostbackLog
from tracker.selectors import postback_log_list

pytestmark = pytest.mark.django_db


def _send(key: str, click_id: str = "no-such-click") -> PostbackLog:
    Client().get(f"/postback/{key}", {"click_id": click_id, "status": "test"})
    return PostbackLog.objects.order_by("-received_at").first()


def test_postback_logs_are_those_naming_the_viewers_own_keys_even_refused_ones():
    net = network()
    own = _send(net.key1.key)
    other = _send(net.key2.key)
    unknown = _send("k" * 32)
    net.key1.is_active = False
    net.key1.save(update_fields=["is_active"])
    own_refused = _send(net.key1.key)

    visible = {
        role: set(postback_log_list(viewer=net.user(role)).values_list("pk", flat=True))
        for role in ("admin", "advertiser1", "advertiser2", "affiliate1")
    }

    assert (own_refused.code, own_refused.partner_key_id) == ("invalid_key", None)
    assert visible == {
        "admin": {own.pk, other.pk, unknown.pk, own_refused.pk},
        "advertiser1": {own.pk, own_refused.pk},
        "advertiser2": {other.pk},
        "affiliate1": set(),
    }
