"""Two-factor authentication in the portal: the code step of the login, the enrolment page
(secret, QR code, confirmation, recovery codes shown once, turning it off) and the roles that are
sent to enrolment before any other page."""

import base64
import datetime as dt

import pytest
import time_machine
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.tests.factories import (
    DEFAULT_PASSWORD,
    AdminUserFactory,
    AdvertiserFactory,
    AffiliateFactory,
    totp_code,
    two_factor_on,
)
from accounts.two_factor import otp_is_enabled, otp_recovery_codes_left

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 5, 4, 9, 0, 5, tzinfo=dt.UTC)
EMAIL = "pub@example.test"


def _password(client: Client, email: str = EMAIL, next_url: str = ""):
    form = {"username": email, "password": DEFAULT_PASSWORD}
    if next_url:
        form["next"] = next_url
    return client.post("/portal/login/", form)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def with_app(clock):
    """An approved affiliate with two-factor on; the clock one step past the confirming code."""
    affiliate = AffiliateFactory(user__email=EMAIL)
    device, codes = two_factor_on(affiliate.user)
    clock.shift(dt.timedelta(seconds=30))
    return affiliate.user, device, codes


# --- the login's code step -----------------------------------------------------------------------


def test_the_password_alone_does_not_log_in_a_user_with_an_app(with_app):
    client = Client()

    response = _password(client)

    assert response.status_code == 302
    assert response["Location"] == "/portal/login/code/"
    assert "_auth_user_id" not in client.session
    assert client.get("/portal/affiliate/")["Location"] == "/portal/login/?next=/portal/affiliate/"
    page = client.get("/portal/login/code/")
    assert page.status_code == 200
    assert b'<label for="id_otp">Code:</label>' in page.content


def test_the_apps_code_finishes_the_login_and_marks_the_session_verified(with_app):
    user, device, _ = with_app
    client = Client()
    _password(client, next_url="/portal/affiliate/links/")

    response = client.post("/portal/login/code/", {"otp": totp_code(device)})

    assert response.status_code == 302
    assert response["Location"] == "/portal/affiliate/links/"
    assert int(client.session["_auth_user_id"]) == user.pk
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.get("/portal/affiliate/links/").status_code == 200


def test_a_wrong_code_is_shown_on_the_form_and_logs_nobody_in(with_app):
    client = Client()
    _password(client)

    response = client.post("/portal/login/code/", {"otp": "000000"})

    assert response.status_code == 200
    assert b"The code is wrong, expired or already used." in response.content
    assert "_auth_user_id" not in client.session


def test_a_recovery_code_logs_in_once(with_app):
    user, _, codes = with_app
    first, second = Client(), Client()
    _password(first)
    _password(second)

    used = first.post("/portal/login/code/", {"otp": codes[0]})
    reused = second.post("/portal/login/code/", {"otp": codes[0]})

    assert used.status_code == 302
    assert int(first.session["_auth_user_id"]) == user.pk
    assert reused.status_code == 200
    assert "_auth_user_id" not in second.session
    assert otp_recovery_codes_left(user) == 9


def test_the_code_step_expires_after_five_minutes(with_app, clock):
    _, device, _ = with_app
    client = Client()
    _password(client)
    clock.shift(dt.timedelta(minutes=5, seconds=1))

    response = client.post("/portal/login/code/", {"otp": totp_code(device)})

    assert response.status_code == 302
    assert response["Location"] == "/portal/login/"
    assert "_auth_user_id" not in client.session


def test_the_code_step_without_a_password_goes_to_the_login():
    response = Client().get("/portal/login/code/")

    assert response.status_code == 302
    assert response["Location"] == "/portal/login/"


def test_djangos_login_address_has_the_code_step_too(with_app):
    client = Client()

    response = client.post("/portal/auth/login/", {"username": EMAIL, "password": DEFAULT_PASSWORD})

    assert response["Location"] == "/portal/login/code/"
    assert "_auth_user_id" not in client.session


# --- the enrolment page --------------------------------------------------------------------------


def test_setting_it_up_shows_the_secret_then_a_code_confirms_it_and_shows_ten_codes(clock):
    user = AffiliateFactory().user
    client = Client()
    client.force_login(user)

    off = client.get("/portal/two-factor/")
    started = client.post("/portal/two-factor/", {"action": "start"})
    page = client.get("/portal/two-factor/")
    secret = page.context["enrolment"].secret
    code = f"{totp(base64.b32decode(secret)):06d}"
    confirmed = client.post("/portal/two-factor/", {"action": "confirm", "otp": code})

    assert b"Set up two-factor authentication" in off.content
    assert started["Location"] == "/portal/two-factor/"
    html = page.content.decode()
    assert f'value="{secret}"' in html
    assert 'src="data:image/svg+xml' in html
    assert "otpauth://totp/ClickLedger" in html
    assert confirmed.status_code == 200
    codes = confirmed.context["codes"]
    assert len(codes) == 10
    assert all(f"<li>{code}</li>" in confirmed.content.decode() for code in codes)
    assert otp_is_enabled(user) is True
    # The code just typed verified this session too.
    assert client.session[DEVICE_ID_SESSION_KEY] == TOTPDevice.objects.get(user=user).persistent_id
    # Shown once: the page now says it is on, without the codes.
    after = client.get("/portal/two-factor/").content.decode()
    assert "Recovery codes left" in after
    assert codes[0] not in after


def test_a_wrong_confirmation_code_is_shown_on_the_form(clock):
    user = AffiliateFactory().user
    client = Client()
    client.force_login(user)
    client.post("/portal/two-factor/", {"action": "start"})

    response = client.post("/portal/two-factor/", {"action": "confirm", "otp": "000000"})

    assert response.status_code == 200
    assert b"The code is wrong or expired." in response.content
    assert otp_is_enabled(user) is False


def test_turning_it_off_takes_a_code(with_app):
    user, device, _ = with_app
    client = Client()
    client.force_login(user)

    response = client.post("/portal/two-factor/", {"action": "disable", "otp": totp_code(device)})

    assert response["Location"] == "/portal/two-factor/"
    assert otp_is_enabled(user) is False


def test_the_profile_links_to_the_page():
    client = Client()
    client.force_login(AffiliateFactory().user)

    assert b'href="/portal/two-factor/"' in client.get("/portal/profile/").content


# --- roles that must use it ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/portal/", "/portal/advertiser/", "/portal/profile/", "/admin/", "/admin/login/"]
)
def test_a_required_role_without_an_app_is_sent_to_enrolment_first(settings, path):
    settings.OTP_REQUIRED_ROLES = ["advertiser"]
    client = Client()
    client.force_login(AdvertiserFactory().user)

    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == "/portal/two-factor/"


def test_the_enrolment_page_and_logout_stay_open_to_it(settings):
    settings.OTP_REQUIRED_ROLES = ["advertiser"]
    client = Client()
    client.force_login(AdvertiserFactory().user)

    page = client.get("/portal/two-factor/")
    logout = client.post("/portal/logout/")

    assert page.status_code == 200
    assert b"Your role must use two-factor authentication" in page.content
    assert logout["Location"] == "/portal/login/"


def test_a_required_role_is_let_through_once_set_up(settings, clock):
    settings.OTP_REQUIRED_ROLES = ["advertiser"]
    user = AdvertiserFactory().user
    client = Client()
    client.force_login(user)
    client.post("/portal/two-factor/", {"action": "start"})
    device = TOTPDevice.objects.get(user=user)

    client.post("/portal/two-factor/", {"action": "confirm", "otp": totp_code(device)})

    assert client.get("/portal/advertiser/").status_code == 200


def test_roles_not_required_are_not_sent_anywhere(settings):
    settings.OTP_REQUIRED_ROLES = ["admin"]
    client = Client()
    client.force_login(AffiliateFactory().user)

    assert client.get("/portal/affiliate/").status_code == 200


def test_a_required_role_cannot_turn_it_off(settings, with_app):
    settings.OTP_REQUIRED_ROLES = ["affiliate"]
    user, device, _ = with_app
    client = Client()
    client.force_login(user)

    page = client.get("/portal/two-factor/")
    response = client.post("/portal/two-factor/", {"action": "disable", "otp": totp_code(device)})

    assert b"Turn off two-factor authentication" not in page.content
    assert b"cannot be turned off" in response.content
    assert otp_is_enabled(user) is True


def test_an_admin_required_to_use_it_sets_it_up_in_the_portal(settings):
    settings.OTP_REQUIRED_ROLES = ["admin"]
    client = Client()
    client.force_login(AdminUserFactory())

    response = client.get("/portal/two-factor/")

    assert response.status_code == 200
    assert response.context["base_template"] == "portal/base.html"
