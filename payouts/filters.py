"""Query-string filters for payout lists and exports, applied to a selector's (already scoped)
queryset: they narrow what the viewer may see, never widen it."""

from collections.abc import Sequence

import django_filters
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.views import APIView

from core.filters import IdFilter, IsoDateTimeFilter
from payouts.models import PayoutRequest, PayoutStatus

PAYOUT_ORDERING_FIELDS = ["id", "created_at", "amount", "status", "currency", "paid_at"]


class PayoutFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=PayoutStatus.choices)
    currency = django_filters.CharFilter(field_name="currency", lookup_expr="iexact")
    affiliate_id = IdFilter(field_name="affiliate_id")
    created_after = IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="RFC 3339 date-time, inclusive."
    )
    created_before = IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lte", help_text="RFC 3339 date-time, inclusive."
    )

    class Meta:
        model = PayoutRequest
        fields = ["status", "currency", "affiliate_id", "created_after", "created_before"]


class StableOrderingFilter(OrderingFilter):
    """`?ordering=` on the view's whitelist (comma-separated, `-` for descending), with `-id` as
    the last key: rows that tie on the requested field keep one order, so pages never repeat or
    skip a row. A name off the whitelist is a 400, as in every other list of the API (DRF's own
    filter would silently drop it)."""

    def _choices(self, view: APIView) -> list[str]:
        # The view's own whitelist of names (DRF's get_valid_fields also builds a default one
        # from a queryset, which this filter does not offer).
        fields: Sequence[str] = getattr(view, "ordering_fields", None) or self.ordering_fields or []
        return [term for name in fields for term in (name, f"-{name}")]

    def get_ordering(self, request, queryset, view) -> list[str]:
        param = request.query_params.get(self.ordering_param)
        if param:
            ordering = param.split(",")
            choices = self._choices(view)
            unknown = [term for term in ordering if term not in choices]
            if unknown:
                raise ValidationError(
                    {
                        self.ordering_param: [
                            f"Unknown ordering {unknown[0]!r}: use {', '.join(choices)}."
                        ]
                    }
                )
        else:
            ordering = list(self.get_default_ordering(view) or [])
        if not {"id", "-id", "pk", "-pk"} & set(ordering):
            ordering.append("-id")
        return ordering

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": (
                    "Comma-separated sort keys; `-` for descending. Ties end in `-id`."
                ),
                "schema": {
                    "type": "array",
                    "items": {"type": "string", "enum": self._choices(view)},
                },
                "style": "form",
                "explode": False,
            }
        ]
