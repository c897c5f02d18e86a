from django.urls import path, re_path

from tracker.views import pixels, postbacks

urlpatterns = [
    re_path(r"^postback/(?P<key>[^/]+)/?$", postbacks.postback_by_key, name="postback"),
    path("postback", postbacks.postback_legacy, name="legacy-postback"),
    path("api/track/postback", postbacks.postback_api, name="api-track-postback"),
    path("api/analytics/postback/test", postbacks.postback_test_info, name="postback-test-info"),
    re_path(r"^px/(?P<key>[^/]+)\.(?P<form>gif|html|js)$", pixels.pixel, name="pixel"),
]
