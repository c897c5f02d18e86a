"""Quickstart / development: SQLite, filesystem broker, console email, debug on."""

from config.env import env
from config.settings.base import *  # noqa: F403

DEBUG = env.bool("DEBUG", default=True)
POSTBACK_ALLOW_PRIVATE_DESTINATIONS = env.bool("POSTBACK_ALLOW_PRIVATE_DESTINATIONS", default=True)
COUNTRY_HEADER = env.str("COUNTRY_HEADER", default="CF-IPCountry")
# The keyless legacy postback works as the first integrations wrote it, from this machine only.
LEGACY_POSTBACK_ENABLED = env.bool("LEGACY_POSTBACK_ENABLED", default=True)
LEGACY_POSTBACK_ALLOWED_IPS = env.list(
    "LEGACY_POSTBACK_ALLOWED_IPS", default=["127.0.0.0/8", "::1/128"]
)
