"""Query-string filters of the campaigns API, applied to the selectors' (already scoped) querysets.

A filter narrows what the viewer may see; it never widens it: scoping is the selectors' job.
"""

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone

from campaigns.models import (
    AccessStatus,
    Campaign,
    CampaignAccess,
    CampaignStatus,
    PartnerKey,
    PayoutType,
    PricingRule,
    SmartLink,
    Visibility,
)
from core.filters import BooleanFilter, IdFilter


class CampaignFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=CampaignStatus.choices)
    visibility = django_filters.ChoiceFilter(choices=Visibility.choices)
    payout_type = django_filters.ChoiceFilter(choices=PayoutType.choices)
    currency = django_filters.CharFilter(field_name="currency", lookup_expr="iexact")
    advertiser = IdFilter(field_name="advertiser_id", help_text="Advertiser id (admins).")
    search = django_filters.CharFilter(
        field_name="name", lookup_expr="icontains", help_text="Part of the campaign's name."
    )
    ordering = django_filters.OrderingFilter(
        fields=(("id", "id"), ("name", "name"), ("created_at", "created_at")),
        help_text="id, name or created_at; prefix with - for descending. Default: -id.",
    )

    class Meta:
        model = Campaign
        fields: list[str] = []


class ApplicationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=AccessStatus.choices)
    campaign = IdFilter(field_name="campaign_id")
    affiliate = IdFilter(field_name="affiliate_id")
    ordering = django_filters.OrderingFilter(
        fields=(("id", "id"), ("created_at", "created_at"), ("decided_at", "decided_at")),
        help_text="id, created_at or decided_at; prefix with - for descending. Default: -id.",
    )

    class Meta:
        model = CampaignAccess
        fields: list[str] = []


class PartnerKeyFilter(django_filters.FilterSet):
    is_active = BooleanFilter()
    advertiser = IdFilter(field_name="advertiser_id", help_text="Advertiser id (admins).")
    ordering = django_filters.OrderingFilter(
        fields=(("id", "id"), ("created_at", "created_at")),
        help_text="id or created_at; prefix with - for descending. Default: -id.",
    )

    class Meta:
        model = PartnerKey
        fields: list[str] = []


class PricingRuleFilter(django_filters.FilterSet):
    event = django_filters.CharFilter(
        method="filter_event",
        help_text="An event code: the rules for that event (rules for every event excluded).",
    )
    affiliate = IdFilter(field_name="affiliate_id", help_text="The rules of that affiliate.")
    country = django_filters.CharFilter(
        field_name="country", lookup_expr="iexact", help_text="ISO country code (GB, US, ...)."
    )
    active = BooleanFilter(
        method="filter_active",
        help_text="true: valid now (started, not ended); false: not yet started or ended.",
    )
    ordering = django_filters.OrderingFilter(
        fields=(("id", "id"), ("starts_at", "starts_at"), ("created_at", "created_at")),
        help_text="id, starts_at or created_at; prefix with - for descending. Default: -id.",
    )

    class Meta:
        model = PricingRule
        fields: list[str] = []

    def filter_event(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(event__code=value.strip().lower())

    def filter_active(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        now = timezone.now()
        valid = (Q(starts_at__isnull=True) | Q(starts_at__lte=now)) & (
            Q(ends_at__isnull=True) | Q(ends_at__gt=now)
        )
        return queryset.filter(valid) if value else queryset.exclude(valid)


class SmartLinkFilter(django_filters.FilterSet):
    is_active = BooleanFilter()
    affiliate = IdFilter(field_name="affiliate_id", help_text="Affiliate id (admins).")

    class Meta:
        model = SmartLink
        fields: list[str] = []
