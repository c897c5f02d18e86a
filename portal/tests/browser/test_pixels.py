"""Conversion pixels in a real browser: a visitor follows a tracking link, lands on the
advertiser's conversion page, and the pixel tag from the partner key page (image, iframe or
script), which names no click id, books the conversion on that click through the `cl_cid` cookie
the click left. A pixel with a bad key still loads as an image and is logged `invalid_key`.

The landing page is served by the live server itself (a route this module adds), so the click,
the landing page and the pixel share one host, as plain http requires: there the cookie is
SameSite=Lax and only comes back to requests from the same site. In production (https) the
cookie is SameSite=None; Secure and the landing page may be on any origin."""

from decimal import Decimal

import pytest
from django.http import HttpRequest, HttpResponse
from django.urls import path

from campaigns.partner_keys import partner_key_pixel_snippets
from config.urls import urlpatterns as project_urlpatterns
from tracker.models import Click, Conversion, PostbackLog
from tracker.tests.factories import postback_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The body of the advertiser's landing page, set by each test before the browser asks for it.
LANDING: dict[str, str] = {}


def _landing(request: HttpRequest) -> HttpResponse:
    html = (
        '<!doctype html><html lang="en"><meta charset="utf-8"><title>Thank you</title>'
        f"<h1>Thank you for your order</h1>{LANDING['tag']}</html>"
    )
    return HttpResponse(html)


urlpatterns = [path("test-landing/thanks", _landing), *project_urlpatterns]


@pytest.fixture
def shop(settings, live_server, celery_eager):
    """An advertiser with a partner key and a campaign landing on the live server's page."""
    settings.ROOT_URLCONF = __name__
    settings.PUBLIC_BASE_URL = live_server.url
    world = postback_world()
    world.campaign(
        payout_type="fixed",
        payout_amount=Decimal("3.00"),
        landing_url=f"{live_server.url}/test-landing/thanks",
    )
    return world


def _tag(world, form: str) -> str:
    """The partner key page's snippet, with the advertiser's own values filled in."""
    snippet = partner_key_pixel_snippets(partner_key=world.partner_key)[form]
    return (
        snippet.replace("event={event}&amp;", "")
        .replace("{transaction_id}", f"ORDER-{form}")
        .replace("{payout}", "42.50")
    )


@pytest.mark.parametrize("form", ["gif", "html", "js"])
def test_a_pixel_without_click_id_books_the_conversion_on_the_visitors_click(
    shop, new_page, live_server, form
):
    LANDING["tag"] = _tag(shop, form)
    assert "click_id" not in LANDING["tag"]
    page = new_page()

    with page.expect_response(lambda response: "/px/" in response.url) as pixel:
        page.goto(f"/c/{shop.links['main'].token}")
    page.wait_for_load_state("load")

    click = Click.objects.get()
    assert page.url == f"{live_server.url}/test-landing/thanks"
    assert [cookie["value"] for cookie in page.context.cookies() if cookie["name"] == "cl_cid"] == [
        click.click_id
    ]
    answer = pixel.value
    assert (answer.status, answer.headers["cache-control"]) == (200, "no-store")
    conversion = Conversion.objects.get()
    assert (conversion.click_id, conversion.transaction_id, conversion.revenue) == (
        click.pk,
        f"ORDER-{form}",
        Decimal("42.5000"),
    )
    log = PostbackLog.objects.get()
    assert (log.endpoint, log.outcome, log.click_id, log.conversion_id) == (
        "pixel",
        "created",
        click.click_id,
        conversion.pk,
    )
    if form == "gif":
        assert page.evaluate("document.querySelector('img').naturalWidth") == 1
    if form == "html":
        frames = [frame.url for frame in page.frames]
        assert frames[1].startswith(f"{live_server.url}/px/{shop.partner_key.key}.html?")
        assert page.frames[1].title() == "ClickLedger pixel"


def test_a_pixel_with_a_bad_key_still_loads_as_an_image_and_logs_invalid_key(
    shop, new_page, live_server
):
    LANDING["tag"] = _tag(shop, "gif").replace(shop.partner_key.key, "no-such-key")
    page = new_page()

    with page.expect_response(lambda response: "/px/" in response.url) as pixel:
        page.goto(f"/c/{shop.links['main'].token}")
    page.wait_for_function("document.querySelector('img').complete")

    assert pixel.value.status == 200
    assert page.evaluate("document.querySelector('img').naturalWidth") == 1
    log = PostbackLog.objects.get()
    assert (log.endpoint, log.outcome, log.http_status, log.code, log.key) == (
        "pixel",
        "error",
        404,
        "invalid_key",
        "no-such-key",
    )
    assert Conversion.objects.count() == 0
