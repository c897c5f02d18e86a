"""Ledger helpers for tests. Money only enters the ledger through its services, so these call
them instead of writing rows: a funded affiliate is one with approved conversions."""

import itertools
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from accounts.models import Advertiser, Affiliate
from accounts.tests.factories import DEFAULT_PASSWORD, AdvertiserFactory, AffiliateFactory
from payouts import ledger
from payouts.models import LedgerTransaction, PayoutMethod
from payouts.payout_methods import payout_method_create

# Conversions are referenced by id only; tests need ids that no real conversion will collide with.
_conversion_ids = itertools.count(9_000_000)
_event_ids = itertools.count(1)


def next_conversion_id() -> int:
    return next(_conversion_ids)


def conversion_status_change(
    *,
    conversion_id: int,
    affiliate: Affiliate,
    advertiser: Advertiser,
    from_status: str,
    to_status: str,
    payout: Decimal,
    revenue: Decimal | None = None,
    currency: str = "USD",
    hold_days: int = 0,
    at: datetime | None = None,
    event_key: str | None = None,
) -> LedgerTransaction | None:
    return ledger.ledger_conversion_status_changed(
        conversion_id=conversion_id,
        affiliate_id=affiliate.user_id,
        advertiser_id=advertiser.user_id,
        currency=currency,
        revenue=payout if revenue is None else revenue,
        payout=payout,
        from_status=from_status,
        to_status=to_status,
        hold_days=hold_days,
        at=at or timezone.now(),
        event_key=event_key or f"event-{next(_event_ids)}",
    )


def conversion_approve(
    *,
    affiliate: Affiliate,
    payout: Decimal,
    advertiser: Advertiser | None = None,
    revenue: Decimal | None = None,
    currency: str = "USD",
    hold_days: int = 0,
    at: datetime | None = None,
    conversion_id: int | None = None,
) -> tuple[int, LedgerTransaction]:
    """Approve a (pending) conversion in the ledger; returns its id and the posted transaction."""
    conversion_id = conversion_id or next_conversion_id()
    txn = conversion_status_change(
        conversion_id=conversion_id,
        affiliate=affiliate,
        advertiser=advertiser or AdvertiserFactory(),
        from_status="pending",
        to_status="approved",
        payout=payout,
        revenue=revenue,
        currency=currency,
        hold_days=hold_days,
        at=at,
    )
    assert txn is not None
    return conversion_id, txn


def funded_affiliate(*, available: Decimal, currency: str = "USD", **kwargs) -> Affiliate:
    """An approved affiliate whose available balance is `available` (one approved conversion)."""
    affiliate = AffiliateFactory(**kwargs)
    conversion_approve(affiliate=affiliate, payout=available, currency=currency)
    return affiliate


# Real, valid examples (the IBAN is the one the IBAN registry documents for Germany).
GOOD_IBAN = "DE89 3704 0044 0532 0130 00"
GOOD_IBAN_COMPACT = "DE89370400440532013000"


def payout_method_add(
    *, affiliate: Affiliate, kind: str = "bank", details: dict | None = None, **kwargs
) -> PayoutMethod:
    """A saved payout method, made as the affiliate makes it (its password confirms it)."""
    defaults = {
        "bank": {"account_holder": "Pat Doe", "iban": GOOD_IBAN, "bic": "COBADEFFXXX"},
        "paypal": {"email": "pat@example.test"},
        "wire": {
            "account_holder": "Pat Doe",
            "bank_name": "First Bank",
            "account_number": "000123456789",
            "swift_bic": "CHASUS33",
            "bank_address": "1 Main St, New York",
        },
        "crypto": {
            "currency": "USDT",
            "network": "tron",
            "address": "TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7",
        },
    }
    return payout_method_create(
        affiliate=affiliate,
        actor=affiliate.user,
        password=DEFAULT_PASSWORD,
        kind=kind,
        details=defaults[kind] if details is None else details,
        **kwargs,
    )
