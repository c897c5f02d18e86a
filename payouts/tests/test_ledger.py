from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import ProgrammingError, connection, transaction

from accounts.tests.factories import AdminUserFactory, AdvertiserFactory, AffiliateFactory
from core.exceptions import ApplicationError
from payouts import ledger, selectors
from payouts.ledger import ledger_accounts
from payouts.models import (
    NETWORK_OWNER_ID,
    AccountKind,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    OwnerType,
    TransactionKind,
)
from payouts.tests.factories import (
    conversion_approve,
    conversion_status_change,
    next_conversion_id,
)

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def lines_of(txn: LedgerTransaction) -> list[tuple[str, int, str, str, Decimal]]:
    return sorted(
        (e.account.owner_type, e.account.owner_id, e.account.kind, e.account.currency, e.amount)
        for e in txn.entries.select_related("account")
    )


def test_approval_without_hold_posts_revenue_and_payout_to_available():
    # given
    affiliate, advertiser = AffiliateFactory(), AdvertiserFactory()
    conversion_id = next_conversion_id()

    # when
    txn = conversion_status_change(
        conversion_id=conversion_id,
        affiliate=affiliate,
        advertiser=advertiser,
        from_status="pending",
        to_status="approved",
        revenue=Decimal("5.00"),
        payout=Decimal("4.0000"),
        event_key="history-1",
    )

    # then
    assert txn.kind == TransactionKind.CONVERSION_APPROVED
    assert (txn.reference_type, txn.reference_id) == ("conversion", conversion_id)
    assert txn.idempotency_key == f"conversion:{conversion_id}:history-1"
    assert txn.release_at is None
    assert lines_of(txn) == sorted(
        [
            ("advertiser", advertiser.user_id, "receivable", "USD", Decimal("5.0000")),
            ("network", 0, "revenue", "USD", Decimal("-5.0000")),
            ("network", 0, "payout_expense", "USD", Decimal("4.0000")),
            ("affiliate", affiliate.user_id, "available", "USD", Decimal("-4.0000")),
        ]
    )
    assert selectors.affiliate_balances(affiliate_id=affiliate.user_id) == {
        "USD": {
            "pending": Decimal("0.0000"),
            "available": Decimal("4.0000"),
            "requested": Decimal("0.0000"),
            "paid": Decimal("0.0000"),
        }
    }
    assert selectors.advertiser_balances(advertiser_id=advertiser.user_id) == {
        "USD": {"receivable": Decimal("5.0000")}
    }
    assert selectors.network_totals() == {
        "USD": {
            "revenue": Decimal("5.0000"),
            "payouts": Decimal("4.0000"),
            "adjustments": Decimal("0.0000"),
            "margin": Decimal("1.0000"),
        }
    }


def test_approval_with_hold_goes_to_pending_until_release_at():
    # given
    affiliate = AffiliateFactory()

    # when
    _, txn = conversion_approve(affiliate=affiliate, payout=Decimal("50"), hold_days=7, at=T0)

    # then
    assert txn.release_at == T0 + timedelta(days=7)
    balances = selectors.affiliate_balances(affiliate_id=affiliate.user_id)["USD"]
    assert balances["pending"] == Decimal("50.0000")
    assert balances["available"] == Decimal("0.0000")


def test_same_event_twice_posts_once():
    # given
    affiliate, advertiser = AffiliateFactory(), AdvertiserFactory()
    conversion_id = next_conversion_id()
    change = {
        "conversion_id": conversion_id,
        "affiliate": affiliate,
        "advertiser": advertiser,
        "from_status": "pending",
        "to_status": "approved",
        "payout": Decimal("3"),
        "event_key": "h-7",
    }

    # when
    first = conversion_status_change(**change)
    second = conversion_status_change(**change)

    # then
    assert first == second
    assert LedgerTransaction.objects.filter(reference_id=conversion_id).count() == 1
    assert selectors.affiliate_balances(affiliate_id=affiliate.user_id)["USD"]["available"] == (
        Decimal("3.0000")
    )


@pytest.mark.parametrize(
    ("from_status", "to_status"),
    [("pending", "rejected"), ("pending", "pending"), ("approved", "approved"), ("", "pending")],
)
def test_transitions_that_move_no_money_post_nothing(from_status, to_status):
    affiliate, advertiser = AffiliateFactory(), AdvertiserFactory()

    txn = conversion_status_change(
        conversion_id=next_conversion_id(),
        affiliate=affiliate,
        advertiser=advertiser,
        from_status=from_status,
        to_status=to_status,
        payout=Decimal("3"),
    )

    assert txn is None
    assert LedgerTransaction.objects.count() == 0


def test_reversal_before_release_takes_from_pending_and_release_then_moves_nothing():
    # given
    affiliate, advertiser = AffiliateFactory(), AdvertiserFactory()
    conversion_id, approval = conversion_approve(
        affiliate=affiliate,
        advertiser=advertiser,
        revenue=Decimal("10"),
        payout=Decimal("8"),
        hold_days=3,
        at=T0,
    )

    # when
    reversal = conversion_status_change(
        conversion_id=conversion_id,
        affiliate=affiliate,
        advertiser=advertiser,
        from_status="approved",
        to_status="reversed",
        payout=Decimal("8"),
    )
    released = ledger.ledger_hold_release_due(now=T0 + timedelta(days=3))

    # then
    assert reversal.kind == TransactionKind.CONVERSION_REVERSED
    assert lines_of(reversal) == sorted(
        [
            ("advertiser", advertiser.user_id, "receivable", "USD", Decimal("-10.0000")),
            ("network", 0, "revenue", "USD", Decimal("10.0000")),
            ("network", 0, "payout_expense", "USD", Decimal("-8.0000")),
            ("affiliate", affiliate.user_id, "pending", "USD", Decimal("8.0000")),
        ]
    )
    assert released == 0
    marker = LedgerTransaction.objects.get(kind=TransactionKind.HOLD_RELEASED)
    assert marker.source_transaction == approval
    assert marker.entries.count() == 0
    assert selectors.affiliate_balances(affiliate_id=affiliate.user_id)["USD"] == {
        "pending": Decimal("0.0000"),
        "available": Decimal("0.0000"),
        "requested": Decimal("0.0000"),
        "paid": Decimal("0.0000"),
    }


def test_hold_release_moves_due_approvals_once():
    # given
    affiliate = AffiliateFactory()
    _, due = conversion_approve(affiliate=affiliate, payout=Decimal("2.5"), hold_days=1, at=T0)
    conversion_approve(affiliate=affiliate, payout=Decimal("7"), hold_days=2, at=T0)

    # when
    early = ledger.ledger_hold_release_due(now=T0 + timedelta(hours=23))
    first = ledger.ledger_hold_release_due(now=T0 + timedelta(days=1))
    again = ledger.ledger_hold_release_due(now=T0 + timedelta(days=1, hours=1))

    # then
    assert (early, first, again) == (0, 1, 0)
    release = LedgerTransaction.objects.get(kind=TransactionKind.HOLD_RELEASED)
    assert release.idempotency_key == f"hold-release:{due.pk}"
    assert lines_of(release) == [
        ("affiliate", affiliate.user_id, "available", "USD", Decimal("-2.5000")),
        ("affiliate", affiliate.user_id, "pending", "USD", Decimal("2.5000")),
    ]
    balances = selectors.affiliate_balances(affiliate_id=affiliate.user_id)["USD"]
    assert (balances["pending"], balances["available"]) == (Decimal("7.0000"), Decimal("2.5000"))


def test_hold_release_processes_every_batch():
    affiliate = AffiliateFactory()
    for _ in range(5):
        conversion_approve(affiliate=affiliate, payout=Decimal("1"), hold_days=1, at=T0)

    released = ledger.ledger_hold_release_due(now=T0 + timedelta(days=2), batch_size=2)

    assert released == 5
    balances = selectors.affiliate_balances(affiliate_id=affiliate.user_id)["USD"]
    assert (balances["pending"], balances["available"]) == (Decimal("0.0000"), Decimal("5.0000"))


def test_reversal_after_release_and_payout_leaves_a_negative_available_balance():
    # given: 8.00 released, 6.00 of it requested as a payout
    from payouts import services

    affiliate, advertiser = AffiliateFactory(), AdvertiserFactory()
    conversion_id, _ = conversion_approve(
        affiliate=affiliate, advertiser=advertiser, payout=Decimal("60"), hold_days=1, at=T0
    )
    ledger.ledger_hold_release_due(now=T0 + timedelta(days=1))
    services.payout_request_create(affiliate=affiliate, amount=Decimal("60"), currency="USD")

    # when
    reversal = conversion_status_change(
        conversion_id=conversion_id,
        affiliate=affiliate,
        advertiser=advertiser,
        from_status="approved",
        to_status="reversed",
        payout=Decimal("60"),
    )

    # then: the reversal takes from available (the hold was released), which goes negative
    assert ("affiliate", affiliate.user_id, "available", "USD", Decimal("60.0000")) in (
        lines_of(reversal)
    )
    assert selectors.affiliate_balances(affiliate_id=affiliate.user_id)["USD"] == {
        "pending": Decimal("0.0000"),
        "available": Decimal("-60.0000"),
        "requested": Decimal("60.0000"),
        "paid": Decimal("0.0000"),
    }
    # and the next earnings are absorbed by the debt first
    conversion_approve(affiliate=affiliate, payout=Decimal("100"))
    assert selectors.affiliate_balances(affiliate_id=affiliate.user_id)["USD"]["available"] == (
        Decimal("40.0000")
    )


def test_reapproval_after_rejection_keeps_its_own_hold():
    # given: approved (hold until day 2), rejected, approved again on day 1 (hold until day 3)
    affiliate, advertiser = AffiliateFactory(), AdvertiserFactory()
    conversion_id, first = conversion_approve(
        affiliate=affiliate, advertiser=advertiser, payout=Decimal("9"), hold_days=2, at=T0
    )
    conversion_status_change(
        conversion_id=conversion_id,
        affiliate=affiliate,
        advertiser=advertiser,
        from_status="approved",
        to_status="rejected",
        payout=Decimal("9"),
    )
    second = conversion_status_change(
        conversion_id=conversion_id,
        affiliate=affiliate,
        advertiser=advertiser,
        from_status="rejected",
        to_status="approved",
        payout=Decimal("9"),
        hold_days=2,
        at=T0 + timedelta(days=1),
    )

    # when: the first approval's release date passes
    on_day_two = ledger.ledger_hold_release_due(now=T0 + timedelta(days=2))

    # then: nothing moves early; the second approval is released on its own date
    assert on_day_two == 0
    assert selectors.affiliate_balances(affiliate_id=affiliate.user_id)["USD"]["pending"] == (
        Decimal("9.0000")
    )
    assert ledger.ledger_hold_release_due(now=T0 + timedelta(days=3)) == 1
    assert LedgerTransaction.objects.get(source_transaction=second).entries.count() == 2
    assert LedgerTransaction.objects.get(source_transaction=first).entries.count() == 0
    assert selectors.affiliate_balances(affiliate_id=affiliate.user_id)["USD"]["available"] == (
        Decimal("9.0000")
    )


def test_repeated_reversal_event_returns_the_first_posting():
    affiliate, advertiser = AffiliateFactory(), AdvertiserFactory()
    conversion_id, _ = conversion_approve(
        affiliate=affiliate, advertiser=advertiser, payout=Decimal("4")
    )
    change = {
        "conversion_id": conversion_id,
        "affiliate": affiliate,
        "advertiser": advertiser,
        "from_status": "approved",
        "to_status": "reversed",
        "payout": Decimal("4"),
        "event_key": "reverse-1",
    }

    first = conversion_status_change(**change)
    second = conversion_status_change(**change)

    assert first is not None
    assert first == second
    assert LedgerTransaction.objects.filter(kind=TransactionKind.CONVERSION_REVERSED).count() == 1


def test_ledger_post_refuses_unbalanced_lines_and_writes_nothing():
    # given
    affiliate = AffiliateFactory()
    available = ledger.affiliate_account(
        affiliate_id=affiliate.user_id, kind=AccountKind.AVAILABLE, currency="USD"
    )
    expense = ledger.network_account(kind=AccountKind.PAYOUT_EXPENSE, currency="USD")

    # when
    with pytest.raises(ApplicationError) as error:
        ledger.ledger_post(
            kind=TransactionKind.ADJUSTMENT,
            lines=[(available, Decimal("-1.00")), (expense, Decimal("0.9999"))],
            reference_type="test",
            reference_id=None,
            idempotency_key="unbalanced-1",
        )

    # then
    assert error.value.code == "unbalanced"
    assert error.value.extra == {"unbalanced": {"USD": "-0.0001"}}
    assert LedgerTransaction.objects.count() == 0
    assert LedgerEntry.objects.count() == 0


def test_ledger_post_balances_per_currency():
    affiliate = AffiliateFactory()
    usd = ledger.affiliate_account(
        affiliate_id=affiliate.user_id, kind=AccountKind.AVAILABLE, currency="USD"
    )
    eur = ledger.network_account(kind=AccountKind.ADJUSTMENTS, currency="EUR")

    with pytest.raises(ApplicationError) as error:
        ledger.ledger_post(
            kind=TransactionKind.ADJUSTMENT,
            lines=[(usd, Decimal("-1")), (eur, Decimal("1"))],
            reference_type="test",
            reference_id=None,
            idempotency_key="cross-currency",
        )

    assert error.value.extra == {"unbalanced": {"USD": "-1.0000", "EUR": "1.0000"}}


def test_ledger_post_quantizes_half_up_before_checking_the_balance():
    affiliate = AffiliateFactory()
    available = ledger.affiliate_account(
        affiliate_id=affiliate.user_id, kind=AccountKind.AVAILABLE, currency="USD"
    )
    expense = ledger.network_account(kind=AccountKind.PAYOUT_EXPENSE, currency="USD")

    txn = ledger.ledger_post(
        kind=TransactionKind.ADJUSTMENT,
        lines=[(available, Decimal("-1.00005")), (expense, Decimal("1.00005"))],
        reference_type="test",
        reference_id=None,
        idempotency_key="ties",
    )

    assert sorted(e.amount for e in LedgerEntry.objects.filter(transaction=txn)) == [
        Decimal("-1.0001"),
        Decimal("1.0001"),
    ]


def test_ledger_account_is_get_or_create_and_checks_the_kind():
    first = ledger.ledger_account(
        owner_type=OwnerType.AFFILIATE, owner_id=42, kind=AccountKind.PENDING, currency="EUR"
    )
    again = ledger.ledger_account(
        owner_type=OwnerType.AFFILIATE, owner_id=42, kind=AccountKind.PENDING, currency="EUR"
    )
    with pytest.raises(ApplicationError) as wrong_kind:
        ledger.ledger_account(
            owner_type=OwnerType.AFFILIATE, owner_id=42, kind=AccountKind.REVENUE, currency="EUR"
        )
    with pytest.raises(ApplicationError) as wrong_currency:
        ledger.ledger_account(
            owner_type=OwnerType.AFFILIATE, owner_id=42, kind=AccountKind.PENDING, currency="XXQ"
        )

    assert first == again
    assert LedgerAccount.objects.count() == 1
    assert wrong_kind.value.code == "invalid_account"
    assert wrong_currency.value.code == "invalid_currency"


def test_ledger_accounts_are_read_in_one_query_when_they_exist(django_assert_num_queries):
    specs = [
        (OwnerType.NETWORK, NETWORK_OWNER_ID, AccountKind.REVENUE, "USD"),
        (OwnerType.AFFILIATE, 7, AccountKind.AVAILABLE, "USD"),
        (OwnerType.NETWORK, NETWORK_OWNER_ID, AccountKind.REVENUE, "USD"),
    ]
    created = ledger_accounts(specs)

    with django_assert_num_queries(1):
        again = ledger_accounts(specs)

    assert [account.pk for account in again] == [account.pk for account in created]
    assert created[0].pk == created[2].pk
    assert LedgerAccount.objects.count() == 2
    assert LedgerEntry.objects.count() == 0


def test_adjustment_credits_or_debits_available_against_network_adjustments():
    # given
    admin, affiliate = AdminUserFactory(), AffiliateFactory()

    # when
    credit = ledger.ledger_adjustment_post(
        affiliate_id=affiliate.user_id,
        currency="USD",
        amount=Decimal("12.5"),
        reason="Bonus for March",
        actor=admin,
    )
    ledger.ledger_adjustment_post(
        affiliate_id=affiliate.user_id,
        currency="USD",
        amount=Decimal("-2.5"),
        reason="Chargeback fee",
        actor=admin,
    )

    # then
    assert (credit.kind, credit.memo, credit.actor) == ("adjustment", "Bonus for March", admin)
    assert lines_of(credit) == [
        ("affiliate", affiliate.user_id, "available", "USD", Decimal("-12.5000")),
        ("network", 0, "adjustments", "USD", Decimal("12.5000")),
    ]
    assert selectors.affiliate_balances(affiliate_id=affiliate.user_id)["USD"]["available"] == (
        Decimal("10.0000")
    )
    assert selectors.network_totals()["USD"] == {
        "revenue": Decimal("0.0000"),
        "payouts": Decimal("0.0000"),
        "adjustments": Decimal("10.0000"),
        "margin": Decimal("-10.0000"),
    }


@pytest.mark.parametrize(
    ("amount", "reason", "code"),
    [(Decimal("1"), "  ", "reason_required"), (Decimal("0.00004"), "why", "invalid_amount")],
)
def test_adjustment_needs_a_reason_and_a_non_zero_amount(amount, reason, code):
    affiliate = AffiliateFactory()

    with pytest.raises(ApplicationError) as error:
        ledger.ledger_adjustment_post(
            affiliate_id=affiliate.user_id, currency="USD", amount=amount, reason=reason, actor=None
        )

    assert error.value.code == code
    assert LedgerTransaction.objects.count() == 0


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE payouts_ledgerentry SET amount = amount + 1 WHERE id = %s",
        "DELETE FROM payouts_ledgerentry WHERE id = %s",
        "UPDATE payouts_ledgertransaction SET memo = 'edited' WHERE id = %s",
        "DELETE FROM payouts_ledgertransaction WHERE id = %s",
    ],
)
def test_posted_rows_cannot_be_updated_or_deleted_in_the_database(statement):
    # given
    _, txn = conversion_approve(affiliate=AffiliateFactory(), payout=Decimal("5"))
    entry = txn.entries.first()
    row_id = txn.pk if "ledgertransaction" in statement else entry.pk

    # when
    with (
        pytest.raises(ProgrammingError, match="ledger rows are immutable"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, [row_id])

    # then
    entry.refresh_from_db()
    txn.refresh_from_db()
    assert entry.amount in (Decimal("5.0000"), Decimal("-5.0000"))
    assert txn.memo.startswith("conversion ")


def test_orm_update_and_delete_are_refused_too():
    _, txn = conversion_approve(affiliate=AffiliateFactory(), payout=Decimal("5"))

    with pytest.raises(ProgrammingError), transaction.atomic():
        LedgerEntry.objects.filter(transaction=txn).update(amount=Decimal(0))
    with pytest.raises(ProgrammingError), transaction.atomic():
        LedgerEntry.objects.filter(transaction=txn).delete()

    assert LedgerEntry.objects.filter(transaction=txn).count() == 4


def test_reconcile_finds_nothing_on_a_clean_ledger():
    affiliate = AffiliateFactory()
    conversion_approve(affiliate=affiliate, payout=Decimal("5"), hold_days=1, at=T0)
    ledger.ledger_adjustment_post(
        affiliate_id=affiliate.user_id, currency="USD", amount=Decimal("1"), reason="x", actor=None
    )
    ledger.ledger_hold_release_due(now=T0 + timedelta(days=1))

    assert ledger.ledger_reconcile() == []


def test_reconcile_reports_an_entry_altered_behind_the_trigger():
    # given: a superuser session skips user triggers (replication role) and edits an entry
    _, txn = conversion_approve(affiliate=AffiliateFactory(), payout=Decimal("5"))
    entry = txn.entries.order_by("id").first()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE payouts_ledgerentry SET amount = 6 WHERE id = %s", [entry.pk])
        cursor.execute("SET LOCAL session_replication_role = origin")

    # when
    problems = ledger.ledger_reconcile()

    # then
    assert problems == [
        f"transaction {txn.pk} sums to 1.0000 USD",
        f"transaction {txn.pk} does not match its checksum",
    ]


def test_reconcile_reports_a_disabled_trigger():
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "ALTER TABLE payouts_ledgertransaction "
            "DISABLE TRIGGER payouts_ledgertransaction_immutable"
        )

    problems = ledger.ledger_reconcile()

    assert problems == [
        "immutability trigger payouts_ledgertransaction_immutable is missing or disabled"
    ]


def test_statement_lines_carry_kind_reference_and_running_balance():
    # given
    affiliate = AffiliateFactory()
    with time_machine.travel(T0, tick=False):
        conversion_id, _ = conversion_approve(
            affiliate=affiliate, payout=Decimal("3"), hold_days=1, at=T0
        )
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        ledger.ledger_hold_release_due(now=T0 + timedelta(days=1))

    # when
    lines = list(selectors.statement_lines(affiliate_id=affiliate.user_id, currency="USD"))

    # then
    assert [
        (
            line.created_at,
            line.transaction_kind,
            line.account,
            line.amount,
            line.balance,
            line.reference_type,
            line.reference_id,
        )
        for line in lines
    ] == [
        (
            T0,
            "conversion_approved",
            "pending",
            Decimal("3.0000"),
            Decimal("3.0000"),
            "conversion",
            conversion_id,
        ),
        (
            T0 + timedelta(days=1),
            "hold_released",
            "pending",
            Decimal("-3.0000"),
            Decimal("0.0000"),
            "conversion",
            conversion_id,
        ),
        (
            T0 + timedelta(days=1),
            "hold_released",
            "available",
            Decimal("3.0000"),
            Decimal("3.0000"),
            "conversion",
            conversion_id,
        ),
    ]
