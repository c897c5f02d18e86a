"""Exchange rates in the console: a rate entered there is set (and audited) by the service, and
the CSV upload page previews every row on a dry run and writes all rows or none."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.tests.factories import AdminUserFactory
from core.models import AuditEntry
from payouts.models import ExchangeRate

pytestmark = pytest.mark.django_db

IMPORT = "admin:payouts_exchangerate_import"
CSV = b"date,from_currency,to_currency,rate\n2026-12-01,EUR,USD,1.0512\n2026-12-01,GBP,USD,1.27\n"


@pytest.fixture
def console(client):
    client.force_login(AdminUserFactory())
    return client


def _upload(console, content: bytes, *, dry_run: bool):
    data = {"file": SimpleUploadedFile("rates.csv", content, content_type="text/csv")}
    if dry_run:
        data["dry_run"] = "on"
    return console.post(reverse(IMPORT), data)


def test_the_changelist_links_to_the_import_page(console):
    response = console.get(reverse("admin:payouts_exchangerate_changelist"))

    assert response.status_code == 200
    assert reverse(IMPORT).encode() in response.content


def test_a_dry_run_shows_every_row_and_writes_nothing(console):
    response = _upload(console, CSV, dry_run=True)

    assert response.status_code == 200
    report = response.context["report"]
    assert [(row.line, row.status, row.from_currency) for row in report.rows] == [
        (2, "created", "EUR"),
        (3, "created", "GBP"),
    ]
    assert b"Dry run: nothing written" in response.content
    assert ExchangeRate.objects.count() == 0


def test_an_import_writes_every_row_audited_from_the_console(console):
    response = _upload(console, CSV, dry_run=False)

    assert response.status_code == 200
    assert response.context["report"].written is True
    assert sorted(ExchangeRate.objects.values_list("from_currency", "rate", "source")) == [
        ("EUR", Decimal("1.0512000000"), "csv"),
        ("GBP", Decimal("1.2700000000"), "csv"),
    ]
    assert set(
        AuditEntry.objects.filter(object_type="payouts.exchangerate").values_list(
            "action", "source"
        )
    ) == {("create", "console")}


def test_a_file_with_an_error_writes_nothing_and_names_the_row(console):
    response = _upload(console, CSV + b"2026-12-01,EUR,USD,abc\n", dry_run=False)

    report = response.context["report"]
    assert [(row.line, row.status, row.message) for row in report.errors] == [
        (4, "error", "rate 'abc': not a decimal")
    ]
    assert report.written is False
    assert ExchangeRate.objects.count() == 0


def test_a_file_without_the_header_is_a_form_error(console):
    response = _upload(console, b"2026-12-01,EUR,USD,1.05\n", dry_run=False)

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "file": [
            "The CSV's first line must name the columns date, from_currency, to_currency, rate "
            "(missing: date, from_currency, to_currency, rate)."
        ]
    }
    assert ExchangeRate.objects.count() == 0


def test_a_rate_added_in_the_console_goes_through_the_service(console):
    response = console.post(
        reverse("admin:payouts_exchangerate_add"),
        {"date": "2026-12-01", "from_currency": "chf", "to_currency": "USD", "rate": "1.1312"},
    )

    assert response.status_code == 302
    rate = ExchangeRate.objects.get()
    assert (rate.date, rate.from_currency, rate.to_currency, rate.rate, rate.source) == (
        dt.date(2026, 12, 1),
        "CHF",
        "USD",
        Decimal("1.1312000000"),
        "manual",
    )
    assert list(
        AuditEntry.objects.filter(object_type="payouts.exchangerate").values_list(
            "action", "source"
        )
    ) == [("create", "console")]


def test_a_bad_code_or_a_zero_rate_is_refused_in_the_console(console):
    response = console.post(
        reverse("admin:payouts_exchangerate_add"),
        {"date": "2026-12-01", "from_currency": "EURO", "to_currency": "USD", "rate": "0"},
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["from_currency"] == ["Ensure this value has at most 3 characters (it has 4)."]
    assert errors["rate"] == ["A positive rate is needed (zero)."]
    assert ExchangeRate.objects.count() == 0
