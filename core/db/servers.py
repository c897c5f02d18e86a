"""The PostgreSQL server behind a DATABASES entry: its address, connection arguments, the
DATABASE_URL of another database on it (for subprocesses: test workers, the benchmark's server),
and scratch databases made beside the configured one."""

from typing import Any
from urllib.parse import quote


def server_host(db: dict) -> str:
    """The server of a DATABASES entry: a host name, or a Unix-socket directory (`?host=/dir`)."""
    return db.get("HOST") or db.get("OPTIONS", {}).get("host") or "127.0.0.1"


def server_port(db: dict) -> int:
    return int(db.get("PORT") or db.get("OPTIONS", {}).get("port") or 5432)


def conninfo(db: dict, *, dbname: str) -> dict[str, Any]:
    """psycopg.connect() arguments for `dbname` on the server of `db`."""
    info = {"dbname": dbname, "host": server_host(db), "port": server_port(db)}
    for key, name in (("USER", "user"), ("PASSWORD", "password")):
        if db.get(key):
            info[name] = db[key]
    return info


def scratch_database_create(db: dict, *, name: str) -> str:
    """Drop and create database `name` on the server of `db`; its DATABASE_URL."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(**conninfo(db, dbname="postgres"), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return database_url(db, name=name)


def database_url(db: dict, *, name: str) -> str:
    """The DATABASE_URL of database `name` on the server of `db`."""
    auth = quote(db.get("USER") or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = server_host(db)
    port = server_port(db)
    if host.startswith("/"):
        # django-environ reads a socket directory from the query string, not from the netloc.
        return f"postgres://{auth}@/{name}?host={quote(host, safe='/')}&port={port}"
    return f"postgres://{auth}@{host}:{port}/{name}"
