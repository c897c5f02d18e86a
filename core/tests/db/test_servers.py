import environ
import pytest

from core.db.servers import conninfo, database_url, server_host


def test_database_url_of_a_tcp_server_keeps_host_port_and_credentials():
    db = {"USER": "bench user", "PASSWORD": "p@ss", "HOST": "db.internal", "PORT": 6432}

    url = database_url(db, name="clickledger_bench")

    assert url == "postgres://bench%20user:p%40ss@db.internal:6432/clickledger_bench"
    parsed = environ.Env.db_url_config(url)
    assert (parsed["USER"], parsed["PASSWORD"], parsed["HOST"], parsed["PORT"]) == (
        "bench user",
        "p@ss",
        "db.internal",
        6432,
    )


def test_database_url_of_a_unix_socket_reads_back_as_the_same_socket():
    db = environ.Env.db_url_config(
        "postgres://postgres@/clickledger?host=/var/run/postgresql&port=5433"
    )

    url = database_url(db, name="clickledger_bench")

    assert url == "postgres://postgres@/clickledger_bench?host=/var/run/postgresql&port=5433"
    parsed = environ.Env.db_url_config(url)
    assert parsed["NAME"] == "clickledger_bench"
    assert parsed["OPTIONS"] == {"host": "/var/run/postgresql", "port": 5433}
    assert server_host(parsed) == "/var/run/postgresql"


@pytest.mark.parametrize(
    ("db", "expected"),
    [
        ({}, {"dbname": "postgres", "host": "127.0.0.1", "port": 5432}),
        (
            {"USER": "u", "PASSWORD": "", "HOST": "/run/pg", "PORT": 5433},
            {"dbname": "postgres", "host": "/run/pg", "port": 5433, "user": "u"},
        ),
    ],
)
def test_conninfo(db, expected):
    assert conninfo(db, dbname="postgres") == expected
