"""Numbers for people: money, percentages and counts as the viewer's locale writes them.

Every amount a person reads (portal and console pages, flash messages, form errors, chart labels,
emails) goes through `format_money`: the currency's own number of decimals and symbol, grouped
thousands, the locale's sign and symbol placement (`$1,234.50` in English, `1.234,50 €` in
German, `¥1,235` for yen). The CLDR data and patterns are Babel's. Machine outputs (the JSON API,
CSV exports, forwarded postbacks, ledger diagnostics) keep plain decimals with ISO codes, and form
inputs keep plain decimals that the parsers accept.

The locale is the request's: `core.middleware.FormatLocaleMiddleware` negotiates it from
`Accept-Language` and activates it for the request; outside a request (Celery tasks, emails,
commands) it is `DEFAULT_LOCALE`. It only changes how numbers are written: the page's text stays
English, so Django's translation machinery is left alone.

Rounding for display is half-up, as everywhere else in ClickLedger (Babel on its own would round
half-even): 0.125 USD reads $0.13.
"""

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel import Locale, numbers
from babel.core import negotiate_locale
from babel.localedata import locale_identifiers
from django.utils.translation.trans_real import parse_accept_lang_header

DEFAULT_LOCALE = "en"

_active_locale: ContextVar[str] = ContextVar("format_locale", default=DEFAULT_LOCALE)

Number = Decimal | int | str


def current_locale() -> str:
    """The locale numbers are written in now: the request's, else `DEFAULT_LOCALE`."""
    return _active_locale.get()


@contextmanager
def locale_override(locale: str) -> Iterator[None]:
    """Write numbers in `locale` inside the block (the middleware does this per request)."""
    token = _active_locale.set(locale)
    try:
        yield
    finally:
        _active_locale.reset(token)


@lru_cache(maxsize=1)
def _available() -> tuple[str, ...]:
    return tuple(locale_identifiers())


@lru_cache(maxsize=512)
def locale_negotiate(accept_language: str) -> str:
    """The best locale Babel has data for, from an `Accept-Language` header (`de-CH,de;q=0.9`).

    Languages are tried in the header's order of preference; a region Babel does not know falls
    back to its language (`fr-XX` → `fr`). Nothing usable (no header, `*`, unknown languages):
    `DEFAULT_LOCALE`. Cached: browsers send a handful of distinct headers.
    """
    for tag, _quality in parse_accept_lang_header(accept_language):
        if tag == "*":
            continue
        found = negotiate_locale([tag.replace("-", "_")], _available())
        if found:
            return str(Locale.parse(found))
    return DEFAULT_LOCALE


def _rounded(value: Number, places: int) -> Decimal:
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def money_floor(amount: Number, currency: str) -> Decimal:
    """`amount` rounded down to what `currency` can show: a limit stated as "at most" this is
    then a limit a person can type and have accepted (`234.0678` USD → `234.06`)."""
    places = numbers.get_currency_precision(currency)
    return Decimal(amount).quantize(Decimal(1).scaleb(-places), rounding=ROUND_FLOOR)


def format_money(amount: Number, currency: str, *, locale: str | None = None) -> str:
    """`amount` of `currency` (ISO 4217) for people: `format_money(Decimal("1234.5"), "EUR",
    locale="de")` → `1.234,50 €`; JPY has no decimals, a negative amount keeps its sign."""
    places = numbers.get_currency_precision(currency)
    return numbers.format_currency(
        _rounded(amount, places), currency, locale=locale or current_locale()
    )


@lru_cache(maxsize=256)
def _pattern(locale: str, kind: str, min_places: int, max_places: int) -> numbers.NumberPattern:
    """The locale's own decimal or percent pattern with the number of decimals we want."""
    parsed = Locale.parse(locale)
    base = (parsed.percent_formats if kind == "percent" else parsed.decimal_formats)[None]
    pattern = copy.copy(base)
    pattern.frac_prec = (min_places, max_places)
    return pattern


def format_percent(percent: Number, *, locale: str | None = None) -> str:
    """A rate given in percent (`80` is 80 %, as `revshare_percent` and conversion rates are
    stored) with two decimals in the locale's pattern: `80.00%` (en), `80,00 %` (de)."""
    locale = locale or current_locale()
    fraction = _rounded(percent, 2) / 100
    return numbers.format_percent(fraction, format=_pattern(locale, "percent", 2, 2), locale=locale)


def format_number(
    value: Number, *, places: int = 0, max_places: int | None = None, locale: str | None = None
) -> str:
    """A count or a plain quantity (end-user points) with grouped thousands: `places` decimals
    at least, `max_places` at most (default: exactly `places`)."""
    locale = locale or current_locale()
    most = places if max_places is None else max_places
    pattern = _pattern(locale, "decimal", places, most)
    return numbers.format_decimal(_rounded(value, most), format=pattern, locale=locale)
