"""The tracker REST API: clicks, conversions (and their status), end-user points, the
affiliates' postback endpoints and deliveries, and the seeds' legacy listing endpoints.

Views parse and authorize; the selectors decide which rows a viewer may see (another tenant's
row is a 404 like a missing one); the output serializer decides what of a row it may see, after
`selectors.money_visible`: affiliates never get revenue, margin or the partner's raw data,
advertisers never the affiliate's payout nor the margin.
"""

from typing import Any

from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Affiliate, User
from accounts.permissions import (
    IsAdminOrApprovedAdvertiser,
    IsAdminOrApprovedAffiliate,
    IsAnyApprovedRole,
)
from accounts.selectors import affiliate_get, own_affiliate
from core.api_schema import error_response, error_responses
from core.exceptions import ApplicationError, NotFoundError
from core.filters import query_params_check
from core.pagination import StandardPagination, paginated_response
from tracker import selectors
from tracker.filters import (
    ClickFilter,
    ConversionFilter,
    DeliveryFilter,
    PointsFilter,
    PostbackEndpointFilter,
)
from tracker.models import (
    BlockedReason,
    ChangeSource,
    Click,
    Conversion,
    ConversionStatus,
    Delivery,
    DeliveryStatus,
    EndpointMethod,
    EndUserPoints,
    ForwardEvent,
    PostbackEndpoint,
)
from tracker.selectors_forwarding import delivery_get, delivery_list, endpoint_get, endpoint_list
from tracker.services.conversions import conversion_status_change
from tracker.services.forwarding import (
    ENDPOINT_TESTS_PENDING_MAX,
    delivery_replay,
    endpoint_create,
    endpoint_delete,
    endpoint_secret_rotate,
    endpoint_test_create,
    endpoint_update,
)


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

    class Meta:
        ref_name = "Click"


class ClickListApi(GenericAPIView):
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
    def get(self, request: Request) -> Response:
        return paginated_response(
            queryset=self.filter_queryset(selectors.click_list(viewer=request.user)),
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
    offer_id = serializers.CharField(help_text="The partner's offer id, as posted back.")
    external_conversion_id = serializers.CharField(
        help_text="The partner's `conversion_id`, as posted back."
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
    source = serializers.ChoiceField(choices=ChangeSource.choices)
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
    def get(self, request: Request) -> Response:
        return paginated_response(
            queryset=self.filter_queryset(selectors.conversion_list(viewer=request.user)),
            serializer_class=_conversion_serializer(request.user, detail=False),
            request=request,
            view=self,
        )


class ConversionDetailApi(APIView):
    permission_classes = [IsAnyApprovedRole]

    @extend_schema(
        summary="One conversion, with its history and custom data",
        description=_ROLE_VIEWS,
        responses={200: ConversionDetailAdminSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, conversion_id: int) -> Response:
        conversion = selectors.conversion_get(viewer=request.user, conversion_id=conversion_id)
        serializer_class = _conversion_serializer(request.user, detail=True)
        return Response(serializer_class(conversion).data)


class ConversionStatusApi(APIView):
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
    def post(self, request: Request, conversion_id: int) -> Response:
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
    def get(self, request: Request) -> Response:
        return paginated_response(
            queryset=self.filter_queryset(selectors.points_list(viewer=request.user)),
            serializer_class=PointsOutputSerializer,
            request=request,
            view=self,
        )


# --- postback endpoints and deliveries ---------------------------------------------------------


class EndpointOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    affiliate_id = serializers.IntegerField()
    name = serializers.CharField()
    url = serializers.CharField()
    method = serializers.ChoiceField(choices=EndpointMethod.choices)
    events = serializers.ListField(child=serializers.ChoiceField(choices=ForwardEvent.choices))
    campaign = serializers.IntegerField(
        source="campaign_id", allow_null=True, help_text="null: every campaign."
    )
    is_active = serializers.BooleanField()
    failing_since = serializers.DateTimeField(allow_null=True)
    last_success_at = serializers.DateTimeField(allow_null=True)
    disabled_at = serializers.DateTimeField(allow_null=True)
    disabled_reason = serializers.CharField()
    previous_secret_expires_at = serializers.DateTimeField(
        allow_null=True, help_text="Until when the secret replaced by the last rotation signs too."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    class Meta:
        ref_name = "PostbackEndpoint"


class EndpointWithSecretOutputSerializer(EndpointOutputSerializer):
    """Only the answers to create and rotate-secret carry the signing secret."""

    secret = serializers.CharField(help_text="Standard Webhooks signing secret (`whsec_...`).")

    class Meta:
        ref_name = "PostbackEndpointWithSecret"


class _EndpointFieldsSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, allow_blank=True, required=False)
    url = serializers.CharField(
        max_length=2000,
        help_text="URL template with macros such as {click_id} {payout} {status}.",
    )
    method = serializers.ChoiceField(choices=EndpointMethod.choices, required=False)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=ForwardEvent.choices),
        allow_empty=False,
        min_length=1,  # what the schema shows (`minItems`); allow_empty alone is not documented
        required=False,
    )
    campaign = serializers.IntegerField(
        allow_null=True, required=False, help_text="A campaign id, or null for every campaign."
    )
    is_active = serializers.BooleanField(required=False)


def _affiliate_for_new_endpoint(user: User, affiliate_id: int | None) -> Affiliate:
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


class EndpointListCreateApi(GenericAPIView):
    queryset = PostbackEndpoint.objects.none()
    filter_backends = [DjangoFilterBackend]
    filterset_class = PostbackEndpointFilter
    pagination_class = StandardPagination
    permission_classes = [IsAdminOrApprovedAffiliate]

    class InputSerializer(_EndpointFieldsSerializer):
        affiliate_id = serializers.IntegerField(
            required=False, help_text="Required for admins: the affiliate that owns the endpoint."
        )

        class Meta:
            ref_name = "PostbackEndpointCreateInput"

    # OPTIONS (DRF's metadata) describes POST's input from it; without one OPTIONS was a 500.
    serializer_class = InputSerializer

    @extend_schema(
        summary="List postback endpoints",
        description="Affiliate: its own; admin: all.",
        responses={200: EndpointOutputSerializer(many=True), **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        return paginated_response(
            queryset=self.filter_queryset(endpoint_list(viewer=request.user)),
            serializer_class=EndpointOutputSerializer,
            request=request,
            view=self,
        )

    @extend_schema(
        summary="Add a postback endpoint",
        description=(
            "Unknown macros and non-public destinations are refused with a message naming them. "
            '`events` defaults to `["approved"]`, `method` to GET. The answer is the only time '
            "`secret` is shown (and after rotate-secret)."
        ),
        request=InputSerializer,
        responses={201: EndpointWithSecretOutputSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        affiliate = _affiliate_for_new_endpoint(request.user, data.pop("affiliate_id", None))
        endpoint = endpoint_create(affiliate=affiliate, **data)
        return Response(
            EndpointWithSecretOutputSerializer(endpoint).data, status=status.HTTP_201_CREATED
        )


class EndpointDetailApi(APIView):
    permission_classes = [IsAdminOrApprovedAffiliate]

    class InputSerializer(_EndpointFieldsSerializer):
        class Meta:
            ref_name = "PostbackEndpointUpdateInput"

    @extend_schema(
        summary="Change a postback endpoint",
        description=(
            "Deactivating cancels its pending deliveries (replayable); reactivating a disabled "
            "endpoint clears its failing state."
        ),
        request=InputSerializer(partial=True),
        responses={200: EndpointOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, endpoint_id: int) -> Response:
        endpoint = endpoint_get(viewer=request.user, endpoint_id=endpoint_id)
        serializer = self.InputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        endpoint = endpoint_update(endpoint=endpoint, data=serializer.validated_data)
        return Response(EndpointOutputSerializer(endpoint).data)

    @extend_schema(
        summary="Delete a postback endpoint (with its deliveries)",
        responses={204: None, **error_responses(401, 403, 404)},
    )
    def delete(self, request: Request, endpoint_id: int) -> Response:
        endpoint = endpoint_get(viewer=request.user, endpoint_id=endpoint_id)
        endpoint_delete(endpoint=endpoint)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeliveryAttemptSerializer(serializers.Serializer):
    attempt_number = serializers.IntegerField()
    attempted_at = serializers.DateTimeField()
    request_url = serializers.CharField()
    status_code = serializers.IntegerField(allow_null=True)
    latency_ms = serializers.IntegerField()
    response_excerpt = serializers.CharField()
    error = serializers.CharField()
    is_success = serializers.BooleanField()

    class Meta:
        ref_name = "DeliveryAttempt"


class DeliveryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    endpoint_id = serializers.IntegerField()
    conversion_id = serializers.IntegerField(allow_null=True)
    event_id = serializers.UUIDField(help_text="The `webhook-id` header: dedupe on it.")
    event = serializers.ChoiceField(choices=ForwardEvent.choices)
    status = serializers.ChoiceField(choices=DeliveryStatus.choices)
    attempt_count = serializers.IntegerField()
    max_attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    payload = serializers.DictField(help_text="The macro values of the event.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    attempts = DeliveryAttemptSerializer(many=True, source="attempts.all")

    class Meta:
        ref_name = "Delivery"


class EndpointTestOutputSerializer(DeliveryOutputSerializer):
    poll_url = serializers.SerializerMethodField(
        help_text="GET it (the delivery) until `status` is no longer `pending`; also `Location`."
    )

    class Meta:
        ref_name = "EndpointTest"

    def get_poll_url(self, delivery: Delivery) -> str:
        return reverse("api-delivery", kwargs={"delivery_id": delivery.pk})


class EndpointTestApi(APIView):
    permission_classes = [IsAdminOrApprovedAffiliate]

    @extend_schema(
        summary="Queue a test event to a postback endpoint",
        description=(
            "Answers 202 at once with the test: a delivery of a `test` event with sample values "
            "(`click_id=test-click`, payout 1.0000, ...), usually still `pending`. A worker sends "
            "it like any forward (signed, 15 s timeout, listed in the delivery log), one attempt "
            "and never retried. Poll `poll_url` (`GET /api/deliveries/<id>`) until `status` is "
            "`delivered` or `failed`: its attempt has the status code, latency, response excerpt "
            "and error. 409 `endpoint_inactive` for a disabled endpoint; 429 `too_many_tests` "
            f"when the endpoint's affiliate already has {ENDPOINT_TESTS_PENDING_MAX} tests "
            "waiting to be sent."
        ),
        request=None,
        responses={
            202: EndpointTestOutputSerializer,
            **error_responses(401, 403, 404, 409),
            429: error_response(
                f"`too_many_tests`: {ENDPOINT_TESTS_PENDING_MAX} tests of this affiliate are "
                "still waiting to be sent."
            ),
        },
    )
    def post(self, request: Request, endpoint_id: int) -> Response:
        endpoint = endpoint_get(viewer=request.user, endpoint_id=endpoint_id)
        created = endpoint_test_create(endpoint=endpoint)
        delivery = delivery_get(viewer=request.user, delivery_id=created.pk)
        body = EndpointTestOutputSerializer(delivery).data
        return Response(
            body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["poll_url"]}
        )


class EndpointRotateSecretApi(APIView):
    permission_classes = [IsAdminOrApprovedAffiliate]

    @extend_schema(
        summary="Rotate a postback endpoint's signing secret",
        description="The previous secret keeps signing alongside the new one for 24 hours.",
        request=None,
        responses={200: EndpointWithSecretOutputSerializer, **error_responses(401, 403, 404)},
    )
    def post(self, request: Request, endpoint_id: int) -> Response:
        endpoint = endpoint_get(viewer=request.user, endpoint_id=endpoint_id)
        endpoint = endpoint_secret_rotate(endpoint=endpoint)
        return Response(EndpointWithSecretOutputSerializer(endpoint).data)


class DeliveryListApi(GenericAPIView):
    queryset = Delivery.objects.none()
    filter_backends = [DjangoFilterBackend]
    filterset_class = DeliveryFilter
    pagination_class = StandardPagination
    permission_classes = [IsAdminOrApprovedAffiliate]

    @extend_schema(
        summary="List deliveries (forwarded events) with their attempts",
        description="Affiliate: deliveries to its own endpoints; admin: all.",
        responses={200: DeliveryOutputSerializer(many=True), **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        return paginated_response(
            queryset=self.filter_queryset(delivery_list(viewer=request.user)),
            serializer_class=DeliveryOutputSerializer,
            request=request,
            view=self,
        )


class DeliveryDetailApi(APIView):
    permission_classes = [IsAdminOrApprovedAffiliate]

    @extend_schema(
        summary="One delivery with its attempts",
        description=(
            "Affiliate: a delivery to its own endpoints; admin: any. Where an endpoint test's "
            "result is read (`poll_url` of `POST /api/postback-endpoints/<id>/test`)."
        ),
        responses={200: DeliveryOutputSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, delivery_id: int) -> Response:
        delivery = delivery_get(viewer=request.user, delivery_id=delivery_id)
        return Response(DeliveryOutputSerializer(delivery).data)


class DeliveryReplayApi(APIView):
    permission_classes = [IsAdminOrApprovedAffiliate]

    @extend_schema(
        summary="Replay a delivered, failed or cancelled delivery",
        description=(
            "Queued again from attempt 1 with the same `webhook-id`. 409 `delivery_pending` when "
            "it is already queued, `endpoint_inactive` when its endpoint is disabled."
        ),
        request=None,
        responses={200: DeliveryOutputSerializer, **error_responses(401, 403, 404, 409)},
    )
    def post(self, request: Request, delivery_id: int) -> Response:
        delivery = delivery_get(viewer=request.user, delivery_id=delivery_id)
        delivery_replay(delivery=delivery)
        delivery = delivery_get(viewer=request.user, delivery_id=delivery_id)
        return Response(DeliveryOutputSerializer(delivery).data)


# --- seeds 000/001: legacy listings ------------------------------------------------------------

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

    Errors keep the API's shape plus `"success": false`, as the seeds' clients test `success`.
    """

    permission_classes = [IsAnyApprovedRole]

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        if isinstance(response.data, dict):
            response.data = {"success": False, **response.data}
        return response

    def _query(self, request: Request, path_affiliate_id: int | None) -> tuple[int | None, int]:
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

    def _clicks(self, request: Request, path_affiliate_id: int | None) -> Response:
        affiliate_id, limit = self._query(request, path_affiliate_id)
        queryset = selectors.click_list(viewer=request.user)
        if affiliate_id is not None:
            queryset = queryset.filter(affiliate_id=affiliate_id)
        clicks = queryset.order_by("-created_at", "-id")[:limit]
        return self._answer(LegacyClickOutputSerializer(clicks, many=True).data)

    def _conversions(self, request: Request, path_affiliate_id: int | None) -> Response:
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
    def _answer(data: list[dict[str, Any]]) -> Response:
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


def _legacy_schema(summary: str, item: type[serializers.Serializer], *, by_path: bool) -> Any:
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
            "Seeds 000/001. Login required; scoped like `/api/clicks` and `/api/conversions`: an "
            "affiliate id the caller may not see is a 404. Newest first, `?limit=` (default "
            f"{LEGACY_LIMIT_DEFAULT}, at most {LEGACY_LIMIT_MAX})."
        ),
        parameters=[LegacyLimitQuerySerializer if by_path else LegacyListQuerySerializer],
        responses={200: envelope, **error_responses(400, 401, 403, 404)},
    )


class LegacyClickListApi(_LegacyListApi):
    @_legacy_schema("Clicks (legacy `?affiliate_id=`)", LegacyClickOutputSerializer, by_path=False)
    def get(self, request: Request) -> Response:
        return self._clicks(request, None)


class LegacyAffiliateClickListApi(_LegacyListApi):
    @_legacy_schema("Clicks of an affiliate (legacy)", LegacyClickOutputSerializer, by_path=True)
    def get(self, request: Request, affiliate_id: int) -> Response:
        return self._clicks(request, affiliate_id)


class LegacyConversionListApi(_LegacyListApi):
    @_legacy_schema(
        "Conversions (legacy `?affiliate_id=`)", LegacyConversionOutputSerializer, by_path=False
    )
    def get(self, request: Request) -> Response:
        return self._conversions(request, None)


class LegacyAffiliateConversionListApi(_LegacyListApi):
    @_legacy_schema(
        "Conversions of an affiliate (legacy)", LegacyConversionOutputSerializer, by_path=True
    )
    def get(self, request: Request, affiliate_id: int) -> Response:
        return self._conversions(request, affiliate_id)
