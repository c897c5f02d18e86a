"""How API clients prove who they are: JWT pairs (Bearer header or httpOnly cookies), logins
guarded by django-axes, refresh-token rotation that spends each refresh token exactly once, and
API keys (`Authorization: Api-Key <key>`, accounts.api_keys) for scripts and servers.

Partners whose account is pending, rejected or suspended may log in (so that they can see their
status at `/api/auth/me`); every other endpoint refuses them through the `IsApproved*`
permissions. Inactive users (`is_active=False`) cannot log in at all.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import update_last_login
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import rotate_token
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, CSRFCheck
from rest_framework.request import Request
from rest_framework_simplejwt import exceptions as jwt_exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts.api_keys import api_key_authenticate
from accounts.models import User
from accounts.two_factor import otp_enrolment_refuse, otp_login_check
from core.exceptions import ApplicationError
from core.net import client_ip


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' lockout check, skipped when there is no request.

    Only web logins can be brute-forced; `authenticate()` without a request (shell, management
    commands, tests) has no client to lock out, and plain axes would refuse it with an error.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_username(request: HttpRequest, credentials: Mapping | None) -> str | None:
    """The account an attempt is counted against (AXES_USERNAME_CALLABLE).

    The API posts `email`, the admin login form posts `username`; both name the same user, in
    any letter case.
    """
    source = credentials
    if not source:
        data = getattr(request, "data", None)
        source = data if isinstance(data, Mapping) else request.POST
    value = source.get("email") or source.get("username") or ""
    return str(value).strip().lower() or None


def _csrf_enforce(request: Request) -> None:
    """Django's CSRF check (csrftoken cookie + X-CSRFToken header) for cookie-carried tokens."""

    def no_response(_request):  # pragma: no cover - CSRFCheck never calls it
        return None

    check = CSRFCheck(no_response)
    check.process_request(request)
    # Of the view callback only a `csrf_exempt` mark is read, which this function lacks.
    reason = check.process_view(request, no_response, (), {})
    if reason:
        raise exceptions.PermissionDenied(f"CSRF Failed: {reason}")


class CookieJWTAuthentication(JWTAuthentication):
    """A Bearer access token in the Authorization header, else the `access_token` cookie.

    A browser sends cookies on its own, so a cookie-authenticated unsafe request must also pass
    Django's CSRF check; a Bearer token is never sent implicitly and needs none.
    """

    def get_validated_token(self, raw_token: bytes):
        try:
            return super().get_validated_token(raw_token)
        except jwt_exceptions.InvalidToken as exc:
            # SimpleJWT's detail is a nested dict; the API's error shape wants one message.
            raise exceptions.AuthenticationFailed(
                "The access token is invalid or expired.", code="token_not_valid"
            ) from exc

    def get_user(self, validated_token):
        try:
            return super().get_user(validated_token)
        except jwt_exceptions.AuthenticationFailed as exc:
            raise exceptions.AuthenticationFailed(
                "The access token's user is unknown or inactive.", code="token_not_valid"
            ) from exc

    def authenticate(self, request: Request):
        if self.get_header(request) is not None:
            return super().authenticate(request)
        raw_token = request.COOKIES.get(settings.AUTH_COOKIE_ACCESS)
        if not raw_token:
            return None
        validated_token = self.get_validated_token(raw_token.encode())
        user = self.get_user(validated_token)
        _csrf_enforce(request)
        return user, validated_token


class CookieJWTScheme(OpenApiAuthenticationExtension):
    """OpenAPI: a Bearer access token, or (alternatively) the `access_token` cookie."""

    target_class = "accounts.authentication.CookieJWTAuthentication"
    name = ["jwtAuth", "jwtCookieAuth"]

    def get_security_requirement(self, auto_schema):
        return [{"jwtAuth": []}, {"jwtCookieAuth": []}]

    def get_security_definition(self, auto_schema):
        return [
            build_bearer_security_scheme_object(
                header_name=jwt_settings.AUTH_HEADER_NAME,
                token_prefix=jwt_settings.AUTH_HEADER_TYPES[0],
                bearer_format="JWT",
            ),
            {
                "type": "apiKey",
                "in": "cookie",
                "name": settings.AUTH_COOKIE_ACCESS,
                "description": "Set by /api/auth/login; unsafe methods also need X-CSRFToken.",
            },
        ]


@dataclass(frozen=True)
class TokenPair:
    user: User
    access: str
    refresh: str


def _token_pair(user: User, refresh: RefreshToken) -> TokenPair:
    return TokenPair(user=user, access=str(refresh.access_token), refresh=str(refresh))


def _token_refused() -> ApplicationError:
    return ApplicationError(
        "The refresh token is invalid, expired or already used.",
        code="token_not_valid",
        status=401,
    )


def user_login(*, request: Request, email: str, password: str, otp: str = "") -> TokenPair:
    """Check the credentials through the authentication backends (django-axes first), then the
    second factor, and issue a new token pair.

    Raises `too_many_attempts` (429) while the email+IP pair is locked out, which includes the
    failure that reaches the limit, and `invalid_credentials` (401) otherwise. A user with
    two-factor authentication on must send `otp`, a code from the app or a recovery code
    (`otp_required`, `invalid_otp`: 401); a user whose role requires it and who has not set it up
    is refused (`otp_enrolment_required`, 403). Also rotates the CSRF token, so that the
    response sets a fresh `csrftoken` cookie for cookie-based clients.
    """
    email = email.strip().lower()
    user = authenticate(request, email=email, password=password)
    if getattr(request, "axes_locked_out", False):
        raise ApplicationError(
            "Too many failed logins: try again later.", code="too_many_attempts", status=429
        )
    if user is None:
        raise ApplicationError(
            "The email or password is wrong.", code="invalid_credentials", status=401
        )
    if otp_login_check(user=user, token=otp) is None:
        otp_enrolment_refuse(user=user)
    # Not the `user_logged_in` signal: axes' receiver would open a server-side session (to log its
    # hash) for a client that authenticates with tokens. Its two effects that matter, by hand:
    update_last_login(User, user)
    ip_address = client_ip(request)
    if ip_address:  # without one, reset() would clear the email's failures from every IP
        axes_reset(ip=ip_address, username=email)  # as AXES_RESET_ON_SUCCESS does
    rotate_token(request)
    return _token_pair(user, RefreshToken.for_user(user))


def _refresh_token_parse(raw_token: str) -> RefreshToken | None:
    """The refresh token `raw_token` encodes, None when it is expired, forged or malformed."""
    try:
        # simplejwt annotates the argument as a Token, but it is the encoded string it decodes.
        return RefreshToken(raw_token)  # type: ignore[arg-type]
    except TokenError:
        return None


def _refresh_token_read(raw_token: str) -> RefreshToken:
    refresh = _refresh_token_parse(raw_token)
    if refresh is None:
        raise _token_refused()
    return refresh


def _token_user(refresh: RefreshToken) -> User | None:
    return User.objects.filter(pk=refresh.get(jwt_settings.USER_ID_CLAIM)).first()


def _refresh_token_spend(refresh: RefreshToken, *, user: User | None) -> None:
    """Blacklist `refresh`, or raise `token_not_valid` if it already is.

    `BlacklistedToken.token` is unique: of many concurrent spenders exactly one INSERT succeeds;
    the others wait on the index and then fail, so a token is never spent twice.
    """
    outstanding, _ = OutstandingToken.objects.get_or_create(
        jti=refresh[jwt_settings.JTI_CLAIM],
        defaults={
            "user": user,
            "token": str(refresh),
            "created_at": refresh.current_time,
            "expires_at": datetime_from_epoch(refresh["exp"]),
        },
    )
    try:
        with transaction.atomic():
            BlacklistedToken.objects.create(token=outstanding)
    except IntegrityError as exc:
        raise _token_refused() from exc


@transaction.atomic
def refresh_token_rotate(*, raw_token: str) -> TokenPair:
    """Spend a refresh token and issue a new pair (rotation with blacklist).

    A refresh token works once, even under concurrent use; an expired, forged or spent one, or
    one whose user is gone or inactive, raises `token_not_valid` (401).
    """
    refresh = _refresh_token_read(raw_token)
    user = _token_user(refresh)
    if user is None or not user.is_active:
        raise _token_refused()
    _refresh_token_spend(refresh, user=user)
    return _token_pair(user, RefreshToken.for_user(user))


@transaction.atomic
def refresh_token_revoke(*, raw_token: str) -> bool:
    """Blacklist a refresh token (logout). Idempotent: an expired, forged or already spent
    token has nothing left to revoke and changes nothing. Returns whether a token was revoked.
    """
    refresh = _refresh_token_parse(raw_token)
    if refresh is None:
        return False
    try:
        _refresh_token_spend(refresh, user=_token_user(refresh))
    except ApplicationError:
        return False
    return True


def auth_cookies_set(response: HttpResponse, pair: TokenPair) -> None:
    common: dict[str, Any] = {
        "httponly": True,
        "secure": settings.AUTH_COOKIE_SECURE,
        "samesite": settings.AUTH_COOKIE_SAMESITE,
    }
    response.set_cookie(
        settings.AUTH_COOKIE_ACCESS,
        pair.access,
        max_age=int(jwt_settings.ACCESS_TOKEN_LIFETIME.total_seconds()),
        path="/",
        **common,
    )
    response.set_cookie(
        settings.AUTH_COOKIE_REFRESH,
        pair.refresh,
        max_age=int(jwt_settings.REFRESH_TOKEN_LIFETIME.total_seconds()),
        path=settings.AUTH_COOKIE_REFRESH_PATH,
        **common,
    )


def auth_cookies_clear(response: HttpResponse) -> None:
    samesite = settings.AUTH_COOKIE_SAMESITE
    response.delete_cookie(settings.AUTH_COOKIE_ACCESS, path="/", samesite=samesite)
    response.delete_cookie(
        settings.AUTH_COOKIE_REFRESH, path=settings.AUTH_COOKIE_REFRESH_PATH, samesite=samesite
    )


def refresh_token_from(request: Request, body_token: str) -> str:
    """The refresh token of a refresh/logout request: the body's, else the cookie's.

    A token taken from the cookie was sent by the browser on its own, so the request must then
    pass the CSRF check, as cookie-authenticated requests do.
    """
    if body_token:
        return body_token
    cookie_token = request.COOKIES.get(settings.AUTH_COOKIE_REFRESH, "")
    if not cookie_token:
        raise ApplicationError(
            "Send the refresh token as `refresh` in the body or in the refresh_token cookie.",
            code="not_authenticated",
            status=401,
        )
    _csrf_enforce(request)
    return cookie_token


API_KEY_KEYWORD = "Api-Key"


def api_key_from_request(request: HttpRequest) -> str | None:
    """The key of `Authorization: Api-Key <key>`, else of `X-Api-Key: <key>`; None without."""
    keyword, _, key = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if keyword.lower() == API_KEY_KEYWORD.lower():
        return key.strip()
    return request.META.get("HTTP_X_API_KEY", "").strip() or None


class ApiKeyAuthentication(BaseAuthentication):
    """An API key (accounts.api_keys) authenticates as its owner; `request.auth` is its row."""

    def authenticate(self, request: Request):
        key = api_key_from_request(request)
        if key is None:
            return None
        try:
            api_key = api_key_authenticate(
                key=key,
                method=request.method or "",
                source_ip=client_ip(request),
                now=timezone.now(),
            )
        except ApplicationError as exc:
            if exc.status == 401:
                raise exceptions.AuthenticationFailed(exc.message, code=exc.code) from exc
            raise exceptions.PermissionDenied(exc.message, code=exc.code) from exc
        return api_key.user, api_key

    def authenticate_header(self, request: Request) -> str:
        return API_KEY_KEYWORD


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """OpenAPI: `Authorization: Api-Key <key>` (or `X-Api-Key: <key>`)."""

    target_class = "accounts.authentication.ApiKeyAuthentication"
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "`Api-Key <key>` (or the key alone in `X-Api-Key`). Keys are made at "
                "`POST /api/api-keys` or in the portal; a `read` key may only use GET."
            ),
        }
