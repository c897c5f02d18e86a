"""Exchange rates: the daily rate table, its lookup rules and the ways rates come in.

A row says: on `date`, 1 `from_currency` is worth `rate` `to_currency`. Rates come in three ways,
all through `exchange_rate_set` (one row per date and pair; entering it again replaces the rate):
the console and `POST /api/exchange-rates`, a CSV import (`exchange_rates_import`, also behind
the `import_exchange_rates` command and the console's upload page), and the scheduled load from
EXCHANGE_RATES_URL (`exchange_rates_load`).

The lookup (`exchange_rate_for`, and `ExchangeRateTable` for many days at once) takes the rate of
the day asked for: the pair as entered, else the inverse of the opposite pair (1 / rate, rounded
half-up to 10 places). With EXCHANGE_RATE_MAX_AGE_DAYS = N > 0, a day without a rate takes the
most recent one of the N days before it; by default (0) only that day's rate counts. Nothing is
ever derived through a third currency: EUR->GBP needs an EUR/GBP (or GBP/EUR) row.

A converted amount is `amount x rate` rounded half-up to 4 places (`core.money`), like every
stored amount.
"""

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.audit import audit_record
from core.currencies import CURRENCY_CODES
from core.exceptions import ApplicationError
from core.http_client import http_send
from core.models import AuditSource
from core.money import DECIMAL_TEXT, decimal_text, decimal_text_refusal, quantize_money
from payouts.models import (
    RATE_DECIMAL_PLACES,
    RATE_MAX_DIGITS,
    ExchangeRate,
    ExchangeRateSource,
)

RATE_PLACES = Decimal(1).scaleb(-RATE_DECIMAL_PLACES)
_RATE_LIMIT = Decimal(10) ** (RATE_MAX_DIGITS - RATE_DECIMAL_PLACES)
CSV_COLUMNS = ("date", "from_currency", "to_currency", "rate")
# A rate document larger than this is refused: 170 currencies take about 4 KB.
FEED_MAX_BYTES = 256 * 1024


# --- parsing -----------------------------------------------------------------------------------


def currency_code_parse(raw: object) -> str:
    """An ISO 4217 code of `core.currencies` (any case, surrounding spaces dropped); ValueError
    otherwise."""
    if not isinstance(raw, str) or raw.strip().upper() not in CURRENCY_CODES:
        raise ValueError("not an ISO 4217 currency code")
    return raw.strip().upper()


def rate_parse(raw: object) -> Decimal:
    """A positive rate written as a plain decimal with at most 10 places (`1.0512`); ValueError
    with a short reason otherwise (as `core.money.parse_money`)."""
    text = decimal_text(raw)
    match = DECIMAL_TEXT.fullmatch(text)
    if match is None:
        raise ValueError(decimal_text_refusal(text))
    if match["sign"]:
        raise ValueError("negative")
    if len(match["places"] or "") > RATE_DECIMAL_PLACES:
        raise ValueError(f"more than {RATE_DECIMAL_PLACES} decimal places")
    rate = Decimal(text)
    if rate == 0:
        raise ValueError("zero")
    if rate >= _RATE_LIMIT:
        raise ValueError("too large")
    return rate.quantize(RATE_PLACES)


def date_parse(raw: object) -> dt.date:
    """A day written YYYY-MM-DD; ValueError otherwise."""
    try:
        return dt.date.fromisoformat(str(raw).strip())
    except ValueError:
        raise ValueError("not a date (YYYY-MM-DD)") from None


def money_convert(*, amount: Decimal, rate: Decimal) -> Decimal:
    """`amount` in the other currency: amount x rate, half-up to 4 places."""
    return quantize_money(amount * rate)


def _inverse(rate: Decimal) -> Decimal:
    return (Decimal(1) / rate).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


# --- lookup ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    date: dt.date
    from_currency: str
    to_currency: str
    rate: Decimal


def _rate_pick(
    rows: Iterable[_Row], *, on: dt.date, from_currency: str, to_currency: str, max_age: int
) -> Decimal | None:
    """The rules, on rows already read: the latest day in [on - max_age, on] with a rate of the
    pair, the pair as entered before the inverse of the opposite pair on the same day."""
    best: tuple[dt.date, int, Decimal] | None = None
    earliest = _days_before(on, max_age)
    for row in rows:
        if not earliest <= row.date <= on:
            continue
        if (row.from_currency, row.to_currency) == (from_currency, to_currency):
            candidate = (row.date, 1, row.rate)
        elif (row.from_currency, row.to_currency) == (to_currency, from_currency):
            candidate = (row.date, 0, _inverse(row.rate))
        else:
            continue
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    return None if best is None else best[2]


def _max_age() -> int:
    return max(0, int(settings.EXCHANGE_RATE_MAX_AGE_DAYS))


def _days_before(day: dt.date, days: int) -> dt.date:
    """`day` minus `days`, never before the first representable day."""
    return day - dt.timedelta(days=min(days, (day - dt.date.min).days))


def _rows(queryset) -> list[_Row]:
    return [
        _Row(*values)
        for values in queryset.values_list("date", "from_currency", "to_currency", "rate")
    ]


def exchange_rate_for(*, on: dt.date, from_currency: str, to_currency: str) -> Decimal | None:
    """What 1 `from_currency` is worth in `to_currency` on `on`, or None when no rate applies.

    The same currency is 1. Else that day's rate of the pair, else the inverse of the opposite
    pair's (rounded half-up to 10 places); with EXCHANGE_RATE_MAX_AGE_DAYS = N, the most recent
    of the N days before when that day has none. One query.
    """
    if from_currency == to_currency:
        return Decimal(1)
    max_age = _max_age()
    rows = ExchangeRate.objects.filter(
        Q(from_currency=from_currency, to_currency=to_currency)
        | Q(from_currency=to_currency, to_currency=from_currency),
        date__gte=_days_before(on, max_age),
        date__lte=on,
    )
    return _rate_pick(
        _rows(rows), on=on, from_currency=from_currency, to_currency=to_currency, max_age=max_age
    )


class ExchangeRateTable:
    """The rates of several currencies into one, over a range of days, read in one query; then
    `rate(on=, from_currency=)` applies `exchange_rate_for`'s rules in memory."""

    def __init__(
        self, *, currencies: Iterable[str], to_currency: str, first: dt.date, last: dt.date
    ) -> None:
        self.to_currency = to_currency
        self.max_age = _max_age()
        others = sorted(set(currencies) - {to_currency})
        rows = ExchangeRate.objects.filter(
            Q(from_currency__in=others, to_currency=to_currency)
            | Q(from_currency=to_currency, to_currency__in=others),
            date__gte=_days_before(first, self.max_age),
            date__lte=last,
        )
        self._by_currency: dict[str, list[_Row]] = {}
        for row in _rows(rows):
            other = row.from_currency if row.to_currency == to_currency else row.to_currency
            self._by_currency.setdefault(other, []).append(row)

    def rate(self, *, on: dt.date, from_currency: str) -> Decimal | None:
        if from_currency == self.to_currency:
            return Decimal(1)
        return _rate_pick(
            self._by_currency.get(from_currency, ()),
            on=on,
            from_currency=from_currency,
            to_currency=self.to_currency,
            max_age=self.max_age,
        )


def exchange_rate_list(
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    from_currency: str = "",
    to_currency: str = "",
    currency: str = "",
):
    """Rates, newest day first, narrowed by day range and currencies (`currency`: either side)."""
    rates = ExchangeRate.objects.all()
    if date_from is not None:
        rates = rates.filter(date__gte=date_from)
    if date_to is not None:
        rates = rates.filter(date__lte=date_to)
    if from_currency:
        rates = rates.filter(from_currency=from_currency)
    if to_currency:
        rates = rates.filter(to_currency=to_currency)
    if currency:
        rates = rates.filter(Q(from_currency=currency) | Q(to_currency=currency))
    return rates.order_by("-date", "from_currency", "to_currency", "id")


# --- writing -----------------------------------------------------------------------------------


def _pair_check(from_currency: str, to_currency: str) -> None:
    if from_currency == to_currency:
        raise ApplicationError(
            "A rate converts between two different currencies.",
            code="same_currency",
            fields={"to_currency": ["Must differ from from_currency."]},
        )


@transaction.atomic
def exchange_rate_set(
    *,
    on: dt.date,
    from_currency: str,
    to_currency: str,
    rate: Decimal,
    source: str = ExchangeRateSource.MANUAL,
    actor=None,
    audit_source: str = AuditSource.SYSTEM,
    now: dt.datetime | None = None,
) -> tuple[ExchangeRate, bool]:
    """Set the rate of (on, from, to): insert it, or replace the rate already there. Returns the
    row and whether it is new.

    Codes must be `core.currencies` codes (400 `invalid_currency`) and differ (400
    `same_currency`); `rate` > 0 with at most 10 places (the callers parse it). One upsert, so two
    concurrent calls for the same day and pair leave one row (the later rate). The change is
    audited (a rate is configuration: it prices conversions).
    """
    for name, code in (("from_currency", from_currency), ("to_currency", to_currency)):
        if code not in CURRENCY_CODES:
            raise ApplicationError(
                f"Unknown currency {code!r}: an ISO 4217 code is expected.",
                code="invalid_currency",
                fields={name: ["Not an ISO 4217 currency code."]},
            )
    _pair_check(from_currency, to_currency)
    now = now or timezone.now()
    rate = rate.quantize(RATE_PLACES)
    before = (
        ExchangeRate.objects.filter(date=on, from_currency=from_currency, to_currency=to_currency)
        .values_list("rate", "source")
        .first()
    )
    ExchangeRate.objects.bulk_create(
        [
            ExchangeRate(
                date=on,
                from_currency=from_currency,
                to_currency=to_currency,
                rate=rate,
                source=source,
                updated_at=now,
            )
        ],
        update_conflicts=True,
        unique_fields=["date", "from_currency", "to_currency"],
        update_fields=["rate", "source", "updated_at"],
    )
    row = ExchangeRate.objects.get(date=on, from_currency=from_currency, to_currency=to_currency)
    audit_record(
        actor=actor,
        source=audit_source,
        action="create" if before is None else "update",
        obj_type=ExchangeRate,
        obj_id=row.pk,
        obj_repr=str(row),
        before=None if before is None else {"rate": before[0], "source": before[1]},
        after={"rate": row.rate, "source": row.source},
        now=now,
    )
    return row, before is None


# --- CSV import --------------------------------------------------------------------------------


class ImportRowStatus:
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    ERROR = "error"


@dataclass(frozen=True)
class ImportRow:
    """One data line of the file: its line number (the header is line 1), what it said, and
    what importing it does (or did): `created`, `updated`, `unchanged` or `error` (`message`)."""

    line: int
    status: str
    date: dt.date | None = None
    from_currency: str = ""
    to_currency: str = ""
    rate: Decimal | None = None
    message: str = ""


@dataclass
class ImportReport:
    """Every data row's outcome. `written` is False on a dry run and whenever a row has an
    error: an import is all or nothing, so a file is fixed and imported again whole."""

    rows: list[ImportRow] = field(default_factory=list)
    dry_run: bool = False
    written: bool = False

    def count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.status == status)

    @property
    def errors(self) -> list[ImportRow]:
        return [row for row in self.rows if row.status == ImportRowStatus.ERROR]


def _import_row_read(line: int, record: dict[str, str | None]) -> ImportRow:
    values: dict = {}
    problems: list[str] = []
    readers: Sequence[tuple[str, Callable[[object], object]]] = (
        ("date", date_parse),
        ("from_currency", currency_code_parse),
        ("to_currency", currency_code_parse),
        ("rate", rate_parse),
    )
    for name, read in readers:
        raw = record.get(name)
        try:
            values[name] = read(raw if raw is not None else "")
        except ValueError as error:
            problems.append(f"{name} {(raw or '')[:40]!r}: {error}")
    if not problems and values["from_currency"] == values["to_currency"]:
        problems.append("from_currency and to_currency are the same")
    if problems:
        return ImportRow(line=line, status=ImportRowStatus.ERROR, message="; ".join(problems))
    return ImportRow(line=line, status="", **values)


def _csv_records(text: str) -> Iterable[tuple[int, dict[str, str | None]]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in CSV_COLUMNS if name not in header]
    if missing:
        raise ApplicationError(
            f"The CSV's first line must name the columns {', '.join(CSV_COLUMNS)} "
            f"(missing: {', '.join(missing)}).",
            code="invalid_csv",
            fields={"file": [f"Missing columns: {', '.join(missing)}."]},
        )
    reader.fieldnames = header
    for record in reader:
        if not any((value or "").strip() for value in record.values() if isinstance(value, str)):
            continue  # a blank line
        yield reader.line_num, record


def exchange_rates_import(
    *,
    text: str,
    dry_run: bool,
    actor=None,
    audit_source: str = AuditSource.SYSTEM,
    progress: Callable[[ImportRow], None] | None = None,
    now: dt.datetime | None = None,
) -> ImportReport:
    """Read a CSV of rates (header `date,from_currency,to_currency,rate`, more columns ignored)
    and report every row: `created`, `updated` (the day's rate of that pair changes),
    `unchanged`, or `error` with the reason (bad field, or the same day and pair twice).

    A dry run, or a file with any error, writes nothing. Otherwise every row is set in one
    transaction (`exchange_rate_set`, source `csv`). `progress` is called with each row's outcome
    as it is decided. Raises ApplicationError 400 `invalid_csv` for a file without the header.
    """
    now = now or timezone.now()
    report = ImportReport(dry_run=dry_run)
    read: list[ImportRow] = []
    seen: dict[tuple, int] = {}
    for line, record in _csv_records(text):
        row = _import_row_read(line, record)
        if row.status != ImportRowStatus.ERROR:
            key = (row.date, row.from_currency, row.to_currency)
            if key in seen:
                row = ImportRow(
                    line=line,
                    status=ImportRowStatus.ERROR,
                    message=f"the same day and pair as line {seen[key]}",
                )
            else:
                seen[key] = line
        read.append(row)
    days = {row.date for row in read if row.date is not None}
    existing: dict[tuple[dt.date | None, str, str], Decimal] = {
        (rate.date, rate.from_currency, rate.to_currency): rate.rate
        for rate in ExchangeRate.objects.filter(date__in=days)
    }
    for row in read:
        if row.status != ImportRowStatus.ERROR:
            before = existing.get((row.date, row.from_currency, row.to_currency))
            status = (
                ImportRowStatus.CREATED
                if before is None
                else ImportRowStatus.UNCHANGED
                if before == row.rate
                else ImportRowStatus.UPDATED
            )
            row = ImportRow(**{**row.__dict__, "status": status})
        report.rows.append(row)
        if progress is not None:
            progress(row)
    if dry_run or report.errors:
        return report
    with transaction.atomic():
        for row in report.rows:
            if row.status not in (ImportRowStatus.CREATED, ImportRowStatus.UPDATED):
                continue
            if row.date is not None and row.rate is not None:  # always, for these statuses
                exchange_rate_set(
                    on=row.date,
                    from_currency=row.from_currency,
                    to_currency=row.to_currency,
                    rate=row.rate,
                    source=ExchangeRateSource.CSV,
                    actor=actor,
                    audit_source=audit_source,
                    now=now,
                )
    report.written = True
    return report


# --- scheduled load ----------------------------------------------------------------------------


class ExchangeRateFeedError(Exception):
    """The rate source could not be read. `is_transient`: worth retrying (network, timeout,
    5xx, 429); otherwise the source or its document is wrong and a retry would fail the same."""

    def __init__(self, message: str, *, is_transient: bool) -> None:
        super().__init__(message)
        self.is_transient = is_transient


@dataclass(frozen=True)
class FeedResult:
    date: dt.date
    base: str
    loaded: int
    skipped: list[str]


def _feed_parse(raw: bytes) -> tuple[dt.date, str, list[tuple[str, Decimal]], list[str]]:
    """The date, base and rates of a `{"base": .., "date": .., "rates": {code: rate}}` document;
    rates may be JSON numbers (read as Decimal, never float) or strings. Codes we do not know and
    unreadable rates are skipped and named."""
    try:
        document = json.loads(raw, parse_float=Decimal, parse_int=Decimal)
    except ValueError as error:
        raise ExchangeRateFeedError(f"not JSON: {error}", is_transient=False) from error
    if not isinstance(document, dict) or not isinstance(document.get("rates"), dict):
        raise ExchangeRateFeedError(
            'not a rate document: expected {"base": .., "date": .., "rates": {..}}',
            is_transient=False,
        )
    try:
        base = currency_code_parse(document.get("base"))
        on = date_parse(document.get("date"))
    except ValueError as error:
        raise ExchangeRateFeedError(f"base or date: {error}", is_transient=False) from error
    rates: list[tuple[str, Decimal]] = []
    skipped: list[str] = []
    for code, value in document["rates"].items():
        try:
            currency = currency_code_parse(code)
            if currency == base:
                continue
            text = str(value) if isinstance(value, Decimal) else value
            rates.append((currency, rate_parse(text)))
        except (ValueError, InvalidOperation) as error:
            skipped.append(f"{str(code)[:10]}: {error}")
    return on, base, rates, skipped


def exchange_rates_load(*, url: str, now: dt.datetime | None = None) -> FeedResult:
    """Fetch the rate document at `url` through `core.http_client` and set each of its rates
    (base -> code) for its date (source `feed`), in one transaction.

    Running again for the same document rewrites the same rows with the same rates, so a retry
    or a second scheduled run is harmless. Raises ExchangeRateFeedError when the source cannot be
    read (transient or not, see there); a document with no usable rate is such an error too.
    """
    now = now or timezone.now()
    result = http_send(
        method="GET",
        url=url,
        headers={"Accept": "application/json"},
        max_response_bytes=FEED_MAX_BYTES + 1,
    )
    if result.status_code is None:
        # Network trouble is worth a retry; a refused destination (not public) is not.
        transient = not result.error.startswith("refused destination")
        raise ExchangeRateFeedError(result.error, is_transient=transient)
    if not result.is_success:
        transient = result.status_code >= 500 or result.status_code == 429
        raise ExchangeRateFeedError(f"HTTP {result.status_code}", is_transient=transient)
    body = result.response_bytes
    if len(body) > FEED_MAX_BYTES:
        raise ExchangeRateFeedError(
            f"the document is larger than {FEED_MAX_BYTES} bytes", is_transient=False
        )
    on, base, rates, skipped = _feed_parse(body)
    if not rates:
        raise ExchangeRateFeedError("the document has no usable rate", is_transient=False)
    with transaction.atomic():
        for currency, rate in rates:
            exchange_rate_set(
                on=on,
                from_currency=base,
                to_currency=currency,
                rate=rate,
                source=ExchangeRateSource.FEED,
                now=now,
            )
    return FeedResult(date=on, base=base, loaded=len(rates), skipped=skipped)
