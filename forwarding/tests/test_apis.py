"""`/api/postback-endpoints` (+ test, rotate-secret) and `/api/deliveries` (+ replay)."""

import datetime as dt

import pytest
import time_machine
from drf_spectacular.generators import SchemaGenerator

from campaigns.models import Visibility
from campaigns.tests.factories import CampaignFactory, network
from config.celery import app as celery_app
from core.tests.api_bodies import (
    ADMIN_OR_AFFILIATE_FORBIDDEN,
    NOT_AUTHENTICATED,
    invalid_fields_body,
    iso,
    not_found,
)
from forwarding.models import Delivery, DeliveryAttempt, DeliveryStatus, PostbackEndpoint
from forwarding.signing import SECRET_PREFIX
from forwarding.tests.factories import (
    DeliveryFactory,
    PostbackEndpointFactory,
    standard_webhook_verify,
)
from tests.support.http import Receiver, dns_stub

pytestmark = pytest.mark.django_db

ENDPOINT_NOT_FOUND = not_found("Postback endpoint not found.")
DELIVERY_NOT_FOUND = not_found("Delivery not found.")
NOW = dt.datetime(2026, 4, 1, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _stub_dns(monkeypatch):
    dns_stub(monkeypatch, {})


@pytest.fixture
def eager_celery():
    """Tasks run inline when published, as an idle worker would run them at once."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def endpoint_body(endpoint: PostbackEndpoint, **changes) -> dict:
    endpoint.refresh_from_db()
    body = {
        "id": endpoint.pk,
        "affiliate_id": endpoint.affiliate_id,
        "name": endpoint.name,
        "url": endpoint.url,
        "method": endpoint.method,
        "events": endpoint.events,
        "campaign": endpoint.campaign_id,
        "conversion_events": endpoint.conversion_events,
        "is_active": endpoint.is_active,
        "failing_since": None,
        "last_success_at": iso(endpoint.last_success_at),
        "disabled_at": None,
        "disabled_reason": "",
        "previous_secret_expires_at": iso(endpoint.previous_secret_expires_at),
        "created_at": iso(endpoint.created_at),
        "updated_at": iso(endpoint.updated_at),
    }
    body.update(changes)
    return body


# --- endpoints --------------------------------------------------------------------------------


def test_affiliate_adds_an_endpoint_and_sees_its_secret_once():
    net = network()
    client = net.client_as("affiliate1")

    created = client.post(
        "/api/postback-endpoints",
        {
            "name": "My tracker",
            "url": "https://receiver.example/pb?cid={click_id}&p={payout}",
            "method": "POST",
            "events": ["reversed", "approved"],
            "campaign": net.campaign1.pk,
        },
        format="json",
    )
    listed = client.get("/api/postback-endpoints")

    endpoint = PostbackEndpoint.objects.get()
    assert created.status_code == 201
    assert created.json() == endpoint_body(
        endpoint,
        name="My tracker",
        url="https://receiver.example/pb?cid={click_id}&p={payout}",
        method="POST",
        events=["approved", "reversed"],
        campaign=net.campaign1.pk,
        is_active=True,
        secret=endpoint.secret,
    )
    assert endpoint.secret.startswith(SECRET_PREFIX)
    assert endpoint.affiliate_id == net.affiliate1.pk
    assert listed.json() == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [endpoint_body(endpoint)],
    }


def test_endpoint_defaults_to_get_on_approved_for_every_campaign():
    net = network()

    response = net.client_as("affiliate1").post(
        "/api/postback-endpoints", {"url": "https://receiver.example/{click_id}"}, format="json"
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["method"], body["events"], body["campaign"]) == ("GET", ["approved"], None)


@pytest.mark.parametrize(
    ("payload", "code", "field", "message_part"),
    [
        ({"url": "https://r.example/?x={revenue}"}, "invalid_url", "url", "revenue"),
        ({"url": "http://10.0.0.5/hook"}, "unsafe_url", "url", "10.0.0.5"),
        ({"url": "https://r.example/", "events": ["sold"]}, "invalid", "events", "sold"),
    ],
)
def test_endpoint_create_refuses_bad_fields_naming_them(payload, code, field, message_part):
    net = network()

    response = net.client_as("affiliate1").post("/api/postback-endpoints", payload, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert message_part in str(response.json()["fields"][field])
    assert not PostbackEndpoint.objects.exists()


def test_endpoint_cannot_target_a_campaign_the_affiliate_cannot_see():
    net = network()
    private = CampaignFactory(advertiser=net.advertiser2, visibility=Visibility.PRIVATE)

    response = net.client_as("affiliate1").post(
        "/api/postback-endpoints",
        {"url": "https://r.example/{click_id}", "campaign": private.pk},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "code": "invalid_campaign",
        "message": "Campaign not found.",
        "fields": {"campaign": ["Campaign not found."]},
    }


def test_admin_adds_an_endpoint_for_a_named_affiliate():
    net = network()
    client = net.client_as("admin")
    payload = {"url": "https://r.example/{click_id}"}

    missing = client.post("/api/postback-endpoints", payload, format="json")
    unknown = client.post(
        "/api/postback-endpoints", {**payload, "affiliate_id": net.advertiser1.pk}, format="json"
    )
    created = client.post(
        "/api/postback-endpoints", {**payload, "affiliate_id": net.affiliate2.pk}, format="json"
    )

    assert (missing.status_code, missing.json()["code"]) == (400, "missing_affiliate_id")
    assert (unknown.status_code, unknown.json()["code"]) == (400, "invalid_affiliate")
    assert created.status_code == 201
    assert created.json()["affiliate_id"] == net.affiliate2.pk


@pytest.mark.parametrize(
    ("role", "status_code", "expected"),
    [
        ("anonymous", 401, NOT_AUTHENTICATED),
        ("advertiser1", 403, ADMIN_OR_AFFILIATE_FORBIDDEN),
        ("pending_affiliate", 403, ADMIN_OR_AFFILIATE_FORBIDDEN),
    ],
)
def test_endpoint_list_and_create_refusals(role, status_code, expected):
    net = network()
    PostbackEndpointFactory(affiliate=net.affiliate1)
    client = net.client_as(role)

    listed = client.get("/api/postback-endpoints")
    created = client.post(
        "/api/postback-endpoints", {"url": "https://r.example/{click_id}"}, format="json"
    )

    assert (listed.status_code, created.status_code) == (status_code, status_code)
    assert listed.json() == created.json() == expected
    assert PostbackEndpoint.objects.count() == 1


def test_endpoint_list_scopes_by_role():
    net = network()
    mine = PostbackEndpointFactory(affiliate=net.affiliate1)
    theirs = PostbackEndpointFactory(affiliate=net.affiliate2)

    ids = {
        role: [
            row["id"]
            for row in net.client_as(role).get("/api/postback-endpoints").json()["results"]
        ]
        for role in ("admin", "affiliate1", "affiliate2")
    }

    assert ids == {
        "admin": [theirs.pk, mine.pk],
        "affiliate1": [mine.pk],
        "affiliate2": [theirs.pk],
    }


def test_owner_updates_and_deletes_an_endpoint():
    net = network()
    endpoint = PostbackEndpointFactory(affiliate=net.affiliate1)
    DeliveryFactory(endpoint=endpoint)
    client = net.client_as("affiliate1")

    patched = client.patch(
        f"/api/postback-endpoints/{endpoint.pk}",
        {"events": ["pending", "approved"], "is_active": False},
        format="json",
    )
    deleted = client.delete(f"/api/postback-endpoints/{endpoint.pk}")

    assert patched.status_code == 200
    assert patched.json()["events"] == ["approved", "pending"]
    assert patched.json()["is_active"] is False
    assert "secret" not in patched.json()
    assert deleted.status_code == 204
    assert not PostbackEndpoint.objects.exists()
    assert not Delivery.objects.exists()


@pytest.mark.parametrize(
    ("role", "status_code", "expected"),
    [
        ("anonymous", 401, NOT_AUTHENTICATED),
        ("advertiser1", 403, ADMIN_OR_AFFILIATE_FORBIDDEN),
        ("affiliate2", 404, ENDPOINT_NOT_FOUND),
    ],
)
def test_endpoint_changes_by_others_change_nothing(role, status_code, expected):
    net = network()
    endpoint = PostbackEndpointFactory(affiliate=net.affiliate1)
    before = PostbackEndpoint.objects.filter(pk=endpoint.pk).values().get()
    client = net.client_as(role)
    base = f"/api/postback-endpoints/{endpoint.pk}"

    responses = [
        client.patch(base, {"is_active": False}, format="json"),
        client.delete(base),
        client.post(f"{base}/test"),
        client.post(f"{base}/rotate-secret"),
    ]

    assert [r.status_code for r in responses] == [status_code] * 4
    assert [r.json() for r in responses] == [expected] * 4
    assert PostbackEndpoint.objects.filter(pk=endpoint.pk).values().get() == before
    assert not Delivery.objects.exists()


def test_secret_rotation_returns_the_new_secret_once():
    net = network()
    endpoint = PostbackEndpointFactory(affiliate=net.affiliate1)
    old_secret = endpoint.secret

    with time_machine.travel(NOW, tick=False):
        response = net.client_as("affiliate1").post(
            f"/api/postback-endpoints/{endpoint.pk}/rotate-secret"
        )

    endpoint.refresh_from_db()
    assert response.status_code == 200
    assert response.json() == endpoint_body(
        endpoint,
        previous_secret_expires_at="2026-04-02T08:00:00Z",
        updated_at="2026-04-01T08:00:00Z",
        secret=endpoint.secret,
    )
    assert endpoint.secret != old_secret
    assert endpoint.previous_secret == old_secret


def _test_payload(endpoint: PostbackEndpoint, event_id: str) -> dict[str, str]:
    return {
        "click_id": "test-click",
        "transaction_id": "test-transaction",
        "conversion_id": "0",
        "event_id": event_id,
        "status": "test",
        "payout": "1.0000",
        "currency": "USD",
        "points": "0.0000",
        "campaign_id": "0",
        "offer_id": "0",
        "affiliate_id": str(endpoint.affiliate_id),
        "sub1": "",
        "sub2": "",
        "sub3": "",
        "sub4": "",
        "sub5": "",
        "user_id": "",
        "country": "",
        "timestamp": str(int(NOW.timestamp())),
    }


def test_send_test_answers_202_at_once_and_the_result_is_polled_from_the_delivery(
    eager_celery, django_capture_on_commit_callbacks
):
    # given an endpoint on a receiver
    net = network()
    client = net.client_as("affiliate1")
    with Receiver(respond=lambda request, index: (202, {}, b"thanks")) as receiver:
        endpoint = PostbackEndpointFactory(
            affiliate=net.affiliate1, url=receiver.url("/pb?s={status}&c={click_id}")
        )

        # when the owner asks for a test
        with (
            time_machine.travel(NOW, tick=False),
            django_capture_on_commit_callbacks() as after_commit,
        ):
            response = client.post(f"/api/postback-endpoints/{endpoint.pk}/test")
        sent_during_the_request = list(receiver.requests)
        # ... and the worker runs the task queued after commit
        for callback in after_commit:
            callback()
        polled = client.get(response["Location"])

        # then the answer came before anything was sent, and the poll shows the attempt
        assert sent_during_the_request == []
        assert [r.query for r in receiver.requests] == [{"s": "test", "c": "test-click"}]
        assert standard_webhook_verify(
            secret=endpoint.secret, headers=receiver.requests[0].headers, body=b""
        )
    delivery = Delivery.objects.get()
    attempt = DeliveryAttempt.objects.get()
    poll_url = f"/api/deliveries/{delivery.pk}"
    queued = {
        "id": delivery.pk,
        "endpoint_id": endpoint.pk,
        "conversion_id": None,
        "event_id": str(delivery.event_id),
        "event": "test",
        "status": "pending",
        "attempt_count": 0,
        "max_attempts": 1,
        "next_attempt_at": "2026-04-01T08:00:00Z",
        "delivered_at": None,
        "last_status_code": None,
        "last_error": "",
        "payload": _test_payload(endpoint, str(delivery.event_id)),
        "created_at": "2026-04-01T08:00:00Z",
        "updated_at": "2026-04-01T08:00:00Z",
        "attempts": [],
    }
    assert (response.status_code, response["Location"]) == (202, poll_url)
    assert response.json() == {**queued, "poll_url": poll_url}
    assert polled.status_code == 200
    assert polled.json() == {
        **queued,
        "status": "delivered",
        "attempt_count": 1,
        "next_attempt_at": None,
        "delivered_at": iso(delivery.delivered_at),
        "last_status_code": 202,
        "updated_at": iso(delivery.updated_at),
        "attempts": [
            {
                "attempt_number": 1,
                "attempted_at": iso(attempt.attempted_at),
                "request_url": f"{receiver.url('/pb')}?s=test&c=test-click",
                "status_code": 202,
                "latency_ms": attempt.latency_ms,
                "response_excerpt": "thanks",
                "error": "",
                "is_success": True,
            }
        ],
    }


def test_send_test_refuses_a_sixth_waiting_test_of_the_affiliate():
    # given five tests of the affiliate still waiting for the worker
    net = network()
    endpoint = PostbackEndpointFactory(affiliate=net.affiliate1)
    client = net.client_as("affiliate1")
    answers = [
        client.post(f"/api/postback-endpoints/{endpoint.pk}/test").status_code for _ in range(5)
    ]

    # when it asks for a sixth
    response = client.post(f"/api/postback-endpoints/{endpoint.pk}/test")

    # then it is told to wait, and nothing more is queued
    assert answers == [202] * 5
    assert response.status_code == 429
    assert response.json() == {
        "status": "error",
        "code": "too_many_tests",
        "message": (
            "5 tests are still waiting to be sent: wait for their results before sending another."
        ),
    }
    assert Delivery.objects.count() == 5


def test_send_test_refuses_an_inactive_endpoint():
    net = network()
    endpoint = PostbackEndpointFactory(affiliate=net.affiliate1, is_active=False)

    response = net.client_as("affiliate1").post(f"/api/postback-endpoints/{endpoint.pk}/test")

    assert response.status_code == 409
    assert response.json() == {
        "status": "error",
        "code": "endpoint_inactive",
        "message": "The endpoint is disabled: enable it before testing.",
    }


# --- deliveries -------------------------------------------------------------------------------


def test_delivery_list_has_attempts_and_is_scoped():
    net = network()
    endpoint1 = PostbackEndpointFactory(affiliate=net.affiliate1)
    endpoint2 = PostbackEndpointFactory(affiliate=net.affiliate2)
    mine = DeliveryFactory(endpoint=endpoint1, status=DeliveryStatus.FAILED, attempt_count=1)
    attempt = DeliveryAttempt.objects.create(
        delivery=mine,
        attempt_number=1,
        attempted_at=NOW,
        request_url="https://receiver.example/postback?cid=CLICK-1&status=test",
        status_code=500,
        latency_ms=12,
        response_excerpt="boom",
    )
    theirs = DeliveryFactory(endpoint=endpoint2)

    mine_body = net.client_as("affiliate1").get("/api/deliveries").json()
    admin_ids = [
        row["id"] for row in net.client_as("admin").get("/api/deliveries").json()["results"]
    ]

    mine.refresh_from_db()
    assert mine_body == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [
            {
                "id": mine.pk,
                "endpoint_id": endpoint1.pk,
                "conversion_id": None,
                "event_id": str(mine.event_id),
                "event": "test",
                "status": "failed",
                "attempt_count": 1,
                "max_attempts": 8,
                "next_attempt_at": iso(mine.next_attempt_at),
                "delivered_at": None,
                "last_status_code": None,
                "last_error": "",
                "payload": {
                    "click_id": "CLICK-1",
                    "status": "test",
                    "event_id": str(mine.event_id),
                },
                "created_at": iso(mine.created_at),
                "updated_at": iso(mine.updated_at),
                "attempts": [
                    {
                        "attempt_number": 1,
                        "attempted_at": iso(attempt.attempted_at),
                        "request_url": attempt.request_url,
                        "status_code": 500,
                        "latency_ms": 12,
                        "response_excerpt": "boom",
                        "error": "",
                        "is_success": False,
                    }
                ],
            }
        ],
    }
    assert admin_ids == [theirs.pk, mine.pk]


def test_delivery_detail_shows_one_delivery_with_its_attempts():
    net = network()
    delivery = DeliveryFactory(
        endpoint=PostbackEndpointFactory(affiliate=net.affiliate1),
        status=DeliveryStatus.FAILED,
        attempt_count=1,
        max_attempts=1,
        next_attempt_at=None,
    )
    attempt = DeliveryAttempt.objects.create(
        delivery=delivery,
        attempt_number=1,
        attempted_at=NOW,
        request_url="https://receiver.example/postback?cid=CLICK-1&status=test",
        error="timeout after 15 s",
    )

    mine = net.client_as("affiliate1").get(f"/api/deliveries/{delivery.pk}")
    admins = net.client_as("admin").get(f"/api/deliveries/{delivery.pk}")

    delivery.refresh_from_db()
    expected = {
        "id": delivery.pk,
        "endpoint_id": delivery.endpoint_id,
        "conversion_id": None,
        "event_id": str(delivery.event_id),
        "event": "test",
        "status": "failed",
        "attempt_count": 1,
        "max_attempts": 1,
        "next_attempt_at": None,
        "delivered_at": None,
        "last_status_code": None,
        "last_error": "",
        "payload": {"click_id": "CLICK-1", "status": "test", "event_id": str(delivery.event_id)},
        "created_at": iso(delivery.created_at),
        "updated_at": iso(delivery.updated_at),
        "attempts": [
            {
                "attempt_number": 1,
                "attempted_at": "2026-04-01T08:00:00Z",
                "request_url": attempt.request_url,
                "status_code": None,
                "latency_ms": 0,
                "response_excerpt": "",
                "error": "timeout after 15 s",
                "is_success": False,
            }
        ],
    }
    assert (mine.status_code, mine.json()) == (200, expected)
    assert (admins.status_code, admins.json()) == (200, expected)


@pytest.mark.parametrize(
    ("role", "status_code", "expected"),
    [
        ("anonymous", 401, NOT_AUTHENTICATED),
        ("advertiser1", 403, ADMIN_OR_AFFILIATE_FORBIDDEN),
        ("affiliate2", 404, DELIVERY_NOT_FOUND),
    ],
)
def test_delivery_detail_refusals(role, status_code, expected):
    net = network()
    delivery = DeliveryFactory(endpoint=PostbackEndpointFactory(affiliate=net.affiliate1))

    response = net.client_as(role).get(f"/api/deliveries/{delivery.pk}")

    assert (response.status_code, response.json()) == (status_code, expected)


def test_delivery_list_filters_by_status():
    net = network()
    endpoint = PostbackEndpointFactory(affiliate=net.affiliate1)
    failed = DeliveryFactory(endpoint=endpoint, status=DeliveryStatus.FAILED)
    DeliveryFactory(endpoint=endpoint)

    response = net.client_as("affiliate1").get("/api/deliveries", {"status": "failed"})

    assert [row["id"] for row in response.json()["results"]] == [failed.pk]


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        # Schemathesis' find: PostgreSQL refuses a UTC offset beyond 15:59, this was a 500.
        (
            {"created_before": "0242-11-21T05:18:22.624913+17:40"},
            {
                "created_before": [
                    "An RFC 3339 date-time such as 2026-03-10T09:30:00Z, with a UTC offset "
                    "within +-15:59."
                ]
            },
        ),
        ({"endpoint": "x"}, {"endpoint": ["A positive integer id."]}),
        ({"page_size": "0"}, {"page_size": ["A positive integer."]}),
    ],
)
def test_delivery_list_refuses_malformed_filters_naming_them(params, fields):
    net = network()

    response = net.client_as("affiliate1").get("/api/deliveries", params)

    assert response.status_code == 400
    assert response.json() == invalid_fields_body(fields)


def test_delivery_list_filters_by_offset_datetimes():
    net = network()
    endpoint = PostbackEndpointFactory(affiliate=net.affiliate1)
    at_now = DeliveryFactory(endpoint=endpoint, created_at=NOW)
    later = DeliveryFactory(endpoint=endpoint, created_at=NOW + dt.timedelta(minutes=1))
    client = net.client_as("affiliate1")

    def ids(**params) -> list[int]:
        response = client.get("/api/deliveries", params)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    # 08:01Z is 00:00 at -08:01, and 00:00 the next day at +15:59
    assert ids(created_after="2026-04-01T00:00:00-08:01") == [later.pk]
    assert ids(created_before="2026-04-02T00:00:00+15:59") == [at_now.pk]


def test_endpoint_list_refuses_a_junk_boolean():
    net = network()
    PostbackEndpointFactory(affiliate=net.affiliate1)

    response = net.client_as("affiliate1").get("/api/postback-endpoints", {"is_active": "-58800"})

    # it was read as "no filter" and listed every endpoint
    assert response.status_code == 400
    assert response.json()["fields"] == {"is_active": ["Use true or false."]}


def test_endpoint_list_options_describe_the_create_input():
    net = network()

    response = net.client_as("affiliate1").options("/api/postback-endpoints")

    # without a serializer class DRF's metadata raised: a 500
    assert response.status_code == 200
    assert set(response.json()["actions"]["POST"]) == {
        "name",
        "url",
        "method",
        "events",
        "campaign",
        "is_active",
        "conversion_events",
        "affiliate_id",
    }


def test_delivery_list_queries_do_not_grow_with_rows(django_assert_max_num_queries):
    net = network()
    endpoint = PostbackEndpointFactory(affiliate=net.affiliate1)
    client = net.client_as("affiliate1")

    def add_delivery() -> None:
        delivery = DeliveryFactory(endpoint=endpoint)
        for number in (1, 2):
            DeliveryAttempt.objects.create(
                delivery=delivery, attempt_number=number, attempted_at=NOW, request_url="x"
            )

    add_delivery()
    with django_assert_max_num_queries(5) as few:
        client.get("/api/deliveries")
    baseline = len(few.captured_queries)
    for _ in range(8):
        add_delivery()

    with django_assert_max_num_queries(baseline):
        response = client.get("/api/deliveries")

    assert response.json()["count"] == 9


@pytest.mark.parametrize(
    ("role", "status_code", "expected"),
    [
        ("anonymous", 401, NOT_AUTHENTICATED),
        ("advertiser1", 403, ADMIN_OR_AFFILIATE_FORBIDDEN),
    ],
)
def test_delivery_list_refusals(role, status_code, expected):
    net = network()
    DeliveryFactory(endpoint=PostbackEndpointFactory(affiliate=net.affiliate1))

    response = net.client_as(role).get("/api/deliveries")

    assert response.status_code == status_code
    assert response.json() == expected


def test_owner_replays_a_failed_delivery_once():
    net = network()
    delivery = DeliveryFactory(
        endpoint=PostbackEndpointFactory(affiliate=net.affiliate1),
        status=DeliveryStatus.FAILED,
        attempt_count=8,
        next_attempt_at=None,
    )
    client = net.client_as("affiliate1")

    replayed = client.post(f"/api/deliveries/{delivery.pk}/replay")
    again = client.post(f"/api/deliveries/{delivery.pk}/replay")

    delivery.refresh_from_db()
    assert replayed.status_code == 200
    assert (replayed.json()["status"], replayed.json()["attempt_count"]) == ("pending", 0)
    assert (delivery.status, delivery.attempt_count) == (DeliveryStatus.PENDING, 0)
    assert again.status_code == 409
    assert again.json() == {
        "status": "error",
        "code": "delivery_pending",
        "message": "This delivery is already queued.",
    }


def test_admin_replays_any_delivery():
    net = network()
    delivery = DeliveryFactory(
        endpoint=PostbackEndpointFactory(affiliate=net.affiliate2),
        status=DeliveryStatus.DELIVERED,
    )

    response = net.client_as("admin").post(f"/api/deliveries/{delivery.pk}/replay")

    assert (response.status_code, response.json()["status"]) == (200, "pending")


@pytest.mark.parametrize(
    ("role", "status_code", "expected"),
    [
        ("anonymous", 401, NOT_AUTHENTICATED),
        ("advertiser1", 403, ADMIN_OR_AFFILIATE_FORBIDDEN),
        ("affiliate2", 404, DELIVERY_NOT_FOUND),
    ],
)
def test_replay_refusals_change_nothing(role, status_code, expected):
    net = network()
    delivery = DeliveryFactory(
        endpoint=PostbackEndpointFactory(affiliate=net.affiliate1),
        status=DeliveryStatus.FAILED,
        attempt_count=8,
    )

    response = net.client_as(role).post(f"/api/deliveries/{delivery.pk}/replay")

    assert response.status_code == status_code
    assert response.json() == expected
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count) == (DeliveryStatus.FAILED, 8)


def test_the_schema_documents_the_queued_test_and_where_to_poll_it():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    test = schema["paths"]["/api/postback-endpoints/{endpoint_id}/test"]["post"]
    detail = schema["paths"]["/api/deliveries/{delivery_id}"]["get"]

    def ref(operation, code: str) -> str:
        return operation["responses"][code]["content"]["application/json"]["schema"]["$ref"]

    assert sorted(test["responses"]) == ["202", "401", "403", "404", "409", "429"]
    assert ref(test, "202") == "#/components/schemas/EndpointTest"
    assert ref(test, "429") == "#/components/schemas/Error"
    assert "too_many_tests" in test["responses"]["429"]["description"]
    schemas = schema["components"]["schemas"]
    extra = set(schemas["EndpointTest"]["properties"]) - set(schemas["Delivery"]["properties"])
    assert extra == {"poll_url"}
    assert ref(detail, "200") == "#/components/schemas/Delivery"


def test_endpoint_conversion_events_are_set_read_and_changed():
    net = network()
    client = net.client_as("affiliate1")

    created = client.post(
        "/api/postback-endpoints",
        {
            "url": "https://receiver.example/pb?cid={click_id}",
            "conversion_events": ["Sale", "lead"],
        },
        format="json",
    )
    endpoint = PostbackEndpoint.objects.get()
    changed = client.patch(
        f"/api/postback-endpoints/{endpoint.pk}", {"conversion_events": []}, format="json"
    )
    refused = client.patch(
        f"/api/postback-endpoints/{endpoint.pk}", {"conversion_events": ["no good"]}, format="json"
    )

    assert (created.status_code, created.json()["conversion_events"]) == (201, ["sale", "lead"])
    assert (changed.status_code, changed.json()) == (
        200,
        endpoint_body(endpoint, conversion_events=[]),
    )
    assert (refused.status_code, refused.json()["code"]) == (400, "invalid_conversion_events")
    endpoint.refresh_from_db()
    assert endpoint.conversion_events == []
