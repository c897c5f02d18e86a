"""Ledger services: the only code that writes ledger rows.

Every posting is one balanced `LedgerTransaction` with its entries (see payouts/models.py for the
sign convention), idempotent by its unique `idempotency_key`: posting the same key twice returns
the first transaction and writes nothing.
"""

import functools
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import uuid4

from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.db.models.functions import Round
from django.utils import timezone

from accounts.models import User
from core.currencies import CURRENCY_CODES
from core.exceptions import ApplicationError
from core.money import MONEY_DECIMAL_PLACES, quantize_money
from core.sql import execute_fetchall, model_columns, model_from_row, model_insert, rows_insert
from payouts.models import (
    KINDS_BY_OWNER,
    NETWORK_OWNER_ID,
    AccountKind,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    OwnerType,
    TransactionKind,
)

CONVERSION_REFERENCE = "conversion"
ADJUSTMENT_REFERENCE = "adjustment"
_APPROVED = "approved"
_OUT_OF_APPROVED = frozenset({"reversed", "rejected"})
_ZERO = Decimal("0.0000")


def transaction_checksum(
    *,
    kind: str,
    reference_type: str,
    reference_id: int | None,
    idempotency_key: str,
    entries: Iterable[tuple[int, Decimal]],
) -> str:
    """A fingerprint of what a transaction moved, recomputed by the reconciliation job."""
    lines = sorted((account_id, f"{amount:.4f}") for account_id, amount in entries)
    payload = json.dumps(
        [kind, reference_type, reference_id, idempotency_key, lines], separators=(",", ":")
    )
    return hashlib.sha256(payload.encode()).hexdigest()


AccountSpec = tuple[str, int, str, str]  # (owner_type, owner_id, kind, currency)


def _account_spec_check(owner_type: str, kind: str, currency: str) -> None:
    if kind not in KINDS_BY_OWNER.get(owner_type, frozenset()):
        raise ApplicationError(
            f"A {owner_type} has no {kind} account.", code="invalid_account", status=500
        )
    if currency not in CURRENCY_CODES:
        raise ApplicationError(
            f"Unknown currency {currency!r}.",
            code="invalid_currency",
            fields={"currency": ["Use an ISO 4217 code."]},
        )


@functools.cache
def _accounts_select_sql(count: int) -> str:
    # Row-value IN over the unique (owner_type, owner_id, kind, currency): one index probe each.
    table = LedgerAccount._meta.db_table
    keys = ", ".join(["(%s, %s, %s, %s)"] * count)
    return (
        f"SELECT {model_columns(LedgerAccount, 'a')} FROM {table} a "  # noqa: S608 - model names
        f"WHERE (a.owner_type, a.owner_id, a.kind, a.currency) IN ({keys})"
    )


def _accounts_select(specs: list[AccountSpec]) -> dict[AccountSpec, LedgerAccount]:
    rows = execute_fetchall(
        _accounts_select_sql(len(specs)), [value for spec in specs for value in spec]
    )
    accounts = (model_from_row(LedgerAccount, row) for row in rows)
    return {
        (account.owner_type, account.owner_id, account.kind, account.currency): account
        for account in accounts
    }


def ledger_accounts(specs: list[AccountSpec]) -> list[LedgerAccount]:
    """Get or create several accounts at once, without races; returned in the order asked.

    One query when they all exist (the usual case). Missing ones are inserted with
    INSERT ... ON CONFLICT DO NOTHING, which waits for a concurrent insert of the same account and
    then does nothing, so the second read always finds every row; no savepoint is needed.
    """
    # Choices members hash unlike their values: plain str/int keys match the rows read back.
    specs = [
        (str(owner), int(owner_id), str(kind), str(cur)) for owner, owner_id, kind, cur in specs
    ]
    for owner_type, _, kind, currency in specs:
        _account_spec_check(owner_type, kind, currency)
    unique = list(dict.fromkeys(specs))
    found = _accounts_select(unique)
    missing = [spec for spec in unique if spec not in found]
    if missing:
        LedgerAccount.objects.bulk_create(
            [
                LedgerAccount(
                    owner_type=owner_type, owner_id=owner_id, kind=kind, currency=currency
                )
                for owner_type, owner_id, kind, currency in missing
            ],
            ignore_conflicts=True,
        )
        found.update(_accounts_select(missing))
    return [found[spec] for spec in specs]


def ledger_account(*, owner_type: str, owner_id: int, kind: str, currency: str) -> LedgerAccount:
    """Get or create an account without races (see `ledger_accounts`)."""
    return ledger_accounts([(owner_type, owner_id, kind, currency)])[0]


def affiliate_account(*, affiliate_id: int, kind: str, currency: str) -> LedgerAccount:
    return ledger_account(
        owner_type=OwnerType.AFFILIATE, owner_id=affiliate_id, kind=kind, currency=currency
    )


def network_account(*, kind: str, currency: str) -> LedgerAccount:
    return ledger_account(
        owner_type=OwnerType.NETWORK, owner_id=NETWORK_OWNER_ID, kind=kind, currency=currency
    )


def ledger_post(
    *,
    kind: str,
    lines: list[tuple[LedgerAccount, Decimal]],
    reference_type: str,
    reference_id: int | None,
    idempotency_key: str,
    memo: str = "",
    actor: User | None = None,
    release_at: datetime | None = None,
    source_transaction: LedgerTransaction | None = None,
) -> LedgerTransaction:
    """Post one balanced transaction, or return the one already posted under `idempotency_key`.

    Amounts are quantized (4 places, half-up) first; zero lines are dropped; the remaining lines
    must sum to zero per currency (`unbalanced` otherwise). A duplicate key writes nothing
    (INSERT ... ON CONFLICT DO NOTHING, no exception), so the caller's transaction stays usable
    without a savepoint. Three statements when the key is new (transaction, entries in one
    INSERT).
    """
    quantized = [(account, quantize_money(Decimal(amount))) for account, amount in lines]
    quantized = [(account, amount) for account, amount in quantized if amount != 0]
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for account, amount in quantized:
        totals[account.currency] += amount
    unbalanced = {currency: str(total) for currency, total in totals.items() if total != 0}
    if unbalanced:
        raise ApplicationError(
            "Ledger lines do not sum to zero.",
            code="unbalanced",
            status=500,
            extra={"unbalanced": unbalanced},
        )
    now = timezone.now()
    checksum = transaction_checksum(
        kind=kind,
        reference_type=reference_type,
        reference_id=reference_id,
        idempotency_key=idempotency_key,
        entries=[(account.pk, amount) for account, amount in quantized],
    )
    posted = LedgerTransaction(
        kind=kind,
        reference_type=reference_type,
        reference_id=reference_id,
        idempotency_key=idempotency_key,
        memo=memo[:500],
        actor=actor,
        created_at=now,
        release_at=release_at,
        source_transaction=source_transaction,
        checksum=checksum,
    )
    # No savepoint needed in a caller's transaction: a duplicate key is not an error here.
    # Outside one, the transaction and its entries still commit together.
    with transaction.atomic(savepoint=False):
        if not model_insert(posted, on_conflict_do_nothing=True):
            existing = LedgerTransaction.objects.filter(idempotency_key=idempotency_key).first()
            if existing is None:
                # Another unique constraint (a second release of one approval): a real conflict.
                raise IntegrityError(
                    f"ledger transaction {idempotency_key!r} conflicts with an existing one"
                )
            return existing
        rows_insert(
            LedgerEntry,
            ("transaction", "account", "amount", "created_at"),
            [(posted.pk, account.pk, amount, now) for account, amount in quantized],
        )
    return posted


def conversion_holdings(*, conversion_id: int) -> dict[int, Decimal]:
    """What a conversion currently holds on each account: account id -> sum of its entries."""
    rows = (
        LedgerEntry.objects.filter(
            transaction__reference_type=CONVERSION_REFERENCE,
            transaction__reference_id=conversion_id,
        )
        .values("account_id")
        .annotate(total=Sum("amount"))
        .order_by("account_id")
    )
    return {row["account_id"]: row["total"] for row in rows if row["total"] != 0}


def account_lock(account: LedgerAccount) -> LedgerAccount:
    # FOR NO KEY UPDATE: serializes the writers that take this lock (reversals, hold releases,
    # payout requests) without blocking ordinary postings, whose entry inserts only take KEY SHARE.
    return LedgerAccount.objects.select_for_update(no_key=True).get(pk=account.pk)


def ledger_conversion_status_changed(
    *,
    conversion_id: int,
    affiliate_id: int,
    advertiser_id: int,
    currency: str,
    revenue: Decimal,
    payout: Decimal,
    from_status: str,
    to_status: str,
    hold_days: int,
    at: datetime,
    event_key: str,
) -> LedgerTransaction | None:
    """Post the money side of a conversion's status change; call it inside the change's transaction.

    - into `approved` (from any other status): the advertiser owes `revenue` (receivable vs network
      revenue) and the network owes the affiliate `payout` (payout expense vs the affiliate's
      `pending`, released `at + hold_days`; or straight to `available` when `hold_days` is 0);
    - out of `approved` into `reversed` or `rejected`: the exact negation of what the conversion
      holds on every account now, so a reversal before the hold release takes from `pending` and
      after it from `available` (which may go negative until the next earnings absorb it);
    - anything else: nothing, returns None.

    Idempotent per (`conversion_id`, `event_key`): the key names the status change (for example
    the conversion history row), and a repeat returns the transaction already posted.
    """
    idempotency_key = f"conversion:{conversion_id}:{event_key}"
    memo = f"conversion {conversion_id}: {from_status or '-'} -> {to_status}"
    if to_status == _APPROVED and from_status != _APPROVED:
        return _conversion_approve(
            conversion_id=conversion_id,
            affiliate_id=affiliate_id,
            advertiser_id=advertiser_id,
            currency=currency,
            revenue=revenue,
            payout=payout,
            hold_days=hold_days,
            at=at,
            idempotency_key=idempotency_key,
            memo=memo,
        )
    if from_status == _APPROVED and to_status in _OUT_OF_APPROVED:
        return _conversion_unwind(
            conversion_id=conversion_id,
            affiliate_id=affiliate_id,
            currency=currency,
            idempotency_key=idempotency_key,
            memo=memo,
        )
    return None


def _conversion_approve(
    *,
    conversion_id: int,
    affiliate_id: int,
    advertiser_id: int,
    currency: str,
    revenue: Decimal,
    payout: Decimal,
    hold_days: int,
    at: datetime,
    idempotency_key: str,
    memo: str,
) -> LedgerTransaction:
    revenue = quantize_money(revenue)
    payout = quantize_money(payout)
    if revenue < 0 or payout < 0:
        raise ApplicationError("Revenue and payout cannot be negative.", code="invalid_amount")
    is_held = hold_days > 0 and payout > 0
    affiliate_kind = AccountKind.PENDING if is_held else AccountKind.AVAILABLE
    receivable, network_revenue, network_expense, affiliate = ledger_accounts(
        [
            (OwnerType.ADVERTISER, advertiser_id, AccountKind.RECEIVABLE, currency),
            (OwnerType.NETWORK, NETWORK_OWNER_ID, AccountKind.REVENUE, currency),
            (OwnerType.NETWORK, NETWORK_OWNER_ID, AccountKind.PAYOUT_EXPENSE, currency),
            (OwnerType.AFFILIATE, affiliate_id, affiliate_kind, currency),
        ]
    )
    lines = [
        (receivable, revenue),
        (network_revenue, -revenue),
        (network_expense, payout),
        (affiliate, -payout),
    ]
    return ledger_post(
        kind=TransactionKind.CONVERSION_APPROVED,
        lines=lines,
        reference_type=CONVERSION_REFERENCE,
        reference_id=conversion_id,
        idempotency_key=idempotency_key,
        memo=memo,
        release_at=at + timedelta(days=hold_days) if is_held else None,
    )


def _conversion_unwind(
    *, conversion_id: int, affiliate_id: int, currency: str, idempotency_key: str, memo: str
) -> LedgerTransaction | None:
    # The same lock the hold release takes: a reversal and a release of one conversion never
    # both read the holdings before the other has posted.
    account_lock(
        affiliate_account(affiliate_id=affiliate_id, kind=AccountKind.PENDING, currency=currency)
    )
    holdings = conversion_holdings(conversion_id=conversion_id)
    if not holdings:
        # Already unwound (a repeat of this event) or nothing was ever posted.
        return LedgerTransaction.objects.filter(idempotency_key=idempotency_key).first()
    accounts = LedgerAccount.objects.in_bulk(list(holdings))
    return ledger_post(
        kind=TransactionKind.CONVERSION_REVERSED,
        lines=[(accounts[account_id], -total) for account_id, total in holdings.items()],
        reference_type=CONVERSION_REFERENCE,
        reference_id=conversion_id,
        idempotency_key=idempotency_key,
        memo=memo,
    )


def ledger_hold_release_due(*, now: datetime, batch_size: int = 500) -> int:
    """Move every approval whose hold has ended from `pending` to `available`; return how many.

    Each approval is released in its own short transaction, at most once (idempotency key
    `hold-release:<approval id>` and a unique link to the approval), so running this twice, or in
    two workers at once, is harmless. An approval that was reversed, or superseded by a later
    approval of the same conversion, gets an empty release that only marks it done.
    """
    moved = 0
    while True:
        due = list(
            LedgerTransaction.objects.filter(
                kind=TransactionKind.CONVERSION_APPROVED,
                release_at__lte=now,
                release__isnull=True,
            )
            .order_by("release_at", "id")
            .values_list("id", flat=True)[:batch_size]
        )
        for approval_id in due:
            if _hold_release(approval_id=approval_id):
                moved += 1
        if len(due) < batch_size:
            return moved


@transaction.atomic
def _hold_release(*, approval_id: int) -> bool:
    approval = LedgerTransaction.objects.get(pk=approval_id)
    held_entry = (
        approval.entries.select_related("account")
        .filter(account__owner_type=OwnerType.AFFILIATE, account__kind=AccountKind.PENDING)
        .first()
    )
    amount = _ZERO
    lines: list[tuple[LedgerAccount, Decimal]] = []
    if held_entry is not None:
        pending = account_lock(held_entry.account)
        is_superseded = LedgerTransaction.objects.filter(
            reference_type=approval.reference_type,
            reference_id=approval.reference_id,
            id__gt=approval.id,
            kind__in=[TransactionKind.CONVERSION_APPROVED, TransactionKind.CONVERSION_REVERSED],
        ).exists()
        if not is_superseded:
            still_held = -(
                LedgerEntry.objects.filter(
                    account=pending,
                    transaction__reference_type=approval.reference_type,
                    transaction__reference_id=approval.reference_id,
                ).aggregate(total=Sum("amount"))["total"]
                or _ZERO
            )
            amount = max(_ZERO, min(still_held, -held_entry.amount))
        if amount > 0:
            available = affiliate_account(
                affiliate_id=pending.owner_id, kind=AccountKind.AVAILABLE, currency=pending.currency
            )
            lines = [(pending, amount), (available, -amount)]
    ledger_post(
        kind=TransactionKind.HOLD_RELEASED,
        lines=lines,
        reference_type=approval.reference_type,
        reference_id=approval.reference_id,
        idempotency_key=f"hold-release:{approval.id}",
        memo=f"hold released for transaction {approval.id}",
        source_transaction=approval,
    )
    return amount > 0


def ledger_adjustment_post(
    *,
    currency: str,
    amount: Decimal,
    reason: str,
    actor: User | None,
    affiliate_id: int | None = None,
    advertiser_id: int | None = None,
    idempotency_key: str | None = None,
) -> LedgerTransaction:
    """A manual correction of one owner's balance, signed as that owner's balance moves:

    - `affiliate_id`: its `available` balance (> 0 credits the affiliate, < 0 takes back);
    - `advertiser_id`: its `receivable`, what it owes (> 0 bills more, < 0 is a credit note).

    The counterpart is the network's `adjustments` account either way, so the network's margin
    moves by the opposite of an affiliate's adjustment and with an advertiser's. Without an
    `idempotency_key` every call posts a new adjustment; callers that may retry pass their own.
    """
    if affiliate_id is not None and advertiser_id is not None:
        raise ApplicationError(
            "Name exactly one affiliate or advertiser.", code="invalid_owner", status=500
        )
    reason = reason.strip()
    if not reason:
        raise ApplicationError(
            "An adjustment needs a reason.",
            code="reason_required",
            fields={"reason": ["Required."]},
        )
    amount = quantize_money(Decimal(amount))
    if amount == 0:
        raise ApplicationError(
            "An adjustment cannot be zero.",
            code="invalid_amount",
            fields={"amount": ["Must not be zero."]},
        )
    if affiliate_id is not None:
        owner = affiliate_account(
            affiliate_id=affiliate_id, kind=AccountKind.AVAILABLE, currency=currency
        )
        owner_line = -amount  # credit-normal: a credit raises what the affiliate sees
    elif advertiser_id is not None:
        owner = ledger_account(
            owner_type=OwnerType.ADVERTISER,
            owner_id=advertiser_id,
            kind=AccountKind.RECEIVABLE,
            currency=currency,
        )
        owner_line = amount  # debit-normal: a debit raises what the advertiser owes
    else:
        raise ApplicationError(
            "Name exactly one affiliate or advertiser.", code="invalid_owner", status=500
        )
    return ledger_post(
        kind=TransactionKind.ADJUSTMENT,
        lines=[
            (owner, owner_line),
            (network_account(kind=AccountKind.ADJUSTMENTS, currency=currency), -owner_line),
        ],
        reference_type=ADJUSTMENT_REFERENCE,
        reference_id=None,
        idempotency_key=idempotency_key or f"adjustment:{uuid4().hex}",
        memo=reason,
        actor=actor,
    )


_LEDGER_TABLES = (LedgerTransaction._meta.db_table, LedgerEntry._meta.db_table)
# The triggers of migrations payouts 0002 and 0004, per database.
_IMMUTABLE_TRIGGERS = {
    "postgresql": tuple(f"{table}_immutable" for table in _LEDGER_TABLES),
    "sqlite": tuple(f"{table}_no_{op}" for table in _LEDGER_TABLES for op in ("update", "delete")),
}


def ledger_reconcile(*, batch_size: int = 2000) -> list[str]:
    """Read-only audit of the whole ledger; returns one line per problem (empty = all good).

    Checks that every transaction's entries sum to zero per currency, that every transaction still
    matches the checksum written when it was posted (an entry altered, added or removed behind
    the triggers' back changes it), and that the immutability triggers exist and are enabled
    (PostgreSQL and SQLite).
    """
    problems: list[str] = []
    unbalanced = (
        LedgerEntry.objects.values("transaction_id", "account__currency")
        # Rounded: on SQLite amounts are binary floats, and 0.1 + 0.2 - 0.3 is not 0 there.
        .annotate(total=Round(Sum("amount"), MONEY_DECIMAL_PLACES))
        .exclude(total=0)
        .order_by("transaction_id")
    )
    problems += [
        f"transaction {row['transaction_id']} sums to {row['total']} {row['account__currency']}"
        for row in unbalanced
    ]
    last_id = 0
    while True:
        batch = list(
            LedgerTransaction.objects.filter(id__gt=last_id)
            .order_by("id")
            .values_list(
                "id", "kind", "reference_type", "reference_id", "idempotency_key", "checksum"
            )[:batch_size]
        )
        if not batch:
            break
        entries: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
        for transaction_id, account_id, amount in LedgerEntry.objects.filter(
            transaction_id__in=[row[0] for row in batch]
        ).values_list("transaction_id", "account_id", "amount"):
            entries[transaction_id].append((account_id, amount))
        for txn_id, kind, reference_type, reference_id, idempotency_key, checksum in batch:
            expected = transaction_checksum(
                kind=kind,
                reference_type=reference_type,
                reference_id=reference_id,
                idempotency_key=idempotency_key,
                entries=entries[txn_id],
            )
            if expected != checksum:
                problems.append(f"transaction {txn_id} does not match its checksum")
        last_id = batch[-1][0]
    triggers = _IMMUTABLE_TRIGGERS.get(connection.vendor, ())
    if triggers:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT tgname FROM pg_trigger WHERE tgname = ANY(%s) AND tgenabled <> 'D'",
                    [list(triggers)],
                )
            else:  # SQLite triggers cannot be disabled, only dropped
                cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            enabled = {row[0] for row in cursor.fetchall()}
        problems += [
            f"immutability trigger {name} is missing or disabled"
            for name in triggers
            if name not in enabled
        ]
    return problems
