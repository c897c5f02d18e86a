"""Query-string filters for the admin's affiliate and advertiser lists. They narrow the
selector's (already scoped) queryset, never widen it."""

import django_filters
from django.db.models import Q, QuerySet

from accounts.models import Advertiser, Affiliate, ApprovalStatus

# `?ordering=` names -> model fields; the user id breaks ties so pages never repeat a row.
PARTNER_ORDERING = (
    ("user_id", "id"),
    ("created_at", "created_at"),
    ("user__email", "email"),
    ("company", "company"),
    ("status", "status"),
)
# What `?ordering=` accepts, as the schema lists it: each name, ascending or `-` descending.
PARTNER_ORDERING_TERMS = [term for _field, name in PARTNER_ORDERING for term in (name, f"-{name}")]


class _PartnerFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ApprovalStatus.choices)
    search = django_filters.CharFilter(method="search_filter", label="Email, name or company")
    ordering = django_filters.OrderingFilter(fields=PARTNER_ORDERING)

    def search_filter(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(user__email__icontains=value)
            | Q(user__name__icontains=value)
            | Q(company__icontains=value)
        )

    @property
    def qs(self) -> QuerySet:
        queryset = super().qs
        ordering = list(queryset.query.order_by)
        if "user_id" not in ordering and "-user_id" not in ordering:
            queryset = queryset.order_by(*ordering, "user_id")
        return queryset


class AffiliateFilter(_PartnerFilter):
    class Meta:
        model = Affiliate
        fields = ["status", "search"]


class AdvertiserFilter(_PartnerFilter):
    class Meta:
        model = Advertiser
        fields = ["status", "search"]
