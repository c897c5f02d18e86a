from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core import views as core_views

urlpatterns = [
    # Tracking endpoints first: they are the hot paths, and URL resolution tries patterns in order.
    # (/c/<token>, /postback/<key>, /click, /postback, /api/track/...)
    path("", include("tracker.urls_clicks")),
    path("", include("tracker.urls_postbacks")),
    path("admin/", admin.site.urls),
    path("portal/", include("portal.urls")),
    path("portal/auth/", include("django.contrib.auth.urls")),
    path("healthz", core_views.healthz, name="healthz"),
    path("bench/trivial", core_views.trivial, name="bench-trivial"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("accounts.urls")),
    path("api/", include("campaigns.urls")),
    path("api/", include("payouts.urls")),
    path("api/", include("tracker.urls_api")),
    path("api/", include("tracker.urls_reports")),
    # Seeds 000/001 listing endpoints (login required, scoped): /clicks, /conversions, ...
    path("", include("tracker.urls_legacy_api")),
]

# Unknown URLs answer the API error shape as JSON (the portal and admin keep their HTML pages).
handler404 = "core.api.page_not_found"
