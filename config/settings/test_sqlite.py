"""The SQLite smoke suite: the test settings on the quickstart's database.

A file database (not `:memory:`), with the quickstart's WAL mode and IMMEDIATE transactions, so
that threads take their own connections and their writes are serialised exactly as the
quickstart's web process and worker are. Run it with
`.venv/bin/pytest --ds=config.settings.test_sqlite --create-db tests/smoke`.
"""

from config.env import BASE_DIR
from config.settings.test import *  # noqa: F403
from config.settings.test import SQLITE_OPTIONS, database_tuned

_VAR = BASE_DIR / "var"
_VAR.mkdir(exist_ok=True)
DATABASES = {
    "default": database_tuned(
        {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(_VAR / "smoke.sqlite3"),
            "OPTIONS": dict(SQLITE_OPTIONS),
            "CONN_MAX_AGE": 0,
            "TEST": {"NAME": str(_VAR / "test_smoke.sqlite3")},
        }
    )
}
