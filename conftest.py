"""Thin shared fixtures. Factories live in each app's tests/factories.py."""

import pytest
from rest_framework.test import APIClient


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture(autouse=True)
def _email_backend(settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Throttle counters and lockouts live in the cache: no test inherits another's."""
    from django.core.cache import cache

    cache.clear()
