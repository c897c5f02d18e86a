"""The operator's view of forwarding in the Django admin: deliveries filtered by status,
affiliate, endpoint and time, attempts inline, bulk replay; endpoint actions (a test is queued
for the worker, never sent inside the request)."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.tests.factories import AdminUserFactory
from forwarding.models import Delivery, DeliveryAttempt, DeliveryStatus
from forwarding.tests.factories import DeliveryFactory, PostbackEndpointFactory
from tests.support.http import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(AdminUserFactory())
    return client


def _ids(response) -> list[int]:
    return [row.pk for row in response.context["cl"].result_list]


def test_deliveries_filter_by_status_affiliate_endpoint_and_time(admin_client):
    # given deliveries of two affiliates in several states
    mine = PostbackEndpointFactory()
    theirs = PostbackEndpointFactory()
    failed = DeliveryFactory(endpoint=mine, status=DeliveryStatus.FAILED)
    delivered = DeliveryFactory(endpoint=mine, status=DeliveryStatus.DELIVERED)
    other = DeliveryFactory(endpoint=theirs, status=DeliveryStatus.FAILED)
    url = reverse("admin:forwarding_delivery_changelist")

    # when the operator filters
    by_status = admin_client.get(url, {"status__exact": "failed"})
    by_affiliate = admin_client.get(url, {"affiliate": mine.affiliate_id})
    by_endpoint = admin_client.get(url, {"endpoint__id__exact": theirs.pk})
    day = failed.created_at
    today = admin_client.get(
        url,
        {"created_at__year": day.year, "created_at__month": day.month, "created_at__day": day.day},
    )

    # then
    assert by_status.status_code == 200
    assert sorted(_ids(by_status)) == sorted([failed.pk, other.pk])
    assert sorted(_ids(by_affiliate)) == sorted([failed.pk, delivered.pk])
    assert _ids(by_endpoint) == [other.pk]
    assert sorted(_ids(today)) == sorted([failed.pk, delivered.pk, other.pk])


def test_a_delivery_page_shows_its_attempts(admin_client):
    delivery = DeliveryFactory(status=DeliveryStatus.FAILED)
    DeliveryAttempt.objects.create(
        delivery=delivery,
        attempt_number=1,
        attempted_at=delivery.created_at,
        request_url="https://receiver.example/pb",
        status_code=503,
        latency_ms=120,
        response_excerpt="upstream unavailable",
    )

    response = admin_client.get(reverse("admin:forwarding_delivery_change", args=[delivery.pk]))

    assert response.status_code == 200
    content = response.content.decode()
    assert "upstream unavailable" in content
    assert "503" in content
    assert delivery.endpoint.secret not in content


def test_bulk_replay_requeues_finished_deliveries_and_reports_refusals(admin_client):
    endpoint = PostbackEndpointFactory()
    failed = DeliveryFactory(endpoint=endpoint, status=DeliveryStatus.FAILED, attempt_count=8)
    delivered = DeliveryFactory(endpoint=endpoint, status=DeliveryStatus.DELIVERED)
    pending = DeliveryFactory(endpoint=endpoint)

    response = admin_client.post(
        reverse("admin:forwarding_delivery_changelist"),
        {
            "action": "replay_deliveries",
            "_selected_action": [failed.pk, delivered.pk, pending.pk],
            "confirm": "yes",
        },
    )

    assert response.status_code == 302
    for row in (failed, delivered, pending):
        row.refresh_from_db()
    assert [(r.status, r.attempt_count) for r in (failed, delivered, pending)] == [
        (DeliveryStatus.PENDING, 0),
        (DeliveryStatus.PENDING, 0),
        (DeliveryStatus.PENDING, 0),
    ]
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "2 delivery(ies) queued again.",
        "1 not replayed: This delivery is already queued.",
    ]


def test_disable_action_disables_the_endpoint_and_cancels_its_queue(admin_client):
    endpoint = PostbackEndpointFactory()
    queued = DeliveryFactory(endpoint=endpoint)

    admin_client.post(
        reverse("admin:forwarding_postbackendpoint_changelist"),
        {"action": "disable_endpoints", "_selected_action": [endpoint.pk], "confirm": "yes"},
    )

    endpoint.refresh_from_db()
    queued.refresh_from_db()
    assert (endpoint.is_active, endpoint.disabled_reason) == (False, "disabled by an admin")
    assert queued.status == DeliveryStatus.CANCELLED


def test_send_test_action_queues_tests_for_the_worker_and_reports_refusals(
    admin_client, django_capture_on_commit_callbacks
):
    # given an active endpoint on a receiver that would answer, and a disabled one
    with Receiver() as receiver:
        active = PostbackEndpointFactory(url=receiver.url())
        disabled = PostbackEndpointFactory(url=receiver.url(), is_active=False)

        # when the operator sends them a test
        with django_capture_on_commit_callbacks() as after_commit:
            response = admin_client.post(
                reverse("admin:forwarding_postbackendpoint_changelist"),
                {
                    "action": "send_test",
                    "_selected_action": [active.pk, disabled.pk],
                    "confirm": "yes",
                },
            )

        # then the request sent nothing itself: one test waits for the worker's task
        assert receiver.requests == []
    test = Delivery.objects.get()
    assert (test.endpoint_id, test.event, test.status) == (active.pk, "test", "pending")
    assert len(after_commit) == 1
    assert response.status_code == 302
    change_url = reverse("admin:forwarding_delivery_change", args=[test.pk])
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f'#{active.pk}: test queued as <a href="{change_url}">delivery #{test.pk}</a>.',
        f"#{disabled.pk}: The endpoint is disabled: enable it before testing.",
    ]


def test_endpoint_pages_never_show_the_secret(admin_client):
    endpoint = PostbackEndpointFactory()

    listing = admin_client.get(reverse("admin:forwarding_postbackendpoint_changelist"))
    page = admin_client.get(reverse("admin:forwarding_postbackendpoint_change", args=[endpoint.pk]))

    assert (listing.status_code, page.status_code) == (200, 200)
    assert endpoint.secret not in listing.content.decode()
    assert endpoint.secret not in page.content.decode()
