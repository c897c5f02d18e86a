from django.urls import include, path

urlpatterns = [
    path("", include("tracker.urls_clicks")),
    path("", include("tracker.urls_postbacks")),
]
