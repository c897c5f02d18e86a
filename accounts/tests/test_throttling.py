"""The auth rate limits: one counter per client and scope, shared by the API and the portal's
forms, and by every process that shares the cache (exact counts)."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import environ
import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from rest_framework.throttling import ScopedRateThrottle

from accounts.tests.factories import DEFAULT_PASSWORD, AdminUserFactory, AffiliateFactory
from core.db.servers import database_url

REPO = Path(__file__).resolve().parents[2]
LOGIN = "/api/auth/login"
REGISTER = "/api/auth/register"


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


def _register_body(n: int) -> dict:
    return {
        "email": f"new{n}@example.test",
        "password": "A-long-enough passphrase 42",
        "role": "affiliate",
        "name": f"New {n}",
    }


def _signup_form(n: int) -> dict:
    return {**_register_body(n), "company": "", "password_again": "A-long-enough passphrase 42"}


def _api_register(n: int) -> int:
    return Client().post(REGISTER, _register_body(n), content_type="application/json").status_code


def _portal_signup(n: int):
    return Client().post("/portal/signup/", _signup_form(n))


def _api_login(email: str, password: str = DEFAULT_PASSWORD) -> int:
    body = {"email": email, "password": password}
    return Client().post(LOGIN, body, content_type="application/json").status_code


def _portal_login(email: str, password: str = DEFAULT_PASSWORD):
    return Client().post("/portal/login/", {"username": email, "password": password})


@pytest.mark.django_db
def test_portal_signup_and_api_register_share_one_limit(monkeypatch):
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "auth_register", "3/hour")

    # given two accounts registered through the API and one through the portal
    first = [_api_register(1), _portal_signup(2).status_code, _api_register(3)]
    # when the same client signs up once more in the portal, then through the API
    refused_page = _portal_signup(4)
    refused_api = Client().post(REGISTER, _register_body(5), content_type="application/json")

    assert first == [201, 302, 201]
    assert refused_page.status_code == 429
    assert refused_page["Content-Type"] == "text/html; charset=utf-8"
    assert 3000 < int(refused_page["Retry-After"]) <= 3600
    assert b"Too many attempts" in refused_page.content
    assert refused_api.status_code == 429
    assert refused_api.json()["code"] == "throttled"
    assert sorted(get_user_model().objects.values_list("email", flat=True)) == [
        "new1@example.test",
        "new2@example.test",
        "new3@example.test",
    ]


@pytest.mark.django_db
def test_portal_console_and_api_logins_share_one_limit(monkeypatch):
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "auth_login", "4/minute")
    AffiliateFactory(user__email="pub@example.test")
    AdminUserFactory(email="ops@example.test")
    admin_form = {"username": "ops@example.test", "password": DEFAULT_PASSWORD}

    statuses = [
        _portal_login("pub@example.test").status_code,
        _api_login("pub@example.test"),
        Client().post("/admin/login/", admin_form).status_code,
        _portal_login("pub@example.test", "wrong password").status_code,
        _api_login("pub@example.test"),
        _portal_login("pub@example.test").status_code,
        Client().post("/admin/login/", admin_form).status_code,
    ]

    assert statuses == [302, 200, 302, 200, 429, 429, 429]


@pytest.mark.django_db
def test_showing_the_forms_counts_nothing(monkeypatch):
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "auth_login", "1/minute")
    AffiliateFactory(user__email="pub@example.test")

    pages = [Client().get("/portal/login/").status_code for _ in range(3)]

    assert pages == [200, 200, 200]
    assert _portal_login("pub@example.test").status_code == 302


@pytest.mark.django_db
def test_password_reset_is_limited_per_client(monkeypatch):
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "auth_password_reset", "2/hour")
    AffiliateFactory(user__email="pub@example.test")
    form = {"email": "pub@example.test"}

    statuses = [Client().post("/portal/auth/password_reset/", form).status_code for _ in range(3)]

    assert statuses == [302, 302, 429]
    assert [message.to for message in mail.outbox] == [["pub@example.test"]] * 2


# --- across processes ---------------------------------------------------------------------------

_SECOND_PROCESS = """
import json, sys
import django
django.setup()
from django.test import Client, override_settings
body = {"email": sys.argv[1], "password": sys.argv[2]}
statuses = []
for path in sys.argv[3:]:
    if path == "api":
        response = Client().post("/api/auth/login", body, content_type="application/json")
    else:
        form = {"username": body["email"], "password": body["password"]}
        response = Client().post("/portal/login/", form)
    statuses.append(response.status_code)
print(json.dumps(statuses))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_cache_url(tmp_path) -> Iterator[str]:
    """A Redis server of this test's own, on a free port."""
    port = _free_port()
    server = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not listen within 10 s"
                threading.Event().wait(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


def _second_process(cache_url: str, email: str, *surfaces: str) -> list[int]:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "accounts.tests.settings_shared_cache",
        "DATABASE_URL": database_url(db, name=db["NAME"]),
        "CACHE_URL": cache_url,
        "THROTTLE_AUTH_LOGIN": "5/minute",
        "PYTHONPATH": str(REPO),
    }
    completed = subprocess.run(
        [sys.executable, "-c", _SECOND_PROCESS, email, DEFAULT_PASSWORD, *surfaces],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("backend", ["redis", "files"])
def test_two_processes_sharing_the_cache_count_one_login_limit(
    backend, request, monkeypatch, tmp_path
):
    # given this process and another one on the same shared cache, a limit of 5 logins a minute
    cache_url = (
        request.getfixturevalue("redis_cache_url")
        if backend == "redis"
        else f"filecache://{tmp_path / 'cache'}"
    )
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "auth_login", "5/minute")
    AffiliateFactory(user__email="pub@example.test")

    with override_settings(CACHES={"default": environ.Env.cache_url_config(cache_url)}):
        # when the other process logs in three times (API, portal, API), then this one three
        there = _second_process(cache_url, "pub@example.test", "api", "portal", "api")
        here = [
            _api_login("pub@example.test"),
            _portal_login("pub@example.test").status_code,
            _api_login("pub@example.test"),
        ]

    # then five attempts passed in all, and the sixth was refused
    assert there == [200, 302, 200]
    assert here == [200, 302, 429]
