"""`GET /api/reports?currency=reporting`: every amount in the network's reporting currency, each
UTC day's money converted at that day's rate and the days added up; a missing rate for money is a
400 `no_exchange_rate` naming the currency and days."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from accounts.tests.factories import AdminUserFactory, AdvertiserFactory, AffiliateFactory
from campaigns.tests.factories import CampaignFactory, TrackingLinkFactory
from payouts.exchange_rates import exchange_rate_set
from payouts.models import ExchangeRate
from reporting.services.rollups import stats_refresh
from reporting.tests.factories import click_add, conversion_add
from tracker.models import ConversionStatus

pytestmark = pytest.mark.django_db

DAY1 = dt.datetime(2026, 3, 10, tzinfo=dt.UTC)
DAY2 = DAY1 + dt.timedelta(days=1)
DAY3 = DAY2 + dt.timedelta(days=1)
NOW = dt.datetime(2026, 3, 14, 9, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
PERIOD = "date_from=2026-03-10&date_to=2026-03-12"


def _rate(on: dt.datetime, pair: str, rate: str) -> None:
    from_currency, to_currency = pair.split("/")
    exchange_rate_set(
        on=on.date(), from_currency=from_currency, to_currency=to_currency, rate=Decimal(rate)
    )


@pytest.fixture
def world(settings):
    """A USD and an EUR campaign with approved sales on two days (EUR/USD differs per day) and
    one day of EUR clicks only, which has no rate."""
    settings.REPORTING_CURRENCY = "USD"
    settings.EXCHANGE_RATE_MAX_AGE_DAYS = 0
    advertiser, affiliate = AdvertiserFactory(), AffiliateFactory()
    usd = CampaignFactory(advertiser=advertiser, name="US", currency="USD")
    eur = CampaignFactory(advertiser=advertiser, name="EU", currency="EUR")
    usd_link = TrackingLinkFactory(campaign=usd, affiliate=affiliate)
    eur_link = TrackingLinkFactory(campaign=eur, affiliate=affiliate)
    for link, at, revenue, payout in [
        (usd_link, DAY1 + 9 * H, "5.0000", "4.0000"),
        (eur_link, DAY1 + 10 * H, "10.0000", "8.0000"),
        # 23:30 UTC on day 1 is already day 2 in Paris: the UTC day sets its rate.
        (eur_link, DAY1 + 23 * H, "1.2345", "0.9876"),
        (eur_link, DAY2 + 10 * H, "20.0000", "15.0000"),
    ]:
        conversion_add(
            click=click_add(link=link, at=at),
            status=ConversionStatus.APPROVED,
            at=at + dt.timedelta(minutes=30),
            revenue=Decimal(revenue),
            payout=Decimal(payout),
        )
    click_add(link=eur_link, at=DAY3 + 8 * H)
    _rate(DAY1, "EUR/USD", "1.08437")
    _rate(DAY2, "USD/EUR", "0.8")  # the inverse gives 1.25
    with time_machine.travel(NOW, tick=False):
        stats_refresh(now=NOW)
    return {"admin": AdminUserFactory(), "usd": usd, "eur": eur, "advertiser": advertiser}


# EUR money per UTC day, converted half-up to 4 places, then added up. Day 2 is 20.0000 revenue
# and 15.0000 payout x 1.25 = 25.0000 and 18.7500; day 1:
EUR_REVENUE_DAY1 = Decimal("12.1824")  # (10.0000 + 1.2345) x 1.08437 = 12.18235... -> 12.1824
EUR_PAYOUT_DAY1 = Decimal("9.7459")  # (8.0000 + 0.9876) x 1.08437 = 9.74588... -> 9.7459


def test_the_money_of_each_utc_day_is_converted_at_that_days_rate(api_client, world):
    api_client.force_authenticate(world["admin"])

    response = api_client.get(f"/api/reports?group_by=campaign&currency=reporting&{PERIOD}")

    assert response.status_code == 200, response.json()
    body = response.json()
    by_campaign = {
        row["campaign_name"]: (
            row["currency"],
            row["clicks"],
            row["conversions"],
            row["revenue"],
            row["payout"],
            row["margin"],
        )
        for row in body["results"]
    }
    eur_revenue = EUR_REVENUE_DAY1 + Decimal("25.0000")
    eur_payout = EUR_PAYOUT_DAY1 + Decimal("18.7500")
    assert by_campaign == {
        "US": ("USD", 1, 1, "5.0000", "4.0000", "1.0000"),
        "EU": (
            "USD",
            4,
            3,
            f"{eur_revenue}",
            f"{eur_payout}",
            f"{eur_revenue - eur_payout}",
        ),
    }
    assert [(row["currency"], row["revenue"], row["payout"]) for row in body["totals"]] == [
        ("USD", f"{eur_revenue + 5}", f"{eur_payout + 4}")
    ]


def test_days_in_another_time_zone_still_take_each_utc_days_rate(api_client, world):
    api_client.force_authenticate(world["admin"])

    response = api_client.get(
        f"/api/reports?group_by=day&campaign_id={world['eur'].pk}&currency=reporting"
        f"&tz=Europe/Paris&{PERIOD}"
    )

    # Paris day 2 holds the 23:30 UTC sale of UTC day 1 (at day 1's rate) and day 2's sale.
    assert response.status_code == 200, response.json()
    assert [(row["date"], row["revenue"]) for row in response.json()["results"]] == [
        ("2026-03-10", "10.8437"),  # 10.0000 x 1.08437
        ("2026-03-11", "26.3387"),  # 1.2345 x 1.08437 = 1.3387, + 25.0000
        ("2026-03-12", "0.0000"),
    ]


def test_without_the_option_rows_stay_in_their_own_currency(api_client, world):
    api_client.force_authenticate(world["admin"])

    response = api_client.get(f"/api/reports?group_by=campaign&{PERIOD}")

    assert sorted(
        (row["campaign_name"], row["currency"], row["revenue"])
        for row in response.json()["results"]
    ) == [("EU", "EUR", "31.2345"), ("US", "USD", "5.0000")]


def test_a_missing_rate_for_money_is_refused_naming_the_currency_and_days(api_client, world):
    ExchangeRate.objects.filter(date=DAY2.date()).delete()
    api_client.force_authenticate(world["admin"])

    response = api_client.get(f"/api/reports?group_by=campaign&currency=reporting&{PERIOD}")

    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "code": "no_exchange_rate",
        "message": (
            "No exchange rate into USD for EUR on 2026-03-11: enter those rates, or ask for the "
            "report in each row's own currency."
        ),
        "fields": {"currency": ["No rate into USD for EUR on 2026-03-11."]},
    }


def test_the_csv_carries_the_converted_money(api_client, world):
    api_client.force_authenticate(world["advertiser"].user)

    response = api_client.get(
        f"/api/reports?group_by=campaign&currency=reporting&format=csv&{PERIOD}"
    )

    lines = b"".join(response.streaming_content).decode().splitlines()
    header = lines[0].split(",")
    rows = {
        line.split(",")[header.index("campaign_name")]: (
            line.split(",")[header.index("currency")],
            line.split(",")[header.index("revenue")],
        )
        for line in lines[1:]
    }
    assert rows == {
        "US": ("USD", "5.0000"),
        "EU": ("USD", f"{EUR_REVENUE_DAY1 + Decimal('25.0000')}"),
    }


def test_an_unknown_currency_option_is_refused(api_client, world):
    api_client.force_authenticate(world["admin"])

    response = api_client.get(f"/api/reports?currency=EUR&{PERIOD}")

    assert response.status_code == 400
    assert response.json()["fields"] == {"currency": ['"EUR" is not a valid choice.']}
