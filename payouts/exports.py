"""Streaming CSV exports: generators of text lines for Django's StreamingHttpResponse.

StreamingHttpResponse(payouts_csv(payouts), content_type="text/csv")
"""

from collections.abc import Iterator

from django.db.models import QuerySet

from core.csv_export import csv_lines
from payouts.models import PayoutRequest
from payouts.selectors import statement_lines

PAYOUT_COLUMNS = [
    "id",
    "affiliate_id",
    "affiliate_email",
    "amount",
    "currency",
    "method",
    "payout_details",
    "status",
    "reference",
    "created_at",
    "decided_at",
    "paid_at",
]
STATEMENT_COLUMNS = [
    "entry_id",
    "transaction_id",
    "created_at",
    "transaction_kind",
    "account",
    "amount",
    "balance",
    "reference_type",
    "reference_id",
    "conversion_id",
    "memo",
]


def payouts_csv(payouts: QuerySet[PayoutRequest]) -> Iterator[str]:
    """One line per payout request of `payouts` (already scoped by the caller's selector)."""
    rows = (
        [
            payout.pk,
            payout.affiliate_id,
            payout.affiliate.user.email,
            payout.amount,
            payout.currency,
            payout.method,
            payout.payout_details,
            payout.status,
            payout.reference,
            payout.created_at,
            payout.decided_at,
            payout.paid_at,
        ]
        for payout in payouts.select_related("affiliate__user").iterator(chunk_size=2000)
    )
    return csv_lines(PAYOUT_COLUMNS, rows)


def statement_csv(*, affiliate_id: int, currency: str) -> Iterator[str]:
    """Every ledger line on the affiliate's accounts in `currency`, with its conversion id."""
    rows = (
        [
            line.entry_id,
            line.transaction_id,
            line.created_at,
            line.transaction_kind,
            line.account,
            line.amount,
            line.balance,
            line.reference_type,
            line.reference_id,
            line.reference_id if line.reference_type == "conversion" else None,
            line.memo,
        ]
        for line in statement_lines(affiliate_id=affiliate_id, currency=currency)
    )
    return csv_lines(STATEMENT_COLUMNS, rows)
