"""Money is Decimal with 4 places, rounded half-up in code before anything is saved.

Amounts (and percentages) are read only as plain ASCII decimals: the digits 0-9 with at most one
point and digits on both sides of it (`5`, `5.0`, `0.0001`). Python's `Decimal()` reads far more
(`1_000`, `1E+2`, 100 in Arabic-Indic digits, `+5`, `.5`, `5.`, `NaN`), and a partner or a
form that sends one of those has made a mistake we should name rather than guess at.
"""

import re
from decimal import ROUND_HALF_UP, Decimal

MONEY_PLACES = Decimal("0.0001")
MONEY_MAX_DIGITS = 18
MONEY_DECIMAL_PLACES = 4
# What every parser of amounts accepts, before its own rules on sign, places and range. ASCII
# only: `\d` would also match other scripts' digits.
DECIMAL_TEXT = re.compile(r"(?P<sign>-?)[0-9]+(?:\.(?P<places>[0-9]+))?")
# The OpenAPI pattern of a money string (non-negative, at most 4 places).
MONEY_PATTERN = r"^[0-9]+(\.[0-9]{1,4})?$"
_POINT_WITHOUT_DIGITS = re.compile(r"[+-]?(?:[0-9]*\.|\.[0-9]*)")
_WHITESPACE = " \t\r\n"


def quantize_money(amount: Decimal) -> Decimal:
    return amount.quantize(MONEY_PLACES, rounding=ROUND_HALF_UP)


def money_text(amount: Decimal, *, min_places: int = 0) -> str:
    """`amount` as a plain decimal for a form input, which `parse_money` reads back: no exponent,
    no grouping, trailing zeros dropped down to `min_places` (`2.5000` → `2.50` with 2,
    `200.0000` → `200` with 0, where `Decimal.normalize` would give `2E+2`)."""
    exponent = amount.normalize().as_tuple().exponent
    places = max(min_places, -exponent if isinstance(exponent, int) else 0)
    return f"{amount:.{places}f}"


def decimal_text(raw: object) -> str:
    """The text of an amount as a client sent it: a str (surrounding ASCII whitespace dropped),
    an int or a Decimal. Raise ValueError for anything else (a float, a bool, None)."""
    if isinstance(raw, str):
        return raw.strip(_WHITESPACE)
    if isinstance(raw, int | Decimal) and not isinstance(raw, bool):
        return str(raw)
    raise ValueError("not a decimal")


def decimal_text_refusal(text: str) -> str | None:
    """Why `text` is not a plain decimal (`DECIMAL_TEXT`), or None when it is."""
    if DECIMAL_TEXT.fullmatch(text):
        return None
    if text.startswith("+") and DECIMAL_TEXT.fullmatch(text[1:]):
        return "a sign is not accepted"
    if _POINT_WITHOUT_DIGITS.fullmatch(text):
        return "digits are needed on both sides of the point"
    return "not a decimal"


def parse_money(raw: object) -> Decimal:
    """A non-negative amount written as a plain decimal with at most 4 places, quantized.

    Raise ValueError with a short reason otherwise: `not a decimal` (also for `1_000`, `1E+2`,
    other scripts' digits, NaN), `a sign is not accepted` (`+5`), `digits are needed on both
    sides of the point` (`.5`, `5.`), `negative` (`-0` too), `more than 4 decimal places`,
    `too large`.
    """
    text = decimal_text(raw)
    match = DECIMAL_TEXT.fullmatch(text)
    if match is None:
        raise ValueError(decimal_text_refusal(text))
    if match["sign"]:
        raise ValueError("negative")
    if len(match["places"] or "") > MONEY_DECIMAL_PLACES:
        raise ValueError("more than 4 decimal places")
    amount = Decimal(text)
    if amount >= Decimal(10) ** (MONEY_MAX_DIGITS - MONEY_DECIMAL_PLACES):
        raise ValueError("too large")
    return quantize_money(amount)


def revshare_payout(*, revenue: Decimal, percent: Decimal) -> Decimal:
    return quantize_money(revenue * percent / Decimal(100))
