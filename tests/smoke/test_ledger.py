"""The ledger on SQLite: balanced postings, balances as sums, rows the database will not change."""

from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from accounts.tests.factories import AdvertiserFactory, AffiliateFactory
from core.exceptions import ApplicationError
from payouts.adjustments import adjustment_post
from payouts.ledger import (
    affiliate_account,
    ledger_adjustment_post,
    ledger_post,
    ledger_reconcile,
    network_account,
)
from payouts.models import AccountKind, LedgerEntry, LedgerTransaction
from payouts.selectors import advertiser_balances, affiliate_balances
from payouts.services import payout_request_create

pytestmark = [pytest.mark.smoke, pytest.mark.django_db]


def _credit(affiliate, amount: str) -> LedgerTransaction:
    return ledger_adjustment_post(
        affiliate_id=affiliate.pk,
        currency="USD",
        amount=Decimal(amount),
        reason="credit",
        actor=None,
    )


def test_every_posting_sums_to_zero_and_balances_are_the_sums_of_entries(settings):
    # given 60.0001 credited and a payout request of 50.00
    settings.PAYOUT_MINIMUM_AMOUNT = "50.00"
    affiliate = AffiliateFactory()
    _credit(affiliate, "60.0001")

    payout_request_create(affiliate=affiliate, amount="50.00", currency="USD")

    # then the request moved 50 from available to requested, and the ledger balances
    balances = affiliate_balances(affiliate_id=affiliate.pk)["USD"]
    assert (balances["available"], balances["requested"]) == (
        Decimal("10.0001"),
        Decimal("50.0000"),
    )
    for txn in LedgerTransaction.objects.all():
        assert sum(txn.entries.values_list("amount", flat=True)) == 0


def test_a_payout_request_cannot_overdraw_the_available_balance(settings):
    settings.PAYOUT_MINIMUM_AMOUNT = "50.00"
    affiliate = AffiliateFactory()
    _credit(affiliate, "50.0000")

    with pytest.raises(ApplicationError) as over:
        payout_request_create(affiliate=affiliate, amount="50.0001", currency="USD")

    assert over.value.code == "insufficient_balance"
    assert affiliate_balances(affiliate_id=affiliate.pk)["USD"]["available"] == Decimal("50.0000")


def test_an_unbalanced_posting_is_refused_and_writes_nothing():
    affiliate = AffiliateFactory()
    available = affiliate_account(
        affiliate_id=affiliate.pk, kind=AccountKind.AVAILABLE, currency="USD"
    )
    adjustments = network_account(kind=AccountKind.ADJUSTMENTS, currency="USD")

    with pytest.raises(ApplicationError) as error:
        ledger_post(
            kind="adjustment",
            lines=[(available, Decimal("-1.0000")), (adjustments, Decimal("0.9999"))],
            reference_type="adjustment",
            reference_id=None,
            idempotency_key="smoke-unbalanced",
        )

    assert error.value.code == "unbalanced"
    assert LedgerTransaction.objects.count() == 0


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE payouts_ledgerentry SET amount = amount + 1 WHERE transaction_id = %s",
        "DELETE FROM payouts_ledgerentry WHERE transaction_id = %s",
        "UPDATE payouts_ledgertransaction SET memo = 'edited' WHERE id = %s",
        "DELETE FROM payouts_ledgertransaction WHERE id = %s",
    ],
)
def test_posted_rows_cannot_be_updated_or_deleted(statement):
    txn = _credit(AffiliateFactory(), "5.0000")

    with (
        pytest.raises(DatabaseError, match="ledger rows are immutable"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, [txn.pk])

    assert sorted(LedgerEntry.objects.values_list("amount", flat=True)) == [
        Decimal("-5.0000"),
        Decimal("5.0000"),
    ]
    assert LedgerTransaction.objects.get().memo == "credit"


def test_reconcile_finds_nothing_wrong_with_postings_whose_floats_would_not_sum_to_zero():
    # given one transaction of 0.1 + 0.2 against 0.3 (as binary floats: 5.55e-17, not 0)
    affiliate = AffiliateFactory()
    accounts = [
        affiliate_account(affiliate_id=affiliate.pk, kind=kind, currency="USD")
        for kind in (AccountKind.PENDING, AccountKind.AVAILABLE)
    ]
    ledger_post(
        kind="adjustment",
        lines=[
            (accounts[0], Decimal("0.1000")),
            (accounts[1], Decimal("0.2000")),
            (network_account(kind=AccountKind.ADJUSTMENTS, currency="USD"), Decimal("-0.3000")),
        ],
        reference_type="adjustment",
        reference_id=None,
        idempotency_key="smoke-tenths",
    )

    assert ledger_reconcile() == []


def test_reconcile_reports_an_immutability_trigger_that_is_gone():
    # given the entry-update trigger dropped (SQLite) or disabled (PostgreSQL)
    statement, name = {
        "sqlite": (
            "DROP TRIGGER payouts_ledgerentry_no_update",
            "payouts_ledgerentry_no_update",
        ),
        "postgresql": (
            "ALTER TABLE payouts_ledgerentry DISABLE TRIGGER payouts_ledgerentry_immutable",
            "payouts_ledgerentry_immutable",
        ),
    }[connection.vendor]
    with connection.cursor() as cursor:
        cursor.execute(statement)

    assert ledger_reconcile() == [f"immutability trigger {name} is missing or disabled"]


def test_adjustments_of_an_affiliate_and_an_advertiser_balance_and_retry_once():
    # given an affiliate and an advertiser
    affiliate = AffiliateFactory()
    advertiser = AdvertiserFactory()

    # when the network credits one, bills the other, and a client retries with its key
    for _ in range(2):
        adjustment_post(
            owner_type="affiliate",
            owner_id=affiliate.pk,
            amount=Decimal("0.1"),
            currency="USD",
            reason="bonus",
            actor=None,
            idempotency_key="smoke-1",
        )
    adjustment_post(
        owner_type="affiliate",
        owner_id=affiliate.pk,
        amount=Decimal("0.2"),
        currency="USD",
        reason="bonus",
        actor=None,
    )
    adjustment_post(
        owner_type="advertiser",
        owner_id=advertiser.pk,
        amount=Decimal("-0.3"),
        currency="USD",
        reason="credit note",
        actor=None,
    )

    # then the sums are exact, the retry posted nothing, and every posting balances
    assert affiliate_balances(affiliate_id=affiliate.pk)["USD"]["available"] == Decimal("0.3000")
    assert advertiser_balances(advertiser_id=advertiser.pk) == {
        "USD": {"receivable": Decimal("-0.3000")}
    }
    assert LedgerTransaction.objects.filter(kind="adjustment").count() == 3
    assert ledger_reconcile() == []
