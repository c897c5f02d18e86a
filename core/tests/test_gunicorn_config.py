"""gunicorn.conf.py: a postback whose query string passes gunicorn's 4,094-byte default request
line still reaches Django, which answers it in JSON and logs it. A real gunicorn (production
settings, the test database) serves the requests."""

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from core.db.servers import database_url
from tracker.models import PostbackLog

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str) -> tuple[int, str, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        conn.close()


@pytest.fixture
def gunicorn_port(tmp_path) -> Iterator[int]:
    port = _free_port()
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "test-" + "0123456789abcdefghij" * 3,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url(db, name=db["NAME"]),
        "CELERY_BROKER_URL": "memory://",
        "CACHE_URL": f"filecache://{tmp_path / 'cache'}",
        "SECURE_SSL_REDIRECT": "false",
        "CONN_MAX_AGE": "0",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "gunicorn.conf.py",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--error-logfile",
            str(tmp_path / "error.log"),
        ],
        cwd=REPO,
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if _get(port, "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, (tmp_path / "error.log").read_text()
            assert time.monotonic() < deadline, "gunicorn did not answer /healthz within 30 s"
            threading.Event().wait(0.1)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_postback_with_a_6000_byte_query_is_answered_in_json_and_logged(gunicorn_port):
    # given a request line well past gunicorn's 4,094-byte default, within its 8,190 maximum
    query = "click_id=abc&note=" + "x" * 6000
    path = f"/postback/no-such-key?{query}"

    status, content_type, body = _get(gunicorn_port, path)

    # then Django answered it (an unknown key) and logged it as received
    assert (status, content_type) == (404, "application/json")
    assert b'"code": "invalid_key"' in body
    log = PostbackLog.objects.get()
    assert (log.key, log.http_status, log.code, log.query_string) == (
        "no-such-key",
        404,
        "invalid_key",
        query,
    )


def test_past_gunicorns_maximum_request_line_gunicorn_answers_414_itself(gunicorn_port):
    path = "/postback/no-such-key?note=" + "x" * 9000

    status, _, _ = _get(gunicorn_port, path)

    assert status == 414
    assert PostbackLog.objects.count() == 0
