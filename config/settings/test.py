"""Tests: real PostgreSQL (DATABASE_URL, else the local server), fast hashers, email outbox."""

from config.env import env

env.use_defaults(
    DATABASE_URL="postgres://postgres@127.0.0.1:5432/clickledger",
    CELERY_BROKER_URL="redis://127.0.0.1:6379/15",
    # The keyless legacy postback works as the first integrations wrote it, from this machine only.
    LEGACY_POSTBACK_ENABLED=True,
    LEGACY_POSTBACK_ALLOWED_IPS=["127.0.0.0/8", "::1/128"],
)

from config.settings.base import *  # noqa: E402, F403

DATABASES["default"]["CONN_MAX_AGE"] = 0
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
POSTBACK_ALLOW_PRIVATE_DESTINATIONS = True
COUNTRY_HEADER = "CF-IPCountry"
PUBLIC_BASE_URL = "http://testserver"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# No collectstatic in tests: whitenoise looks files up on demand instead of scanning STATIC_ROOT.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
