"""Money is Decimal with 4 places, rounded half-up in code before anything is saved."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

MONEY_PLACES = Decimal("0.0001")
MONEY_MAX_DIGITS = 18
MONEY_DECIMAL_PLACES = 4


def quantize_money(amount: Decimal) -> Decimal:
    return amount.quantize(MONEY_PLACES, rounding=ROUND_HALF_UP)


def parse_money(raw: object) -> Decimal:
    """Parse a non-negative amount with at most 4 decimal places; raise ValueError otherwise."""
    if isinstance(raw, bool) or raw is None:
        raise ValueError("not a decimal")
    text = str(raw).strip()
    try:
        amount = Decimal(text)
    except (InvalidOperation, ValueError) as exc:
        raise ValueError("not a decimal") from exc
    if not amount.is_finite():
        raise ValueError("not a finite decimal")
    if amount < 0:
        raise ValueError("negative")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MONEY_DECIMAL_PLACES:
        raise ValueError("more than 4 decimal places")
    if amount >= Decimal(10) ** (MONEY_MAX_DIGITS - MONEY_DECIMAL_PLACES):
        raise ValueError("too large")
    return quantize_money(amount)


def revshare_payout(*, revenue: Decimal, percent: Decimal) -> Decimal:
    return quantize_money(revenue * percent / Decimal(100))


def decimal_text(value: Decimal, *, min_places: int = 0) -> str:
    """`value` as a plain decimal for a form input, which `parse_money` reads back: no exponent,
    no grouping, trailing zeros dropped down to `min_places` (`2.5000` → `2.50` with 2,
    `200.0000` → `200` with 0, where `Decimal.normalize` would give `2E+2`)."""
    trimmed = value.normalize()
    exponent = trimmed.as_tuple().exponent
    places = max(min_places, -exponent if isinstance(exponent, int) else 0)
    return f"{value:.{places}f}"
