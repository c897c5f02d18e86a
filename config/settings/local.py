"""Quickstart / development: SQLite, filesystem broker, console email, debug on."""

from config.env import env

env.use_defaults(
    DEBUG=True,
    POSTBACK_ALLOW_PRIVATE_DESTINATIONS=True,
    COUNTRY_HEADER="CF-IPCountry",
    # The keyless legacy postback works as the first integrations wrote it, from this machine only.
    LEGACY_POSTBACK_ENABLED=True,
    LEGACY_POSTBACK_ALLOWED_IPS=["127.0.0.0/8", "::1/128"],
)

from config.settings.base import *  # noqa: E402, F403
from config.settings.components.database import SQLITE_OPTIONS  # noqa: E402

# The quickstart's SQLite file, with the options its web process and worker need side by side.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = dict(SQLITE_OPTIONS)
