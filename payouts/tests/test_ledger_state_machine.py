"""A random walk through everything that moves an affiliate's money, checked after every step."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from accounts.tests.factories import AdminUserFactory, AdvertiserFactory, AffiliateFactory
from core.exceptions import ApplicationError
from payouts import ledger, selectors, services
from payouts.models import LedgerEntry, OwnerType, PayoutRequest
from payouts.tests.factories import conversion_status_change, next_conversion_id

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ZERO = Decimal("0.0000")
HOLD_DAYS = 2
KINDS = ("pending", "available", "requested", "paid")

amounts = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("500"), places=4)
picks = st.integers(min_value=0, max_value=10_000)


@dataclass
class ModelConversion:
    id: int
    payout: Decimal
    status: str  # approved | rejected | reversed
    where: str  # pending | available: where its payout sits while approved
    release_at: datetime | None


@dataclass
class ModelPayout:
    payout: PayoutRequest
    amount: Decimal
    status: str


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # Each example runs in a savepoint of the test's transaction and leaves nothing behind.
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.admin = AdminUserFactory()
        self.affiliate = AffiliateFactory()
        self.advertiser = AdvertiserFactory()
        self.now = T0
        self.conversions: list[ModelConversion] = []
        self.payouts: list[ModelPayout] = []
        self.balance = dict.fromkeys(KINDS, ZERO)
        self.money_left_available = False  # a payout request or a debit adjustment happened
        self.debt_allowed = False  # a reversal took from available after money had left it

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    def _change(self, conversion: ModelConversion, to_status: str, hold_days: int = 0):
        return conversion_status_change(
            conversion_id=conversion.id,
            affiliate=self.affiliate,
            advertiser=self.advertiser,
            from_status=conversion.status,
            to_status=to_status,
            payout=conversion.payout,
            revenue=conversion.payout * 2,
            hold_days=hold_days,
            at=self.now,
        )

    def _approve(self, conversion: ModelConversion, hold: bool) -> None:
        self._change(conversion, "approved", hold_days=HOLD_DAYS if hold else 0)
        conversion.status = "approved"
        conversion.where = "pending" if hold else "available"
        conversion.release_at = self.now + timedelta(days=HOLD_DAYS) if hold else None
        self.balance[conversion.where] += conversion.payout

    # --- conversions ---------------------------------------------------------------------

    @rule(payout=amounts, hold=st.booleans())
    def approve_conversion(self, payout: Decimal, hold: bool) -> None:
        conversion = ModelConversion(next_conversion_id(), payout, "pending", "", None)
        self.conversions.append(conversion)
        self._approve(conversion, hold)

    @precondition(lambda self: any(c.status == "approved" for c in self.conversions))
    @rule(pick=picks, to_status=st.sampled_from(["reversed", "rejected"]))
    def reverse_conversion(self, pick: int, to_status: str) -> None:
        approved = [c for c in self.conversions if c.status == "approved"]
        conversion = approved[pick % len(approved)]
        self._change(conversion, to_status)
        self.balance[conversion.where] -= conversion.payout
        if conversion.where == "available" and self.money_left_available:
            self.debt_allowed = True
        conversion.status = to_status

    @precondition(lambda self: any(c.status == "rejected" for c in self.conversions))
    @rule(pick=picks, hold=st.booleans())
    def reapprove_conversion(self, pick: int, hold: bool) -> None:
        rejected = [c for c in self.conversions if c.status == "rejected"]
        self._approve(rejected[pick % len(rejected)], hold)

    @rule(days=st.integers(min_value=0, max_value=3))
    def release_holds(self, days: int) -> None:
        self.now += timedelta(days=days)
        due = [
            c
            for c in self.conversions
            if c.status == "approved" and c.where == "pending" and c.release_at <= self.now
        ]
        moved = ledger.ledger_hold_release_due(now=self.now)
        assert moved == len(due)
        for conversion in due:
            conversion.where = "available"
            self.balance["pending"] -= conversion.payout
            self.balance["available"] += conversion.payout

    # --- payouts --------------------------------------------------------------------------

    @rule(amount=amounts)
    def request_payout(self, amount: Decimal) -> None:
        if Decimal(1) <= amount <= self.balance["available"]:
            payout = services.payout_request_create(
                affiliate=self.affiliate, amount=amount, currency="USD"
            )
            self.payouts.append(ModelPayout(payout, amount, "requested"))
            self.balance["available"] -= amount
            self.balance["requested"] += amount
            self.money_left_available = True
        else:
            with pytest.raises(ApplicationError) as error:
                services.payout_request_create(
                    affiliate=self.affiliate, amount=amount, currency="USD"
                )
            expected = "below_minimum" if amount < 1 else "insufficient_balance"
            assert error.value.code == expected

    def _payouts_in(self, *statuses: str) -> list[ModelPayout]:
        return [p for p in self.payouts if p.status in statuses]

    @precondition(lambda self: self._payouts_in("requested"))
    @rule(pick=picks)
    def approve_payout(self, pick: int) -> None:
        candidates = self._payouts_in("requested")
        model = candidates[pick % len(candidates)]
        model.payout = services.payout_approve(payout=model.payout, actor=self.admin)
        model.status = "approved"

    @precondition(lambda self: self._payouts_in("approved"))
    @rule(pick=picks)
    def pay_payout(self, pick: int) -> None:
        candidates = self._payouts_in("approved")
        model = candidates[pick % len(candidates)]
        model.payout = services.payout_mark_paid(
            payout=model.payout, actor=self.admin, reference=f"REF-{model.payout.pk}"
        )
        model.status = "paid"
        self.balance["requested"] -= model.amount
        self.balance["paid"] += model.amount

    @precondition(lambda self: self._payouts_in("requested", "approved"))
    @rule(pick=picks)
    def reject_payout(self, pick: int) -> None:
        candidates = self._payouts_in("requested", "approved")
        model = candidates[pick % len(candidates)]
        model.payout = services.payout_reject(payout=model.payout, actor=self.admin, reason="no")
        model.status = "rejected"
        self.balance["requested"] -= model.amount
        self.balance["available"] += model.amount

    @precondition(lambda self: self._payouts_in("rejected", "paid"))
    @rule(pick=picks, action=st.sampled_from(["approve", "pay", "reject"]))
    def decided_payout_refuses_more(self, pick: int, action: str) -> None:
        candidates = self._payouts_in("rejected", "paid")
        model = candidates[pick % len(candidates)]
        calls = {
            "approve": lambda: services.payout_approve(payout=model.payout, actor=self.admin),
            "pay": lambda: services.payout_mark_paid(
                payout=model.payout, actor=self.admin, reference="X"
            ),
            "reject": lambda: services.payout_reject(payout=model.payout, actor=self.admin),
        }
        with pytest.raises(ApplicationError) as error:
            calls[action]()
        assert error.value.code == "invalid_transition"

    # --- adjustments ------------------------------------------------------------------------

    @rule(amount=amounts, is_credit=st.booleans())
    def adjust(self, amount: Decimal, is_credit: bool) -> None:
        if not is_credit:
            # Admin debits stay within what is available; only reversals may create a debt.
            amount = -min(amount, max(self.balance["available"], ZERO))
            if amount == 0:
                return
            self.money_left_available = True
        ledger.ledger_adjustment_post(
            affiliate_id=self.affiliate.user_id,
            currency="USD",
            amount=amount,
            reason="state machine",
            actor=self.admin,
        )
        self.balance["available"] += amount

    # --- invariants -------------------------------------------------------------------------

    @invariant()
    def every_transaction_sums_to_zero_and_is_unaltered(self) -> None:
        assert ledger.ledger_reconcile() == []

    @invariant()
    def displayed_balances_are_the_sums_of_entries_and_match_the_model(self) -> None:
        shown = selectors.affiliate_balances(affiliate_id=self.affiliate.user_id).get(
            "USD", dict.fromkeys(KINDS, ZERO)
        )
        sums = {
            row["account__kind"]: -row["total"]
            for row in LedgerEntry.objects.filter(
                account__owner_type=OwnerType.AFFILIATE, account__owner_id=self.affiliate.user_id
            )
            .values("account__kind")
            .annotate(total=Sum("amount"))
        }
        assert shown == {kind: sums.get(kind, ZERO) for kind in KINDS}
        assert shown == self.balance

    @invariant()
    def available_is_negative_only_after_a_reversal_that_followed_a_payout(self) -> None:
        assert self.balance["pending"] >= 0
        assert self.balance["requested"] >= 0
        if self.balance["available"] < 0:
            assert self.debt_allowed


@pytest.mark.django_db
def test_ledger_state_machine(settings):
    settings.PAYOUT_MINIMUM_AMOUNT = "1"
    run_state_machine_as_test(
        LedgerMachine,
        settings=hypothesis_settings(max_examples=40, stateful_step_count=30, deadline=None),
    )
