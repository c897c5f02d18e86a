"""Reads of balances, payouts and statements. Balances are always sums of ledger entries."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TypedDict

from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from accounts.models import User
from core.exceptions import NotFoundError
from core.money import quantize_money
from payouts.models import (
    CREDIT_NORMAL_KINDS,
    AccountKind,
    LedgerAccount,
    LedgerEntry,
    OwnerType,
    PayoutMethod,
    PayoutRequest,
    TransactionKind,
)

_ZERO = Decimal("0.0000")
AFFILIATE_BALANCE_KINDS = (
    AccountKind.PENDING,
    AccountKind.AVAILABLE,
    AccountKind.REQUESTED,
    AccountKind.PAID,
)


def _displayed(kind: str, total: Decimal | None) -> Decimal:
    total = total or _ZERO
    return quantize_money(-total if kind in CREDIT_NORMAL_KINDS else total)


class _AccountSum(TypedDict):
    currency: str
    kind: str
    total: Decimal


def _sums(*, owner_type: str, owner_id: int) -> list[_AccountSum]:
    """One aggregate query: the sum of entries of every account the owner has."""
    return list(
        LedgerAccount.objects.filter(owner_type=owner_type, owner_id=owner_id)
        .values("currency", "kind")
        .annotate(total=Coalesce(Sum("entries__amount"), _ZERO))
        .order_by("currency", "kind")
    )


def affiliate_balances(*, affiliate_id: int) -> dict[str, dict[str, Decimal]]:
    """Per currency: `pending`, `available`, `requested`, `paid` as the affiliate sees them
    (positive = owed to / paid to the affiliate; `available` may be negative after a reversal)."""
    balances: dict[str, dict[str, Decimal]] = {}
    for row in _sums(owner_type=OwnerType.AFFILIATE, owner_id=affiliate_id):
        per_currency = balances.setdefault(
            row["currency"], dict.fromkeys(AFFILIATE_BALANCE_KINDS, _ZERO)
        )
        per_currency[row["kind"]] = _displayed(row["kind"], row["total"])
    return {
        currency: {str(kind): amount for kind, amount in kinds.items()}
        for currency, kinds in balances.items()
    }


def advertiser_balances(*, advertiser_id: int) -> dict[str, dict[str, Decimal]]:
    """Per currency: `receivable`, the revenue the advertiser owes the network."""
    return {
        row["currency"]: {"receivable": _displayed(row["kind"], row["total"])}
        for row in _sums(owner_type=OwnerType.ADVERTISER, owner_id=advertiser_id)
        if row["kind"] == AccountKind.RECEIVABLE
    }


def network_totals() -> dict[str, dict[str, Decimal]]:
    """Per currency: `revenue`, `payouts` (affiliates' earnings), `adjustments` and `margin`
    (revenue - payouts - adjustments). Admin-only information."""
    totals: dict[str, dict[str, Decimal]] = {}
    names: dict[str, str] = {
        AccountKind.REVENUE: "revenue",
        AccountKind.PAYOUT_EXPENSE: "payouts",
        AccountKind.ADJUSTMENTS: "adjustments",
    }
    for row in _sums(owner_type=OwnerType.NETWORK, owner_id=0):
        per_currency = totals.setdefault(row["currency"], dict.fromkeys(names.values(), _ZERO))
        if row["kind"] in names:  # cash received is not part of the margin
            per_currency[names[row["kind"]]] = _displayed(row["kind"], row["total"])
    for per_currency in totals.values():
        per_currency["margin"] = quantize_money(
            per_currency["revenue"] - per_currency["payouts"] - per_currency["adjustments"]
        )
    return totals


def payout_list(*, viewer: User) -> QuerySet[PayoutRequest]:
    """Affiliates see their own payout requests, admins all, everyone else none."""
    queryset = PayoutRequest.objects.select_related("affiliate__user", "decided_by").order_by("-id")
    if viewer.is_network_admin:
        return queryset
    if viewer.is_affiliate:
        return queryset.filter(affiliate_id=viewer.pk)
    return queryset.none()


def payout_get(*, viewer: User, payout_id: int) -> PayoutRequest:
    payout = payout_list(viewer=viewer).filter(pk=payout_id).first()
    if payout is None:
        raise NotFoundError("Payout not found.")
    return payout


def payout_method_list(*, viewer: User, include_archived: bool = False) -> QuerySet[PayoutMethod]:
    """Affiliates see their own payout methods, admins everyone's, everyone else none. Archived
    ones only when asked for."""
    queryset = PayoutMethod.objects.select_related("affiliate__user").order_by("id")
    if not include_archived:
        queryset = queryset.filter(archived_at__isnull=True)
    if viewer.is_network_admin:
        return queryset
    if viewer.is_affiliate:
        return queryset.filter(affiliate_id=viewer.pk)
    return queryset.none()


def payout_method_get(*, viewer: User, payout_method_id: int) -> PayoutMethod:
    method = (
        payout_method_list(viewer=viewer, include_archived=True).filter(pk=payout_method_id).first()
    )
    if method is None:
        raise NotFoundError("Payout method not found.")
    return method


@dataclass(frozen=True)
class Adjustment:
    """One manual adjustment, as its owner's balance moved: `amount` > 0 raised the affiliate's
    available balance, or what the advertiser owes."""

    id: int
    owner_type: str
    owner_id: int
    currency: str
    amount: Decimal
    reason: str
    actor_email: str
    created_at: datetime


def adjustment_list(
    *, owner_type: str | None = None, owner_id: int | None = None
) -> QuerySet[LedgerEntry]:
    """The owner side of every manual adjustment (admin information), newest first; read each
    row with `adjustment_from_entry`."""
    queryset = (
        LedgerEntry.objects.filter(
            transaction__kind=TransactionKind.ADJUSTMENT,
            account__owner_type__in=[OwnerType.AFFILIATE, OwnerType.ADVERTISER],
        )
        .select_related("account", "transaction__actor")
        .order_by("-transaction_id", "-id")
    )
    if owner_type:
        queryset = queryset.filter(account__owner_type=owner_type)
    if owner_id is not None:
        queryset = queryset.filter(account__owner_id=owner_id)
    return queryset


def adjustment_from_entry(entry: LedgerEntry) -> Adjustment:
    account = entry.account
    actor = entry.transaction.actor
    return Adjustment(
        id=entry.transaction_id,
        owner_type=account.owner_type,
        owner_id=account.owner_id,
        currency=account.currency,
        amount=_displayed(account.kind, entry.amount),
        reason=entry.transaction.memo,
        actor_email=actor.email if actor is not None else "",
        created_at=entry.transaction.created_at,
    )


@dataclass(frozen=True)
class StatementLine:
    """One ledger entry on an affiliate's account, signed as the affiliate sees it
    (positive = more owed to it on that account); `balance` is that account's balance after it."""

    entry_id: int
    transaction_id: int
    created_at: datetime
    transaction_kind: str
    account: str
    amount: Decimal
    balance: Decimal
    reference_type: str
    reference_id: int | None
    memo: str


def statement_lines(*, affiliate_id: int, currency: str) -> Iterator[StatementLine]:
    """Every ledger line on the affiliate's accounts in `currency`, oldest first, with the running
    balance of its account. Streams from the database (usable for large CSV exports)."""
    entries = (
        LedgerEntry.objects.filter(
            Q(account__owner_type=OwnerType.AFFILIATE)
            & Q(account__owner_id=affiliate_id)
            & Q(account__currency=currency)
        )
        .order_by("id")
        .values_list(
            "id",
            "transaction_id",
            "created_at",
            "transaction__kind",
            "account__kind",
            "amount",
            "transaction__reference_type",
            "transaction__reference_id",
            "transaction__memo",
        )
    )
    running: dict[str, Decimal] = {}
    for (
        entry_id,
        transaction_id,
        created_at,
        transaction_kind,
        account_kind,
        amount,
        reference_type,
        reference_id,
        memo,
    ) in entries.iterator(chunk_size=2000):
        shown = quantize_money(-amount)
        running[account_kind] = running.get(account_kind, _ZERO) + shown
        yield StatementLine(
            entry_id=entry_id,
            transaction_id=transaction_id,
            created_at=created_at,
            transaction_kind=transaction_kind,
            account=account_kind,
            amount=shown,
            balance=running[account_kind],
            reference_type=reference_type,
            reference_id=reference_id,
            memo=memo,
        )
