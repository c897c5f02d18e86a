"""Tracker API, included under `/api/` (paths without a trailing slash)."""

from django.urls import path

from tracker import apis, apis_reconciliations

urlpatterns = [
    path("clicks", apis.ClickListApi.as_view(), name="api-clicks"),
    path("conversions", apis.ConversionListApi.as_view(), name="api-conversions"),
    path(
        "conversions/<int:conversion_id>",
        apis.ConversionDetailApi.as_view(),
        name="api-conversion",
    ),
    path(
        "conversions/<int:conversion_id>/status",
        apis.ConversionStatusApi.as_view(),
        name="api-conversion-status",
    ),
    path(
        "conversions/<int:conversion_id>/explain",
        apis.ConversionExplainApi.as_view(),
        name="api-conversion-explain",
    ),
    path("clicks/<str:click_id>/explain", apis.ClickExplainApi.as_view(), name="api-click-explain"),
    path("points", apis.PointsListApi.as_view(), name="api-points"),
    path(
        "partner-keys/<int:partner_key_id>/sandbox",
        apis.PartnerKeySandboxApi.as_view(),
        name="api-partner-key-sandbox",
    ),
]

urlpatterns += [
    path(
        "conversions/bulk",
        apis_reconciliations.ConversionBulkApi.as_view(),
        name="api-conversions-bulk",
    ),
    path(
        "reconciliations",
        apis_reconciliations.ReconciliationCreateApi.as_view(),
        name="api-reconciliations",
    ),
    path(
        "reconciliations/<int:reconciliation_id>",
        apis_reconciliations.ReconciliationDetailApi.as_view(),
        name="api-reconciliation",
    ),
    path(
        "reconciliations/<int:reconciliation_id>/apply",
        apis_reconciliations.ReconciliationApplyApi.as_view(),
        name="api-reconciliation-apply",
    ),
    path(
        "reconciliations/<int:reconciliation_id>/result.csv",
        apis_reconciliations.ReconciliationResultApi.as_view(),
        name="api-reconciliation-result",
    ),
]
