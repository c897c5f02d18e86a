"""Reading an advertiser's conversion list (CSV) for a reconciliation, and writing its result.

Tolerant of what spreadsheets and affiliate platforms export: a UTF-8 byte order mark, `,`, `;`
or tab as the delimiter (whichever the header line uses most), header names in any case with
spaces or dashes (`Transaction ID`, `click-id`) and their common synonyms (`order_id`, `cid`,
`payout`...), status words of other platforms (`confirmed`, `declined`, `chargeback`) and
amounts with a decimal comma (`12,50`) or grouped thousands (`1,234.50`, `1.234,50`).

A file is refused whole (ApplicationError with a code) only when it cannot be read as a list:
too large (413 `file_too_large`), too many rows (413 `too_many_rows`), not UTF-8
(`invalid_encoding`), broken CSV (`invalid_csv`), no header naming an id and a status
(`missing_columns`), a column named twice (`duplicate_column`), no rows (`empty_file`). A row
that cannot be read becomes an `invalid` row with its reason; the others are still classed.
"""

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from accounts.models import User
from core.csv_export import csv_lines
from core.currencies import CURRENCY_CODES
from core.exceptions import ApplicationError
from core.money import parse_money
from tracker import selectors
from tracker.models import ConversionStatus, Reconciliation

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
MAX_VALUE_LENGTH = 255

COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "transaction_id": (
        "transaction_id",
        "transactionid",
        "transaction",
        "txn_id",
        "txn",
        "order_id",
        "orderid",
        "order",
    ),
    "click_id": ("click_id", "clickid", "click", "cid"),
    "status": ("status", "state", "conversion_status"),
    "amount": ("amount", "revenue", "payout", "sale_amount", "value", "commission"),
    "event": ("event", "event_code", "goal"),
    "currency": ("currency", "currency_code", "cur"),
}
_ALIAS_TO_COLUMN = {
    alias: column for column, aliases in COLUMN_ALIASES.items() for alias in aliases
}

_STATUS_WORDS = {
    ConversionStatus.APPROVED: ("approved", "approve", "confirmed", "accepted", "valid", "paid"),
    ConversionStatus.PENDING: ("pending", "hold", "on_hold", "open"),
    ConversionStatus.REJECTED: (
        "rejected",
        "reject",
        "declined",
        "denied",
        "invalid",
        "cancelled",
        "canceled",
    ),
    ConversionStatus.REVERSED: ("reversed", "reversal", "chargeback", "refunded"),
}
STATUS_ALIASES: dict[str, str] = {
    word: str(status) for status, words in _STATUS_WORDS.items() for word in words
}

_HEADER_SEPARATORS = re.compile(r"[\s\-.]+")
_GROUPED = re.compile(r"[0-9]{1,3}(?:[,.][0-9]{3})+(?:[.,][0-9]+)?")


@dataclass
class FileRow:
    """One data line: its number in the file (the header is line 1) and its values, or the
    reason it cannot be read (`error`, a code, and `message`)."""

    line: int
    transaction_id: str = ""
    click_id: str = ""
    status: str = ""
    amount: Decimal | None = None
    event: str = ""
    currency: str = ""
    error: str = ""
    message: str = ""


def _column_name(raw: str) -> str:
    name = _HEADER_SEPARATORS.sub("_", raw.strip().strip("\ufeff").strip().lower()).strip("_")
    return _ALIAS_TO_COLUMN.get(name, "")


def _delimiter(first_line: str) -> str:
    counts = {delimiter: first_line.count(delimiter) for delimiter in (",", ";", "\t")}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def amount_parse(text: str) -> Decimal:
    """A non-negative amount with at most 4 places. A comma alone is the decimal separator
    (`12,50`); with both a comma and a point, the last one is (`1,234.50`, `1.234,50`).
    Raise ValueError with the reason otherwise."""
    value = text.strip().replace(" ", "").replace("\u00a0", "")
    for symbol in ("$", "€", "£"):
        value = value.replace(symbol, "")
    if "," in value and "." in value:
        decimal_mark = "," if value.rfind(",") > value.rfind(".") else "."
        grouping = "." if decimal_mark == "," else ","
        if not _GROUPED.fullmatch(value):
            raise ValueError("not a decimal")
        value = value.replace(grouping, "").replace(decimal_mark, ".")
    elif value.count(",") == 1:
        value = value.replace(",", ".")
    return parse_money(value)


def file_rows(content: bytes) -> list[FileRow]:
    """The data rows of an advertiser's file (see the module docstring for what is refused)."""
    if len(content) > MAX_FILE_BYTES:
        raise ApplicationError(
            f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB: split it by date.",
            code="file_too_large",
            status=413,
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ApplicationError(
            "The file is not UTF-8 text: export it as CSV UTF-8.", code="invalid_encoding"
        ) from exc
    if not text.strip():
        raise ApplicationError("The file is empty.", code="empty_file")
    delimiter = _delimiter(text.split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
        columns = [_column_name(name) for name in header]
        named = [column for column in columns if column]
        twice = sorted({column for column in named if named.count(column) > 1})
        if twice:
            raise ApplicationError(
                f"More than one column means {', '.join(twice)}: keep one.",
                code="duplicate_column",
            )
        if "status" not in named or not {"transaction_id", "click_id"} & set(named):
            raise ApplicationError(
                "The first line must name the columns: transaction_id or click_id, and status "
                "(amount, event and currency may follow).",
                code="missing_columns",
            )
        rows: list[FileRow] = []
        for values in reader:
            if not any(value.strip() for value in values):
                continue
            if len(rows) >= MAX_ROWS:
                raise ApplicationError(
                    f"At most {MAX_ROWS:,} rows per file: split it by date.",
                    code="too_many_rows",
                    status=413,
                )
            rows.append(_row(reader.line_num, columns, values))
    except csv.Error as exc:
        raise ApplicationError(f"The file is not valid CSV: {exc}.", code="invalid_csv") from exc
    if not rows:
        raise ApplicationError("The file has a header but no rows.", code="empty_file")
    return rows


def _row(line: int, columns: list[str], values: list[str]) -> FileRow:
    row = FileRow(line=line)
    cells = {
        column: value.strip() for column, value in zip(columns, values, strict=False) if column
    }
    too_long = sorted(name for name, value in cells.items() if len(value) > MAX_VALUE_LENGTH)
    if too_long:
        row.error, row.message = "value_too_long", f"{too_long[0]} is longer than 255 characters"
        return row
    row.transaction_id = cells.get("transaction_id", "")
    row.click_id = cells.get("click_id", "")
    row.event = cells.get("event", "").lower()[:64]
    row.currency = cells.get("currency", "").upper()
    status_text = _HEADER_SEPARATORS.sub("_", cells.get("status", "").lower())
    if not row.transaction_id and not row.click_id:
        row.error, row.message = "missing_id", "neither a transaction_id nor a click_id"
        return row
    if not status_text:
        row.error, row.message = "missing_status", "no status"
        return row
    status = STATUS_ALIASES.get(status_text)
    if status is None:
        row.error, row.message = "invalid_status", f"unknown status {status_text[:32]!r}"
        return row
    row.status = status
    amount_text = cells.get("amount", "")
    if amount_text:
        try:
            row.amount = amount_parse(amount_text)
        except ValueError as exc:
            row.error, row.message = "invalid_amount", f"amount {amount_text[:32]!r}: {exc}"
            return row
    if row.currency and row.currency not in CURRENCY_CODES:
        row.error, row.message = "invalid_currency", f"unknown currency {row.currency[:8]!r}"
    return row


def reconciliation_result_lines(*, reconciliation: Reconciliation, viewer: User) -> Iterator[str]:
    """The result file's lines: every row with its class, planned action and outcome."""
    columns = selectors.reconciliation_result_columns(viewer=viewer)
    header = [header for header, _ in columns]
    rows = selectors.reconciliation_rows(reconciliation=reconciliation).iterator(chunk_size=2000)
    return csv_lines(header, ([getattr(row, name) for _, name in columns] for row in rows))
