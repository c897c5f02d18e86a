import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from accounts.models import ApprovalStatus
from accounts.tests.factories import AdminUserFactory, AdvertiserFactory, AffiliateFactory
from campaigns.models import ConversionEvent, TrackingLink
from campaigns.tests.factories import CampaignFactory, TrackingLinkFactory
from reporting.models import HourlyStat
from reporting.services.rollups import stats_refresh
from reporting.tests.factories import click_add, conversion_add, landing_page_add, smart_link_add
from tracker.models import Click, ConversionStatus

pytestmark = pytest.mark.django_db

DAY = dt.datetime(2026, 3, 10, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 3, 12, 9, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


@pytest.fixture
def network():
    """Two advertisers (USD and EUR campaigns), two affiliates, one day of counted traffic."""
    admin = AdminUserFactory()
    advertiser_a, advertiser_b = AdvertiserFactory(), AdvertiserFactory()
    usd = CampaignFactory(advertiser=advertiser_a, name="Leads US", currency="USD")
    eur = CampaignFactory(advertiser=advertiser_b, name="Apps EU", currency="EUR")
    aff1, aff2 = AffiliateFactory(), AffiliateFactory()
    usd_1 = TrackingLinkFactory(campaign=usd, affiliate=aff1)
    usd_2 = TrackingLinkFactory(campaign=usd, affiliate=aff2)
    eur_1 = TrackingLinkFactory(campaign=eur, affiliate=aff1)
    converted = click_add(link=usd_1, at=DAY + 9 * H, country="US", subs=("fb", "", "", "", ""))
    click_add(link=usd_1, at=DAY + 10 * H, country="US", subs=("fb", "", "", "", ""))
    click_add(link=usd_2, at=DAY + 23 * H + dt.timedelta(minutes=30), country="GB")
    eur_click = click_add(link=eur_1, at=DAY + 12 * H, country="DE")
    conversion_add(
        click=converted,
        status=ConversionStatus.APPROVED,
        at=DAY + 11 * H,
        revenue=Decimal("5.0000"),
        payout=Decimal("4.0000"),
    )
    conversion_add(
        click=eur_click,
        status=ConversionStatus.PENDING,
        at=DAY + 13 * H,
        revenue=Decimal("3.0000"),
        payout=Decimal("2.0000"),
    )
    stats_refresh(now=NOW)
    return {
        "admin": admin,
        "advertiser_a": advertiser_a,
        "advertiser_b": advertiser_b,
        "aff1": aff1,
        "aff2": aff2,
        "usd": usd,
        "eur": eur,
    }


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def _zero_day(date: str, *, advertiser: bool) -> dict:
    row = {
        "date": date,
        "clicks": 0,
        "unique_clicks": 0,
        "blocked_clicks": 0,
        "conversions": 0,
        "conversions_pending": 0,
        "conversions_approved": 0,
        "conversions_rejected": 0,
        "conversions_reversed": 0,
        "conversion_rate": None,
        "revenue": "0.0000",
        "payout": "0.0000",
        "margin": "0.0000",
        "epc": None,
    }
    if advertiser:
        for hidden in ("payout", "margin", "epc"):
            del row[hidden]
    return row


ONE_DIMENSION = (
    "A report can group or filter by one of country, sub1, sub2, sub3, sub4, sub5, event, "
    "device_type, os, browser, landing_page, smart_link at a time."
)
USD_DAY_TOTALS = {
    "clicks": 3,
    "unique_clicks": 3,
    "blocked_clicks": 0,
    "conversions": 1,
    "conversions_pending": 0,
    "conversions_approved": 1,
    "conversions_rejected": 0,
    "conversions_reversed": 0,
    "conversion_rate": "33.33",
    "revenue": "5.0000",
    "payout": "4.0000",
    "margin": "1.0000",
    "epc": "1.3333",
}


def test_campaign_analytics_for_the_owner_advertiser(api_client, network):
    # given the owner advertiser
    api_client.force_authenticate(network["advertiser_a"].user)

    # when it reads its campaign's dashboard for three days
    response = api_client.get(
        f"/api/analytics/campaign/{network['usd'].pk}?date_from=2026-03-09&date_to=2026-03-11"
    )

    # then totals and every day are there, without the affiliates' payout, EPC or the margin
    assert response.status_code == 200
    no_margin = {
        key: value
        for key, value in USD_DAY_TOTALS.items()
        if key not in ("payout", "margin", "epc")
    }
    assert response.json() == {
        "campaign_id": network["usd"].pk,
        "campaign_name": "Leads US",
        "currency": "USD",
        "tz": "UTC",
        "date_from": "2026-03-09",
        "date_to": "2026-03-11",
        "totals": no_margin,
        "daily": [
            _zero_day("2026-03-09", advertiser=True),
            {"date": "2026-03-10", **no_margin},
            _zero_day("2026-03-11", advertiser=True),
        ],
    }


def test_campaign_analytics_for_the_admin_in_another_time_zone(api_client, network):
    # given an admin reading the campaign in Tokyo time (UTC+9)
    api_client.force_authenticate(network["admin"])

    # when the dashboard covers 10-11 March Tokyo time
    response = api_client.get(
        f"/api/analytics/campaign/{network['usd'].pk}"
        "?date_from=2026-03-10&date_to=2026-03-11&tz=Asia/Tokyo"
    )

    # then the 23:30 UTC click falls on the 11th, and the margin is shown
    assert response.status_code == 200
    body = response.json()
    assert body["tz"] == "Asia/Tokyo"
    assert body["totals"] == USD_DAY_TOTALS
    assert [(day["date"], day["clicks"], day["margin"]) for day in body["daily"]] == [
        ("2026-03-10", 2, "1.0000"),
        ("2026-03-11", 1, "0.0000"),
    ]


def test_campaign_analytics_defaults_to_the_last_30_days_in_the_campaign_time_zone(
    api_client, network
):
    # given a campaign kept in New York time
    network["usd"].timezone = "America/New_York"
    network["usd"].save(update_fields=["timezone"])
    api_client.force_authenticate(network["admin"])

    # when no period is given
    body = api_client.get(f"/api/analytics/campaign/{network['usd'].pk}").json()

    # then it is the 30 days up to today, in that zone
    assert (body["tz"], body["date_from"], body["date_to"]) == (
        "America/New_York",
        "2026-02-11",
        "2026-03-12",
    )
    assert len(body["daily"]) == 30
    assert body["totals"]["clicks"] == 3


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("anonymous", 401, "not_authenticated"),
        ("aff1", 403, "permission_denied"),
        ("advertiser_b", 404, "not_found"),
        ("pending_advertiser", 403, "permission_denied"),
    ],
)
def test_campaign_analytics_refuses_everyone_but_owner_and_admin(
    api_client, network, who, status, code
):
    # given a caller who is not the owner nor an admin
    if who == "pending_advertiser":
        api_client.force_authenticate(AdvertiserFactory(status=ApprovalStatus.PENDING).user)
    elif who != "anonymous":
        api_client.force_authenticate(network[who].user)
    rows_before = HourlyStat.objects.count()

    # when it asks for the campaign's dashboard
    response = api_client.get(f"/api/analytics/campaign/{network['usd'].pk}")

    # then it is refused, and nothing about the campaign is in the answer
    assert response.status_code == status
    body = response.json()
    assert body["status"] == "error"
    assert body["code"] == code
    assert "Leads US" not in response.content.decode()
    assert "totals" not in body
    assert HourlyStat.objects.count() == rows_before


def test_campaign_analytics_of_a_missing_campaign_is_404(api_client, network):
    api_client.force_authenticate(network["admin"])

    response = api_client.get("/api/analytics/campaign/999999")

    assert response.status_code == 404
    assert response.json() == {
        "status": "error",
        "code": "not_found",
        "message": "Campaign not found.",
    }


def test_report_for_an_affiliate_shows_its_own_rows_without_revenue(api_client, network):
    # given the affiliate with traffic on both campaigns
    api_client.force_authenticate(network["aff1"].user)

    # when it reads its report by day and campaign
    response = api_client.get(
        "/api/reports?group_by=day,campaign&date_from=2026-03-10&date_to=2026-03-10"
    )

    # then it sees its two campaigns (per currency), never revenue nor margin
    assert response.status_code == 200
    usd_row = {
        "clicks": 2,
        "unique_clicks": 2,
        "blocked_clicks": 0,
        "conversions": 1,
        "conversions_pending": 0,
        "conversions_approved": 1,
        "conversions_rejected": 0,
        "conversions_reversed": 0,
        "conversion_rate": "50.00",
        "payout": "4.0000",
        "epc": "2.0000",
    }
    eur_row = {
        "clicks": 1,
        "unique_clicks": 1,
        "blocked_clicks": 0,
        "conversions": 1,
        "conversions_pending": 1,
        "conversions_approved": 0,
        "conversions_rejected": 0,
        "conversions_reversed": 0,
        "conversion_rate": "100.00",
        "payout": "0.0000",
        "epc": "0.0000",
    }
    usd, eur = network["usd"], network["eur"]
    first, second = sorted([(usd, "USD", usd_row), (eur, "EUR", eur_row)], key=lambda x: x[0].pk)
    assert response.json() == {
        "date_from": "2026-03-10",
        "date_to": "2026-03-10",
        "tz": "UTC",
        "group_by": ["day", "campaign"],
        "count": 2,
        "next": None,
        "previous": None,
        "results": [
            {
                "date": "2026-03-10",
                "campaign_id": campaign.pk,
                "campaign_name": campaign.name,
                "currency": currency,
                **row,
            }
            for campaign, currency, row in (first, second)
        ],
        "totals": [
            {"currency": "EUR", **eur_row},
            {"currency": "USD", **usd_row},
        ],
    }


def test_report_for_an_advertiser_covers_its_campaigns_without_payout_or_margin(
    api_client, network
):
    # given advertiser A
    api_client.force_authenticate(network["advertiser_a"].user)

    # when it groups by affiliate
    response = api_client.get(
        "/api/reports?group_by=affiliate&date_from=2026-03-10&date_to=2026-03-10"
    )

    # then only its campaign's affiliates appear, with revenue, no payout, EPC or margin
    assert response.status_code == 200
    body = response.json()
    assert [(row["affiliate_id"], row["clicks"], row["revenue"]) for row in body["results"]] == [
        (network["aff1"].pk, 2, "5.0000"),
        (network["aff2"].pk, 1, "0.0000"),
    ]
    hidden = {"payout", "margin", "epc"}
    assert [hidden & set(row) for row in body["results"] + body["totals"]] == [set()] * 3
    assert [row["currency"] for row in body["totals"]] == ["USD"]


def test_report_for_the_admin_by_country_with_margin(api_client, network):
    # given an admin
    api_client.force_authenticate(network["admin"])

    # when it groups by country, approved conversions only
    response = api_client.get(
        "/api/reports?group_by=country&date_from=2026-03-10&date_to=2026-03-10&status=approved"
    )

    # then each country has its clicks; the pending EUR conversion is filtered out
    assert response.status_code == 200
    assert [
        (
            row["country"],
            row["currency"],
            row["clicks"],
            row["conversions"],
            row["conversions_pending"],
            row["margin"],
        )
        for row in response.json()["results"]
    ] == [
        ("DE", "EUR", 1, 0, 0, "0.0000"),
        ("GB", "USD", 1, 0, 0, "0.0000"),
        ("US", "USD", 2, 1, 0, "1.0000"),
    ]


def _sale_traffic(network) -> None:
    """A `sale` on the USD campaign: on the converted click (which also led) and on a new one."""
    sale = ConversionEvent.objects.create(
        campaign=network["usd"],
        code="sale",
        name="Sale",
        payout_type="revshare",
        revshare_percent=Decimal("10"),
        allow_multiple=True,
    )
    link = TrackingLink.objects.get(campaign=network["usd"], affiliate=network["aff1"])
    led = Click.objects.get(link=link, created_at=DAY + 9 * H)
    for transaction_id, payout in (("T-1", "6.0000"), ("T-2", "1.5000")):
        conversion_add(
            click=led,
            status=ConversionStatus.APPROVED,
            at=DAY + 14 * H,
            revenue=Decimal("20.0000"),
            payout=Decimal(payout),
            transaction_id=transaction_id,
            event=sale,
        )
    conversion_add(
        click=click_add(link=link, at=DAY + 15 * H, country="US"),
        status=ConversionStatus.PENDING,
        at=DAY + 15 * H,
        event=sale,
    )
    stats_refresh(now=NOW)


def test_report_by_event_has_a_row_per_event_and_the_clicks_on_the_event_less_row(
    api_client, network
):
    # given lead-then-sale traffic on the USD campaign, read by the admin
    _sale_traffic(network)
    api_client.force_authenticate(network["admin"])

    # when it groups by event
    response = api_client.get("/api/reports?group_by=event&date_from=2026-03-10&date_to=2026-03-10")

    # then each event code has its conversions and money, the clicks sit on the "" row, and
    # the totals are those of the report without the dimension
    assert response.status_code == 200
    body = response.json()
    assert [
        (
            row["event"],
            row["currency"],
            row["clicks"],
            row["conversions"],
            row["conversions_approved"],
            row["payout"],
            row["conversion_rate"],
        )
        for row in body["results"]
    ] == [
        ("", "EUR", 1, 0, 0, "0.0000", "0.00"),
        ("", "USD", 4, 0, 0, "0.0000", "0.00"),
        ("default", "EUR", 0, 1, 0, "0.0000", None),
        ("default", "USD", 0, 1, 1, "4.0000", None),
        ("sale", "USD", 0, 3, 2, "7.5000", None),
    ]
    plain = api_client.get("/api/reports?group_by=campaign&date_from=2026-03-10&date_to=2026-03-10")
    assert body["totals"] == plain.json()["totals"]
    assert [(row["clicks"], row["conversions"], row["payout"]) for row in body["totals"]] == [
        (1, 1, "0.0000"),
        (4, 4, "11.5000"),
    ]


def test_report_filters_by_event_codes_and_follows_a_renamed_code(api_client, network):
    # given sale traffic, read by the affiliate that brought it
    _sale_traffic(network)
    api_client.force_authenticate(network["aff1"].user)

    # when it keeps the sale rows by campaign, then after the code is renamed
    url = "/api/reports?group_by=campaign,event&event=sale&date_from=2026-03-10&date_to=2026-03-10"
    before = api_client.get(url)
    ConversionEvent.objects.filter(code="sale").update(code="purchase")
    renamed = api_client.get(url.replace("event=sale", "event=purchase,lead"))

    # then only the sale conversions show (no clicks: those have no event), without revenue,
    # and the past rows carry the new code with no rebuild
    assert before.status_code == 200
    expected = [
        (network["usd"].pk, "sale", 0, 3, "7.5000"),
    ]
    rows = [
        (row["campaign_id"], row["event"], row["clicks"], row["conversions"], row["payout"])
        for row in before.json()["results"]
    ]
    assert rows == expected
    assert "revenue" not in before.json()["results"][0]
    assert [(row["event"], row["conversions"]) for row in renamed.json()["results"]] == [
        ("purchase", 3)
    ]


def test_report_csv_by_event_has_the_event_column(api_client, network):
    # given an advertiser with sale traffic
    _sale_traffic(network)
    api_client.force_authenticate(network["advertiser_a"].user)

    # when it exports the report by event as CSV
    response = api_client.get(
        "/api/reports?group_by=event&date_from=2026-03-10&date_to=2026-03-10&format=csv"
    )

    # then each event is a line, with the advertiser's money (revenue, no payout)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).decode().split("\r\n") == [
        "event,currency,clicks,unique_clicks,blocked_clicks,conversions,conversions_pending,"
        "conversions_approved,conversions_rejected,conversions_reversed,conversion_rate,revenue",
        ",USD,4,4,0,0,0,0,0,0,0.00,0.0000",
        "default,USD,0,0,0,1,0,1,0,0,,5.0000",
        "sale,USD,0,0,0,3,1,2,0,0,,40.0000",
        "",
    ]


def test_report_filters_by_a_sub_id_and_pages(api_client, network):
    # given an admin
    api_client.force_authenticate(network["admin"])

    # when it reads sub1=fb by hour, one row per page
    response = api_client.get(
        "/api/reports?group_by=hour,sub1&sub1=fb&date_from=2026-03-10&date_to=2026-03-10"
        "&page_size=1&page=2"
    )

    # then the hours of the fb clicks and conversion are paged
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert body["previous"] is not None
    assert body["next"] is not None
    assert [(row["hour"], row["sub1"], row["clicks"]) for row in body["results"]] == [
        ("2026-03-10T10:00:00Z", "fb", 1)
    ]
    assert [(row["clicks"], row["conversions"]) for row in body["totals"]] == [(2, 1)]


def test_report_csv_streams_every_row(api_client, network):
    # given an admin
    api_client.force_authenticate(network["admin"])

    # when it exports the day by campaign as CSV
    response = api_client.get(
        "/api/reports?group_by=day,campaign&date_from=2026-03-10&date_to=2026-03-10&format=csv"
    )

    # then the whole report streams as CSV
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="report-2026-03-10-2026-03-10.csv"'
    )
    usd, eur = network["usd"], network["eur"]
    lines = {
        usd.pk: f"2026-03-10,{usd.pk},Leads US,USD,3,3,0,1,0,1,0,0,33.33,5.0000,4.0000,"
        "1.0000,1.3333",
        eur.pk: f"2026-03-10,{eur.pk},Apps EU,EUR,1,1,0,1,1,0,0,0,100.00,0.0000,0.0000,"
        "0.0000,0.0000",
    }
    assert b"".join(response.streaming_content).decode().split("\r\n") == [
        "date,campaign_id,campaign_name,currency,clicks,unique_clicks,blocked_clicks,"
        "conversions,conversions_pending,conversions_approved,conversions_rejected,"
        "conversions_reversed,conversion_rate,revenue,payout,margin,epc",
        *(lines[pk] for pk in sorted(lines)),
        "",
    ]


def test_report_csv_neutralises_formulas_in_sub_ids(api_client, network):
    # given a click whose sub1 a spreadsheet would run as a formula
    link = TrackingLink.objects.get(campaign=network["usd"], affiliate=network["aff1"])
    click_add(link=link, at=DAY + 14 * H, subs=("=HYPERLINK(1)", "", "", "", ""))
    stats_refresh(now=NOW)
    api_client.force_authenticate(network["admin"])

    # when the sub1 report is exported
    response = api_client.get(
        "/api/reports?group_by=sub1&date_from=2026-03-10&date_to=2026-03-10&format=csv"
    )

    # then the value is kept as text
    text = b"".join(response.streaming_content).decode()
    assert "'=HYPERLINK(1),USD,1," in text


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("group_by=day,week", "group_by", "Unknown group 'week'"),
        ("group_by=day,hour", "group_by", "Group by day or by hour, not both."),
        (
            "group_by=country,sub1",
            "group_by",
            ONE_DIMENSION,
        ),
        (
            "group_by=event&country=US",
            "group_by",
            ONE_DIMENSION,
        ),
        (
            "group_by=sub1&country=US",
            "group_by",
            ONE_DIMENSION,
        ),
        ("status=won", "status", "Unknown status 'won'"),
        ("tz=Mars/Olympus", "tz", "Unknown time zone 'Mars/Olympus'"),
        ("date_from=2026-03-10&date_to=2026-03-01", "date_to", "date_to must not be before"),
        ("date_from=2024-01-01&date_to=2026-03-01", "date_from", "A report covers at most 366"),
    ],
)
def test_report_refuses_invalid_parameters(api_client, network, query, field, message):
    api_client.force_authenticate(network["admin"])

    response = api_client.get(f"/api/reports?{query}")

    assert response.status_code == 400
    body = response.json()
    assert (body["status"], body["code"]) == ("error", "invalid_report")
    assert body["message"].startswith(message)
    assert list(body["fields"]) == [field]


REPORT_PARAMETERS = (
    "affiliate_id, browser, campaign_id, country, currency, date_from, date_to, device_type, "
    "event, format, group_by, landing_page, os, page, page_size, smart_link, status, sub1, sub2, "
    "sub3, sub4, sub5, tz"
)


def test_report_refuses_a_parameter_it_does_not_take_instead_of_ignoring_it(api_client, network):
    # given `campaign` where `campaign_id` is meant: answering unfiltered data would mislead
    api_client.force_authenticate(network["admin"])

    response = api_client.get(f"/api/reports?campaign={network['usd'].pk}&date_from=2026-03-10")

    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "code": "unknown_parameter",
        "message": f"Unknown query parameter(s): campaign. Accepted: {REPORT_PARAMETERS}.",
        "fields": {"campaign": ["Unknown parameter."]},
    }


def test_report_names_every_unknown_parameter_even_with_csv(api_client, network):
    api_client.force_authenticate(network["admin"])

    response = api_client.get("/api/reports?format=csv&affiliate=1&sub_id=x&page=1")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["fields"] == {
        "affiliate": ["Unknown parameter."],
        "sub_id": ["Unknown parameter."],
    }


def test_report_takes_its_documented_parameters_and_pagination(api_client, network):
    api_client.force_authenticate(network["admin"])

    response = api_client.get(
        f"/api/reports?campaign_id={network['usd'].pk}&date_from=2026-03-10&date_to=2026-03-10"
        "&group_by=campaign&page=1&page_size=10&tz=UTC&status=approved"
    )

    assert response.status_code == 200
    assert [row["campaign_id"] for row in response.json()["results"]] == [network["usd"].pk]


def test_campaign_analytics_refuses_a_parameter_it_does_not_take(api_client, network):
    api_client.force_authenticate(network["admin"])

    response = api_client.get(
        f"/api/analytics/campaign/{network['usd'].pk}?date_from=2026-03-10&group_by=hour"
    )

    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "code": "unknown_parameter",
        "message": "Unknown query parameter(s): group_by. Accepted: date_from, date_to, tz.",
        "fields": {"group_by": ["Unknown parameter."]},
    }


def test_report_refuses_malformed_ids_and_dates(api_client, network):
    api_client.force_authenticate(network["admin"])

    response = api_client.get("/api/reports?campaign_id=1,x&date_from=tomorrow")

    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "code": "invalid",
        "message": "The request has invalid fields.",
        "fields": {
            "campaign_id": ["Comma-separated positive integer ids, e.g. 3,7."],
            "date_from": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."],
        },
    }


@pytest.mark.parametrize("ids", ["0", "3,0", "3,", "-3", " 3", "3;7", "1e3"])
def test_report_ids_are_positive_integers_comma_separated(api_client, network, ids):
    # "0" was accepted by the schema (no minimum) and refused by the API.
    api_client.force_authenticate(network["admin"])

    response = api_client.get("/api/reports", {"campaign_id": ids, "affiliate_id": ids})

    assert response.status_code == 400
    assert response.json()["fields"] == {
        "campaign_id": ["Comma-separated positive integer ids, e.g. 3,7."],
        "affiliate_id": ["Comma-separated positive integer ids, e.g. 3,7."],
    }


def test_report_takes_several_ids(api_client, network):
    api_client.force_authenticate(network["admin"])
    campaign_ids = f"{network['eur'].pk},{network['usd'].pk}"

    response = api_client.get(
        "/api/reports",
        {
            "group_by": "campaign",
            "campaign_id": campaign_ids,
            "date_from": "2026-03-10",
            "date_to": "2026-03-10",
        },
    )

    assert response.status_code == 200
    assert sorted(row["campaign_id"] for row in response.json()["results"]) == sorted(
        [network["usd"].pk, network["eur"].pk]
    )


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 401), ("pending_affiliate", 403), ("suspended_advertiser", 403)],
)
def test_report_refuses_callers_without_an_approved_role(api_client, network, who, status):
    if who == "pending_affiliate":
        api_client.force_authenticate(AffiliateFactory(status=ApprovalStatus.PENDING).user)
    elif who == "suspended_advertiser":
        api_client.force_authenticate(AdvertiserFactory(status=ApprovalStatus.SUSPENDED).user)

    response = api_client.get("/api/reports?date_from=2026-03-10&date_to=2026-03-10")

    assert response.status_code == status
    assert "results" not in response.json()


def test_report_of_another_advertisers_campaign_is_empty(api_client, network):
    # given advertiser B asking for advertiser A's campaign by id
    api_client.force_authenticate(network["advertiser_b"].user)

    response = api_client.get(
        f"/api/reports?campaign_id={network['usd'].pk}&date_from=2026-03-10&date_to=2026-03-10"
    )

    # then nothing of it is shown
    assert response.status_code == 200
    assert response.json()["results"] == []
    assert response.json()["totals"] == []


@pytest.fixture
def device_traffic(network):
    """On the USD campaign (affiliate 1): an iPhone click on the quiz page through a smart link
    that converts (approved, 5.00 / 4.00) and a desktop click on the short form."""
    usd, aff1 = network["usd"], network["aff1"]
    link = TrackingLink.objects.get(campaign=usd, affiliate=aff1)
    quiz = landing_page_add(campaign=usd, name="Quiz")
    short = landing_page_add(campaign=usd, name="Short form")
    smart = smart_link_add(affiliate_id=aff1.pk, name="Aff one smart")
    phone = click_add(
        link=link,
        at=DAY + 14 * H,
        device_type="mobile",
        os="iOS",
        browser="Safari",
        landing_page=quiz,
        smart_link=smart,
    )
    click_add(
        link=link,
        at=DAY + 15 * H,
        device_type="desktop",
        os="Windows",
        browser="Chrome",
        landing_page=short,
    )
    conversion_add(click=phone, status=ConversionStatus.APPROVED, at=DAY + 16 * H)
    stats_refresh(now=NOW)
    return {"quiz": quiz, "short": short, "smart": smart}


def _traffic_rows(body: dict, *columns: str) -> list[tuple]:
    return [
        (*(row[column] for column in columns), row["clicks"], row["conversions"], row["revenue"])
        for row in body["results"]
    ]


def test_report_groups_by_device_type_os_and_browser(api_client, network, device_traffic):
    # given the advertiser of the USD campaign: the fixture's 3 older clicks have no device data
    api_client.force_authenticate(network["advertiser_a"].user)
    period = "date_from=2026-03-10&date_to=2026-03-10"

    # when it groups by each device dimension
    bodies = {
        name: api_client.get(f"/api/reports?group_by={name}&{period}").json()
        for name in ("device_type", "os", "browser")
    }

    # then each value has its clicks, conversions and revenue, the same totals each time
    assert _traffic_rows(bodies["device_type"], "device_type") == [
        ("", 3, 1, "5.0000"),
        ("desktop", 1, 0, "0.0000"),
        ("mobile", 1, 1, "5.0000"),
    ]
    assert _traffic_rows(bodies["os"], "os") == [
        ("", 3, 1, "5.0000"),
        ("Windows", 1, 0, "0.0000"),
        ("iOS", 1, 1, "5.0000"),
    ]
    assert _traffic_rows(bodies["browser"], "browser") == [
        ("", 3, 1, "5.0000"),
        ("Chrome", 1, 0, "0.0000"),
        ("Safari", 1, 1, "5.0000"),
    ]
    plain = api_client.get(f"/api/reports?group_by=campaign&{period}").json()
    assert [body["totals"] for body in bodies.values()] == [plain["totals"]] * 3
    assert plain["totals"][0]["clicks"] == 5
    assert {"payout", "margin", "epc"} & set(bodies["os"]["results"][0]) == set()


def test_report_groups_by_landing_page_and_smart_link_with_their_names(
    api_client, network, device_traffic
):
    # given the affiliate of those clicks
    api_client.force_authenticate(network["aff1"].user)
    period = "date_from=2026-03-10&date_to=2026-03-10"
    quiz, short, smart = device_traffic["quiz"], device_traffic["short"], device_traffic["smart"]

    # when it groups by landing page, then by smart link
    pages = api_client.get(f"/api/reports?group_by=landing_page&{period}").json()
    smart_links = api_client.get(f"/api/reports?group_by=smart_link,campaign&{period}").json()

    # then each page or smart link shows by id and name, never revenue
    assert [
        (
            row["landing_page_id"],
            row["landing_page_name"],
            row["currency"],
            row["clicks"],
            row["conversions"],
            row["payout"],
        )
        for row in pages["results"]
    ] == [
        (None, "", "EUR", 1, 1, "0.0000"),
        (None, "", "USD", 2, 1, "4.0000"),
        *sorted(
            [
                (quiz.pk, "Quiz", "USD", 1, 1, "4.0000"),
                (short.pk, "Short form", "USD", 1, 0, "0.0000"),
            ],
            key=lambda row: str(row[0]),
        ),
    ]
    assert "revenue" not in pages["results"][0]
    usd = network["usd"]
    assert [
        (row["smart_link_id"], row["smart_link_name"], row["campaign_id"], row["clicks"])
        for row in smart_links["results"]
        if row["smart_link_id"]
    ] == [(smart.pk, "Aff one smart", usd.pk, 1)]


def test_report_filters_by_device_type_and_landing_page_and_exports_csv(
    api_client, network, device_traffic
):
    api_client.force_authenticate(network["admin"])
    period = "date_from=2026-03-10&date_to=2026-03-10"
    quiz = device_traffic["quiz"]

    mobile = api_client.get(f"/api/reports?group_by=campaign&device_type=mobile&{period}").json()
    page = api_client.get(
        f"/api/reports?group_by=landing_page&landing_page={quiz.pk}&{period}&format=csv"
    )

    assert [(row["clicks"], row["conversions"], row["margin"]) for row in mobile["results"]] == [
        (1, 1, "1.0000")
    ]
    lines = b"".join(page.streaming_content).decode().splitlines()
    assert lines[0].startswith("landing_page_id,landing_page_name,currency,clicks,")
    assert lines[1:] == [f"{quiz.pk},Quiz,USD,1,1,0,1,0,1,0,0,100.00,5.0000,4.0000,1.0000,4.0000"]
