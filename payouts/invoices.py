"""Advertiser invoices: drafts derived from the ledger, gap-free numbering, payments.

What an invoice covers, for its advertiser and currency: every entry on the advertiser's
`receivable` account posted in the period (UTC dates, both inclusive) except the entries of
invoices themselves (manual lines and payments), plus the manual lines of this invoice, which are
posted to the ledger when it is issued. Its `total` is the sum of those entries, to the cent, and
once every payment is recorded the receivable holds nothing more for them.

Lines:
- `revenue`: conversions approved less conversions reversed, one line per campaign and event
  (the tracker app names them through `invoice_line_labels_register`; without it, one line per
  kind of reference);
- `adjustment`: each manual ledger adjustment of the advertiser's receivable in the period, each
  other posting on it, and the lines an admin adds to the draft (`invoice_line_add`).

Status: draft -> issued -> paid; a draft may be voided. While it is a draft its derived lines
are rebuilt at every draft call and at issue; an issued invoice never changes again. Only a
period that has ended can be issued: every ledger entry is dated when it is posted, so nothing
new can fall into an ended period.
"""

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import uuid4

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from accounts.models import Advertiser, User
from core.audit import audit_record, audit_snapshot
from core.currencies import CURRENCY_CODES
from core.exceptions import ApplicationError, NotFoundError
from core.models import AuditSource
from core.money import parse_money, quantize_money
from payouts import ledger
from payouts.models import (
    NETWORK_OWNER_ID,
    AccountKind,
    Invoice,
    InvoiceLine,
    InvoiceLineKind,
    InvoiceNumberCounter,
    InvoicePayment,
    InvoiceStatus,
    LedgerAccount,
    LedgerEntry,
    OwnerType,
    TransactionKind,
)

INVOICE_REFERENCE = "invoice"
INVOICE_PAYMENT_REFERENCE = "invoice_payment"
# Entries that belong to invoices themselves, never to a period's activity.
_INVOICE_REFERENCES = (INVOICE_REFERENCE, INVOICE_PAYMENT_REFERENCE)
_ZERO = Decimal("0.0000")
_AUDITED_FIELDS = ("status", "number", "total", "amount_paid", "issued_at", "due_at", "paid_at")


# --- Line labels ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineLabel:
    """How a referenced row is invoiced: the entries whose labels are equal make one line."""

    description: str
    campaign_id: int | None = None
    event_id: int | None = None


# reference_type -> function(ids) -> {id: label}. Registered by the apps that own the rows
# (tracker: conversions), which depend on payouts, never the other way round.
LineLabeler = Callable[[list[int]], dict[int, LineLabel]]
_LABELERS: dict[str, LineLabeler] = {}


def invoice_line_labels_register(*, reference_type: str, labeler: LineLabeler) -> None:
    """Name the revenue lines of ledger transactions that reference `reference_type` rows."""
    _LABELERS[reference_type] = labeler


def _labels(reference_type: str, ids: list[int]) -> dict[int, LineLabel]:
    labeler = _LABELERS.get(reference_type)
    return labeler(ids) if labeler and ids else {}


# --- Periods -------------------------------------------------------------------------------------


def month_period(day: dt.date) -> tuple[dt.date, dt.date]:
    """The calendar month of `day`: its first and last dates."""
    last = calendar.monthrange(day.year, day.month)[1]
    return day.replace(day=1), day.replace(day=last)


def previous_month_period(now: dt.datetime) -> tuple[dt.date, dt.date]:
    """The calendar month (UTC) before the one `now` falls in."""
    first_of_month = now.astimezone(dt.UTC).date().replace(day=1)
    return month_period(first_of_month - dt.timedelta(days=1))


def _period_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00 UTC, the day after end 00:00 UTC)."""
    return (
        dt.datetime.combine(start, dt.time.min, tzinfo=dt.UTC),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC),
    )


def _period_check(period_start: dt.date, period_end: dt.date) -> None:
    if period_end < period_start:
        raise ApplicationError(
            "The period ends before it starts.",
            code="invalid_period",
            fields={"period_end": ["On or after period_start."]},
        )
    if (period_end - period_start).days > 366:
        raise ApplicationError(
            "An invoice covers at most a year.",
            code="invalid_period",
            fields={"period_end": ["At most 366 days after period_start."]},
        )


def _currency_check(currency: str) -> str:
    code = currency.strip().upper()
    if code not in CURRENCY_CODES:
        raise ApplicationError(
            f"Unknown currency {currency!r}.",
            code="invalid_currency",
            fields={"currency": ["Use an ISO 4217 code."]},
        )
    return code


# --- Deriving lines from the ledger ------------------------------------------------------------


def _receivable(*, advertiser_id: int, currency: str) -> LedgerAccount:
    return ledger.ledger_account(
        owner_type=OwnerType.ADVERTISER,
        owner_id=advertiser_id,
        kind=AccountKind.RECEIVABLE,
        currency=currency,
    )


def invoice_covered_entries(invoice: Invoice) -> QuerySet[LedgerEntry]:
    """The receivable entries an invoice covers (module docstring): the period's activity and,
    once issued, its own manual lines. Payments are not included."""
    start, end = _period_bounds(invoice.period_start, invoice.period_end)
    period = (
        Q(created_at__gte=start)
        & Q(created_at__lt=end)
        & ~Q(transaction__reference_type__in=_INVOICE_REFERENCES)
    )
    own_lines = Q(transaction__reference_type=INVOICE_REFERENCE) & Q(
        transaction__reference_id=invoice.pk
    )
    return LedgerEntry.objects.filter(
        Q(account__owner_type=OwnerType.ADVERTISER)
        & Q(account__owner_id=invoice.advertiser_id)
        & Q(account__kind=AccountKind.RECEIVABLE)
        & Q(account__currency=invoice.currency)
        & (period | own_lines)
    )


def invoice_receivable_left(invoice: Invoice) -> Decimal:
    """What the advertiser still owes for what the invoice covers: its entries plus its
    payments (zero once it is paid in full)."""
    covered = invoice_covered_entries(invoice).aggregate(total=Sum("amount"))["total"] or _ZERO
    paid = (
        LedgerEntry.objects.filter(
            transaction__in=invoice.payments.values("ledger_transaction"),
            account__kind=AccountKind.RECEIVABLE,
        ).aggregate(total=Sum("amount"))["total"]
        or _ZERO
    )
    return quantize_money(covered + paid)


@dataclass
class _Line:
    kind: str
    description: str
    quantity: int
    amount: Decimal
    campaign_id: int | None = None
    event_id: int | None = None
    ledger_transaction_id: int | None = None


def _derived_lines(invoice: Invoice) -> list[_Line]:
    """The invoice's lines from the period's receivable entries (not its manual ones)."""
    start, end = _period_bounds(invoice.period_start, invoice.period_end)
    rows = list(
        LedgerEntry.objects.filter(
            account__owner_type=OwnerType.ADVERTISER,
            account__owner_id=invoice.advertiser_id,
            account__kind=AccountKind.RECEIVABLE,
            account__currency=invoice.currency,
            created_at__gte=start,
            created_at__lt=end,
        )
        .exclude(transaction__reference_type__in=_INVOICE_REFERENCES)
        .order_by("id")
        .values_list(
            "amount",
            "transaction_id",
            "transaction__kind",
            "transaction__reference_type",
            "transaction__reference_id",
            "transaction__memo",
        )
    )
    conversion_kinds = (TransactionKind.CONVERSION_APPROVED, TransactionKind.CONVERSION_REVERSED)
    by_reference: dict[str, set[int]] = defaultdict(set)
    for _, _, kind, reference_type, reference_id, _ in rows:
        if kind in conversion_kinds and reference_id is not None:
            by_reference[reference_type].add(reference_id)
    labels = {
        reference_type: _labels(reference_type, sorted(ids))
        for reference_type, ids in by_reference.items()
    }
    revenue: dict[LineLabel, _Line] = {}
    others: list[_Line] = []
    for amount, transaction_id, kind, reference_type, reference_id, memo in rows:
        if kind in conversion_kinds and reference_id is not None:
            label = labels[reference_type].get(reference_id) or LineLabel(
                description=f"Approved {reference_type}s less reversals"
            )
            line = revenue.setdefault(
                label,
                _Line(
                    kind=InvoiceLineKind.REVENUE,
                    description=label.description,
                    quantity=0,
                    amount=_ZERO,
                    campaign_id=label.campaign_id,
                    event_id=label.event_id,
                ),
            )
            line.quantity += 1 if amount > 0 else -1
            line.amount += amount
        else:
            others.append(
                _Line(
                    kind=InvoiceLineKind.ADJUSTMENT,
                    description=(memo or TransactionKind(kind).label)[:300],
                    quantity=1,
                    amount=amount,
                    ledger_transaction_id=transaction_id,
                )
            )
    ordered = sorted(revenue.values(), key=lambda line: (line.description, line.campaign_id or 0))
    return [line for line in ordered if line.amount != 0 or line.quantity != 0] + others


def _lines_refresh(invoice: Invoice, *, now: dt.datetime) -> None:
    """Rebuild a draft's derived lines and its total (the caller holds the invoice's lock)."""
    invoice.lines.filter(is_manual=False).delete()
    derived = _derived_lines(invoice)
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=invoice,
            kind=line.kind,
            description=line.description,
            quantity=line.quantity,
            amount=quantize_money(line.amount),
            campaign_id=line.campaign_id,
            event_id=line.event_id,
            ledger_transaction_id=line.ledger_transaction_id,
            position=position,
        )
        for position, line in enumerate(derived)
    )
    manual = invoice.lines.filter(is_manual=True).aggregate(total=Sum("amount"))["total"] or _ZERO
    invoice.total = quantize_money(sum((line.amount for line in derived), _ZERO) + manual)
    invoice.computed_at = now
    invoice.save(update_fields=["total", "computed_at"])


# --- Drafts --------------------------------------------------------------------------------------


def _invoice_lock(invoice_id: int) -> Invoice:
    invoice = Invoice.objects.select_for_update().filter(pk=invoice_id).first()
    if invoice is None:
        raise NotFoundError("Invoice not found.")
    return invoice


@transaction.atomic
def invoice_draft_for_period(
    *,
    advertiser_id: int,
    currency: str,
    period_start: dt.date,
    period_end: dt.date,
    now: dt.datetime | None = None,
) -> tuple[Invoice, bool]:
    """The advertiser's invoice for the period, and whether it was created now.

    Idempotent: the live (not void) invoice of (advertiser, currency, period) is returned when
    it exists, its lines rebuilt if it is still a draft; an issued one is returned untouched.
    The advertiser's receivable row is locked first, so two calls for one advertiser and
    currency never both create, and a period overlapping another live invoice's is refused
    (`period_overlaps`): no ledger entry is ever on two invoices.
    """
    now = now or timezone.now()
    currency = _currency_check(currency)
    _period_check(period_start, period_end)
    if not Advertiser.objects.filter(user_id=advertiser_id).exists():
        raise ApplicationError(
            "No such advertiser.",
            code="invalid_advertiser",
            fields={"advertiser_id": ["No such advertiser."]},
        )
    ledger.account_lock(_receivable(advertiser_id=advertiser_id, currency=currency))
    live = Invoice.objects.filter(advertiser_id=advertiser_id, currency=currency).exclude(
        status=InvoiceStatus.VOID
    )
    existing = live.filter(period_start=period_start, period_end=period_end).first()
    if existing is not None:
        if existing.status == InvoiceStatus.DRAFT:
            _lines_refresh(existing, now=now)
        return existing, False
    overlapping = live.filter(period_start__lte=period_end, period_end__gte=period_start).first()
    if overlapping is not None:
        raise ApplicationError(
            f"The period overlaps invoice {overlapping.number or f'draft #{overlapping.pk}'} "
            f"({overlapping.period_start} to {overlapping.period_end}).",
            code="period_overlaps",
            status=409,
        )
    invoice = Invoice.objects.create(
        advertiser_id=advertiser_id,
        currency=currency,
        period_start=period_start,
        period_end=period_end,
        status=InvoiceStatus.DRAFT,
        created_at=now,
        computed_at=now,
    )
    _lines_refresh(invoice, now=now)
    return invoice, True


def invoice_activity(*, period_start: dt.date, period_end: dt.date) -> list[tuple[int, str]]:
    """(advertiser id, currency) of every receivable with entries in the period."""
    start, end = _period_bounds(period_start, period_end)
    return list(
        LedgerEntry.objects.filter(
            account__owner_type=OwnerType.ADVERTISER,
            account__kind=AccountKind.RECEIVABLE,
            created_at__gte=start,
            created_at__lt=end,
        )
        .exclude(transaction__reference_type__in=_INVOICE_REFERENCES)
        .values_list("account__owner_id", "account__currency")
        .distinct()
        .order_by("account__owner_id", "account__currency")
    )


def invoices_draft_monthly(*, now: dt.datetime) -> list[Invoice]:
    """Draft (or refresh the draft of) last calendar month's invoice of every advertiser and
    currency with receivable activity in that month. Each in its own transaction; idempotent,
    so a second run only rebuilds the same drafts."""
    period_start, period_end = previous_month_period(now)
    invoices = []
    for advertiser_id, currency in invoice_activity(
        period_start=period_start, period_end=period_end
    ):
        invoice, _ = invoice_draft_for_period(
            advertiser_id=advertiser_id,
            currency=currency,
            period_start=period_start,
            period_end=period_end,
            now=now,
        )
        invoices.append(invoice)
    return invoices


def _draft_lock(invoice_id: int) -> Invoice:
    invoice = _invoice_lock(invoice_id)
    if invoice.status != InvoiceStatus.DRAFT:
        raise ApplicationError(
            f"A {invoice.status} invoice cannot change.", code="not_draft", status=409
        )
    return invoice


def _signed_amount_parse(raw: Any) -> Decimal:
    text = raw.strip() if isinstance(raw, str) else raw
    negative = isinstance(text, str) and text.startswith("-")
    try:
        amount = parse_money(text[1:] if negative else text)
    except ValueError as exc:
        raise ApplicationError(
            f"Invalid amount: {exc}.", code="invalid_amount", fields={"amount": [str(exc)]}
        ) from exc
    return -amount if negative else amount


@transaction.atomic
def invoice_line_add(
    *,
    invoice_id: int,
    description: str,
    amount: Decimal | str,
    quantity: int = 1,
    actor: User | None,
    now: dt.datetime | None = None,
) -> InvoiceLine:
    """A manual adjustment line on a draft (signed: < 0 is a credit to the advertiser).

    It is posted to the ledger (receivable against network revenue) when the invoice is
    issued, so the issued total still equals the ledger lines it covers.
    """
    now = now or timezone.now()
    invoice = _draft_lock(invoice_id)
    description = description.strip()
    if not description:
        raise ApplicationError(
            "A line needs a description.",
            code="description_required",
            fields={"description": ["Required."]},
        )
    amount = _signed_amount_parse(amount)
    if amount == 0:
        raise ApplicationError(
            "A line cannot be zero.", code="invalid_amount", fields={"amount": ["Not zero."]}
        )
    if quantity < 1:
        raise ApplicationError(
            "The quantity is at least 1.",
            code="invalid_quantity",
            fields={"quantity": ["At least 1."]},
        )
    line = InvoiceLine.objects.create(
        invoice=invoice,
        kind=InvoiceLineKind.ADJUSTMENT,
        description=description[:300],
        quantity=quantity,
        amount=amount,
        is_manual=True,
        position=10_000 + invoice.lines.filter(is_manual=True).count(),
        created_by=actor,
    )
    _lines_refresh(invoice, now=now)
    return line


@transaction.atomic
def invoice_void(
    *, invoice_id: int, actor: User | None, source: str = AuditSource.SYSTEM
) -> Invoice:
    """draft -> void: the period may then be drafted again. Issued invoices keep their number
    and are corrected by a manual adjustment on a later one."""
    invoice = _draft_lock(invoice_id)
    before = audit_snapshot(invoice, _AUDITED_FIELDS)
    invoice.status = InvoiceStatus.VOID
    invoice.voided_at = timezone.now()
    invoice.save(update_fields=["status", "voided_at"])
    audit_record(
        actor=actor,
        source=source,
        action="void",
        obj_type=Invoice,
        obj_id=invoice.pk,
        obj_repr=str(invoice),
        before=before,
        after=audit_snapshot(invoice, _AUDITED_FIELDS),
    )
    return invoice


# --- Issue ---------------------------------------------------------------------------------------


def invoice_number_format(*, year: int, sequence: int) -> str:
    return f"INV-{year}-{sequence:06d}"


def _invoice_number_next(*, year: int) -> str:
    """The next number of `year`, taken under the counter row's lock: concurrent issues wait
    for each other and get consecutive numbers; a rolled-back issue gives its number back."""
    InvoiceNumberCounter.objects.bulk_create(
        [InvoiceNumberCounter(year=year, last_number=0)], ignore_conflicts=True
    )
    counter = InvoiceNumberCounter.objects.select_for_update().get(year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return invoice_number_format(year=year, sequence=counter.last_number)


def _manual_lines_post(invoice: Invoice, *, actor: User | None) -> None:
    receivable = _receivable(advertiser_id=invoice.advertiser_id, currency=invoice.currency)
    revenue = ledger.network_account(kind=AccountKind.REVENUE, currency=invoice.currency)
    for line in invoice.lines.filter(is_manual=True, ledger_transaction__isnull=True):
        posted = ledger.ledger_post(
            kind=TransactionKind.ADJUSTMENT,
            lines=[(receivable, line.amount), (revenue, -line.amount)],
            reference_type=INVOICE_REFERENCE,
            reference_id=invoice.pk,
            idempotency_key=f"invoice-line:{line.pk}",
            memo=f"invoice {invoice.pk}: {line.description}",
            actor=actor,
        )
        line.ledger_transaction = posted
        line.save(update_fields=["ledger_transaction"])


@transaction.atomic
def invoice_issue(
    *,
    invoice_id: int,
    actor: User | None,
    source: str = AuditSource.SYSTEM,
    now: dt.datetime | None = None,
) -> Invoice:
    """draft -> issued: the lines are rebuilt a last time, manual lines posted to the ledger,
    and the next number of the year taken.

    Refused: a period that has not ended (`period_not_ended`, 409), a total that is not
    positive (`nothing_to_invoice`, 409), an invoice that is not a draft (`not_draft`, 409).
    Locks, in this order: the advertiser's receivable, the invoice, the year's counter.
    """
    now = now or timezone.now()
    unlocked = Invoice.objects.filter(pk=invoice_id).first()
    if unlocked is None:
        raise NotFoundError("Invoice not found.")
    # The receivable before the invoice, as the draft service takes them: no deadlock.
    ledger.account_lock(
        _receivable(advertiser_id=unlocked.advertiser_id, currency=unlocked.currency)
    )
    invoice = _draft_lock(invoice_id)
    if invoice.period_end >= now.astimezone(dt.UTC).date():
        raise ApplicationError(
            f"The period ends on {invoice.period_end}: issue it after that day.",
            code="period_not_ended",
            status=409,
        )
    _lines_refresh(invoice, now=now)
    if invoice.total <= 0:
        raise ApplicationError(
            "There is nothing to invoice: the total is not positive.",
            code="nothing_to_invoice",
            status=409,
        )
    before = audit_snapshot(invoice, _AUDITED_FIELDS)
    _manual_lines_post(invoice, actor=actor)
    invoice.number = _invoice_number_next(year=now.astimezone(dt.UTC).year)
    invoice.status = InvoiceStatus.ISSUED
    invoice.issued_at = now
    invoice.issued_by = actor
    invoice.due_at = now + dt.timedelta(days=settings.INVOICE_DUE_DAYS)
    invoice.save(update_fields=["number", "status", "issued_at", "issued_by", "due_at"])
    audit_record(
        actor=actor,
        source=source,
        action="issue",
        obj_type=Invoice,
        obj_id=invoice.pk,
        obj_repr=str(invoice),
        before=before,
        after=audit_snapshot(invoice, _AUDITED_FIELDS),
        now=now,
    )
    return invoice


# --- Payments ------------------------------------------------------------------------------------


@transaction.atomic
def invoice_payment_record(
    *,
    invoice_id: int,
    amount: Decimal | str,
    paid_at: dt.datetime | None,
    reference: str,
    actor: User | None,
    source: str = AuditSource.SYSTEM,
) -> InvoicePayment:
    """Record money received for an issued invoice: one ledger transaction crediting the
    advertiser's receivable and debiting the network's cash. Partial payments are allowed;
    more than what is due is `overpayment`; the same reference twice is `duplicate_payment`
    (a retry records nothing new). When the amount due reaches zero the invoice is `paid`.
    """
    now = timezone.now()
    reference = reference.strip()
    if not reference:
        raise ApplicationError(
            "A payment needs its reference.",
            code="reference_required",
            fields={"reference": ["Required."]},
        )
    try:
        amount = parse_money(amount)
    except ValueError as exc:
        raise ApplicationError(
            f"Invalid amount: {exc}.", code="invalid_amount", fields={"amount": [str(exc)]}
        ) from exc
    if amount <= 0:
        raise ApplicationError(
            "A payment is positive.", code="invalid_amount", fields={"amount": ["More than 0."]}
        )
    invoice = _invoice_lock(invoice_id)
    if invoice.status != InvoiceStatus.ISSUED:
        code = "already_paid" if invoice.status == InvoiceStatus.PAID else "not_issued"
        raise ApplicationError(
            f"A {invoice.status} invoice takes no payment.", code=code, status=409
        )
    if invoice.payments.filter(reference=reference).exists():
        raise ApplicationError(
            f"A payment with reference {reference!r} is already recorded.",
            code="duplicate_payment",
            status=409,
        )
    due = invoice.amount_due
    if amount > due:
        raise ApplicationError(
            f"Only {due} {invoice.currency} is due.",
            code="overpayment",
            fields={"amount": [f"At most {due}."]},
        )
    receivable = _receivable(advertiser_id=invoice.advertiser_id, currency=invoice.currency)
    cash = ledger.ledger_account(
        owner_type=OwnerType.NETWORK,
        owner_id=NETWORK_OWNER_ID,
        kind=AccountKind.CASH,
        currency=invoice.currency,
    )
    posted = ledger.ledger_post(
        kind=TransactionKind.INVOICE_PAYMENT,
        lines=[(cash, amount), (receivable, -amount)],
        reference_type=INVOICE_PAYMENT_REFERENCE,
        reference_id=invoice.pk,
        idempotency_key=f"invoice-payment:{uuid4().hex}",
        memo=f"invoice {invoice.number} payment, reference {reference}",
        actor=actor,
    )
    payment = InvoicePayment.objects.create(
        invoice=invoice,
        amount=amount,
        paid_at=paid_at or now,
        reference=reference[:255],
        ledger_transaction=posted,
        recorded_by=actor,
        created_at=now,
    )
    before = audit_snapshot(invoice, _AUDITED_FIELDS)
    invoice.amount_paid = quantize_money(invoice.amount_paid + amount)
    update_fields = ["amount_paid"]
    if invoice.amount_paid == invoice.total:
        invoice.status = InvoiceStatus.PAID
        invoice.paid_at = payment.paid_at
        update_fields += ["status", "paid_at"]
    invoice.save(update_fields=update_fields)
    audit_record(
        actor=actor,
        source=source,
        action="record_payment",
        obj_type=Invoice,
        obj_id=invoice.pk,
        obj_repr=str(invoice),
        before=before,
        after={**audit_snapshot(invoice, _AUDITED_FIELDS), "payment_reference": reference},
        now=now,
    )
    return payment
