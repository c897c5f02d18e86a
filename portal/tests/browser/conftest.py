"""Fixtures of the browser tests: Debian's Chromium driven by Playwright against pytest-django's
live server, a local HTTP server standing in for the advertiser's landing page and the
affiliate's postback receiver, and a screenshot folder per test."""

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from config.celery import app as celery_app
from portal.tests.browser.support import Screens

CHROMIUM = "/usr/bin/chromium"
# Nothing may leave the machine: no background services, and every host name but the loopback
# ones fails to resolve.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-sync",
    "--disable-breakpad",
    "--disable-client-side-phishing-detection",
    "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
    "--metrics-recording-only",
    "--no-default-browser-check",
    "--no-first-run",
    "--no-pings",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]
VIEWPORT = {"width": 1280, "height": 800}
SCREENSHOT_ROOT = Path(settings.BASE_DIR) / "artifacts" / "browser"


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    # Sync Playwright keeps an asyncio event loop running in this thread while it is started,
    # and Django refuses ORM calls from a thread with a running loop (SynchronousOnlyOperation)
    # because they would block that loop. Here the loop only serves Playwright, which is idle
    # whenever the test (factories, asserts on rows) or pytest-django (flushing the database)
    # queries, so nothing is blocked. Module scope keeps the allowance to the browser tests.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as started:
            yield started


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    # An IPv4 literal: the forwarding client and Chromium then agree on the address.
    return "127.0.0.1", 0


@pytest.fixture
def celery_eager() -> Iterator[None]:
    """Tasks run inline when they are enqueued (after the request's commit), as an idle worker
    would run them at once; nothing is published to the Redis broker other test runs share."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def new_page(browser: Browser, live_server) -> Iterator[Callable[[], Page]]:
    """A page in a fresh context (own cookies: one per person) on the live server."""
    contexts: list[BrowserContext] = []

    def open_page() -> Page:
        context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT)
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def screens(request: pytest.FixtureRequest) -> Screens:
    folder = SCREENSHOT_ROOT / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return Screens(folder=folder)
