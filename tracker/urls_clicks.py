from django.urls import path

from tracker.views import clicks

urlpatterns = [
    path("c/<str:token>", clicks.click_redirect, name="click-redirect"),
    path("api/track/click/<str:token>", clicks.click_redirect, name="api-track-click"),
    path("click", clicks.legacy_click, name="legacy-click"),
]
