"""The database connection, tuned the same way in every environment."""

from config.env import BASE_DIR, env


def database_tuned(database: dict) -> dict:
    """Connection settings every environment shares."""
    database["ATOMIC_REQUESTS"] = False
    database["CONN_HEALTH_CHECKS"] = True
    if database["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend with a health check that skips its round trip on a quiet connection.
        database["ENGINE"] = "core.db.postgresql"
        # Only server-side-binding cursors can prepare statements, and only the hot paths open
        # them (core.sql: click, postback, ledger): they are planned once per connection. The ORM's
        # client-side cursors are unaffected. Behind PgBouncer in transaction mode use >= 1.21
        # with max_prepared_statements, or CONN_MAX_AGE=0.
        database.setdefault("OPTIONS", {})["prepare_threshold"] = 0
    return database


# SQLite (a file under var/) serves the quickstart; PostgreSQL is production and the test target.
DATABASES = {
    "default": {
        **database_tuned(
            env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'clickledger.sqlite3'}")
        ),
        "CONN_MAX_AGE": env.int("CONN_MAX_AGE", default=60),
    }
}
# The quickstart's and the SQLite smoke suite's connection options (config/settings/local.py,
# test_sqlite.py): WAL lets the web process read while the worker writes; IMMEDIATE avoids
# upgrade deadlocks.
SQLITE_OPTIONS = {
    "init_command": (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;"
    ),
    "transaction_mode": "IMMEDIATE",
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
