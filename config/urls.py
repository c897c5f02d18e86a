from django.contrib import admin
from django.urls import include, path

from core import views as core_views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", core_views.healthz, name="healthz"),
    path("bench/trivial", core_views.trivial, name="bench-trivial"),
    path("", include("tracker.urls")),
    path("api/", include("accounts.urls")),
]
