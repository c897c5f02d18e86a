"""The console's login with two-factor authentication: the code is asked of accounts that have
an app, a session that did not pass it is not let in, and a role that must use it goes to the
enrolment page first."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY

from accounts.tests.factories import DEFAULT_PASSWORD, AdminUserFactory, totp_code, two_factor_on

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 5, 4, 9, 0, 5, tzinfo=dt.UTC)
EMAIL = "boss@example.test"


def _login(client: Client, otp: str | None = None):
    form = {"username": EMAIL, "password": DEFAULT_PASSWORD}
    if otp is not None:
        form["otp"] = otp
    return client.post("/admin/login/?next=/admin/", form)


@pytest.fixture
def admin_with_app():
    admin = AdminUserFactory(email=EMAIL)
    with time_machine.travel(START, tick=False) as clock:
        device, codes = two_factor_on(admin)
        clock.shift(dt.timedelta(seconds=30))
        yield admin, device, codes


def test_the_login_page_asks_for_the_code():
    html = Client().get("/admin/login/").content.decode()

    assert '<label for="id_otp">Two-factor code:</label>' in html


def test_the_password_alone_does_not_open_the_console_of_an_admin_with_an_app(admin_with_app):
    client = Client()

    response = _login(client)

    assert response.status_code == 200
    assert b"This account uses two-factor authentication" in response.content
    assert "_auth_user_id" not in client.session


def test_a_wrong_code_is_refused(admin_with_app):
    client = Client()

    response = _login(client, otp="000000")

    assert response.status_code == 200
    assert b"The two-factor code is wrong, expired or already used." in response.content
    assert "_auth_user_id" not in client.session


def test_the_apps_code_opens_the_console(admin_with_app):
    _, device, _ = admin_with_app
    client = Client()

    response = _login(client, otp=totp_code(device))

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.get("/admin/").status_code == 200


def test_a_recovery_code_opens_the_console_once(admin_with_app):
    _, _, codes = admin_with_app

    first = _login(Client(), otp=codes[0])
    again = _login(Client(), otp=codes[0])

    assert first.status_code == 302
    assert again.status_code == 200


def test_a_session_that_did_not_pass_the_code_is_not_let_in(admin_with_app):
    admin, _, _ = admin_with_app
    client = Client()
    client.force_login(admin)  # a password-only session

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/"


def test_an_admin_without_an_app_logs_in_with_the_password_when_not_required():
    AdminUserFactory(email=EMAIL)
    client = Client()

    response = _login(client)

    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_required_admin_without_an_app_is_sent_to_set_it_up(settings):
    settings.OTP_REQUIRED_ROLES = ["admin"]
    AdminUserFactory(email=EMAIL)
    client = Client()

    response = _login(client)

    assert response["Location"] == "/admin/"
    assert client.get("/admin/")["Location"] == "/portal/two-factor/"
    assert client.get("/portal/two-factor/").status_code == 200


def test_the_console_links_to_the_two_factor_page(admin_with_app):
    _, device, _ = admin_with_app
    client = Client()
    _login(client, otp=totp_code(device))

    assert b'href="/portal/two-factor/"' in client.get("/admin/").content
