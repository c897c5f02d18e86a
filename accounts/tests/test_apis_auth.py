"""Register, login (cookies, django-axes lockout, throttling), refresh rotation (once, even under
20 concurrent requests), logout, `me`, and cookie authentication with CSRF."""

import datetime as dt
import threading

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.models import Affiliate, ApprovalStatus, Role, User
from accounts.tests.factories import (
    DEFAULT_PASSWORD,
    AdminUserFactory,
    AffiliateFactory,
    UserFactory,
)
from core.tests.api_bodies import invalid_fields_body

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
REGISTER = "/api/auth/register"
LOGIN = "/api/auth/login"
REFRESH = "/api/auth/refresh"
LOGOUT = "/api/auth/logout"
ME = "/api/auth/me"


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """Throttle counters live in the process-wide cache; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


def _login(client: APIClient, email: str, password: str = DEFAULT_PASSWORD, **extra):
    return client.post(LOGIN, {"email": email, "password": password}, format="json", **extra)


def _cookie(response, name: str) -> dict:
    morsel = response.cookies[name]
    return {
        "value_set": bool(morsel.value),
        "httponly": morsel["httponly"],
        "samesite": morsel["samesite"],
        "secure": morsel["secure"],
        "path": morsel["path"],
        "max-age": morsel["max-age"],
    }


# --- register ----------------------------------------------------------------------------------


def test_register_creates_a_pending_affiliate_and_answers_its_id(api_client):
    response = api_client.post(
        REGISTER,
        {
            "email": "New.Pub@Example.test",
            "password": "a-long-enough-passphrase",
            "role": "affiliate",
            "name": "New Pub",
            "company": "Pub Media",
        },
        format="json",
    )

    user = User.objects.get()
    assert response.status_code == 201
    assert response.json() == {
        "id": user.id,
        "email": "new.pub@example.test",
        "name": "New Pub",
        "role": "affiliate",
        "status": "pending",
    }
    affiliate = Affiliate.objects.get()
    assert (affiliate.pk, affiliate.company, affiliate.status) == (
        user.id,
        "Pub Media",
        ApprovalStatus.PENDING,
    )
    assert "access_token" not in response.cookies


def test_register_refuses_bad_role_weak_password_and_taken_email(api_client):
    AffiliateFactory(user__email="taken@example.test")
    base = {"email": "x@example.test", "password": "a-long-enough-passphrase", "name": "X"}

    admin_role = api_client.post(REGISTER, {**base, "role": "admin"}, format="json")
    weak = api_client.post(REGISTER, {**base, "role": "advertiser", "password": "123"}, "json")
    taken = api_client.post(
        REGISTER, {**base, "role": "advertiser", "email": "TAKEN@example.test"}, format="json"
    )
    missing = api_client.post(REGISTER, {}, format="json")

    assert admin_role.status_code == 400
    assert admin_role.json() == invalid_fields_body({"role": ['"admin" is not a valid choice.']})
    assert weak.status_code == 400
    assert weak.json()["code"] == "weak_password"
    assert list(weak.json()["fields"]) == ["password"]
    assert taken.status_code == 409
    assert taken.json() == {
        "status": "error",
        "code": "email_taken",
        "message": "An account with this email already exists.",
        "fields": {"email": ["Already registered."]},
    }
    assert missing.status_code == 400
    assert sorted(missing.json()["fields"]) == ["email", "name", "password", "role"]
    assert User.objects.count() == 1


def test_register_is_throttled_per_client(api_client, monkeypatch):
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "auth_register", "2/minute")
    payload = {"password": "a-long-enough-passphrase", "role": "affiliate", "name": "P"}

    statuses = [
        api_client.post(REGISTER, {**payload, "email": f"p{n}@example.test"}, "json").status_code
        for n in range(3)
    ]
    throttled = api_client.post(REGISTER, {**payload, "email": "p9@example.test"}, "json")

    assert statuses == [201, 201, 429]
    assert throttled.json()["code"] == "throttled"
    assert User.objects.count() == 2


# --- login -------------------------------------------------------------------------------------


def test_login_answers_a_token_pair_and_the_user_and_sets_httponly_cookies(api_client):
    affiliate = AffiliateFactory(user__email="pub@example.test", user__name="Pub")
    user = affiliate.user

    response = _login(api_client, "  PUB@example.test ")

    assert response.status_code == 200
    body = response.json()
    assert sorted(body) == ["access", "refresh", "user"]
    assert body["user"] == {
        "id": user.id,
        "email": "pub@example.test",
        "name": "Pub",
        "role": "affiliate",
        "status": "approved",
    }
    assert AccessToken(body["access"])["user_id"] == str(user.id)
    assert RefreshToken(body["refresh"])["user_id"] == str(user.id)
    assert response.cookies["access_token"].value == body["access"]
    assert response.cookies["refresh_token"].value == body["refresh"]
    assert _cookie(response, "access_token") == {
        "value_set": True,
        "httponly": True,
        "samesite": "Lax",
        "secure": "",
        "path": "/",
        "max-age": 900,
    }
    assert _cookie(response, "refresh_token") == {
        "value_set": True,
        "httponly": True,
        "samesite": "Lax",
        "secure": "",
        "path": "/api/auth/",
        "max-age": 7 * 24 * 3600,
    }
    assert response.cookies["csrftoken"].value
    assert "sessionid" not in response.cookies
    assert Session.objects.count() == 0
    user.refresh_from_db()
    assert user.last_login is not None
    assert OutstandingToken.objects.filter(user=user).count() == 1


def test_login_cookies_are_secure_when_the_setting_says_so(api_client, settings):
    settings.AUTH_COOKIE_SECURE = True
    AffiliateFactory(user__email="pub@example.test")

    response = _login(api_client, "pub@example.test")

    assert response.cookies["access_token"]["secure"] is True
    assert response.cookies["refresh_token"]["secure"] is True


@pytest.mark.parametrize(
    ("email", "password", "is_active"),
    [
        ("pub@example.test", "wrong-password", True),
        ("nobody@example.test", DEFAULT_PASSWORD, True),
        ("pub@example.test", DEFAULT_PASSWORD, False),
    ],
    ids=["wrong-password", "unknown-email", "inactive-user"],
)
def test_login_refuses_bad_credentials_with_401_and_no_cookies(
    api_client, email, password, is_active
):
    AffiliateFactory(user__email="pub@example.test", user__is_active=is_active)

    response = _login(api_client, email, password)

    assert response.status_code == 401
    assert response.json() == {
        "status": "error",
        "code": "invalid_credentials",
        "message": "The email or password is wrong.",
    }
    assert "access_token" not in response.cookies
    assert "refresh_token" not in response.cookies
    assert OutstandingToken.objects.count() == 0


@pytest.mark.parametrize(
    "status", [ApprovalStatus.PENDING, ApprovalStatus.REJECTED, ApprovalStatus.SUSPENDED]
)
def test_unapproved_partners_may_log_in_to_see_their_status_but_nothing_else(api_client, status):
    affiliate = AffiliateFactory(user__email="pub@example.test", status=status)

    login = _login(api_client, "pub@example.test")
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {login.json()['access']}"}
    me = APIClient().get(ME, **bearer)
    own_profile = APIClient().get(f"/api/affiliates/{affiliate.pk}", **bearer)

    assert login.status_code == 200
    assert login.json()["user"]["status"] == status
    assert me.json()["status"] == status
    assert own_profile.status_code == 403
    assert own_profile.json()["code"] == "permission_denied"


def test_five_failures_lock_the_email_and_ip_out_for_15_minutes(api_client):
    AffiliateFactory(user__email="pub@example.test")

    with time_machine.travel(START, tick=False) as clock:
        failures = [_login(api_client, "pub@example.test", "wrong").status_code for _ in range(5)]
        locked_right_password = _login(api_client, "pub@example.test")
        other_ip = _login(api_client, "pub@example.test", REMOTE_ADDR="10.0.0.9")
        clock.shift(dt.timedelta(minutes=14, seconds=59))
        still_locked = _login(api_client, "pub@example.test")
        clock.shift(dt.timedelta(minutes=15, seconds=1))
        after_cool_off = _login(api_client, "pub@example.test")

    assert failures == [401, 401, 401, 401, 429]
    assert locked_right_password.status_code == 429
    assert locked_right_password.json() == {
        "status": "error",
        "code": "too_many_attempts",
        "message": "Too many failed logins: try again later.",
    }
    assert "access_token" not in locked_right_password.cookies
    assert other_ip.status_code == 200
    # A refused attempt during the lockout restarts the cool-off.
    assert still_locked.status_code == 429
    assert after_cool_off.status_code == 200
    # A success clears the pair's failures.
    assert AccessAttempt.objects.filter(ip_address="127.0.0.1").count() == 0


def test_failures_on_one_account_do_not_lock_another_account_from_the_same_ip(api_client):
    AffiliateFactory(user__email="pub@example.test")
    AffiliateFactory(user__email="other@example.test")

    for _ in range(5):
        _login(api_client, "pub@example.test", "wrong")
    other = _login(api_client, "OTHER@example.test")

    assert other.status_code == 200


def test_login_counts_failures_for_the_ip_from_trusted_proxies_only(api_client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    AffiliateFactory(user__email="pub@example.test")

    for n in range(5):
        # The client may prepend anything; only the entry our proxy appended is trusted.
        _login(api_client, "pub@example.test", "wrong", HTTP_X_FORWARDED_FOR=f"1.1.1.{n}, 9.9.9.9")
    locked = _login(api_client, "pub@example.test", HTTP_X_FORWARDED_FOR="2.2.2.2, 9.9.9.9")
    elsewhere = _login(api_client, "pub@example.test", HTTP_X_FORWARDED_FOR="9.9.9.8")

    assert locked.status_code == 429
    assert elsewhere.status_code == 200
    assert list(AccessAttempt.objects.values_list("ip_address", "failures_since_start")) == [
        ("9.9.9.9", 6)
    ]


def test_django_admin_login_still_works_and_locks_out_too(client):
    admin = AdminUserFactory(email="boss@example.test")

    ok = client.post(
        "/admin/login/?next=/admin/",
        {"username": admin.email, "password": DEFAULT_PASSWORD},
    )
    client.logout()
    failures = [
        client.post("/admin/login/", {"username": admin.email, "password": "x"}).status_code
        for _ in range(5)
    ]
    locked = client.post("/admin/login/", {"username": admin.email, "password": DEFAULT_PASSWORD})
    api_locked = _login(APIClient(), "boss@example.test")

    assert ok.status_code == 302
    assert ok["Location"] == "/admin/"
    assert failures == [200, 200, 200, 200, 429]
    assert locked.status_code == 429
    # The API and the admin count failures against the same account.
    assert api_locked.status_code == 429


def test_login_is_throttled_per_client(api_client, monkeypatch):
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "auth_login", "3/minute")
    AffiliateFactory(user__email="pub@example.test")

    statuses = [_login(api_client, "pub@example.test").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]


# --- refresh and logout ------------------------------------------------------------------------


def test_refresh_rotates_and_a_used_refresh_token_never_works_again(api_client):
    user = AffiliateFactory().user
    first = RefreshToken.for_user(user)

    rotated = api_client.post(REFRESH, {"refresh": str(first)}, format="json")
    replayed = api_client.post(REFRESH, {"refresh": str(first)}, format="json")
    next_one = api_client.post(REFRESH, {"refresh": rotated.json()["refresh"]}, format="json")

    assert rotated.status_code == 200
    assert sorted(rotated.json()) == ["access", "refresh"]
    assert rotated.json()["refresh"] != str(first)
    assert AccessToken(rotated.json()["access"])["user_id"] == str(user.id)
    assert rotated.cookies["access_token"].value == rotated.json()["access"]
    assert rotated.cookies["refresh_token"].value == rotated.json()["refresh"]
    assert replayed.status_code == 401
    assert replayed.json() == {
        "status": "error",
        "code": "token_not_valid",
        "message": "The refresh token is invalid, expired or already used.",
    }
    assert next_one.status_code == 200
    assert BlacklistedToken.objects.count() == 2
    assert OutstandingToken.objects.count() == 3


@pytest.mark.parametrize("kind", ["garbage", "access-token", "expired", "inactive-user"])
def test_refresh_refuses_tokens_that_are_not_live_refresh_tokens(api_client, kind):
    user = AffiliateFactory().user
    with time_machine.travel(START - dt.timedelta(days=8) if kind == "expired" else START):
        refresh = RefreshToken.for_user(user)
    raw = {
        "garbage": "not-a-token",
        "access-token": str(refresh.access_token),
        "expired": str(refresh),
        "inactive-user": str(refresh),
    }[kind]
    if kind == "inactive-user":
        User.objects.filter(pk=user.pk).update(is_active=False)

    with time_machine.travel(START):
        response = api_client.post(REFRESH, {"refresh": raw}, format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"
    assert BlacklistedToken.objects.count() == 0


def test_refresh_without_any_token_is_401(api_client):
    response = api_client.post(REFRESH, {}, format="json")

    assert response.status_code == 401
    assert response.json() == {
        "status": "error",
        "code": "not_authenticated",
        "message": (
            "Send the refresh token as `refresh` in the body or in the refresh_token cookie."
        ),
    }


def test_refresh_from_the_cookie_requires_the_csrf_header():
    client = APIClient(enforce_csrf_checks=True)
    AffiliateFactory(user__email="pub@example.test")
    _login(client, "pub@example.test")

    without_header = client.post(REFRESH, {}, format="json")
    with_header = client.post(
        REFRESH, {}, format="json", HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value
    )

    assert without_header.status_code == 403
    assert without_header.json() == {
        "status": "error",
        "code": "permission_denied",
        "message": "CSRF Failed: CSRF token missing.",
    }
    assert with_header.status_code == 200
    assert BlacklistedToken.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_refreshes_of_one_token_succeed_exactly_once():
    user = AffiliateFactory().user
    raw = str(RefreshToken.for_user(user))
    barrier = threading.Barrier(20)
    statuses: list[int] = []
    lock = threading.Lock()

    def spend() -> None:
        try:
            client = APIClient()
            barrier.wait(timeout=30)
            status = client.post(REFRESH, {"refresh": raw}, format="json").status_code
            with lock:
                statuses.append(status)
        finally:
            connection.close()

    threads = [threading.Thread(target=spend) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [200] + [401] * 19
    assert BlacklistedToken.objects.count() == 1
    assert OutstandingToken.objects.count() == 2


def test_logout_revokes_the_refresh_token_and_clears_the_cookies(api_client):
    AffiliateFactory(user__email="pub@example.test")
    refresh = _login(api_client, "pub@example.test").json()["refresh"]

    response = api_client.post(LOGOUT, {"refresh": refresh}, format="json")
    again = api_client.post(LOGOUT, {"refresh": refresh}, format="json")
    reuse = api_client.post(REFRESH, {"refresh": refresh}, format="json")

    assert response.status_code == 204
    assert response.content == b""
    for name, path in [("access_token", "/"), ("refresh_token", "/api/auth/")]:
        assert response.cookies[name].value == ""
        assert response.cookies[name]["max-age"] == 0
        assert response.cookies[name]["path"] == path
    assert again.status_code == 204
    assert reuse.status_code == 401
    assert BlacklistedToken.objects.count() == 1


def test_logout_from_the_cookie_requires_csrf_and_needs_a_token():
    client = APIClient(enforce_csrf_checks=True)
    AffiliateFactory(user__email="pub@example.test")
    _login(client, "pub@example.test")

    refused = client.post(LOGOUT, {}, format="json")
    done = client.post(
        LOGOUT, {}, format="json", HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value
    )
    no_token = APIClient().post(LOGOUT, {}, format="json")

    assert refused.status_code == 403
    assert done.status_code == 204
    assert no_token.status_code == 401
    assert no_token.json()["code"] == "not_authenticated"
    assert BlacklistedToken.objects.count() == 1


# --- me and cookie authentication ---------------------------------------------------------------


def test_me_with_bearer_cookie_and_anonymous(api_client):
    admin = AdminUserFactory(email="boss@example.test", name="Boss")
    access = str(RefreshToken.for_user(admin).access_token)
    cookie_client = APIClient()
    cookie_client.cookies["access_token"] = access

    by_bearer = APIClient().get(ME, HTTP_AUTHORIZATION=f"Bearer {access}")
    by_cookie = cookie_client.get(ME)
    anonymous = api_client.get(ME)

    expected = {
        "id": admin.id,
        "email": "boss@example.test",
        "name": "Boss",
        "role": "admin",
        "status": "approved",
    }
    assert by_bearer.json() == expected
    assert by_cookie.json() == expected
    assert anonymous.status_code == 401
    assert anonymous.json() == {
        "status": "error",
        "code": "not_authenticated",
        "message": "Authentication credentials were not provided.",
    }


def test_access_tokens_expire_after_15_minutes():
    user = UserFactory(role=Role.AFFILIATE)
    with time_machine.travel(START, tick=False) as clock:
        access = str(RefreshToken.for_user(user).access_token)
        client = APIClient(HTTP_AUTHORIZATION=f"Bearer {access}")
        clock.shift(dt.timedelta(minutes=14, seconds=59))
        fresh = client.get(ME)
        clock.shift(dt.timedelta(seconds=2))
        stale = client.get(ME)

    assert fresh.status_code == 200
    assert stale.status_code == 401
    assert stale.json() == {
        "status": "error",
        "code": "token_not_valid",
        "message": "The access token is invalid or expired.",
    }


def test_cookie_auth_needs_csrf_on_unsafe_methods_and_bearer_does_not():
    AdminUserFactory(email="boss@example.test")
    affiliate = AffiliateFactory(status=ApprovalStatus.PENDING)
    url = f"/api/affiliates/{affiliate.pk}/approve"
    cookie_client = APIClient(enforce_csrf_checks=True)
    access = _login(cookie_client, "boss@example.test").json()["access"]

    no_header = cookie_client.post(url, {}, format="json")
    affiliate.refresh_from_db()
    status_after_refusal = affiliate.status
    wrong_header = cookie_client.post(url, {}, format="json", HTTP_X_CSRFTOKEN="x" * 32)
    with_header = cookie_client.post(
        url, {}, format="json", HTTP_X_CSRFTOKEN=cookie_client.cookies["csrftoken"].value
    )
    bearer = APIClient(enforce_csrf_checks=True).post(
        f"/api/affiliates/{affiliate.pk}/suspend",
        {},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {access}",
    )

    assert no_header.status_code == 403
    assert no_header.json()["message"] == "CSRF Failed: CSRF token missing."
    assert status_after_refusal == ApprovalStatus.PENDING
    assert wrong_header.status_code == 403
    assert with_header.status_code == 200
    assert with_header.json()["status"] == "approved"
    assert bearer.status_code == 200
    assert bearer.json()["status"] == "suspended"


def test_tokens_of_inactive_users_and_forged_cookies_are_refused():
    user = UserFactory(role=Role.AFFILIATE)
    access = str(RefreshToken.for_user(user).access_token)
    User.objects.filter(pk=user.pk).update(is_active=False)
    forged_cookie = APIClient()
    forged_cookie.cookies["access_token"] = "forged"

    inactive = APIClient().get(ME, HTTP_AUTHORIZATION=f"Bearer {access}")
    forged = forged_cookie.get(ME)

    assert inactive.status_code == 401
    assert inactive.json() == {
        "status": "error",
        "code": "token_not_valid",
        "message": "The access token's user is unknown or inactive.",
    }
    assert forged.status_code == 401
    assert forged.json()["code"] == "token_not_valid"
