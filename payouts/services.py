"""Payout requests: an affiliate asks for its available balance, an admin approves, rejects or pays.

Status machine: requested -> approved | rejected; approved -> paid | rejected. Money moves in the
ledger with the status: asking moves the amount available -> requested, a rejection gives it back
(requested -> available), paying moves it requested -> paid. Approval only changes the status.
"""

from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.models import Affiliate, User
from accounts.models import PayoutMethod as PayoutChannel
from core.audit import audit_record, audit_snapshot
from core.exceptions import ApplicationError
from core.models import AuditSource
from core.money import parse_money, quantize_money
from core.operator_events import operator_event_payout_requested
from core.tasks import enqueue_on_commit
from payouts import ledger
from payouts.models import (
    AccountKind,
    LedgerEntry,
    PayoutEvent,
    PayoutMethod,
    PayoutRequest,
    PayoutStatus,
    TransactionKind,
)
from payouts.payout_methods import payout_method_details_text, payout_method_for_request
from payouts.tasks import send_payout_decision_email

PAYOUT_REFERENCE = "payout"

_ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    PayoutStatus.REQUESTED: frozenset({PayoutStatus.APPROVED, PayoutStatus.REJECTED}),
    PayoutStatus.APPROVED: frozenset({PayoutStatus.PAID, PayoutStatus.REJECTED}),
}


def payout_minimum_amount() -> Decimal:
    return quantize_money(Decimal(str(settings.PAYOUT_MINIMUM_AMOUNT)))


def _amount_parse(raw: Decimal | str) -> Decimal:
    try:
        return parse_money(raw)
    except ValueError as exc:
        raise ApplicationError(
            f"Invalid amount: {exc}.", code="invalid_amount", fields={"amount": [str(exc)]}
        ) from exc


def _payout_method_pick(
    *, affiliate: Affiliate, payout_method: PayoutMethod | int | None, method: str | None
) -> tuple[PayoutMethod | None, str, str]:
    """(saved method, channel, details snapshot) of a new payout request.

    A saved method named by the caller wins (it must be the affiliate's own and active; its
    kind is the channel); else the affiliate's default saved method when the caller names no
    channel either; else the channel asked for (or the profile's) with the profile's free-text
    details, as before saved methods existed.
    """
    if payout_method is None and not method:
        payout_method = (
            PayoutMethod.objects.filter(
                affiliate=affiliate, is_default=True, archived_at__isnull=True
            )
            .values_list("pk", flat=True)
            .first()
        )
    if payout_method is not None:
        method_id = payout_method.pk if isinstance(payout_method, PayoutMethod) else payout_method
        saved = payout_method_for_request(affiliate=affiliate, payout_method_id=method_id)
        if method and method != saved.kind:
            raise ApplicationError(
                f"The payout method is a {saved.kind} method, not {method}.",
                code="invalid_method",
                fields={"method": [f"Leave it out, or send {saved.kind}."]},
            )
        return saved, saved.kind, payout_method_details_text(saved)
    method = method or affiliate.payout_method
    if method not in PayoutChannel.values:
        raise ApplicationError(
            f"Unknown payout method {method!r}.",
            code="invalid_method",
            fields={"method": [f"One of: {', '.join(PayoutChannel.values)}."]},
        )
    return None, method, affiliate.payout_details


@transaction.atomic
def payout_request_create(
    *,
    affiliate: Affiliate,
    amount: Decimal | str,
    currency: str,
    method: str | None = None,
    payout_method: PayoutMethod | int | None = None,
) -> PayoutRequest:
    """Lock `amount` of the affiliate's available balance in a new payout request.

    The request keeps a copy of where to pay (`payout_details`): the saved `payout_method`'s
    details (the default one when neither it nor `method` is given), or the profile's text.
    The affiliate's `available` account row is locked before the balance is summed, so two
    concurrent requests for the whole balance are serialized and the second one sees the first's
    posting: the balance can never be overdrawn by requests.
    """
    amount = _amount_parse(amount)
    if not affiliate.is_approved:
        raise ApplicationError(
            "Only approved affiliates can request payouts.",
            code="affiliate_not_approved",
            status=403,
        )
    minimum = payout_minimum_amount()
    if amount < minimum or amount <= 0:
        raise ApplicationError(
            f"The minimum payout is {minimum} {currency}.",
            code="below_minimum",
            fields={"amount": [f"At least {minimum}."]},
        )
    saved_method, method, details = _payout_method_pick(
        affiliate=affiliate, payout_method=payout_method, method=method
    )
    available = ledger.affiliate_account(
        affiliate_id=affiliate.user_id, kind=AccountKind.AVAILABLE, currency=currency
    )
    requested = ledger.affiliate_account(
        affiliate_id=affiliate.user_id, kind=AccountKind.REQUESTED, currency=currency
    )
    ledger.account_lock(available)
    balance = -(
        LedgerEntry.objects.filter(account=available).aggregate(total=Sum("amount"))["total"]
        or Decimal(0)
    )
    if amount > balance:
        raise ApplicationError(
            f"The available balance is {quantize_money(balance)} {currency}.",
            code="insufficient_balance",
            fields={"amount": [f"At most {quantize_money(balance)}."]},
        )
    now = timezone.now()
    payout = PayoutRequest.objects.create(
        affiliate=affiliate,
        currency=currency,
        amount=amount,
        method=method,
        payout_method=saved_method,
        payout_details=details,
        status=PayoutStatus.REQUESTED,
        created_at=now,
    )
    ledger.ledger_post(
        kind=TransactionKind.PAYOUT_REQUESTED,
        lines=[(available, amount), (requested, -amount)],
        reference_type=PAYOUT_REFERENCE,
        reference_id=payout.pk,
        idempotency_key=f"payout-requested:{payout.pk}",
        memo=f"payout {payout.pk} requested",
        actor=affiliate.user,
    )
    PayoutEvent.objects.create(
        payout=payout,
        from_status="",
        to_status=PayoutStatus.REQUESTED,
        actor=affiliate.user,
        created_at=now,
    )
    operator_event_payout_requested(
        payout_id=payout.pk, affiliate_id=affiliate.pk, amount=amount, currency=currency
    )
    return payout


_AUDITED_FIELDS = ("status", "note", "reference")
_AUDIT_VERBS: dict[str, str] = {
    PayoutStatus.APPROVED: "approve",
    PayoutStatus.REJECTED: "reject",
    PayoutStatus.PAID: "mark_paid",
}


def _payout_transition(
    *,
    payout: PayoutRequest,
    to_status: str,
    actor: User | None,
    source: str,
    note: str = "",
    reference: str = "",
) -> tuple[PayoutRequest, PayoutEvent]:
    locked = PayoutRequest.objects.select_for_update().get(pk=payout.pk)
    if to_status not in _ALLOWED_TRANSITIONS.get(locked.status, frozenset()):
        raise ApplicationError(
            f"A {locked.status} payout cannot become {to_status}.",
            code="invalid_transition",
            status=409,
        )
    now = timezone.now()
    from_status = locked.status
    before = audit_snapshot(locked, _AUDITED_FIELDS)
    locked.status = to_status
    locked.decided_at = now
    locked.decided_by = actor
    update_fields = ["status", "decided_at", "decided_by"]
    if note:
        locked.note = note[:500]
        update_fields.append("note")
    if reference:
        locked.reference = reference[:255]
        locked.paid_at = now
        update_fields += ["reference", "paid_at"]
    locked.save(update_fields=update_fields)
    event = PayoutEvent.objects.create(
        payout=locked,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        note=(note or (f"reference {reference}" if reference else ""))[:500],
        created_at=now,
    )
    audit_record(
        actor=actor,
        source=source,
        action=_AUDIT_VERBS[to_status],
        obj_type=PayoutRequest,
        obj_id=locked.pk,
        obj_repr=str(locked),
        before=before,
        after=audit_snapshot(locked, _AUDITED_FIELDS),
        now=now,
    )
    enqueue_on_commit(send_payout_decision_email, payout_id=locked.pk, event_id=event.pk)
    return locked, event


def _payout_move(
    *, payout: PayoutRequest, kind: str, to_kind: str, actor: User | None, memo: str
) -> None:
    requested = ledger.affiliate_account(
        affiliate_id=payout.affiliate_id, kind=AccountKind.REQUESTED, currency=payout.currency
    )
    target = ledger.affiliate_account(
        affiliate_id=payout.affiliate_id, kind=to_kind, currency=payout.currency
    )
    ledger.ledger_post(
        kind=kind,
        lines=[(requested, payout.amount), (target, -payout.amount)],
        reference_type=PAYOUT_REFERENCE,
        reference_id=payout.pk,
        idempotency_key=f"{kind}:{payout.pk}",
        memo=memo,
        actor=actor,
    )


@transaction.atomic
def payout_approve(
    *, payout: PayoutRequest, actor: User | None, source: str = AuditSource.SYSTEM
) -> PayoutRequest:
    """requested -> approved. Changes no money; emails the affiliate after commit."""
    approved, _ = _payout_transition(
        payout=payout, to_status=PayoutStatus.APPROVED, actor=actor, source=source
    )
    return approved


@transaction.atomic
def payout_reject(
    *,
    payout: PayoutRequest,
    actor: User | None,
    reason: str = "",
    source: str = AuditSource.SYSTEM,
) -> PayoutRequest:
    """requested | approved -> rejected: the amount goes back to the affiliate's available
    balance. Emails the affiliate after commit."""
    rejected, _ = _payout_transition(
        payout=payout,
        to_status=PayoutStatus.REJECTED,
        actor=actor,
        source=source,
        note=reason.strip(),
    )
    _payout_move(
        payout=rejected,
        kind=TransactionKind.PAYOUT_REJECTED,
        to_kind=AccountKind.AVAILABLE,
        actor=actor,
        memo=f"payout {rejected.pk} rejected" + (f": {reason.strip()}" if reason.strip() else ""),
    )
    return rejected


@transaction.atomic
def payout_mark_paid(
    *,
    payout: PayoutRequest,
    actor: User | None,
    reference: str,
    source: str = AuditSource.SYSTEM,
) -> PayoutRequest:
    """approved -> paid, with the payment's reference: the amount moves requested -> paid."""
    reference = reference.strip()
    if not reference:
        raise ApplicationError(
            "A paid payout needs the payment's reference.",
            code="reference_required",
            fields={"reference": ["Required."]},
        )
    paid, _ = _payout_transition(
        payout=payout,
        to_status=PayoutStatus.PAID,
        actor=actor,
        source=source,
        reference=reference,
    )
    _payout_move(
        payout=paid,
        kind=TransactionKind.PAYOUT_PAID,
        to_kind=AccountKind.PAID,
        actor=actor,
        memo=f"payout {paid.pk} paid, reference {reference}",
    )
    return paid
