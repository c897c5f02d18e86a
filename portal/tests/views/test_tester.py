"""The advertiser's postback tester: one real postback through the public endpoint's service,
and the page showing the request, the answer, the log row and the conversion."""

import datetime as dt
import hashlib
import hmac
import json
from decimal import Decimal

import pytest
import time_machine

from campaigns.tests.factories import network
from payouts.models import LedgerEntry
from portal.tests.factories import portal_client
from portal.tests.test_markup import _audit
from tracker.models import Conversion, PostbackLog
from tracker.tests.factories import ClickFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 14, 9, 26, 53, tzinfo=dt.UTC)


def _url(key) -> str:
    return f"/portal/advertiser/partner-keys/{key.pk}/test/"


def _send(client, key, **fields):
    data = {"method": "GET", "status": "test", **fields}
    return client.post(_url(key), data)


def _html(response) -> str:
    return response.content.decode()


def _shown_json(body: dict) -> str:
    """A JSON body as the page shows it: the public view's bytes, HTML-escaped."""
    return json.dumps(body).replace('"', "&quot;")


def test_page_offers_the_advertisers_recent_clicks_and_signs_nothing_on_get():
    net = network()
    mine = ClickFactory(link=net.link1)
    theirs = ClickFactory(link=net.link2)

    response = portal_client(net, "advertiser1").get(_url(net.key1))

    html = _html(response)
    assert response.status_code == 200
    assert response.context["form"].initial == {}
    assert response.context["form"]["status"].value() == "test"
    assert response.context["form"]["method"].value() == "GET"
    assert f'<option value="{mine.click_id}">Campaign one · ' in html
    assert theirs.click_id not in html
    assert '<span class="mono">127.0.0.1</span>: your own address' in html
    assert net.key1.signing_secret not in html
    assert PostbackLog.objects.count() == 0


def test_test_status_is_logged_and_creates_no_conversion():
    net = network()
    click = ClickFactory(link=net.link1)

    response = _send(
        portal_client(net, "advertiser1"), net.key1, click_id=click.click_id, payout="1.50"
    )

    log = PostbackLog.objects.get()
    html = _html(response)
    result = response.context["result"]
    assert response.status_code == 200
    assert (log.outcome, log.http_status, log.code, log.partner_key_id, log.source_ip) == (
        "test",
        200,
        "",
        net.key1.pk,
        "127.0.0.1",
    )
    assert (log.endpoint, log.method, log.query_string, log.body) == (
        "postback",
        "GET",
        f"click_id={click.click_id}&status=test&payout=1.50",
        "",
    )
    assert Conversion.objects.count() == 0
    assert (result.http_status, result.payload["result"], result.conversion) == (200, "test", None)
    assert (
        f'<dd class="mono wrap" id="tester-request-line">GET http://testserver/postback/'
        f"{net.key1.key}?click_id={click.click_id}&amp;status=test&amp;payout=1.50</dd>"
    ) in html
    assert "<dt>Headers</dt><dd>none needed</dd>" in html
    assert "<dt>Body</dt><dd>empty</dd>" in html
    assert '<dd id="tester-response-status">200 OK</dd>' in html
    assert (
        '<pre id="tester-response-body">'
        + _shown_json(
            {
                "status": "success",
                "message": "Postback received and distributed",
                "log_id": str(log.pk),
                "result": "test",
                "conversion_id": None,
            }
        )
        + "</pre>"
    ) in html
    assert f'<dd class="mono">{log.pk}</dd>' in html
    assert '<dd id="tester-log-outcome">test</dd>' in html
    assert (
        "Accepted as a test: logged, no conversion and no money (a test does not look the "
        "click up)." in html
    )
    assert "<h3>Conversion</h3>" not in html


def test_approved_creates_the_conversion_with_exact_money_and_a_resend_is_a_duplicate():
    net = network()
    click = ClickFactory(link=net.link1)
    client = portal_client(net, "advertiser1")
    fields = {
        "method": "POST",
        "click_id": click.click_id,
        "status": "approved",
        "payout": "10.00",
        "currency": "USD",
        "transaction_id": "ORDER 1",
        "params": "sub_id1=banner\ncolor=dark red",
    }

    first = _send(client, net.key1, **fields)
    again = _send(client, net.key1, **fields)

    conversion = Conversion.objects.get()
    created_log, duplicate_log = PostbackLog.objects.order_by("received_at")
    html = _html(first)
    body = (
        f"click_id={click.click_id}&status=approved&payout=10.00&currency=USD"
        "&transaction_id=ORDER+1&sub_id1=banner&color=dark+red"
    )
    assert (
        conversion.status,
        conversion.revenue,
        conversion.payout,
        conversion.currency,
        conversion.transaction_id,
        conversion.sub_ids,
        conversion.custom_data,
    ) == (
        "approved",
        Decimal("10.0000"),
        Decimal("8.0000"),
        "USD",
        "ORDER 1",
        {"sub1": "banner"},
        {"color": "dark red"},
    )
    assert LedgerEntry.objects.count() == 4
    assert (created_log.outcome, created_log.conversion_id, created_log.query_string) == (
        "created",
        conversion.pk,
        "",
    )
    assert (created_log.body, created_log.content_type) == (
        body,
        "application/x-www-form-urlencoded",
    )
    assert (duplicate_log.outcome, duplicate_log.conversion_id) == ("duplicate", conversion.pk)
    assert (
        f'<dd class="mono wrap" id="tester-request-line">POST http://testserver/postback/'
        f"{net.key1.key}</dd>"
    ) in html
    assert (
        '<pre id="tester-request-headers">Content-Type: application/x-www-form-urlencoded</pre>'
    ) in html
    assert f'<pre id="tester-request-body">{body.replace("&", "&amp;")}</pre>' in html
    assert (
        '<pre id="tester-response-body">'
        + _shown_json(
            {
                "status": "success",
                "message": "Postback received and distributed",
                "log_id": str(created_log.pk),
                "result": "created",
                "conversion_id": conversion.pk,
            }
        )
        + "</pre>"
    ) in html
    assert f"Conversion #{conversion.pk} created as approved." in html
    assert f'<a href="/portal/advertiser/conversions/{conversion.pk}/">#{conversion.pk}</a>' in html
    assert "<dt>Revenue</dt><dd>$10.00</dd>" in html
    # The affiliate's payout (8.00) is not the advertiser's to see.
    assert "<dt>Payout</dt>" not in html
    assert "$8.00" not in html
    assert again.context["result"].payload["result"] == "duplicate"
    assert (
        f"Duplicate: conversion #{conversion.pk} already had this status; nothing changed and "
        "nothing was paid twice."
    ) in _html(again)


def test_unknown_click_shows_the_404_the_partner_gets():
    net = network()
    theirs = ClickFactory(link=net.link2)

    client = portal_client(net, "advertiser1")

    unknown = _send(client, net.key1, click_id="no-such-click", status="approved")
    foreign = _send(client, net.key1, click_id=theirs.click_id, status="approved")

    logs = list(PostbackLog.objects.order_by("received_at"))
    html = _html(unknown)
    assert [(log.outcome, log.http_status, log.code) for log in logs] == [
        ("error", 404, "click_not_found"),
        ("error", 404, "click_not_found"),
    ]
    assert foreign.context["result"].payload["code"] == "click_not_found"
    assert Conversion.objects.count() == 0
    assert "HTTP 404 · click_not_found" in html
    assert '<dd id="tester-response-status">404 Not Found</dd>' in html
    assert (
        '<pre id="tester-response-body">'
        + _shown_json(
            {
                "status": "error",
                "message": "Click not found.",
                "code": "click_not_found",
                "log_id": str(logs[0].pk),
            }
        )
        + "</pre>"
    ) in html
    assert '<dd id="tester-log-outcome">error · click_not_found</dd>' in html
    assert "Refused: Click not found." in html


@pytest.mark.parametrize(
    ("method", "headers"),
    [
        ("GET", ""),
        ("POST", "Content-Type: application/x-www-form-urlencoded\n"),
    ],
)
def test_signed_key_gets_the_partners_signature_headers_and_is_accepted(method, headers):
    net = network()
    net.key1.require_signature = True
    net.key1.save(update_fields=["require_signature"])
    click = ClickFactory(link=net.link1, created_at=NOW - dt.timedelta(hours=1))
    timestamp = str(int(NOW.timestamp()))
    params = f"click_id={click.click_id}&status=pending&payout=5"
    # The partner signs "<timestamp>.<raw query>.<raw body>": one of the two is empty.
    signed = f"{timestamp}.{params}." if method == "GET" else f"{timestamp}..{params}"
    expected = hmac.new(
        net.key1.signing_secret.encode(), signed.encode(), hashlib.sha256
    ).hexdigest()

    with time_machine.travel(NOW, tick=False):
        response = _send(
            portal_client(net, "advertiser1"),
            net.key1,
            method=method,
            click_id=click.click_id,
            status="pending",
            payout="5",
        )

    html = _html(response)
    conversion = Conversion.objects.get()
    assert (conversion.status, conversion.revenue, conversion.payout) == (
        "pending",
        Decimal("5.0000"),
        Decimal("4.0000"),
    )
    assert PostbackLog.objects.get().outcome == "created"
    assert (
        f'<pre id="tester-request-headers">{headers}'
        f"X-ClickLedger-Timestamp: {timestamp}\n"
        f"X-ClickLedger-Signature: sha256={expected}</pre>"
    ) in html
    assert "required: this page signs with the key's secret, as the partner must" in html
    assert net.key1.signing_secret not in html


def test_disabled_key_shows_the_invalid_key_refusal():
    net = network()
    net.key1.is_active = False
    net.key1.save(update_fields=["is_active"])
    click = ClickFactory(link=net.link1)

    response = _send(portal_client(net, "advertiser1"), net.key1, click_id=click.click_id)

    log = PostbackLog.objects.get()
    html = _html(response)
    assert (log.outcome, log.http_status, log.code, log.partner_key_id) == (
        "error",
        404,
        "invalid_key",
        None,
    )
    assert "<dt>Key status</dt><dd>disabled: postbacks are refused</dd>" in html
    assert "Refused: Invalid postback key." in html
    assert f'<dd class="mono">{log.pk}</dd>' in html  # its own refused request's log row


def test_allowlisted_key_refuses_the_advertisers_address_like_a_partners():
    net = network()
    net.key1.ip_allowlist = ["203.0.113.0/24"]
    net.key1.save(update_fields=["ip_allowlist"])
    click = ClickFactory(link=net.link1)
    client = portal_client(net, "advertiser1")

    refused = _send(client, net.key1, click_id=click.click_id)
    allowed = client.post(
        _url(net.key1),
        {"method": "GET", "status": "test", "click_id": click.click_id},
        REMOTE_ADDR="203.0.113.9",
    )

    logs = list(PostbackLog.objects.order_by("received_at"))
    html = _html(refused)
    assert [(log.source_ip, log.outcome, log.http_status, log.code) for log in logs] == [
        ("127.0.0.1", "error", 403, "ip_not_allowed"),
        ("203.0.113.9", "test", 200, ""),
    ]
    assert "HTTP 403 · ip_not_allowed" in html
    assert '<dd id="tester-response-status">403 Forbidden</dd>' in html
    assert "Refused: Source address 127.0.0.1 is not allowed for this key." in html
    assert '<dd class="mono">127.0.0.1 (yours)</dd>' in html
    assert allowed.context["result"].payload["result"] == "test"


def test_another_advertisers_key_is_not_found_and_nothing_is_sent():
    net = network()
    click = ClickFactory(link=net.link2)
    client = portal_client(net, "advertiser1")

    page = client.get(_url(net.key2))
    sent = _send(client, net.key2, click_id=click.click_id, status="approved")

    assert (page.status_code, sent.status_code) == (404, 404)
    assert net.key2.key.encode() not in page.content + sent.content
    assert PostbackLog.objects.count() == 0
    assert Conversion.objects.count() == 0


def test_anonymous_visitors_are_sent_to_the_login_page():
    net = network()

    response = _send(portal_client(net, "anonymous"), net.key1, click_id="x")

    assert response.status_code == 302
    assert response["Location"] == f"/portal/login/?next={_url(net.key1)}"
    assert PostbackLog.objects.count() == 0


@pytest.mark.parametrize("role", ["affiliate1", "admin"])
def test_other_roles_are_refused(role):
    net = network()
    client = portal_client(net, role)

    page = client.get(_url(net.key1))
    sent = _send(client, net.key1, click_id=ClickFactory(link=net.link1).click_id)

    assert (page.status_code, sent.status_code) == (403, 403)
    assert net.key1.key.encode() not in page.content + sent.content
    assert PostbackLog.objects.count() == 0


def test_bad_input_shows_field_errors_and_sends_nothing():
    net = network()
    client = portal_client(net, "advertiser1")

    response = client.post(
        _url(net.key1),
        {
            "method": "PUT",
            "status": "paid",
            "click_id": "",
            "payout": "1.23456",
            "currency": "XXZ",
            "params": "sub_id1=a\nnonsense\n",
        },
    )
    missing_click = client.post(_url(net.key1), {"method": "GET", "status": "test"})
    own_field_again = client.post(
        _url(net.key1),
        {"method": "GET", "status": "test", "click_id": "c", "params": "status=approved"},
    )
    fallback = client.post(
        _url(net.key1), {"method": "GET", "status": "test", "params": "offer_id=SPRING"}
    )

    assert response.status_code == 200
    assert response.context["result"] is None
    assert response.context["form"].errors == {
        "method": ["Select a valid choice. PUT is not one of the available choices."],
        "status": ["Select a valid choice. paid is not one of the available choices."],
        "click_id": ["Enter a click id (or an offer_id parameter below, for fallback matching)."],
        "payout": [
            "Enter a non-negative amount with at most 4 decimal places (more than 4 decimal "
            "places)."
        ],
        "currency": ["Select a valid choice. XXZ is not one of the available choices."],
        "params": ["Line 2: write name=value."],
    }
    assert missing_click.context["form"].errors == {
        "click_id": ["Enter a click id (or an offer_id parameter below, for fallback matching)."]
    }
    assert own_field_again.context["form"].errors == {
        "params": ["Line 1: set status in its own field above."]
    }
    assert "Please correct the errors below." in _html(response)
    assert fallback.context["form"].errors == {}
    # Only the valid fallback request (an offer id instead of a click id) was sent.
    assert [(log.outcome, log.params) for log in PostbackLog.objects.all()] == [
        ("test", {"status": "test", "offer_id": "SPRING"})
    ]


def test_query_budget(django_assert_max_num_queries):
    net = network()
    for _ in range(12):
        ClickFactory(link=net.link1)
    click = ClickFactory(link=net.link1)
    client = portal_client(net, "advertiser1")

    # session, user, profile, key, recent clicks.
    with django_assert_max_num_queries(5):
        page = client.get(_url(net.key1))
    # session, user, profile, key; the postback (key, savepoint, click with its event,
    # conversion, history, ledger accounts: 3 on their first use, ledger transaction, entries,
    # log, release); then the log row, the conversion and the recent clicks.
    with django_assert_max_num_queries(19):
        sent = _send(client, net.key1, click_id=click.click_id, status="approved", payout="3")

    assert len(page.context["recent_clicks"]) == 10
    assert sent.context["result"].conversion.payout == Decimal("2.4000")


def test_keys_pages_link_to_the_tester_and_its_markup_is_labelled():
    net = network()
    click = ClickFactory(link=net.link1)
    client = portal_client(net, "advertiser1")

    listing = _html(client.get("/portal/advertiser/partner-keys/"))
    key_page = _html(client.get(f"/portal/advertiser/partner-keys/{net.key1.pk}/"))
    form_page = _html(client.get(_url(net.key1)))
    result_page = _html(_send(client, net.key1, click_id=click.click_id, status="approved"))

    link = f'href="{_url(net.key1)}"'
    assert (link in listing, link in key_page) == (True, True)
    for html in (form_page, result_page):
        audit = _audit(html)
        assert audit.unlabelled == []
        assert [control for control in audit.controls if control not in audit.labels] == []
        assert audit.headings[0] == 1
        assert audit.headings.count(1) == 1
        assert all(b - a <= 1 for a, b in zip(audit.headings, audit.headings[1:], strict=False))
        assert 'name="csrfmiddlewaretoken"' in html
    assert _audit(result_page).headings == [1, 2, 3, 3, 3, 3, 2]


@pytest.mark.parametrize(
    ("payout", "reason"),
    [("1E+2", "not a decimal"), ("\u0661\u0660\u0660", "not a decimal"), ("-0", "negative")],
)
def test_the_payout_must_be_a_plain_decimal(payout, reason):
    net = network()
    client = portal_client(net, "advertiser1")

    response = client.post(
        _url(net.key1),
        {"method": "GET", "status": "test", "click_id": "c", "payout": payout},
    )

    assert response.context["form"].errors == {
        "payout": [f"Enter a non-negative amount with at most 4 decimal places ({reason})."]
    }
    assert PostbackLog.objects.count() == 0


def test_a_dry_run_shows_what_would_happen_and_records_nothing():
    net = network()
    click = ClickFactory(link=net.link1)

    response = _send(
        portal_client(net, "advertiser1"),
        net.key1,
        click_id=click.click_id,
        status="approved",
        payout="5.00",
        dry_run="on",
    )

    html = _html(response)
    assert response.status_code == 200
    assert response.context["dry_run"]["result"] == "created"
    assert response.context["result"] is None
    assert '<span class="badge badge-active" id="dry-run-outcome">HTTP 200 · created</span>' in html
    assert "Affiliate payout" not in html
    assert (
        Conversion.objects.count(),
        PostbackLog.objects.count(),
        LedgerEntry.objects.count(),
    ) == (
        0,
        0,
        0,
    )
