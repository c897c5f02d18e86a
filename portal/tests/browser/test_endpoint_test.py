"""An endpoint test in a real browser with a real Celery worker: the page says "sending" while the
worker waits on a slow receiver, then shows the receiver's answer in place (portal/poll.js),
without a reload, under a Content-Security-Policy that forbids inline script."""

import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import Route, expect

from accounts.tests.factories import DEFAULT_PASSWORD, AffiliateFactory
from forwarding.models import Delivery, DeliveryStatus
from forwarding.tests.factories import PostbackEndpointFactory
from portal.tests.browser.support import log_in
from tests.support.celery_worker import RedisServer, Workers, celery_broker_point, wait_until
from tests.support.http import Receiver

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


# What a production CSP allows at least: scripts and fetches from our own origin, no inline code.
CSP = "script-src 'self'; connect-src 'self'"


def _with_csp(route: Route) -> None:
    """Serve the portal's pages with the CSP, redirects passed on to the browser as they are."""
    response = route.fetch(max_redirects=0)
    route.fulfill(response=response, headers={**response.headers, "content-security-policy": CSP})


@pytest.fixture
def worker(tmp_path) -> Iterator[Workers]:
    """One worker on a Redis of its own; this process (the live server) publishes there too."""
    redis = RedisServer(tmp_path)
    redis.start()
    previous = celery_broker_point(redis.url)
    pool = Workers(broker_url=redis.url, directory=tmp_path)
    try:
        pool.start("w1")
        yield pool
    finally:
        pool.kill_all()
        celery_broker_point(previous)
        redis.stop()


def test_the_test_page_shows_sending_then_the_answer_in_place(new_page, screens, worker):
    release = threading.Event()

    def slow(request, index):
        release.wait(timeout=60)  # held until the test has seen the page wait
        return 200, {}, b"got it"

    with Receiver(respond=slow) as receiver:
        try:
            # given an affiliate with an endpoint on a receiver that is slow to answer
            affiliate = AffiliateFactory(user__email="aff@traffic.test")
            PostbackEndpointFactory(
                affiliate=affiliate, name="Slow tracker", url=receiver.url("/hook?s={status}")
            )
            page = new_page()
            page.route("**/portal/**", _with_csp)
            refused: list[str] = []
            page.on(
                "console",
                lambda message: (
                    refused.append(message.text)
                    if "Content Security Policy" in message.text
                    else None
                ),
            )
            log_in(page, "aff@traffic.test", DEFAULT_PASSWORD)
            page.get_by_role("link", name="Postbacks").click()

            # when it sends a test
            page.get_by_role("button", name="Send a test").click()

            # then the page says it is sending while the worker waits on the receiver
            expect(page.get_by_role("heading", level=1)).to_have_text("Test delivery")
            # Playwright routes the first request of a redirect chain only: load it again so it
            # comes with the CSP too.
            page.reload()
            expect(page.locator(".badge")).to_have_text("pending")
            expect(page.get_by_text("Sending…")).to_be_visible()
            wait_until(lambda: len(receiver.requests) == 1, timeout=30, what="the worker's send")
            expect(page.locator(".badge")).to_have_text("pending")
            screens.take(page, "affiliate-endpoint-test-sending")
            page.evaluate("window.stayedOnThisPage = true")
        finally:
            release.set()

        # and when the receiver answers, the answer appears without a reload
        expect(page.locator(".badge")).to_have_text("delivered", timeout=30_000)
        expect(page.locator("#test-result")).to_contain_text("HTTP 200 in")
        expect(page.locator("#test-result pre")).to_have_text("got it")
        expect(page.get_by_text("Sending…")).to_have_count(0)
        assert page.evaluate("window.stayedOnThisPage") is True
        screens.take(page, "affiliate-endpoint-test-answered")

    delivery = Delivery.objects.get()
    assert (delivery.event, delivery.status, delivery.last_status_code) == (
        "test",
        DeliveryStatus.DELIVERED,
        200,
    )
    assert [r.query for r in receiver.requests] == [{"s": "test"}]
    assert refused == []
