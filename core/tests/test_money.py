from decimal import Decimal

import pytest

from core.money import parse_money, quantize_money, revshare_payout


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("5", "5.0000"),
        ("5.00", "5.0000"),
        ("42.5", "42.5000"),
        ("0", "0.0000"),
        ("1.2345", "1.2345"),
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


def test_revshare_rounds_half_up_at_four_places():
    assert revshare_payout(revenue=Decimal("5.00"), percent=Decimal("80")) == Decimal("4.0000")
    assert revshare_payout(revenue=Decimal("0.0001"), percent=Decimal("50")) == Decimal("0.0001")
    assert revshare_payout(revenue=Decimal("0.0003"), percent=Decimal("50")) == Decimal("0.0002")
    assert quantize_money(Decimal("1.00005")) == Decimal("1.0001")
    assert quantize_money(Decimal("1.00004")) == Decimal("1.0000")
