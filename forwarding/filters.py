"""Query-string filters of the forwarding API, applied to the selectors' scoped querysets."""

import django_filters

from core.filters import BooleanFilter, CreatedRangeFilterSet, IdFilter
from forwarding.models import Delivery, DeliveryStatus, ForwardEvent, PostbackEndpoint


class PostbackEndpointFilter(django_filters.FilterSet):
    is_active = BooleanFilter()
    campaign = IdFilter(field_name="campaign_id")
    affiliate = IdFilter(field_name="affiliate_id", help_text="Admins.")

    class Meta:
        model = PostbackEndpoint
        fields: list[str] = []


class DeliveryFilter(CreatedRangeFilterSet):
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices)
    event = django_filters.ChoiceFilter(choices=ForwardEvent.choices)
    endpoint = IdFilter(field_name="endpoint_id")
    conversion = IdFilter(field_name="conversion_id")
    affiliate = IdFilter(field_name="endpoint__affiliate_id", help_text="Admins.")

    class Meta:
        model = Delivery
        fields: list[str] = []
