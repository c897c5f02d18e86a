"""Settings of the second process in the shared-throttle tests: the test settings with the
cache named by CACHE_URL (the one the test process also uses)."""

from config.env import env
from config.settings.test import *  # noqa: F403

CACHES = {"default": env.cache_url("CACHE_URL")}
