"""The campaigns REST API: campaigns, affiliates' applications, tracking links, partner keys.

Each view parses the request, checks the role with a permission class, resolves objects through
a selector (another tenant's object answers 404 exactly like a missing one), calls one service
and serializes what it returns. Affiliates get their own output serializers: they never see a
campaign's revenue, landing URL, partner offer id or advertiser.
"""

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.http import AuthenticatedRequest
from accounts.models import Advertiser, User
from accounts.permissions import (
    IsAdminOrApprovedAdvertiser,
    IsAnyApprovedRole,
    IsApprovedAffiliate,
    staff_permissions,
)
from accounts.selectors import advertiser_get, own_affiliate
from campaigns import selectors, services
from campaigns.filters import ApplicationFilter, CampaignFilter, PartnerKeyFilter
from campaigns.models import (
    AccessStatus,
    Campaign,
    CampaignAccess,
    CampaignStatus,
    CapAction,
    CapMetric,
    CapPeriod,
    CapScope,
    ConversionEvent,
    PartnerKey,
    PayoutType,
    Visibility,
)
from campaigns.partner_keys import (
    partner_key_create,
    partner_key_postback_url,
    partner_key_rotate,
    partner_key_update,
)
from campaigns.partner_profiles import PartnerProfile
from campaigns.targeting import targeting_summary
from core.api_schema import error_responses
from core.audit import audit_source_for_request
from core.exceptions import ApplicationError, NotFoundError
from core.money_fields import MoneySerializerField
from core.pagination import StandardPagination, paginated_response

if TYPE_CHECKING:
    # The stubs' name for what get_permissions() returns (a permission, or a combination).
    from rest_framework.permissions import _SupportsHasPermission

_View = TypeVar("_View", bound=Callable[..., Any])

# --- shared helpers ----------------------------------------------------------------------------


class MethodPermissionsMixin(APIView):
    """`permissions_by_method = {"GET": [...], "PATCH": [...]}` instead of one list for all.

    HEAD follows GET; a method not listed falls back to `permission_classes`.
    """

    permissions_by_method: ClassVar[dict[str, list[type[BasePermission]]]] = {}

    def get_permissions(self) -> "Sequence[_SupportsHasPermission]":
        method = "GET" if self.request.method == "HEAD" else self.request.method
        classes = self.permissions_by_method.get(method or "")
        if classes is None:
            return super().get_permissions()
        return [permission() for permission in classes]


def _invalid_advertiser() -> ApplicationError:
    return ApplicationError(
        "Unknown advertiser.",
        code="invalid_advertiser",
        fields={"advertiser_id": ["Unknown advertiser."]},
    )


def _advertiser_for_new_object(user: User, advertiser_id: int | None) -> Advertiser:
    """Admins name the advertiser (`advertiser_id`); an advertiser creates for itself only."""
    if user.is_network_admin:
        if advertiser_id is None:
            raise ApplicationError(
                "Admins must name the advertiser.",
                code="missing_advertiser_id",
                fields={"advertiser_id": ["This field is required for admins."]},
            )
        try:
            return advertiser_get(viewer=user, advertiser_id=advertiser_id)
        except NotFoundError as exc:
            raise _invalid_advertiser() from exc
    if advertiser_id is not None and advertiser_id != user.pk:
        raise _invalid_advertiser()
    return advertiser_get(viewer=user, advertiser_id=user.pk)


# --- campaigns ---------------------------------------------------------------------------------


class CapSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=CapScope.choices, required=False)
    period = serializers.ChoiceField(choices=CapPeriod.choices)
    metric = serializers.ChoiceField(choices=CapMetric.choices, required=False)
    limit = MoneySerializerField(max_digits=18, decimal_places=4, min_value=0)
    action = serializers.ChoiceField(choices=CapAction.choices, required=False)

    class Meta:
        ref_name = "Cap"


class CampaignOutputSerializer(serializers.Serializer):
    """The owner's and the admin's view of a campaign."""

    id = serializers.IntegerField()
    advertiser_id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    landing_url = serializers.CharField()
    fallback_url = serializers.CharField()
    status = serializers.ChoiceField(choices=CampaignStatus.choices)
    currency = serializers.CharField()
    payout_type = serializers.ChoiceField(choices=PayoutType.choices)
    payout_amount = serializers.DecimalField(max_digits=18, decimal_places=4)
    revshare_percent = serializers.DecimalField(max_digits=7, decimal_places=4)
    default_revenue = serializers.DecimalField(max_digits=18, decimal_places=4)
    visibility = serializers.ChoiceField(choices=Visibility.choices)
    external_offer_id = serializers.CharField()
    attribution_window_hours = serializers.IntegerField()
    hold_days = serializers.IntegerField()
    auto_approve_after_hours = serializers.IntegerField(allow_null=True)
    allow_multiple_conversions = serializers.BooleanField()
    timezone = serializers.CharField()
    allowed_countries = serializers.ListField(child=serializers.CharField())
    targeting = serializers.JSONField(
        help_text="Who may click and when (docs/targeting.md); {} when anyone may."
    )
    targeting_summary = serializers.SerializerMethodField(
        help_text="The targeting in one line, e.g. `mobile Android/iOS in US, CA`."
    )
    caps = CapSerializer(many=True, source="campaign_caps")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    fraud_policy = serializers.JSONField(
        help_text="Fraud signal -> action, and the velocity thresholds (docs/fraud.md)."
    )
    min_seconds_to_convert = serializers.IntegerField()

    class Meta:
        ref_name = "Campaign"

    def get_targeting_summary(self, campaign: Campaign) -> str:
        return targeting_summary(campaign.targeting)


class PayoutConditionSerializer(serializers.Serializer):
    condition = serializers.CharField(help_text="Where it applies: `GB`, `sub1 promo`, ...")
    payout_type = serializers.ChoiceField(choices=PayoutType.choices)
    payout_amount = serializers.DecimalField(max_digits=18, decimal_places=4)
    revshare_percent = serializers.DecimalField(max_digits=7, decimal_places=4)

    class Meta:
        ref_name = "EventPayoutCondition"


class EventPayoutSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    payout_type = serializers.ChoiceField(choices=PayoutType.choices)
    payout_amount = serializers.DecimalField(max_digits=18, decimal_places=4)
    revshare_percent = serializers.DecimalField(max_digits=7, decimal_places=4)
    rule_id = serializers.IntegerField(
        allow_null=True, help_text="The pricing rule these terms come from; null: the event's."
    )
    conditional = PayoutConditionSerializer(
        many=True, help_text="Other terms for some countries or sub1 values."
    )

    class Meta:
        ref_name = "EventPayout"


def _event_payouts_data(payouts: list[selectors.EventPayout]) -> list[dict[str, Any]]:
    """`event_payouts_for_affiliate` as `EventPayoutSerializer` reads it."""
    return [
        {
            "code": payout.event.code,
            "name": payout.event.name,
            "payout_type": payout.base.payout_type,
            "payout_amount": payout.base.payout_amount,
            "revshare_percent": payout.base.revshare_percent,
            "rule_id": payout.base.rule_id,
            "conditional": [
                {
                    "condition": condition,
                    "payout_type": terms.payout_type,
                    "payout_amount": terms.payout_amount,
                    "revshare_percent": terms.revshare_percent,
                }
                for condition, terms in payout.conditional
            ],
        }
        for payout in payouts
    ]


class CampaignAffiliateOutputSerializer(serializers.Serializer):
    """An affiliate's view: the terms it is paid on, never revenue or the advertiser's setup.

    `access_status` is the affiliate's application or invitation (`null` when it has neither);
    `access_invited_at` is set when it was invited (an invitation is approved access).
    """

    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    status = serializers.ChoiceField(choices=CampaignStatus.choices)
    currency = serializers.CharField()
    payout_type = serializers.ChoiceField(choices=PayoutType.choices)
    payout_amount = serializers.DecimalField(max_digits=18, decimal_places=4)
    revshare_percent = serializers.DecimalField(max_digits=7, decimal_places=4)
    visibility = serializers.ChoiceField(choices=Visibility.choices)
    attribution_window_hours = serializers.IntegerField()
    hold_days = serializers.IntegerField()
    allowed_countries = serializers.ListField(child=serializers.CharField())
    targeting_summary = serializers.SerializerMethodField(
        help_text="Who may click and when, in one line (clicks outside it go to the fallback)."
    )
    caps = CapSerializer(many=True, source="campaign_caps")
    access_status = serializers.SerializerMethodField()
    access_invited_at = serializers.SerializerMethodField(
        help_text="When the affiliate was invited into the campaign; null when it was not."
    )
    events = serializers.SerializerMethodField(
        help_text=(
            "Per conversion event, what this affiliate earns now: its own pricing rules and "
            "everyone's (never another affiliate's), no revenue."
        )
    )
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "CampaignForAffiliate"

    def get_targeting_summary(self, campaign: Campaign) -> str:
        return targeting_summary(campaign.targeting)

    @extend_schema_field(EventPayoutSerializer(many=True))
    def get_events(self, campaign: Campaign) -> list[dict[str, Any]]:
        payouts = selectors.event_payouts_from(
            events=getattr(campaign, "viewer_events", []),
            rules=getattr(campaign, "viewer_rules", []),
        )
        return list(EventPayoutSerializer(_event_payouts_data(payouts), many=True).data)

    def _access(self, campaign: Campaign) -> CampaignAccess | None:
        accesses = getattr(campaign, "viewer_accesses", [])
        return accesses[0] if accesses else None

    def get_access_status(self, campaign: Campaign) -> str | None:
        access = self._access(campaign)
        return access.status if access else None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_access_invited_at(self, campaign: Campaign) -> str | None:
        access = self._access(campaign)
        if access is None or access.invited_at is None:
            return None
        return serializers.DateTimeField().to_representation(access.invited_at)


def _viewer_access(viewer: User) -> Prefetch:
    """The affiliate's own application, as each campaign's `viewer_accesses` list."""
    return Prefetch(
        "accesses", queryset=selectors.access_list(viewer=viewer), to_attr="viewer_accesses"
    )


def _viewer_payouts(viewer: User) -> list[Prefetch]:
    """The campaign's events and the pricing rules that may pay the affiliate now, as
    `viewer_events` and `viewer_rules` (one query each for a whole page)."""
    rules = selectors.pricing_rules_for_affiliate_at(affiliate_id=viewer.pk, at=timezone.now())
    return [
        Prefetch("events", queryset=ConversionEvent.objects.all(), to_attr="viewer_events"),
        Prefetch("pricing_rules", queryset=rules, to_attr="viewer_rules"),
    ]


def _with_viewer_access(queryset: QuerySet[Campaign], viewer: User) -> QuerySet[Campaign]:
    """Attach the affiliate's own application and payouts to each campaign (three queries for
    the page)."""
    return queryset.prefetch_related(_viewer_access(viewer), *_viewer_payouts(viewer))


def _campaign_output(campaign: Campaign, viewer: User) -> dict[str, Any]:
    if viewer.is_affiliate:
        return CampaignAffiliateOutputSerializer(campaign).data
    return CampaignOutputSerializer(campaign).data


def _campaign_for_viewer(*, many: bool = False) -> PolymorphicProxySerializer:
    """For the schema: admins and advertisers get `Campaign`, affiliates `CampaignForAffiliate`."""
    return PolymorphicProxySerializer(
        component_name="CampaignForViewer",
        serializers=[CampaignOutputSerializer, CampaignAffiliateOutputSerializer],
        resource_type_field_name=None,
        many=many,
    )


class CampaignInputSerializer(serializers.Serializer):
    """Parsing only: `campaigns.services` checks the values and the rules across fields."""

    name = serializers.CharField(max_length=200)
    description = serializers.CharField(allow_blank=True, required=False)
    landing_url = serializers.CharField(max_length=2000)
    fallback_url = serializers.CharField(max_length=2000, allow_blank=True, required=False)
    status = serializers.ChoiceField(choices=CampaignStatus.choices, required=False)
    currency = serializers.CharField(max_length=3, required=False)
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
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    external_offer_id = serializers.CharField(max_length=100, allow_blank=True, required=False)
    attribution_window_hours = serializers.IntegerField(min_value=1, required=False)
    hold_days = serializers.IntegerField(min_value=0, required=False)
    auto_approve_after_hours = serializers.IntegerField(
        min_value=0, allow_null=True, required=False
    )
    allow_multiple_conversions = serializers.BooleanField(required=False)
    timezone = serializers.CharField(max_length=64, required=False)
    allowed_countries = serializers.ListField(
        child=serializers.CharField(max_length=2), required=False
    )
    targeting = serializers.JSONField(
        required=False,
        help_text=(
            "Include/exclude lists of countries, device types, OSes and browsers, IP CIDR "
            "allow/deny lists and a schedule (docs/targeting.md); replaces the whole object."
        ),
    )
    caps = CapSerializer(many=True, required=False)
    fraud_policy = serializers.JSONField(
        required=False,
        help_text=(
            '`{"actions": {"bot": "block", "too_fast": "reject"}, '
            '"click_velocity_per_minute": 20, "conversion_velocity_per_day": 5}` '
            "(docs/fraud.md); `{}` turns fraud checks off."
        ),
    )
    min_seconds_to_convert = serializers.IntegerField(min_value=0, required=False)

    class Meta:
        ref_name = "CampaignInput"


class CampaignCreateInputSerializer(CampaignInputSerializer):
    advertiser_id = serializers.IntegerField(
        required=False, help_text="Required for admins: the advertiser that owns the campaign."
    )

    class Meta:
        ref_name = "CampaignCreateInput"


def _campaign_data(validated: dict[str, Any]) -> dict[str, Any]:
    data = dict(validated)
    if "caps" in data:
        data["caps"] = [dict(cap) for cap in data["caps"]]
    return data


class CampaignListCreateApi(MethodPermissionsMixin, GenericAPIView):
    admin_permissions = staff_permissions("campaigns.campaign", POST="add")
    # `queryset`, `filterset_class` and `pagination_class` also describe the list in the schema.
    queryset = Campaign.objects.none()
    filter_backends = [DjangoFilterBackend]
    filterset_class = CampaignFilter
    pagination_class = StandardPagination
    permissions_by_method = {"GET": [IsAnyApprovedRole], "POST": [IsAdminOrApprovedAdvertiser]}
    # OPTIONS (DRF's metadata) describes POST's input from it; without one OPTIONS was a 500.
    serializer_class = CampaignCreateInputSerializer

    @extend_schema(
        summary="List campaigns",
        description=(
            "Admin: all campaigns; advertiser: its own; affiliate: those it may promote, in the "
            "affiliate view (`CampaignForAffiliate`: no revenue, landing URL or advertiser), "
            "each with its `events` payouts (prefetched for the whole page: three queries more)."
        ),
        responses={200: _campaign_for_viewer(many=True), **error_responses(400, 401, 403)},
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        user = request.user
        queryset = selectors.campaign_list(viewer=user)
        serializer_class: type[serializers.Serializer] = CampaignOutputSerializer
        if user.is_affiliate:
            queryset = _with_viewer_access(queryset, user)
            serializer_class = CampaignAffiliateOutputSerializer
        return paginated_response(
            queryset=self.filter_queryset(queryset),
            serializer_class=serializer_class,
            request=request,
            view=self,
        )

    @extend_schema(
        summary="Create a campaign",
        description="Advertisers create their own campaigns; admins name the `advertiser_id`.",
        request=CampaignCreateInputSerializer,
        responses={201: CampaignOutputSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        serializer = CampaignCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = _campaign_data(serializer.validated_data)
        advertiser = _advertiser_for_new_object(request.user, data.pop("advertiser_id", None))
        campaign = services.campaign_create(
            advertiser=advertiser,
            data=data,
            actor=request.user,
            source=audit_source_for_request(request),
        )
        campaign = selectors.campaign_get(viewer=request.user, campaign_id=campaign.pk)
        return Response(CampaignOutputSerializer(campaign).data, status=status.HTTP_201_CREATED)


class CampaignDetailApi(MethodPermissionsMixin, APIView):
    admin_permissions = staff_permissions("campaigns.campaign", PATCH="change")
    permissions_by_method = {"GET": [IsAnyApprovedRole], "PATCH": [IsAdminOrApprovedAdvertiser]}

    @extend_schema(
        summary="One campaign",
        description=(
            "Affiliates get the affiliate view (`CampaignForAffiliate`), with what they earn "
            "per conversion event (`events`: their own pricing rules and everyone's)."
        ),
        responses={200: _campaign_for_viewer(), **error_responses(401, 403, 404)},
    )
    def get(self, request: AuthenticatedRequest, campaign_id: int) -> Response:
        user = request.user
        campaign = selectors.campaign_get(viewer=user, campaign_id=campaign_id)
        if user.is_affiliate:
            prefetch_related_objects([campaign], _viewer_access(user), *_viewer_payouts(user))
        return Response(_campaign_output(campaign, user))

    @extend_schema(
        summary="Change a campaign",
        description=(
            "A partial update. `caps`, when given, replaces the campaign's caps as a whole; "
            "`status` follows the pause/resume/archive rules (archived is final)."
        ),
        request=CampaignInputSerializer(partial=True),
        responses={200: CampaignOutputSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def patch(self, request: AuthenticatedRequest, campaign_id: int) -> Response:
        campaign = selectors.campaign_get(viewer=request.user, campaign_id=campaign_id)
        serializer = CampaignInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.campaign_update(
            campaign=campaign,
            data=_campaign_data(serializer.validated_data),
            actor=request.user,
            source=audit_source_for_request(request),
        )
        campaign = selectors.campaign_get(viewer=request.user, campaign_id=campaign_id)
        return Response(CampaignOutputSerializer(campaign).data)


class _CampaignSetStatusApi(APIView):
    admin_permissions = staff_permissions("campaigns.campaign", POST="change")
    permission_classes = [IsAdminOrApprovedAdvertiser]
    target_status: ClassVar[str]

    def post(self, request: AuthenticatedRequest, campaign_id: int) -> Response:
        campaign = selectors.campaign_get(viewer=request.user, campaign_id=campaign_id)
        services.campaign_set_status(
            campaign=campaign,
            status=self.target_status,
            actor=request.user,
            source=audit_source_for_request(request),
        )
        campaign = selectors.campaign_get(viewer=request.user, campaign_id=campaign_id)
        return Response(CampaignOutputSerializer(campaign).data)


def _status_schema(summary: str) -> Callable[[_View], _View]:
    return extend_schema(
        summary=summary,
        request=None,
        responses={200: CampaignOutputSerializer, **error_responses(401, 403, 404, 409)},
    )


class CampaignPauseApi(_CampaignSetStatusApi):
    target_status = CampaignStatus.PAUSED

    @_status_schema("Pause a campaign (clicks go to the fallback URL)")
    def post(self, request: AuthenticatedRequest, campaign_id: int) -> Response:
        return super().post(request, campaign_id)


class CampaignResumeApi(_CampaignSetStatusApi):
    target_status = CampaignStatus.ACTIVE

    @_status_schema("Resume a paused campaign")
    def post(self, request: AuthenticatedRequest, campaign_id: int) -> Response:
        return super().post(request, campaign_id)


class CampaignArchiveApi(_CampaignSetStatusApi):
    target_status = CampaignStatus.ARCHIVED

    @_status_schema("Archive a campaign (final)")
    def post(self, request: AuthenticatedRequest, campaign_id: int) -> Response:
        return super().post(request, campaign_id)


# --- applications ------------------------------------------------------------------------------


class ApplicationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    campaign_id = serializers.IntegerField()
    campaign_name = serializers.CharField(source="campaign.name")
    affiliate_id = serializers.IntegerField()
    affiliate_name = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=AccessStatus.choices)
    message = serializers.CharField()
    decision_reason = serializers.CharField()
    decided_at = serializers.DateTimeField(allow_null=True)
    invited_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When the advertiser or an admin invited the affiliate; null for an application.",
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    class Meta:
        ref_name = "Application"

    def get_affiliate_name(self, access: CampaignAccess) -> str:
        affiliate = access.affiliate
        return affiliate.company or affiliate.user.name


class CampaignApplyApi(APIView):
    permission_classes = [IsApprovedAffiliate]

    class InputSerializer(serializers.Serializer):
        message = serializers.CharField(max_length=5000, allow_blank=True, required=False)

        class Meta:
            ref_name = "ApplicationInput"

    @extend_schema(
        summary="Apply to a campaign",
        description=(
            "Public campaigns approve at once, `approval` ones wait for the advertiser or an "
            "admin. Idempotent: applying again returns the existing application unchanged."
        ),
        request=InputSerializer,
        responses={200: ApplicationOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: AuthenticatedRequest, campaign_id: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        affiliate = own_affiliate(request.user)
        campaign = selectors.campaign_get_for_affiliate(
            affiliate=affiliate, campaign_id=campaign_id
        )
        access = services.access_apply(
            campaign=campaign,
            affiliate=affiliate,
            message=serializer.validated_data.get("message", ""),
        )
        access = selectors.access_get(viewer=request.user, access_id=access.pk)
        return Response(ApplicationOutputSerializer(access).data)


class ApplicationListApi(GenericAPIView):
    admin_permissions = staff_permissions("campaigns.campaignaccess")
    queryset = CampaignAccess.objects.none()
    filter_backends = [DjangoFilterBackend]
    filterset_class = ApplicationFilter
    pagination_class = StandardPagination
    permission_classes = [IsAnyApprovedRole]

    @extend_schema(
        summary="List applications",
        description="Admin: all; advertiser: those to its campaigns; affiliate: its own.",
        responses={200: ApplicationOutputSerializer(many=True), **error_responses(400, 401, 403)},
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        queryset = selectors.access_list(viewer=request.user)
        return paginated_response(
            queryset=self.filter_queryset(queryset),
            serializer_class=ApplicationOutputSerializer,
            request=request,
            view=self,
        )


class _ApplicationDecideApi(APIView):
    admin_permissions = staff_permissions("campaigns.campaignaccess", POST="change")
    permission_classes = [IsAdminOrApprovedAdvertiser]
    decision: ClassVar[str]

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=500, allow_blank=True, required=False)

        class Meta:
            ref_name = "ApplicationDecisionInput"

    def post(self, request: AuthenticatedRequest, application_id: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        access = selectors.access_get(viewer=request.user, access_id=application_id)
        services.access_decide(
            access=access,
            status=self.decision,
            actor=request.user,
            reason=serializer.validated_data.get("reason", ""),
            source=audit_source_for_request(request),
        )
        access = selectors.access_get(viewer=request.user, access_id=application_id)
        return Response(ApplicationOutputSerializer(access).data)


def _decide_schema(summary: str) -> Callable[[_View], _View]:
    return extend_schema(
        summary=summary,
        request=_ApplicationDecideApi.InputSerializer,
        responses={
            200: ApplicationOutputSerializer,
            **error_responses(400, 401, 403, 404, 409),
        },
    )


class ApplicationApproveApi(_ApplicationDecideApi):
    decision = AccessStatus.APPROVED

    @_decide_schema("Approve an application (the affiliate is emailed)")
    def post(self, request: AuthenticatedRequest, application_id: int) -> Response:
        return super().post(request, application_id)


class ApplicationRejectApi(_ApplicationDecideApi):
    decision = AccessStatus.REJECTED

    @_decide_schema("Reject an application (the affiliate is emailed)")
    def post(self, request: AuthenticatedRequest, application_id: int) -> Response:
        return super().post(request, application_id)


class ApplicationRevokeApi(_ApplicationDecideApi):
    decision = AccessStatus.REVOKED

    @_decide_schema("Revoke an approved application (its clicks go to the fallback URL)")
    def post(self, request: AuthenticatedRequest, application_id: int) -> Response:
        return super().post(request, application_id)


class CampaignInviteApi(APIView):
    admin_permissions = staff_permissions("campaigns.campaignaccess", POST="change")
    permission_classes = [IsAdminOrApprovedAdvertiser]

    class InputSerializer(serializers.Serializer):
        affiliate_id = serializers.IntegerField(
            min_value=1, help_text="The affiliate to invite: its id, as register returns it."
        )

        class Meta:
            ref_name = "InvitationInput"

    @extend_schema(
        summary="Invite an affiliate into a campaign (the affiliate is emailed)",
        description=(
            "The owner advertiser or an admin invites an approved affiliate. An invitation is "
            "approved access at once (no acceptance step): the affiliate sees the campaign, "
            "private ones included, and gets its link from `/api/campaigns/<id>/link`. A "
            "pending, rejected or revoked application becomes approved; inviting an affiliate "
            "that already has approved access changes nothing and sends nothing. 400 "
            "`invalid_affiliate` for an unknown affiliate, `affiliate_not_approved` for one "
            "whose account is not approved; 409 `invalid_transition` on an archived campaign."
        ),
        request=InputSerializer,
        responses={200: ApplicationOutputSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: AuthenticatedRequest, campaign_id: int) -> Response:
        # The campaign first: another advertiser's campaign is a 404 whatever the body says.
        campaign = selectors.campaign_get(viewer=request.user, campaign_id=campaign_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            affiliate = selectors.affiliate_get_for_invitation(
                viewer=request.user, affiliate_id=serializer.validated_data["affiliate_id"]
            )
        except NotFoundError as exc:
            raise ApplicationError(
                "Unknown affiliate.",
                code="invalid_affiliate",
                fields={"affiliate_id": ["Unknown affiliate."]},
            ) from exc
        access = services.access_invite(campaign=campaign, affiliate=affiliate, actor=request.user)
        access = selectors.access_get(viewer=request.user, access_id=access.pk)
        return Response(ApplicationOutputSerializer(access).data)


# --- tracking links ----------------------------------------------------------------------------


class CampaignLinkApi(APIView):
    permission_classes = [IsApprovedAffiliate]

    class OutputSerializer(serializers.Serializer):
        link_id = serializers.CharField(source="token", help_text="The link's token.")
        url = serializers.CharField()
        campaign_id = serializers.IntegerField()

        class Meta:
            ref_name = "TrackingLink"

    @extend_schema(
        summary="The affiliate's tracking link for a campaign",
        description=(
            "Created on first request (one link per affiliate and campaign). Needs approved "
            "access; a public campaign grants it on the fly. `url` is the click URL `/c/<link_id>`"
            " (`/api/track/click/<link_id>` is the same endpoint)."
        ),
        responses={200: OutputSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: AuthenticatedRequest, campaign_id: int) -> Response:
        affiliate = own_affiliate(request.user)
        campaign = selectors.campaign_get_for_affiliate(
            affiliate=affiliate, campaign_id=campaign_id
        )
        link = services.link_get_or_create(campaign=campaign, affiliate=affiliate)
        output = {
            "token": link.token,
            "url": services.link_url(link=link),
            "campaign_id": link.campaign_id,
        }
        return Response(self.OutputSerializer(output).data)


# --- partner keys ------------------------------------------------------------------------------


_PROFILE_HELP = (
    "Whose parameter names the partner's postbacks use: "
    + ", ".join(PartnerProfile.values)
    + " (docs/partners.md, Postback profiles)."
)


class PartnerKeyOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    advertiser_id = serializers.IntegerField()
    name = serializers.CharField()
    key = serializers.CharField()
    postback_url = serializers.SerializerMethodField(
        help_text="The URL template to give the partner (`/postback/<key>?click_id={click_id}...`)."
    )
    is_active = serializers.BooleanField()
    ip_allowlist = serializers.ListField(child=serializers.CharField())
    require_signature = serializers.BooleanField()
    previous_key_expires_at = serializers.DateTimeField(
        allow_null=True, help_text="Until when the key replaced by the last rotation still works."
    )
    rotated_at = serializers.DateTimeField(allow_null=True)
    profile = serializers.CharField(help_text=_PROFILE_HELP)
    param_map = serializers.DictField(
        child=serializers.CharField(), help_text="Custom profile: their parameter name -> ours."
    )
    status_map = serializers.DictField(
        child=serializers.CharField(), help_text="Custom profile: their status value -> ours."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    class Meta:
        ref_name = "PartnerKey"

    def get_postback_url(self, partner_key: PartnerKey) -> str:
        return partner_key_postback_url(partner_key=partner_key)


class PartnerKeyWithSecretOutputSerializer(PartnerKeyOutputSerializer):
    """Only the answers to create and rotate carry the HMAC signing secret."""

    signing_secret = serializers.CharField()

    class Meta:
        ref_name = "PartnerKeyWithSecret"


class PartnerKeyListCreateApi(GenericAPIView):
    admin_permissions = staff_permissions("campaigns.partnerkey", POST="add")
    queryset = PartnerKey.objects.none()
    filter_backends = [DjangoFilterBackend]
    filterset_class = PartnerKeyFilter
    pagination_class = StandardPagination
    permission_classes = [IsAdminOrApprovedAdvertiser]

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100, allow_blank=True, required=False)
        ip_allowlist = serializers.ListField(
            child=serializers.CharField(max_length=64), max_length=200, required=False
        )
        require_signature = serializers.BooleanField(required=False)
        advertiser_id = serializers.IntegerField(
            required=False, help_text="Required for admins: the advertiser that owns the key."
        )
        # Checked by the service (`invalid_profile`, `invalid_param_map`, `invalid_status_map`).
        profile = serializers.CharField(max_length=32, required=False, help_text=_PROFILE_HELP)
        param_map = serializers.JSONField(
            required=False, help_text="Custom profile only: {their parameter name: ours}."
        )
        status_map = serializers.JSONField(
            required=False, help_text="Custom profile only: {their status value: ours}."
        )

        class Meta:
            ref_name = "PartnerKeyCreateInput"

    # OPTIONS (DRF's metadata) describes POST's input from it; without one OPTIONS was a 500.
    serializer_class = InputSerializer

    @extend_schema(
        summary="List partner keys",
        responses={200: PartnerKeyOutputSerializer(many=True), **error_responses(400, 401, 403)},
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        return paginated_response(
            queryset=self.filter_queryset(selectors.partner_key_list(viewer=request.user)),
            serializer_class=PartnerKeyOutputSerializer,
            request=request,
            view=self,
        )

    @extend_schema(
        summary="Issue a partner key",
        description="The answer is the only time `signing_secret` is shown (and after rotate).",
        request=InputSerializer,
        responses={201: PartnerKeyWithSecretOutputSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        advertiser = _advertiser_for_new_object(request.user, data.pop("advertiser_id", None))
        partner_key = partner_key_create(
            advertiser=advertiser,
            actor=request.user,
            source=audit_source_for_request(request),
            **data,
        )
        return Response(
            PartnerKeyWithSecretOutputSerializer(partner_key).data, status=status.HTTP_201_CREATED
        )


class PartnerKeyDetailApi(APIView):
    admin_permissions = staff_permissions("campaigns.partnerkey", PATCH="change")
    permission_classes = [IsAdminOrApprovedAdvertiser]

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100, allow_blank=True, required=False)
        ip_allowlist = serializers.ListField(
            child=serializers.CharField(max_length=64), max_length=200, required=False
        )
        is_active = serializers.BooleanField(required=False)
        require_signature = serializers.BooleanField(required=False)
        # Checked by the service (`invalid_profile`, `invalid_param_map`, `invalid_status_map`).
        profile = serializers.CharField(max_length=32, required=False, help_text=_PROFILE_HELP)
        param_map = serializers.JSONField(
            required=False, help_text="Custom profile only: {their parameter name: ours}."
        )
        status_map = serializers.JSONField(
            required=False, help_text="Custom profile only: {their status value: ours}."
        )

        class Meta:
            ref_name = "PartnerKeyUpdateInput"

    @extend_schema(
        summary="Change a partner key",
        description="`is_active: false` refuses the key (and its rotated-out predecessor) at once.",
        request=InputSerializer,
        responses={200: PartnerKeyOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: AuthenticatedRequest, partner_key_id: int) -> Response:
        partner_key = selectors.partner_key_get(viewer=request.user, partner_key_id=partner_key_id)
        serializer = self.InputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        partner_key = partner_key_update(
            partner_key=partner_key,
            actor=request.user,
            source=audit_source_for_request(request),
            **serializer.validated_data,
        )
        return Response(PartnerKeyOutputSerializer(partner_key).data)


class PartnerKeyRotateApi(APIView):
    admin_permissions = staff_permissions("campaigns.partnerkey", POST="change")
    permission_classes = [IsAdminOrApprovedAdvertiser]

    @extend_schema(
        summary="Rotate a partner key",
        description=(
            "Issues a new `key` and a new `signing_secret`; the previous key and secret keep "
            "working until `previous_key_expires_at` (the grace period), so the partner can "
            "switch without losing postbacks."
        ),
        request=None,
        responses={200: PartnerKeyWithSecretOutputSerializer, **error_responses(401, 403, 404)},
    )
    def post(self, request: AuthenticatedRequest, partner_key_id: int) -> Response:
        partner_key = selectors.partner_key_get(viewer=request.user, partner_key_id=partner_key_id)
        partner_key = partner_key_rotate(
            partner_key=partner_key,
            now=timezone.now(),
            actor=request.user,
            source=audit_source_for_request(request),
        )
        return Response(PartnerKeyWithSecretOutputSerializer(partner_key).data)
