"""Production: only tightens. Secrets and hosts have no defaults; a missing one stops the start."""

from django.core.exceptions import ImproperlyConfigured

from config.env import env

env.use_defaults(
    SECRET_KEY=env.REQUIRED,
    ALLOWED_HOSTS=env.REQUIRED,
    DATABASE_URL=env.REQUIRED,
    CELERY_BROKER_URL=env.REQUIRED,
    # No folder of files: the broker's Redis, next database, else CACHE_URL is required
    # (config/settings/components/cache.py).
    CACHE_URL=None,
    # Admins log in with a second factor (OTP_ADMIN_OPTIONAL=true to drop "admin" on purpose).
    OTP_REQUIRED_ROLES=["admin"],
)

from config.settings.base import *  # noqa: E402, F403

# Throttle counters must be shared by every web process: a process-local cache would let each
# gunicorn worker count on its own (N workers, N times the limit).
if CACHES["default"]["BACKEND"] in (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
):
    raise ImproperlyConfigured(
        "CACHE_URL names a cache each process keeps to itself; production needs one every web "
        "process shares (Redis, the database, memcached or a folder of files on one machine)."
    )
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
DEBUG = False
POSTBACK_ALLOW_PRIVATE_DESTINATIONS = False

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
AUTH_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
