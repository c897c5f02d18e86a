"""The postback sandbox runs the whole service and leaves nothing behind: every table's row
count and the broker's queues are the same before and after, and its answer is what the real
postback then does."""

from collections.abc import Iterator
from decimal import Decimal

import pytest
import redis
from django.db import connection
from django.test import Client

from campaigns.events import event_create
from campaigns.models import CapPeriod, CapScope
from campaigns.pricing_rules import pricing_rule_create
from campaigns.tests.factories import CapFactory
from forwarding.tests.factories import PostbackEndpointFactory
from tests.support.celery_worker import RedisServer, celery_broker_point
from tracker.models import Conversion
from tracker.services.sandbox import postback_sandbox
from tracker.tests.factories import postback_world

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def broker(tmp_path) -> Iterator[redis.Redis]:
    server = RedisServer(tmp_path)
    server.start()
    previous = celery_broker_point(server.url)
    try:
        yield redis.Redis.from_url(server.url)
    finally:
        celery_broker_point(previous)
        server.stop()


def _row_counts() -> dict[str, int]:
    counts = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names()):
            cursor.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608 - our own table names
            counts[table] = cursor.fetchone()[0]
    return counts


def _queued(client: redis.Redis) -> int:
    return sum(client.llen(key) for key in client.scan_iter() if client.type(key) == b"list")


def _world():
    world = postback_world()
    campaign = world.campaign(hold_days=0)
    event_create(
        campaign=campaign,
        data={"code": "sale", "name": "Sale", "payout_type": "revshare", "revshare_percent": "30"},
    )
    rule = pricing_rule_create(
        campaign=campaign,
        data={
            "event": "sale",
            "affiliate": world.affiliate.pk,
            "payout_type": "revshare",
            "revshare_percent": "40",
        },
    )
    CapFactory(campaign=campaign, scope=CapScope.CAMPAIGN, period=CapPeriod.DAY, limit=1)
    PostbackEndpointFactory(affiliate=world.affiliate, events=["approved", "rejected"])
    return world, campaign, rule


def _real(world, params):
    response = Client().get(world.postback_path, params)
    return response.status_code, response.json()


def test_a_created_postback_in_the_sandbox_leaves_nothing_and_answers_what_the_real_one_does(
    broker,
):
    world, campaign, rule = _world()
    click = world.click()
    params = {"click_id": click.click_id, "event": "sale", "transaction_id": "O-1", "payout": "10"}
    rows, queued = _row_counts(), _queued(broker)

    report = postback_sandbox(partner_key=world.partner_key, params=params)

    assert (_row_counts(), _queued(broker)) == (rows, queued)
    assert (report.result, report.error) == ("created", None)
    conversion_view = dict(report.conversion)
    conversion_view.pop("id")
    assert conversion_view == {
        "click_id": click.click_id,
        "campaign_id": campaign.pk,
        "affiliate_id": world.affiliate.pk,
        "event": "sale",
        "event_name": "Sale",
        "pricing_rule_id": rule.pk,
        "transaction_id": "O-1",
        "status": "approved",
        "reason": "",
        "fraud_signals": [],
        "currency": "USD",
        "revenue": "10.0000",
        "payout": "4.0000",
        "points_awarded": "0.0000",
        "original_amount": None,
        "original_currency": "",
        "exchange_rate": None,
    }
    [cap] = report.caps
    assert (cap["used_before"], cap["used"]) == ({}, {"0": "1.0000"})
    assert sorted((entry["account"], entry["amount"]) for entry in report.ledger_entries) == sorted(
        [
            ("available", "-4.0000"),
            ("payout_expense", "4.0000"),
            ("receivable", "10.0000"),
            ("revenue", "-10.0000"),
        ]
    )
    assert [forward["status_event"] for forward in report.forwards] == ["approved"]

    status, body = _real(world, params)

    conversion = Conversion.objects.get()
    assert (status, body["result"]) == (200, report.result)
    assert (conversion.pricing_rule_id, conversion.payout, conversion.revenue) == (
        rule.pk,
        Decimal(report.conversion["payout"]),
        Decimal(report.conversion["revenue"]),
    )


def test_duplicate_capped_and_invalid_postbacks_in_the_sandbox_leave_nothing(broker):
    world, _, _ = _world()
    first, second = world.click(), world.click()
    _real(world, {"click_id": first.click_id, "event": "sale", "transaction_id": "O-1"})
    cases = {
        "duplicate": {"click_id": first.click_id, "event": "sale", "transaction_id": "O-1"},
        "capped": {"click_id": second.click_id, "event": "sale", "transaction_id": "O-2"},
        "invalid": {"click_id": second.click_id, "event": "sale", "payout": "-1"},
    }
    for case, params in cases.items():
        rows, queued = _row_counts(), _queued(broker)

        report = postback_sandbox(partner_key=world.partner_key, params=params)
        after = (_row_counts(), _queued(broker))
        status, body = _real(world, params)

        assert after == (rows, queued), case
        if case == "invalid":
            assert (
                (report.error.code, report.error.status)
                == (body["code"], status)
                == (
                    "invalid_payout",
                    400,
                )
            )
        else:
            assert (report.result, report.reason) == (body["result"], body.get("reason", ""))
