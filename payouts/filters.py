"""Query-string filters for payout lists and exports, applied to a selector's (already scoped)
queryset: they narrow what the viewer may see, never widen it."""

import django_filters
from rest_framework.filters import OrderingFilter

from payouts.models import PayoutRequest, PayoutStatus

PAYOUT_ORDERING_FIELDS = ["id", "created_at", "amount", "status", "currency", "paid_at"]


class PayoutFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=PayoutStatus.choices)
    currency = django_filters.CharFilter(field_name="currency", lookup_expr="iexact")
    affiliate_id = django_filters.NumberFilter(field_name="affiliate_id")
    # `created_after` / `created_before` (ISO 8601 date-times, both inclusive).
    created = django_filters.IsoDateTimeFromToRangeFilter(field_name="created_at")

    class Meta:
        model = PayoutRequest
        fields = ["status", "currency", "affiliate_id", "created"]


class StableOrderingFilter(OrderingFilter):
    """`?ordering=` on the view's whitelist, with `-id` as the last key: rows that tie on the
    requested field keep one order, so pages never repeat or skip a row."""

    def get_ordering(self, request, queryset, view) -> list[str]:
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if not {"id", "-id", "pk", "-pk"} & set(ordering):
            ordering.append("-id")
        return ordering
