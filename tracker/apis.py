"""The tracker REST API: clicks, conversions (and their status), end-user points, and the
legacy listing endpoints of the first integrations.

Views parse and authorize; the selectors decide which rows a viewer may see (another tenant's
row is a 404 like a missing one); the output serializer decides what of a row it may see, after
`selectors.money_visible`: affiliates never get revenue, margin or the partner's raw data,
advertisers never the affiliate's payout nor the margin.
"""

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts.http import AuthenticatedRequest
from accounts.models import User
from accounts.permissions import (
    IsAdminOrApprovedAdvertiser,
    IsAdminOrApprovedAffiliate,
    IsAnyApprovedRole,
    staff_permissions,
)
from campaigns.selectors import partner_key_get
from core.api_schema import error_responses
from core.audit import audit_source_for_request
from core.exceptions import ApplicationError
from core.filters import query_params_check
from core.pagination import StandardPagination, paginated_response
from tracker import selectors
from tracker.explain import click_explain, conversion_explain
from tracker.filters import ClickFilter, ConversionFilter, PointsFilter
from tracker.models import (
    BlockedReason,
    ChangeSource,
    Click,
    Conversion,
    ConversionStatus,
    DeviceType,
    EndUserPoints,
)
from tracker.services.conversions import conversion_status_change
from tracker.services.sandbox import postback_sandbox, sandbox_report_view


def _money_field(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=18, decimal_places=4, **kwargs)


# --- clicks ------------------------------------------------------------------------------------


class ClickOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    click_id = serializers.CharField()
    campaign_id = serializers.IntegerField()
    affiliate_id = serializers.IntegerField()
    link_id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    ip = serializers.CharField(allow_null=True)
    user_agent = serializers.CharField()
    referer = serializers.CharField()
    country = serializers.CharField()
    sub1 = serializers.CharField()
    sub2 = serializers.CharField()
    sub3 = serializers.CharField()
    sub4 = serializers.CharField()
    sub5 = serializers.CharField()
    user_id = serializers.CharField()
    extra = serializers.DictField(help_text="Query parameters of the click we do not know.")
    is_unique = serializers.BooleanField()
    blocked_reason = serializers.ChoiceField(
        choices=[("", "Not blocked"), *BlockedReason.choices],
        help_text="Empty when the visitor went to the landing page.",
    )
    device_type = serializers.ChoiceField(
        choices=[("", "Unknown"), *DeviceType.choices],
        help_text="desktop, mobile, tablet, bot or other, parsed from the user agent; empty when "
        "it said nothing.",
    )
    os = serializers.CharField(help_text="Operating system family from the user agent.")
    browser = serializers.CharField(help_text="Browser family from the user agent.")
    landing_page_id = serializers.IntegerField(
        allow_null=True, help_text="The campaign landing page the visitor was sent to."
    )
    landing_page_name = serializers.CharField(
        source="landing_page.name", default="", help_text='"" without a landing page.'
    )
    smart_link_id = serializers.IntegerField(
        allow_null=True, help_text="The affiliate's smart link the click came through."
    )
    smart_link_name = serializers.CharField(
        source="smart_link.name", default="", help_text='"" when not through a smart link.'
    )
    fraud_signals = serializers.ListField(
        child=serializers.CharField(),
        help_text="Fraud signal codes the click raised: bot, deny_list, datacenter, "
        "click_velocity (empty: none).",
    )

    class Meta:
        ref_name = "Click"


class ClickListApi(GenericAPIView):
    admin_permissions = staff_permissions("tracker.click")
    queryset = Click.objects.none()
    filter_backends = [DjangoFilterBackend]
    filterset_class = ClickFilter
    pagination_class = StandardPagination
    permission_classes = [IsAnyApprovedRole]

    @extend_schema(
        summary="List clicks",
        description="Admin: all; advertiser: its campaigns' clicks; affiliate: its own.",
        responses={200: ClickOutputSerializer(many=True), **error_responses(400, 401, 403)},
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        # The page's landing pages and smart links are read by id, one query each (only when a
        # click of the page has one): a join would weigh on the list's COUNT and sort.
        return paginated_response(
            queryset=self.filter_queryset(
                selectors.click_list(viewer=request.user)
            ).prefetch_related("landing_page", "smart_link"),
            serializer_class=ClickOutputSerializer,
            request=request,
            view=self,
        )


# --- conversions -------------------------------------------------------------------------------


class _MarginField(serializers.DecimalField):
    """Revenue minus the affiliate's payout: the network's share (admins only)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_digits=18, decimal_places=4, source="*", read_only=True, **kwargs)

    def to_representation(self, value: Any) -> str:
        return super().to_representation(value.revenue - value.payout)


class _ConversionSerializer(serializers.Serializer):
    """What every role sees of a conversion: no money but its currency."""

    id = serializers.IntegerField()
    click_id = serializers.CharField(source="click.click_id")
    campaign_id = serializers.IntegerField()
    affiliate_id = serializers.IntegerField()
    event = serializers.CharField(source="event.code", help_text="The conversion event's code.")
    event_name = serializers.CharField(source="event.name")
    status = serializers.ChoiceField(choices=ConversionStatus.choices)
    reason = serializers.CharField()
    currency = serializers.CharField()
    transaction_id = serializers.CharField()
    user_id = serializers.CharField()
    country = serializers.CharField()
    sub1 = serializers.CharField(source="click.sub1")
    sub2 = serializers.CharField(source="click.sub2")
    sub3 = serializers.CharField(source="click.sub3")
    sub4 = serializers.CharField(source="click.sub4")
    sub5 = serializers.CharField(source="click.sub5")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    approved_at = serializers.DateTimeField(allow_null=True)
    fraud_signals = serializers.ListField(
        child=serializers.CharField(),
        help_text="Fraud signal codes the conversion raised: too_fast, ip_mismatch, "
        "conversion_velocity (empty: none).",
    )


class ConversionAffiliateSerializer(_ConversionSerializer):
    """What an affiliate sees of its conversion: its payout, never the revenue."""

    payout = _money_field(help_text="The affiliate's payout.")
    points_awarded = _money_field(help_text="Points the end user got (the payout, as points).")

    class Meta:
        ref_name = "ConversionForAffiliate"


class ConversionAdvertiserSerializer(_ConversionSerializer):
    """What an advertiser sees of a conversion on its campaigns: the revenue and the partner's
    ids, never the affiliate's payout (nor the points it awarded): with both amounts the
    advertiser would know the network's margin."""

    revenue = _money_field(help_text="What the partner pays for the conversion.")
    pricing_rule_id = serializers.IntegerField(
        allow_null=True, help_text="The pricing rule that priced it; null: the event's terms."
    )
    offer_id = serializers.CharField(help_text="The partner's offer id, as posted back.")
    external_conversion_id = serializers.CharField(
        help_text="The partner's `conversion_id`, as posted back."
    )
    original_amount = _money_field(
        allow_null=True,
        help_text="The partner's payout in its own currency, when it was not the campaign's "
        "(null otherwise); `revenue` is it converted.",
    )
    original_currency = serializers.CharField(
        help_text="The currency the partner paid in, when not the campaign's; empty otherwise."
    )
    exchange_rate = serializers.DecimalField(
        max_digits=20,
        decimal_places=10,
        allow_null=True,
        help_text="1 original_currency = exchange_rate currency: the rate of the conversion.",
    )

    class Meta:
        ref_name = "ConversionForAdvertiser"


class ConversionAdminSerializer(ConversionAdvertiserSerializer):
    payout = _money_field(help_text="The affiliate's payout.")
    points_awarded = _money_field(help_text="Points the end user got (the payout, as points).")
    margin = _MarginField()

    class Meta:
        ref_name = "Conversion"


class _HistorySerializer(serializers.Serializer):
    from_status = serializers.CharField(help_text="Empty for the conversion's first status.")
    to_status = serializers.ChoiceField(choices=ConversionStatus.choices)
    # DRF's metaclass moves declared fields out of the class body, so this never shadows
    # Field.source at runtime; the stubs see a class attribute of another type.
    source = serializers.ChoiceField(choices=ChangeSource.choices)  # type: ignore[assignment]
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class HistoryAffiliateSerializer(_HistorySerializer):
    payout = _money_field()

    class Meta:
        ref_name = "ConversionChangeForAffiliate"


class HistoryAdvertiserSerializer(_HistorySerializer):
    revenue = _money_field()

    class Meta:
        ref_name = "ConversionChangeForAdvertiser"


class HistoryAdminSerializer(HistoryAdvertiserSerializer):
    payout = _money_field()
    actor_id = serializers.IntegerField(allow_null=True)
    postback_log_id = serializers.UUIDField(allow_null=True)

    class Meta:
        ref_name = "ConversionChange"


class ConversionDetailAffiliateSerializer(ConversionAffiliateSerializer):
    device_id = serializers.CharField()
    ip = serializers.CharField()
    user_agent = serializers.CharField()
    history = HistoryAffiliateSerializer(many=True, source="history.all")

    class Meta:
        ref_name = "ConversionDetailForAffiliate"


class ConversionDetailAdvertiserSerializer(ConversionAdvertiserSerializer):
    device_id = serializers.CharField()
    ip = serializers.CharField()
    user_agent = serializers.CharField()
    sub_ids = serializers.DictField(help_text="Sub ids as the partner posted them back.")
    custom_data = serializers.DictField(help_text="Every unknown postback parameter, verbatim.")
    history = HistoryAdvertiserSerializer(many=True, source="history.all")

    class Meta:
        ref_name = "ConversionDetailForAdvertiser"


class ConversionDetailAdminSerializer(ConversionDetailAdvertiserSerializer):
    payout = _money_field(help_text="The affiliate's payout.")
    points_awarded = _money_field(help_text="Points the end user got (the payout, as points).")
    margin = _MarginField()
    partner_key_id = serializers.IntegerField(allow_null=True)
    history = HistoryAdminSerializer(many=True, source="history.all")

    class Meta:
        ref_name = "ConversionDetail"


def _conversion_serializer(viewer: User, *, detail: bool) -> type[serializers.Serializer]:
    """The role's view of a conversion: each carries exactly the money `money_visible` grants
    the role (tests hold them to it)."""
    if viewer.is_network_admin:
        return ConversionDetailAdminSerializer if detail else ConversionAdminSerializer
    if viewer.is_advertiser:
        return ConversionDetailAdvertiserSerializer if detail else ConversionAdvertiserSerializer
    return ConversionDetailAffiliateSerializer if detail else ConversionAffiliateSerializer


_ROLE_VIEWS = (
    "Admins get every field (`payout`, `points_awarded` and `margin` included); advertisers get "
    "the `revenue` but never the affiliate's `payout`, `points_awarded` or the `margin` "
    "(`ConversionForAdvertiser`); affiliates get their `payout` but neither `revenue` nor "
    "`margin` nor the partner's raw data (`ConversionForAffiliate`)."
)


class ConversionListApi(GenericAPIView):
    admin_permissions = staff_permissions("tracker.conversion")
    queryset = Conversion.objects.none()
    filter_backends = [DjangoFilterBackend]
    filterset_class = ConversionFilter
    pagination_class = StandardPagination
    permission_classes = [IsAnyApprovedRole]

    @extend_schema(
        summary="List conversions",
        description=(
            "Admin: all; advertiser: its campaigns' conversions; affiliate: its own. " + _ROLE_VIEWS
        ),
        responses={200: ConversionAdminSerializer(many=True), **error_responses(400, 401, 403)},
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        return paginated_response(
            queryset=self.filter_queryset(selectors.conversion_list(viewer=request.user)),
            serializer_class=_conversion_serializer(request.user, detail=False),
            request=request,
            view=self,
        )


class ConversionDetailApi(APIView):
    admin_permissions = staff_permissions("tracker.conversion")
    permission_classes = [IsAnyApprovedRole]

    @extend_schema(
        summary="One conversion, with its history and custom data",
        description=_ROLE_VIEWS,
        responses={200: ConversionDetailAdminSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: AuthenticatedRequest, conversion_id: int) -> Response:
        conversion = selectors.conversion_get(viewer=request.user, conversion_id=conversion_id)
        serializer_class = _conversion_serializer(request.user, detail=True)
        return Response(serializer_class(conversion).data)


class ConversionStatusApi(APIView):
    admin_permissions = staff_permissions("tracker.conversion", POST="change")
    permission_classes = [IsAdminOrApprovedAdvertiser]

    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=ConversionStatus.choices)
        reason = serializers.CharField(max_length=255, allow_blank=True, required=False)

        class Meta:
            ref_name = "ConversionStatusInput"

    @extend_schema(
        summary="Change a conversion's status",
        description=(
            "pending -> approved | rejected; approved -> reversed | rejected; rejected -> "
            "approved (with a `reason`); reversed is final (409 `invalid_transition`). The same "
            "status again changes nothing. The change is recorded in the history, moves the "
            "ledger and the end user's points, and is forwarded to the affiliate."
        ),
        request=InputSerializer,
        responses={
            200: ConversionDetailAdminSerializer,
            **error_responses(400, 401, 403, 404, 409),
        },
    )
    def post(self, request: AuthenticatedRequest, conversion_id: int) -> Response:
        user = request.user
        conversion = selectors.conversion_get(viewer=user, conversion_id=conversion_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        conversion_status_change(
            conversion_id=conversion.pk,
            status=serializer.validated_data["status"],
            reason=serializer.validated_data.get("reason", ""),
            actor=user,
            source=ChangeSource.ADMIN if user.is_network_admin else ChangeSource.ADVERTISER,
            audit_source=audit_source_for_request(request),
        )
        conversion = selectors.conversion_get(viewer=user, conversion_id=conversion_id)
        return Response(_conversion_serializer(user, detail=True)(conversion).data)


# --- end-user points ---------------------------------------------------------------------------


class PointsOutputSerializer(serializers.Serializer):
    affiliate_id = serializers.IntegerField()
    user_id = serializers.CharField()
    points = _money_field()
    updated_at = serializers.DateTimeField()

    class Meta:
        ref_name = "EndUserPoints"


class PointsListApi(GenericAPIView):
    admin_permissions = staff_permissions("tracker.enduserpoints")
    queryset = EndUserPoints.objects.none()
    filter_backends = [DjangoFilterBackend]
    filterset_class = PointsFilter
    pagination_class = StandardPagination
    permission_classes = [IsAdminOrApprovedAffiliate]

    @extend_schema(
        summary="End users' points",
        description=(
            "An affiliate's end users (the click's `user_id`) and their offerwall points: an "
            "approved conversion adds its payout, a reversal takes it back. `?user_id=` gives "
            "one end user's balance (an empty list: no points yet)."
        ),
        responses={200: PointsOutputSerializer(many=True), **error_responses(400, 401, 403)},
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        return paginated_response(
            queryset=self.filter_queryset(selectors.points_list(viewer=request.user)),
            serializer_class=PointsOutputSerializer,
            request=request,
            view=self,
        )


# --- the first integrations' listings ------------------------------------------------------------

LEGACY_LIMIT_DEFAULT = 100
LEGACY_LIMIT_MAX = 1000


class LegacyLimitQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(
        min_value=1, max_value=LEGACY_LIMIT_MAX, default=LEGACY_LIMIT_DEFAULT
    )

    class Meta:
        ref_name = "LegacyLimitQuery"


class LegacyListQuerySerializer(LegacyLimitQuerySerializer):
    affiliate_id = serializers.IntegerField(
        min_value=1, required=False, help_text="Default: every affiliate the caller may see."
    )

    class Meta:
        ref_name = "LegacyListQuery"


class _LegacyListApi(APIView):
    """`{"success": true, "status": "success", "data": [...]}`, newest first, at most `limit`.

    Errors keep the API's shape plus `"success": false`, as those clients test `success`.
    """

    permission_classes = [IsAnyApprovedRole]

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        if isinstance(response.data, dict):
            response.data = {"success": False, **response.data}
        return response

    def _query(
        self, request: AuthenticatedRequest, path_affiliate_id: int | None
    ) -> tuple[int | None, int]:
        """(affiliate id the viewer may see, or None for all it may see; row limit)."""
        # The QueryDict itself, not a dict: DRF then reads `?limit=` (empty) as not given, like
        # every other query parameter of the API.
        serializer_class = (
            LegacyListQuerySerializer if path_affiliate_id is None else LegacyLimitQuerySerializer
        )
        query_params_check(request.query_params, allowed=serializer_class().fields)
        serializer = serializer_class(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        affiliate_id = path_affiliate_id or serializer.validated_data.get("affiliate_id")
        if affiliate_id is not None:
            selectors.affiliate_get_for_traffic(viewer=request.user, affiliate_id=affiliate_id)
        return affiliate_id, serializer.validated_data["limit"]

    def _clicks(self, request: AuthenticatedRequest, path_affiliate_id: int | None) -> Response:
        affiliate_id, limit = self._query(request, path_affiliate_id)
        queryset = selectors.click_list(viewer=request.user)
        if affiliate_id is not None:
            queryset = queryset.filter(affiliate_id=affiliate_id)
        clicks = queryset.order_by("-created_at", "-id")[:limit]
        return self._answer(LegacyClickOutputSerializer(clicks, many=True).data)

    def _conversions(
        self, request: AuthenticatedRequest, path_affiliate_id: int | None
    ) -> Response:
        affiliate_id, limit = self._query(request, path_affiliate_id)
        queryset = selectors.conversion_list(viewer=request.user)
        if affiliate_id is not None:
            queryset = queryset.filter(affiliate_id=affiliate_id)
        conversions = queryset.order_by("-created_at", "-id")[:limit]
        serializer = LegacyConversionOutputSerializer(
            conversions, many=True, context={"viewer": request.user}
        )
        return self._answer(serializer.data)

    @staticmethod
    def _answer(data: Any) -> Response:
        """`data`: the serialized rows (a list; the stubs type a `many=True` serializer's data
        as a single row's)."""
        return Response({"success": True, "status": "success", "data": data})


class LegacyClickOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    click_id = serializers.CharField()
    campaign_id = serializers.IntegerField()
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "LegacyClick"


class LegacyConversionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    click_id = serializers.CharField(source="click.click_id")
    amount = serializers.SerializerMethodField(
        help_text="Affiliates: their payout; advertisers and admins: the revenue."
    )
    currency = serializers.CharField()
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "LegacyConversion"

    def get_amount(self, conversion: Conversion) -> str:
        viewer = self.context["viewer"]
        amount = conversion.payout if viewer.is_affiliate else conversion.revenue
        return f"{amount:.4f}"


def _legacy_schema(
    summary: str,
    item: type[LegacyClickOutputSerializer] | type[LegacyConversionOutputSerializer],
    *,
    by_path: bool,
) -> Any:
    envelope = inline_serializer(
        name=f"{item.Meta.ref_name}{'ListByAffiliate' if by_path else 'List'}",
        fields={
            "success": serializers.BooleanField(),
            "status": serializers.CharField(),
            "data": item(many=True),
        },
    )
    return extend_schema(
        summary=summary,
        description=(
            "The first integrations' listing. Login required; scoped like `/api/clicks` and "
            "`/api/conversions`: an affiliate id the caller may not see is a 404. Newest first, "
            f"`?limit=` (default {LEGACY_LIMIT_DEFAULT}, at most {LEGACY_LIMIT_MAX})."
        ),
        parameters=[LegacyLimitQuerySerializer if by_path else LegacyListQuerySerializer],
        responses={200: envelope, **error_responses(400, 401, 403, 404)},
    )


class LegacyClickListApi(_LegacyListApi):
    admin_permissions = staff_permissions("tracker.click")

    @_legacy_schema("Clicks (legacy `?affiliate_id=`)", LegacyClickOutputSerializer, by_path=False)
    def get(self, request: AuthenticatedRequest) -> Response:
        return self._clicks(request, None)


class LegacyAffiliateClickListApi(_LegacyListApi):
    admin_permissions = staff_permissions("tracker.click")

    @_legacy_schema("Clicks of an affiliate (legacy)", LegacyClickOutputSerializer, by_path=True)
    def get(self, request: AuthenticatedRequest, affiliate_id: int) -> Response:
        return self._clicks(request, affiliate_id)


class LegacyConversionListApi(_LegacyListApi):
    admin_permissions = staff_permissions("tracker.conversion")

    @_legacy_schema(
        "Conversions (legacy `?affiliate_id=`)", LegacyConversionOutputSerializer, by_path=False
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        return self._conversions(request, None)


class LegacyAffiliateConversionListApi(_LegacyListApi):
    admin_permissions = staff_permissions("tracker.conversion")

    @_legacy_schema(
        "Conversions of an affiliate (legacy)", LegacyConversionOutputSerializer, by_path=True
    )
    def get(self, request: AuthenticatedRequest, affiliate_id: int) -> Response:
        return self._conversions(request, affiliate_id)


# --- the postback sandbox ----------------------------------------------------------------------


class PartnerKeySandboxApi(APIView):
    # Staff who may change partner keys may try them (the whole postback runs, then rolls back).
    admin_permissions = staff_permissions("campaigns.partnerkey", POST="change")
    permission_classes = [IsAdminOrApprovedAdvertiser]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "postback_sandbox"

    class InputSerializer(serializers.Serializer):
        params = serializers.DictField(
            child=serializers.CharField(max_length=2000, allow_blank=True),
            required=False,
            help_text="The postback's parameters, as the partner would send them.",
        )
        url = serializers.CharField(
            max_length=8000,
            required=False,
            help_text="Or a whole postback URL as the partner would call it: its query is read.",
        )

        class Meta:
            ref_name = "PostbackSandboxInput"

    @extend_schema(
        summary="Try a postback without recording it (sandbox)",
        description=(
            "Runs the whole postback service for this key (its profile, the click, the event, "
            "the pricing rule, caps, the status machine, the ledger and the forwarding outbox) "
            "in a transaction that is rolled back: nothing is recorded, counted, paid or "
            "forwarded. Answers what the real postback would have done: `result` or `error` "
            "(with `http_status`, the status the real postback would answer), the conversion "
            "with its money, every cap's counter before and after, the ledger entries and the "
            "forwards that would be queued (an advertiser reads its own ledger lines, never the "
            "affiliate's payout), and the campaign's fraud checks with their inputs. The key's "
            "IP allowlist and signature rule are not applied (they are the partner server's)."
        ),
        request=InputSerializer,
        responses={
            200: inline_serializer(
                name="PostbackSandboxResult",
                fields={
                    "result": serializers.CharField(),
                    "reason": serializers.CharField(),
                    "http_status": serializers.IntegerField(),
                    "error": serializers.DictField(allow_null=True),
                    "conversion": serializers.DictField(allow_null=True),
                    "caps": serializers.ListField(child=serializers.DictField()),
                    "ledger_entries": serializers.ListField(child=serializers.DictField()),
                    "forwards": serializers.ListField(child=serializers.DictField()),
                    "fraud": serializers.ListField(child=serializers.DictField()),
                },
            ),
            **error_responses(400, 401, 403, 404),
        },
    )
    def post(self, request: AuthenticatedRequest, partner_key_id: int) -> Response:
        partner_key = partner_key_get(viewer=request.user, partner_key_id=partner_key_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        params = dict(serializer.validated_data.get("params") or {})
        url = serializer.validated_data.get("url")
        if url:
            params = {**dict(parse_qsl(urlsplit(url).query, keep_blank_values=True)), **params}
        if not params:
            raise ApplicationError(
                "Send the postback's `params` or its `url`.",
                code="missing_params",
                fields={"params": ["Give the parameters or a postback URL."]},
            )
        report = postback_sandbox(partner_key=partner_key, params=params)
        return Response(sandbox_report_view(report=report, viewer=request.user))


# --- explanations ------------------------------------------------------------------------------

_EXPLAIN_VIEWS = (
    "Scoped like the object (another tenant's is a 404) and redacted like it: affiliates never "
    "read revenue or the partner's raw parameters, advertisers never the affiliate's payout."
)


class ConversionExplainApi(APIView):
    admin_permissions = staff_permissions("tracker.conversion")
    permission_classes = [IsAnyApprovedRole]

    @extend_schema(
        summary="Why this conversion was recorded and paid as it was",
        description=(
            "The decision trace: the click and the attribution window arithmetic, the event, "
            "the pricing rule that priced it and the candidates it beat (ranked by specificity: "
            "affiliate 8, event 4, country 2, sub1 1; then later start, then higher id), the "
            "caps with their counters in the conversion's period, and every status change "
            "with its source request. " + _EXPLAIN_VIEWS
        ),
        responses={200: OpenApiTypes.OBJECT, **error_responses(401, 403, 404)},
    )
    def get(self, request: AuthenticatedRequest, conversion_id: int) -> Response:
        return Response(conversion_explain(viewer=request.user, conversion_id=conversion_id))


class ClickExplainApi(APIView):
    admin_permissions = staff_permissions("tracker.click")
    permission_classes = [IsAnyApprovedRole]

    @extend_schema(
        summary="Where this click went, and why",
        description=(
            "The click's checks (campaign status, country targeting, the campaign's targeting "
            "rules as they are now and the first one the click fails, fraud signals) with their "
            "inputs, where "
            "the visitor was sent and the conversions it brought. " + _EXPLAIN_VIEWS
        ),
        responses={200: OpenApiTypes.OBJECT, **error_responses(401, 403, 404)},
    )
    def get(self, request: AuthenticatedRequest, click_id: str) -> Response:
        return Response(click_explain(viewer=request.user, click_id=click_id))
