"""Money is Decimal end to end: no float in models or code; amounts round-trip exactly."""

import re
from decimal import Decimal
from fractions import Fraction
from math import floor
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db import models, transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.tests.factories import AdvertiserFactory, AffiliateFactory
from core.money import quantize_money, revshare_payout
from payouts import ledger, selectors
from payouts.models import AccountKind, LedgerEntry, TransactionKind
from payouts.tests.factories import conversion_status_change, next_conversion_id

SKIPPED_DIRS = {"node_modules", "staticfiles", "var", "__pycache__"}
FLOAT_CALL = re.compile(r"\bfloat\(")
# A line may call float only for something that is not money, and must say so.
NOT_MONEY_MARKER = "# not money:"


def test_no_model_of_any_app_has_a_float_field():
    # Every installed app, Django's and third parties' included: none may store a float.
    floats = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.FloatField)
    ]
    assert floats == []


def test_no_project_code_calls_float():
    root = Path(settings.BASE_DIR)
    paths = [
        path
        for path in sorted(root.rglob("*.py"))
        if not any(part.startswith(".") or part in SKIPPED_DIRS for part in path.parts)
        and path != Path(__file__)
    ]
    offenders = [
        f"{path.relative_to(root)}:{number}: {line.strip()}"
        for path in paths
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if FLOAT_CALL.search(line.split("#", 1)[0]) and NOT_MONEY_MARKER not in line
    ]
    assert offenders == []


def half_up(value: Decimal | Fraction) -> Decimal:
    """An oracle independent of Decimal.quantize: round half away from zero to 4 places."""
    scaled = abs(Fraction(value)) * 10_000
    rounded = floor(scaled + Fraction(1, 2))
    sign = -1 if value < 0 else 1
    return Decimal(sign * rounded) / Decimal(10_000)


# Amounts with up to 8 places, and exact ties (x.xxxx5) that half-up must round away from zero.
ties = st.integers(min_value=0, max_value=10**12).map(
    lambda n: Decimal(n) / Decimal(10_000) + Decimal("0.00005")
)
raw_amounts = st.one_of(
    ties,
    st.decimals(min_value=0, max_value=Decimal(10**9), places=8),
    st.decimals(min_value=0, max_value=Decimal(10**9), places=4),
)
percents = st.decimals(min_value=0, max_value=100, places=4)


def test_half_up_oracle_examples():
    assert half_up(Decimal("1.00005")) == Decimal("1.0001")
    assert half_up(Decimal("-1.00005")) == Decimal("-1.0001")
    assert half_up(Decimal("2.00004999")) == Decimal("2.0000")
    assert quantize_money(Decimal("0.00005")) == Decimal("0.0001")


@pytest.mark.django_db
@hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(revenue=raw_amounts, percent=percents)
def test_every_computed_amount_reads_back_from_postgresql_exactly(revenue, percent):
    with transaction.atomic():
        # given
        affiliate, advertiser = AffiliateFactory(), AdvertiserFactory()
        payout = revshare_payout(revenue=quantize_money(revenue), percent=percent)
        expected_revenue = half_up(revenue)
        expected_payout = half_up(Fraction(expected_revenue) * Fraction(percent) / 100)

        # when
        txn = conversion_status_change(
            conversion_id=next_conversion_id(),
            affiliate=affiliate,
            advertiser=advertiser,
            from_status="pending",
            to_status="approved",
            revenue=revenue,
            payout=payout,
        )

        # then: every amount is stored as computed, to the last place
        stored = {
            (kind, amount)
            for kind, amount in LedgerEntry.objects.filter(transaction=txn).values_list(
                "account__kind", "amount"
            )
        }
        expected = {
            (AccountKind.RECEIVABLE, expected_revenue),
            (AccountKind.REVENUE, -expected_revenue),
            (AccountKind.PAYOUT_EXPENSE, expected_payout),
            (AccountKind.AVAILABLE, -expected_payout),
        }
        assert stored == {(k, a) for k, a in expected if a != 0}
        assert all(isinstance(amount, Decimal) for _, amount in stored)
        assert selectors.affiliate_balances(affiliate_id=affiliate.user_id).get("USD", {}).get(
            "available", Decimal(0)
        ) == (expected_payout)
        transaction.set_rollback(True)


@pytest.mark.django_db
@hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(amount=raw_amounts, is_credit=st.booleans())
def test_posted_lines_round_half_up_symmetrically_and_stay_balanced(amount, is_credit):
    with transaction.atomic():
        affiliate = AffiliateFactory()
        signed = amount if is_credit else -amount
        available = ledger.affiliate_account(
            affiliate_id=affiliate.user_id, kind=AccountKind.AVAILABLE, currency="EUR"
        )
        adjustments = ledger.network_account(kind=AccountKind.ADJUSTMENTS, currency="EUR")

        txn = ledger.ledger_post(
            kind=TransactionKind.ADJUSTMENT,
            lines=[(available, -signed), (adjustments, signed)],
            reference_type="test",
            reference_id=None,
            idempotency_key=f"prop-{affiliate.user_id}",
        )

        stored = dict(
            LedgerEntry.objects.filter(transaction=txn).values_list("account_id", "amount")
        )
        if half_up(signed) == 0:
            assert stored == {}
        else:
            assert stored == {available.pk: half_up(-signed), adjustments.pk: half_up(signed)}
            assert sum(stored.values()) == 0
        transaction.set_rollback(True)
