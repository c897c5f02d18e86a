"""The migration that adds the device type, OS, browser, landing page and smart link dimensions
fills them for the hours already counted (when no click carried them yet)."""

import datetime as dt
import importlib
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection

from campaigns.tests.factories import TrackingLinkFactory
from reporting.models import HourlyDimStat
from reporting.services.rollups import stats_refresh
from reporting.tests.factories import click_add, conversion_add, conversion_move, dim_rows
from tracker.models import ConversionStatus

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 3, 12, 9, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
NEW = ("device_type", "os", "browser", "landing_page", "smart_link")

migration = importlib.import_module("reporting.migrations.0004_traffic_dimensions")


def test_the_migration_fills_the_new_dimensions_as_the_refresh_counts_them():
    # given counted traffic of two campaigns over three hours, then the new rows gone
    links = [TrackingLinkFactory(campaign__currency=currency) for currency in ("USD", "EUR")]
    for n in range(12):
        link = links[n % 2]
        click = click_add(
            link=link,
            at=T0 + (n % 3) * H,
            is_unique=n % 4 != 0,
            blocked_reason="cap_reached" if n == 5 else "",
        )
        if n % 3 == 0:
            conversion = conversion_add(
                click=click,
                status=ConversionStatus.PENDING,
                at=T0 + (n % 3 + 1) * H,
                revenue=Decimal(n),
                payout=Decimal(n) / 2,
            )
            if n % 2:
                conversion_move(conversion=conversion, to_status=ConversionStatus.APPROVED, at=NOW)
    stats_refresh(now=NOW)
    counted = {dimension: dim_rows(dimension) for dimension in NEW}
    HourlyDimStat.objects.filter(dimension__in=NEW).delete()

    # when the migration's data step runs
    migration._fill(None, SimpleNamespace(connection=connection))

    # then it wrote exactly the rows the refresh writes
    assert {dimension: dim_rows(dimension) for dimension in NEW} == counted
    assert [len(rows) for rows in counted.values()] == [len(counted["os"])] * 5
    assert {row[5] for rows in counted.values() for row in rows} == {""}
