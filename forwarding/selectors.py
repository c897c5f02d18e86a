"""Who may see which postback endpoints and deliveries.

Admins see all; an affiliate sees its own endpoints and their deliveries; advertisers and anyone
else see none. A forbidden object answers exactly like a missing one (NotFoundError, 404).
"""

import datetime as dt

from django.db.models import Prefetch, QuerySet

from accounts.models import User
from core.exceptions import NotFoundError
from forwarding.models import Delivery, DeliveryAttempt, ForwardEvent, PostbackEndpoint


def endpoint_list(*, viewer: User) -> QuerySet[PostbackEndpoint]:
    if viewer.is_network_admin:
        queryset = PostbackEndpoint.objects.all()
    elif viewer.is_affiliate:
        queryset = PostbackEndpoint.objects.filter(affiliate_id=viewer.pk)
    else:
        queryset = PostbackEndpoint.objects.none()
    return queryset.select_related("campaign").order_by("-id")


def endpoint_get(*, viewer: User, endpoint_id: int) -> PostbackEndpoint:
    endpoint = endpoint_list(viewer=viewer).filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFoundError("Postback endpoint not found.")
    return endpoint


def delivery_list(
    *,
    viewer: User,
    status: str | None = None,
    endpoint_id: int | None = None,
    conversion_id: int | None = None,
    affiliate_id: int | None = None,
    created_from: dt.datetime | None = None,
    created_to: dt.datetime | None = None,
) -> QuerySet[Delivery]:
    """Deliveries the viewer may see, newest first, with their attempts prefetched in order."""
    if viewer.is_network_admin:
        # Operator webhooks' deliveries are in the console, not in this postback-endpoint list.
        queryset = Delivery.objects.filter(endpoint__isnull=False)
    elif viewer.is_affiliate:
        queryset = Delivery.objects.filter(endpoint__affiliate_id=viewer.pk)
    else:
        queryset = Delivery.objects.none()
    if status:
        queryset = queryset.filter(status=status)
    if endpoint_id is not None:
        queryset = queryset.filter(endpoint_id=endpoint_id)
    if conversion_id is not None:
        queryset = queryset.filter(conversion_id=conversion_id)
    if affiliate_id is not None:
        queryset = queryset.filter(endpoint__affiliate_id=affiliate_id)
    if created_from is not None:
        queryset = queryset.filter(created_at__gte=created_from)
    if created_to is not None:
        queryset = queryset.filter(created_at__lt=created_to)
    return (
        queryset.select_related("endpoint")
        .prefetch_related(Prefetch("attempts", queryset=DeliveryAttempt.objects.order_by("id")))
        .order_by("-id")
    )


def delivery_get(*, viewer: User, delivery_id: int) -> Delivery:
    delivery = delivery_list(viewer=viewer).filter(pk=delivery_id).first()
    if delivery is None:
        raise NotFoundError("Delivery not found.")
    return delivery


def endpoint_test_get(*, viewer: User, endpoint_id: int, delivery_id: int) -> Delivery:
    """A test event sent to one of the viewer's endpoints: its delivery, attempts prefetched."""
    delivery = (
        delivery_list(viewer=viewer, endpoint_id=endpoint_id)
        .filter(pk=delivery_id, event=ForwardEvent.TEST)
        .first()
    )
    if delivery is None:
        raise NotFoundError("Test not found.")
    return delivery
