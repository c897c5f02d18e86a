"""`GET /api/reports/fraud` and the fraud report service: exact counts per affiliate, campaign
and signal, the money each role may read, and the SQLite path."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from accounts.tests.factories import AdminUserFactory, AdvertiserFactory, AffiliateFactory
from campaigns.tests.factories import CampaignFactory, TrackingLinkFactory
from reporting.tests.factories import click_add, conversion_add
from tracker.models import ConversionStatus

pytestmark = pytest.mark.django_db

DAY = dt.datetime(2026, 3, 10, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 3, 12, 9, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
PERIOD = "date_from=2026-03-10&date_to=2026-03-10"


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def traffic():
    """Advertiser A's USD campaign and advertiser B's EUR campaign; affiliates 1 and 2.

    Flagged: on USD, affiliate 1 has a bot click (blocked) and a datacenter+click_velocity click
    that converted (approved 5.00 / 4.00, flagged too_fast), plus a clean click with a rejected
    ip_mismatch conversion (3.00 / 2.00); affiliate 2 has a datacenter click. On EUR, affiliate 1
    has a bot click. The day before, a bot click that is out of the period.
    """
    advertiser_a, advertiser_b = AdvertiserFactory(), AdvertiserFactory()
    usd = CampaignFactory(advertiser=advertiser_a, name="Leads US", currency="USD")
    eur = CampaignFactory(advertiser=advertiser_b, name="Apps EU", currency="EUR")
    aff1 = AffiliateFactory(company="Aff One")
    aff2 = AffiliateFactory(company="Aff Two")
    usd_1 = TrackingLinkFactory(campaign=usd, affiliate=aff1)
    usd_2 = TrackingLinkFactory(campaign=usd, affiliate=aff2)
    eur_1 = TrackingLinkFactory(campaign=eur, affiliate=aff1)
    click_add(link=usd_1, at=DAY + H, fraud_signals=["bot"], blocked_reason="fraud")
    fast = click_add(link=usd_1, at=DAY + 2 * H, fraud_signals=["datacenter", "click_velocity"])
    clean = click_add(link=usd_1, at=DAY + 3 * H)
    click_add(link=usd_2, at=DAY + 4 * H, fraud_signals=["datacenter"])
    click_add(link=eur_1, at=DAY + 5 * H, fraud_signals=["bot"])
    click_add(link=usd_1, at=DAY - H, fraud_signals=["bot"])
    approved = conversion_add(click=fast, status=ConversionStatus.APPROVED, at=DAY + 6 * H)
    rejected = conversion_add(
        click=clean,
        status=ConversionStatus.REJECTED,
        at=DAY + 7 * H,
        revenue=Decimal("3.0000"),
        payout=Decimal("2.0000"),
    )
    approved.fraud_signals = ["too_fast"]
    approved.save(update_fields=["fraud_signals"])
    rejected.fraud_signals = ["ip_mismatch"]
    rejected.save(update_fields=["fraud_signals"])
    return {
        "admin": AdminUserFactory(),
        "advertiser_a": advertiser_a,
        "advertiser_b": advertiser_b,
        "aff1": aff1,
        "aff2": aff2,
        "usd": usd,
        "eur": eur,
    }


def _row(campaign, affiliate, signal, currency, **counts) -> dict:
    row = {
        "campaign_id": campaign.pk,
        "campaign_name": campaign.name,
        "affiliate_id": affiliate.pk,
        "affiliate_name": affiliate.company,
        "signal": signal,
        "currency": currency,
        "clicks": 0,
        "blocked_clicks": 0,
        "conversions": 0,
        "conversions_pending": 0,
        "conversions_approved": 0,
        "conversions_rejected": 0,
        "conversions_reversed": 0,
        "revenue": "0.0000",
        "payout": "0.0000",
    }
    row.update(counts)
    return row


def _without(rows: list[dict], *hidden: str) -> list[dict]:
    return [{key: value for key, value in row.items() if key not in hidden} for row in rows]


def _admin_rows(t) -> list[dict]:
    usd, eur, aff1, aff2 = t["usd"], t["eur"], t["aff1"], t["aff2"]
    rows = [
        _row(usd, aff1, "bot", "USD", clicks=1, blocked_clicks=1),
        _row(usd, aff1, "click_velocity", "USD", clicks=1),
        _row(usd, aff1, "datacenter", "USD", clicks=1),
        _row(
            usd,
            aff1,
            "ip_mismatch",
            "USD",
            conversions=1,
            conversions_rejected=1,
            revenue="3.0000",
            payout="2.0000",
        ),
        _row(
            usd,
            aff1,
            "too_fast",
            "USD",
            conversions=1,
            conversions_approved=1,
            revenue="5.0000",
            payout="4.0000",
        ),
        _row(usd, aff2, "datacenter", "USD", clicks=1),
        _row(eur, aff1, "bot", "EUR", clicks=1),
    ]
    return sorted(rows, key=lambda row: (row["campaign_id"], row["affiliate_id"], row["signal"]))


def test_the_admin_sees_every_signal_per_affiliate_and_campaign_with_money(api_client, traffic):
    api_client.force_authenticate(traffic["admin"])

    response = api_client.get(f"/api/reports/fraud?{PERIOD}")

    assert response.status_code == 200
    assert response.json() == {
        "date_from": "2026-03-10",
        "date_to": "2026-03-10",
        "tz": "UTC",
        "group_by": ["affiliate", "campaign", "signal"],
        "results": _admin_rows(traffic),
        "totals": [
            {
                "currency": "EUR",
                "clicks": 1,
                "blocked_clicks": 0,
                "conversions": 0,
                "conversions_pending": 0,
                "conversions_approved": 0,
                "conversions_rejected": 0,
                "conversions_reversed": 0,
                "revenue": "0.0000",
                "payout": "0.0000",
            },
            {
                # per signal: the two-signal click counts twice
                "currency": "USD",
                "clicks": 4,
                "blocked_clicks": 1,
                "conversions": 2,
                "conversions_pending": 0,
                "conversions_approved": 1,
                "conversions_rejected": 1,
                "conversions_reversed": 0,
                "revenue": "8.0000",
                "payout": "6.0000",
            },
        ],
    }


def test_the_advertiser_sees_its_campaigns_without_payouts(api_client, traffic):
    api_client.force_authenticate(traffic["advertiser_a"].user)

    body = api_client.get(f"/api/reports/fraud?{PERIOD}").json()

    usd_rows = [row for row in _admin_rows(traffic) if row["campaign_id"] == traffic["usd"].pk]
    assert body["results"] == _without(usd_rows, "payout")
    assert [set(total) & {"payout", "revenue"} for total in body["totals"]] == [{"revenue"}]


def test_the_affiliate_sees_its_own_traffic_without_revenue(api_client, traffic):
    api_client.force_authenticate(traffic["aff2"].user)

    body = api_client.get(f"/api/reports/fraud?{PERIOD}").json()

    assert body["results"] == _without(
        [_row(traffic["usd"], traffic["aff2"], "datacenter", "USD", clicks=1)], "revenue"
    )


def test_another_advertiser_sees_only_its_own_campaign(api_client, traffic):
    api_client.force_authenticate(traffic["advertiser_b"].user)

    body = api_client.get(f"/api/reports/fraud?{PERIOD}&group_by=signal").json()

    assert [(row["signal"], row["clicks"]) for row in body["results"]] == [("bot", 1)]


def test_without_the_signal_group_a_row_counts_once(api_client, traffic):
    api_client.force_authenticate(traffic["admin"])

    body = api_client.get(f"/api/reports/fraud?{PERIOD}&group_by=campaign").json()

    expected = {"Leads US": ("Leads US", 3, 2, "6.0000"), "Apps EU": ("Apps EU", 1, 0, "0.0000")}
    in_id_order = sorted((traffic["usd"], traffic["eur"]), key=lambda campaign: campaign.pk)
    assert [
        (row["campaign_name"], row["clicks"], row["conversions"], row["payout"])
        for row in body["results"]
    ] == [expected[campaign.name] for campaign in in_id_order]
    assert "signal" not in body["results"][0]


def test_filters_by_signal_campaign_affiliate_and_groups_by_day(api_client, traffic):
    api_client.force_authenticate(traffic["admin"])

    by_signal = api_client.get(
        f"/api/reports/fraud?{PERIOD}&signal=datacenter,too_fast&group_by=signal"
    ).json()
    by_day = api_client.get(
        "/api/reports/fraud?date_from=2026-03-09&date_to=2026-03-10&group_by=day,signal"
        f"&campaign_id={traffic['usd'].pk}&affiliate_id={traffic['aff1'].pk}&signal=bot"
    ).json()

    assert [(row["signal"], row["clicks"], row["conversions"]) for row in by_signal["results"]] == [
        ("datacenter", 2, 0),
        ("too_fast", 0, 1),
    ]
    assert [(row["date"], row["signal"], row["clicks"]) for row in by_day["results"]] == [
        ("2026-03-09", "bot", 1),
        ("2026-03-10", "bot", 1),
    ]


def test_csv_has_the_viewers_columns(api_client, traffic):
    api_client.force_authenticate(traffic["aff2"].user)

    response = api_client.get(f"/api/reports/fraud?{PERIOD}&format=csv")

    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines == [
        "campaign_id,campaign_name,affiliate_id,affiliate_name,signal,currency,clicks,"
        "blocked_clicks,conversions,conversions_pending,conversions_approved,"
        "conversions_rejected,conversions_reversed,payout",
        f"{traffic['usd'].pk},Leads US,{traffic['aff2'].pk},Aff Two,datacenter,USD,1,0,0,0,0,0,0,"
        "0.0000",
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("group_by=country", "group_by"),
        ("date_from=2026-03-10&date_to=2026-03-01", "date_to"),
        ("campaign_id=abc", "campaign_id"),
        ("kind=click", "kind"),
    ],
)
def test_bad_parameters_are_400_naming_them(api_client, traffic, query, field):
    api_client.force_authenticate(traffic["admin"])

    response = api_client.get(f"/api/reports/fraud?{query}")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]
