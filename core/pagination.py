"""Pagination for every list endpoint: `?page=N&page_size=M` (at most 500)."""

from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class StandardPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def paginated_response(
    *, queryset, serializer_class, request: Request, view: APIView, context: dict | None = None
) -> Response:
    """One page of `queryset` serialized with `serializer_class`, in DRF's standard envelope
    (`count`, `next`, `previous`, `results`)."""
    paginator = StandardPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    serializer = serializer_class(page, many=True, context=context or {"request": request})
    return paginator.get_paginated_response(serializer.data)
