"""The forwarding REST API: the affiliates' postback endpoints, endpoint tests, and the
deliveries sent to them (with their attempts), replayable; the operator's webhooks (admins).

Views parse and authorize; `forwarding.selectors` decides which rows a viewer may see (another
tenant's row is a 404 like a missing one).
"""

from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.http import AuthenticatedRequest
from accounts.models import Affiliate, User
from accounts.permissions import IsAdminOrApprovedAffiliate, IsNetworkAdmin, staff_permissions
from accounts.selectors import affiliate_get, own_affiliate
from core.api_schema import error_response, error_responses
from core.audit import audit_source_for_request
from core.exceptions import ApplicationError, NotFoundError
from core.filters import PAGINATION_PARAMETERS, query_params_check
from core.models import OperatorEventType
from core.pagination import StandardPagination, paginated_response
from forwarding.filters import DeliveryFilter, PostbackEndpointFilter
from forwarding.models import (
    Delivery,
    DeliveryStatus,
    EndpointMethod,
    ForwardEvent,
    OperatorWebhook,
    PostbackEndpoint,
)
from forwarding.selectors import delivery_get, delivery_list, endpoint_get, endpoint_list
from forwarding.services.delivery import delivery_replay
from forwarding.services.endpoints import (
    ENDPOINT_TESTS_PENDING_MAX,
    endpoint_create,
    endpoint_delete,
    endpoint_secret_rotate,
    endpoint_test_create,
    endpoint_update,
)
from forwarding.services.operator_webhooks import (
    operator_webhook_create,
    operator_webhook_delete,
    operator_webhook_update,
)


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
    admin_permissions = staff_permissions("forwarding.postbackendpoint", POST="add")
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
    def get(self, request: AuthenticatedRequest) -> Response:
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
    def post(self, request: AuthenticatedRequest) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        affiliate = _affiliate_for_new_endpoint(request.user, data.pop("affiliate_id", None))
        endpoint = endpoint_create(
            affiliate=affiliate,
            actor=request.user,
            source=audit_source_for_request(request),
            **data,
        )
        return Response(
            EndpointWithSecretOutputSerializer(endpoint).data, status=status.HTTP_201_CREATED
        )


class EndpointDetailApi(APIView):
    admin_permissions = staff_permissions(
        "forwarding.postbackendpoint", PATCH="change", DELETE="delete"
    )
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
    def patch(self, request: AuthenticatedRequest, endpoint_id: int) -> Response:
        endpoint = endpoint_get(viewer=request.user, endpoint_id=endpoint_id)
        serializer = self.InputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        endpoint = endpoint_update(
            endpoint=endpoint,
            data=serializer.validated_data,
            actor=request.user,
            source=audit_source_for_request(request),
        )
        return Response(EndpointOutputSerializer(endpoint).data)

    @extend_schema(
        summary="Delete a postback endpoint (with its deliveries)",
        responses={204: None, **error_responses(401, 403, 404)},
    )
    def delete(self, request: AuthenticatedRequest, endpoint_id: int) -> Response:
        endpoint = endpoint_get(viewer=request.user, endpoint_id=endpoint_id)
        endpoint_delete(
            endpoint=endpoint, actor=request.user, source=audit_source_for_request(request)
        )
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
    admin_permissions = staff_permissions("forwarding.postbackendpoint", POST="change")
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
    def post(self, request: AuthenticatedRequest, endpoint_id: int) -> Response:
        endpoint = endpoint_get(viewer=request.user, endpoint_id=endpoint_id)
        created = endpoint_test_create(endpoint=endpoint)
        delivery = delivery_get(viewer=request.user, delivery_id=created.pk)
        body = EndpointTestOutputSerializer(delivery).data
        return Response(
            body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["poll_url"]}
        )


class EndpointRotateSecretApi(APIView):
    admin_permissions = staff_permissions("forwarding.postbackendpoint", POST="change")
    permission_classes = [IsAdminOrApprovedAffiliate]

    @extend_schema(
        summary="Rotate a postback endpoint's signing secret",
        description="The previous secret keeps signing alongside the new one for 24 hours.",
        request=None,
        responses={200: EndpointWithSecretOutputSerializer, **error_responses(401, 403, 404)},
    )
    def post(self, request: AuthenticatedRequest, endpoint_id: int) -> Response:
        endpoint = endpoint_get(viewer=request.user, endpoint_id=endpoint_id)
        endpoint = endpoint_secret_rotate(
            endpoint=endpoint, actor=request.user, source=audit_source_for_request(request)
        )
        return Response(EndpointWithSecretOutputSerializer(endpoint).data)


class DeliveryListApi(GenericAPIView):
    admin_permissions = staff_permissions("forwarding.delivery")
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
    def get(self, request: AuthenticatedRequest) -> Response:
        return paginated_response(
            queryset=self.filter_queryset(delivery_list(viewer=request.user)),
            serializer_class=DeliveryOutputSerializer,
            request=request,
            view=self,
        )


class DeliveryDetailApi(APIView):
    admin_permissions = staff_permissions("forwarding.delivery")
    permission_classes = [IsAdminOrApprovedAffiliate]

    @extend_schema(
        summary="One delivery with its attempts",
        description=(
            "Affiliate: a delivery to its own endpoints; admin: any. Where an endpoint test's "
            "result is read (`poll_url` of `POST /api/postback-endpoints/<id>/test`)."
        ),
        responses={200: DeliveryOutputSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: AuthenticatedRequest, delivery_id: int) -> Response:
        delivery = delivery_get(viewer=request.user, delivery_id=delivery_id)
        return Response(DeliveryOutputSerializer(delivery).data)


class DeliveryReplayApi(APIView):
    admin_permissions = staff_permissions("forwarding.delivery", POST="change")
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
    def post(self, request: AuthenticatedRequest, delivery_id: int) -> Response:
        delivery = delivery_get(viewer=request.user, delivery_id=delivery_id)
        delivery_replay(delivery=delivery)
        delivery = delivery_get(viewer=request.user, delivery_id=delivery_id)
        return Response(DeliveryOutputSerializer(delivery).data)


# --- operator webhooks (admins only) -----------------------------------------------------------


class OperatorWebhookOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    url = serializers.CharField()
    events = serializers.ListField(child=serializers.ChoiceField(choices=OperatorEventType.choices))
    is_active = serializers.BooleanField()
    last_success_at = serializers.DateTimeField(allow_null=True)
    failing_since = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    class Meta:
        ref_name = "OperatorWebhook"


class OperatorWebhookWithSecretOutputSerializer(OperatorWebhookOutputSerializer):
    """Only the answer to create carries the signing secret."""

    secret = serializers.CharField(help_text="Standard Webhooks signing secret (`whsec_...`).")

    class Meta:
        ref_name = "OperatorWebhookWithSecret"


class _OperatorWebhookFieldsSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, allow_blank=True, required=False)
    url = serializers.CharField(max_length=2000, help_text="HTTPS URL; no macros.")
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=OperatorEventType.choices),
        allow_empty=False,
        min_length=1,
    )
    is_active = serializers.BooleanField(required=False)


class OperatorWebhookListCreateApi(GenericAPIView):
    queryset = OperatorWebhook.objects.none()
    filter_backends: list[type] = []  # newest first, paginated, nothing to filter or order by
    pagination_class = StandardPagination
    admin_permissions = staff_permissions("forwarding.operatorwebhook", POST="add")
    permission_classes = [IsNetworkAdmin]

    class InputSerializer(_OperatorWebhookFieldsSerializer):
        class Meta:
            ref_name = "OperatorWebhookCreateInput"

    serializer_class = InputSerializer

    @extend_schema(
        summary="List operator webhooks (admin)",
        responses={
            200: OperatorWebhookOutputSerializer(many=True),
            **error_responses(400, 401, 403),
        },
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        query_params_check(request.query_params, allowed=PAGINATION_PARAMETERS)
        return paginated_response(
            queryset=OperatorWebhook.objects.order_by("-id"),
            serializer_class=OperatorWebhookOutputSerializer,
            request=request,
            view=self,
        )

    @extend_schema(
        summary="Add an operator webhook (admin)",
        description=(
            "A signed JSON POST of each subscribed network event. Non-public destinations are "
            "refused. The answer is the only time `secret` is shown."
        ),
        request=InputSerializer,
        responses={
            201: OperatorWebhookWithSecretOutputSerializer,
            **error_responses(400, 401, 403),
        },
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        webhook = operator_webhook_create(
            actor=request.user,
            source=audit_source_for_request(request),
            **serializer.validated_data,
        )
        return Response(
            OperatorWebhookWithSecretOutputSerializer(webhook).data,
            status=status.HTTP_201_CREATED,
        )


class OperatorWebhookDetailApi(APIView):
    admin_permissions = staff_permissions(
        "forwarding.operatorwebhook", PATCH="change", DELETE="delete"
    )
    permission_classes = [IsNetworkAdmin]

    class InputSerializer(_OperatorWebhookFieldsSerializer):
        class Meta:
            ref_name = "OperatorWebhookUpdateInput"

    def _webhook(self, webhook_id: int) -> OperatorWebhook:
        webhook = OperatorWebhook.objects.filter(pk=webhook_id).first()
        if webhook is None:
            raise NotFoundError("Operator webhook not found.")
        return webhook

    @extend_schema(
        summary="Change an operator webhook (admin)",
        request=InputSerializer(partial=True),
        responses={200: OperatorWebhookOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: AuthenticatedRequest, webhook_id: int) -> Response:
        webhook = self._webhook(webhook_id)
        serializer = self.InputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        webhook = operator_webhook_update(
            webhook=webhook,
            data=serializer.validated_data,
            actor=request.user,
            source=audit_source_for_request(request),
        )
        return Response(OperatorWebhookOutputSerializer(webhook).data)

    @extend_schema(
        summary="Delete an operator webhook with its deliveries (admin)",
        responses={204: None, **error_responses(401, 403, 404)},
    )
    def delete(self, request: AuthenticatedRequest, webhook_id: int) -> Response:
        operator_webhook_delete(
            webhook=self._webhook(webhook_id),
            actor=request.user,
            source=audit_source_for_request(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
