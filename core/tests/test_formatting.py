"""Money, percentages and counts for people (core.formatting and its template filters)."""

from decimal import Decimal

import pytest
from django.template import Context, Template

from core.formatting import (
    DEFAULT_LOCALE,
    current_locale,
    format_money,
    format_number,
    format_percent,
    locale_negotiate,
    locale_override,
)

NBSP = "\N{NO-BREAK SPACE}"
DASH = "\N{EN DASH}"


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "expected"),
    [
        (Decimal("1234.5"), "USD", "en", "$1,234.50"),
        (Decimal("479.2996"), "USD", "en", "$479.30"),
        (Decimal("0.0747"), "USD", "en", "$0.07"),
        (Decimal("1234.5"), "EUR", "de", f"1.234,50{NBSP}€"),
        (Decimal("1234.5"), "EUR", "en", "€1,234.50"),
        (Decimal("1234.4"), "JPY", "en", "¥1,234"),
        (Decimal("1234.5"), "JPY", "en", "¥1,235"),
        (Decimal("-1234.5"), "USD", "en", "-$1,234.50"),
        (Decimal("-1234.5"), "EUR", "de", f"-1.234,50{NBSP}€"),
        (Decimal("2.5000"), "USD", "de", f"2,50{NBSP}$"),
        (Decimal("1234567.891"), "BHD", "en", "BHD1,234,567.891"),
        (Decimal(0), "USD", "en", "$0.00"),
        (50, "USD", "en", "$50.00"),
    ],
)
def test_money_has_the_currency_decimals_symbol_and_grouping_of_the_locale(
    amount, currency, locale, expected
):
    assert format_money(amount, currency, locale=locale) == expected


def test_money_rounds_half_up_like_the_ledger():
    assert [format_money(Decimal(v), "USD", locale="en") for v in ("0.125", "0.135", "-0.125")] == [
        "$0.13",
        "$0.14",
        "-$0.13",
    ]


@pytest.mark.parametrize(
    ("percent", "locale", "expected"),
    [
        (Decimal("80"), "en", "80.00%"),
        (Decimal("65.5"), "en", "65.50%"),
        (Decimal("2.345"), "en", "2.35%"),
        (Decimal("100.00"), "en", "100.00%"),
        (Decimal("80"), "de", f"80,00{NBSP}%"),
        (Decimal("1234.5"), "en", "1,234.50%"),
    ],
)
def test_percent_takes_percent_points_and_shows_two_decimals(percent, locale, expected):
    assert format_percent(percent, locale=locale) == expected


def test_numbers_are_grouped_with_the_places_asked_for():
    assert [
        format_number(1234567, locale="en"),
        format_number(1234567, locale="de"),
        format_number(Decimal("4.7828"), places=2, locale="en"),
        format_number(Decimal("0.25"), max_places=2, locale="en"),
        format_number(Decimal("1.0000"), max_places=2, locale="en"),
    ] == ["1,234,567", "1.234.567", "4.78", "0.25", "1"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", "de_DE"),
        ("de-CH", "de_CH"),
        ("fr-XX, en;q=0.5", "fr"),
        ("x-klingon, pt-BR;q=0.5", "pt_BR"),
        ("EN-us", "en_US"),
        ("*", DEFAULT_LOCALE),
        ("", DEFAULT_LOCALE),
        ("x-klingon", DEFAULT_LOCALE),
    ],
)
def test_locale_is_negotiated_from_accept_language(header, expected):
    assert locale_negotiate(header) == expected


def test_the_active_locale_is_the_default_outside_an_override():
    assert current_locale() == "en"
    with locale_override("de"):
        assert format_money(Decimal("1234.5"), "EUR") == f"1.234,50{NBSP}€"
    assert format_money(Decimal("1234.5"), "EUR") == "€1,234.50"


def test_template_filters_are_builtins_and_show_an_en_dash_for_nothing():
    template = Template(
        "{{ amount|money:currency }} | {{ missing|money:currency }} | {{ rate|percent }} | "
        "{{ none|percent }} | {{ clicks|number }} | {{ points|number:2 }}"
    )
    context = Context(
        {
            "amount": Decimal("-1234.5"),
            "currency": "USD",
            "missing": None,
            "rate": Decimal("80"),
            "none": None,
            "clicks": 12345,
            "points": Decimal("4.7828"),
        }
    )

    assert template.render(context) == f"-$1,234.50 | {DASH} | 80.00% | {DASH} | 12,345 | 4.78"
    with locale_override("de"):
        assert template.render(context) == (
            f"-1.234,50{NBSP}$ | {DASH} | 80,00{NBSP}% | {DASH} | 12.345 | 4,78"
        )
