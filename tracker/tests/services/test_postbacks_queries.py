"""Query budgets of the partner postback, the second-hottest path (the click redirect's is in
`tracker/tests/views/test_clicks.py`).

Every statement is a round trip plus CPU on both sides; these tests pin what each path costs so
that a regression shows up as a failing count, with the statements listed in the assertion. In a
test the view's transaction is a savepoint (SAVEPOINT / RELEASE are counted where production
sends BEGIN / COMMIT).
"""

from decimal import Decimal

import pytest

from campaigns.models import CapPeriod
from campaigns.tests.factories import CapFactory
from forwarding.models import Delivery
from forwarding.tests.factories import PostbackEndpointFactory
from payouts.models import LedgerTransaction
from tracker.models import ConversionHistory, ConversionStatus, EndUserPoints, PostbackLog
from tracker.tests.factories import postback_world

pytestmark = pytest.mark.django_db


def _approved_world(**campaign_fields):
    world = postback_world()
    world.campaign(**campaign_fields)
    # The ledger accounts exist after the network's first approval: the steady state.
    first = world.click()
    return world, first


def test_usual_postback_costs_ten_statements(client, django_assert_num_queries):
    # given a campaign without caps, an affiliate without endpoints, accounts already open
    world, first = _approved_world()
    assert client.get(world.postback_path, {"click_id": first.click_id}).status_code == 200
    click = world.click()

    # when a partner approves a conversion
    # then: key, SAVEPOINT, click with campaign and hints, conversion, history, ledger accounts,
    # ledger transaction, ledger entries, log, RELEASE
    with django_assert_num_queries(10):
        response = client.get(world.postback_path, {"click_id": click.click_id, "payout": "5.00"})

    assert response.status_code == 200
    assert response.json()["result"] == "created"
    conversion = click.conversions.get()
    assert (conversion.status, conversion.revenue, conversion.payout) == (
        ConversionStatus.APPROVED,
        Decimal("5.0000"),
        Decimal("4.0000"),
    )
    assert ConversionHistory.objects.filter(conversion=conversion).count() == 1
    assert LedgerTransaction.objects.filter(reference_id=conversion.pk).count() == 1
    assert PostbackLog.objects.get(id=response.json()["log_id"]).conversion == conversion


def test_duplicate_postback_writes_only_its_log(client, django_assert_num_queries):
    world, click = _approved_world()
    assert client.get(world.postback_path, {"click_id": click.click_id}).status_code == 200

    # key, SAVEPOINT, click, conversion insert (nothing written), existing locked, log, RELEASE
    with django_assert_num_queries(7):
        response = client.get(world.postback_path, {"click_id": click.click_id})

    assert response.json()["result"] == "duplicate"
    assert ConversionHistory.objects.count() == 1
    assert LedgerTransaction.objects.count() == 1
    assert PostbackLog.objects.count() == 2


def test_end_user_points_cost_one_upsert(client, django_assert_num_queries):
    world, first = _approved_world()
    assert client.get(world.postback_path, {"click_id": first.click_id}).status_code == 200
    click = world.click(user_id="player-1")

    with django_assert_num_queries(11):
        response = client.get(world.postback_path, {"click_id": click.click_id, "payout": "5"})

    assert response.json()["result"] == "created"
    assert click.conversions.get().points_awarded == Decimal("4.0000")
    assert EndUserPoints.objects.get(user_id="player-1").points == Decimal("4.0000")


def test_forwarding_endpoint_adds_its_outbox_statements(client, django_assert_num_queries):
    world, first = _approved_world()
    assert client.get(world.postback_path, {"click_id": first.click_id}).status_code == 200
    PostbackEndpointFactory(affiliate=world.affiliate)
    click = world.click()

    # the usual ten, plus: endpoints due, delivery insert, delivery ids
    with django_assert_num_queries(13):
        response = client.get(world.postback_path, {"click_id": click.click_id, "payout": "5"})

    assert response.json()["result"] == "created"
    assert Delivery.objects.filter(payload__click_id=click.click_id).count() == 1


def test_one_cap_costs_its_list_and_one_upsert(client, django_assert_num_queries):
    world, first = _approved_world()
    CapFactory(campaign=world.campaigns["main"], period=CapPeriod.DAY, limit=Decimal(5))
    assert client.get(world.postback_path, {"click_id": first.click_id}).status_code == 200
    click = world.click()

    # the usual ten, plus: the campaign's caps, one counter upsert
    with django_assert_num_queries(12):
        response = client.get(world.postback_path, {"click_id": click.click_id, "payout": "5"})

    assert response.json()["result"] == "created"


def test_a_profiled_postback_costs_the_same_ten_statements(client, django_assert_num_queries):
    # the profile and its maps come with the partner key row the postback reads anyway
    world, first = _approved_world()
    world.partner_key.profile = "keitaro"
    world.partner_key.save(update_fields=["profile"])
    assert client.get(world.postback_path, {"subid": first.click_id}).status_code == 200
    click = world.click()

    with django_assert_num_queries(10):
        response = client.get(
            world.postback_path, {"subid": click.click_id, "status": "sale", "payout": "5.00"}
        )

    assert response.json()["result"] == "created"
    history = ConversionHistory.objects.get(conversion__click=click)
    assert (history.to_status, history.partner_status) == ("approved", "sale")
