"""The reconciliation API: upload an advertiser's conversion list (preview), read it, apply
chosen classes, download the result file; and bulk approve/reject of pending conversions.

Admins (staff with the reconciliation permissions) reconcile any advertiser; an approved
advertiser only its own campaigns (another's campaign or reconciliation is a 404); affiliates
never. What money a viewer reads follows `selectors.money_visible`: advertisers get revenue
deltas only, never the affiliates' payouts.
"""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.http import AuthenticatedRequest
from accounts.models import Advertiser, User
from accounts.permissions import IsAdminOrApprovedAdvertiser, staff_permissions
from accounts.selectors import advertiser_get
from campaigns.selectors import campaign_get
from core.api_schema import error_response, error_responses
from core.audit import audit_source_for_request
from core.exceptions import ApplicationError
from core.filters import query_params_check
from core.parsers import CsvParser
from core.uploads import MULTIPART_OVERHEAD, body_size_check
from tracker import selectors
from tracker.models import ChangeSource, Reconciliation, RowClass
from tracker.reconciliation_files import MAX_FILE_BYTES, MAX_ROWS, reconciliation_result_lines
from tracker.services.reconciliations import (
    APPLICABLE_CLASSES,
    BULK_MAX,
    ApplyResult,
    BulkResult,
    conversions_bulk,
    reconciliation_apply,
    reconciliation_create,
)

PREVIEW_ROWS = 1000


def _money_view(money: Mapping[str, Mapping[str, Decimal]], viewer: User) -> dict[str, Any]:
    """Signed amounts per currency as strings, without the payout for who may not read it."""
    visible = selectors.money_visible(viewer=viewer)
    return {
        currency: {
            key: f"{amount:.4f}"
            for key, amount in amounts.items()
            if (key == "revenue" and selectors.REVENUE in visible)
            or (key == "payout" and selectors.PAYOUT in visible)
        }
        for currency, amounts in money.items()
    }


class _RowSerializer(serializers.Serializer):
    line = serializers.IntegerField(
        allow_null=True, help_text="The file's line (the header is 1); null: a row of ours."
    )
    row_class = serializers.ChoiceField(choices=RowClass.choices)
    reason = serializers.CharField()
    transaction_id = serializers.CharField()
    click_id = serializers.CharField()
    event = serializers.CharField()
    their_status = serializers.CharField()
    their_amount = serializers.DecimalField(max_digits=18, decimal_places=4, allow_null=True)
    currency = serializers.CharField()
    conversion_id = serializers.IntegerField(allow_null=True)
    our_status = serializers.CharField()
    our_revenue = serializers.DecimalField(max_digits=18, decimal_places=4, allow_null=True)
    revenue_delta = serializers.DecimalField(max_digits=18, decimal_places=4)
    planned_action = serializers.CharField(help_text="approve, reject, reverse or empty.")
    outcome = serializers.CharField(help_text="Empty until the row is applied.")
    outcome_message = serializers.CharField()
    applied_at = serializers.DateTimeField(allow_null=True)


class ReconciliationRowAdvertiserSerializer(_RowSerializer):
    class Meta:
        ref_name = "ReconciliationRowForAdvertiser"


class ReconciliationRowAdminSerializer(_RowSerializer):
    # Admins only: advertisers' rows come without them.
    our_payout = serializers.DecimalField(
        max_digits=18, decimal_places=4, allow_null=True, required=False
    )
    payout_delta = serializers.DecimalField(max_digits=18, decimal_places=4, required=False)

    class Meta:
        ref_name = "ReconciliationRow"


class ReconciliationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    advertiser_id = serializers.IntegerField()
    campaign_id = serializers.IntegerField(allow_null=True, help_text="Null: all campaigns.")
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    status = serializers.CharField()
    file_name = serializers.CharField()
    line_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    applied_at = serializers.DateTimeField(allow_null=True)
    classes = serializers.DictField(
        help_text=(
            "Per class: `count`, `to_apply` (rows an apply would change) and `money`: per "
            "currency the signed `revenue_delta` (and `payout_delta`, admins only)."
        )
    )
    rows_total = serializers.IntegerField()
    rows = ReconciliationRowAdminSerializer(many=True)

    class Meta:
        ref_name = "Reconciliation"


def _reconciliation_body(
    reconciliation: Reconciliation, viewer: User, *, row_class: str = "", offset: int = 0
) -> dict[str, Any]:
    rows = selectors.reconciliation_rows(reconciliation=reconciliation)
    if row_class:
        rows = rows.filter(row_class=row_class)
    row_serializer = (
        ReconciliationRowAdminSerializer
        if viewer.is_network_admin
        else ReconciliationRowAdvertiserSerializer
    )
    return {
        "id": reconciliation.pk,
        "advertiser_id": reconciliation.advertiser_id,
        "campaign_id": reconciliation.campaign_id,
        "date_from": reconciliation.date_from.isoformat(),
        "date_to": reconciliation.date_to.isoformat(),
        "status": reconciliation.status,
        "file_name": reconciliation.file_name,
        "line_count": reconciliation.line_count,
        "created_at": serializers.DateTimeField().to_representation(reconciliation.created_at),
        "applied_at": serializers.DateTimeField().to_representation(reconciliation.applied_at)
        if reconciliation.applied_at
        else None,
        "classes": selectors.reconciliation_summary_view(
            reconciliation=reconciliation, viewer=viewer
        ),
        "rows_total": rows.count(),
        "rows": row_serializer(rows[offset : offset + PREVIEW_ROWS], many=True).data,
    }


class _UploadInputSerializer(serializers.Serializer):
    campaign_id = serializers.IntegerField(
        required=False, min_value=1, help_text="One campaign; omit for all the advertiser's."
    )
    advertiser_id = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Admins, without campaign_id: whose campaigns (advertisers: themselves).",
    )
    date_from = serializers.DateField(help_text="First day (UTC) of our conversions compared.")
    date_to = serializers.DateField(help_text="Last day (UTC), inclusive; at most 366 days.")

    class Meta:
        ref_name = "ReconciliationUploadInput"


_UPLOAD_FIELDS = ("campaign_id", "advertiser_id", "date_from", "date_to")


def _is_csv_body(request: Request) -> bool:
    return request.content_type.split(";")[0].strip().lower() == CsvParser.media_type


def reconciliation_scope(
    *, viewer: User, campaign_id: int | None, advertiser_id: int | None
) -> tuple[Advertiser, Any]:
    """(advertiser, campaign or None) the viewer may reconcile: a campaign it sees, else all the
    campaigns of an advertiser it sees (`advertiser_id`; an advertiser may leave it out for
    itself). Another tenant's campaign or advertiser is a 404; a campaign of another advertiser
    than `advertiser_id` is 400 `scope_mismatch`."""
    if campaign_id is not None:
        campaign = campaign_get(viewer=viewer, campaign_id=campaign_id)
        if advertiser_id is not None and campaign.advertiser_id != advertiser_id:
            raise ApplicationError(
                "This campaign belongs to another advertiser.",
                code="scope_mismatch",
                fields={"campaign_id": ["Not a campaign of advertiser_id."]},
            )
        return campaign.advertiser, campaign
    if advertiser_id is None and viewer.is_advertiser:
        advertiser_id = viewer.pk
    if advertiser_id is None:
        raise ApplicationError(
            "Name the campaign_id, or the advertiser_id for all its campaigns.",
            code="missing_scope",
            fields={"campaign_id": ["campaign_id or advertiser_id is required."]},
        )
    return advertiser_get(viewer=viewer, advertiser_id=advertiser_id), None


class ReconciliationCreateApi(APIView):
    admin_permissions = staff_permissions("tracker.reconciliation", POST="add")
    permission_classes = [IsAdminOrApprovedAdvertiser]
    parser_classes = [MultiPartParser, FormParser, CsvParser]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Before authentication: its CSRF check would parse (and spool) the whole body.
        body_size_check(request, max_bytes=MAX_FILE_BYTES + MULTIPART_OVERHEAD)
        super().initial(request, *args, **kwargs)

    @extend_schema(
        summary="Upload an advertiser's conversion list: the reconciliation preview",
        description=(
            "The CSV comes as the multipart field `file` (with `campaign_id` or `advertiser_id`, "
            "`date_from`, `date_to` as form fields or in the query) or as a `text/csv` body "
            "(parameters in the query). Columns: `transaction_id` or `click_id`, `status`, and "
            "optionally `amount` (what the advertiser pays, in the campaign's currency), "
            "`event`, `currency`; header names and delimiters are read tolerantly (see "
            "docs/reconciliation.md). Every line is classed `matched`, `missing_here`, "
            "`status_differs`, `amount_differs` or `invalid` (with its reason), and each of "
            "our conversions created in the range that the file lacks is a `missing_there` "
            "row. Writes the reconciliation and nothing else. Limits: "
            f"{MAX_FILE_BYTES // (1024 * 1024)} MB (413 `file_too_large`), {MAX_ROWS:,} rows "
            "(413 `too_many_rows`); 400 `invalid_encoding`, `invalid_csv`, `missing_columns`, "
            "`duplicate_column`, `empty_file`, `missing_file`, `invalid_date_range`, "
            "`too_many_conversions`. The answer lists the first "
            f"{PREVIEW_ROWS} rows (`GET` the reconciliation for more, or the result file)."
        ),
        parameters=[_UploadInputSerializer],
        request=None,
        responses={
            201: ReconciliationSerializer,
            **error_responses(400, 401, 403, 404),
            413: error_response("`file_too_large` or `too_many_rows`."),
        },
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        data: dict[str, Any] = dict(request.query_params.items())
        upload: Any = None
        form: Mapping[str, Any] = request.data if isinstance(request.data, Mapping) else {}
        if _is_csv_body(request):
            content = form.get("csv") or b""
            file_name = "upload.csv"
        else:
            data.update({str(key): form[key] for key in _UPLOAD_FIELDS if key in form})
            upload = request.FILES.get("file")
            if not isinstance(upload, UploadedFile):
                raise ApplicationError(
                    "Send the CSV as the multipart field `file` or as a text/csv body.",
                    code="missing_file",
                    fields={"file": ["This field is required."]},
                )
            content = upload.read(MAX_FILE_BYTES + 1)
            file_name = upload.name or "upload.csv"
        query_params_check(request.query_params, allowed=_UploadInputSerializer().fields)
        params = _UploadInputSerializer(data=data)
        params.is_valid(raise_exception=True)
        values = params.validated_data
        advertiser, campaign = reconciliation_scope(
            viewer=request.user,
            campaign_id=values.get("campaign_id"),
            advertiser_id=values.get("advertiser_id"),
        )
        reconciliation = reconciliation_create(
            advertiser=advertiser,
            campaign=campaign,
            date_from=values["date_from"],
            date_to=values["date_to"],
            content=content,
            file_name=file_name,
            actor=request.user,
        )
        return Response(
            _reconciliation_body(reconciliation, request.user), status=status.HTTP_201_CREATED
        )


class ReconciliationDetailApi(APIView):
    admin_permissions = staff_permissions("tracker.reconciliation")
    permission_classes = [IsAdminOrApprovedAdvertiser]

    class QuerySerializer(serializers.Serializer):
        row_class = serializers.ChoiceField(
            choices=RowClass.choices, required=False, help_text="Only the rows of this class."
        )
        offset = serializers.IntegerField(min_value=0, default=0)

        class Meta:
            ref_name = "ReconciliationRowsQuery"

    @extend_schema(
        summary="A reconciliation: its totals per class and its rows",
        description=(
            f"At most {PREVIEW_ROWS} rows from `offset` (file order, then ours the file lacks); "
            "`row_class` keeps one class. Advertisers never get payouts or payout deltas."
        ),
        parameters=[QuerySerializer],
        responses={200: ReconciliationSerializer, **error_responses(400, 401, 403, 404)},
    )
    def get(self, request: AuthenticatedRequest, reconciliation_id: int) -> Response:
        reconciliation = selectors.reconciliation_get(
            viewer=request.user, reconciliation_id=reconciliation_id
        )
        query_params_check(request.query_params, allowed=self.QuerySerializer().fields)
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(
            _reconciliation_body(
                reconciliation,
                request.user,
                row_class=query.validated_data.get("row_class", ""),
                offset=query.validated_data["offset"],
            )
        )


def _apply_body(result: ApplyResult, viewer: User) -> dict[str, Any]:
    return {"outcomes": result.outcomes, "money": _money_view(result.money, viewer)}


class ReconciliationApplyApi(APIView):
    admin_permissions = staff_permissions(
        "tracker.reconciliation",
        POST=("tracker.change_reconciliation", "tracker.change_conversion"),
    )
    permission_classes = [IsAdminOrApprovedAdvertiser]
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        classes = serializers.ListField(
            child=serializers.ChoiceField(choices=[str(value) for value in APPLICABLE_CLASSES]),
            allow_empty=False,
        )

        class Meta:
            ref_name = "ReconciliationApplyInput"

    @extend_schema(
        summary="Apply chosen classes of a reconciliation",
        description=(
            "`status_differs`: our conversion moves to the advertiser's status through the "
            "status machine (history, ledger, points and forwarding as any change; into "
            "approved with the advertiser's amount when it differs). `amount_differs` and "
            "`missing_here` are reported only (`not_supported`, `not_created`). Each row is "
            "applied once: a repeat answers empty `outcomes` and changes nothing. A conversion "
            "whose status changed since the preview is left alone (`changed_since_preview`). "
            "`money`: what this call moved, per currency (advertisers: revenue only)."
        ),
        request=InputSerializer,
        responses={
            200: OpenApiTypes.OBJECT,
            **error_responses(400, 401, 403, 404),
        },
    )
    def post(self, request: AuthenticatedRequest, reconciliation_id: int) -> Response:
        user = request.user
        reconciliation = selectors.reconciliation_get(
            viewer=user, reconciliation_id=reconciliation_id
        )
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = reconciliation_apply(
            reconciliation=reconciliation,
            classes=serializer.validated_data["classes"],
            actor=user,
            source=ChangeSource.ADMIN if user.is_network_admin else ChangeSource.ADVERTISER,
            audit_source=audit_source_for_request(request),
        )
        return Response(_apply_body(result, user))


class _CsvNegotiationMixin(APIView):
    """The result file streams plain text whatever the client accepts; errors are JSON."""

    def perform_content_negotiation(
        self, request: Request, force: bool = False
    ) -> tuple[BaseRenderer, str]:
        return super().perform_content_negotiation(request, force=True)


class ReconciliationResultApi(_CsvNegotiationMixin, APIView):
    admin_permissions = staff_permissions("tracker.reconciliation")
    permission_classes = [IsAdminOrApprovedAdvertiser]

    @extend_schema(
        summary="A reconciliation's result file (CSV)",
        description=(
            "Every row: line, class, the ids and values of both sides, the deltas, the action "
            "and the outcome once applied. Advertisers get no payout columns."
        ),
        responses={
            (200, "text/csv"): OpenApiResponse(response=OpenApiTypes.STR),
            **error_responses(401, 403, 404),
        },
    )
    def get(self, request: AuthenticatedRequest, reconciliation_id: int) -> StreamingHttpResponse:
        reconciliation = selectors.reconciliation_get(
            viewer=request.user, reconciliation_id=reconciliation_id
        )
        response = StreamingHttpResponse(
            reconciliation_result_lines(reconciliation=reconciliation, viewer=request.user),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="reconciliation-{reconciliation.pk}.csv"'
        )
        return response


# --- bulk approve / reject ---------------------------------------------------------------------


class _BulkFiltersSerializer(serializers.Serializer):
    campaign_id = serializers.IntegerField(required=False, min_value=1)
    affiliate_id = serializers.IntegerField(required=False, min_value=1)
    event = serializers.CharField(required=False, max_length=64, help_text="An event code.")
    date_from = serializers.DateField(required=False, help_text="Created on or after (UTC).")
    date_to = serializers.DateField(required=False, help_text="Created on or before (UTC).")

    class Meta:
        ref_name = "ConversionBulkFilters"


def _bulk_body(result: BulkResult, viewer: User) -> dict[str, Any]:
    return {
        "action": result.action,
        "dry_run": result.dry_run,
        "count": result.count,
        "skipped_ids": result.skipped,
        "money": _money_view(result.money, viewer),
    }


class ConversionBulkApi(APIView):
    admin_permissions = staff_permissions("tracker.conversion", POST="change")
    permission_classes = [IsAdminOrApprovedAdvertiser]
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        action = serializers.ChoiceField(choices=["approve", "reject"])
        ids = serializers.ListField(
            child=serializers.IntegerField(min_value=1),
            required=False,
            allow_empty=False,
            max_length=BULK_MAX,
        )
        filters = _BulkFiltersSerializer(required=False)
        dry_run = serializers.BooleanField(default=True)
        reason = serializers.CharField(required=False, allow_blank=True, max_length=255)

        class Meta:
            ref_name = "ConversionBulkInput"

    @extend_schema(
        summary="Approve or reject pending conversions in bulk (with a preview)",
        description=(
            "Select by `ids` or by `filters` (campaign_id, affiliate_id, event, date_from, "
            "date_to; at least one), never both. Only pending conversions are acted on; ids of "
            "decided ones come back in `skipped_ids`, an id the caller may not see is a 404. "
            "`dry_run` (default true) writes nothing and answers `count` and `money` (per "
            "currency, what the ledger would book: approvals add revenue and payout, "
            "rejections of pending conversions move nothing); `dry_run: false` applies it "
            "through the status machine, one conversion at a time, and answers the same shape "
            "for what it did. A repeat finds nothing pending and changes nothing. At most "
            f"{BULK_MAX:,} conversions (400 `too_many_conversions`). Advertisers: their "
            "campaigns' conversions, revenue only."
        ),
        request=InputSerializer,
        responses={200: OpenApiTypes.OBJECT, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        user = request.user
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        ids, filters = values.get("ids"), values.get("filters") or {}
        if (ids is None) == (not filters):
            raise ApplicationError(
                "Select the conversions by ids or by filters (one of the two).",
                code="invalid_selection",
                fields={"filters": ["Give ids or at least one filter, not both."]},
            )
        result = conversions_bulk(
            selection=selectors.conversions_for_bulk(viewer=user, filters=filters),
            ids=ids,
            action=values["action"],
            dry_run=values["dry_run"],
            actor=user,
            source=ChangeSource.ADMIN if user.is_network_admin else ChangeSource.ADVERTISER,
            reason=values.get("reason", ""),
            audit_source=audit_source_for_request(request),
        )
        return Response(_bulk_body(result, user))
