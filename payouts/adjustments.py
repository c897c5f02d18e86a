"""Manual adjustments by the network's admins: a bonus or a correction for an affiliate, a
charge or a credit note for an advertiser, each with its reason.

The money goes through `payouts.ledger.ledger_adjustment_post` (see there for the signs); this
module checks the owner, makes a client's retry harmless (an idempotency key) and writes the
audit log.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from accounts.models import Advertiser, Affiliate, User
from core.audit import audit_record
from core.exceptions import ApplicationError
from core.models import AuditSource
from core.money import quantize_money
from payouts import ledger
from payouts.models import LedgerTransaction, OwnerType
from payouts.selectors import Adjustment, adjustment_from_entry, adjustment_list

ADJUSTABLE_OWNERS = (OwnerType.AFFILIATE, OwnerType.ADVERTISER)
IDEMPOTENCY_KEY_MAX = 150


@dataclass(frozen=True)
class AdjustmentResult:
    adjustment: Adjustment
    # False when the idempotency key named an adjustment posted before (a retry).
    is_created: bool


def _owner_check(*, owner_type: str, owner_id: int) -> None:
    if owner_type not in ADJUSTABLE_OWNERS:
        raise ApplicationError(
            "Adjust an affiliate or an advertiser.",
            code="invalid_owner_type",
            fields={"owner_type": ["One of: affiliate, advertiser."]},
        )
    model = Affiliate if owner_type == OwnerType.AFFILIATE else Advertiser
    if not model.objects.filter(pk=owner_id).exists():
        raise ApplicationError(
            f"No {owner_type} with id {owner_id}.",
            code="unknown_owner",
            fields={"owner_id": [f"No such {owner_type}."]},
        )


def _adjustment_of(txn: LedgerTransaction) -> Adjustment:
    entry = adjustment_list().filter(transaction=txn).first()
    if entry is None:  # an adjustment always has its owner's line
        raise ApplicationError("Adjustment has no owner line.", code="invalid_state", status=500)
    return adjustment_from_entry(entry)


@transaction.atomic
def adjustment_post(
    *,
    owner_type: str,
    owner_id: int,
    amount: Decimal,
    currency: str,
    reason: str,
    actor: User | None,
    idempotency_key: str = "",
    source: str = AuditSource.SYSTEM,
) -> AdjustmentResult:
    """Post one manual adjustment of the owner's balance (`amount` signed as that balance moves)
    and record it in the audit log.

    With an `idempotency_key`, a repeat of the same request returns the adjustment posted first
    (`is_created` False) and writes nothing; the same key with another owner, amount, currency or
    reason is refused (`idempotency_key_reused`, 409). Other refusals: `invalid_owner_type`,
    `unknown_owner`, `invalid_amount` (zero), `reason_required`, `invalid_currency`.
    """
    _owner_check(owner_type=owner_type, owner_id=owner_id)
    key = idempotency_key.strip()
    if len(key) > IDEMPOTENCY_KEY_MAX:
        raise ApplicationError(
            f"An idempotency key has at most {IDEMPOTENCY_KEY_MAX} characters.",
            code="invalid_idempotency_key",
        )
    ledger_key = f"adjustment:client:{key}" if key else None
    existing = (
        LedgerTransaction.objects.filter(idempotency_key=ledger_key).first() if ledger_key else None
    )
    if existing is None:
        txn = ledger.ledger_adjustment_post(
            currency=currency,
            amount=amount,
            reason=reason,
            actor=actor,
            affiliate_id=owner_id if owner_type == OwnerType.AFFILIATE else None,
            advertiser_id=owner_id if owner_type == OwnerType.ADVERTISER else None,
            idempotency_key=ledger_key,
        )
    else:
        txn = existing
    adjustment = _adjustment_of(txn)
    asked = (owner_type, owner_id, currency, quantize_money(Decimal(amount)), reason.strip())
    posted = (
        adjustment.owner_type,
        adjustment.owner_id,
        adjustment.currency,
        adjustment.amount,
        adjustment.reason,
    )
    if asked != posted:
        # Reached with an `existing` one, or when a concurrent request took the key first.
        raise ApplicationError(
            "This idempotency key was used for another adjustment.",
            code="idempotency_key_reused",
            status=409,
        )
    is_created = existing is None
    if is_created:
        audit_record(
            actor=actor,
            source=source,
            action="adjust",
            obj_type=LedgerTransaction,
            obj_id=txn.pk,
            obj_repr=f"adjustment #{txn.pk} of {owner_type} {owner_id}",
            after={
                "owner_type": owner_type,
                "owner_id": owner_id,
                "amount": adjustment.amount,
                "currency": currency,
                "reason": adjustment.reason,
            },
        )
    return AdjustmentResult(adjustment=adjustment, is_created=is_created)
