"""Real concurrency on PostgreSQL: threads with their own connections, committed transactions."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction

from accounts.tests.factories import AdvertiserFactory, AffiliateFactory
from core.exceptions import ApplicationError
from payouts import ledger, selectors, services
from payouts.models import (
    AccountKind,
    LedgerEntry,
    LedgerTransaction,
    PayoutRequest,
    TransactionKind,
)
from payouts.tests.factories import (
    conversion_approve,
    conversion_status_change,
    next_conversion_id,
)

pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2026, 3, 1, tzinfo=UTC)
WORKERS = 20


def run_together(calls):
    """Run every call in a pool thread, all released at once; return results or exceptions."""
    gate = threading.Event()

    def run(call):
        connection.ensure_connection()  # connect first, so the calls really start together
        gate.wait()
        try:
            return call()
        except Exception as exc:  # the test inspects what each call raised
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=min(WORKERS, len(calls))) as pool:
        futures = [pool.submit(run, call) for call in calls]
        gate.set()
        return [future.result(timeout=120) for future in futures]


def test_100_concurrent_approvals_sum_exactly():
    # given
    affiliate, advertiser = AffiliateFactory(), AdvertiserFactory()
    payouts = [Decimal(f"{n}.{n:04d}") for n in range(1, 101)]

    def approve(payout: Decimal):
        def call():
            with transaction.atomic():
                return conversion_status_change(
                    conversion_id=next_conversion_id(),
                    affiliate=affiliate,
                    advertiser=advertiser,
                    from_status="pending",
                    to_status="approved",
                    payout=payout,
                    revenue=payout * 2,
                )

        return call

    # when
    results = run_together([approve(payout) for payout in payouts])

    # then
    assert [type(result).__name__ for result in results] == ["LedgerTransaction"] * 100
    expected = sum(payouts, Decimal(0))
    assert selectors.affiliate_balances(affiliate_id=affiliate.user_id)["USD"]["available"] == (
        expected
    )
    assert selectors.network_totals()["USD"] == {
        "revenue": expected * 2,
        "payouts": expected,
        "adjustments": Decimal("0.0000"),
        "margin": expected,
    }
    assert ledger.ledger_reconcile() == []


def test_two_concurrent_requests_for_the_whole_balance_one_succeeds(settings):
    settings.PAYOUT_MINIMUM_AMOUNT = "10"
    # A few rounds: one race can pass by luck of timing, five in a row without the lock don't.
    for _ in range(5):
        # given
        affiliate = AffiliateFactory()
        conversion_approve(affiliate=affiliate, payout=Decimal("500"))
        # Both accounts exist already, so creating one cannot serialize the requests by accident.
        ledger.affiliate_account(
            affiliate_id=affiliate.user_id, kind=AccountKind.REQUESTED, currency="USD"
        )

        def request(affiliate=affiliate):
            return services.payout_request_create(affiliate=affiliate, amount="500", currency="USD")

        # when
        results = run_together([request, request])

        # then
        payouts = [r for r in results if isinstance(r, PayoutRequest)]
        refusals = [r for r in results if isinstance(r, ApplicationError)]
        assert len(payouts) == 1
        assert [r.code for r in refusals] == ["insufficient_balance"]
        assert PayoutRequest.objects.filter(affiliate=affiliate).count() == 1
        assert selectors.affiliate_balances(affiliate_id=affiliate.user_id)["USD"] == {
            "pending": Decimal("0.0000"),
            "available": Decimal("0.0000"),
            "requested": Decimal("500.0000"),
            "paid": Decimal("0.0000"),
        }


def test_many_concurrent_requests_never_overdraw(settings):
    settings.PAYOUT_MINIMUM_AMOUNT = "10"
    affiliate = AffiliateFactory()
    conversion_approve(affiliate=affiliate, payout=Decimal("100"))

    def request():
        return services.payout_request_create(affiliate=affiliate, amount="30", currency="USD")

    results = run_together([request] * 10)

    assert sum(isinstance(r, PayoutRequest) for r in results) == 3
    assert selectors.affiliate_balances(affiliate_id=affiliate.user_id)["USD"]["available"] == (
        Decimal("10.0000")
    )


def test_concurrent_reversals_and_hold_releases_never_double_count():
    # given: 20 held conversions, due for release
    affiliate, advertiser = AffiliateFactory(), AdvertiserFactory()
    conversions = [
        conversion_approve(
            affiliate=affiliate, advertiser=advertiser, payout=Decimal("5"), hold_days=1, at=T0
        )[0]
        for _ in range(20)
    ]

    def reverse(conversion_id: int):
        def call():
            with transaction.atomic():
                return conversion_status_change(
                    conversion_id=conversion_id,
                    affiliate=affiliate,
                    advertiser=advertiser,
                    from_status="approved",
                    to_status="reversed",
                    payout=Decimal("5"),
                )

        return call

    def release():
        return ledger.ledger_hold_release_due(now=T0 + timedelta(days=1), batch_size=3)

    # when: the even ones are reversed while two workers release holds
    results = run_together([*(reverse(c) for c in conversions[::2]), release, release])

    # then: every reversal took back exactly its 5.00, wherever it was
    assert not [r for r in results if isinstance(r, Exception)]
    balances = selectors.affiliate_balances(affiliate_id=affiliate.user_id)["USD"]
    assert balances["pending"] + balances["available"] == Decimal("50.0000")
    assert balances["pending"] >= 0
    for conversion_id in conversions[::2]:
        assert ledger.conversion_holdings(conversion_id=conversion_id) == {}
    assert LedgerTransaction.objects.filter(kind=TransactionKind.HOLD_RELEASED).count() <= 20
    assert ledger.ledger_reconcile() == []


def test_flush_still_tears_down_the_immutable_tables():
    # Django's flush after a transactional test TRUNCATEs, which row triggers don't intercept;
    # this test passing its own teardown (and the next test starting empty) is the check.
    conversion_approve(affiliate=AffiliateFactory(), payout=Decimal("1"))
    assert LedgerEntry.objects.count() == 4


def test_after_the_flush_the_ledger_is_empty():
    # Runs after the test above (file order): its rows were truncated away.
    assert LedgerEntry.objects.count() == 0
    assert LedgerTransaction.objects.count() == 0
