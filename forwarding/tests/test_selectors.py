"""Who may see endpoints and deliveries: an affiliate its own, the admin all, an advertiser none;
forbidden looks like missing."""

import pytest

from accounts.tests.factories import AdminUserFactory, AdvertiserFactory
from core.exceptions import NotFoundError
from forwarding.models import DeliveryStatus
from forwarding.selectors import delivery_get, delivery_list, endpoint_get, endpoint_list
from forwarding.tests.factories import DeliveryFactory, PostbackEndpointFactory


@pytest.mark.django_db
def test_affiliates_see_their_own_endpoints_and_deliveries_admins_all_advertisers_none():
    # given two affiliates with an endpoint and a delivery each
    mine = PostbackEndpointFactory()
    theirs = PostbackEndpointFactory()
    my_delivery = DeliveryFactory(endpoint=mine)
    their_delivery = DeliveryFactory(endpoint=theirs)
    me = mine.affiliate.user
    admin = AdminUserFactory()
    advertiser = AdvertiserFactory().user

    # then
    assert list(endpoint_list(viewer=me)) == [mine]
    assert list(delivery_list(viewer=me)) == [my_delivery]
    assert set(endpoint_list(viewer=admin)) == {mine, theirs}
    assert set(delivery_list(viewer=admin)) == {my_delivery, their_delivery}
    assert list(delivery_list(viewer=admin, affiliate_id=theirs.affiliate_id)) == [their_delivery]
    assert list(endpoint_list(viewer=advertiser)) == []
    assert list(delivery_list(viewer=advertiser)) == []
    assert endpoint_get(viewer=me, endpoint_id=mine.pk) == mine
    assert delivery_get(viewer=me, delivery_id=my_delivery.pk) == my_delivery
    for viewer in (me, advertiser):
        with pytest.raises(NotFoundError):
            endpoint_get(viewer=viewer, endpoint_id=theirs.pk)
        with pytest.raises(NotFoundError):
            delivery_get(viewer=viewer, delivery_id=their_delivery.pk)


@pytest.mark.django_db
def test_delivery_list_filters_and_prefetches_attempts(django_assert_num_queries):
    endpoint = PostbackEndpointFactory()
    delivered = DeliveryFactory(endpoint=endpoint, status=DeliveryStatus.DELIVERED)
    DeliveryFactory(endpoint=endpoint)
    admin = AdminUserFactory()

    with django_assert_num_queries(2):
        rows = list(delivery_list(viewer=admin, status="delivered", endpoint_id=endpoint.pk))
        attempts = [list(row.attempts.all()) for row in rows]

    assert rows == [delivered]
    assert attempts == [[]]
