"""The report page of both portals: presets and custom days, one breakdown, names for ids, the
viewer's money only, and a CSV identical to the reports API's."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from campaigns.models import LandingPage, TrackingLink
from campaigns.tests.factories import network
from portal.tests.factories import portal_client
from reporting.services.rollups import stats_refresh
from tracker.tests.factories import ClickFactory, postback

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 12, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def net():
    """Campaign 1 (advertiser 1): affiliate 1 with two mobile clicks on the quiz page, one
    converting (10.00 revenue, 8.00 payout); affiliate 2 (given a link) with a desktop click."""
    with time_machine.travel(NOW - dt.timedelta(days=1), tick=False):
        net = network()
        quiz = LandingPage.objects.create(
            campaign=net.campaign1, name="Quiz", url="https://q.example"
        )
        ClickFactory(link=net.link1, device_type="mobile", landing_page=quiz)
        converted = ClickFactory(link=net.link1, device_type="mobile", landing_page=quiz)
        postback(net.key1, click_id=converted.click_id, payout="10.00")
        other = TrackingLink.objects.create(
            campaign=net.campaign1, affiliate=net.affiliate2, token="aff2-on-campaign1"
        )
        ClickFactory(link=other, device_type="desktop")
        stats_refresh()
    with time_machine.travel(NOW, tick=False):
        yield net


def _rows(response) -> list[list]:
    return [[cell.value for cell in row] for row in response.context["report"].rows]


def test_the_advertiser_breaks_down_by_affiliate_with_names_and_revenue_only(net):
    response = portal_client(net, "advertiser1").get(
        "/portal/advertiser/reports/", {"preset": "7", "group_by": "affiliate"}
    )

    report = response.context["report"]
    assert (report.date_from, report.date_to) == (dt.date(2026, 3, 6), dt.date(2026, 3, 12))
    assert [label for label, _ in report.headings] == [
        "Affiliate",
        "Currency",
        "Clicks",
        "Unique clicks",
        "Conversions",
        "Pending",
        "Approved",
        "Rejected",
        "Conversion rate",
        "Approved revenue",
    ]
    assert _rows(response) == [
        [net.affiliate1.company, "USD", 2, 2, 1, 0, 1, 0, Decimal("50.00"), Decimal("10.0000")],
        [net.affiliate2.company, "USD", 1, 1, 0, 0, 0, 0, Decimal("0.00"), Decimal("0.0000")],
    ]
    html = response.content.decode()
    assert f'<th scope="row">{net.affiliate1.company}</th>' in html
    assert "$10.00" in html
    assert "$8.00" not in html


def test_the_affiliate_breaks_down_by_landing_page_and_device_without_revenue(net):
    client = portal_client(net, "affiliate1")

    by_page = client.get("/portal/affiliate/reports/", {"group_by": "landing_page"})
    by_device = client.get("/portal/affiliate/reports/", {"group_by": "device_type"})
    by_affiliate = client.get("/portal/affiliate/reports/", {"group_by": "affiliate"})

    assert _rows(by_page) == [
        ["Quiz", "USD", 2, 2, 1, 0, 1, 0, Decimal("50.00"), Decimal("8.0000"), Decimal("4.0000")]
    ]
    assert [heading for heading, _ in by_page.context["report"].headings][-2:] == [
        "Approved payout",
        "EPC",
    ]
    assert [row[0] for row in _rows(by_device)] == ["mobile"]
    assert "$10.00" not in by_page.content.decode()
    # an affiliate's traffic is all its own: no breakdown by affiliate (the default instead)
    assert "group_by" in by_affiliate.context["form"].errors
    assert by_affiliate.context["report"] is None


def test_custom_dates_and_the_csv_match_the_api(net):
    client = portal_client(net, "advertiser1")
    api = net.client_as("advertiser1")
    days = {"preset": "custom", "date_from": "2026-03-11", "date_to": "2026-03-11"}

    page = client.get("/portal/advertiser/reports/", {**days, "group_by": "device_type"})
    export = client.get(
        "/portal/advertiser/reports/", {**days, "group_by": "device_type", "format": "csv"}
    )
    from_api = api.get(
        "/api/reports",
        {
            "group_by": "device_type",
            "date_from": "2026-03-11",
            "date_to": "2026-03-11",
            "format": "csv",
        },
    )
    missing = client.get("/portal/advertiser/reports/", {"preset": "custom"})
    too_long = client.get(
        "/portal/advertiser/reports/",
        {"preset": "custom", "date_from": "2020-01-01", "date_to": "2026-03-11"},
    )

    assert [row[:3] for row in _rows(page)] == [["desktop", "USD", 1], ["mobile", "USD", 2]]
    assert b"".join(export.streaming_content) == b"".join(from_api.streaming_content)
    assert set(missing.context["form"].errors) == {"date_from", "date_to"}
    assert "A report covers at most 366 days." in too_long.content.decode()
