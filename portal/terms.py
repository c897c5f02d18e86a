"""Payout terms in words, the same on every page: `$12.00`, `30.00% of revenue`."""

from decimal import Decimal

from campaigns.models import PayoutType
from core.formatting import format_money, format_percent


def terms_text(
    *, payout_type: str, payout_amount: Decimal, revshare_percent: Decimal, currency: str
) -> str:
    if payout_type == PayoutType.REVSHARE:
        return f"{format_percent(revshare_percent)} of revenue"
    return format_money(payout_amount, currency)


def source_terms_text(source, currency: str) -> str:
    """The terms of an event, a pricing rule or `PayoutTerms` (anything with the three fields)."""
    return terms_text(
        payout_type=source.payout_type,
        payout_amount=source.payout_amount,
        revshare_percent=source.revshare_percent,
        currency=currency,
    )
