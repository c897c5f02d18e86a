"""Exchange rates API: `GET, POST /api/exchange-rates` (admin; staff with the payouts app's
exchange rate permissions). The rules are `payouts.exchange_rates`."""

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from accounts.http import AuthenticatedRequest
from accounts.permissions import IsNetworkAdmin, staff_permissions
from core.api_schema import error_response
from core.audit import audit_source_for_request
from core.currencies import CURRENCY_CODES
from core.filters import PAGINATION_PARAMETERS, query_params_check
from core.pagination import StandardPagination, paginated_response
from payouts import exchange_rates
from payouts.models import RATE_DECIMAL_PLACES, RATE_MAX_DIGITS, ExchangeRate, ExchangeRateSource

_E401 = error_response("Not authenticated.")
_E403 = error_response("The caller's role may not do this.")


@extend_schema_field({"type": "string", "enum": sorted(CURRENCY_CODES), "example": "EUR"})
class _CurrencyCodeField(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 3)
        kwargs.setdefault("help_text", "An ISO 4217 code, e.g. EUR.")
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        try:
            return exchange_rates.currency_code_parse(super().to_internal_value(data))
        except ValueError:
            raise serializers.ValidationError("Use an ISO 4217 code, e.g. EUR.") from None


@extend_schema_field(
    {
        "type": "string",
        "pattern": rf"^[0-9]+(\.[0-9]{{1,{RATE_DECIMAL_PLACES}}})?$",
        "example": "1.0512",
    }
)
class _RateField(serializers.CharField):
    """A positive plain decimal with at most 10 places (`exchange_rates.rate_parse`)."""

    def to_internal_value(self, data: Any):
        try:
            return exchange_rates.rate_parse(data)
        except ValueError as error:
            raise serializers.ValidationError(
                f"A positive decimal with at most {RATE_DECIMAL_PLACES} places ({error})."
            ) from None


class ExchangeRateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    date = serializers.DateField()
    from_currency = serializers.CharField()
    to_currency = serializers.CharField()
    rate = serializers.DecimalField(
        max_digits=RATE_MAX_DIGITS,
        decimal_places=RATE_DECIMAL_PLACES,
        help_text="1 from_currency = rate to_currency on that day.",
    )
    # DRF's metaclass moves declared fields out of the class body, so this never shadows
    # Field.source at runtime; the stubs see a class attribute of another type.
    source = serializers.ChoiceField(choices=ExchangeRateSource.choices)  # type: ignore[assignment]
    updated_at = serializers.DateTimeField()

    class Meta:
        ref_name = "ExchangeRate"


class ExchangeRateListCreateApi(GenericAPIView):
    """GET: the rate table, newest day first. POST: set one day's rate of a pair."""

    # `queryset` and `pagination_class` describe the paginated list in the schema.
    queryset = ExchangeRate.objects.none()
    pagination_class = StandardPagination
    filter_backends: list = []

    admin_permissions = staff_permissions(
        "payouts.exchangerate",
        POST=("payouts.add_exchangerate", "payouts.change_exchangerate"),
    )
    permission_classes = [IsNetworkAdmin]

    class FilterSerializer(serializers.Serializer):
        date = serializers.DateField(required=False, help_text="One day (YYYY-MM-DD).")
        date_from = serializers.DateField(required=False, help_text="First day, inclusive.")
        date_to = serializers.DateField(required=False, help_text="Last day, inclusive.")
        from_currency = _CurrencyCodeField(required=False)
        to_currency = _CurrencyCodeField(required=False)
        currency = _CurrencyCodeField(
            required=False, help_text="Rates from or to this ISO 4217 code."
        )

        class Meta:
            ref_name = "ExchangeRateFilter"

    class InputSerializer(serializers.Serializer):
        date = serializers.DateField(help_text="The day the rate is for (YYYY-MM-DD).")
        from_currency = _CurrencyCodeField()
        to_currency = _CurrencyCodeField()
        rate = _RateField(
            help_text=(
                "1 from_currency = rate to_currency, a positive decimal string with at most "
                f'{RATE_DECIMAL_PLACES} places, e.g. "1.0512".'
            )
        )

        class Meta:
            ref_name = "ExchangeRateInput"

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if attrs["from_currency"] == attrs["to_currency"]:
                raise serializers.ValidationError(
                    {"to_currency": ["Must differ from from_currency."]}
                )
            return attrs

    def get_serializer_class(self):
        # OPTIONS (DRF's metadata) describes POST's input from it.
        return self.InputSerializer

    @extend_schema(
        summary="List exchange rates (admin)",
        parameters=[FilterSerializer],
        responses={
            200: ExchangeRateSerializer(many=True),
            400: error_response("Invalid filter, or `unknown_parameter`."),
            401: _E401,
            403: _E403,
        },
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        query_params_check(
            request.query_params,
            allowed=[*self.FilterSerializer().fields, *PAGINATION_PARAMETERS],
        )
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        rates = exchange_rates.exchange_rate_list(
            date_from=data.get("date", data.get("date_from")),
            date_to=data.get("date", data.get("date_to")),
            from_currency=data.get("from_currency", ""),
            to_currency=data.get("to_currency", ""),
            currency=data.get("currency", ""),
        )
        return paginated_response(
            queryset=rates, serializer_class=ExchangeRateSerializer, request=request, view=self
        )

    @extend_schema(
        summary="Set one day's exchange rate of a currency pair (admin)",
        description=(
            "Creates the rate (201), or replaces the rate already set for that day and pair "
            "(200). Conversions keep the rate they were converted at: a correction changes "
            "only what is converted from now on."
        ),
        request=InputSerializer,
        responses={
            200: ExchangeRateSerializer,
            201: ExchangeRateSerializer,
            400: error_response("Invalid fields (`invalid`), naming each."),
            401: _E401,
            403: _E403,
        },
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        rate, created = exchange_rates.exchange_rate_set(
            on=data["date"],
            from_currency=data["from_currency"],
            to_currency=data["to_currency"],
            rate=data["rate"],
            actor=request.user,
            audit_source=audit_source_for_request(request),
        )
        return Response(
            ExchangeRateSerializer(rate).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
