"""Advertiser invoices over the API.

Admins list, draft, add lines, issue and record payments; an advertiser reads its own issued and
paid invoices (`payouts.invoice_selectors`: a draft, a voided invoice or another advertiser's
answers 404, as a missing one does). Affiliates have no invoices (403).
"""

import django_filters
from django.http import StreamingHttpResponse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.http import AuthenticatedRequest
from accounts.permissions import IsAdminOrApprovedAdvertiser, IsNetworkAdmin, staff_permissions
from core.api_schema import error_response
from core.audit import audit_source_for_request
from core.filters import IdFilter, IsoDateFilter
from core.money_fields import MoneySerializerField
from core.pagination import paginated_response
from payouts import invoice_selectors, invoices
from payouts.apis import (
    _MONEY,
    _csv_response,
    _CsvNegotiationMixin,
    _currency_parse,
    _CurrencyField,
)
from payouts.filters import StableOrderingFilter
from payouts.invoice_exports import invoice_csv, invoice_filename
from payouts.models import Invoice, InvoiceStatus

_E401 = error_response("Not authenticated.")
_E403 = error_response("The caller's role may not do this.")
_E404 = error_response("No such invoice, or not one the caller may see.")
_E409 = error_response(
    "`not_draft`, `period_not_ended`, `nothing_to_invoice`, `not_issued`, `already_paid` or"
    " `duplicate_payment`: the invoice's status does not allow it."
)


class InvoiceFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=InvoiceStatus.choices)
    currency = django_filters.CharFilter(field_name="currency", lookup_expr="iexact")
    advertiser_id = IdFilter(field_name="advertiser_id")
    period_from = IsoDateFilter(
        field_name="period_start", lookup_expr="gte", help_text="Periods starting on or after."
    )
    period_to = IsoDateFilter(
        field_name="period_start", lookup_expr="lte", help_text="Periods starting on or before."
    )

    class Meta:
        model = Invoice
        fields = ["status", "currency", "advertiser_id", "period_from", "period_to"]


class InvoiceLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="`revenue` or `adjustment`.")
    description = serializers.CharField()
    quantity = serializers.IntegerField(
        help_text="Revenue lines: conversions approved less reversed; other lines: as entered."
    )
    amount = serializers.DecimalField(**_MONEY)
    campaign_id = serializers.IntegerField(allow_null=True)
    event_id = serializers.IntegerField(allow_null=True)
    is_manual = serializers.BooleanField()

    class Meta:
        ref_name = "InvoiceLine"


class InvoicePaymentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    amount = serializers.DecimalField(**_MONEY)
    paid_at = serializers.DateTimeField()
    reference = serializers.CharField()
    ledger_transaction_id = serializers.IntegerField()
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "InvoicePayment"


class InvoiceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField(allow_null=True, help_text="Given at issue; null on a draft.")
    status = serializers.CharField(help_text="`draft`, `issued`, `paid` or `void`.")
    advertiser_id = serializers.IntegerField()
    advertiser_name = serializers.CharField(source="advertiser.__str__")
    currency = serializers.CharField()
    period_start = serializers.DateField()
    period_end = serializers.DateField(help_text="Inclusive.")
    total = serializers.DecimalField(**_MONEY)
    amount_paid = serializers.DecimalField(**_MONEY)
    amount_due = serializers.DecimalField(**_MONEY)
    created_at = serializers.DateTimeField()
    issued_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    paid_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "Invoice"


class InvoiceDetailSerializer(InvoiceSerializer):
    lines = InvoiceLineSerializer(many=True, source="lines.all")
    payments = InvoicePaymentSerializer(many=True, source="payments.all")

    class Meta:
        ref_name = "InvoiceDetail"


def _detail(request: AuthenticatedRequest, invoice_id: int) -> dict:
    invoice = invoice_selectors.invoice_get(viewer=request.user, invoice_id=invoice_id)
    return InvoiceDetailSerializer(invoice).data


class InvoiceListCreateApi(GenericAPIView):
    """GET: the invoices the viewer may see. POST: an admin drafts one for a period."""

    admin_permissions = staff_permissions("payouts.invoice", POST="add")
    filter_backends = [DjangoFilterBackend, StableOrderingFilter]
    filterset_class = InvoiceFilter
    ordering_fields = ["id", "period_start", "total", "status", "issued_at"]
    ordering = ["-period_start"]
    request: AuthenticatedRequest

    class InputSerializer(serializers.Serializer):
        advertiser_id = serializers.IntegerField(min_value=1)
        currency = _CurrencyField(max_length=3)
        period_start = serializers.DateField()
        period_end = serializers.DateField(help_text="Inclusive.")

        class Meta:
            ref_name = "InvoiceDraftInput"

        def validate_currency(self, value: str) -> str:
            return _currency_parse(value)

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsNetworkAdmin()]
        return [IsAdminOrApprovedAdvertiser()]

    def get_serializer_class(self):
        return self.InputSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Invoice.objects.none()
        return invoice_selectors.invoice_list(viewer=self.request.user)

    @extend_schema(
        summary="List invoices (advertiser: its issued and paid ones; admin: all)",
        responses={
            200: InvoiceSerializer(many=True),
            400: error_response("Invalid filter."),
            401: _E401,
            403: _E403,
        },
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        return paginated_response(
            queryset=queryset, serializer_class=InvoiceSerializer, request=request, view=self
        )

    @extend_schema(
        summary="Draft (or refresh the draft of) an advertiser's invoice for a period (admin)",
        description="201 when drafted now, 200 with the invoice that already exists.",
        request=InputSerializer,
        responses={
            200: InvoiceDetailSerializer,
            201: InvoiceDetailSerializer,
            400: error_response("`invalid_advertiser`, `invalid_period` or invalid fields."),
            401: _E401,
            403: _E403,
            409: error_response("`period_overlaps`: another invoice covers part of the period."),
        },
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invoice, created = invoices.invoice_draft_for_period(**serializer.validated_data)
        return Response(
            _detail(request, invoice.pk),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class InvoiceDetailApi(APIView):
    admin_permissions = staff_permissions("payouts.invoice")
    permission_classes = [IsAdminOrApprovedAdvertiser]

    @extend_schema(
        summary="One invoice with its lines and payments",
        responses={200: InvoiceDetailSerializer, 401: _E401, 403: _E403, 404: _E404},
    )
    def get(self, request: AuthenticatedRequest, invoice_id: int) -> Response:
        return Response(_detail(request, invoice_id))


class InvoiceCsvApi(_CsvNegotiationMixin, APIView):
    admin_permissions = staff_permissions("payouts.invoice")
    permission_classes = [IsAdminOrApprovedAdvertiser]

    @extend_schema(
        summary="One invoice as CSV: its lines, then total, paid and due",
        operation_id="invoice_csv",
        responses={
            (200, "text/csv"): OpenApiResponse(response=OpenApiTypes.STR),
            401: _E401,
            403: _E403,
            404: _E404,
        },
    )
    def get(self, request: AuthenticatedRequest, invoice_id: int) -> StreamingHttpResponse:
        invoice = invoice_selectors.invoice_get(viewer=request.user, invoice_id=invoice_id)
        return _csv_response(invoice_csv(invoice), filename=invoice_filename(invoice, "csv"))


class InvoiceLineCreateApi(APIView):
    admin_permissions = staff_permissions("payouts.invoice", POST="change")
    permission_classes = [IsNetworkAdmin]

    class InputSerializer(serializers.Serializer):
        description = serializers.CharField(max_length=300)
        amount = serializers.CharField(
            max_length=32, help_text="Signed decimal string: `-10.00` credits the advertiser."
        )
        quantity = serializers.IntegerField(min_value=1, default=1)

        class Meta:
            ref_name = "InvoiceLineInput"

    @extend_schema(
        summary="Add a manual adjustment line to a draft invoice (admin)",
        request=InputSerializer,
        responses={
            201: InvoiceDetailSerializer,
            400: error_response("`invalid_amount`, `description_required` or invalid fields."),
            401: _E401,
            403: _E403,
            404: _E404,
            409: _E409,
        },
    )
    def post(self, request: AuthenticatedRequest, invoice_id: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invoice = invoice_selectors.invoice_get(viewer=request.user, invoice_id=invoice_id)
        invoices.invoice_line_add(
            invoice_id=invoice.pk, actor=request.user, **serializer.validated_data
        )
        return Response(_detail(request, invoice.pk), status=status.HTTP_201_CREATED)


class InvoiceIssueApi(APIView):
    admin_permissions = staff_permissions("payouts.invoice", POST="change")
    permission_classes = [IsNetworkAdmin]

    @extend_schema(
        summary="Issue a draft invoice: it gets its number and can no longer change (admin)",
        request=None,
        responses={200: InvoiceDetailSerializer, 401: _E401, 403: _E403, 404: _E404, 409: _E409},
    )
    def post(self, request: AuthenticatedRequest, invoice_id: int) -> Response:
        invoice = invoice_selectors.invoice_get(viewer=request.user, invoice_id=invoice_id)
        invoices.invoice_issue(
            invoice_id=invoice.pk, actor=request.user, source=audit_source_for_request(request)
        )
        return Response(_detail(request, invoice.pk))


class InvoicePaymentCreateApi(APIView):
    admin_permissions = staff_permissions("payouts.invoice", POST="change")
    permission_classes = [IsNetworkAdmin]

    class InputSerializer(serializers.Serializer):
        amount = MoneySerializerField(**_MONEY)
        reference = serializers.CharField(max_length=255)
        paid_at = serializers.DateTimeField(
            required=False, allow_null=True, default=None, help_text="Default: now."
        )

        class Meta:
            ref_name = "InvoicePaymentInput"

    @extend_schema(
        summary="Record a (possibly partial) payment of an issued invoice (admin)",
        request=InputSerializer,
        responses={
            201: InvoiceDetailSerializer,
            400: error_response("`overpayment`, `invalid_amount` or invalid fields."),
            401: _E401,
            403: _E403,
            404: _E404,
            409: _E409,
        },
    )
    def post(self, request: AuthenticatedRequest, invoice_id: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invoice = invoice_selectors.invoice_get(viewer=request.user, invoice_id=invoice_id)
        invoices.invoice_payment_record(
            invoice_id=invoice.pk,
            actor=request.user,
            source=audit_source_for_request(request),
            **serializer.validated_data,
        )
        return Response(_detail(request, invoice.pk), status=status.HTTP_201_CREATED)
