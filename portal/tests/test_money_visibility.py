"""What money the portals show: the advertiser's pages (dashboard tiles and charts, conversions
list, detail and CSV, the postback tester) never the affiliate's payout, the margin or EPC; the
affiliate's pages never the revenue. Checked on the page bodies, with amounts no other field
carries.

The traffic: two clicks on affiliate 1's link to advertiser 1's 80 % revshare campaign, one
converting for a revenue of 9.8765: payout 7.9012, margin 1.9753, EPC 3.9506.
"""

import csv
import io
from decimal import Decimal

import pytest

from campaigns.tests.factories import Network, network
from portal.tests.factories import portal_client
from reporting.services.rollups import stats_refresh
from tracker.models import Conversion
from tracker.tests.factories import ClickFactory, postback

pytestmark = pytest.mark.django_db

REVENUE = "9.8765"
PAYOUT = "7.9012"
MARGIN = "1.9753"
EPC = "3.9506"
# As pages show them (core.formatting): the currency's own decimals and symbol.
REVENUE_SHOWN, PAYOUT_SHOWN, MARGIN_SHOWN, EPC_SHOWN = "$9.88", "$7.90", "$1.98", "$3.95"
HIDDEN_FROM_ADVERTISERS = (PAYOUT, MARGIN, EPC, PAYOUT_SHOWN, MARGIN_SHOWN, EPC_SHOWN)
HIDDEN_FROM_AFFILIATES = (REVENUE, MARGIN, REVENUE_SHOWN, MARGIN_SHOWN)


@pytest.fixture
def traffic() -> tuple[Network, Conversion]:
    net = network()
    ClickFactory(link=net.link1, fraud_signals=["datacenter"], device_type="mobile")
    click = ClickFactory(link=net.link1, device_type="mobile")
    conversion = postback(net.key1, click_id=click.click_id, payout=REVENUE, transaction_id="T-1")
    assert (str(conversion.revenue), str(conversion.payout)) == (REVENUE, PAYOUT)
    # flagged: the dashboards' fraud section and the breakdown by device carry its money too
    conversion.fraud_signals = ["too_fast"]
    conversion.save(update_fields=["fraud_signals"])
    stats_refresh()
    return net, conversion


def _text(response) -> str:
    assert response.status_code == 200
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def _found(amounts: tuple[str, ...], text: str) -> list[str]:
    return [amount for amount in amounts if amount in text]


def test_advertiser_dashboard_tiles_show_revenue_and_no_payout(traffic):
    net, _ = traffic

    response = portal_client(net, "advertiser1").get("/portal/advertiser/?days=7")

    summary = response.context["summary"]
    assert [(m.currency, m.revenue, m.payout, m.epc) for m in summary.money] == [
        ("USD", Decimal(REVENUE), None, None)
    ]
    html = _text(response)
    assert '<span class="stat-label">Revenue (USD)</span>' in html
    assert "Payout" not in html
    assert _found(HIDDEN_FROM_ADVERTISERS, html) == []
    assert [
        (row.label, row.clicks, row.revenue, row.payout) for row in response.context["breakdown"]
    ] == [("mobile", 2, Decimal(REVENUE), None)]
    assert [label for label, _ in response.context["fraud"].headings][-1] == "Revenue"
    assert "<code>too_fast</code>" in html


def test_affiliate_dashboard_tiles_show_payout_and_epc_and_no_revenue(traffic):
    net, _ = traffic

    response = portal_client(net, "affiliate1").get("/portal/affiliate/?days=7")

    summary = response.context["summary"]
    assert [(m.currency, m.revenue, m.payout, m.epc) for m in summary.money] == [
        ("USD", None, Decimal(PAYOUT), Decimal(EPC))
    ]
    html = _text(response)
    assert _found(HIDDEN_FROM_AFFILIATES, html) == []
    assert [
        (row.label, row.clicks, row.revenue, row.payout) for row in response.context["breakdown"]
    ] == [("mobile", 2, None, Decimal(PAYOUT))]
    assert [label for label, _ in response.context["fraud"].headings][-1] == "Payout"
    assert "<code>too_fast</code>" in html
    assert "<code>datacenter</code>" in html


def test_advertiser_conversions_list_and_csv_have_revenue_and_no_payout(traffic):
    net, _ = traffic
    client = portal_client(net, "advertiser1")

    listing = client.get("/portal/advertiser/conversions/?sort=-payout")
    export = client.get("/portal/advertiser/conversions/?format=csv&sort=payout")

    # A sort by the hidden amount falls back to the default order, like any unknown sort.
    assert listing.context["table"].sort == "-id"
    assert [header.label for header in listing.context["table"].headers] == [
        "ID",
        "Date",
        "Campaign",
        "Affiliate",
        "Status",
        "Revenue",
        "Click / transaction",
    ]
    html = _text(listing)
    assert REVENUE_SHOWN in html
    assert _found(HIDDEN_FROM_ADVERTISERS, html) == []
    text = _text(export)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [
        "id",
        "created_at",
        "campaign_id",
        "campaign",
        "affiliate_id",
        "status",
        "reason",
        "fraud_signals",
        "currency",
        "revenue",
        "click_id",
        "transaction_id",
        "user_id",
        "sub1",
        "device_type",
        "os",
        "browser",
    ]
    assert (rows[1][7], rows[1][9]) == ("too_fast", REVENUE)
    assert "⚑ too_fast" in html
    assert _found(HIDDEN_FROM_ADVERTISERS, text) == []


def test_advertiser_conversion_detail_and_history_have_no_payout(traffic):
    net, conversion = traffic

    response = portal_client(net, "advertiser1").get(
        f"/portal/advertiser/conversions/{conversion.pk}/"
    )

    html = _text(response)
    assert f"<dt>Revenue</dt><dd>{REVENUE_SHOWN}</dd>" in html
    assert "Payout" not in html
    assert _found(HIDDEN_FROM_ADVERTISERS, html) == []


def test_postback_tester_shows_the_advertiser_the_conversion_without_its_payout():
    net = network()
    click = ClickFactory(link=net.link1)

    response = portal_client(net, "advertiser1").post(
        f"/portal/advertiser/partner-keys/{net.key1.pk}/test/",
        {"method": "GET", "click_id": click.click_id, "status": "approved", "payout": REVENUE},
    )

    html = _text(response)
    assert response.context["result"].conversion.payout == Decimal(PAYOUT)
    assert f"<dt>Revenue</dt><dd>{REVENUE_SHOWN}</dd>" in html
    assert _found(HIDDEN_FROM_ADVERTISERS, html) == []


def test_affiliate_conversions_list_and_csv_have_payout_and_no_revenue(traffic):
    net, _ = traffic
    client = portal_client(net, "affiliate1")

    listing = client.get("/portal/affiliate/conversions/")
    export = client.get("/portal/affiliate/conversions/?format=csv")

    html = _text(listing)
    assert PAYOUT_SHOWN in html
    assert _found(HIDDEN_FROM_AFFILIATES, html) == []
    text = _text(export)
    assert "revenue" not in text.splitlines()[0]
    assert _found(HIDDEN_FROM_AFFILIATES, text) == []
