"""The conversion events REST API: a campaign's goals (`lead`, `sale`, ...) with their terms.

The owner advertiser and admins list, create, change and delete events; an affiliate that may
see the campaign lists its events too, in the affiliate view (no revenue: affiliates never see
what the partner pays). Another tenant's campaign or event answers 404 like a missing one.
"""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.http import AuthenticatedRequest
from accounts.models import User
from accounts.permissions import (
    IsAdminOrApprovedAdvertiser,
    IsAnyApprovedRole,
    staff_permissions,
)
from campaigns import selectors
from campaigns.apis import CapSerializer, MethodPermissionsMixin
from campaigns.events import event_create, event_delete, event_update
from campaigns.models import EventInitialStatus, PayoutType
from core.api_schema import error_responses
from core.audit import audit_source_for_request
from core.money_fields import MoneySerializerField


class EventAffiliateOutputSerializer(serializers.Serializer):
    """An affiliate's view of an event: its terms, never its revenue."""

    id = serializers.IntegerField()
    campaign = serializers.IntegerField(source="campaign_id")
    code = serializers.CharField()
    name = serializers.CharField()
    is_default = serializers.BooleanField(
        help_text="Postbacks that name no event convert on the default event."
    )
    payout_type = serializers.ChoiceField(choices=PayoutType.choices)
    payout_amount = serializers.DecimalField(max_digits=18, decimal_places=4)
    revshare_percent = serializers.DecimalField(max_digits=7, decimal_places=4)
    allow_multiple = serializers.BooleanField(
        help_text="Several conversions of this event per click, each with its own transaction id."
    )
    initial_status = serializers.ChoiceField(choices=EventInitialStatus.choices)
    caps = CapSerializer(many=True, source="caps.all")

    class Meta:
        ref_name = "ConversionEventForAffiliate"


class EventOutputSerializer(EventAffiliateOutputSerializer):
    """The owner's and the admin's view of an event.

    The fields an affiliate does not get are `required=False`, so that one schema describes
    both views (the affiliate's is this one without them).
    """

    default_revenue = serializers.DecimalField(
        max_digits=18,
        decimal_places=4,
        required=False,
        help_text="Revenue when the partner's postback has no payout (not shown to affiliates).",
    )
    created_at = serializers.DateTimeField(required=False, help_text="Not shown to affiliates.")
    updated_at = serializers.DateTimeField(required=False, help_text="Not shown to affiliates.")

    class Meta:
        ref_name = "ConversionEvent"


class EventInputSerializer(serializers.Serializer):
    """Parsing only: `campaigns.events` checks the values and the rules across fields."""

    code = serializers.CharField(
        max_length=50, help_text="lowercase letters, digits, '-' or '_' (lead, sale, deposit)."
    )
    name = serializers.CharField(max_length=200)
    payout_type = serializers.ChoiceField(choices=PayoutType.choices)
    payout_amount = MoneySerializerField(
        max_digits=18, decimal_places=4, min_value=0, required=False
    )
    revshare_percent = MoneySerializerField(
        max_digits=7, decimal_places=4, min_value=0, max_value=100, required=False
    )
    default_revenue = MoneySerializerField(
        max_digits=18, decimal_places=4, min_value=0, required=False
    )
    allow_multiple = serializers.BooleanField(required=False)
    initial_status = serializers.ChoiceField(choices=EventInitialStatus.choices, required=False)
    caps = CapSerializer(
        many=True,
        required=False,
        help_text="Replaces the event's caps as a whole; `block_clicks` is refused on an event.",
    )

    class Meta:
        ref_name = "ConversionEventInput"


def _event_data(validated: dict[str, Any]) -> dict[str, Any]:
    data = dict(validated)
    if "caps" in data:
        data["caps"] = [dict(cap) for cap in data["caps"]]
    return data


def _event_serializer(viewer: User) -> type[serializers.Serializer]:
    return EventAffiliateOutputSerializer if viewer.is_affiliate else EventOutputSerializer


class CampaignEventListCreateApi(MethodPermissionsMixin, APIView):
    admin_permissions = staff_permissions("campaigns.conversionevent", POST="add")
    permissions_by_method = {"GET": [IsAnyApprovedRole], "POST": [IsAdminOrApprovedAdvertiser]}
    # OPTIONS (DRF's metadata) describes POST's input from it.
    serializer_class = EventInputSerializer

    @extend_schema(
        summary="List a campaign's conversion events",
        description=(
            "The default event first. An affiliate that may see the campaign gets the events "
            "without `default_revenue`, `created_at` and `updated_at` (affiliates never see "
            "revenue). Not paginated: a campaign has a handful of events."
        ),
        responses={200: EventOutputSerializer(many=True), **error_responses(401, 403, 404)},
    )
    def get(self, request: AuthenticatedRequest, campaign_id: int) -> Response:
        campaign = selectors.campaign_get(viewer=request.user, campaign_id=campaign_id)
        events = selectors.event_list(viewer=request.user, campaign=campaign)
        return Response(_event_serializer(request.user)(events, many=True).data)

    @extend_schema(
        summary="Add a conversion event to a campaign",
        description=(
            "`code`, `name` and `payout_type` are required; a code the campaign already uses is "
            "409 `duplicate_event_code`. Postbacks name the event with `event` (or `goal`)."
        ),
        request=EventInputSerializer,
        responses={201: EventOutputSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: AuthenticatedRequest, campaign_id: int) -> Response:
        # The campaign first: another advertiser's campaign is a 404 whatever the body says.
        campaign = selectors.campaign_get(viewer=request.user, campaign_id=campaign_id)
        serializer = EventInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event = event_create(
            campaign=campaign,
            data=_event_data(serializer.validated_data),
            actor=request.user,
            source=audit_source_for_request(request),
        )
        event = selectors.event_get(viewer=request.user, event_id=event.pk)
        return Response(EventOutputSerializer(event).data, status=status.HTTP_201_CREATED)


class EventDetailApi(APIView):
    admin_permissions = staff_permissions(
        "campaigns.conversionevent", PATCH="change", DELETE="delete"
    )
    permission_classes = [IsAdminOrApprovedAdvertiser]

    @extend_schema(
        summary="One conversion event",
        responses={200: EventOutputSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: AuthenticatedRequest, event_id: int) -> Response:
        event = selectors.event_get(viewer=request.user, event_id=event_id)
        return Response(EventOutputSerializer(event).data)

    @extend_schema(
        summary="Change a conversion event",
        description=(
            "A partial update; `caps`, when given, replaces the event's caps. Conversions "
            "already recorded keep their price. The default event's terms are the campaign's "
            "payout fields: changing one changes the other."
        ),
        request=EventInputSerializer(partial=True),
        responses={200: EventOutputSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def patch(self, request: AuthenticatedRequest, event_id: int) -> Response:
        event = selectors.event_get(viewer=request.user, event_id=event_id)
        serializer = EventInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        event_update(
            event=event,
            data=_event_data(serializer.validated_data),
            actor=request.user,
            source=audit_source_for_request(request),
        )
        event = selectors.event_get(viewer=request.user, event_id=event_id)
        return Response(EventOutputSerializer(event).data)

    @extend_schema(
        summary="Delete a conversion event",
        description=(
            "Its caps and pricing rules go with it. 409 `event_in_use` when it has conversions, "
            "409 `default_event` for the campaign's default event."
        ),
        responses={204: None, **error_responses(401, 403, 404, 409)},
    )
    def delete(self, request: AuthenticatedRequest, event_id: int) -> Response:
        event = selectors.event_get(viewer=request.user, event_id=event_id)
        event_delete(event=event, actor=request.user, source=audit_source_for_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
