"""Postback endpoints: create, update, rotate, send test; and who may see endpoints and
deliveries (affiliate its own, admin all, advertiser none; forbidden looks like missing)."""

import pytest

from accounts.tests.factories import AdminUserFactory, AdvertiserFactory, AffiliateFactory
from campaigns.models import Visibility
from campaigns.tests.factories import CampaignFactory
from core.exceptions import ApplicationError, NotFoundError
from tracker.models import DeliveryStatus, ForwardEvent
from tracker.selectors_forwarding import delivery_get, delivery_list, endpoint_get, endpoint_list
from tracker.services.forwarding import (
    SECRET_PREFIX,
    endpoint_create,
    endpoint_secret_rotate,
    endpoint_send_test,
    endpoint_update,
)
from tracker.tests.factories_forwarding import (
    DeliveryFactory,
    PostbackEndpointFactory,
    Receiver,
    dns_stub,
    standard_webhook_verify,
)


@pytest.fixture(autouse=True)
def _stub_dns(monkeypatch):
    dns_stub(monkeypatch, {})


@pytest.mark.django_db
def test_create_saves_a_linted_endpoint_with_a_fresh_secret():
    affiliate = AffiliateFactory()
    campaign = CampaignFactory()

    endpoint = endpoint_create(
        affiliate=affiliate,
        url=" https://receiver.example/pb?cid={click_id}&p={payout}&e={event_id} ",
        method="post",
        events=["reversed", "approved", "approved"],
        campaign=campaign.pk,
        name="Main",
    )

    assert endpoint.url == "https://receiver.example/pb?cid={click_id}&p={payout}&e={event_id}"
    assert (endpoint.method, endpoint.events, endpoint.campaign, endpoint.name) == (
        "POST",
        ["approved", "reversed"],
        campaign,
        "Main",
    )
    assert endpoint.is_active
    assert endpoint.secret.startswith(SECRET_PREFIX)


@pytest.mark.django_db
def test_create_defaults_to_get_approved_all_campaigns():
    endpoint = endpoint_create(affiliate=AffiliateFactory(), url="https://r.example/{click_id}")

    assert (endpoint.method, endpoint.events, endpoint.campaign) == ("GET", ["approved"], None)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "code", "field", "message"),
    [
        ({"url": ""}, "invalid_url", "url", "The URL is required."),
        (
            {"url": "https://r.example/?a={payoutt}"},
            "invalid_url",
            "url",
            "Unknown macro(s): {payoutt}.",
        ),
        (
            {"url": "https://{sub1}.r.example/"},
            "invalid_url",
            "url",
            "Macros may not be used in the host or port.",
        ),
        (
            {"url": "https://r.example/" + "a" * 2000},
            "invalid_url",
            "url",
            "The URL is longer than 2000 characters.",
        ),
        ({"method": "PUT"}, "invalid_method", "method", "Choose GET or POST."),
        (
            {"events": []},
            "invalid_events",
            "events",
            "Choose at least one of: approved, pending, rejected, reversed, test.",
        ),
        (
            {"events": ["paid"]},
            "invalid_events",
            "events",
            "Unknown event 'paid': choose from approved, pending, rejected, reversed, test.",
        ),
        ({"campaign": "x"}, "invalid_campaign", "campaign", "A campaign id or null."),
        ({"campaign": 987654}, "invalid_campaign", "campaign", "Campaign not found."),
        ({"is_active": "yes"}, "invalid_is_active", "is_active", "Must be true or false."),
    ],
)
def test_create_refuses_bad_fields_naming_them(fields, code, field, message):
    data = {"url": "https://r.example/pb?c={click_id}", **fields}

    with pytest.raises(ApplicationError) as refused:
        endpoint_create(affiliate=AffiliateFactory(), **data)

    assert (refused.value.code, refused.value.status) == (code, 400)
    assert refused.value.message == message
    assert refused.value.fields == {field: [message]}


@pytest.mark.django_db
def test_an_endpoint_cannot_be_scoped_to_a_private_campaign_the_affiliate_cannot_see():
    private = CampaignFactory(visibility=Visibility.PRIVATE)

    with pytest.raises(ApplicationError) as refused:
        endpoint_create(affiliate=AffiliateFactory(), url="https://r.example/", campaign=private)

    assert refused.value.code == "invalid_campaign"


@pytest.mark.django_db
def test_update_lints_the_same_way_and_reactivation_clears_the_disabled_state():
    endpoint = PostbackEndpointFactory(is_active=False, disabled_reason="410", failing_since=None)

    with pytest.raises(ApplicationError) as refused:
        endpoint_update(endpoint=endpoint, data={"url": "ftp://r.example/"})
    with pytest.raises(ApplicationError) as unknown:
        endpoint_update(endpoint=endpoint, data={"secret": "mine"})
    updated = endpoint_update(
        endpoint=endpoint,
        data={"url": "https://new.example/{status}", "events": ["test"], "is_active": True},
    )

    assert refused.value.code == "invalid_url"
    assert (unknown.value.code, unknown.value.fields) == (
        "unknown_field",
        {"secret": ["Not a field of a postback endpoint."]},
    )
    assert (updated.url, updated.events, updated.is_active, updated.disabled_reason) == (
        "https://new.example/{status}",
        ["test"],
        True,
        "",
    )


@pytest.mark.django_db
def test_rotation_issues_a_new_secret():
    endpoint = PostbackEndpointFactory()
    first = endpoint.secret

    rotated = endpoint_secret_rotate(endpoint=endpoint)

    assert rotated.secret != first
    assert rotated.secret.startswith(SECRET_PREFIX)
    assert rotated.previous_secret == first


@pytest.mark.django_db
def test_send_test_fires_one_signed_test_event_and_returns_the_response():
    # given an endpoint on a receiver
    def respond(request, index):
        return 202, {}, b'{"received": true}'

    with Receiver(respond=respond) as receiver:
        endpoint = PostbackEndpointFactory(url=receiver.url("/pb?s={status}&c={click_id}"))

        # when the owner presses "send test"
        result = endpoint_send_test(endpoint=endpoint)

        # then one signed test request went out and its answer is shown
        assert [r.query for r in receiver.requests] == [{"s": "test", "c": "test-click"}]
        assert standard_webhook_verify(
            secret=endpoint.secret, headers=receiver.requests[0].headers, body=b""
        )
    assert (result.attempt.status_code, result.attempt.response_excerpt) == (
        202,
        '{"received": true}',
    )
    assert (result.delivery.event, result.delivery.status) == (
        ForwardEvent.TEST,
        DeliveryStatus.DELIVERED,
    )


@pytest.mark.django_db
def test_send_test_to_a_failing_receiver_is_not_retried():
    with Receiver(respond=lambda request, index: (500, {}, b"boom")) as receiver:
        endpoint = PostbackEndpointFactory(url=receiver.url())

        result = endpoint_send_test(endpoint=endpoint)

    assert (result.attempt.status_code, result.attempt.response_excerpt) == (500, "boom")
    assert (result.delivery.status, result.delivery.next_attempt_at) == (
        DeliveryStatus.FAILED,
        None,
    )


@pytest.mark.django_db
def test_send_test_refuses_an_inactive_endpoint():
    with pytest.raises(ApplicationError) as refused:
        endpoint_send_test(endpoint=PostbackEndpointFactory(is_active=False))

    assert (refused.value.code, refused.value.status) == ("endpoint_inactive", 409)


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
