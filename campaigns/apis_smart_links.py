"""`/api/smart-links`: an affiliate's smart links (its own; admins: any, `?affiliate=` to filter).

Views parse and authorize; `campaigns.selectors.smart_link_list` decides which rows a viewer
may see (another affiliate's smart link is a 404 like a missing one); `campaigns.smart_links`
does every write. DELETE deactivates: clicks keep pointing at the smart link.
"""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.http import AuthenticatedRequest
from accounts.models import Affiliate, User
from accounts.permissions import IsAdminOrApprovedAffiliate, staff_permissions
from accounts.selectors import affiliate_get, own_affiliate
from campaigns.filters import SmartLinkFilter
from campaigns.models import SmartLink
from campaigns.selectors import smart_link_get, smart_link_list
from campaigns.smart_links import (
    DEFAULT_PRIORITY,
    DEFAULT_WEIGHT,
    PRIORITY_MAX,
    SMART_LINK_ENTRIES_MAX,
    WEIGHT_MAX,
    smart_link_create,
    smart_link_deactivate,
    smart_link_update,
    smart_link_url,
)
from core.api_schema import error_responses
from core.audit import audit_source_for_request
from core.exceptions import ApplicationError, NotFoundError
from core.pagination import StandardPagination, paginated_response


class SmartLinkEntryOutputSerializer(serializers.Serializer):
    campaign = serializers.IntegerField(source="campaign_id")
    campaign_name = serializers.CharField(source="campaign.name")
    priority = serializers.IntegerField(help_text="1 is tried first.")
    weight = serializers.IntegerField(help_text="Share of the draw within its priority level.")

    class Meta:
        ref_name = "SmartLinkEntry"


class SmartLinkOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    affiliate_id = serializers.IntegerField()
    name = serializers.CharField()
    token = serializers.CharField()
    url = serializers.SerializerMethodField(help_text="The URL to send traffic to (`/s/<token>`).")
    entries = SmartLinkEntryOutputSerializer(many=True, source="entries.all")
    catch_all_url = serializers.CharField(help_text="Where visits go that no campaign can take.")
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    class Meta:
        ref_name = "SmartLink"

    def get_url(self, smart_link: SmartLink) -> str:
        return smart_link_url(smart_link=smart_link)


class SmartLinkEntryInputSerializer(serializers.Serializer):
    """Only the shape; the service checks the values (and names the entry in its message)."""

    campaign = serializers.IntegerField(help_text="A campaign the affiliate may run.")
    priority = serializers.IntegerField(
        required=False, help_text=f"1..{PRIORITY_MAX}, default {DEFAULT_PRIORITY}; 1 first."
    )
    weight = serializers.IntegerField(
        required=False, help_text=f"0..{WEIGHT_MAX}, default {DEFAULT_WEIGHT}; 0 never drawn."
    )

    class Meta:
        ref_name = "SmartLinkEntryInput"


class _SmartLinkFieldsSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    entries = serializers.ListField(
        child=SmartLinkEntryInputSerializer(),
        max_length=SMART_LINK_ENTRIES_MAX,
        help_text="Replaces the whole list. At least one, and one weight above 0.",
    )
    catch_all_url = serializers.CharField(
        max_length=2000,
        allow_blank=True,
        required=False,
        help_text=(
            "http(s) URL for visits no campaign can take; may use {affiliate_id} {sub1}..{sub5} "
            "{user_id} {country}. Empty: those visits get 404."
        ),
    )


def _affiliate_for_new_smart_link(user: User, affiliate_id: int | None) -> Affiliate:
    """Admins name the affiliate (`affiliate_id`); an affiliate creates for itself only."""
    if user.is_network_admin:
        if affiliate_id is None:
            raise ApplicationError(
                "Admins must name the affiliate.",
                code="missing_affiliate_id",
                fields={"affiliate_id": ["This field is required for admins."]},
            )
        try:
            return affiliate_get(viewer=user, affiliate_id=affiliate_id)
        except NotFoundError as exc:
            raise ApplicationError(
                "Unknown affiliate.",
                code="invalid_affiliate",
                fields={"affiliate_id": ["Unknown affiliate."]},
            ) from exc
    if affiliate_id is not None and affiliate_id != user.pk:
        raise ApplicationError(
            "Unknown affiliate.",
            code="invalid_affiliate",
            fields={"affiliate_id": ["Unknown affiliate."]},
        )
    return own_affiliate(user)


def _answer(viewer: User, smart_link_id: int) -> dict:
    """The saved smart link as the viewer sees it, entries and campaigns read fresh."""
    return SmartLinkOutputSerializer(
        smart_link_get(viewer=viewer, smart_link_id=smart_link_id)
    ).data


class SmartLinkListCreateApi(GenericAPIView):
    admin_permissions = staff_permissions("campaigns.smartlink", POST="add")
    queryset = SmartLink.objects.none()
    filter_backends = [DjangoFilterBackend]
    filterset_class = SmartLinkFilter
    pagination_class = StandardPagination
    permission_classes = [IsAdminOrApprovedAffiliate]

    class InputSerializer(_SmartLinkFieldsSerializer):
        affiliate_id = serializers.IntegerField(
            required=False, help_text="Required for admins: the affiliate that owns the link."
        )

        class Meta:
            ref_name = "SmartLinkCreateInput"

    serializer_class = InputSerializer

    @extend_schema(
        summary="List smart links",
        description="Affiliate: its own; admin: all (`affiliate` filters).",
        responses={200: SmartLinkOutputSerializer(many=True), **error_responses(400, 401, 403)},
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        return paginated_response(
            queryset=self.filter_queryset(smart_link_list(viewer=request.user)),
            serializer_class=SmartLinkOutputSerializer,
            request=request,
            view=self,
        )

    @extend_schema(
        summary="Create a smart link",
        description=(
            "Each entry's campaign must be one the affiliate may run (approved access, or a "
            "public campaign, which this approves as applying would): else 400 "
            "`campaign_not_available`. The affiliate's tracking links for the entries are "
            "created with it. Other codes: `no_entries`, `invalid_entries`, "
            "`duplicate_campaign`, `no_positive_weight`, `invalid_catch_all_url`, `invalid` "
            "(several fields)."
        ),
        request=InputSerializer,
        responses={201: SmartLinkOutputSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        affiliate = _affiliate_for_new_smart_link(request.user, data.get("affiliate_id"))
        smart_link = smart_link_create(
            affiliate=affiliate,
            name=data["name"],
            entries=data["entries"],
            catch_all_url=data.get("catch_all_url", ""),
            actor=request.user,
            source=audit_source_for_request(request),
        )
        return Response(_answer(request.user, smart_link.pk), status=status.HTTP_201_CREATED)


class SmartLinkDetailApi(APIView):
    admin_permissions = staff_permissions("campaigns.smartlink", PATCH="change", DELETE="change")
    permission_classes = [IsAdminOrApprovedAffiliate]

    class InputSerializer(_SmartLinkFieldsSerializer):
        is_active = serializers.BooleanField(required=False)

        class Meta:
            ref_name = "SmartLinkUpdateInput"

    @extend_schema(
        summary="Get a smart link",
        responses={200: SmartLinkOutputSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: AuthenticatedRequest, smart_link_id: int) -> Response:
        smart_link = smart_link_get(viewer=request.user, smart_link_id=smart_link_id)
        return Response(SmartLinkOutputSerializer(smart_link).data)

    @extend_schema(
        summary="Change a smart link",
        description=(
            "A partial update; `entries` replaces the whole list under the rules of create. "
            "`is_active: true` brings back a deactivated smart link."
        ),
        request=InputSerializer(partial=True),
        responses={200: SmartLinkOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: AuthenticatedRequest, smart_link_id: int) -> Response:
        smart_link = smart_link_get(viewer=request.user, smart_link_id=smart_link_id)
        serializer = self.InputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        smart_link_update(
            smart_link=smart_link,
            data=serializer.validated_data,
            actor=request.user,
            source=audit_source_for_request(request),
        )
        return Response(_answer(request.user, smart_link.pk))

    @extend_schema(
        summary="Deactivate a smart link",
        description=(
            "`/s/<token>` answers 404 from now on. The smart link stays (its clicks refer to "
            "it) and is listed with `is_active: false`; PATCH `is_active: true` brings it back."
        ),
        responses={200: SmartLinkOutputSerializer, **error_responses(401, 403, 404)},
    )
    def delete(self, request: AuthenticatedRequest, smart_link_id: int) -> Response:
        smart_link = smart_link_get(viewer=request.user, smart_link_id=smart_link_id)
        smart_link_deactivate(
            smart_link=smart_link, actor=request.user, source=audit_source_for_request(request)
        )
        return Response(_answer(request.user, smart_link.pk))
