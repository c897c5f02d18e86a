"""Production: only tightens. Secrets and hosts have no defaults; a missing one stops the start."""

from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured

from config.env import env
from config.settings.base import *  # noqa: F403
from config.settings.base import DATABASES, SIMPLE_JWT, database_tuned

SECRET_KEY = env.str("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
DATABASES["default"] = database_tuned(env.db("DATABASE_URL"))
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL")
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}


def cache_url_from_broker(broker_url: str) -> str | None:
    """The default cache: a Redis broker's server, on the next database number (`/0` -> `/1`),
    so that clearing the cache never empties the task queue. None for other brokers, or a broker
    on the last of Redis's 16 databases."""
    parts = urlsplit(broker_url)
    if parts.scheme not in ("redis", "rediss"):
        return None
    number = parts.path.strip("/") or "0"
    if not number.isdigit() or int(number) >= 15:
        return None
    return urlunsplit(parts._replace(path=f"/{int(number) + 1}"))


# Throttle counters must be shared by every web process: a process-local cache would let each
# gunicorn worker count on its own (N workers, N times the limit).
_cache_url = env.str("CACHE_URL", default="") or cache_url_from_broker(CELERY_BROKER_URL)
if not _cache_url:
    raise ImproperlyConfigured(
        "Set the CACHE_URL environment variable to a cache every web process shares "
        "(e.g. redis://127.0.0.1:6379/1); it defaults to the broker's Redis only when the "
        "broker is Redis."
    )
CACHES = {"default": env.cache_url_config(_cache_url)}
if CACHES["default"]["BACKEND"] in (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
):
    raise ImproperlyConfigured(
        "CACHE_URL names a cache each process keeps to itself; production needs one every web "
        "process shares (Redis, the database, memcached or a folder of files on one machine)."
    )
SIMPLE_JWT = {**SIMPLE_JWT, "SIGNING_KEY": SECRET_KEY}
DEBUG = False
POSTBACK_ALLOW_PRIVATE_DESTINATIONS = False
LEGACY_POSTBACK_ENABLED = env.bool("LEGACY_POSTBACK_ENABLED", default=False)

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
