"""Tracker API, included under `/api/` (paths as in DESIGN.md section 6, no trailing slash)."""

from django.urls import path

from tracker import apis

urlpatterns = [
    path("clicks", apis.ClickListApi.as_view(), name="api-clicks"),
    path("conversions", apis.ConversionListApi.as_view(), name="api-conversions"),
    path(
        "conversions/<int:conversion_id>",
        apis.ConversionDetailApi.as_view(),
        name="api-conversion",
    ),
    path(
        "conversions/<int:conversion_id>/status",
        apis.ConversionStatusApi.as_view(),
        name="api-conversion-status",
    ),
    path("points", apis.PointsListApi.as_view(), name="api-points"),
    path("postback-endpoints", apis.EndpointListCreateApi.as_view(), name="api-postback-endpoints"),
    path(
        "postback-endpoints/<int:endpoint_id>",
        apis.EndpointDetailApi.as_view(),
        name="api-postback-endpoint",
    ),
    path(
        "postback-endpoints/<int:endpoint_id>/test",
        apis.EndpointTestApi.as_view(),
        name="api-postback-endpoint-test",
    ),
    path(
        "postback-endpoints/<int:endpoint_id>/rotate-secret",
        apis.EndpointRotateSecretApi.as_view(),
        name="api-postback-endpoint-rotate-secret",
    ),
    path("deliveries", apis.DeliveryListApi.as_view(), name="api-deliveries"),
    path("deliveries/<int:delivery_id>", apis.DeliveryDetailApi.as_view(), name="api-delivery"),
    path(
        "deliveries/<int:delivery_id>/replay",
        apis.DeliveryReplayApi.as_view(),
        name="api-delivery-replay",
    ),
]
