"""`POST /api/auth/login` with two-factor authentication: the code (`otp`) is required once the
account has an app, checked, spent; recovery codes work once; a role that must use it is refused
until it is set up; the login throttle still counts every attempt."""

import datetime as dt

import pytest
import time_machine
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from accounts.tests.factories import (
    DEFAULT_PASSWORD,
    AdminUserFactory,
    AffiliateFactory,
    totp_code,
    two_factor_on,
)

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 5, 4, 9, 0, 5, tzinfo=dt.UTC)
LOGIN = "/api/auth/login"
EMAIL = "pub@example.test"


def _login(client: APIClient, **body):
    return client.post(LOGIN, {"email": EMAIL, "password": DEFAULT_PASSWORD, **body}, format="json")


@pytest.fixture
def with_app():
    """An affiliate with two-factor authentication on, at START + 30 s (the confirming code is
    spent; the app shows the next one)."""
    user = AffiliateFactory(user__email=EMAIL).user
    with time_machine.travel(START, tick=False) as clock:
        device, codes = two_factor_on(user)
        clock.shift(dt.timedelta(seconds=30))
        yield device, codes


def test_without_the_code_the_login_answers_otp_required(api_client, with_app):
    response = _login(api_client)

    assert response.status_code == 401
    assert response.json() == {
        "status": "error",
        "code": "otp_required",
        "message": "This account uses two-factor authentication: send the code from the "
        "authenticator app, or a recovery code, as `otp`.",
        "fields": {"otp": ["Enter the code from your authenticator app."]},
    }
    assert "access_token" not in response.cookies


def test_a_wrong_code_answers_invalid_otp(api_client, with_app):
    device, _ = with_app
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"

    response = _login(api_client, otp=wrong)

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_otp"
    assert "access_token" not in response.cookies


def test_the_apps_current_code_logs_in_once(api_client, with_app):
    device, _ = with_app
    code = totp_code(device)

    first = _login(api_client, otp=code)
    again = _login(APIClient(), otp=code)

    assert first.status_code == 200
    assert set(first.json()) == {"access", "refresh", "user"}
    assert first.cookies["access_token"].value
    assert again.status_code == 401
    assert again.json()["code"] == "invalid_otp"


def test_a_recovery_code_logs_in_exactly_once(api_client, with_app):
    _, codes = with_app

    first = _login(api_client, otp=codes[3])
    again = _login(APIClient(), otp=codes[3])

    assert first.status_code == 200
    assert again.status_code == 401
    assert again.json()["code"] == "invalid_otp"


def test_a_wrong_password_says_nothing_about_the_second_factor(api_client, with_app):
    response = _login(api_client, password="wrong-password", otp="")

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


def test_a_user_without_a_device_logs_in_with_the_password_alone(api_client):
    AffiliateFactory(user__email=EMAIL)

    assert _login(api_client).status_code == 200


def test_a_required_role_without_a_device_is_refused(api_client, settings):
    settings.OTP_REQUIRED_ROLES = ["admin"]
    AdminUserFactory(email=EMAIL)

    response = _login(api_client)

    assert response.status_code == 403
    assert response.json() == {
        "status": "error",
        "code": "otp_enrolment_required",
        "message": "Your role must use two-factor authentication: log in to the portal once to "
        "set it up, then log in here with a code.",
    }
    assert "access_token" not in response.cookies


def test_a_required_role_with_a_device_logs_in_with_its_code(api_client, settings):
    settings.OTP_REQUIRED_ROLES = ["admin"]
    admin = AdminUserFactory(email=EMAIL)
    with time_machine.travel(START, tick=False) as clock:
        device, _ = two_factor_on(admin)
        clock.shift(dt.timedelta(seconds=30))

        response = _login(api_client, otp=totp_code(device))

    assert response.status_code == 200
    assert response.json()["user"]["role"] == "admin"


def test_otp_must_be_a_string(api_client, with_app):
    response = _login(api_client, otp=123456)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert list(response.json()["fields"]) == ["otp"]


def test_code_attempts_count_against_the_login_throttle(api_client, with_app, monkeypatch):
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "auth_login", "3/minute")

    statuses = [_login(api_client, otp="000000").status_code for _ in range(4)]

    assert statuses == [401, 401, 401, 429]
