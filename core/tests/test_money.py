from decimal import Decimal

import pytest

from core.money import money_text, parse_money, quantize_money, revshare_payout


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("5", "5.0000"),
        ("5.00", "5.0000"),
        ("42.5", "42.5000"),
        ("0", "0.0000"),
        ("1.2345", "1.2345"),
        (" 7.5\t", "7.5000"),  # surrounding ASCII whitespace is dropped
        ("007", "7.0000"),
        (12, "12.0000"),
        (Decimal("3.1000"), "3.1000"),
        ("99999999999999.9999", "99999999999999.9999"),
    ],
)
def test_parse_money_accepts_non_negative_decimals_with_four_places(raw, expected):
    assert parse_money(raw) == Decimal(expected)
    assert str(parse_money(raw)) == expected


@pytest.mark.parametrize(
    "raw", ["-1", "1.23456", "abc", "", "NaN", "Infinity", "1e400", None, True]
)
def test_parse_money_refuses_bad_amounts(raw):
    with pytest.raises(ValueError):  # noqa: PT011 (the message varies by cause)
        parse_money(raw)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("1_000", "not a decimal"),
        ("\u0661\u0660\u0660", "not a decimal"),  # Arabic-Indic 100
        ("\uff15", "not a decimal"),  # full-width 5
        ("1E+2", "not a decimal"),
        ("1e2", "not a decimal"),
        (Decimal("1E+2"), "not a decimal"),
        ("0x10", "not a decimal"),
        ("1,5", "not a decimal"),
        ("\u00a05", "not a decimal"),  # a no-break space is not ASCII whitespace
        ("NaN", "not a decimal"),
        ("", "not a decimal"),
        (2.5, "not a decimal"),  # never a float
        ("+5", "a sign is not accepted"),
        (".5", "digits are needed on both sides of the point"),
        ("5.", "digits are needed on both sides of the point"),
        ("-.5", "digits are needed on both sides of the point"),
        ("-0", "negative"),
        ("-0.00", "negative"),
        (Decimal("-0.0000"), "negative"),
        ("-3", "negative"),
        ("1.00000", "more than 4 decimal places"),
        ("100000000000000", "too large"),
    ],
)
def test_parse_money_accepts_plain_ascii_decimals_only(raw, reason):
    with pytest.raises(ValueError, match=f"^{reason}$"):
        parse_money(raw)


@pytest.mark.parametrize(
    ("amount", "text"),
    [("100.0000", "100"), ("2.5000", "2.5"), ("0.0000", "0"), ("0.0001", "0.0001")],
)
def test_money_text_writes_what_parse_money_reads_back(amount, text):
    assert money_text(Decimal(amount)) == text
    assert parse_money(money_text(Decimal(amount))) == Decimal(amount)


def test_revshare_rounds_half_up_at_four_places():
    assert revshare_payout(revenue=Decimal("5.00"), percent=Decimal("80")) == Decimal("4.0000")
    assert revshare_payout(revenue=Decimal("0.0001"), percent=Decimal("50")) == Decimal("0.0001")
    assert revshare_payout(revenue=Decimal("0.0003"), percent=Decimal("50")) == Decimal("0.0002")
    assert quantize_money(Decimal("1.00005")) == Decimal("1.0001")
    assert quantize_money(Decimal("1.00004")) == Decimal("1.0000")
