"""Money as people read it on every page: the currency's decimals and symbol, grouped thousands,
the viewer's locale; never the stored 4-place decimal (`479.2996`, `2.5000 USD`)."""

import re
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client
from django.urls import resolve

from campaigns.tests.factories import CapFactory, network
from core.formatting import locale_override
from payouts.models import PayoutEvent, PayoutStatus
from payouts.services import payout_approve, payout_request_create
from payouts.tasks import send_payout_decision_email
from payouts.tests.factories import conversion_approve, funded_affiliate
from portal.charts import Series, line_chart
from portal.tests.factories import portal_client
from portal.tests.pages import DemoWorld, demo_world, portal_page_names

pytestmark = pytest.mark.django_db

RAW_AMOUNT = re.compile(r"\d+\.\d{4}\b")
NBSP = "\N{NO-BREAK SPACE}"


class _ReadableText(HTMLParser):
    """What a person reads on a page: text, and the attributes browsers show (title, alt, ...).

    Left out: <pre> and <code> (verbatim machine text, such as the JSON a partner gets back, which
    keeps plain decimals by contract), scripts and styles, and form inputs' values (editable
    plain decimals that the forms parse back).
    """

    VERBATIM = frozenset({"pre", "code", "script", "style", "textarea"})
    SHOWN_ATTRIBUTES = frozenset({"title", "alt", "aria-label", "placeholder"})

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._verbatim_depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.VERBATIM:
            self._verbatim_depth += 1
        self.parts.extend(value for name, value in attrs if name in self.SHOWN_ATTRIBUTES and value)

    def handle_endtag(self, tag):
        if tag in self.VERBATIM:
            self._verbatim_depth -= 1

    def handle_data(self, data):
        if not self._verbatim_depth:
            self.parts.append(data)


def readable_text(html: str) -> str:
    parser = _ReadableText()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def _clients(world: DemoWorld) -> dict[str, Client]:
    clients = {"anonymous": Client()}
    for role, user in world.users.items():
        clients[role] = Client()
        clients[role].force_login(user)
    return clients


def _render(client: Client, page) -> tuple[int, str]:
    if page.form is None:
        response = client.get(page.path, follow=True)
    else:
        response = client.post(page.path, page.form, follow=True)
    return response.status_code, response.content.decode()


def test_no_page_shows_a_raw_four_place_amount():
    # given the demo network, with money in USD and EUR on every page that shows money
    world = demo_world()
    clients = _clients(world)

    # when every portal page, the console's index and its money pages are rendered
    statuses, raw_amounts, texts = {}, {}, {}
    for page in world.pages + world.console_pages:
        status, html = _render(clients[page.role], page)
        statuses[page.name] = status
        texts[page.name] = readable_text(html)
        found = RAW_AMOUNT.findall(texts[page.name])
        if found:
            raw_amounts[page.name] = sorted(set(found))

    # then none shows a 4-place decimal, and the money is there, formatted
    assert raw_amounts == {}
    assert {name for name, status in statuses.items() if status != 200} == set()
    assert {
        resolve(urlsplit(page.path).path).url_name
        for page in world.pages
        if page.path.startswith("/portal/") and not page.path.startswith("/portal/auth/")
    } == portal_page_names()
    assert "$1,000.50" in texts["affiliate-payouts"]  # the payout request, grouped
    assert "1,234.57" in texts["affiliate-points"]
    assert "At least $50.00." in texts["affiliate-payout-refused"]
    assert "at least 50.00 in the payout's currency" in texts["affiliate-payouts"]
    assert "Revenue $1,234.50" in texts["advertiser-postback-tester-result"]
    assert "80.00% of revenue" in texts["advertiser-campaigns"]
    assert "65.50% of revenue" in texts["affiliate-campaigns"]
    assert (
        "First deposit after a verified sign-up: 32.50% of revenue; "
        "GB, sub1 newsletter-december-long-campaign-name: $1,234.57"
    ) in texts["affiliate-campaign"]
    assert "2,345.68" not in texts["affiliate-campaign"]  # the rule's revenue
    assert "pays $1,234.57" in texts["advertiser-pricing-rules"]
    assert "$2,345.68" in texts["advertiser-pricing-rules"]
    assert "Per affiliate Daily conversions ≤ 25" in texts["advertiser-campaign-edit"]
    # The month so far may hold no EUR conversion of the random demo traffic: USD always is.
    assert "Revenue (USD) $" in texts["console-index"]
    assert "$1,000.50" in texts["console-payouts"]
    assert "1,234.57" in texts["console-end-user-points"]
    assert re.search(r"Revenue \(USD\) \$[\d,]+\.\d\d ", texts["console-index"])


def test_pages_write_money_in_the_locale_the_browser_asks_for():
    net = network()
    conversion_approve(affiliate=net.affiliate1, payout=Decimal("1234.5"))
    client = portal_client(net, "affiliate1")

    german = client.get("/portal/affiliate/payouts/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")
    english = client.get("/portal/affiliate/payouts/")

    assert f'<td class="num strong">1.234,50{NBSP}$</td>' in german.content.decode()
    assert '<td class="num strong">$1,234.50</td>' in english.content.decode()
    # Only numbers change: the page stays in English.
    assert '<html lang="en">' in german.content.decode()
    assert "Request a payout" in german.content.decode()


def test_flash_messages_and_form_errors_write_money_for_people():
    net = network()
    conversion_approve(affiliate=net.affiliate1, payout=Decimal("1234.5678"))
    client = portal_client(net, "affiliate1")

    requested = client.post(
        "/portal/affiliate/payouts/",
        {"amount": "1000.5", "currency": "USD", "method": "paypal"},
        follow=True,
    )
    too_much = client.post(
        "/portal/affiliate/payouts/",
        {"amount": "300", "currency": "USD", "method": "paypal"},
        HTTP_ACCEPT_LANGUAGE="de",
    )
    too_little = client.post(
        "/portal/affiliate/payouts/", {"amount": "5", "currency": "JPY", "method": "paypal"}
    )

    assert [str(m) for m in requested.context["messages"]] == [
        f"Payout #{net.affiliate1.payouts.get().pk} of $1,000.50 requested."
    ]
    # 234.0678 are left: the limit is rounded down, so that asking for it is accepted.
    assert too_much.context["form"].errors == {"amount": [f"At most 234,06{NBSP}$."]}
    assert too_little.context["form"].errors == {"amount": ["At least ¥50."]}


def test_campaign_editor_inputs_hold_plain_amounts_people_would_type():
    net = network()
    net.campaign1.payout_amount = Decimal("2.5000")
    net.campaign1.default_revenue = Decimal("0.0747")
    net.campaign1.save()
    CapFactory(campaign=net.campaign1, limit=Decimal("200"))

    html = (
        portal_client(net, "advertiser1")
        .get(f"/portal/advertiser/campaigns/{net.campaign1.pk}/")
        .content.decode()
    )

    assert 'name="payout_amount" value="2.50"' in html
    assert 'name="default_revenue" value="0.0747"' in html
    assert 'name="cap0_limit" value="200"' in html  # Decimal.normalize() would write 2E+2


def test_money_charts_label_ticks_totals_and_points_as_amounts():
    import datetime as dt

    days = [dt.date(2026, 3, 1), dt.date(2026, 3, 2)]

    with locale_override("de"):
        svg = line_chart(
            chart_id="m",
            title="Revenue per day",
            days=days,
            series=[Series("Revenue", [Decimal("1000.0000"), Decimal("234.0678")])],
            y_label="EUR",
            currency="EUR",
        )
        counts = line_chart(
            chart_id="c",
            title="Clicks per day",
            days=days,
            series=[Series("Clicks", [1200, 3])],
            y_label="Clicks",
            integer_ticks=True,
        )

    ticks = re.findall(
        r'<text class="tick" x="48" y="[\d.]+" text-anchor="end">([^<]*)</text>', svg
    )
    assert ticks == [
        f"0,00{NBSP}€",
        f"250,00{NBSP}€",
        f"500,00{NBSP}€",
        f"750,00{NBSP}€",
        f"1.000,00{NBSP}€",
    ]
    assert f"Totals: Revenue: 1.234,07{NBSP}€." in svg
    assert f"<title>2026-03-02: Revenue 234,07{NBSP}€</title>" in svg
    assert "Totals: Clicks: 1.203." in counts


def test_payout_emails_use_the_default_locale_whoever_triggered_them():
    affiliate = funded_affiliate(available=Decimal("2500"))
    payout = payout_request_create(
        affiliate=affiliate, amount=Decimal("1234.5"), currency="USD", method="paypal"
    )

    with locale_override("de"):  # an operator whose browser asks for German approves it
        payout_approve(payout=payout, actor=None)
        event = PayoutEvent.objects.get(payout=payout, to_status=PayoutStatus.APPROVED)
        mail.outbox.clear()
        send_payout_decision_email(payout_id=payout.pk, event_id=event.pk)

    assert f"Your payout request #{payout.pk} of $1,234.50 has been approved" in (
        mail.outbox[0].body
    )
