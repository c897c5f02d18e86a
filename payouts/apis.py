"""Payouts REST API: balances, payout requests and their lifecycle, payout methods, manual
adjustments, CSV exports.

Affiliates see and request their own payouts; admins see everyone's and decide. Scoping is the
selectors' job (`payouts.selectors.payout_list`, `accounts.selectors.affiliate_get`): a payout or
affiliate the viewer may not see answers 404, exactly like a missing one.
"""

from typing import TypedDict

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import SAFE_METHODS
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts.http import AuthenticatedRequest
from accounts.models import Affiliate, User
from accounts.models import PayoutMethod as PayoutChannel
from accounts.permissions import (
    IsAdminOrApprovedAffiliate,
    IsApprovedAffiliate,
    IsNetworkAdmin,
    staff_permissions,
)
from accounts.selectors import affiliate_get
from accounts.throttling import SCOPE_REAUTHENTICATION
from core.api_schema import error_response
from core.audit import audit_source_for_request
from core.currencies import CURRENCY_CODES
from core.exceptions import ApplicationError
from core.filters import PAGINATION_PARAMETERS, query_params_check
from core.money_fields import MoneySerializerField
from core.pagination import paginated_response
from payouts import adjustments, exports, payout_methods, selectors, services
from payouts.filters import PAYOUT_ORDERING_FIELDS, PayoutFilter, StableOrderingFilter
from payouts.models import OwnerType, PayoutMethod, PayoutMethodKind, PayoutRequest


class _Digits(TypedDict):
    max_digits: int
    decimal_places: int


_MONEY: _Digits = {"max_digits": 18, "decimal_places": 4}

_E401 = error_response("Not authenticated.")
_E403 = error_response("The caller's role may not do this.")
_E404_PAYOUT = error_response("No such payout, or not the caller's.")
_E404_AFFILIATE = error_response("No such affiliate, or not the caller.")


@extend_schema_field({"type": "string", "enum": sorted(CURRENCY_CODES), "example": "USD"})
class _CurrencyField(serializers.CharField):
    """An ISO 4217 code (`_currency_parse` checks it); the schema lists the codes."""


def _currency_parse(value: str) -> str:
    code = value.strip().upper()
    if code not in CURRENCY_CODES:
        raise serializers.ValidationError("Use an ISO 4217 code, e.g. USD.")
    return code


def _affiliate_for_viewer(*, viewer: User, affiliate_id: int | None) -> Affiliate:
    """The affiliate whose money the viewer reads: an affiliate itself (naming another one is a
    404), or for an admin the one named by `?affiliate_id=`, which admins must give."""
    if affiliate_id is None:
        if viewer.is_network_admin:
            raise ApplicationError(
                "Name the affiliate with ?affiliate_id=.",
                code="missing_affiliate_id",
                fields={"affiliate_id": ["Required for admins."]},
            )
        affiliate_id = viewer.pk
    return affiliate_get(viewer=viewer, affiliate_id=affiliate_id)


class PayoutEventSerializer(serializers.Serializer):
    from_status = serializers.CharField(help_text="Empty for the request itself.")
    to_status = serializers.CharField()
    actor = serializers.SerializerMethodField(help_text="`affiliate`, `admin` or `system`.")
    note = serializers.CharField()
    created_at = serializers.DateTimeField()

    def get_actor(self, event) -> str:
        if event.actor_id is None:
            return "system"
        return "affiliate" if event.actor_id == self.context["affiliate_id"] else "admin"

    class Meta:
        ref_name = "PayoutEvent"


class PayoutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    affiliate_id = serializers.IntegerField()
    affiliate_email = serializers.EmailField(source="affiliate.user.email")
    amount = serializers.DecimalField(**_MONEY)
    currency = serializers.CharField()
    method = serializers.CharField()
    payout_method_id = serializers.IntegerField(
        allow_null=True, help_text="The saved payout method it was made with, if any."
    )
    payout_details = serializers.CharField(
        help_text="Where to pay, as the affiliate's payout method (or profile) said when it "
        "asked; later edits do not change it."
    )
    status = serializers.CharField()
    reference = serializers.CharField(help_text="The payment's reference, once paid.")
    note = serializers.CharField(help_text="The rejection reason, if any.")
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    paid_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "Payout"


class PayoutDetailSerializer(PayoutSerializer):
    events = PayoutEventSerializer(
        many=True, source="events.all", help_text="Status history, oldest first."
    )

    class Meta:
        ref_name = "PayoutDetail"


def _payout_detail(*, viewer: User, payout_id: int) -> dict:
    payout = selectors.payout_get(viewer=viewer, payout_id=payout_id)
    return PayoutDetailSerializer(payout, context={"affiliate_id": payout.affiliate_id}).data


class _PayoutQuerysetMixin(GenericAPIView):
    filter_backends = [DjangoFilterBackend, StableOrderingFilter]
    filterset_class = PayoutFilter
    ordering_fields = PAYOUT_ORDERING_FIELDS
    ordering = ["-id"]
    request: AuthenticatedRequest  # the views' permission classes require a logged-in user

    def get_queryset(self) -> QuerySet[PayoutRequest]:
        if getattr(self, "swagger_fake_view", False):
            return PayoutRequest.objects.none()
        return selectors.payout_list(viewer=self.request.user)


class _CsvNegotiationMixin(APIView):
    """CSV endpoints stream plain text whatever the client accepts; their errors are JSON."""

    def perform_content_negotiation(
        self, request: Request, force: bool = False
    ) -> tuple[BaseRenderer, str]:
        return super().perform_content_negotiation(request, force=True)


class BalanceSerializer(serializers.Serializer):
    pending = serializers.DecimalField(**_MONEY, help_text="Earned, still in hold.")
    available = serializers.DecimalField(
        **_MONEY, help_text="Withdrawable; negative after a reversal of paid-out money."
    )
    requested = serializers.DecimalField(**_MONEY, help_text="In open payout requests.")
    paid = serializers.DecimalField(**_MONEY, help_text="Paid out, all time.")

    class Meta:
        ref_name = "Balance"


class BalanceApi(APIView):
    admin_permissions = staff_permissions("payouts.ledgeraccount")
    permission_classes = [IsAdminOrApprovedAffiliate]

    class InputSerializer(serializers.Serializer):
        affiliate_id = serializers.IntegerField(required=False, min_value=1)

    class OutputSerializer(serializers.Serializer):
        affiliate_id = serializers.IntegerField()
        minimum_payout = serializers.DecimalField(**_MONEY)
        balances = serializers.DictField(child=BalanceSerializer(), help_text="Per currency code.")

        class Meta:
            ref_name = "Balances"

    @extend_schema(
        summary="An affiliate's balances per currency",
        parameters=[InputSerializer],
        responses={
            200: OutputSerializer,
            400: error_response(
                "`missing_affiliate_id` (admins), an invalid parameter or `unknown_parameter`."
            ),
            401: _E401,
            403: _E403,
            404: _E404_AFFILIATE,
        },
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        query_params_check(request.query_params, allowed=self.InputSerializer().fields)
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        affiliate = _affiliate_for_viewer(
            viewer=request.user, affiliate_id=params.validated_data.get("affiliate_id")
        )
        data = {
            "affiliate_id": affiliate.user_id,
            "minimum_payout": services.payout_minimum_amount(),
            "balances": selectors.affiliate_balances(affiliate_id=affiliate.user_id),
        }
        return Response(self.OutputSerializer(data).data)


class PayoutListCreateApi(_PayoutQuerysetMixin, GenericAPIView):
    """GET: payouts the viewer may see. POST: the calling affiliate asks for a payout."""

    admin_permissions = staff_permissions("payouts.payoutrequest")

    class InputSerializer(serializers.Serializer):
        amount = MoneySerializerField(**_MONEY)
        currency = _CurrencyField(max_length=3)
        method = serializers.ChoiceField(
            choices=PayoutChannel.choices,
            required=False,
            help_text="Without `payout_method`: the channel, with the profile's details "
            "(defaults to the profile's channel).",
        )
        payout_method = serializers.IntegerField(
            required=False,
            min_value=1,
            help_text="The id of one of the affiliate's active payout methods; its details are "
            "copied onto the request. Defaults to the affiliate's default method, when it has "
            "one and `method` is not given.",
        )

        class Meta:
            ref_name = "PayoutRequestInput"

        def validate_currency(self, value: str) -> str:
            return _currency_parse(value)

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsApprovedAffiliate()]
        return [IsAdminOrApprovedAffiliate()]

    def get_serializer_class(self):
        # OPTIONS (DRF's metadata) describes POST's input from it; without one OPTIONS was a 500.
        return self.InputSerializer

    @extend_schema(
        summary="List payout requests (affiliate: own; admin: all)",
        responses={
            200: PayoutSerializer(many=True),
            400: error_response("Invalid filter."),
            401: _E401,
            403: _E403,
        },
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        return paginated_response(
            queryset=queryset, serializer_class=PayoutSerializer, request=request, view=self
        )

    @extend_schema(
        summary="Request a payout from the available balance (affiliate)",
        request=InputSerializer,
        responses={
            201: PayoutDetailSerializer,
            400: error_response(
                "`below_minimum`, `insufficient_balance`, `invalid_amount`, "
                "`invalid_payout_method` (not the caller's active method), `invalid_method` or "
                "invalid fields."
            ),
            401: _E401,
            403: _E403,
        },
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        affiliate = affiliate_get(viewer=request.user, affiliate_id=request.user.pk)
        payout = services.payout_request_create(affiliate=affiliate, **serializer.validated_data)
        data = _payout_detail(viewer=request.user, payout_id=payout.pk)
        return Response(data, status=status.HTTP_201_CREATED)


class PayoutDetailApi(APIView):
    admin_permissions = staff_permissions("payouts.payoutrequest")
    permission_classes = [IsAdminOrApprovedAffiliate]

    @extend_schema(
        summary="One payout request with its status history",
        responses={200: PayoutDetailSerializer, 401: _E401, 403: _E403, 404: _E404_PAYOUT},
    )
    def get(self, request: AuthenticatedRequest, payout_id: int) -> Response:
        return Response(_payout_detail(viewer=request.user, payout_id=payout_id))


_DECISION_ERRORS = {
    401: _E401,
    403: _E403,
    404: _E404_PAYOUT,
    409: error_response("`invalid_transition`: the payout's status does not allow it."),
}


class PayoutApproveApi(APIView):
    admin_permissions = staff_permissions("payouts.payoutrequest", POST="change")
    permission_classes = [IsNetworkAdmin]

    @extend_schema(
        summary="Approve a requested payout (admin)",
        request=None,
        responses={200: PayoutDetailSerializer, **_DECISION_ERRORS},
    )
    def post(self, request: AuthenticatedRequest, payout_id: int) -> Response:
        payout = selectors.payout_get(viewer=request.user, payout_id=payout_id)
        services.payout_approve(
            payout=payout, actor=request.user, source=audit_source_for_request(request)
        )
        return Response(_payout_detail(viewer=request.user, payout_id=payout_id))


@extend_schema_view(post=extend_schema(operation_id="payouts_approve_legacy_path"))
class PayoutApproveLegacyPathApi(PayoutApproveApi):
    """`POST /api/payouts/approve/<id>`, the path the first API clients use: the same endpoint
    under its own operation id."""


class PayoutRejectApi(APIView):
    admin_permissions = staff_permissions("payouts.payoutrequest", POST="change")
    permission_classes = [IsNetworkAdmin]

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")

        class Meta:
            ref_name = "PayoutRejectInput"

    @extend_schema(
        summary="Reject a requested or approved payout; the amount returns to available (admin)",
        request=InputSerializer,
        responses={
            200: PayoutDetailSerializer,
            400: error_response("Invalid fields."),
            **_DECISION_ERRORS,
        },
    )
    def post(self, request: AuthenticatedRequest, payout_id: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payout = selectors.payout_get(viewer=request.user, payout_id=payout_id)
        services.payout_reject(
            payout=payout,
            actor=request.user,
            reason=serializer.validated_data["reason"],
            source=audit_source_for_request(request),
        )
        return Response(_payout_detail(viewer=request.user, payout_id=payout_id))


class PayoutMarkPaidApi(APIView):
    admin_permissions = staff_permissions("payouts.payoutrequest", POST="change")
    permission_classes = [IsNetworkAdmin]

    class InputSerializer(serializers.Serializer):
        # Blank or missing is the service's `reference_required`, not a generic `invalid`.
        reference = serializers.CharField(
            required=False, allow_blank=True, max_length=255, default=""
        )

        class Meta:
            ref_name = "PayoutMarkPaidInput"

    @extend_schema(
        summary="Mark an approved payout paid, with the payment's reference (admin)",
        request=InputSerializer,
        responses={
            200: PayoutDetailSerializer,
            400: error_response("`reference_required` or invalid fields."),
            **_DECISION_ERRORS,
        },
    )
    def post(self, request: AuthenticatedRequest, payout_id: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payout = selectors.payout_get(viewer=request.user, payout_id=payout_id)
        services.payout_mark_paid(
            payout=payout,
            actor=request.user,
            reference=serializer.validated_data["reference"],
            source=audit_source_for_request(request),
        )
        return Response(_payout_detail(viewer=request.user, payout_id=payout_id))


def _csv_response(lines, *, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class PayoutExportApi(_CsvNegotiationMixin, _PayoutQuerysetMixin, GenericAPIView):
    admin_permissions = staff_permissions("payouts.payoutrequest")
    permission_classes = [IsAdminOrApprovedAffiliate]

    @extend_schema(
        summary="Payout requests as CSV (affiliate: own; admin: all), same filters as the list",
        operation_id="payouts_export_csv",
        filters=True,
        responses={
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.STR, description="One row per payout request."
            ),
            400: error_response("Invalid filter."),
            401: _E401,
            403: _E403,
        },
    )
    def get(self, request: AuthenticatedRequest) -> StreamingHttpResponse:
        queryset = self.filter_queryset(self.get_queryset())
        return _csv_response(exports.payouts_csv(queryset), filename="payouts.csv")


class StatementExportApi(_CsvNegotiationMixin, APIView):
    admin_permissions = staff_permissions("payouts.ledgertransaction")
    permission_classes = [IsAdminOrApprovedAffiliate]

    class InputSerializer(serializers.Serializer):
        currency = _CurrencyField(max_length=3)
        affiliate_id = serializers.IntegerField(
            required=False, min_value=1, help_text="Required for admins."
        )

        def validate_currency(self, value: str) -> str:
            return _currency_parse(value)

    @extend_schema(
        summary="An affiliate's ledger statement in one currency as CSV, with running balances",
        operation_id="statement_export_csv",
        parameters=[InputSerializer],
        responses={
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.STR, description="One row per ledger entry, oldest first."
            ),
            400: error_response(
                "`missing_affiliate_id` (admins), an invalid parameter or `unknown_parameter`."
            ),
            401: _E401,
            403: _E403,
            404: _E404_AFFILIATE,
        },
    )
    def get(self, request: AuthenticatedRequest) -> StreamingHttpResponse:
        query_params_check(request.query_params, allowed=self.InputSerializer().fields)
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        affiliate = _affiliate_for_viewer(
            viewer=request.user, affiliate_id=params.validated_data.get("affiliate_id")
        )
        currency = params.validated_data["currency"]
        return _csv_response(
            exports.statement_csv(affiliate_id=affiliate.user_id, currency=currency),
            filename=f"statement-{affiliate.user_id}-{currency}.csv",
        )


# --- payout methods ------------------------------------------------------------------------------

_E404_METHOD = error_response("No such payout method, or not the caller's.")
_PAGE_PARAMETERS = [
    OpenApiParameter("page", int),
    OpenApiParameter("page_size", int, description="At most 500."),
]


def _page_serializer(name: str, item_serializer: type[serializers.Serializer]):
    """The paginated envelope (`core.pagination.paginated_response`) of `item_serializer`."""
    return inline_serializer(
        name=name,
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": item_serializer(many=True),
        },
    )


_E429 = error_response("`throttled`: too many changes in a short time; `Retry-After` says when.")
_E403_REAUTH = error_response(
    "`reauthentication_required`: `password` is missing or wrong; or the caller's role may not "
    "do this."
)


class PayoutMethodSerializer(serializers.Serializer):
    """A payout method with its kind's detail fields (only those of its kind appear)."""

    id = serializers.IntegerField()
    affiliate_id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=PayoutMethodKind.choices)
    # A declared field named like Field's own `label` attribute: DRF takes it out of the class.
    label = serializers.CharField()  # type: ignore[assignment]
    summary = serializers.SerializerMethodField(help_text="One line, account numbers masked.")
    is_default = serializers.BooleanField()
    is_archived = serializers.BooleanField(
        help_text="Used by a payout request, then removed: kept, read-only."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    class Meta:
        ref_name = "PayoutMethod"

    def get_summary(self, method: PayoutMethod) -> str:
        return payout_methods.payout_method_summary(method)

    def to_representation(self, instance: PayoutMethod) -> dict:
        data = super().to_representation(instance)
        for name in payout_methods.DETAIL_FIELDS[instance.kind]:
            data[name] = instance.details.get(name, "")
        return data


def _detail(help_text: str) -> serializers.CharField:
    return serializers.CharField(
        required=False, allow_blank=True, max_length=300, help_text=help_text
    )


_PASSWORD_HELP = "The caller's current password: every change needs it."  # noqa: S105 - help text


class _PayoutMethodInputSerializer(serializers.Serializer):
    label = serializers.CharField(  # type: ignore[assignment]  # see PayoutMethodSerializer
        required=False, allow_blank=True, max_length=100
    )
    is_default = serializers.BooleanField(required=False)
    password = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=128,
        trim_whitespace=False,
        write_only=True,
        help_text=_PASSWORD_HELP,
    )
    # The kinds' fields (`payouts.payout_methods.DETAIL_FIELDS`); a kind takes only its own.
    email = _detail("paypal: the PayPal account's email.")
    account_holder = _detail("bank, wire: the account holder's name.")
    iban = _detail("bank: the IBAN (spaces allowed); its check digits are verified.")
    bic = _detail("bank: the BIC (optional when the IBAN's bank is known).")
    bank_name = _detail("wire: the bank's name.")
    account_number = _detail("wire: the account number.")
    swift_bic = _detail("wire: the bank's SWIFT/BIC code.")
    bank_address = _detail("wire: the bank's address.")
    currency = _detail("crypto: the coin's ticker, e.g. USDT.")
    network = _detail("crypto: " + ", ".join(payout_methods.NETWORKS) + ".")
    address = _detail("crypto: the wallet address on that network.")


def _unknown_fields_refuse(data: object, allowed: set[str]) -> None:
    """A field the input does not know is a mistake to name, not something to ignore."""
    if not isinstance(data, dict):
        return
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ApplicationError(
            f"Unknown field(s): {', '.join(unknown)}.",
            code="unknown_field",
            fields={name: ["Not a field of a payout method."] for name in unknown},
        )


def _details_of(validated: dict) -> dict:
    return {name: validated[name] for name in payout_methods.ALL_DETAIL_FIELDS if name in validated}


class _ReauthenticationThrottleMixin(APIView):
    """Each change (each unsafe request) counts against the caller's `reauthentication` limit:
    the password it carries may be a guess."""

    throttle_scope = SCOPE_REAUTHENTICATION

    def get_throttles(self) -> list:
        if self.request.method in SAFE_METHODS:
            return []
        return [ScopedRateThrottle()]


class PayoutMethodListCreateApi(_ReauthenticationThrottleMixin, APIView):
    """GET: the payout methods the viewer may see. POST: the calling affiliate adds one."""

    admin_permissions = staff_permissions("payouts.payoutmethod")

    class FilterSerializer(serializers.Serializer):
        include_archived = serializers.BooleanField(required=False, default=False)
        affiliate_id = serializers.IntegerField(required=False, min_value=1)

    class InputSerializer(_PayoutMethodInputSerializer):
        kind = serializers.ChoiceField(choices=PayoutMethodKind.choices)

        class Meta:
            ref_name = "PayoutMethodCreateInput"

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsApprovedAffiliate()]
        return [IsAdminOrApprovedAffiliate()]

    @extend_schema(
        summary="List payout methods (affiliate: own; admin: all, `?affiliate_id=` for one)",
        operation_id="payout_methods_list",
        parameters=[FilterSerializer, *_PAGE_PARAMETERS],
        responses={
            200: _page_serializer("PayoutMethodPage", PayoutMethodSerializer),
            400: error_response("An invalid parameter or `unknown_parameter`."),
            401: _E401,
            403: _E403,
        },
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        query_params_check(
            request.query_params, allowed={*self.FilterSerializer().fields, *PAGINATION_PARAMETERS}
        )
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        queryset = selectors.payout_method_list(
            viewer=request.user, include_archived=params.validated_data["include_archived"]
        )
        if "affiliate_id" in params.validated_data:
            queryset = queryset.filter(affiliate_id=params.validated_data["affiliate_id"])
        return paginated_response(
            queryset=queryset, serializer_class=PayoutMethodSerializer, request=request, view=self
        )

    @extend_schema(
        summary="Add a payout method (affiliate; needs the current password)",
        request=InputSerializer,
        responses={
            201: PayoutMethodSerializer,
            400: error_response(
                "The kind's fields refused, naming the field: `required`, `invalid_iban`, "
                "`invalid_bic`, `invalid_email`, `invalid_account_number`, `invalid_network`, "
                "`invalid_address`, `unknown_field`…"
            ),
            401: _E401,
            403: _E403_REAUTH,
            429: _E429,
        },
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        _unknown_fields_refuse(request.data, set(self.InputSerializer().fields))
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        affiliate = affiliate_get(viewer=request.user, affiliate_id=request.user.pk)
        method = payout_methods.payout_method_create(
            affiliate=affiliate,
            actor=request.user,
            password=data.get("password", ""),
            kind=data["kind"],
            details=_details_of(data),
            label=data.get("label", ""),
            is_default=data.get("is_default", False),
            source=audit_source_for_request(request),
        )
        return Response(PayoutMethodSerializer(method).data, status=status.HTTP_201_CREATED)


class PayoutMethodDetailApi(_ReauthenticationThrottleMixin, APIView):
    """GET: one payout method (owner, admin). PATCH, DELETE: the owner, with its password."""

    admin_permissions = staff_permissions("payouts.payoutmethod")

    class InputSerializer(_PayoutMethodInputSerializer):
        class Meta:
            ref_name = "PayoutMethodUpdateInput"

    class DeleteInputSerializer(serializers.Serializer):
        password = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=128,
            trim_whitespace=False,
            write_only=True,
            help_text=_PASSWORD_HELP,
        )

        class Meta:
            ref_name = "PayoutMethodDeleteInput"

    def get_permissions(self):
        if self.request.method in ("PATCH", "DELETE"):
            return [IsApprovedAffiliate()]
        return [IsAdminOrApprovedAffiliate()]

    @extend_schema(
        summary="One payout method",
        responses={200: PayoutMethodSerializer, 401: _E401, 403: _E403, 404: _E404_METHOD},
    )
    def get(self, request: AuthenticatedRequest, payout_method_id: int) -> Response:
        method = selectors.payout_method_get(viewer=request.user, payout_method_id=payout_method_id)
        return Response(PayoutMethodSerializer(method).data)

    @extend_schema(
        summary="Change a payout method's details, label or make it the default (owner; needs "
        "the current password)",
        description="The kind cannot change: add a new method instead. Payout requests made "
        "before keep the details they were made with.",
        request=InputSerializer,
        responses={
            200: PayoutMethodSerializer,
            400: error_response("A field refused, naming it (as for POST)."),
            401: _E401,
            403: _E403_REAUTH,
            404: _E404_METHOD,
            409: error_response("`payout_method_archived`."),
            429: _E429,
        },
    )
    def patch(self, request: AuthenticatedRequest, payout_method_id: int) -> Response:
        method = selectors.payout_method_get(viewer=request.user, payout_method_id=payout_method_id)
        _unknown_fields_refuse(request.data, set(self.InputSerializer().fields))
        serializer = self.InputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        method = payout_methods.payout_method_update(
            method=method,
            actor=request.user,
            password=data.get("password", ""),
            details=_details_of(data),
            label=data.get("label"),
            is_default=data.get("is_default"),
            source=audit_source_for_request(request),
        )
        return Response(PayoutMethodSerializer(method).data)

    @extend_schema(
        summary="Remove a payout method (owner; needs the current password): archived when a "
        "payout request used it, else deleted",
        request=DeleteInputSerializer,
        responses={
            204: None,
            401: _E401,
            403: _E403_REAUTH,
            404: _E404_METHOD,
            409: error_response("`payout_method_archived`: already removed."),
            429: _E429,
        },
    )
    def delete(self, request: AuthenticatedRequest, payout_method_id: int) -> Response:
        method = selectors.payout_method_get(viewer=request.user, payout_method_id=payout_method_id)
        serializer = self.DeleteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payout_methods.payout_method_archive(
            method=method,
            actor=request.user,
            password=serializer.validated_data.get("password", ""),
            source=audit_source_for_request(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- manual adjustments ---------------------------------------------------------------------------


class AdjustmentSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The ledger transaction's id.")
    owner_type = serializers.ChoiceField(choices=[OwnerType.AFFILIATE, OwnerType.ADVERTISER])
    owner_id = serializers.IntegerField()
    amount = serializers.DecimalField(
        **_MONEY,
        help_text="Signed as the owner's balance moved: > 0 credits an affiliate's available "
        "balance, or bills an advertiser more.",
    )
    currency = serializers.CharField()
    reason = serializers.CharField()
    actor_email = serializers.CharField(help_text="The admin who posted it.")
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "Adjustment"

    def to_representation(self, instance) -> dict:
        if not isinstance(instance, selectors.Adjustment):
            instance = selectors.adjustment_from_entry(instance)
        return super().to_representation(instance)


class AdjustmentListCreateApi(APIView):
    admin_permissions = staff_permissions("payouts.ledgeradjustment", POST="add")
    permission_classes = [IsNetworkAdmin]

    class FilterSerializer(serializers.Serializer):
        owner_type = serializers.ChoiceField(
            choices=[OwnerType.AFFILIATE, OwnerType.ADVERTISER], required=False
        )
        owner_id = serializers.IntegerField(required=False, min_value=1)

    class InputSerializer(serializers.Serializer):
        owner_type = serializers.ChoiceField(choices=[OwnerType.AFFILIATE, OwnerType.ADVERTISER])
        owner_id = serializers.IntegerField(min_value=1)
        amount = MoneySerializerField(
            **_MONEY, help_text="Signed: > 0 credits an affiliate or bills an advertiser more."
        )
        currency = _CurrencyField(max_length=3)
        reason = serializers.CharField(max_length=500, help_text="Shown on the owner's statement.")

        class Meta:
            ref_name = "AdjustmentInput"

        def validate_currency(self, value: str) -> str:
            return _currency_parse(value)

    @extend_schema(
        summary="Manual adjustments, newest first (admin)",
        operation_id="adjustments_list",
        parameters=[FilterSerializer, *_PAGE_PARAMETERS],
        responses={
            200: _page_serializer("AdjustmentPage", AdjustmentSerializer),
            400: error_response("An invalid parameter or `unknown_parameter`."),
            401: _E401,
            403: _E403,
        },
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        query_params_check(
            request.query_params, allowed={*self.FilterSerializer().fields, *PAGINATION_PARAMETERS}
        )
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        queryset = selectors.adjustment_list(
            owner_type=params.validated_data.get("owner_type"),
            owner_id=params.validated_data.get("owner_id"),
        )
        return paginated_response(
            queryset=queryset, serializer_class=AdjustmentSerializer, request=request, view=self
        )

    @extend_schema(
        summary="Post a manual adjustment of an affiliate's or advertiser's balance (admin)",
        description="Send an `Idempotency-Key` header to make a retry harmless: the same key "
        "answers the adjustment posted first (200) instead of posting another.",
        request=InputSerializer,
        responses={
            201: AdjustmentSerializer,
            200: AdjustmentSerializer,
            400: error_response(
                "`unknown_owner`, `invalid_amount` (zero), `reason_required`, "
                "`invalid_currency` or invalid fields."
            ),
            401: _E401,
            403: _E403,
            409: error_response("`idempotency_key_reused` for another adjustment."),
        },
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = adjustments.adjustment_post(
            **serializer.validated_data,
            actor=request.user,
            idempotency_key=request.headers.get("Idempotency-Key", ""),
            source=audit_source_for_request(request),
        )
        return Response(
            AdjustmentSerializer(result.adjustment).data,
            status=status.HTTP_201_CREATED if result.is_created else status.HTTP_200_OK,
        )
