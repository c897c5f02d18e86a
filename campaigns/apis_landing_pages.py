"""The landing pages REST API: a campaign's landing URLs, each with a weight.

The owner advertiser and admins list, add and change pages (a used page is never deleted:
`is_active: false` deactivates it). An affiliate that runs the campaign (approved access) lists
its active pages, to pin one on its tracking link with `lp=<id>`; any other caller gets 404 for
another tenant's campaign or page, like a missing one.
"""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.http import AuthenticatedRequest
from accounts.permissions import (
    IsAdminOrApprovedAdvertiser,
    IsAnyApprovedRole,
    staff_permissions,
)
from campaigns import selectors
from campaigns.apis import MethodPermissionsMixin
from campaigns.landing_pages import (
    MAX_WEIGHT,
    landing_page_create,
    landing_page_get,
    landing_page_list,
    landing_page_update,
)
from core.api_schema import error_responses
from core.audit import audit_source_for_request


class LandingPageAffiliateOutputSerializer(serializers.Serializer):
    """What an affiliate needs to pin a page: its id and name."""

    id = serializers.IntegerField(help_text="Pin this page with `lp=<id>` on the tracking link.")
    campaign = serializers.IntegerField(source="campaign_id")
    name = serializers.CharField()

    class Meta:
        ref_name = "LandingPageForAffiliate"


class LandingPageOutputSerializer(LandingPageAffiliateOutputSerializer):
    """The owner's and the admin's view; the fields affiliates do not get are `required=False`."""

    url = serializers.CharField(required=False, help_text="Macros such as {click_id} are filled.")
    weight = serializers.IntegerField(
        required=False, help_text="Share of the draw among active pages; 0: only when pinned."
    )
    is_active = serializers.BooleanField(required=False)
    created_at = serializers.DateTimeField(required=False)
    updated_at = serializers.DateTimeField(required=False)

    class Meta:
        ref_name = "LandingPage"


class LandingPageInputSerializer(serializers.Serializer):
    """Parsing only: `campaigns.landing_pages` checks the values."""

    name = serializers.CharField(max_length=200)
    url = serializers.CharField(max_length=2000)
    weight = serializers.IntegerField(min_value=0, max_value=MAX_WEIGHT, required=False)
    is_active = serializers.BooleanField(required=False)

    class Meta:
        ref_name = "LandingPageInput"


class CampaignLandingPageListCreateApi(MethodPermissionsMixin, APIView):
    admin_permissions = staff_permissions("campaigns.landingpage", POST="add")
    permissions_by_method = {"GET": [IsAnyApprovedRole], "POST": [IsAdminOrApprovedAdvertiser]}
    serializer_class = LandingPageInputSerializer

    @extend_schema(
        summary="List a campaign's landing pages",
        description=(
            "Owner and admins: every page, active or not. An affiliate that runs the campaign: "
            "the active pages' ids and names, to pin one with `lp=<id>`; 404 otherwise. "
            "Not paginated: a campaign has a handful of pages."
        ),
        responses={200: LandingPageOutputSerializer(many=True), **error_responses(401, 403, 404)},
    )
    def get(self, request: AuthenticatedRequest, campaign_id: int) -> Response:
        campaign = selectors.campaign_get(viewer=request.user, campaign_id=campaign_id)
        pages = landing_page_list(viewer=request.user, campaign=campaign)
        serializer = (
            LandingPageAffiliateOutputSerializer
            if request.user.is_affiliate
            else LandingPageOutputSerializer
        )
        return Response(serializer(pages, many=True).data)

    @extend_schema(
        summary="Add a landing page to a campaign",
        description="`name` and `url` are required; `weight` defaults to 100.",
        request=LandingPageInputSerializer,
        responses={201: LandingPageOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: AuthenticatedRequest, campaign_id: int) -> Response:
        campaign = selectors.campaign_get(viewer=request.user, campaign_id=campaign_id)
        serializer = LandingPageInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        page = landing_page_create(
            campaign=campaign,
            data=dict(serializer.validated_data),
            actor=request.user,
            source=audit_source_for_request(request),
        )
        return Response(LandingPageOutputSerializer(page).data, status=status.HTTP_201_CREATED)


class LandingPageDetailApi(APIView):
    admin_permissions = staff_permissions("campaigns.landingpage", PATCH="change")
    permission_classes = [IsAdminOrApprovedAdvertiser]

    @extend_schema(
        summary="Change a landing page",
        description=(
            "A partial update. `is_active: false` deactivates the page (pages are never "
            "deleted: clicks keep their id); clicks already sent keep the page they went to."
        ),
        request=LandingPageInputSerializer(partial=True),
        responses={200: LandingPageOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: AuthenticatedRequest, landing_page_id: int) -> Response:
        page = landing_page_get(viewer=request.user, landing_page_id=landing_page_id)
        serializer = LandingPageInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = dict(serializer.validated_data)
        page = landing_page_update(
            landing_page=page,
            data=data,
            actor=request.user,
            source=audit_source_for_request(request),
        )
        return Response(LandingPageOutputSerializer(page).data)
