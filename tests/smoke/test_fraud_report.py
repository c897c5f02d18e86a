"""The fraud report on SQLite: signals unnested with json_each, money summed per currency."""

import datetime as dt
from decimal import Decimal

import pytest

from accounts.tests.factories import AdminUserFactory
from campaigns.tests.factories import TrackingLinkFactory
from reporting.services.fraud import FraudReportQuery, fraud_report
from reporting.tests.factories import click_add, conversion_add
from tracker.models import ConversionStatus

pytestmark = [pytest.mark.smoke, pytest.mark.django_db]

DAY = dt.datetime(2026, 3, 10, tzinfo=dt.UTC)


def test_signals_are_counted_per_signal_with_the_money_at_stake():
    # given a two-signal click that converted (flagged too_fast) and a bot click
    link = TrackingLinkFactory(campaign__currency="USD")
    flagged = click_add(link=link, at=DAY, fraud_signals=["datacenter", "click_velocity"])
    click_add(link=link, at=DAY, fraud_signals=["bot"], blocked_reason="fraud")
    conversion = conversion_add(
        click=flagged,
        status=ConversionStatus.APPROVED,
        at=DAY,
        revenue=Decimal("5.1000"),
        payout=Decimal("4.0500"),
    )
    conversion.fraud_signals = ["too_fast"]
    conversion.save(update_fields=["fraud_signals"])

    # when the admin reads the report by signal, then by campaign
    query = FraudReportQuery(group_by=("signal",), date_from=DAY.date(), date_to=DAY.date())
    admin = AdminUserFactory()
    by_signal = fraud_report(viewer=admin, query=query)
    by_campaign = fraud_report(
        viewer=admin,
        query=FraudReportQuery(group_by=("campaign",), date_from=DAY.date(), date_to=DAY.date()),
    )
    only_bot = fraud_report(
        viewer=admin,
        query=FraudReportQuery(
            group_by=("campaign",), date_from=DAY.date(), date_to=DAY.date(), signals=("bot",)
        ),
    )

    # then each signal counts, the money is exact, and without the signal group a row is once
    assert [
        (row["signal"], row["clicks"], row["blocked_clicks"], row["conversions"], row["payout"])
        for row in by_signal.rows
    ] == [
        ("bot", 1, 1, 0, Decimal("0.0000")),
        ("click_velocity", 1, 0, 0, Decimal("0.0000")),
        ("datacenter", 1, 0, 0, Decimal("0.0000")),
        ("too_fast", 0, 0, 1, Decimal("4.0500")),
    ]
    assert [(row["clicks"], row["revenue"]) for row in by_campaign.rows] == [(2, Decimal("5.1000"))]
    assert [(row["clicks"], row["conversions"]) for row in only_bot.rows] == [(1, 0)]
