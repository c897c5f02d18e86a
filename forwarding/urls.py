"""The forwarding API, included under `/api/`."""

from django.urls import path

from forwarding import apis

urlpatterns = [
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
    path(
        "operator-webhooks",
        apis.OperatorWebhookListCreateApi.as_view(),
        name="api-operator-webhooks",
    ),
    path(
        "operator-webhooks/<int:webhook_id>",
        apis.OperatorWebhookDetailApi.as_view(),
        name="api-operator-webhook",
    ),
]
