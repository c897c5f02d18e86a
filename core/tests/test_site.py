"""Site-wide routes and headers: `/` leads home, the icon exists, the benchmark's route exists
only when turned on, every answer carries the security headers, and the deployment entry points
default to the production settings."""

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.urls import clear_url_caches

from accounts.tests.factories import AdminUserFactory, AffiliateFactory
from campaigns.tests.factories import TrackingLinkFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


# --- `/` and the icon ---------------------------------------------------------------------------


def test_the_root_sends_an_anonymous_visitor_to_the_portal_login(client):
    response = client.get("/")

    assert (response.status_code, response["Location"]) == (302, "/portal/login/")


def test_the_root_sends_staff_to_the_console(client):
    client.force_login(AdminUserFactory())

    response = client.get("/")

    assert (response.status_code, response["Location"]) == (302, "/admin/")


def test_the_root_sends_a_partner_to_its_portal(client):
    client.force_login(AffiliateFactory().user)

    response = client.get("/")

    assert (response.status_code, response["Location"]) == (302, "/portal/")


def test_favicon_ico_leads_to_our_icon_which_is_served(client):
    response = client.get("/favicon.ico")
    icon = client.get(response["Location"])

    assert (response.status_code, response["Location"]) == (302, "/static/core/favicon.svg")
    assert icon.status_code == 200
    assert icon["Content-Type"] == "image/svg+xml"
    assert b"<svg" in b"".join(icon.streaming_content)


@pytest.mark.parametrize("path", ["/portal/login/", "/admin/login/", "/api/docs/"])
def test_every_base_template_links_the_icon(client, path):
    response = client.get(path)

    assert response.status_code == 200
    assert b'<link rel="icon" href="/static/core/favicon.svg" type="image/svg+xml">' in (
        response.content
    )


# --- the benchmark's route ----------------------------------------------------------------------


@pytest.fixture
def urls_with(settings) -> Iterator:
    """Re-reads config/urls.py under the given settings, and restores it afterwards."""
    import config.urls

    def reload(**overrides):
        for name, value in overrides.items():
            setattr(settings, name, value)
        importlib.reload(config.urls)
        clear_url_caches()

    yield reload
    settings.BENCHMARK_ROUTES_ENABLED = False
    importlib.reload(config.urls)
    clear_url_caches()


def test_the_benchmark_route_is_not_routed_by_default(client):
    response = client.get("/bench/trivial")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_benchmark_route_exists_when_turned_on(client, urls_with):
    urls_with(BENCHMARK_ROUTES_ENABLED=True)

    response = client.get("/bench/trivial")

    assert (response.status_code, response.content) == (200, b"ok")


# --- security headers ---------------------------------------------------------------------------

CSP = {
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
}


def _directives(header: str) -> set[str]:
    return {part.strip() for part in header.split(";")}


def test_every_kind_of_answer_carries_the_csp_and_the_permissions_policy(client):
    link = TrackingLinkFactory()
    answers = {
        "portal page": client.get("/portal/login/"),
        "admin page": client.get("/admin/login/"),
        "api docs": client.get("/api/docs/"),
        "api error": client.get("/api/campaigns"),
        "click redirect": client.get(f"/c/{link.token}"),
        "postback": client.get("/postback/no-such-key?click_id=x"),
        "unknown url": client.get("/nothing-here"),
    }

    assert {
        name: _directives(response["Content-Security-Policy"]) for name, response in answers.items()
    } == dict.fromkeys(answers, CSP)
    for name, response in answers.items():
        policy = response["Permissions-Policy"]
        assert "camera=()" in policy, name
        assert "geolocation=()" in policy, name


@pytest.mark.parametrize("path", ["/portal/login/", "/portal/signup/", "/admin/login/"])
def test_pages_have_no_inline_script_or_style(client, path):
    html = client.get(path).content.decode()

    assert "<script>" not in html
    assert "<style" not in html
    assert " style=" not in html


# --- default settings of the entry points -------------------------------------------------------

_PRODUCTION_ENV = {
    "SECRET_KEY": "test-" + "abcdefghij0123456789" * 3,
    "ALLOWED_HOSTS": "tracker.example.com",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/clickledger",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
}


def _python(code: str, env_extra: dict[str, str]) -> subprocess.CompletedProcess:
    env = {
        k: v for k, v in os.environ.items() if k not in {*_PRODUCTION_ENV, "DJANGO_SETTINGS_MODULE"}
    }
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


_SHOW = "from django.conf import settings; print(settings.SETTINGS_MODULE, settings.DEBUG)"


@pytest.mark.parametrize(
    "entry_point",
    ["import config.wsgi", "import django; from config.celery import app; django.setup()"],
)
def test_wsgi_and_celery_default_to_the_production_settings(entry_point):
    started = _python(f"{entry_point}; {_SHOW}", _PRODUCTION_ENV)
    bare = _python(entry_point, {})

    assert started.stdout.split()[-2:] == ["config.settings.production", "False"], started.stderr
    assert bare.returncode == 1
    assert "Set the SECRET_KEY environment variable" in bare.stderr


def test_the_quickstart_sets_the_local_settings_itself():
    script = (ROOT / "scripts" / "quickstart").read_text()

    assert 'export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings.local}"' in (
        script
    )


def test_the_csp_header_follows_its_setting(client, settings):
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}

    response = client.get("/portal/login/")

    assert response["Content-Security-Policy"] == "default-src 'none'"
