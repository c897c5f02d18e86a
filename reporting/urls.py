"""Reports API, included under `/api/`: `reports` and `analytics/campaign/<id>`."""

from django.urls import path

from reporting import apis

urlpatterns = [
    path("reports", apis.ReportsApi.as_view(), name="api-reports"),
    path(
        "analytics/campaign/<int:campaign_id>",
        apis.CampaignAnalyticsApi.as_view(),
        name="api-analytics-campaign",
    ),
]
