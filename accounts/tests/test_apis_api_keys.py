import datetime as dt
import logging
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.api_keys import api_key_create, api_key_revoke
from accounts.models import ApiKey, ApprovalStatus
from accounts.tests.factories import DEFAULT_PASSWORD, AdvertiserFactory, AffiliateFactory
from payouts.services import payout_request_create
from payouts.tests.factories import conversion_approve

pytestmark = pytest.mark.django_db


def _key(user, **kwargs) -> str:
    return api_key_create(user=user, **{"name": "Script", "now": timezone.now(), **kwargs}).key


def _with_key(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def _error(code: str, message: str) -> dict:
    return {"status": "error", "code": code, "message": message}


def test_create_with_a_login_answers_the_key_once(api_client):
    affiliate = AffiliateFactory()
    api_client.force_authenticate(affiliate.user)

    created = api_client.post(
        "/api/api-keys",
        {
            "name": "Reporting",
            "scope": "write",
            "expires_at": "2099-01-01T00:00:00Z",
            "ip_allowlist": ["198.51.100.0/24"],
        },
        format="json",
    )
    listed = api_client.get("/api/api-keys")

    body = created.json()
    row = ApiKey.objects.get()
    assert created.status_code == 201
    assert body == {
        "id": row.pk,
        "name": "Reporting",
        "prefix": row.prefix,
        "scope": "write",
        "ip_allowlist": ["198.51.100.0/24"],
        "expires_at": "2099-01-01T00:00:00Z",
        "created_at": body["created_at"],
        "last_used_at": None,
        "revoked": False,
        "revoked_at": None,
        "key": body["key"],
    }
    assert body["key"].startswith(row.prefix + ".")
    assert listed.status_code == 200
    assert listed.json()["count"] == 1
    assert "key" not in listed.json()["results"][0]
    assert body["key"] not in listed.content.decode()


def test_create_with_a_jwt_works_too():
    affiliate = AffiliateFactory()
    client = APIClient()
    login = client.post(
        "/api/auth/login",
        {"email": affiliate.user.email, "password": DEFAULT_PASSWORD},
        format="json",
    )
    client.cookies.clear()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['access']}")

    created = client.post("/api/api-keys", {"name": "JWT-made"}, format="json")

    assert (created.status_code, created.json()["scope"]) == (201, "read")


@pytest.mark.parametrize("scope", ["read", "write"])
def test_a_key_may_not_make_or_revoke_keys(scope):
    user = AffiliateFactory().user
    key = _key(user, scope=scope)
    client = _with_key(key)

    made = client.post("/api/api-keys", {"name": "Another"}, format="json")
    revoked = client.post(f"/api/api-keys/{ApiKey.objects.get().pk}/revoke")
    listed = client.get("/api/api-keys")

    expected = (
        _error("insufficient_scope", "This API key has the read scope: it may only read.")
        if scope == "read"
        else _error(
            "login_required", "Log in (JWT or session) to manage API keys; an API key may not."
        )
    )
    assert (made.status_code, made.json()) == (403, expected)
    assert (revoked.status_code, revoked.json()) == (403, expected)
    assert listed.status_code == 200
    assert ApiKey.objects.filter(revoked=False).count() == 1


def test_a_key_authenticates_as_its_owner_in_either_header():
    affiliate = AffiliateFactory()
    key = _key(affiliate.user)
    by_header = APIClient()
    by_header.credentials(HTTP_X_API_KEY=key)

    for client in (_with_key(key), by_header):
        me = client.get("/api/auth/me")
        assert (me.status_code, me.json()["id"]) == (200, affiliate.user_id)


def test_an_affiliates_key_sees_only_the_affiliates_data():
    mine, other = AffiliateFactory(), AffiliateFactory()
    advertiser = AdvertiserFactory()
    for affiliate in (mine, other):
        conversion_approve(affiliate=affiliate, advertiser=advertiser, payout=Decimal("100"))
        payout_request_create(affiliate=affiliate, amount="60", currency="USD")

    listed = _with_key(_key(mine.user)).get("/api/payouts")
    others = _with_key(_key(mine.user)).get(f"/api/affiliates/{other.pk}")

    assert {row["affiliate_id"] for row in listed.json()["results"]} == {mine.pk}
    assert others.status_code == 404


@pytest.mark.parametrize(
    ("case", "status", "code", "message"),
    [
        ("unknown", 401, "invalid_api_key", "The API key is not valid."),
        ("revoked", 401, "api_key_revoked", "The API key was revoked."),
        ("expired", 401, "api_key_expired", "The API key has expired."),
        (
            "suspended owner",
            401,
            "api_key_owner_inactive",
            "The API key's account may no longer use the API.",
        ),
        ("wrong ip", 403, "ip_not_allowed", "The API key may not be used from this address."),
    ],
)
def test_refusals_answer_their_codes(case, status, code, message):
    affiliate = AffiliateFactory()
    issued = api_key_create(
        user=affiliate.user,
        name="Script",
        expires_at=timezone.now() + dt.timedelta(hours=1),
        ip_allowlist=["198.51.100.0/24"] if case == "wrong ip" else ["127.0.0.1"],
        now=timezone.now(),
    )
    key = issued.key
    if case == "unknown":
        key = issued.api_key.prefix + ".not-the-secret-at-all-000000000"
    if case == "revoked":
        api_key_revoke(api_key=issued.api_key, now=timezone.now())
    if case == "expired":
        ApiKey.objects.filter(pk=issued.api_key.pk).update(expiry_date=timezone.now())
    if case == "suspended owner":
        affiliate.status = ApprovalStatus.SUSPENDED
        affiliate.save()

    response = _with_key(key).get("/api/auth/me")

    assert (response.status_code, response.json()) == (status, _error(code, message))
    if status == 401:
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_read_key_on_a_write_route_is_insufficient_scope():
    affiliate = AffiliateFactory()
    conversion_approve(affiliate=affiliate, advertiser=AdvertiserFactory(), payout=Decimal("100"))

    response = _with_key(_key(affiliate.user, scope="read")).post(
        "/api/payouts", {"amount": "60", "currency": "USD"}, format="json"
    )
    written = _with_key(_key(affiliate.user, scope="write")).post(
        "/api/payouts", {"amount": "60", "currency": "USD"}, format="json"
    )

    assert (response.status_code, response.json()) == (
        403,
        _error("insufficient_scope", "This API key has the read scope: it may only read."),
    )
    assert written.status_code == 201


def test_revoke_through_the_api(api_client):
    user = AffiliateFactory().user
    key = _key(user)
    someone_elses = api_key_create(
        user=AffiliateFactory().user, name="Theirs", now=timezone.now()
    ).api_key
    api_client.force_authenticate(user)

    revoked = api_client.post(f"/api/api-keys/{ApiKey.objects.get(user=user).pk}/revoke")
    not_mine = api_client.post(f"/api/api-keys/{someone_elses.pk}/revoke")
    used = _with_key(key).get("/api/auth/me")

    assert (revoked.status_code, revoked.json()["revoked"]) == (200, True)
    assert (not_mine.status_code, not_mine.json()["code"]) == (404, "not_found")
    assert used.json()["code"] == "api_key_revoked"
    assert ApiKey.objects.get(pk=someone_elses.pk).revoked is False


def test_delete_revokes_and_answers_no_body(api_client):
    user = AffiliateFactory().user
    key = _key(user)
    api_client.force_authenticate(user)
    api_key_id = ApiKey.objects.get(user=user).pk

    deleted = api_client.delete(f"/api/api-keys/{api_key_id}")
    shown = api_client.get(f"/api/api-keys/{api_key_id}")
    used = _with_key(key).get("/api/auth/me")

    assert (deleted.status_code, deleted.content) == (204, b"")
    assert (shown.status_code, shown.json()["revoked"]) == (200, True)
    assert (used.status_code, used.json()["code"]) == (401, "api_key_revoked")


def test_the_key_is_in_no_log_and_no_sql(caplog, api_client):
    user = AffiliateFactory().user
    api_client.force_authenticate(user)
    caplog.set_level(logging.DEBUG)

    with CaptureQueriesContext(connection) as queries:
        key = api_client.post("/api/api-keys", {"name": "Logged?"}, format="json").json()["key"]
        _with_key(key).get("/api/auth/me")
        _with_key(key).post("/api/payouts", {"amount": "1"}, format="json")  # 403: logged
        _with_key(key + "x").get("/api/auth/me")  # 401: logged
        by_header = APIClient()
        by_header.credentials(HTTP_X_API_KEY=key)
        by_header.get("/api/payouts?page=x")

    secret = key.partition(".")[2]
    assert "Forbidden: /api/payouts" in caplog.text
    assert "Unauthorized: /api/auth/me" in caplog.text
    assert secret not in caplog.text
    assert [q["sql"] for q in queries.captured_queries if secret in q["sql"]] == []
