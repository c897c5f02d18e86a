"""The OpenAPI schema and its documentation pages (drf-spectacular)."""

SPECTACULAR_SETTINGS = {
    "TITLE": "ClickLedger API",
    "DESCRIPTION": "Self-hosted S2S affiliate tracking network.",
    "VERSION": "1.0.0",
    # Swagger UI and ReDoc are served from this server's static files (drf-spectacular-sidecar).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's default online validator badge fetches https://validator.swagger.io with the
    # schema's URL: the docs page must make no request off this server.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # Request bodies are JSON (what the API documents and its clients send); request components
    # are split from response ones, so non-blank strings are documented as `minLength: 1`.
    "PARSER_WHITELIST": ["core.parsers.JSONParser"],
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api_schema.postprocess_api_schema",
    ],
    # One OpenAPI enum per choice set, whichever field name (status, payout_method, method) uses it.
    "ENUM_NAME_OVERRIDES": {
        "ApprovalStatusEnum": "accounts.models.ApprovalStatus",
        "PayoutMethodEnum": "accounts.models.PayoutMethod",
        "ApiKeyScopeEnum": "accounts.models.ApiKeyScope",
        "CampaignStatusEnum": "campaigns.models.CampaignStatus",
        "ApplicationStatusEnum": "campaigns.models.AccessStatus",
        "ConversionStatusEnum": "tracker.models.ConversionStatus",
        "DeliveryStatusEnum": "forwarding.models.DeliveryStatus",
        "EndpointMethodEnum": "forwarding.models.EndpointMethod",
        "ForwardEventEnum": "forwarding.models.ForwardEvent",
        "OperatorEventTypeEnum": "core.models.OperatorEventType",
        "CurrencyEnum": "core.currencies.CURRENCY_CODES",
        # A partner's role at registration and an adjustment's owner type: the same two values.
        "PartnerRoleEnum": ["affiliate", "advertiser"],
        "PayoutMethodKindEnum": "payouts.models.PayoutMethodKind",
    },
}
