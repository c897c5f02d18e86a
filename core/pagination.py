"""Pagination for every list endpoint: `?page=N&page_size=M` (at most 500)."""

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from core.filters import POSITIVE_INTEGER


def _positive_integer(request: Request, name: str) -> int | None:
    """The query parameter `name` as a positive integer, None when absent or empty (as for every
    query parameter of the API); junk is a 400."""
    value = request.query_params.get(name)
    if not value:
        return None
    if POSITIVE_INTEGER.fullmatch(value) is None:
        raise ValidationError({name: ["A positive integer."]})
    return int(value)


class StandardPagination(PageNumberPagination):
    """DRF's page-number pagination, strict about its parameters: `page` and `page_size` are
    positive integers, absent or empty, else a 400 (DRF would read junk as the defaults, and
    `page=last` as the last page, neither of which the schema says). A page past the last one is
    a 404; a `page_size` above 500 is cut to 500."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request: Request) -> int:
        size = _positive_integer(request, self.page_size_query_param)
        return self.page_size if size is None else min(size, self.max_page_size)

    def get_page_number(self, request: Request, paginator) -> int:
        return _positive_integer(request, self.page_query_param) or 1

    def row_count(self) -> int:
        """How many rows the list paged by `paginate_queryset` has, all pages together."""
        if self.page is None:  # never after paginate_queryset: the page size is never 0
            raise RuntimeError("Nothing was paged yet.")
        return self.page.paginator.count


def paginated_response(
    *,
    queryset: QuerySet[Any, Any] | Sequence[Any],
    serializer_class: type[BaseSerializer],
    request: Request,
    view: APIView,
    context: dict[str, Any] | None = None,
) -> Response:
    """One page of `queryset` serialized with `serializer_class`, in DRF's standard envelope
    (`count`, `next`, `previous`, `results`)."""
    paginator = StandardPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    serializer = serializer_class(page, many=True, context=context or {"request": request})
    return paginator.get_paginated_response(serializer.data)
