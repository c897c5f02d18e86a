"""The conversion state machine on SQLite, with the ledger postings each change makes."""

from decimal import Decimal

import pytest
from django.test import Client

from core.exceptions import ApplicationError
from payouts.models import LedgerEntry
from payouts.selectors import advertiser_balances, affiliate_balances
from tracker.models import Conversion, ConversionHistory
from tracker.services.conversions import conversion_status_change
from tracker.tests.factories import postback_world

pytestmark = [pytest.mark.smoke, pytest.mark.django_db]


def _available(world) -> Decimal:
    return affiliate_balances(affiliate_id=world.affiliate.pk)["USD"]["available"]


def test_pending_then_approved_then_reversed_moves_the_money_in_and_back_out():
    # given a pending conversion of 5.00 revenue at 80 %
    world = postback_world()
    world.campaign(hold_days=0)
    click = world.click()
    client = Client()
    params = {"click_id": click.click_id, "payout": "5.00"}
    pending = client.get(world.postback_path, {**params, "status": "pending"})
    conversion_id = pending.json()["conversion_id"]
    assert LedgerEntry.objects.count() == 0

    # when the partner approves it, then reverses it
    approved = client.get(world.postback_path, {**params, "status": "approved"})
    balance_approved = _available(world)
    reversed_ = client.get(world.postback_path, {**params, "status": "reversed"})

    # then each step is recorded once, and the reversal takes back exactly what was paid
    assert [r.json()["result"] for r in (pending, approved, reversed_)] == [
        "created",
        "updated",
        "updated",
    ]
    assert balance_approved == Decimal("4.0000")
    assert _available(world) == Decimal("0.0000")
    assert advertiser_balances(advertiser_id=world.advertiser.pk) == {
        "USD": {"receivable": Decimal("0.0000")}
    }
    assert list(
        ConversionHistory.objects.filter(conversion_id=conversion_id)
        .order_by("id")
        .values_list("from_status", "to_status")
    ) == [("", "pending"), ("pending", "approved"), ("approved", "reversed")]


def test_a_reversed_conversion_is_final():
    world = postback_world()
    world.campaign()
    click = world.click()
    client = Client()
    client.get(world.postback_path, {"click_id": click.click_id, "status": "approved"})
    client.get(world.postback_path, {"click_id": click.click_id, "status": "reversed"})

    again = client.get(world.postback_path, {"click_id": click.click_id, "status": "approved"})

    assert (again.status_code, again.json()["code"]) == (409, "invalid_transition")
    assert Conversion.objects.get().status == "reversed"


def test_re_approving_a_rejected_conversion_needs_a_reason_and_then_pays():
    world = postback_world()
    world.campaign(hold_days=0)
    click = world.click()
    rejected = Client().get(
        world.postback_path,
        {"click_id": click.click_id, "status": "rejected", "payout": "5.00"},
    )
    conversion_id = rejected.json()["conversion_id"]

    with pytest.raises(ApplicationError) as without_reason:
        conversion_status_change(
            conversion_id=conversion_id, status="approved", actor=None, reason="", source="admin"
        )
    conversion_status_change(
        conversion_id=conversion_id,
        status="approved",
        actor=None,
        reason="partner confirmed",
        source="admin",
    )

    assert without_reason.value.code == "reason_required"
    assert Conversion.objects.get().status == "approved"
    assert _available(world) == Decimal("4.0000")
