"""Reports API, included under `/api/`: `reports` and `analytics/campaign/<id>` (seed 004)."""

from django.urls import path

from tracker import apis_reports

urlpatterns = [
    path("reports", apis_reports.ReportsApi.as_view(), name="api-reports"),
    path(
        "analytics/campaign/<int:campaign_id>",
        apis_reports.CampaignAnalyticsApi.as_view(),
        name="api-analytics-campaign",
    ),
]
