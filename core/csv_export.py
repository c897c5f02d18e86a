"""The one CSV writer of every export (API, portal, admin), and the rule that keeps a text cell
from running as a spreadsheet formula.

Spreadsheets run a cell as a formula when it starts with `=`, `+`, `-` or `@` (OWASP's list, with
tab and carriage return), and many skip leading blanks and read full-width forms (U+FF1D, U+FF0B) as
their ASCII twins. So a text cell is prefixed with `'` when it starts with a tab or a line break,
or when its first visible character, NFKC-normalised, is one of those four (or the minus sign
U+2212). Only text is guarded: the numbers, dates and times we write ourselves (Decimal, int,
date, datetime) are never formulas, so a negative amount stays `-5.0000`.
"""

import csv
import datetime as dt
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

_FORMULA_STARTS = frozenset("=+-@\u2212")
_LINE_STARTS = ("\t", "\r", "\n")
# Blank to a reader: whitespace, line and paragraph separators, control and format characters
# (zero-width spaces, the byte order mark, bidi marks).
_INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})


def _first_visible(text: str) -> str | None:
    for char in text:
        if not char.isspace() and unicodedata.category(char) not in _INVISIBLE_CATEGORIES:
            return char
    return None


def is_formula_like(text: str) -> bool:
    """True when a spreadsheet could read `text` as a formula (module docstring)."""
    if text.startswith(_LINE_STARTS):
        return True
    first = _first_visible(text)
    if first is None:
        return False
    return first in _FORMULA_STARTS or unicodedata.normalize("NFKC", first)[:1] in _FORMULA_STARTS


def csv_cell(value: Any) -> str:
    """One cell: "" for None, numbers as written, ISO 8601 for dates and times, a list's items
    space-separated, anything else as text guarded against formulas."""
    if value is None:
        return ""
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    # A list of codes (fraud signals): space-separated, as they are typed in filters.
    text = " ".join(str(item) for item in value) if isinstance(value, list) else str(value)
    return "'" + text if is_formula_like(text) else text


class _Echo:
    """A file that hands back what is written: csv.writer then yields one line per row."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The header, then one line per row (a generator, for a StreamingHttpResponse)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([csv_cell(value) for value in row])
