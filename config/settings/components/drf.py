"""Django REST framework: authentication, permissions, parsers, paging, errors, throttle rates."""

from config.env import env
from config.settings.components.tracking import TRUSTED_PROXY_COUNT

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Bearer header, else the httpOnly `access_token` cookie (which then requires CSRF).
        "accounts.authentication.CookieJWTAuthentication",
        # `Authorization: Api-Key <key>` or `X-Api-Key` (accounts.api_keys).
        "accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    # DRF's parsers, with a nesting limit on JSON (core.parsers).
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "DATETIME_FORMAT": "iso-8601",
    # Public auth endpoints and the portal's auth forms (accounts.throttling), counted per client
    # IP in the default cache, which every web process shares.
    "DEFAULT_THROTTLE_RATES": {
        "auth_register": env.str("THROTTLE_AUTH_REGISTER", default="20/hour"),
        "auth_login": env.str("THROTTLE_AUTH_LOGIN", default="30/minute"),
        "auth_refresh": env.str("THROTTLE_AUTH_REFRESH", default="60/minute"),
        "auth_password_reset": env.str("THROTTLE_AUTH_PASSWORD_RESET", default="10/hour"),
        "postback_sandbox": env.str("THROTTLE_POSTBACK_SANDBOX", default="60/minute"),
        # Changes confirmed by the password again (payout methods), per user: caps how fast a
        # stolen session could guess the password there.
        "reauthentication": env.str("THROTTLE_REAUTHENTICATION", default="20/hour"),
    },
    # Same trust as core.net.client_ip: only the N nearest proxies' X-Forwarded-For entries.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
