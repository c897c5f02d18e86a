"""Quickstart / development: SQLite, filesystem broker, console email, debug on."""

from config.env import env
from config.settings.base import *  # noqa: F403

DEBUG = env.bool("DEBUG", default=True)
POSTBACK_ALLOW_PRIVATE_DESTINATIONS = env.bool("POSTBACK_ALLOW_PRIVATE_DESTINATIONS", default=True)
COUNTRY_HEADER = env.str("COUNTRY_HEADER", default="CF-IPCountry")
