"""`manage.py rollups_rebuild`: it rebuilds the rollups of the days it is given and reports what it
did, with a progress bar on stderr."""

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from campaigns.tests.factories import TrackingLinkFactory
from reporting.tests.factories import click_add, hourly_rows, metrics

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 3, 12, 9, 0, tzinfo=dt.UTC)


def test_rebuild_command_prints_progress_and_summary():
    # given some traffic
    link = TrackingLinkFactory()
    click_add(link=link, at=T0)

    # when the command rebuilds two days
    out, err = StringIO(), StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command(
            "rollups_rebuild", "--from", "2026-03-10", "--to", "2026-03-11", stdout=out, stderr=err
        )

    # then it reports what it did, with a progress bar on stderr
    assert out.getvalue() == (
        "Rebuilt 48 hours (48 with click counts) from 2026-03-10T00:00:00+00:00 "
        "to 2026-03-12T00:00:00+00:00.\n"
    )
    assert "48/48" in err.getvalue()
    assert hourly_rows() == [
        (T0, link.campaign_id, link.affiliate_id, "USD", *metrics(clicks=1, unique_clicks=1))
    ]
