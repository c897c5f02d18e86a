"""A JSON body nested too deep is a 400 in the error shape on every DRF endpoint, never a 500."""

import json

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import AdvertiserFactory, AffiliateFactory
from core.parsers import JSON_MAX_DEPTH, json_depth_exceeds

pytestmark = pytest.mark.django_db

# Deep enough that the json module itself raises RecursionError.
THOUSAND_DEEP = "[" * 1000 + "]" * 1000
TOO_DEEP = {"status": "error", "code": "parse_error", "message": ""}


def _too_deep_body(message: str) -> dict:
    return {**TOO_DEEP, "message": message}


def _client_as(role: str) -> APIClient:
    client = APIClient()
    if role == "advertiser":
        client.force_authenticate(AdvertiserFactory().user)
    elif role == "affiliate":
        client.force_authenticate(AffiliateFactory().user)
    return client


@pytest.mark.parametrize(
    ("path", "role"),
    [
        ("/api/auth/login", "anonymous"),
        ("/api/auth/register", "anonymous"),
        ("/api/campaigns", "advertiser"),
        ("/api/postback-endpoints", "affiliate"),
    ],
)
def test_a_body_nested_1000_deep_is_a_400_parse_error(path, role):
    response = _client_as(role).post(path, THOUSAND_DEEP, content_type="application/json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == _too_deep_body(
        f"JSON parse error - nested deeper than {JSON_MAX_DEPTH} levels."
    )


def test_the_limit_is_exact_at_the_documented_depth():
    # given a login body whose values nest exactly JSON_MAX_DEPTH levels in all, then one more
    client = APIClient()
    at_limit = {"email": [[]]}
    for _ in range(JSON_MAX_DEPTH - 3):
        at_limit = {"email": at_limit}
    over_limit = {"email": at_limit}

    at = client.post("/api/auth/login", json.dumps(at_limit), content_type="application/json")
    over = client.post("/api/auth/login", json.dumps(over_limit), content_type="application/json")

    # then the first reaches validation (a field error), the second is refused as too deep
    assert (at.status_code, at.json()["code"]) == (400, "invalid")
    assert over.status_code == 400
    assert over.json() == _too_deep_body(
        f"JSON parse error - nested deeper than {JSON_MAX_DEPTH} levels."
    )


@pytest.mark.parametrize(
    ("data", "limit", "expected"),
    [
        (1, 0, False),
        ([], 1, False),
        ([], 0, True),
        ({"a": [1, {"b": []}]}, 4, False),
        ({"a": [1, {"b": []}]}, 3, True),
        ({"a": "[[[[[[[["}, 1, False),
    ],
)
def test_json_depth_exceeds_counts_lists_and_objects_only(data, limit, expected):
    assert json_depth_exceeds(data, limit) is expected
