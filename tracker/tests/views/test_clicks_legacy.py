"""The first integrations' legacy `GET /click?affiliate_id=&campaign_id=&click_id=`, answered in
JSON."""

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection
from django.test import Client

from campaigns.tests.factories import TrackingLinkFactory
from tracker.models import Click
from tracker.tests.factories import ClickFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2023, 8, 23, 15, 30, 45, 123456, tzinfo=dt.UTC)


def _legacy(client, **query):
    return client.get("/click", query, headers={"user-agent": "Legacy/1.0"})


@time_machine.travel(NOW, tick=False)
def test_legacy_click_records_the_given_click_id_and_answers_the_legacy_json(client):
    link = TrackingLinkFactory()

    response = _legacy(
        client,
        affiliate_id=link.affiliate_id,
        campaign_id=link.campaign_id,
        click_id="abc123",
        sub1="s1",
        source="legacy",
    )

    assert response.status_code == 200
    assert response.json() == {
        "status": "success",
        "success": True,
        "message": "Click tracked successfully",
        "data": {
            "click_id": "abc123",
            "affiliate_id": link.affiliate_id,
            "campaign_id": link.campaign_id,
            "timestamp": "2023-08-23T15:30:45.123Z",
        },
    }
    assert Click.objects.values(
        "click_id",
        "link_id",
        "affiliate_id",
        "campaign_id",
        "created_at",
        "ip",
        "user_agent",
        "sub1",
        "extra",
        "is_unique",
        "blocked_reason",
    ).get() == {
        "click_id": "abc123",
        "link_id": link.pk,
        "affiliate_id": link.affiliate_id,
        "campaign_id": link.campaign_id,
        "created_at": NOW,
        "ip": "127.0.0.1",
        "user_agent": "Legacy/1.0",
        "sub1": "s1",
        "extra": {"source": "legacy"},
        "is_unique": True,
        "blocked_reason": "",
    }


def test_legacy_click_repeat_is_idempotent_and_returns_the_first_timestamp(client):
    link = TrackingLinkFactory()
    ids = {"affiliate_id": link.affiliate_id, "campaign_id": link.campaign_id}

    with time_machine.travel(NOW, tick=False):
        first = _legacy(client, click_id="abc123", **ids)
    with time_machine.travel(NOW + dt.timedelta(minutes=10), tick=False):
        repeat = _legacy(client, click_id="abc123", **ids)

    assert repeat.status_code == 200
    assert repeat.json() == first.json()
    assert repeat.json()["data"]["timestamp"] == "2023-08-23T15:30:45.123Z"
    assert Click.objects.count() == 1


def test_legacy_click_without_click_id_generates_one(client):
    link = TrackingLinkFactory()

    response = _legacy(client, affiliate_id=link.affiliate_id, campaign_id=link.campaign_id)

    click = Click.objects.get()
    assert response.status_code == 200
    assert response.json()["data"]["click_id"] == click.click_id
    assert len(click.click_id) == 22


def test_legacy_click_id_of_another_link_is_409(client):
    link = TrackingLinkFactory()
    ClickFactory(click_id="abc123")

    response = _legacy(
        client, affiliate_id=link.affiliate_id, campaign_id=link.campaign_id, click_id="abc123"
    )

    assert response.status_code == 409
    assert response.json() == {
        "status": "error",
        "success": False,
        "message": "This click_id is already used by another link.",
        "code": "click_id_taken",
    }
    assert Click.objects.filter(link=link).count() == 0


@pytest.mark.parametrize(
    ("query", "code", "message"),
    [
        ({"campaign_id": "1"}, "missing_affiliate_id", "affiliate_id is required."),
        ({"affiliate_id": "1"}, "missing_campaign_id", "campaign_id is required."),
        (
            {"affiliate_id": "abc", "campaign_id": "1"},
            "invalid_affiliate_id",
            "affiliate_id must be a positive integer.",
        ),
        (
            {"affiliate_id": "1", "campaign_id": "-4"},
            "invalid_campaign_id",
            "campaign_id must be a positive integer.",
        ),
        (
            {"affiliate_id": "1", "campaign_id": "1.5"},
            "invalid_campaign_id",
            "campaign_id must be a positive integer.",
        ),
        (
            {"affiliate_id": "1", "campaign_id": "99999999999999999999"},
            "invalid_campaign_id",
            "campaign_id must be a positive integer.",
        ),
    ],
)
def test_legacy_click_missing_or_non_integer_ids_are_400(client, query, code, message):
    response = _legacy(client, **query)

    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "success": False,
        "message": message,
        "code": code,
    }
    assert Click.objects.count() == 0


def test_legacy_click_invalid_click_id_is_400(client):
    link = TrackingLinkFactory()

    response = _legacy(
        client, affiliate_id=link.affiliate_id, campaign_id=link.campaign_id, click_id="a b"
    )

    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "success": False,
        "message": "click_id must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_', '~' or '-'.",
        "code": "invalid_click_id",
    }
    assert Click.objects.count() == 0


def test_legacy_click_unknown_pair_is_404(client):
    link = TrackingLinkFactory()
    other = TrackingLinkFactory()

    response = _legacy(client, affiliate_id=link.affiliate_id, campaign_id=other.campaign_id)

    assert response.status_code == 404
    assert response.json() == {
        "status": "error",
        "success": False,
        "message": "Unknown affiliate_id or campaign_id.",
        "code": "link_not_found",
    }
    assert Click.objects.count() == 0


def test_legacy_click_costs_few_queries(client, django_assert_max_num_queries):
    link = TrackingLinkFactory()

    # link, uniqueness, savepoint, insert, release savepoint
    with django_assert_max_num_queries(5):
        response = _legacy(
            client, affiliate_id=link.affiliate_id, campaign_id=link.campaign_id, click_id="q1"
        )

    assert response.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_legacy_click_concurrent_repeats_record_one_click():
    link = TrackingLinkFactory()
    query = {"affiliate_id": link.affiliate_id, "campaign_id": link.campaign_id, "click_id": "c1"}
    barrier = threading.Barrier(8)
    answers: list[tuple[int, str]] = []

    def visit() -> None:
        try:
            barrier.wait()
            response = Client().get("/click", query)
            answers.append((response.status_code, response.json()["data"]["click_id"]))
        finally:
            connection.close()

    threads = [threading.Thread(target=visit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers == [(200, "c1")] * 8
    assert list(Click.objects.values_list("click_id", "link_id")) == [("c1", link.pk)]
