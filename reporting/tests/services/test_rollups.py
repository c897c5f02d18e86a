"""The hourly rollups: refresh (incremental, following status changes), rebuild, the retention
horizon and the pruning of raw clicks, on PostgreSQL's statements and the portable path."""

import datetime as dt
import random
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from accounts.tests.factories import AffiliateFactory
from campaigns.models import ConversionEvent
from campaigns.tests.factories import CampaignFactory, TrackingLinkFactory
from reporting.models import HourlyDimStat, HourlyStat, StatsWatermark
from reporting.services.rollups import (
    SOURCE_CLICKS,
    SOURCE_HISTORY,
    clicks_prune,
    stats_rebuild,
    stats_refresh,
)
from reporting.tests.factories import (
    click_add,
    conversion_add,
    conversion_move,
    dim_rows,
    hourly_rows,
    landing_page_add,
    metrics,
    smart_link_add,
)
from tracker.models import Click, ConversionStatus

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 3, 12, 9, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)


def test_refresh_counts_clicks_and_conversions_per_hour_and_dimension():
    # given a campaign with two affiliates' links, clicks over two hours and one conversion
    campaign = CampaignFactory(currency="USD")
    link1 = TrackingLinkFactory(campaign=campaign)
    link2 = TrackingLinkFactory(campaign=campaign)
    first = click_add(link=link1, at=T0 + 5 * M, country="US", subs=("fb", "cr1", "", "", ""))
    click_add(
        link=link1, at=T0 + 20 * M, country="DE", subs=("fb", "", "", "", ""), is_unique=False
    )
    click_add(link=link2, at=T0 + 59 * M, country="US", blocked_reason="campaign_paused")
    click_add(link=link1, at=T0 + H + M, country="US", subs=("gg", "", "", "", ""))
    conversion_add(
        click=first,
        status=ConversionStatus.APPROVED,
        at=T0 + H + 30 * M,
        revenue=Decimal("5.0000"),
        payout=Decimal("4.0000"),
    )

    # when the rollups are refreshed
    result = stats_refresh(now=NOW)

    # then every hour, affiliate and dimension value is counted exactly
    assert result.skipped is False
    assert (result.click_hours, result.conversion_hours) == (2, 1)
    c, a1, a2 = campaign.pk, link1.affiliate_id, link2.affiliate_id
    assert hourly_rows() == [
        (T0, c, a1, "USD", *metrics(clicks=2, unique_clicks=1)),
        (T0, c, a2, "USD", *metrics(clicks=1, unique_clicks=1, blocked_clicks=1)),
        (
            T0 + H,
            c,
            a1,
            "USD",
            *metrics(clicks=1, unique_clicks=1, conversions_approved=1, revenue=5, payout=4),
        ),
    ]
    assert dim_rows("country") == [
        (T0, c, a1, "USD", "country", "DE", *metrics(clicks=1)),
        (T0, c, a1, "USD", "country", "US", *metrics(clicks=1, unique_clicks=1)),
        (T0, c, a2, "USD", "country", "US", *metrics(clicks=1, unique_clicks=1, blocked_clicks=1)),
        (
            T0 + H,
            c,
            a1,
            "USD",
            "country",
            "US",
            *metrics(clicks=1, unique_clicks=1, conversions_approved=1, revenue=5, payout=4),
        ),
    ]
    # a conversion counts with its CLICK's sub ids, in the hour it was created
    assert dim_rows("sub1") == [
        (T0, c, a1, "USD", "sub1", "fb", *metrics(clicks=2, unique_clicks=1)),
        (T0, c, a2, "USD", "sub1", "", *metrics(clicks=1, unique_clicks=1, blocked_clicks=1)),
        (T0 + H, c, a1, "USD", "sub1", "fb", *metrics(conversions_approved=1, revenue=5, payout=4)),
        (T0 + H, c, a1, "USD", "sub1", "gg", *metrics(clicks=1, unique_clicks=1)),
    ]
    assert dim_rows("sub2") == [
        (T0, c, a1, "USD", "sub2", "", *metrics(clicks=1)),
        (T0, c, a1, "USD", "sub2", "cr1", *metrics(clicks=1, unique_clicks=1)),
        (T0, c, a2, "USD", "sub2", "", *metrics(clicks=1, unique_clicks=1, blocked_clicks=1)),
        (T0 + H, c, a1, "USD", "sub2", "", *metrics(clicks=1, unique_clicks=1)),
        (
            T0 + H,
            c,
            a1,
            "USD",
            "sub2",
            "cr1",
            *metrics(conversions_approved=1, revenue=5, payout=4),
        ),
    ]
    # clicks have no event: they count in the event-less row, conversions under their event
    default = str(first.conversions.get().event_id)
    assert dim_rows("event") == [
        (T0, c, a1, "USD", "event", "", *metrics(clicks=2, unique_clicks=1)),
        (T0, c, a2, "USD", "event", "", *metrics(clicks=1, unique_clicks=1, blocked_clicks=1)),
        (T0 + H, c, a1, "USD", "event", "", *metrics(clicks=1, unique_clicks=1)),
        (
            T0 + H,
            c,
            a1,
            "USD",
            "event",
            default,
            *metrics(conversions_approved=1, revenue=5, payout=4),
        ),
    ]
    # device type, OS, browser, landing page, smart link: this traffic has none ("" rows)
    assert HourlyDimStat.objects.count() == 4 + 4 + 5 + 3 * 3 + 4 + 5 * 3
    assert dict(StatsWatermark.objects.values_list("source", "last_id")) == {
        SOURCE_CLICKS: Click.objects.order_by("-id").first().pk,
        SOURCE_HISTORY: first.conversions.get().history.get().pk,
    }


def test_refresh_follows_status_changes_of_old_conversions():
    # given an approved conversion, counted
    link = TrackingLinkFactory()
    click = click_add(link=link, at=T0)
    conversion = conversion_add(click=click, status=ConversionStatus.PENDING, at=T0 + M)
    stats_refresh(now=NOW)
    c, a = link.campaign_id, link.affiliate_id
    assert hourly_rows() == [
        (T0, c, a, "USD", *metrics(clicks=1, unique_clicks=1, conversions_pending=1))
    ]

    # when it is approved, then reversed two days later (each followed by a refresh)
    conversion_move(conversion=conversion, to_status=ConversionStatus.APPROVED, at=NOW)
    stats_refresh(now=NOW)
    approved = hourly_rows()
    conversion_move(conversion=conversion, to_status=ConversionStatus.REVERSED, at=NOW + H)
    result = stats_refresh(now=NOW + H)

    # then its hour (the conversion's creation hour) shows its current status each time
    assert approved == [
        (
            T0,
            c,
            a,
            "USD",
            *metrics(clicks=1, unique_clicks=1, conversions_approved=1, revenue=5, payout=4),
        )
    ]
    assert (result.click_hours, result.conversion_hours) == (0, 1)
    assert hourly_rows() == [
        (T0, c, a, "USD", *metrics(clicks=1, unique_clicks=1, conversions_reversed=1))
    ]


def test_refresh_with_nothing_new_recomputes_nothing():
    # given traffic already counted
    link = TrackingLinkFactory()
    click_add(link=link, at=T0)
    stats_refresh(now=NOW)
    before = (hourly_rows(), dim_rows())

    # when refreshed again
    result = stats_refresh(now=NOW)

    # then no hour was dirty and nothing changed
    assert (result.click_hours, result.conversion_hours) == (0, 0)
    assert (hourly_rows(), dim_rows()) == before


def _random_traffic(rng: random.Random, links, start: dt.datetime, hours: int, clicks: int) -> list:
    """Random clicks; some convert on the campaign's default event, some also on a `sale`."""
    made = []
    sales = {
        link.campaign_id: ConversionEvent.objects.get_or_create(
            campaign_id=link.campaign_id,
            code="sale",
            defaults={"name": "Sale", "payout_type": "revshare", "revshare_percent": 10},
        )[0]
        for link in links
    }
    pages = {
        link.campaign_id: [None, landing_page_add(campaign=link.campaign, name=f"LP {n}")]
        for n, link in enumerate(links)
    }
    for _ in range(clicks):
        link = rng.choice(links)
        at = start + dt.timedelta(seconds=rng.randrange(hours * 3600))
        click = click_add(
            link=link,
            at=at,
            country=rng.choice(["US", "GB", "", "DE"]),
            subs=(
                rng.choice(["fb", "gg", ""]),
                f"cr{rng.randrange(3)}",
                "",
                rng.choice(["ios", ""]),
                "",
            ),
            is_unique=rng.random() < 0.7,
            blocked_reason=rng.choice(["", "", "", "cap_reached"]),
            device_type=rng.choice(["desktop", "mobile", ""]),
            os=rng.choice(["iOS", "Windows", ""]),
            browser=rng.choice(["Safari", "Chrome"]),
            landing_page=rng.choice(pages[link.campaign_id]),
        )
        if rng.random() < 0.4:
            status = rng.choice(list(ConversionStatus.values))
            made.append(
                conversion_add(
                    click=click,
                    status=status,
                    at=at + dt.timedelta(minutes=rng.randrange(1, 180)),
                    revenue=Decimal(rng.randrange(0, 100_000)).scaleb(-4),
                    payout=Decimal(rng.randrange(0, 50_000)).scaleb(-4),
                )
            )
            if rng.random() < 0.5:
                made.append(
                    conversion_add(
                        click=click,
                        status=rng.choice(list(ConversionStatus.values)),
                        at=at + dt.timedelta(minutes=rng.randrange(1, 240)),
                        revenue=Decimal(rng.randrange(0, 100_000)).scaleb(-4),
                        payout=Decimal(rng.randrange(0, 50_000)).scaleb(-4),
                        event=sales[link.campaign_id],
                    )
                )
    return made


def test_incremental_refresh_and_rebuild_agree_exactly():
    # given random traffic on two currencies, refreshed in several rounds while conversions of
    # earlier rounds keep changing status
    rng = random.Random(7)
    usd, eur = CampaignFactory(currency="USD"), CampaignFactory(currency="EUR")
    affiliates = [AffiliateFactory(), AffiliateFactory()]
    links = [
        TrackingLinkFactory(campaign=campaign, affiliate=affiliate)
        for campaign in (usd, eur)
        for affiliate in affiliates
    ]
    conversions = []
    for round_number in range(4):
        conversions += _random_traffic(rng, links, T0 + round_number * 5 * H, 8, 60)
        for conversion in rng.sample(conversions, k=min(10, len(conversions))):
            moves = {
                "pending": ["approved", "rejected"],
                "approved": ["reversed", "rejected"],
                "rejected": ["approved"],
                "reversed": [],
            }[conversion.status]
            if moves:
                conversion_move(conversion=conversion, to_status=rng.choice(moves), at=NOW)
        stats_refresh(now=NOW)
    incremental = (hourly_rows(), dim_rows())

    # when everything is rebuilt from raw data (after wiping the rollups)
    HourlyStat.objects.all().delete()
    HourlyDimStat.objects.all().delete()
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command(
            "rollups_rebuild",
            "--from",
            "2026-03-09",
            "--to",
            "2026-03-12",
            stdout=out,
            stderr=StringIO(),
        )

    # then both ways give exactly the same rows, and those match the raw data
    assert (hourly_rows(), dim_rows()) == incremental
    assert "Rebuilt 96 hours" in out.getvalue()
    totals = HourlyStat.objects.values_list("clicks", flat=True)
    assert sum(totals) == Click.objects.count() == 240
    for dimension in ("country", "sub1", "sub2", "sub3", "sub4", "sub5", "event"):
        assert (
            sum(HourlyDimStat.objects.filter(dimension=dimension).values_list("clicks", flat=True))
            == 240
        )
    approved = [c for c in conversions if c.status == ConversionStatus.APPROVED]
    by_event: dict[str, tuple[int, Decimal]] = {}
    for conversion in approved:
        count, payout = by_event.get(str(conversion.event_id), (0, Decimal(0)))
        by_event[str(conversion.event_id)] = (count + 1, payout + conversion.payout)
    event_rows: dict[str, tuple[int, Decimal]] = {}
    for value, count, payout in HourlyDimStat.objects.filter(dimension="event").values_list(
        "value", "conversions_approved", "payout"
    ):
        if count:
            before = event_rows.get(value, (0, Decimal(0)))
            event_rows[value] = (before[0] + count, before[1] + payout)
    assert event_rows == by_event
    assert len(by_event) == 4  # default and sale, on each campaign
    by_currency = {}
    for conversion in approved:
        by_currency.setdefault(conversion.currency, Decimal(0))
        by_currency[conversion.currency] += conversion.revenue
    for currency, revenue in by_currency.items():
        assert (
            sum(HourlyStat.objects.filter(currency=currency).values_list("revenue", flat=True))
            == revenue
        )


def test_rebuild_of_a_period_leaves_other_hours_alone():
    # given counted traffic on two days, then a click deleted by hand on each day
    link = TrackingLinkFactory()
    day1 = [click_add(link=link, at=T0), click_add(link=link, at=T0 + M)]
    day2 = [click_add(link=link, at=T0 + 24 * H), click_add(link=link, at=T0 + 24 * H + M)]
    stats_refresh(now=NOW)
    Click.objects.filter(pk__in=[day1[0].pk, day2[0].pk]).delete()

    # when only the first day is rebuilt
    result = stats_rebuild(start=T0 - 10 * H, end=T0 + 14 * H, now=NOW)

    # then the first day is repaired and the second one untouched
    assert (result.hours, result.click_hours) == (24, 24)
    c, a = link.campaign_id, link.affiliate_id
    assert hourly_rows() == [
        (T0, c, a, "USD", *metrics(clicks=1, unique_clicks=1)),
        (T0 + 24 * H, c, a, "USD", *metrics(clicks=2, unique_clicks=2)),
    ]


def test_refresh_skips_hours_before_the_retention_horizon_for_clicks(settings):
    # given clicks counted, then pruned after the retention period (no conversion on them)
    settings.CLICK_RETENTION_DAYS = 40
    link = TrackingLinkFactory(campaign__attribution_window_hours=24)
    old = [click_add(link=link, at=T0), click_add(link=link, at=T0 + M)]
    converted = click_add(link=link, at=T0 + 2 * M)
    conversion = conversion_add(click=converted, status=ConversionStatus.PENDING, at=T0 + 3 * M)
    stats_refresh(now=NOW)
    later = NOW + dt.timedelta(days=45)

    # when the pruning runs 45 days later and then a conversion of that hour changes status
    pruned = clicks_prune(now=later)
    conversion_move(conversion=conversion, to_status=ConversionStatus.APPROVED, at=later)
    stats_refresh(now=later)
    stats_rebuild(start=T0, end=T0 + H, now=later)

    # then the clicks without conversions are gone but still counted, and the conversion moved
    assert pruned == 2
    assert list(Click.objects.values_list("pk", flat=True)) == [converted.pk]
    assert not Click.objects.filter(pk__in=[click.pk for click in old]).exists()
    c, a = link.campaign_id, link.affiliate_id
    assert hourly_rows() == [
        (
            T0,
            c,
            a,
            "USD",
            *metrics(clicks=3, unique_clicks=3, conversions_approved=1, revenue=5, payout=4),
        )
    ]
    assert clicks_prune(now=later) == 0


def test_prune_keeps_clicks_the_rollups_have_not_counted(settings):
    # given old clicks never refreshed into the rollups
    settings.CLICK_RETENTION_DAYS = 40
    link = TrackingLinkFactory(campaign__attribution_window_hours=24)
    click_add(link=link, at=T0)

    # when the pruning runs long after
    pruned = clicks_prune(now=NOW + dt.timedelta(days=90))

    # then nothing is deleted: the click is not counted yet
    assert pruned == 0
    assert Click.objects.count() == 1


def test_prune_never_deletes_clicks_that_can_still_convert(settings):
    # given a campaign with a 60-day attribution window and a 10-day retention setting
    settings.CLICK_RETENTION_DAYS = 10
    link = TrackingLinkFactory(campaign__attribution_window_hours=60 * 24)
    click_add(link=link, at=T0)
    stats_refresh(now=NOW)

    # when the pruning runs 30 days later, then 62 days later
    first = clicks_prune(now=T0 + dt.timedelta(days=30))
    second = clicks_prune(now=T0 + dt.timedelta(days=62))

    # then the click survives the attribution window (plus a day) and goes after it
    assert (first, second) == (0, 1)


def test_the_sql_and_portable_paths_agree():
    # given random traffic (PostgreSQL normally recomputes with its own statements)
    rng = random.Random(11)
    links = [TrackingLinkFactory(campaign__currency=currency) for currency in ("USD", "EUR")]
    for conversion in _random_traffic(rng, links, T0, 30, 80)[::3]:
        conversion_move(conversion=conversion, to_status=ConversionStatus.REJECTED, at=NOW)

    # when the same period is rebuilt through each path
    stats_rebuild(start=T0 - H, end=T0 + 40 * H, now=NOW, portable=False)
    with_sql = (hourly_rows(), dim_rows())
    HourlyStat.objects.all().delete()
    HourlyDimStat.objects.all().delete()
    stats_rebuild(start=T0 - H, end=T0 + 40 * H, now=NOW, portable=True)

    # then the rows are identical
    assert (hourly_rows(), dim_rows()) == with_sql
    assert sum(row[4] for row in with_sql[0]) == 80


def test_refresh_counts_clicks_and_conversions_by_device_os_browser_landing_page_and_smart_link():
    # given clicks with their device data, landing page and smart link, two of them converted
    campaign = CampaignFactory(currency="USD")
    link = TrackingLinkFactory(campaign=campaign)
    page_a = landing_page_add(campaign=campaign, name="Quiz")
    page_b = landing_page_add(campaign=campaign, name="Short form")
    smart = smart_link_add(affiliate_id=link.affiliate_id, name="All offers")
    iphone = {"device_type": "mobile", "os": "iOS", "browser": "Safari"}
    first = click_add(link=link, at=T0 + M, landing_page=page_a, smart_link=smart, **iphone)
    click_add(link=link, at=T0 + 2 * M, landing_page=page_a, is_unique=False, **iphone)
    second = click_add(
        link=link,
        at=T0 + 3 * M,
        landing_page=page_b,
        device_type="desktop",
        os="Windows",
        browser="Chrome",
    )
    click_add(link=link, at=T0 + 4 * M, device_type="bot", blocked_reason="fraud")
    conversion_add(click=first, status=ConversionStatus.APPROVED, at=T0 + H + M)
    conversion_add(
        click=second,
        status=ConversionStatus.PENDING,
        at=T0 + H + 2 * M,
        revenue=Decimal("7.5000"),
        payout=Decimal("6.0000"),
    )

    # when the rollups are refreshed
    stats_refresh(now=NOW)

    # then each dimension counts every click once, conversions with their click's values
    c, a = campaign.pk, link.affiliate_id

    def row(hour, dimension, value, **values):
        return (hour, c, a, "USD", dimension, value, *metrics(**values))

    approved = {"conversions_approved": 1, "revenue": 5, "payout": 4}
    assert dim_rows("device_type") == [
        row(T0, "device_type", "bot", clicks=1, unique_clicks=1, blocked_clicks=1),
        row(T0, "device_type", "desktop", clicks=1, unique_clicks=1),
        row(T0, "device_type", "mobile", clicks=2, unique_clicks=1),
        row(T0 + H, "device_type", "desktop", conversions_pending=1),
        row(T0 + H, "device_type", "mobile", **approved),
    ]
    assert dim_rows("os") == [
        row(T0, "os", "", clicks=1, unique_clicks=1, blocked_clicks=1),
        row(T0, "os", "Windows", clicks=1, unique_clicks=1),
        row(T0, "os", "iOS", clicks=2, unique_clicks=1),
        row(T0 + H, "os", "Windows", conversions_pending=1),
        row(T0 + H, "os", "iOS", **approved),
    ]
    assert dim_rows("browser") == [
        row(T0, "browser", "", clicks=1, unique_clicks=1, blocked_clicks=1),
        row(T0, "browser", "Chrome", clicks=1, unique_clicks=1),
        row(T0, "browser", "Safari", clicks=2, unique_clicks=1),
        row(T0 + H, "browser", "Chrome", conversions_pending=1),
        row(T0 + H, "browser", "Safari", **approved),
    ]
    assert dim_rows("landing_page") == sorted(
        [
            row(T0, "landing_page", "", clicks=1, unique_clicks=1, blocked_clicks=1),
            row(T0, "landing_page", str(page_a.pk), clicks=2, unique_clicks=1),
            row(T0, "landing_page", str(page_b.pk), clicks=1, unique_clicks=1),
            row(T0 + H, "landing_page", str(page_a.pk), **approved),
            row(T0 + H, "landing_page", str(page_b.pk), conversions_pending=1),
        ]
    )
    assert dim_rows("smart_link") == [
        row(T0, "smart_link", "", clicks=3, unique_clicks=2, blocked_clicks=1),
        row(T0, "smart_link", str(smart.pk), clicks=1, unique_clicks=1),
        row(T0 + H, "smart_link", "", conversions_pending=1),
        row(T0 + H, "smart_link", str(smart.pk), **approved),
    ]
    # and the portable path writes the same rows
    with_sql = dim_rows()
    HourlyStat.objects.all().delete()
    HourlyDimStat.objects.all().delete()
    stats_rebuild(start=T0, end=T0 + 2 * H, now=NOW, portable=True)
    assert dim_rows() == with_sql
