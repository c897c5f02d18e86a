"""`GET, POST /api/exchange-rates`: admins list (filtered) and set daily rates; everyone else is
refused (the access matrix covers every role; here the answers' bodies and the rows written)."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from accounts.tests.factories import AdminUserFactory, AffiliateFactory
from core.models import AuditEntry
from core.tests.api_bodies import invalid_fields_body
from payouts.exchange_rates import exchange_rate_set
from payouts.models import ExchangeRate

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
NOW_TEXT = "2026-12-02T09:00:00Z"
URL = "/api/exchange-rates"


@pytest.fixture
def admin_api(api_client):
    api_client.force_authenticate(AdminUserFactory())
    return api_client


def _rates() -> None:
    for on, pair, rate in [
        (dt.date(2026, 12, 1), "EUR/USD", "1.05"),
        (dt.date(2026, 12, 1), "GBP/USD", "1.27"),
        (dt.date(2026, 12, 2), "EUR/USD", "1.06"),
        (dt.date(2026, 12, 2), "USD/JPY", "150.5"),
    ]:
        from_currency, to_currency = pair.split("/")
        exchange_rate_set(
            on=on,
            from_currency=from_currency,
            to_currency=to_currency,
            rate=Decimal(rate),
            now=NOW,
        )


def _pairs(response) -> list[tuple[str, str, str, str]]:
    return [
        (row["date"], row["from_currency"], row["to_currency"], row["rate"])
        for row in response.json()["results"]
    ]


@time_machine.travel(NOW, tick=False)
def test_admin_creates_a_rate_then_replaces_it(admin_api):
    created = admin_api.post(
        URL,
        {"date": "2026-12-02", "from_currency": "eur", "to_currency": "USD", "rate": "1.0512"},
        format="json",
    )
    replaced = admin_api.post(
        URL,
        {"date": "2026-12-02", "from_currency": "EUR", "to_currency": "USD", "rate": "1.06"},
        format="json",
    )

    row = ExchangeRate.objects.get()
    assert (created.status_code, replaced.status_code) == (201, 200)
    assert created.json() == {
        "id": row.pk,
        "date": "2026-12-02",
        "from_currency": "EUR",
        "to_currency": "USD",
        "rate": "1.0512000000",
        "source": "manual",
        "updated_at": NOW_TEXT,
    }
    assert replaced.json()["rate"] == "1.0600000000"
    assert row.rate == Decimal("1.0600000000")
    assert list(
        AuditEntry.objects.order_by("id").values_list("action", "source", "object_type")
    ) == [
        ("create", "api", "payouts.exchangerate"),
        ("update", "api", "payouts.exchangerate"),
    ]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (
            {"date": "2026-12-02", "from_currency": "EUR", "to_currency": "EUR", "rate": "1"},
            {"to_currency": ["Must differ from from_currency."]},
        ),
        (
            {"date": "02/12/2026", "from_currency": "XXY", "to_currency": "USD", "rate": "0"},
            {
                "date": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."],
                "from_currency": ["Use an ISO 4217 code, e.g. EUR."],
                "rate": ["A positive decimal with at most 10 places (zero)."],
            },
        ),
        (
            {"date": "2026-12-02", "from_currency": "EUR", "to_currency": "USD", "rate": 1.5},
            {"rate": ["A positive decimal with at most 10 places (not a decimal)."]},
        ),
        (
            {},
            {
                "date": ["This field is required."],
                "from_currency": ["This field is required."],
                "to_currency": ["This field is required."],
                "rate": ["This field is required."],
            },
        ),
    ],
)
def test_a_bad_rate_is_refused_naming_each_field(admin_api, body, fields):
    response = admin_api.post(URL, body, format="json")

    assert response.status_code == 400
    assert response.json() == invalid_fields_body(fields)
    assert ExchangeRate.objects.count() == 0


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "",
            [
                ("2026-12-02", "EUR", "USD", "1.0600000000"),
                ("2026-12-02", "USD", "JPY", "150.5000000000"),
                ("2026-12-01", "EUR", "USD", "1.0500000000"),
                ("2026-12-01", "GBP", "USD", "1.2700000000"),
            ],
        ),
        (
            "?date=2026-12-01",
            [
                ("2026-12-01", "EUR", "USD", "1.0500000000"),
                ("2026-12-01", "GBP", "USD", "1.2700000000"),
            ],
        ),
        (
            "?currency=jpy",
            [("2026-12-02", "USD", "JPY", "150.5000000000")],
        ),
        (
            "?from_currency=EUR&date_from=2026-12-02",
            [("2026-12-02", "EUR", "USD", "1.0600000000")],
        ),
        (
            "?to_currency=USD&date_to=2026-12-01",
            [
                ("2026-12-01", "EUR", "USD", "1.0500000000"),
                ("2026-12-01", "GBP", "USD", "1.2700000000"),
            ],
        ),
    ],
)
def test_admin_lists_rates_newest_day_first_filtered(admin_api, query, expected):
    _rates()

    response = admin_api.get(URL + query)

    assert response.status_code == 200
    assert response.json()["count"] == len(expected)
    assert _pairs(response) == expected


def test_an_unknown_filter_or_a_bad_code_is_refused(admin_api):
    unknown = admin_api.get(URL + "?pair=EURUSD")
    bad = admin_api.get(URL + "?currency=EURO")

    assert (unknown.status_code, unknown.json()["code"]) == (400, "unknown_parameter")
    assert bad.status_code == 400
    assert bad.json()["fields"] == {"currency": ["Use an ISO 4217 code, e.g. EUR."]}


def test_an_affiliate_is_refused_and_nothing_is_written(api_client):
    api_client.force_authenticate(AffiliateFactory().user)

    response = api_client.post(
        URL,
        {"date": "2026-12-02", "from_currency": "EUR", "to_currency": "USD", "rate": "1"},
        format="json",
    )

    assert response.status_code == 403
    assert ExchangeRate.objects.count() == 0
