"""Sortable, paginated tables and their CSV export, shared by every list page.

A view hands over a queryset that its selector already scoped; this module only orders it by a
whitelisted column (`?sort=name` / `?sort=-name`), slices a page (`?page=`) and streams CSV.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse

from core.csv_export import csv_lines

PER_PAGE = 25


@dataclass(frozen=True)
class Column:
    label: str
    sort: str | None = None  # the ?sort= key; None: not sortable
    numeric: bool = False


@dataclass(frozen=True)
class Header:
    label: str
    numeric: bool
    sort_key: str | None
    next_sort: str | None
    aria_sort: str  # "ascending", "descending" or "none"


class Table:
    """One page of `queryset`, ordered by the requested column (else `default_sort`)."""

    def __init__(
        self,
        request: HttpRequest,
        queryset: QuerySet,
        *,
        columns: Sequence[Column],
        sorts: dict[str, str],
        default_sort: str,
        per_page: int = PER_PAGE,
    ) -> None:
        requested = request.GET.get("sort", default_sort)
        key = requested.removeprefix("-")
        if key not in sorts:
            requested, key = default_sort, default_sort.removeprefix("-")
        self.descending = requested.startswith("-")
        self.sort = requested
        self.sort_key = key
        prefix = "-" if self.descending else ""
        self.queryset = queryset.order_by(f"{prefix}{sorts[key]}", f"{prefix}pk")
        self.columns = columns
        self.per_page = per_page
        self._request = request

    @property
    def headers(self) -> list[Header]:
        headers = []
        for column in self.columns:
            if column.sort is None:
                headers.append(Header(column.label, column.numeric, None, None, "none"))
                continue
            active = column.sort == self.sort_key
            next_sort = column.sort if active and self.descending else f"-{column.sort}"
            if not active:
                next_sort = column.sort
            aria = ("descending" if self.descending else "ascending") if active else "none"
            headers.append(Header(column.label, column.numeric, column.sort, next_sort, aria))
        return headers

    @property
    def page(self) -> Page:
        if not hasattr(self, "_page"):
            paginator = Paginator(self.queryset, self.per_page)
            self._page = paginator.get_page(self._request.GET.get("page"))
        return self._page


def wants_csv(request: HttpRequest) -> bool:
    return request.GET.get("format") == "csv"


def csv_response(filename: str, lines: Iterable[str]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_export(
    filename: str,
    queryset: QuerySet,
    header: Sequence[str],
    row: Callable[[Any], Sequence[Any]],
) -> StreamingHttpResponse:
    """Every row of `queryset` (already filtered and ordered), streamed in chunks."""
    rows = (row(obj) for obj in queryset.iterator(chunk_size=2000))
    return csv_response(filename, csv_lines(header, rows))
