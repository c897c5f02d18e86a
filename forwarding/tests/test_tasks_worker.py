"""Forwarding end to end with real Celery workers (subprocesses, `celery -A config worker -B`) on a
Redis server started by the test, real HTTP receivers on loopback, and the test database.

Postbacks go through the Django test client in this process, so their deliveries are published
after commit by this process's Celery app (pointed at the test's Redis); the workers send them and
their embedded beat runs the sweeper every second (tests/support/settings_celery_worker.py). Every
wait polls the database under a deadline.
"""

import json
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections
from django.test import Client
from django.utils import timezone

from forwarding.models import Delivery, DeliveryAttempt, DeliveryStatus, EndpointMethod
from forwarding.tests.factories import PostbackEndpointFactory, standard_webhook_verify
from tests.support.celery_worker import RedisServer, Workers, celery_broker_point, wait_until
from tests.support.http import Receiver
from tracker.tests.factories import postback_world

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ALL_MACROS = [
    "click_id",
    "transaction_id",
    "conversion_id",
    "event_id",
    "status",
    "payout",
    "currency",
    "points",
    "campaign_id",
    "offer_id",
    "affiliate_id",
    "sub1",
    "sub2",
    "sub3",
    "sub4",
    "sub5",
    "user_id",
    "country",
    "timestamp",
    "event",
    "event_name",
]


@pytest.fixture
def redis_server(tmp_path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    previous = celery_broker_point(server.url)
    try:
        yield server
    finally:
        celery_broker_point(previous)
        server.stop()


@pytest.fixture
def workers(redis_server, tmp_path) -> Iterator[Workers]:
    pool = Workers(broker_url=redis_server.url, directory=tmp_path)
    try:
        yield pool
    finally:
        pool.kill_all()


def _delivered() -> int:
    return Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count()


def test_a_real_worker_forwards_each_status_change_once_with_every_macro_and_a_valid_signature(
    workers,
):
    with Receiver() as receiver:
        # given a click, and a GET endpoint with every macro and a POST endpoint
        world = postback_world()
        campaign = world.campaign(external_offer_id="OFF-1")
        click = world.click(
            sub1="a/b", sub2="c d", sub3="e&f", sub4="ü", sub5="5", user_id="U-7", country="FR"
        )
        query = "&".join(f"{name}={{{name}}}" for name in ALL_MACROS)
        get_endpoint = PostbackEndpointFactory(
            affiliate=world.affiliate,
            url=receiver.url(f"/get?{query}"),
            events=["approved", "reversed"],
        )
        post_endpoint = PostbackEndpointFactory(
            affiliate=world.affiliate,
            url=receiver.url("/post"),
            method=EndpointMethod.POST,
            events=["approved", "reversed"],
        )
        workers.start("w1")

        # when the partner approves (twice) then reverses the conversion
        client = Client()
        results = [
            client.get(world.postback_path, {"click_id": click.click_id, **params}).json()
            for params in (
                {"status": "approved", "payout": "5.00", "transaction_id": "T-1"},
                {"status": "approved", "payout": "5.00", "transaction_id": "T-1"},
                {"status": "reversed", "transaction_id": "T-1"},
            )
        ]
        wait_until(lambda: _delivered() == 4, timeout=45, what="4 deliveries")

        # then each endpoint got each status change exactly once, every macro filled and signed
        assert [r["result"] for r in results] == ["created", "duplicate", "updated"]
        deliveries = {
            (d.endpoint_id, d.event): d for d in Delivery.objects.select_related("endpoint")
        }
        assert sorted(deliveries) == sorted(
            (endpoint.pk, event)
            for endpoint in (get_endpoint, post_endpoint)
            for event in ("approved", "reversed")
        )
        assert Counter(r.path for r in receiver.requests) == {"/get": 2, "/post": 2}
        by_event_id = {r.headers["webhook-id"]: r for r in receiver.requests}
        assert len(by_event_id) == 4
        for (endpoint_id, _event), delivery in deliveries.items():
            request = by_event_id[str(delivery.event_id)]
            values = request.query if endpoint_id == get_endpoint.pk else json.loads(request.body)
            assert values == delivery.payload
            assert set(values) == set(ALL_MACROS)
            assert standard_webhook_verify(
                secret=delivery.endpoint.secret, headers=request.headers, body=request.body
            )
            assert delivery.attempts.get().is_success
        approved = deliveries[(get_endpoint.pk, "approved")].payload
        assert {k: approved[k] for k in ("status", "payout", "points", "sub1", "sub4")} == {
            "status": "approved",
            "payout": "4.0000",
            "points": "4.0000",
            "sub1": "a/b",
            "sub4": "ü",
        }
        assert (approved["offer_id"], approved["campaign_id"]) == ("OFF-1", str(campaign.pk))
        assert deliveries[(get_endpoint.pk, "reversed")].payload["status"] == "reversed"


CONVERSIONS = 200
CHUNK = 50


def _in_flight() -> bool:
    return Delivery.objects.filter(
        status=DeliveryStatus.PENDING, locked_until__gt=timezone.now()
    ).exists()


def test_chaos_200_conversions_survive_two_killed_workers_and_a_redis_outage(
    workers, redis_server, caplog
):
    # given 200 clicks and an endpoint on a slowish receiver
    def slow_ok(request, index):
        threading.Event().wait(0.05)  # the receiver's own latency keeps requests in flight
        return 200, {}, b"ok"

    with Receiver(respond=slow_ok) as receiver:
        world = postback_world()
        world.campaign()
        clicks = [world.click() for _ in range(CONVERSIONS)]
        PostbackEndpointFactory(
            affiliate=world.affiliate, url=receiver.url("/hook?c={click_id}&s={status}")
        )
        answers: list[int] = []

        def postback(click) -> int:
            try:
                return (
                    Client()
                    .get(world.postback_path, {"click_id": click.click_id, "payout": "1.00"})
                    .status_code
                )
            finally:
                connections.close_all()

        def post_chunk(executor, number: int) -> None:
            chunk = clicks[number * CHUNK : (number + 1) * CHUNK]
            answers.extend(executor.map(postback, chunk))

        with ThreadPoolExecutor(max_workers=8) as executor:
            # when conversions stream in while a worker is killed mid-send ...
            workers.start("w1")
            post_chunk(executor, 0)
            wait_until(_in_flight, timeout=30, what="w1 to claim a delivery")
            workers.kill("w1")
            workers.start("w2")
            post_chunk(executor, 1)
            # ... Redis goes away while postbacks keep arriving ...
            redis_server.stop()
            post_chunk(executor, 2)
            redis_server.start()
            # ... and the second worker is killed mid-send too
            wait_until(_in_flight, timeout=30, what="w2 to claim a delivery")
            workers.kill("w2")
            workers.start("w3")
            post_chunk(executor, 3)

        wait_until(lambda: _delivered() == CONVERSIONS, timeout=60, what="200 deliveries")

        # then every postback was answered 200 and every conversion delivered exactly once
        assert answers == [200] * CONVERSIONS
        assert Delivery.objects.count() == CONVERSIONS
        successes = Counter(
            DeliveryAttempt.objects.filter(is_success=True).values_list("delivery_id", flat=True)
        )
        assert len(successes) == CONVERSIONS
        assert set(successes.values()) == {1}
        event_ids = {str(e) for e in Delivery.objects.values_list("event_id", flat=True)}
        assert {r.headers["webhook-id"] for r in receiver.requests} == event_ids
        assert {r.query["c"] for r in receiver.requests} == {c.click_id for c in clicks}
        # the outage was real: publishing failed and was swallowed
        assert any("could not publish" in r.getMessage() for r in caplog.records)


TESTS = 4  # as many as the worker's processes: all four are held by the receiver at once


def test_endpoint_tests_answer_at_once_while_a_slow_receiver_holds_the_worker(workers):
    """Endpoint tests against a receiver that answers only when the test lets it: the web
    requests answer before any receiver answered, the site keeps serving while the worker waits,
    and the answers show in the API and on the portal page once the receiver replies."""
    release = threading.Event()

    def slow(request, index):
        release.wait(timeout=60)  # held until the test releases it (or gives up)
        return 200, {}, b"slow but fine"

    with Receiver(respond=slow) as receiver:
        try:
            # given an affiliate's endpoint on that receiver, and a worker
            world = postback_world()
            world.campaign()
            endpoint = PostbackEndpointFactory(
                affiliate=world.affiliate, url=receiver.url("/slow?s={status}")
            )
            workers.start("w1")
            api = Client()
            api.force_login(world.affiliate.user)

            # when the affiliate asks for four tests at once
            def press(_: int):
                try:
                    client = Client()
                    client.force_login(world.affiliate.user)
                    return client.post(f"/api/postback-endpoints/{endpoint.pk}/test")
                finally:
                    connections.close_all()

            with ThreadPoolExecutor(max_workers=TESTS) as executor:
                answers = list(executor.map(press, range(TESTS)))

            # then all four were answered 202 before the receiver answered anything ...
            assert [a.status_code for a in answers] == [202] * TESTS
            assert [a.json()["status"] for a in answers] == ["pending"] * TESTS
            # ... the worker holds all four requests at the receiver ...
            wait_until(lambda: len(receiver.requests) == TESTS, timeout=30, what="4 requests")
            # ... and meanwhile the site answers clicks, polls and the test page at once
            link = world.links["main"]
            click = Client().get(f"/c/{link.token}")
            polled = api.get(answers[0]["Location"]).json()
            test_id = answers[0].json()["id"]
            waiting = api.get(f"/portal/affiliate/endpoints/{endpoint.pk}/tests/{test_id}/")
            assert click.status_code == 302
            assert (polled["status"], polled["attempts"]) == ("pending", [])
            assert "Sending…" in waiting.content.decode()
        finally:
            release.set()

        # when the receiver answers, every test gets its result
        wait_until(lambda: _delivered() == TESTS, timeout=45, what="4 delivered tests")
        done = api.get(answers[0]["Location"]).json()
        shown = api.get(f"/portal/affiliate/endpoints/{endpoint.pk}/tests/{test_id}/")

    assert (done["status"], done["last_status_code"]) == ("delivered", 200)
    [attempt] = done["attempts"]
    assert (attempt["status_code"], attempt["response_excerpt"], attempt["is_success"]) == (
        200,
        "slow but fine",
        True,
    )
    html = shown.content.decode()
    assert f"<dd>HTTP 200 in {attempt['latency_ms']} ms</dd>" in html
    assert "<dd><pre>slow but fine</pre></dd>" in html
    assert {r.headers["webhook-id"] for r in receiver.requests} == {
        str(d.event_id) for d in Delivery.objects.all()
    }
    assert all(
        standard_webhook_verify(secret=endpoint.secret, headers=r.headers, body=b"")
        for r in receiver.requests
    )
