"""The first integrations' listing endpoints at the site root: login required, scoped like
the API."""

from django.urls import path

from tracker import apis

urlpatterns = [
    path("clicks", apis.LegacyClickListApi.as_view(), name="legacy-clicks"),
    path("conversions", apis.LegacyConversionListApi.as_view(), name="legacy-conversions"),
    path(
        "affiliates/<int:affiliate_id>/clicks",
        apis.LegacyAffiliateClickListApi.as_view(),
        name="legacy-affiliate-clicks",
    ),
    path(
        "affiliates/<int:affiliate_id>/conversions",
        apis.LegacyAffiliateConversionListApi.as_view(),
        name="legacy-affiliate-conversions",
    ),
]
