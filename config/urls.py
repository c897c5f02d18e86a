from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from core import views as core_views
from portal.views import shared as portal_shared

urlpatterns = [
    # Tracking endpoints first: they are the hot paths, and URL resolution tries patterns in order.
    # (/c/<token>, /postback/<key>, /px/<key>.gif, /click, /postback, /api/track/...)
    path("", include("tracker.urls_clicks")),
    path("", include("tracker.urls_postbacks")),
    path("", portal_shared.site_root, name="site-root"),
    path("favicon.ico", core_views.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("portal/", include("portal.urls")),
    path("portal/auth/", include("portal.urls_auth")),
    path("healthz", core_views.healthz, name="healthz"),
    path("api/schema/", core_views.ApiSchemaView.as_view(), name="api-schema"),
    path("api/docs/", core_views.ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("accounts.urls")),
    path("api/", include("campaigns.urls")),
    path("api/", include("payouts.urls")),
    path("api/", include("forwarding.urls")),
    path("api/", include("tracker.urls_api")),
    path("api/", include("reporting.urls")),
    # The first integrations' listing endpoints (login required, scoped): /clicks, /conversions
    path("", include("tracker.urls_legacy_api")),
]

# The benchmark's baseline view exists only on the benchmark's own server.
if settings.BENCHMARK_ROUTES_ENABLED:
    urlpatterns.append(path("", include("devtools.urls")))

# Outside the HTML pages (portal, admin), Django's own error answers are the API's JSON error
# shape; see core.api and core.middleware.JsonErrorPagesMiddleware.
handler400 = "core.api.bad_request"
handler403 = "core.api.permission_denied"
handler404 = "core.api.page_not_found"
handler500 = "core.api.server_error"
