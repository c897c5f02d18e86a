"""Exchange rates: parsing, the lookup rules, setting a rate, the CSV import (service and
command) and the scheduled load from a source URL (against a real loopback HTTP server)."""

import datetime as dt
import io
import json
import logging
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from core.exceptions import ApplicationError
from core.models import AuditEntry
from payouts import exchange_rates, tasks
from payouts.exchange_rates import (
    ExchangeRateFeedError,
    ExchangeRateTable,
    exchange_rate_for,
    exchange_rate_set,
    exchange_rates_import,
    exchange_rates_load,
    money_convert,
    rate_parse,
)
from payouts.models import ExchangeRate, ExchangeRateSource
from tests.support.http import Receiver

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 12, 1)


def _rate(on: dt.date, pair: str, rate: str) -> ExchangeRate:
    from_currency, to_currency = pair.split("/")
    row, _ = exchange_rate_set(
        on=on, from_currency=from_currency, to_currency=to_currency, rate=Decimal(rate)
    )
    return row


# --- parsing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1.0512", Decimal("1.0512000000")),
        ("  0.0000570001 ", Decimal("0.0000570001")),
        ("17543", Decimal("17543.0000000000")),
    ],
)
def test_rate_parse_reads_plain_positive_decimals(raw, expected):
    assert rate_parse(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("0", "zero"),
        ("0.0000000000", "zero"),
        ("-1", "negative"),
        ("1.00000000001", "more than 10 decimal places"),
        ("1E+2", "not a decimal"),
        (".5", "digits are needed on both sides of the point"),
        ("10000000000", "too large"),
        ("NaN", "not a decimal"),
    ],
)
def test_rate_parse_refuses_with_a_reason(raw, reason):
    with pytest.raises(ValueError, match=f"^{reason}$"):
        rate_parse(raw)


def test_money_convert_rounds_half_up_to_four_places():
    assert money_convert(amount=Decimal("10.0000"), rate=Decimal("1.08125")) == Decimal("10.8125")
    assert money_convert(amount=Decimal("0.0001"), rate=Decimal("0.5")) == Decimal("0.0001")
    assert money_convert(amount=Decimal("0.0001"), rate=Decimal("0.4999999999")) == Decimal(
        "0.0000"
    )


# --- lookup rules ------------------------------------------------------------------------------


def test_lookup_takes_the_exact_day_and_nothing_else_by_default(settings):
    settings.EXCHANGE_RATE_MAX_AGE_DAYS = 0
    _rate(DAY - dt.timedelta(days=1), "EUR/USD", "1.1")
    _rate(DAY, "EUR/USD", "1.05")
    _rate(DAY + dt.timedelta(days=1), "EUR/USD", "1.2")

    assert exchange_rate_for(on=DAY, from_currency="EUR", to_currency="USD") == Decimal("1.05")
    assert (
        exchange_rate_for(on=DAY + dt.timedelta(days=2), from_currency="EUR", to_currency="USD")
        is None
    )


def test_lookup_uses_the_inverse_of_the_opposite_pair_rounded_to_ten_places(settings):
    settings.EXCHANGE_RATE_MAX_AGE_DAYS = 0
    _rate(DAY, "EUR/USD", "1.05")

    # 1 / 1.05 = 0.952380952380..., half-up at 10 places
    assert exchange_rate_for(on=DAY, from_currency="USD", to_currency="EUR") == Decimal(
        "0.9523809524"
    )


def test_lookup_prefers_the_pair_as_entered_over_the_inverse_on_the_same_day(settings):
    _rate(DAY, "EUR/USD", "1.05")
    _rate(DAY, "USD/EUR", "0.95")

    assert exchange_rate_for(on=DAY, from_currency="USD", to_currency="EUR") == Decimal("0.95")
    assert exchange_rate_for(on=DAY, from_currency="EUR", to_currency="USD") == Decimal("1.05")


def test_the_same_currency_is_one_and_no_third_currency_is_used(settings):
    _rate(DAY, "EUR/USD", "1.05")
    _rate(DAY, "GBP/USD", "1.25")

    assert exchange_rate_for(on=DAY, from_currency="JPY", to_currency="JPY") == Decimal(1)
    assert exchange_rate_for(on=DAY, from_currency="EUR", to_currency="GBP") is None


def test_with_a_max_age_the_most_recent_earlier_day_applies(settings):
    # given Friday's rate and Monday's, nothing on the weekend
    settings.EXCHANGE_RATE_MAX_AGE_DAYS = 3
    friday = dt.date(2026, 11, 27)
    _rate(friday - dt.timedelta(days=1), "EUR/USD", "1.01")
    _rate(friday, "EUR/USD", "1.02")
    _rate(friday + dt.timedelta(days=3), "USD/EUR", "0.5")

    def rate(on: dt.date) -> Decimal | None:
        return exchange_rate_for(on=on, from_currency="EUR", to_currency="USD")

    # then Saturday and Sunday take Friday's; Monday its own (inverse); 4 days later nothing
    assert rate(friday + dt.timedelta(days=1)) == Decimal("1.02")
    assert rate(friday + dt.timedelta(days=2)) == Decimal("1.02")
    assert rate(friday + dt.timedelta(days=3)) == Decimal("2")
    assert rate(friday + dt.timedelta(days=7)) is None
    settings.EXCHANGE_RATE_MAX_AGE_DAYS = 0
    assert rate(friday + dt.timedelta(days=1)) is None


def test_the_table_applies_the_same_rules_in_one_query(settings, django_assert_num_queries):
    settings.EXCHANGE_RATE_MAX_AGE_DAYS = 1
    _rate(DAY, "EUR/USD", "1.05")
    _rate(DAY, "USD/GBP", "0.8")

    with django_assert_num_queries(1):
        table = ExchangeRateTable(
            currencies={"EUR", "GBP", "USD"},
            to_currency="USD",
            first=DAY,
            last=DAY + dt.timedelta(days=5),
        )
    assert table.rate(on=DAY, from_currency="EUR") == Decimal("1.05")
    assert table.rate(on=DAY, from_currency="GBP") == Decimal("1.2500000000")
    assert table.rate(on=DAY + dt.timedelta(days=1), from_currency="EUR") == Decimal("1.05")
    assert table.rate(on=DAY + dt.timedelta(days=2), from_currency="EUR") is None
    assert table.rate(on=DAY, from_currency="USD") == Decimal(1)
    assert table.rate(on=DAY, from_currency="CHF") is None


# --- setting a rate ----------------------------------------------------------------------------


def test_setting_a_rate_again_replaces_it_and_both_changes_are_audited():
    first, created = exchange_rate_set(
        on=DAY, from_currency="EUR", to_currency="USD", rate=Decimal("1.05")
    )
    second, created_again = exchange_rate_set(
        on=DAY,
        from_currency="EUR",
        to_currency="USD",
        rate=Decimal("1.06"),
        source=ExchangeRateSource.CSV,
    )

    assert (created, created_again) == (True, False)
    assert second.pk == first.pk
    assert list(ExchangeRate.objects.values_list("date", "rate", "source")) == [
        (DAY, Decimal("1.0600000000"), "csv")
    ]
    assert list(
        AuditEntry.objects.filter(object_type="payouts.exchangerate")
        .order_by("id")
        .values_list("action", "changes")
    ) == [
        ("create", {"rate": [None, "1.0500000000"], "source": [None, "manual"]}),
        ("update", {"rate": ["1.0500000000", "1.0600000000"], "source": ["manual", "csv"]}),
    ]


@pytest.mark.parametrize(
    ("from_currency", "to_currency", "code"),
    [("EUR", "EUR", "same_currency"), ("XXY", "USD", "invalid_currency")],
)
def test_setting_a_bad_pair_is_refused(from_currency, to_currency, code):
    with pytest.raises(ApplicationError) as caught:
        exchange_rate_set(
            on=DAY, from_currency=from_currency, to_currency=to_currency, rate=Decimal(1)
        )
    assert caught.value.code == code
    assert ExchangeRate.objects.count() == 0


# --- CSV import --------------------------------------------------------------------------------

CSV = (
    "date,from_currency,to_currency,rate\n"
    "2026-12-01,EUR,USD,1.0512\n"
    "2026-12-01,gbp,USD,1.2711\n"
    "\n"
    "2026-12-02,EUR,USD,1.0498\n"
)


def test_a_dry_run_reports_every_row_and_writes_nothing():
    _rate(DAY, "EUR/USD", "1.0512")

    report = exchange_rates_import(text=CSV, dry_run=True)

    assert [(row.line, row.status, row.from_currency, row.rate) for row in report.rows] == [
        (2, "unchanged", "EUR", Decimal("1.0512000000")),
        (3, "created", "GBP", Decimal("1.2711000000")),
        (5, "created", "EUR", Decimal("1.0498000000")),
    ]
    assert (report.dry_run, report.written) == (True, False)
    assert list(ExchangeRate.objects.values_list("date", "from_currency", "rate")) == [
        (DAY, "EUR", Decimal("1.0512000000"))
    ]


def test_a_real_import_writes_what_the_dry_run_announced():
    _rate(DAY, "EUR/USD", "1.0000")
    preview = exchange_rates_import(text=CSV, dry_run=True)

    report = exchange_rates_import(text=CSV, dry_run=False)

    assert [row.status for row in report.rows] == [row.status for row in preview.rows]
    assert [row.status for row in report.rows] == ["updated", "created", "created"]
    assert report.written is True
    assert sorted(
        ExchangeRate.objects.values_list("date", "from_currency", "to_currency", "rate", "source")
    ) == [
        (DAY, "EUR", "USD", Decimal("1.0512000000"), "csv"),
        (DAY, "GBP", "USD", Decimal("1.2711000000"), "csv"),
        (dt.date(2026, 12, 2), "EUR", "USD", Decimal("1.0498000000"), "csv"),
    ]


def test_an_import_with_any_error_writes_nothing_and_names_each_bad_row():
    text = (
        "date,from_currency,to_currency,rate,note\n"
        "2026-12-01,EUR,USD,1.05,fine\n"
        "2026-13-01,EUR,USD,1.05,bad date\n"
        "2026-12-01,EUR,XXY,-1,bad code and rate\n"
        "2026-12-01,EUR,EUR,1,same currency\n"
        "2026-12-01,eur,usd,1.06,repeated\n"
    )

    report = exchange_rates_import(text=text, dry_run=False)

    assert [(row.line, row.status, row.message) for row in report.rows] == [
        (2, "created", ""),
        (3, "error", "date '2026-13-01': not a date (YYYY-MM-DD)"),
        (
            4,
            "error",
            "to_currency 'XXY': not an ISO 4217 currency code; rate '-1': negative",
        ),
        (5, "error", "from_currency and to_currency are the same"),
        (6, "error", "the same day and pair as line 2"),
    ]
    assert report.written is False
    assert ExchangeRate.objects.count() == 0


def test_a_file_without_the_header_is_refused():
    with pytest.raises(ApplicationError) as caught:
        exchange_rates_import(text="2026-12-01,EUR,USD,1.05\n", dry_run=False)
    assert caught.value.code == "invalid_csv"


def test_the_command_reports_progress_and_imports(tmp_path, monkeypatch):
    path = tmp_path / "rates.csv"
    path.write_text(CSV, encoding="utf-8")
    monkeypatch.setattr(
        "payouts.management.commands.import_exchange_rates.PROGRESS_EVERY", 2, raising=True
    )

    dry_out = io.StringIO()
    call_command("import_exchange_rates", str(path), "--dry-run", stdout=dry_out)
    assert ExchangeRate.objects.count() == 0
    out = io.StringIO()
    call_command("import_exchange_rates", str(path), verbosity=2, stdout=out)

    assert dry_out.getvalue().splitlines() == [
        "2 rows read...",
        "Dry run, nothing written. 3 rows: 3 created, 0 updated, 0 unchanged, 0 error.",
    ]
    assert out.getvalue().splitlines() == [
        "line 2: created: 2026-12-01 1 EUR = 1.0512000000 USD",
        "line 3: created: 2026-12-01 1 GBP = 1.2711000000 USD",
        "2 rows read...",
        "line 5: created: 2026-12-02 1 EUR = 1.0498000000 USD",
        "Imported 3 rows: 3 created, 0 updated, 0 unchanged, 0 error.",
    ]
    assert ExchangeRate.objects.count() == 3


def test_the_command_fails_on_errors_and_writes_nothing(tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text("date,from_currency,to_currency,rate\n2026-12-01,EUR,USD,x\n")
    err = io.StringIO()

    with pytest.raises(CommandError, match="1 rows: 0 created, 0 updated, 0 unchanged, 1 error"):
        call_command("import_exchange_rates", str(path), stdout=io.StringIO(), stderr=err)

    assert err.getvalue().splitlines() == ["line 2: error: rate 'x': not a decimal"]
    assert ExchangeRate.objects.count() == 0


def test_the_command_names_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_exchange_rates", str(tmp_path / "none.csv"))


# --- the scheduled load ------------------------------------------------------------------------

ECB_LIKE = {
    "base": "EUR",
    "date": "2026-12-01",
    "rates": {"USD": 1.0512, "GBP": "0.8307", "JPY": 157.12, "XAU": 0.0004, "ZZZ": 1, "BAD": "x"},
}


def _serving(document: object, status: int = 200):
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    return Receiver(
        respond=lambda request, index: (status, {"Content-Type": "application/json"}, body)
    )


def test_the_load_sets_each_rate_of_the_document_and_a_second_run_changes_nothing():
    with _serving(ECB_LIKE) as server:
        result = exchange_rates_load(url=server.url("/latest.json"))
        again = exchange_rates_load(url=server.url("/latest.json"))
        requests = server.requests

    assert (result.date, result.base, result.loaded) == (DAY, "EUR", 4)
    assert result.skipped == [
        "ZZZ: not an ISO 4217 currency code",
        "BAD: not an ISO 4217 currency code",
    ]
    assert again.loaded == 4
    assert [(request.method, request.path) for request in requests] == [
        ("GET", "/latest.json"),
        ("GET", "/latest.json"),
    ]
    # JSON numbers are read as decimals, never floats: 1.0512 stays exactly 1.0512.
    assert sorted(
        ExchangeRate.objects.values_list("from_currency", "to_currency", "rate", "source")
    ) == [
        ("EUR", "GBP", Decimal("0.8307000000"), "feed"),
        ("EUR", "JPY", Decimal("157.1200000000"), "feed"),
        ("EUR", "USD", Decimal("1.0512000000"), "feed"),
        ("EUR", "XAU", Decimal("0.0004000000"), "feed"),
    ]


@pytest.mark.parametrize(
    ("document", "status", "transient", "message"),
    [
        ({}, 503, True, "HTTP 503"),
        ({}, 429, True, "HTTP 429"),
        ({}, 404, False, "HTTP 404"),
        (b"<html>", 200, False, "not JSON"),
        ({"base": "EUR", "date": "2026-12-01"}, 200, False, "not a rate document"),
        ({"base": "EUR", "date": "yesterday", "rates": {}}, 200, False, "base or date"),
        ({"base": "EUR", "date": "2026-12-01", "rates": {"ZZZ": 1}}, 200, False, "no usable"),
    ],
)
def test_a_bad_source_is_an_error_saying_whether_to_retry(document, status, transient, message):
    with _serving(document, status) as server, pytest.raises(ExchangeRateFeedError) as caught:
        exchange_rates_load(url=server.url())

    assert caught.value.is_transient is transient
    assert message in str(caught.value)
    assert ExchangeRate.objects.count() == 0


def test_a_document_larger_than_the_limit_is_refused(monkeypatch):
    monkeypatch.setattr(exchange_rates, "FEED_MAX_BYTES", 64)
    with _serving(ECB_LIKE) as server, pytest.raises(ExchangeRateFeedError) as caught:
        exchange_rates_load(url=server.url())
    assert str(caught.value) == "the document is larger than 64 bytes"
    assert caught.value.is_transient is False


def test_the_load_goes_through_the_hardened_client_refusing_private_addresses(settings):
    settings.POSTBACK_ALLOW_PRIVATE_DESTINATIONS = False
    with _serving(ECB_LIKE) as server:
        with pytest.raises(ExchangeRateFeedError) as caught:
            exchange_rates_load(url=server.url())
        connections = server.connections

    assert caught.value.is_transient is False
    assert str(caught.value).startswith("refused destination")
    assert connections == 0


def test_the_task_does_nothing_without_a_url(settings):
    settings.EXCHANGE_RATES_URL = ""
    assert tasks.load_exchange_rates() == 0
    assert ExchangeRate.objects.count() == 0


def test_the_task_loads_from_the_configured_url(settings):
    with _serving(ECB_LIKE) as server:
        settings.EXCHANGE_RATES_URL = server.url("/rates")
        loaded = tasks.load_exchange_rates()
    assert loaded == 4
    assert ExchangeRate.objects.filter(date=DAY, source="feed").count() == 4


def test_the_task_retries_a_transient_failure_only(settings, caplog):
    with _serving({}, 502) as server:
        settings.EXCHANGE_RATES_URL = server.url()
        with pytest.raises(tasks.ExchangeRateSourceUnavailable):
            tasks.load_exchange_rates.run()
    with _serving({}, 400) as server, caplog.at_level(logging.ERROR, logger="payouts.tasks"):
        settings.EXCHANGE_RATES_URL = server.url()
        assert tasks.load_exchange_rates.run() == 0
    assert [
        record.getMessage() for record in caplog.records if record.levelno == logging.ERROR
    ] == [f"Exchange rates from {settings.EXCHANGE_RATES_URL}: HTTP 400"]
    assert tasks.load_exchange_rates.autoretry_for == (tasks.ExchangeRateSourceUnavailable,)


def test_the_settings_are_checked_at_start(settings):
    from payouts.checks import exchange_rate_settings_check

    settings.REPORTING_CURRENCY = "USD"
    settings.EXCHANGE_RATE_MAX_AGE_DAYS = 0
    assert exchange_rate_settings_check() == []
    settings.REPORTING_CURRENCY = "DOLLARS"
    settings.EXCHANGE_RATE_MAX_AGE_DAYS = -1
    assert [error.id for error in exchange_rate_settings_check()] == [
        "clickledger.E020",
        "clickledger.E021",
    ]
