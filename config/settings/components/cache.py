"""The default cache, which holds the throttle counters."""

from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured

from config.env import BASE_DIR, env
from config.settings.components.celery import CELERY_BROKER_URL


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


# Every web process (gunicorn workers, several machines) must share the throttle counters. The
# default is a folder of files that every process on this machine shares (the quickstart's web
# server and worker). An environment without a default (production sets it to None) takes the
# broker's Redis, else refuses to start.
_cache_url = env.url("CACHE_URL", default=f"filecache://{BASE_DIR / 'var' / 'cache'}")
if _cache_url is None:
    _cache_url = cache_url_from_broker(CELERY_BROKER_URL)
    if _cache_url is None:
        raise ImproperlyConfigured(
            "Set the CACHE_URL environment variable to a cache every web process shares "
            "(e.g. redis://127.0.0.1:6379/1); it defaults to the broker's Redis only when the "
            "broker is Redis."
        )
CACHES = {"default": env.cache_url_config(_cache_url)}
