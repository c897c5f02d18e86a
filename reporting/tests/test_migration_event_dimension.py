"""The migration that adds the `event` dimension fills it for the hours already counted."""

import datetime as dt
import importlib
import random
from types import SimpleNamespace

import pytest
from django.db import connection

from campaigns.tests.factories import TrackingLinkFactory
from reporting.models import HourlyDimStat
from reporting.services.rollups import stats_refresh
from reporting.tests.factories import dim_rows
from reporting.tests.services.test_rollups import _random_traffic

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 3, 12, 9, 0, tzinfo=dt.UTC)

migration = importlib.import_module("reporting.migrations.0003_event_dimension")


def test_the_migration_fills_the_event_rows_as_the_refresh_counts_them():
    # given counted traffic on two events, then the event rows gone (as before the migration)
    links = [TrackingLinkFactory(campaign__currency=currency) for currency in ("USD", "EUR")]
    _random_traffic(random.Random(5), links, T0, 20, 60)
    stats_refresh(now=NOW)
    counted = dim_rows("event")
    HourlyDimStat.objects.filter(dimension="event").delete()

    # when the migration's data step runs
    migration._fill(None, SimpleNamespace(connection=connection))

    # then it wrote exactly the rows the refresh writes
    assert dim_rows("event") == counted
    assert len({row[5] for row in counted}) == 5  # "", and default and sale of each campaign
