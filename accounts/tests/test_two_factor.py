"""Two-factor services: enrolment (secret, otpauth URI, QR code, confirmation, recovery codes),
the login check (TOTP codes, recovery codes once, throttling), turning it off, the roles that
must use it, and the settings' system checks."""

import base64
import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.checks import otp_admins_check, otp_required_roles_check
from accounts.tests.factories import (
    AdminUserFactory,
    AdvertiserFactory,
    AffiliateFactory,
    totp_code,
    two_factor_on,
)
from accounts.two_factor import (
    otp_disable,
    otp_enrolment_confirm,
    otp_enrolment_refuse,
    otp_enrolment_start,
    otp_is_enabled,
    otp_is_required,
    otp_login_check,
    otp_recovery_codes_left,
)
from core.exceptions import ApplicationError

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 5, 4, 9, 0, 5, tzinfo=dt.UTC)  # 5 s into a 30-second step


def _code_of(call) -> str:
    with pytest.raises(ApplicationError) as refused:
        call()
    return refused.value.code


# --- enrolment ---------------------------------------------------------------------------------


def test_enrolment_shows_the_secret_as_base32_in_an_otpauth_uri_and_a_qr_code():
    user = AffiliateFactory(user__email="pub@example.test").user

    enrolment = otp_enrolment_start(user=user)

    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed is False
    assert base64.b32decode(enrolment.secret) == device.bin_key
    uri = urlsplit(enrolment.uri)
    assert (uri.scheme, uri.netloc, uri.path) == (
        "otpauth",
        "totp",
        "/ClickLedger%3Apub%40example.test",
    )
    assert parse_qs(uri.query) == {
        "secret": [enrolment.secret],
        "algorithm": ["SHA1"],
        "digits": ["6"],
        "period": ["30"],
        "issuer": ["ClickLedger"],
    }
    assert enrolment.qr_data_uri.startswith("data:image/svg+xml")
    assert otp_is_enabled(user) is False


def test_starting_again_replaces_the_unconfirmed_secret():
    user = AffiliateFactory().user
    first = otp_enrolment_start(user=user)

    second = otp_enrolment_start(user=user)

    assert list(TOTPDevice.objects.filter(user=user).values_list("pk", flat=True)) == [
        second.device.pk
    ]
    assert second.secret != first.secret


def test_a_wrong_code_does_not_confirm_the_app():
    user = AffiliateFactory().user
    enrolment = otp_enrolment_start(user=user)
    wrong = f"{(int(totp_code(enrolment.device)) + 1) % 1_000_000:06d}"

    code = _code_of(lambda: otp_enrolment_confirm(user=user, token=wrong))

    assert code == "invalid_otp"
    assert otp_is_enabled(user) is False
    assert StaticToken.objects.count() == 0
    # The failure counts against the device (django-otp's throttling), rollback or not.
    assert TOTPDevice.objects.get(user=user).throttling_failure_count == 1


def test_confirming_with_the_apps_code_turns_it_on_and_issues_ten_recovery_codes():
    user = AffiliateFactory().user
    enrolment = otp_enrolment_start(user=user)

    device, codes = otp_enrolment_confirm(user=user, token=totp_code(enrolment.device))

    assert device.pk == enrolment.device.pk
    assert otp_is_enabled(user) is True
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert sorted(
        StaticToken.objects.filter(device__user=user).values_list("token", flat=True)
    ) == (sorted(codes))
    assert otp_recovery_codes_left(user) == 10


def test_confirming_without_a_started_enrolment_is_refused():
    user = AffiliateFactory().user

    assert _code_of(lambda: otp_enrolment_confirm(user=user, token="123456")) == "otp_not_started"


def test_starting_while_on_is_refused():
    user = AffiliateFactory().user
    two_factor_on(user)

    assert _code_of(lambda: otp_enrolment_start(user=user)) == "otp_already_enabled"


# --- the login check ---------------------------------------------------------------------------


def test_a_user_without_a_device_needs_no_code():
    user = AffiliateFactory().user

    assert otp_login_check(user=user, token="") is None


def test_with_a_device_the_code_is_required_checked_and_spent():
    user = AffiliateFactory().user
    with time_machine.travel(START, tick=False) as clock:
        device, _ = two_factor_on(user)
        clock.shift(dt.timedelta(seconds=30))
        code = totp_code(device)

        missing = _code_of(lambda: otp_login_check(user=user, token=""))
        verified = otp_login_check(user=user, token=code)
        clock.shift(dt.timedelta(seconds=5))  # past the throttle of no failure: none yet
        replayed = _code_of(lambda: otp_login_check(user=user, token=code))

    assert missing == "otp_required"
    assert verified == device
    assert replayed == "invalid_otp"


def test_a_wrong_code_is_refused_and_throttles_the_next_try():
    user = AffiliateFactory().user
    with time_machine.travel(START, tick=False) as clock:
        device, _ = two_factor_on(user)
        clock.shift(dt.timedelta(seconds=30))
        right = totp_code(device)
        wrong = f"{(int(right) + 1) % 1_000_000:06d}"

        refused = _code_of(lambda: otp_login_check(user=user, token=wrong))
        too_soon = _code_of(lambda: otp_login_check(user=user, token=right))
        clock.shift(dt.timedelta(seconds=2))  # 1 s after one failure, 2 s after two
        after_the_wait = otp_login_check(user=user, token=right)

    assert (refused, too_soon) == ("invalid_otp", "invalid_otp")
    assert after_the_wait == device


def test_a_recovery_code_works_exactly_once():
    user = AffiliateFactory().user
    _, codes = two_factor_on(user)

    first = otp_login_check(user=user, token=codes[0])
    again = _code_of(lambda: otp_login_check(user=user, token=codes[0]))

    assert first is not None
    assert again == "invalid_otp"
    assert otp_recovery_codes_left(user) == 9


def test_a_recovery_code_may_be_typed_in_capitals_with_spaces_and_dashes():
    user = AffiliateFactory().user
    _, codes = two_factor_on(user)
    typed = f" {codes[1][:4].upper()}-{codes[1][4:].upper()} "

    assert otp_login_check(user=user, token=typed) is not None
    assert otp_recovery_codes_left(user) == 9


# --- who must use it -----------------------------------------------------------------------------


def test_required_roles_name_staff_as_admin(settings):
    settings.OTP_REQUIRED_ROLES = ["admin"]
    staff_affiliate = AffiliateFactory(user__is_staff=True).user

    assert otp_is_required(AdminUserFactory()) is True
    assert otp_is_required(staff_affiliate) is True
    assert otp_is_required(AffiliateFactory().user) is False


def test_a_required_role_without_a_device_is_refused_until_it_has_one(settings):
    settings.OTP_REQUIRED_ROLES = ["advertiser"]
    advertiser = AdvertiserFactory().user
    affiliate = AffiliateFactory().user

    before = _code_of(lambda: otp_enrolment_refuse(user=advertiser))
    two_factor_on(advertiser)

    assert before == "otp_enrolment_required"
    otp_enrolment_refuse(user=advertiser)  # does not raise
    otp_enrolment_refuse(user=affiliate)  # not a required role


# --- turning it off ------------------------------------------------------------------------------


def test_turning_it_off_needs_a_good_code():
    user = AffiliateFactory().user
    _, codes = two_factor_on(user)

    with time_machine.travel(START, tick=False) as clock:
        wrong = _code_of(lambda: otp_disable(user=user, token="nope-nope"))
        clock.shift(dt.timedelta(seconds=1))  # django-otp's wait after one failure
        otp_disable(user=user, token=codes[0])

    assert wrong == "invalid_otp"
    assert otp_is_enabled(user) is False
    assert otp_recovery_codes_left(user) == 0
    assert otp_login_check(user=user, token="") is None


def test_a_required_role_cannot_turn_it_off(settings):
    settings.OTP_REQUIRED_ROLES = ["affiliate"]
    user = AffiliateFactory().user
    _, codes = two_factor_on(user)

    assert _code_of(lambda: otp_disable(user=user, token=codes[0])) == "otp_required_by_role"
    assert otp_is_enabled(user) is True
    assert otp_recovery_codes_left(user) == 10


def test_turning_it_off_when_off_is_refused():
    user = AffiliateFactory().user

    assert _code_of(lambda: otp_disable(user=user, token="123456")) == "otp_not_enabled"


# --- system checks -------------------------------------------------------------------------------


def test_an_unknown_role_name_is_a_settings_error(settings):
    settings.OTP_REQUIRED_ROLES = ["admin", "staff"]

    assert [error.id for error in otp_required_roles_check()] == ["clickledger.E002"]
    assert "'staff' is not a role" in otp_required_roles_check()[0].msg


@pytest.mark.parametrize(
    ("roles", "admin_optional", "warnings"),
    [
        (["admin"], False, []),
        (["advertiser", "affiliate"], False, ["clickledger.W001"]),
        ([], True, []),
    ],
)
def test_the_deploy_check_wants_admins_to_use_a_second_factor(
    settings, roles, admin_optional, warnings
):
    settings.OTP_REQUIRED_ROLES = roles
    settings.OTP_ADMIN_OPTIONAL = admin_optional

    assert [warning.id for warning in otp_admins_check()] == warnings
