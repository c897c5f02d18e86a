"""The conversion pixel views: each form's exact answer (bytes, content type, no-store), always
200 whatever the outcome, the outcome in the postback log, the click id from the cookie the click
left, and the key rules a browser cannot meet."""

from decimal import Decimal

import pytest
from django.test import Client

from tracker.models import Conversion, PostbackLog
from tracker.tests.factories import postback_world
from tracker.views.pixels import GIF

pytestmark = pytest.mark.django_db

ANSWERS = {
    "gif": (GIF, "image/gif"),
    "html": (
        b'<!doctype html><meta charset="utf-8"><title>ClickLedger pixel</title>\n',
        "text/html; charset=utf-8",
    ),
    "js": (b"", "application/javascript"),
}
FORMS = list(ANSWERS)


def _assert_pixel(response, form):
    body, content_type = ANSWERS[form]
    assert response.status_code == 200
    assert response.content == body
    assert response["Content-Type"] == content_type
    assert response["Cache-Control"] == "no-store"


def _log():
    log = PostbackLog.objects.get()
    return (log.endpoint, log.method, log.outcome, log.http_status, log.code)


def test_the_gif_is_a_1x1_transparent_gif89a():
    assert len(GIF) == 43
    assert GIF[:6] == b"GIF89a"
    assert (int.from_bytes(GIF[6:8], "little"), int.from_bytes(GIF[8:10], "little")) == (1, 1)
    assert GIF[-1:] == b";"


@pytest.mark.parametrize("form", FORMS)
def test_each_form_records_the_conversion_and_answers_its_pixel(form):
    world = postback_world()
    world.campaign()
    click = world.click()

    response = Client().get(
        f"/px/{world.partner_key.key}.{form}",
        {"click_id": click.click_id, "payout": "12.50", "transaction_id": "T-1"},
    )

    _assert_pixel(response, form)
    conversion = Conversion.objects.get()
    assert (conversion.click_id, conversion.revenue, conversion.transaction_id) == (
        click.pk,
        Decimal("12.5000"),
        "T-1",
    )
    assert _log() == ("pixel", "GET", "created", 200, "")
    assert PostbackLog.objects.get().conversion_id == conversion.pk


def test_the_iframe_page_may_be_framed_by_any_site_and_runs_nothing():
    world = postback_world()

    response = Client().get(f"/px/{world.partner_key.key}.html?click_id=x")

    assert response["Content-Security-Policy"] == "default-src 'none'; frame-ancestors *"
    assert "X-Frame-Options" not in response


@pytest.mark.parametrize("form", FORMS)
def test_a_bad_key_still_answers_the_pixel_and_logs_invalid_key(form):
    response = Client().get(f"/px/no-such-key.{form}?click_id=abc&payout=1")

    _assert_pixel(response, form)
    assert _log() == ("pixel", "GET", "error", 404, "invalid_key")
    log = PostbackLog.objects.get()
    assert (log.key, log.click_id, log.query_string) == (
        "no-such-key",
        "abc",
        "click_id=abc&payout=1",
    )
    assert Conversion.objects.count() == 0


@pytest.mark.parametrize("form", FORMS)
def test_an_unknown_click_still_answers_the_pixel_and_logs_click_not_found(form):
    world = postback_world()
    world.campaign()

    response = Client().get(f"/px/{world.partner_key.key}.{form}?click_id=nobody")

    _assert_pixel(response, form)
    assert _log() == ("pixel", "GET", "error", 404, "click_not_found")


def test_a_refused_parameter_still_answers_the_pixel_and_logs_its_code():
    world = postback_world()
    click = world.campaign() and world.click()

    response = Client().get(f"/px/{world.partner_key.key}.gif?click_id={click.click_id}&payout=-1")

    _assert_pixel(response, "gif")
    assert _log() == ("pixel", "GET", "error", 400, "invalid_payout")


def test_without_a_click_id_the_cookie_of_the_click_supplies_it():
    world = postback_world()
    world.campaign()
    visitor = Client()
    visitor.get(f"/c/{world.links['main'].token}")
    click = world.links["main"].clicks.get()

    response = visitor.get(f"/px/{world.partner_key.key}.gif?transaction_id=T-9&payout=3")

    _assert_pixel(response, "gif")
    conversion = Conversion.objects.get()
    assert (conversion.click_id, conversion.transaction_id) == (click.pk, "T-9")
    log = PostbackLog.objects.get()
    assert (log.outcome, log.click_id) == ("created", click.click_id)
    assert log.warnings == ["click_id from the cl_cid cookie of the visitor's click"]


def test_a_click_id_in_the_query_string_beats_the_cookie():
    world = postback_world()
    world.campaign()
    named = world.click()
    visitor = Client()
    visitor.cookies["cl_cid"] = world.click().click_id

    visitor.get(f"/px/{world.partner_key.key}.gif?click_id={named.click_id}")

    assert Conversion.objects.get().click_id == named.pk
    assert PostbackLog.objects.get().warnings == []


def test_neither_click_id_nor_cookie_is_missing_click_id_never_the_offer_fallback():
    world = postback_world()
    world.campaign(external_offer_id="OFFER-1")
    world.click()

    response = Client().get(f"/px/{world.partner_key.key}.gif?offer_id=OFFER-1")

    _assert_pixel(response, "gif")
    assert _log() == ("pixel", "GET", "error", 400, "missing_click_id")
    assert Conversion.objects.count() == 0


def test_the_cookie_of_another_advertisers_click_is_not_found():
    world, other = postback_world(), postback_world(key="other-key")
    other.campaign()
    visitor = Client()
    visitor.cookies["cl_cid"] = other.click().click_id

    visitor.get(f"/px/{world.partner_key.key}.gif")

    assert _log() == ("pixel", "GET", "error", 404, "click_not_found")
    assert Conversion.objects.count() == 0


@pytest.mark.parametrize(
    "key_fields",
    [{"require_signature": True}, {"ip_allowlist": ["127.0.0.1/32"]}],
    ids=["signature", "allowlist"],
)
def test_a_key_that_requires_a_signature_or_an_allowlist_takes_no_pixel(key_fields):
    world = postback_world(**key_fields)
    world.campaign()
    click = world.click()

    response = Client().get(f"/px/{world.partner_key.key}.gif?click_id={click.click_id}")

    _assert_pixel(response, "gif")
    assert _log() == ("pixel", "GET", "error", 403, "pixel_not_allowed")
    assert PostbackLog.objects.get().partner_key_id == world.partner_key.pk
    assert Conversion.objects.count() == 0


def test_head_answers_the_pixel_and_records_nothing():
    world = postback_world()
    world.campaign()
    click = world.click()

    response = Client().head(f"/px/{world.partner_key.key}.gif?click_id={click.click_id}")

    assert (response.status_code, response["Content-Type"]) == (200, "image/gif")
    assert (PostbackLog.objects.count(), Conversion.objects.count()) == (0, 0)


def test_post_is_not_allowed_and_records_nothing():
    response = Client().post("/px/some-key.gif", {"click_id": "x"})

    assert (response.status_code, response["Allow"]) == (405, "GET, HEAD")
    assert PostbackLog.objects.count() == 0


def test_another_extension_is_not_a_pixel():
    response = Client().get("/px/some-key.png")

    assert response.status_code == 404
    assert PostbackLog.objects.count() == 0


def test_a_huge_query_string_is_stored_truncated_like_a_postbacks(settings):
    settings.POSTBACK_LOG_MAX_BYTES = 100

    response = Client().get("/px/no-such-key.gif?pad=" + "x" * 5000)

    _assert_pixel(response, "gif")
    log = PostbackLog.objects.get()
    assert (log.code, len(log.query_string)) == ("invalid_key", 100)
    assert log.params == {}
    assert log.warnings == ["query string stored truncated: the first 100 of 5004 bytes"]
