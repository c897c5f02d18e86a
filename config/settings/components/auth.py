"""Who may log in and how: backends, passwords, JWT and its cookies, lockouts, login pages."""

from datetime import timedelta
from typing import Literal

from config.env import env
from config.settings.components.security import SECRET_KEY

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses locked-out email+IP pairs before any password is checked (django-axes).
    "accounts.authentication.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "USER_ID_FIELD": "id",
    "SIGNING_KEY": SECRET_KEY,
}
# Browser clients get the tokens as httpOnly cookies too (login sets them, logout clears them).
AUTH_COOKIE_ACCESS = "access_token"
AUTH_COOKIE_REFRESH = "refresh_token"
# The refresh cookie is only sent to the endpoints that use it.
AUTH_COOKIE_REFRESH_PATH = "/api/auth/"
AUTH_COOKIE_SAMESITE: Literal["Lax", "Strict"] = "Lax"
AUTH_COOKIE_SECURE = env.bool("AUTH_COOKIE_SECURE", default=False)

# Brute-force protection (django-axes): 5 failures for one email from one IP lock that pair out
# for 15 minutes; the client IP comes from trusted proxy settings only.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "core.net.client_ip"
# The API posts `email`, the admin login form posts `username`: both count for the same account.
AXES_USERNAME_CALLABLE = "accounts.authentication.lockout_username"
AXES_RESET_ON_SUCCESS = True

# The server-rendered advertiser and affiliate portals (portal app) log people in here.
LOGIN_URL = "/portal/login/"
LOGIN_REDIRECT_URL = "/portal/"

# Two-factor authentication (django-otp; accounts.two_factor, docs/access.md). The roles listed
# here (`admin`, `advertiser`, `affiliate`) must use it: a user of one without a confirmed device
# is sent to enrolment before any other page and refused at the API login. Production requires
# it of admins unless OTP_ADMIN_OPTIONAL says otherwise (its deploy check, accounts.checks).
OTP_REQUIRED_ROLES = env.list("OTP_REQUIRED_ROLES", default=[])
OTP_ADMIN_OPTIONAL = env.bool("OTP_ADMIN_OPTIONAL", default=False)
# The name authenticator apps show beside the account.
OTP_TOTP_ISSUER = "ClickLedger"
# The console's device pages never show a user's secret key or recovery codes.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
