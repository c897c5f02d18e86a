import datetime as dt
import threading

import pytest
from django.db import connection, transaction

from campaigns.tests.factories import TrackingLinkFactory
from reporting.models import HourlyStat, StatsWatermark
from reporting.services.rollups import SOURCE_CLICKS, stats_refresh
from reporting.tests.factories import click_add

T0 = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 3, 12, 9, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


def clicks_by_hour() -> dict[dt.datetime, int]:
    return dict(HourlyStat.objects.values_list("hour", "clicks"))


@pytest.mark.django_db(transaction=True)
def test_a_click_committed_after_a_later_one_is_not_missed():
    # given a counted click, then a click whose transaction stays open while a later click
    # (higher id) commits and a refresh runs
    link = TrackingLinkFactory()
    first = click_add(link=link, at=T0)
    stats_refresh(now=NOW)
    inserted, release = threading.Event(), threading.Event()
    slow_ids: list[int] = []

    def slow_insert() -> None:
        try:
            with transaction.atomic():
                slow_ids.append(click_add(link=link, at=T0 + 2 * H).pk)
                inserted.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=slow_insert)
    thread.start()
    assert inserted.wait(timeout=30)
    later = click_add(link=link, at=T0 + 3 * H)
    assert later.pk == slow_ids[0] + 1

    # when a refresh runs before the slow click commits, and another one after
    during = stats_refresh(now=NOW)
    counted_during = clicks_by_hour()
    release.set()
    thread.join(timeout=30)
    after = stats_refresh(now=NOW + dt.timedelta(seconds=15))

    # then the first refresh counts the later click but keeps its watermark before the gap,
    # and the second one counts the slow click too
    assert during.clicks_watermark == first.pk
    assert counted_during == {T0: 1, T0 + 3 * H: 1}
    assert after.clicks_watermark == later.pk
    assert clicks_by_hour() == {T0: 1, T0 + 2 * H: 1, T0 + 3 * H: 1}


@pytest.mark.django_db
def test_an_id_that_never_commits_is_skipped_after_the_grace_period(settings):
    # given a counted click, then an insert rolled back (its id is used up), then a click
    settings.STATS_GAP_GRACE_SECONDS = 300
    link = TrackingLinkFactory()
    first = click_add(link=link, at=T0)
    stats_refresh(now=NOW)
    savepoint = transaction.savepoint()
    click_add(link=link, at=T0)
    transaction.savepoint_rollback(savepoint)
    last = click_add(link=link, at=T0 + H)

    # when refreshes run while the grace period passes
    watermarks = [
        stats_refresh(now=NOW + dt.timedelta(seconds=seconds)).clicks_watermark
        for seconds in (0, 299, 300)
    ]

    # then the click after the gap is counted at once, and the watermark passes the gap once
    # the grace period is over
    assert watermarks == [first.pk, first.pk, last.pk]
    assert clicks_by_hour() == {T0: 1, T0 + H: 1}
    assert StatsWatermark.objects.get(source=SOURCE_CLICKS).gap_since is None


@pytest.mark.django_db(transaction=True)
def test_a_refresh_returns_at_once_while_another_one_runs():
    # given a refresh holding the watermark lock in another connection
    link = TrackingLinkFactory()
    click_add(link=link, at=T0)
    stats_refresh(now=NOW)
    locked, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        try:
            with transaction.atomic():
                list(StatsWatermark.objects.select_for_update())
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=hold_lock)
    thread.start()
    assert locked.wait(timeout=30)

    # when a second refresh starts
    try:
        result = stats_refresh(now=NOW)
    finally:
        release.set()
        thread.join(timeout=30)

    # then it skips instead of waiting
    assert result.skipped is True
