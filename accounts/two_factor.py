"""Two-factor authentication: a TOTP authenticator app, and ten one-time recovery codes.

django-otp keeps the devices: a `TOTPDevice` (the app's shared secret; unconfirmed until the user
proves the app works by typing a code from it) and a `StaticDevice` whose `StaticToken`s are the
recovery codes. A recovery code is deleted as it is accepted, so it works exactly once; a TOTP
code is refused again once accepted (the device keeps the last time step it took), and both
devices slow down repeated failures (django-otp's exponential throttling).

Who must use it: the roles in `settings.OTP_REQUIRED_ROLES`. The login flows (API, portal,
console) call `otp_login_check` after the password; the portal's enrolment page calls the
`otp_enrolment_*` services.
"""

import base64
import re
from dataclasses import dataclass

import django_otp
import segno
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role, User
from core.exceptions import ApplicationError

RECOVERY_CODE_COUNT = 10
_TOTP_DEVICE_NAME = "Authenticator app"
_RECOVERY_DEVICE_NAME = "Recovery codes"
# What people paste: spaces and dashes between groups, any letter case.
_SEPARATORS = re.compile(r"[\s-]+")


def otp_role_of(user: User) -> str:
    """The role `OTP_REQUIRED_ROLES` names the user by: staff and superusers are `admin`."""
    return Role.ADMIN if user.is_network_admin else user.role


def otp_is_required(user: User) -> bool:
    """Whether the operator requires two-factor authentication of the user's role (no query)."""
    return otp_role_of(user) in settings.OTP_REQUIRED_ROLES


def otp_is_enabled(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def otp_recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def otp_session_is_verified(request: HttpRequest) -> bool:
    """Whether this session's login passed a second factor (django-otp's OTPMiddleware adds
    `is_verified()` to the request's user)."""
    is_verified = getattr(request.user, "is_verified", None)
    return bool(is_verified is not None and is_verified())


def otp_session_is_satisfied(request: HttpRequest, user: User) -> bool:
    """Whether a logged-in session may use pages that need the second factor: it passed one, or
    the user has none and the role does not require one."""
    if otp_session_is_verified(request):
        return True
    return not otp_is_required(user) and not otp_is_enabled(user)


def _token_normalize(token: str) -> str:
    return _SEPARATORS.sub("", token).lower()


def _token_verify(*, user: User, token: str) -> Device | None:
    """The confirmed device that accepts `token`, or None.

    Six digits are tried on the authenticator app only, anything else on the recovery codes
    only, so that a failure counts against the one device it was meant for. django-otp locks the
    device row while it checks, so two requests with the same recovery code cannot both pass.
    """
    token = _token_normalize(token)
    if not token:
        return None
    model: type[Device] = TOTPDevice if token.isdigit() and len(token) == 6 else StaticDevice
    device = model.objects.filter(user=user, confirmed=True).first()
    if device is None:
        return None
    return django_otp.verify_token(user, device.persistent_id, token)


def otp_login_check(*, user: User, token: str) -> Device | None:
    """The second factor of a login whose password was right.

    Returns the device that verified `token` (to mark the session verified), or None when the
    user has no device. Raises `otp_required` (401) when the user has a device and `token` is
    empty, `invalid_otp` (401) when it is wrong, reused or throttled.
    """
    if not otp_is_enabled(user):
        return None
    if not token.strip():
        raise ApplicationError(
            "This account uses two-factor authentication: send the code from the "
            "authenticator app, or a recovery code, as `otp`.",
            code="otp_required",
            status=401,
            fields={"otp": ["Enter the code from your authenticator app."]},
        )
    device = _token_verify(user=user, token=token)
    if device is None:
        raise ApplicationError(
            "The two-factor code is wrong, expired or already used.",
            code="invalid_otp",
            status=401,
            fields={"otp": ["The code is wrong, expired or already used."]},
        )
    return device


def otp_enrolment_refuse(*, user: User) -> None:
    """Raise `otp_enrolment_required` (403) when the user's role must use two-factor
    authentication and the user has not set it up yet (an API client cannot enrol itself)."""
    if otp_is_required(user) and not otp_is_enabled(user):
        raise ApplicationError(
            "Your role must use two-factor authentication: log in to the portal once to set "
            "it up, then log in here with a code.",
            code="otp_enrolment_required",
            status=403,
        )


@dataclass(frozen=True)
class OtpEnrolment:
    """What the enrolment page shows for an authenticator app not confirmed yet."""

    device: TOTPDevice
    secret: str  # base32, as apps take it typed in
    uri: str  # otpauth://totp/..., what the QR code holds
    qr_data_uri: str  # the QR code as an SVG data: URI (the CSP allows data: images)


def _enrolment_of(device: TOTPDevice) -> OtpEnrolment:
    secret = base64.b32encode(device.bin_key).decode()
    uri = device.config_url
    return OtpEnrolment(
        device=device,
        secret=secret,
        uri=uri,
        qr_data_uri=segno.make(uri, error="m").svg_data_uri(scale=5, border=2),
    )


def otp_enrolment_pending(user: User) -> OtpEnrolment | None:
    """The user's unconfirmed authenticator app, while enrolment is under way."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return _enrolment_of(device) if device is not None else None


@transaction.atomic
def otp_enrolment_start(*, user: User) -> OtpEnrolment:
    """Create a new secret for the user's authenticator app (unconfirmed until a code proves
    it), replacing any earlier unconfirmed one. Refused (`otp_already_enabled`, 409) while two-
    factor authentication is on: disable it first."""
    if otp_is_enabled(user):
        raise ApplicationError(
            "Two-factor authentication is already on.", code="otp_already_enabled", status=409
        )
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    device = TOTPDevice.objects.create(user=user, name=_TOTP_DEVICE_NAME, confirmed=False)
    return _enrolment_of(device)


def otp_enrolment_confirm(*, user: User, token: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the pending authenticator app with a code from it, and issue the recovery codes.

    Returns the device (to mark the session verified) and the ten recovery codes, which are shown
    once and never again. Raises `otp_not_started` (409) without a pending device and
    `invalid_otp` (400) for a wrong code.
    """
    # The refusal is raised outside the transaction: the device's failure count must stay.
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
        if device is None:
            raise ApplicationError(
                "Start the set-up again: there is no authenticator app waiting for a code.",
                code="otp_not_started",
                status=409,
            )
        codes = _enrolment_finish(device, token=token)
    if codes is None:
        raise ApplicationError(
            "The code is wrong or expired: check the app's clock and try the newest code.",
            code="invalid_otp",
            fields={"otp": ["The code is wrong or expired."]},
        )
    return device, codes


def _enrolment_finish(device: TOTPDevice, *, token: str) -> list[str] | None:
    """Confirm `device` if `token` is its current code; then the new recovery codes."""
    if not device.verify_token(_token_normalize(token)):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    StaticDevice.objects.filter(user=device.user).delete()
    recovery = StaticDevice.objects.create(
        user=device.user, name=_RECOVERY_DEVICE_NAME, confirmed=True
    )
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=recovery, token=code) for code in codes)
    return codes


def otp_disable(*, user: User, token: str) -> None:
    """Turn two-factor authentication off, proven by a current code or a recovery code.

    Refused with `otp_required_by_role` (409) when the user's role must use it, `otp_not_enabled`
    (409) when it is off, `invalid_otp` (400) for a wrong code.
    """
    if otp_is_required(user):
        raise ApplicationError(
            "Your role must use two-factor authentication; it cannot be turned off.",
            code="otp_required_by_role",
            status=409,
        )
    if not otp_is_enabled(user):
        raise ApplicationError(
            "Two-factor authentication is not on.", code="otp_not_enabled", status=409
        )
    if _token_verify(user=user, token=token) is None:
        raise ApplicationError(
            "The code is wrong, expired or already used.",
            code="invalid_otp",
            fields={"otp": ["The code is wrong, expired or already used."]},
        )
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
