"""Query-string filters of the campaigns API, applied to the selectors' (already scoped) querysets.

A filter narrows what the viewer may see; it never widens it: scoping is the selectors' job.
"""

import django_filters

from campaigns.models import (
    AccessStatus,
    Campaign,
    CampaignAccess,
    CampaignStatus,
    PartnerKey,
    PayoutType,
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
