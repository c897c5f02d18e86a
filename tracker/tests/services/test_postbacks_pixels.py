"""`pixel_receive`: the partner postback's rules for a request from the visitor's browser (the
click id from the cookie, no offer fallback, no keys a browser cannot satisfy), and its log."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from tracker.models import ConversionStatus, PostbackLog
from tracker.postback_params import ENDPOINT_KEYED, ENDPOINT_PIXEL, PostbackInbound
from tracker.services.postbacks import pixel_receive
from tracker.tests.factories import postback_world

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)


def _inbound(key: str, query: bytes, *, cookie: str = "", endpoint: str = ENDPOINT_PIXEL):
    return PostbackInbound(
        endpoint=endpoint,
        method="GET",
        query_string=query,
        body=b"",
        content_type="",
        source_ip="198.51.100.7",
        path_key=key,
        cookie_click_id=cookie,
    )


@time_machine.travel(NOW, tick=False)
def test_the_cookie_supplies_the_click_id_and_the_conversion_is_the_postbacks():
    world = postback_world()
    world.campaign(payout_type="fixed", payout_amount=Decimal("4.00"))
    click = world.click()

    result = pixel_receive(
        inbound=_inbound(world.partner_key.key, b"payout=10&status=pending", cookie=click.click_id)
    )

    conversion = result.conversion
    assert (result.result, result.error) == ("created", None)
    assert (conversion.click_id, conversion.status, conversion.revenue, conversion.payout) == (
        click.pk,
        ConversionStatus.PENDING,
        Decimal("10.0000"),
        Decimal("4.0000"),
    )
    log = PostbackLog.objects.get(pk=result.log_id)
    assert (log.endpoint, log.key, log.partner_key_id, log.source_ip, log.received_at) == (
        "pixel",
        world.partner_key.key,
        world.partner_key.pk,
        "198.51.100.7",
        NOW,
    )
    assert log.params == {"payout": "10", "status": "pending"}


def test_a_repeated_pixel_is_a_duplicate_not_a_second_conversion():
    world = postback_world()
    world.campaign()
    click = world.click()
    inbound = _inbound(world.partner_key.key, b"transaction_id=T-1", cookie=click.click_id)

    first, second = pixel_receive(inbound=inbound), pixel_receive(inbound=inbound)

    assert (first.result, second.result) == ("created", "duplicate")
    assert second.conversion.pk == first.conversion.pk


def test_a_cookie_with_a_nul_or_too_long_is_click_not_found_not_a_500():
    world = postback_world()
    world.campaign()

    results = [
        pixel_receive(inbound=_inbound(world.partner_key.key, b"", cookie=cookie))
        for cookie in ("a\x00b", "x" * 200)
    ]

    assert [result.error.code for result in results] == ["click_not_found", "click_not_found"]


@pytest.mark.parametrize(
    ("key_fields", "code", "status"),
    [
        ({"require_signature": True}, "pixel_not_allowed", 403),
        ({"ip_allowlist": ["198.51.100.7/32"]}, "pixel_not_allowed", 403),
        ({"is_active": False}, "invalid_key", 404),
    ],
)
def test_keys_a_browser_cannot_use(key_fields, code, status):
    world = postback_world(**key_fields)
    world.campaign()
    click = world.click()

    result = pixel_receive(inbound=_inbound(world.partner_key.key, b"", cookie=click.click_id))

    assert (result.error.code, result.error.status, result.conversion) == (code, status, None)
    assert PostbackLog.objects.get().code == code


def test_only_pixel_requests_are_taken():
    with pytest.raises(ValueError, match="pixel requests only"):
        pixel_receive(inbound=_inbound("k", b"", endpoint=ENDPOINT_KEYED))
