"""The postback views: the methods each route takes, the keyless legacy route's switch, and a
property test that no input, on any route, by any method and content type, answers 5xx."""

import uuid

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.models import PostbackLog
from tracker.tests.factories import postback_world

pytestmark = pytest.mark.django_db

PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


_TEXT = st.text(max_size=40)
_VALUE = st.one_of(
    _TEXT,
    st.sampled_from(["", "{click_id}", "1.00", "-1", "1e9999", "NaN", "approved", "test", "USD"]),
    st.integers(),
)
_PARAM_NAME = st.one_of(
    st.sampled_from(
        [
            "click_id",
            "status",
            "payout",
            "revenue",
            "currency",
            "offer_id",
            "survey_id",
            "transaction_id",
            "conversion_id",
            "user_id",
            "affiliate_id",
            "sub_id",
            "sub_id3",
            "country",
            "ip",
            "reason",
            "key",
        ]
    ),
    _TEXT,
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _TEXT,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_TEXT, children, max_size=3),
    max_leaves=10,
)


@PROPERTY_SETTINGS
@given(
    query=st.dictionaries(_PARAM_NAME, _VALUE, max_size=6),
    body=st.one_of(
        st.binary(max_size=200),
        st.dictionaries(_PARAM_NAME, _JSON, max_size=6).map(lambda d: ("json", d)),
        st.dictionaries(_PARAM_NAME, _VALUE, max_size=6).map(lambda d: ("form", d)),
    ),
    content_type=st.sampled_from(
        [
            "",
            "application/json",
            "application/x-www-form-urlencoded",
            "text/plain",
            "multipart/form-data; boundary=xyz",
            "application/xml",
        ]
    ),
    method=st.sampled_from(["GET", "POST"]),
    use_real_click=st.booleans(),
    endpoint=st.sampled_from(["keyed", "api", "legacy"]),
)
def test_no_postback_input_yields_a_server_error(
    query, body, content_type, method, use_real_click, endpoint
):
    import json as json_module
    from urllib.parse import urlencode

    world = postback_world(key=uuid.uuid4().hex)
    world.campaign(external_offer_id="OFFER")
    click = world.click(user_id="U")
    query = {str(k): str(v) for k, v in query.items()}
    if use_real_click:
        query["click_id"] = click.click_id
    if isinstance(body, tuple):
        kind, data = body
        raw = (
            json_module.dumps(data).encode()
            if kind == "json"
            else urlencode({str(k): str(v) for k, v in data.items()}).encode()
        )
    else:
        raw = body
    path = {
        "keyed": world.postback_path,
        "api": "/api/track/postback",
        "legacy": "/postback",
    }[endpoint]

    response = Client().generic(
        method,
        f"{path}?{urlencode(query)}",
        data=raw if method == "POST" else b"",
        content_type=content_type,
        HTTP_X_POSTBACK_KEY=world.partner_key.key if endpoint == "api" else "",
    )

    assert response.status_code < 500, response.content
    assert response.json()["status"] in ("success", "error")


def test_unsupported_method_answers_405_json():
    world = postback_world()

    response = Client().put(world.postback_path)

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_the_legacy_postback_can_be_switched_off(settings):
    settings.LEGACY_POSTBACK_ENABLED = False

    response = Client().get("/postback?affiliate_id=1&click_id=abc123&amount=100&currency=USD")

    assert response.status_code == 404
    assert response.json() == {
        "status": "error",
        "success": False,
        "message": "Not found.",
        "code": "not_found",
    }
    assert PostbackLog.objects.count() == 0
