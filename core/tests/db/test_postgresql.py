"""The PostgreSQL backend's per-request health check (core/db/postgresql/base.py).

What the client sends is read from libpq's own protocol trace, so a hidden `SELECT 1` (which
`connection.queries` never shows) is seen. These tests need autocommit connections outside a test
transaction, as in production: `transaction=True`.
"""

import io
import select
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection

from campaigns.tests.factories import TrackingLinkFactory
from tracker.models import Click, Conversion, PostbackLog, PostbackOutcome
from tracker.tests.factories import postback_world

pytestmark = pytest.mark.django_db(transaction=True)


def _sent_by_client(tmp_path: Path, action: Callable[[], object]) -> list[str]:
    """The protocol messages the client sent during `action()`, e.g. ['Query\t "SELECT 1"']."""
    trace_path = tmp_path / "libpq.trace"
    pgconn = connection.connection.pgconn
    with trace_path.open("w") as trace:
        pgconn.trace(trace.fileno())
        try:
            action()
        finally:
            pgconn.untrace()
    # Each line: time, F (frontend) or B (backend), length, message type, details.
    lines = [line.split("\t") for line in trace_path.read_text().splitlines()]
    return ["\t".join(fields[3:]) for fields in lines if fields[1] == "F"]


def _persistent_connection(monkeypatch: pytest.MonkeyPatch) -> int:
    """Open a connection that outlives requests, as CONN_MAX_AGE > 0 does; its backend pid."""
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", None)
    connection.close()
    connection.ensure_connection()
    return connection.connection.info.backend_pid


def _terminate_and_wait(backend_pid: int) -> None:
    """End the connection's server session, as a PostgreSQL restart does, and wait until its
    goodbye has reached the client's socket."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [backend_pid])
    poller = select.poll()
    poller.register(connection.connection.pgconn.socket, select.POLLIN)
    assert poller.poll(10_000), "the server never closed the terminated session"


def _get(path: str, query: str = "") -> tuple[str, dict[str, str]]:
    """One request through the WSGI handler, with its request_started/finished signals, as
    gunicorn runs it (Django's test client switches the per-request connection checks off)."""
    answer: dict[str, object] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        answer["status"] = status
        answer["headers"] = dict(headers)

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "REMOTE_ADDR": "203.0.113.7",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http",
    }
    response = WSGIHandler()(environ, start_response)
    response.close()
    return answer["status"], answer["headers"]


def test_health_check_sends_nothing_on_a_quiet_connection(tmp_path, monkeypatch):
    _persistent_connection(monkeypatch)
    connection.health_check_done = False

    sent = _sent_by_client(tmp_path, connection.close_if_health_check_failed)

    assert sent == []
    assert connection.health_check_done is True
    assert connection.connection is not None


def test_django_own_check_is_a_round_trip_which_the_trace_sees(tmp_path, monkeypatch):
    # The control for the test above: the trace does show the check this backend skips.
    _persistent_connection(monkeypatch)

    sent = _sent_by_client(tmp_path, connection.is_usable)

    assert sent == ['Query\t "SELECT 1"']


def test_health_check_runs_select_1_inside_a_transaction(tmp_path, monkeypatch):
    _persistent_connection(monkeypatch)
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
    connection.health_check_done = False

    sent = _sent_by_client(tmp_path, connection.close_if_health_check_failed)

    assert sent == ['Query\t "SELECT 1"']
    assert connection.connection is not None
    with connection.cursor() as cursor:
        cursor.execute("ROLLBACK")


def test_health_check_replaces_a_connection_the_server_ended(monkeypatch):
    old_pid = _persistent_connection(monkeypatch)
    _terminate_and_wait(old_pid)
    connection.health_check_done = False

    connection.close_if_health_check_failed()

    assert connection.connection is None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != old_pid


def test_click_after_the_server_ended_the_session_is_recorded(monkeypatch):
    # given a worker whose persistent connection PostgreSQL has since ended (a restart)
    link = TrackingLinkFactory(campaign__landing_url="https://shop.example/?c={click_id}")
    old_pid = _persistent_connection(monkeypatch)
    _terminate_and_wait(old_pid)

    # when a visitor clicks
    status, headers = _get(f"/c/{link.token}")

    # then the click is recorded on a new connection and the visitor is redirected
    click = Click.objects.get()
    assert status == "302 Found"
    assert headers["Location"] == f"https://shop.example/?c={click.click_id}"
    assert connection.connection.info.backend_pid != old_pid


def test_postback_after_the_server_ended_the_session_is_recorded(monkeypatch):
    world = postback_world()
    world.campaign()
    click = world.click()
    old_pid = _persistent_connection(monkeypatch)
    _terminate_and_wait(old_pid)

    status, _ = _get(world.postback_path, f"click_id={click.click_id}&transaction_id=T-1")

    assert status == "200 OK"
    assert Conversion.objects.get().transaction_id == "T-1"
    assert PostbackLog.objects.get().outcome == PostbackOutcome.CREATED


def test_click_on_a_reused_connection_sends_only_its_statement(tmp_path, monkeypatch):
    # given a worker that has served a click (its statements are prepared)
    link = TrackingLinkFactory(campaign__landing_url="https://shop.example/")
    _persistent_connection(monkeypatch)
    assert _get(f"/c/{link.token}")[0] == "302 Found"

    # when the next click arrives on the same connection
    sent = _sent_by_client(tmp_path, lambda: _get(f"/c/{link.token}"))

    # then the client sends the click's one prepared statement (link lookup and insert, see
    # tracker.services.clicks), and no health-check query
    assert [message.split("\t")[0] for message in sent] == ["Bind", "Describe", "Execute", "Sync"]
    assert Click.objects.count() == 2


def test_postback_on_a_reused_connection_sends_no_health_check(tmp_path, monkeypatch):
    world = postback_world()
    world.campaign()
    first, second = world.click(), world.click()
    _persistent_connection(monkeypatch)
    assert _get(world.postback_path, f"click_id={first.click_id}")[0] == "200 OK"

    sent = _sent_by_client(
        tmp_path, lambda: _get(world.postback_path, f"click_id={second.click_id}")
    )

    # Its statements are prepared (Bind ... Sync); the only plain queries are its transaction's.
    assert [message for message in sent if message.startswith("Query")] == [
        'Query\t "BEGIN"',
        'Query\t "COMMIT"',
    ]
    assert second.conversions.count() == 1
