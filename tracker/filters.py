"""Query-string filters of the tracker API, applied to the selectors' (already scoped) querysets.

A filter narrows what the viewer may see; it never widens it. `date_from` / `date_to` are UTC
calendar days, both inclusive; `created_after` (inclusive) / `created_before` (exclusive) take
RFC 3339 date-times for anything finer. Junk in any of them is a 400 (see core.filters).
"""

from typing import Any

import django_filters
from django.db.models import Q, QuerySet

from core.filters import BooleanFilter, CreatedRangeFilterSet, IdFilter
from tracker.models import (
    BlockedReason,
    Click,
    Conversion,
    ConversionStatus,
    DeviceType,
    EndUserPoints,
)
from tracker.selectors import money_visible


class FraudSignalsFilterSet(django_filters.FilterSet):
    """`has_fraud_signals` and `fraud_signal` on a model's `fraud_signals` (a JSON list)."""

    has_fraud_signals = BooleanFilter(
        method="filter_has_fraud_signals", help_text="true: rows that raised any fraud signal."
    )
    fraud_signal = django_filters.CharFilter(
        method="filter_fraud_signal", help_text="Rows that raised this fraud signal code."
    )

    def filter_has_fraud_signals(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        flagged = ~Q(fraud_signals=[])
        return queryset.filter(flagged) if value else queryset.exclude(flagged)

    def filter_fraud_signal(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(fraud_signals__contains=[value.strip()])


class ClickFilter(CreatedRangeFilterSet, FraudSignalsFilterSet):
    campaign = IdFilter(field_name="campaign_id")
    affiliate = IdFilter(
        field_name="affiliate_id", help_text="Affiliate id (admins and advertisers)."
    )
    click_id = django_filters.CharFilter()
    sub1 = django_filters.CharFilter()
    sub2 = django_filters.CharFilter()
    sub3 = django_filters.CharFilter()
    sub4 = django_filters.CharFilter()
    sub5 = django_filters.CharFilter()
    user_id = django_filters.CharFilter()
    country = django_filters.CharFilter(lookup_expr="iexact")
    is_unique = BooleanFilter()
    blocked_reason = django_filters.ChoiceFilter(choices=BlockedReason.choices)
    device_type = django_filters.ChoiceFilter(choices=DeviceType.choices)
    os = django_filters.CharFilter(lookup_expr="iexact")
    browser = django_filters.CharFilter(lookup_expr="iexact")
    landing_page = IdFilter(field_name="landing_page_id", help_text="Landing page id.")
    smart_link = IdFilter(field_name="smart_link_id", help_text="Smart link id.")
    ordering = django_filters.OrderingFilter(
        fields=(("id", "id"), ("created_at", "created_at")),
        help_text="id or created_at; prefix with - for descending. Default: -id.",
    )

    class Meta:
        model = Click
        fields: list[str] = []


_MONEY = ("payout", "revenue")
_CONVERSION_ORDERINGS = (
    ("id", "id"),
    ("created_at", "created_at"),
    ("updated_at", "updated_at"),
    ("payout", "payout"),
    ("revenue", "revenue"),
)


class ConversionFilter(CreatedRangeFilterSet, FraudSignalsFilterSet):
    campaign = IdFilter(field_name="campaign_id")
    affiliate = IdFilter(
        field_name="affiliate_id", help_text="Affiliate id (admins and advertisers)."
    )
    status = django_filters.ChoiceFilter(choices=ConversionStatus.choices)
    event = django_filters.CharFilter(
        method="filter_event", help_text="A conversion event's code (lead, sale, default, ...)."
    )
    click_id = django_filters.CharFilter(field_name="click__click_id")
    transaction_id = django_filters.CharFilter()
    sub1 = django_filters.CharFilter(field_name="click__sub1", help_text="The click's sub1.")
    sub2 = django_filters.CharFilter(field_name="click__sub2", help_text="The click's sub2.")
    sub3 = django_filters.CharFilter(field_name="click__sub3", help_text="The click's sub3.")
    sub4 = django_filters.CharFilter(field_name="click__sub4", help_text="The click's sub4.")
    sub5 = django_filters.CharFilter(field_name="click__sub5", help_text="The click's sub5.")
    user_id = django_filters.CharFilter()
    currency = django_filters.CharFilter(lookup_expr="iexact")
    ordering = django_filters.OrderingFilter(
        fields=_CONVERSION_ORDERINGS,
        help_text=(
            "id, created_at, updated_at, or an amount the caller sees: payout (admins and "
            "affiliates), revenue (admins and advertisers); prefix with - for descending."
        ),
    )

    class Meta:
        model = Conversion
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Ranking rows by an amount the caller may not read would give it away, a little.
        user = getattr(self.request, "user", None)
        if user is None or not user.is_authenticated:
            return
        visible = money_visible(viewer=user)
        allowed = tuple(
            pair for pair in _CONVERSION_ORDERINGS if pair[0] not in _MONEY or pair[0] in visible
        )
        ordering = django_filters.OrderingFilter(
            fields=allowed, help_text=self.filters["ordering"].extra["help_text"]
        )
        ordering.field_name = "ordering"
        ordering.model = self.queryset.model
        ordering.parent = self
        self.filters["ordering"] = ordering

    def filter_event(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(event__code=value.strip().lower())


class PointsFilter(django_filters.FilterSet):
    user_id = django_filters.CharFilter(help_text="The end user's id (the click's `user_id`).")
    affiliate = IdFilter(field_name="affiliate_id", help_text="Admins.")
    ordering = django_filters.OrderingFilter(
        fields=(("user_id", "user_id"), ("points", "points"), ("updated_at", "updated_at")),
        help_text="user_id, points or updated_at; prefix with - for descending.",
    )

    class Meta:
        model = EndUserPoints
        fields: list[str] = []
