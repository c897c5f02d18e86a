import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import AdminUserFactory
from campaigns.tests.factories import TrackingLinkFactory
from reporting import apis
from reporting.services.reports import ReportQuery, campaign_analytics, report_build
from reporting.services.rollups import stats_refresh
from reporting.tests.factories import click_add, conversion_add
from tracker.models import ConversionStatus

pytestmark = pytest.mark.django_db

D = dt.datetime(2026, 3, 10, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 3, 12, 9, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)


def test_reports_and_dashboards_never_read_raw_clicks():
    # given counted traffic
    admin = AdminUserFactory()
    link = TrackingLinkFactory()
    click = click_add(link=link, at=D + H, subs=("fb", "", "", "", ""))
    conversion_add(click=click, status=ConversionStatus.APPROVED, at=D + 2 * H)
    stats_refresh(now=NOW)

    # when reports of every shape and the dashboard are built and read
    with CaptureQueriesContext(connection) as queries:
        for group_by in (("day",), ("hour", "campaign"), ("affiliate", "sub1"), ("country",)):
            report = report_build(
                viewer=admin,
                query=ReportQuery(
                    group_by=group_by, date_from=D.date(), date_to=D.date(), tz="Europe/Paris"
                ),
                now=NOW,
            )
            assert len(list(report.shaped())) == 2 if "hour" in group_by else 1
            assert report.totals()[0]["clicks"] == 1
        campaign_analytics(viewer=admin, campaign=link.campaign, now=NOW)

    # then no query touched the click table
    assert queries.captured_queries
    assert not [query for query in queries.captured_queries if "tracker_click" in query["sql"]]


def test_days_in_a_half_hour_zone_start_at_the_first_utc_hour_after_midnight():
    # given clicks at 23:40 and 00:10 Kolkata time (UTC+05:30): both in the 18:00 UTC hour
    admin = AdminUserFactory()
    link = TrackingLinkFactory()
    click_add(link=link, at=D + 18 * H + 10 * M)
    click_add(link=link, at=D + 18 * H + 40 * M)
    click_add(link=link, at=D + 19 * H + 5 * M)
    stats_refresh(now=NOW)

    # when the report by day covers the 10th and the 11th in Kolkata
    report = report_build(
        viewer=admin,
        query=ReportQuery(
            group_by=("day",),
            date_from=dt.date(2026, 3, 10),
            date_to=dt.date(2026, 3, 11),
            tz="Asia/Kolkata",
        ),
        now=NOW,
    )

    # then the 18:00 UTC hour (23:30-00:30 local) counts on the 10th, the next one on the 11th
    assert [(row["date"], row["clicks"]) for row in report.shaped()] == [
        (dt.date(2026, 3, 10), 2),
        (dt.date(2026, 3, 11), 1),
    ]
    assert (report.period.start, report.period.end) == (
        dt.datetime(2026, 3, 9, 18, 30, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 11, 18, 30, tzinfo=dt.UTC),
    )


def test_a_status_filter_without_approved_shows_no_money():
    # given an approved and a pending conversion
    admin = AdminUserFactory()
    link = TrackingLinkFactory()
    for status in (ConversionStatus.APPROVED, ConversionStatus.PENDING):
        conversion_add(click=click_add(link=link, at=D + H), status=status, at=D + H)
    stats_refresh(now=NOW)

    # when only pending conversions are asked for
    report = report_build(
        viewer=admin,
        query=ReportQuery(
            group_by=("day",), date_from=D.date(), date_to=D.date(), statuses=("pending",)
        ),
        now=NOW,
    )

    # then one conversion counts, and approved money is left out
    assert list(report.shaped()) == [
        {
            "date": D.date(),
            "currency": "USD",
            "clicks": 2,
            "unique_clicks": 2,
            "blocked_clicks": 0,
            "conversions": 1,
            "conversions_pending": 1,
            "conversions_approved": 0,
            "conversions_rejected": 0,
            "conversions_reversed": 0,
            "conversion_rate": Decimal("50.00"),
            "revenue": Decimal("0.0000"),
            "payout": Decimal("0.0000"),
            "margin": Decimal("0.0000"),
            "epc": Decimal("0.0000"),
        }
    ]


def test_a_report_larger_than_one_query_pages_with_a_count_and_a_totals_query(
    api_client, monkeypatch
):
    # given three days of traffic and a report too large to be held in memory at once
    monkeypatch.setattr(apis, "INLINE_ROWS", 2)
    admin = AdminUserFactory()
    link = TrackingLinkFactory()
    for day in range(3):
        click_add(link=link, at=D + day * 24 * H)
    stats_refresh(now=NOW)
    api_client.force_authenticate(admin)

    # when the second page of one row is read
    response = api_client.get(
        "/api/reports?group_by=day&date_from=2026-03-10&date_to=2026-03-12&page_size=1&page=2"
    )

    # then the page, the count and the totals are those of the whole report
    body = response.json()
    assert (body["count"], [row["date"] for row in body["results"]]) == (3, ["2026-03-11"])
    assert [(row["currency"], row["clicks"]) for row in body["totals"]] == [("USD", 3)]
