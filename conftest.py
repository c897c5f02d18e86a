"""Thin shared fixtures. Factories and world builders live in each app's tests/factories.py; the
fixtures here only call the builders that several apps' tests share."""

from typing import TYPE_CHECKING

import pytest
from rest_framework.test import APIClient

if TYPE_CHECKING:
    from campaigns.tests.factories import Network


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def net() -> "Network":
    """The test network of `campaigns.tests.factories.network()`: two tenants of each role."""
    from campaigns.tests.factories import network

    return network()


@pytest.fixture(autouse=True)
def _email_backend(settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Throttle counters and lockouts live in the cache: no test inherits another's."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on loopback (`core.tests.email_tasks`), and Django sending through it."""
    from core.tests.email_tasks import smtp_server

    with smtp_server() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = server.port
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        settings.EMAIL_TIMEOUT = 10
        yield server
