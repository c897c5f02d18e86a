from django.urls import path

from tracker.views import clicks, smart_links

urlpatterns = [
    path("c/<str:token>", clicks.click_redirect, name="click-redirect"),
    path("api/track/click/<str:token>", clicks.click_redirect, name="api-track-click"),
    path("click", clicks.legacy_click, name="legacy-click"),
    path("s/<str:token>", smart_links.smart_link_redirect, name="smart-link-redirect"),
]
