"""Helpers for the tracker API tests: traffic made through the real click and postback paths."""

import json
from typing import Any

from django.test import Client

from campaigns.models import PartnerKey
from tracker.models import Click, Conversion


def postback(partner_key: PartnerKey, **params: Any) -> Conversion:
    """Report a conversion the way a partner does (`POST /api/track/postback`, JSON body)."""
    response = Client().post(
        "/api/track/postback",
        json.dumps(params),
        content_type="application/json",
        HTTP_X_POSTBACK_KEY=partner_key.key,
    )
    body = response.json()
    assert response.status_code == 200, body
    return Conversion.objects.get(pk=body["conversion_id"])


def click_through(token: str, **query: str) -> Click:
    """A visitor following a tracking link (`GET /c/<token>`)."""
    response = Client().get(f"/c/{token}", query, HTTP_USER_AGENT="Mozilla/5.0 (api test)")
    assert response.status_code == 302
    return Click.objects.order_by("-id").first()
