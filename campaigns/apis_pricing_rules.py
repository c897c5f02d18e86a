"""The pricing rules REST API: per affiliate, event, country and sub1 overrides of an event's
terms, their CSV import (with a dry run) and a preview of which rule would price a conversion.

Owner advertiser and admins only: affiliates see the payout that applies to them on the
campaign itself, never the rules (nor another affiliate's). Another advertiser's campaign or
rule answers 404 like a missing one.
"""

import dataclasses
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.http import AuthenticatedRequest
from accounts.permissions import IsAdminOrApprovedAdvertiser, staff_permissions
from campaigns import selectors
from campaigns.events import event_for_postback
from campaigns.filters import PricingRuleFilter
from campaigns.models import PayoutType, PricingRule
from campaigns.pricing_rules import (
    IMPORT_COLUMNS,
    IMPORT_MAX_BYTES,
    ImportResult,
    pricing_rule_candidates,
    pricing_rule_create,
    pricing_rule_delete,
    pricing_rule_describe,
    pricing_rule_update,
    pricing_rules_import,
)
from core.api_schema import error_responses
from core.audit import audit_source_for_request
from core.exceptions import ApplicationError
from core.filters import IsoDateTimeField, query_params_check
from core.money_fields import MoneySerializerField
from core.pagination import StandardPagination, paginated_response
from core.parsers import CsvParser, JSONParser


def _is_active(rule: PricingRule, at: Any) -> bool:
    return (rule.starts_at is None or rule.starts_at <= at) and (
        rule.ends_at is None or at < rule.ends_at
    )


class PricingRuleOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    campaign = serializers.IntegerField(source="campaign_id")
    event = serializers.IntegerField(
        source="event_id", allow_null=True, help_text="The event's id; null: every event."
    )
    event_code = serializers.SerializerMethodField(help_text="The event's code; null: every event.")
    affiliate = serializers.IntegerField(
        source="affiliate_id", allow_null=True, help_text="null: every affiliate."
    )
    country = serializers.CharField(help_text="Empty: every country.")
    sub1 = serializers.CharField(help_text="Empty: any sub1.")
    starts_at = serializers.DateTimeField(allow_null=True, help_text="Included; null: always.")
    ends_at = serializers.DateTimeField(allow_null=True, help_text="Excluded; null: open.")
    payout_type = serializers.ChoiceField(choices=PayoutType.choices)
    payout_amount = serializers.DecimalField(max_digits=18, decimal_places=4)
    revshare_percent = serializers.DecimalField(max_digits=7, decimal_places=4)
    revenue_amount = serializers.DecimalField(
        max_digits=18,
        decimal_places=4,
        allow_null=True,
        help_text="Revenue when the partner sends none; null keeps the event's.",
    )
    note = serializers.CharField()
    description = serializers.SerializerMethodField(
        help_text="Who it applies to, for people: `affiliate #5, event sale, GB` or `everyone`."
    )
    specificity = serializers.IntegerField(
        help_text="affiliate 8 + event 4 + country 2 + sub1 1: the most specific valid rule wins."
    )
    is_active = serializers.SerializerMethodField(help_text="Valid now (started, not ended).")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    class Meta:
        ref_name = "PricingRule"

    def get_event_code(self, rule: PricingRule) -> str | None:
        return rule.event.code if rule.event is not None else None

    def get_description(self, rule: PricingRule) -> str:
        return pricing_rule_describe(rule)

    def get_is_active(self, rule: PricingRule) -> bool:
        return _is_active(rule, self.context.get("now") or timezone.now())


class PricingRuleInputSerializer(serializers.Serializer):
    """Parsing only: `campaigns.pricing_rules` checks the values and the rules across fields."""

    event = serializers.CharField(
        allow_null=True,
        allow_blank=True,
        required=False,
        max_length=50,
        help_text="An event of the campaign, by id or code; null or empty: every event.",
    )
    affiliate = serializers.IntegerField(
        allow_null=True, required=False, min_value=1, help_text="An affiliate id; null: everyone."
    )
    country = serializers.CharField(
        allow_blank=True, required=False, max_length=2, help_text="ISO code; empty: every one."
    )
    sub1 = serializers.CharField(allow_blank=True, required=False, max_length=255)
    starts_at = serializers.DateTimeField(allow_null=True, required=False)
    ends_at = serializers.DateTimeField(allow_null=True, required=False)
    payout_type = serializers.ChoiceField(choices=PayoutType.choices)
    payout_amount = MoneySerializerField(
        max_digits=18, decimal_places=4, min_value=0, required=False
    )
    revshare_percent = MoneySerializerField(
        max_digits=7, decimal_places=4, min_value=0, max_value=100, required=False
    )
    revenue_amount = MoneySerializerField(
        max_digits=18, decimal_places=4, min_value=0, allow_null=True, required=False
    )
    note = serializers.CharField(allow_blank=True, required=False, max_length=200)

    class Meta:
        ref_name = "PricingRuleInput"


def _rule_output(rule: PricingRule) -> dict[str, Any]:
    return PricingRuleOutputSerializer(rule, context={"now": timezone.now()}).data


class CampaignPricingRuleListCreateApi(GenericAPIView):
    admin_permissions = staff_permissions("campaigns.pricingrule", POST="add")
    queryset = PricingRule.objects.none()
    filter_backends = [DjangoFilterBackend]
    filterset_class = PricingRuleFilter
    pagination_class = StandardPagination
    permission_classes = [IsAdminOrApprovedAdvertiser]
    serializer_class = PricingRuleInputSerializer

    @extend_schema(
        summary="List a campaign's pricing rules",
        responses={
            200: PricingRuleOutputSerializer(many=True),
            **error_responses(400, 401, 403, 404),
        },
    )
    def get(self, request: AuthenticatedRequest, campaign_id: int) -> Response:
        campaign = selectors.campaign_get(viewer=request.user, campaign_id=campaign_id)
        queryset = selectors.pricing_rule_list(viewer=request.user).filter(campaign=campaign)
        return paginated_response(
            queryset=self.filter_queryset(queryset),
            serializer_class=PricingRuleOutputSerializer,
            request=request,
            view=self,
            context={"request": request, "now": timezone.now()},
        )

    @extend_schema(
        summary="Add a pricing rule to a campaign",
        description=(
            "`payout_type` is required. Empty criteria match everything; the most specific rule "
            "valid when a conversion is created prices it (ties: the later `starts_at`, then the "
            "higher id). Conversions already recorded keep their price."
        ),
        request=PricingRuleInputSerializer,
        responses={201: PricingRuleOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: AuthenticatedRequest, campaign_id: int) -> Response:
        campaign = selectors.campaign_get(viewer=request.user, campaign_id=campaign_id)
        serializer = PricingRuleInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rule = pricing_rule_create(
            campaign=campaign,
            data=dict(serializer.validated_data),
            actor=request.user,
            source=audit_source_for_request(request),
        )
        rule = selectors.pricing_rule_get(viewer=request.user, rule_id=rule.pk)
        return Response(_rule_output(rule), status=status.HTTP_201_CREATED)


class PricingRuleDetailApi(APIView):
    admin_permissions = staff_permissions("campaigns.pricingrule", PATCH="change", DELETE="delete")
    permission_classes = [IsAdminOrApprovedAdvertiser]

    @extend_schema(
        summary="One pricing rule",
        responses={200: PricingRuleOutputSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: AuthenticatedRequest, rule_id: int) -> Response:
        rule = selectors.pricing_rule_get(viewer=request.user, rule_id=rule_id)
        return Response(_rule_output(rule))

    @extend_schema(
        summary="Change a pricing rule",
        description="A partial update. Conversions it already priced keep their price.",
        request=PricingRuleInputSerializer(partial=True),
        responses={200: PricingRuleOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: AuthenticatedRequest, rule_id: int) -> Response:
        rule = selectors.pricing_rule_get(viewer=request.user, rule_id=rule_id)
        serializer = PricingRuleInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        pricing_rule_update(
            rule=rule,
            data=dict(serializer.validated_data),
            actor=request.user,
            source=audit_source_for_request(request),
        )
        rule = selectors.pricing_rule_get(viewer=request.user, rule_id=rule_id)
        return Response(_rule_output(rule))

    @extend_schema(
        summary="Delete a pricing rule",
        description=(
            "409 `pricing_rule_in_use` when it priced conversions: set `ends_at` to end it, so "
            "that those conversions keep naming the rule that priced them."
        ),
        responses={204: None, **error_responses(401, 403, 404, 409)},
    )
    def delete(self, request: AuthenticatedRequest, rule_id: int) -> Response:
        rule = selectors.pricing_rule_get(viewer=request.user, rule_id=rule_id)
        pricing_rule_delete(rule=rule, actor=request.user, source=audit_source_for_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- import --------------------------------------------------------------------------------------


class ImportRowSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="The CSV line (the header is line 1).")
    action = serializers.ChoiceField(choices=["create", "update", "unchanged", "error"])
    rule_id = serializers.IntegerField(
        allow_null=True, help_text="The rule updated, or created (null in a dry run)."
    )
    changes = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="field -> [before, after], as text.",
    )
    # DRF's metaclass moves declared fields out of the class body, so this never shadows
    # Serializer.errors at runtime; the stubs see a class attribute of another type.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text="field -> messages, for a row in error.",
    )

    class Meta:
        ref_name = "PricingRuleImportRow"


class ImportCountsSerializer(serializers.Serializer):
    # Field names, not the methods the stubs see (DRF's metaclass moves declared fields).
    create = serializers.IntegerField()  # type: ignore[assignment]
    update = serializers.IntegerField()  # type: ignore[assignment]
    unchanged = serializers.IntegerField()
    error = serializers.IntegerField()

    class Meta:
        ref_name = "PricingRuleImportCounts"


class ImportResultSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    counts = ImportCountsSerializer()
    rows = ImportRowSerializer(many=True)

    class Meta:
        ref_name = "PricingRuleImportResult"


def _import_body(result: ImportResult) -> dict[str, Any]:
    return {
        "dry_run": result.dry_run,
        "counts": result.counts,
        "rows": [dataclasses.asdict(row) for row in result.rows],
    }


_BOOLEANS = {"true": True, "false": False}


def _is_csv_body(request: AuthenticatedRequest) -> bool:
    return request.content_type.split(";")[0].strip().lower() == CsvParser.media_type


def _form_data(request: AuthenticatedRequest) -> Mapping[str, Any]:
    return request.data if isinstance(request.data, Mapping) else {}


def _dry_run(request: AuthenticatedRequest) -> bool:
    """`dry_run` from the query string or a form field: `true` or `false` (default false)."""
    raw = request.query_params.get("dry_run")
    if raw is None and not _is_csv_body(request):
        raw = _form_data(request).get("dry_run")
    if raw is None:
        return False
    if raw not in _BOOLEANS:
        raise ApplicationError(
            "dry_run is true or false.",
            code="invalid_dry_run",
            fields={"dry_run": ["Use true or false."]},
        )
    return _BOOLEANS[raw]


def _csv_content(request: AuthenticatedRequest) -> bytes:
    """The CSV: a `text/csv` body, or the multipart field `file`; read up to one byte past the
    service's limit, which it refuses with `file_too_large`."""
    if _is_csv_body(request):
        content = _form_data(request).get("csv") or b""
    else:
        upload = request.FILES.get("file")
        if not isinstance(upload, UploadedFile):
            raise ApplicationError(
                "Send the CSV as the multipart field `file` or as a text/csv body.",
                code="missing_file",
                fields={"file": ["This field is required."]},
            )
        content = upload.read(IMPORT_MAX_BYTES + 1)
    if not content.strip():
        raise ApplicationError(
            "The file is empty.", code="missing_file", fields={"file": ["The file is empty."]}
        )
    return content


class CampaignPricingRuleImportApi(APIView):
    admin_permissions = staff_permissions(
        "campaigns.pricingrule",
        POST=("campaigns.add_pricingrule", "campaigns.change_pricingrule"),
    )
    permission_classes = [IsAdminOrApprovedAdvertiser]
    parser_classes = [MultiPartParser, FormParser, CsvParser, JSONParser]

    @extend_schema(
        summary="Import pricing rules from CSV (with a dry run)",
        description=(
            "The CSV comes as the multipart field `file` or as a `text/csv` body. Its first line "
            f"names the columns: {', '.join(IMPORT_COLUMNS)} (`payout_type` is required, the "
            "others may be left out; `event` is an event code or id, `affiliate` an id). A row "
            "without `id` creates a rule, a row with the `id` of a rule of this campaign updates "
            "it; an empty cell leaves the value as it is (or the default for a new rule). "
            "`dry_run=true` (query or form field) answers, row by row, what would be created or "
            "changed and writes nothing. A real import writes only when no row has an error: "
            "otherwise 400 `import_has_errors` with the same `dry_run`, `counts` and `rows` as "
            "the answer's, and nothing written. At most 1 MB and 5,000 rows (`file_too_large`, "
            "`too_many_rows`); `invalid_csv` for a file that is not UTF-8 CSV with a header; "
            "`missing_file` when there is none."
        ),
        parameters=[
            OpenApiParameter(
                "dry_run",
                OpenApiTypes.BOOL,
                OpenApiParameter.QUERY,
                description="true: answer what would change, write nothing.",
            )
        ],
        request=None,
        responses={200: ImportResultSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: AuthenticatedRequest, campaign_id: int) -> Response:
        campaign = selectors.campaign_get(viewer=request.user, campaign_id=campaign_id)
        query_params_check(request.query_params, allowed=("dry_run",))
        dry_run = _dry_run(request)
        result = pricing_rules_import(
            campaign=campaign,
            content=_csv_content(request),
            dry_run=dry_run,
            actor=request.user,
            source=audit_source_for_request(request),
        )
        body = _import_body(result)
        if result.counts["error"] and not dry_run:
            error = ApplicationError(
                f"{result.counts['error']} row(s) have errors: nothing was imported.",
                code="import_has_errors",
            )
            return Response({**error.as_dict(), **body}, status=status.HTTP_400_BAD_REQUEST)
        return Response(ImportResultSerializer(body).data)


# --- preview -------------------------------------------------------------------------------------


class PreviewOutputSerializer(serializers.Serializer):
    rule_id = serializers.IntegerField(
        allow_null=True, help_text="The winning rule; null: the event's own terms."
    )
    description = serializers.CharField(
        help_text="Who the winning rule applies to, or `event terms` without one."
    )
    event = serializers.CharField(help_text="The event's code.")
    payout_type = serializers.ChoiceField(choices=PayoutType.choices)
    payout_amount = serializers.DecimalField(max_digits=18, decimal_places=4)
    revshare_percent = serializers.DecimalField(max_digits=7, decimal_places=4)
    revenue_amount = serializers.DecimalField(
        max_digits=18,
        decimal_places=4,
        help_text="The revenue when the partner sends none (the rule's, else the event's).",
    )
    beaten = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="The other rules that match, best first: the winner beat them.",
    )

    class Meta:
        ref_name = "PricingRulePreview"


_PREVIEW_PARAMS = ("affiliate", "event", "country", "sub1", "at")


def _preview_affiliate(raw: str | None) -> int:
    if raw is None or raw == "":
        return 0  # no affiliate's own rule applies
    if not raw.isdigit() or int(raw) < 1:
        raise ApplicationError(
            "affiliate is an affiliate id.",
            code="invalid_affiliate",
            fields={"affiliate": ["A positive integer id."]},
        )
    return int(raw)


class CampaignPricingRulePreviewApi(APIView):
    admin_permissions = staff_permissions("campaigns.pricingrule")
    permission_classes = [IsAdminOrApprovedAdvertiser]

    @extend_schema(
        summary="Which pricing rule would price a conversion",
        description=(
            "For a conversion of `event` (a code; default: the default event) by `affiliate` "
            "(an id; none: an affiliate without rules of its own) from `country` with `sub1`, "
            "created at `at` (RFC 3339; default: now): the winning rule and its terms, or the "
            "event's own terms when no rule matches, and the matching rules it beat. 400 "
            "`unknown_event` for a code the campaign does not have."
        ),
        parameters=[
            OpenApiParameter("affiliate", OpenApiTypes.INT, OpenApiParameter.QUERY),
            OpenApiParameter("event", OpenApiTypes.STR, OpenApiParameter.QUERY),
            OpenApiParameter("country", OpenApiTypes.STR, OpenApiParameter.QUERY),
            OpenApiParameter("sub1", OpenApiTypes.STR, OpenApiParameter.QUERY),
            OpenApiParameter("at", OpenApiTypes.DATETIME, OpenApiParameter.QUERY),
        ],
        responses={200: PreviewOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def get(self, request: AuthenticatedRequest, campaign_id: int) -> Response:
        campaign = selectors.campaign_get(viewer=request.user, campaign_id=campaign_id)
        params = request.query_params
        query_params_check(params, allowed=_PREVIEW_PARAMS)
        affiliate_id = _preview_affiliate(params.get("affiliate"))
        event = event_for_postback(campaign_id=campaign.pk, code=params.get("event", ""))
        try:
            at = IsoDateTimeField(required=False).clean(params.get("at")) or timezone.now()
        except ValidationError as exc:
            raise ApplicationError(
                "at is an RFC 3339 date-time such as 2026-03-10T09:30:00Z.",
                code="invalid_at",
                fields={"at": ["An RFC 3339 date-time."]},
            ) from exc
        candidates = pricing_rule_candidates(
            campaign_id=campaign.pk,
            event_id=event.pk,
            affiliate_id=affiliate_id,
            country=params.get("country", "").strip().upper(),
            sub1=params.get("sub1", ""),
            at=at,
        )
        winner = candidates[0] if candidates else None
        terms = winner or event
        revenue = event.default_revenue
        if winner is not None and winner.revenue_amount is not None:
            revenue = winner.revenue_amount
        body = {
            "rule_id": winner.pk if winner else None,
            "description": pricing_rule_describe(winner) if winner else "event terms",
            "event": event.code,
            "payout_type": terms.payout_type,
            "payout_amount": terms.payout_amount,
            "revshare_percent": terms.revshare_percent,
            "revenue_amount": revenue,
            "beaten": [rule.pk for rule in candidates[1:]],
        }
        return Response(PreviewOutputSerializer(body).data)
