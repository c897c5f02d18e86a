"""Reports API, included under `/api/`: `reports`, `reports/fraud` and `analytics/campaign/<id>`."""

from django.urls import path

from reporting import apis

urlpatterns = [
    path("reports", apis.ReportsApi.as_view(), name="api-reports"),
    path("reports/fraud", apis.FraudReportApi.as_view(), name="api-reports-fraud"),
    path(
        "analytics/campaign/<int:campaign_id>",
        apis.CampaignAnalyticsApi.as_view(),
        name="api-analytics-campaign",
    ),
]
