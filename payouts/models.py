"""The money ledger (immutable, double-entry) and affiliates' payout requests.

Sign convention: an entry's `amount` > 0 is a debit, < 0 a credit; the entries of one transaction
sum to zero per currency. What a balance means, per account kind:

| owner      | kind           | normal | displayed | meaning                               |
|------------|----------------|--------|-----------|---------------------------------------|
| affiliate  | pending        | credit | -sum      | earned, still in the campaign's hold  |
| affiliate  | available      | credit | -sum      | earned and withdrawable (may be < 0)  |
| affiliate  | requested      | credit | -sum      | locked in an open payout request      |
| affiliate  | paid           | credit | -sum      | paid out to the affiliate, all time   |
| advertiser | receivable     | debit  | +sum      | revenue the advertiser owes us        |
| network    | revenue        | credit | -sum      | revenue earned by the network         |
| network    | payout_expense | debit  | +sum      | affiliate payouts the network owes    |
| network    | adjustments    | debit  | +sum      | manual credits given to affiliates    |
| network    | cash           | debit  | +sum      | advertisers' invoice payments received |

Affiliate accounts are the network's liabilities to the affiliate, so their natural balance is a
credit; the portal shows the negated sum. Ledger rows are never updated or deleted: a database
trigger (migration 0002) refuses it, and a mistake is corrected by a new, opposite transaction.

Conversions are referenced by id (`reference_type="conversion"`), never by foreign key: the
tracker app depends on payouts, not the other way round.
"""

from decimal import Decimal
from typing import ClassVar

from django.db import models
from django.db.models import Q

from accounts.models import Advertiser, Affiliate, User
from accounts.models import PayoutMethod as PayoutChannel
from core.fields import money_field
from core.formatting import format_money


class OwnerType(models.TextChoices):
    AFFILIATE = "affiliate", "Affiliate"
    ADVERTISER = "advertiser", "Advertiser"
    NETWORK = "network", "Network"


class AccountKind(models.TextChoices):
    PENDING = "pending", "Pending (in hold)"
    AVAILABLE = "available", "Available"
    REQUESTED = "requested", "Requested (in a payout request)"
    PAID = "paid", "Paid out"
    RECEIVABLE = "receivable", "Receivable (advertiser owes)"
    REVENUE = "revenue", "Network revenue"
    PAYOUT_EXPENSE = "payout_expense", "Payout expense"
    ADJUSTMENTS = "adjustments", "Manual adjustments"
    CASH = "cash", "Cash received (invoice payments)"


KINDS_BY_OWNER: dict[str, frozenset[str]] = {
    OwnerType.AFFILIATE: frozenset(
        {AccountKind.PENDING, AccountKind.AVAILABLE, AccountKind.REQUESTED, AccountKind.PAID}
    ),
    OwnerType.ADVERTISER: frozenset({AccountKind.RECEIVABLE}),
    OwnerType.NETWORK: frozenset(
        {AccountKind.REVENUE, AccountKind.PAYOUT_EXPENSE, AccountKind.ADJUSTMENTS, AccountKind.CASH}
    ),
}

# Kinds whose displayed balance is the negated sum of their entries (credit-normal accounts).
CREDIT_NORMAL_KINDS = frozenset(
    {
        AccountKind.PENDING,
        AccountKind.AVAILABLE,
        AccountKind.REQUESTED,
        AccountKind.PAID,
        AccountKind.REVENUE,
    }
)

NETWORK_OWNER_ID = 0


class LedgerAccount(models.Model):
    owner_type = models.CharField(max_length=16, choices=OwnerType.choices)
    # The affiliate's or advertiser's id (its user id); 0 for the network.
    owner_id = models.BigIntegerField()
    kind = models.CharField(max_length=16, choices=AccountKind.choices)
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["owner_type", "owner_id", "currency", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner_type", "owner_id", "kind", "currency"], name="ledger_account_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.owner_type}:{self.owner_id}:{self.kind}:{self.currency}"


class TransactionKind(models.TextChoices):
    CONVERSION_APPROVED = "conversion_approved", "Conversion approved"
    CONVERSION_REVERSED = "conversion_reversed", "Conversion reversed or rejected"
    HOLD_RELEASED = "hold_released", "Hold released"
    PAYOUT_REQUESTED = "payout_requested", "Payout requested"
    PAYOUT_REJECTED = "payout_rejected", "Payout rejected"
    PAYOUT_PAID = "payout_paid", "Payout paid"
    ADJUSTMENT = "adjustment", "Manual adjustment"
    INVOICE_PAYMENT = "invoice_payment", "Invoice payment received"


class LedgerTransaction(models.Model):
    """One balanced money movement. Immutable once posted (database trigger)."""

    kind = models.CharField(max_length=32, choices=TransactionKind.choices)
    reference_type = models.CharField(max_length=32, blank=True)
    reference_id = models.BigIntegerField(null=True, blank=True)
    # Unique, without the `varchar_pattern_ops` twin Django adds on PostgreSQL: nothing searches
    # it by prefix, and migration 0003 drops that index.
    idempotency_key = models.CharField(max_length=200, unique=True)
    memo = models.CharField(max_length=500, blank=True)
    # PROTECT, not SET_NULL: nulling the actor would be an UPDATE, which the trigger refuses.
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    # Approvals posted to `pending`: when the scheduled job may move them to `available`.
    release_at = models.DateTimeField(null=True, blank=True)
    # A hold release points at the approval it releases (at most one release per approval).
    source_transaction = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="release"
    )
    # sha256 over the kind, reference, key and entries, written at posting; the reconciliation
    # job recomputes it to notice rows altered behind the trigger's back.
    checksum = models.CharField(max_length=64)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["reference_type", "reference_id"], name="ledger_txn_reference"),
            models.Index(
                fields=["release_at"],
                condition=Q(release_at__isnull=False),
                name="ledger_txn_release_due",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind}"


class _AdjustmentManager(models.Manager["LedgerAdjustment"]):
    def get_queryset(self) -> models.QuerySet["LedgerAdjustment"]:
        return super().get_queryset().filter(kind=TransactionKind.ADJUSTMENT)


class LedgerAdjustment(LedgerTransaction):
    """The manual adjustments among the ledger's transactions (no table of its own): the
    console's page that lists and posts them, with their own permissions."""

    objects: ClassVar[_AdjustmentManager] = _AdjustmentManager()

    class Meta:
        proxy = True
        verbose_name = "manual adjustment"


class LedgerEntry(models.Model):
    """One line of a transaction. Immutable once posted (database trigger)."""

    transaction = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="entries"
    )
    # No single-column index: `ledger_entry_account` (see Meta) leads with the account.
    account = models.ForeignKey(
        LedgerAccount, on_delete=models.PROTECT, related_name="entries", db_index=False
    )
    amount = money_field()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "ledger entries"
        indexes = [models.Index(fields=["account", "id"], name="ledger_entry_account")]

    def __str__(self) -> str:
        return f"{self.account} {format_money(self.amount, self.account.currency)}"


class PayoutMethodKind(models.TextChoices):
    PAYPAL = "paypal", "PayPal"
    BANK = "bank", "Bank transfer (IBAN)"
    WIRE = "wire", "International wire"
    CRYPTO = "crypto", "Crypto"


class PayoutMethod(models.Model):
    """Where an affiliate wants to be paid: one saved PayPal account, IBAN, wire or wallet.

    `details` holds the kind's fields (see `payouts.payout_methods.DETAIL_FIELDS`), validated by
    the services. A method some payout request used is archived rather than deleted: the request
    keeps pointing at it (and keeps its own snapshot of the details).
    """

    affiliate = models.ForeignKey(
        Affiliate, on_delete=models.CASCADE, related_name="payout_methods"
    )
    kind = models.CharField(max_length=16, choices=PayoutMethodKind.choices)
    label = models.CharField(max_length=100, blank=True)
    details = models.JSONField(default=dict)
    is_default = models.BooleanField(default=False)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["affiliate", "id"], name="payout_method_affiliate")]
        constraints = [
            models.UniqueConstraint(
                fields=["affiliate"],
                condition=Q(is_default=True, archived_at__isnull=True),
                name="payout_method_one_default",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=PayoutMethodKind.values),
                name="payout_method_kind_known",
            ),
        ]

    def __str__(self) -> str:
        return self.label or self.get_kind_display()

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class PayoutStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    PAID = "paid", "Paid"


class PayoutRequest(models.Model):
    affiliate = models.ForeignKey(Affiliate, on_delete=models.PROTECT, related_name="payouts")
    currency = models.CharField(max_length=3)
    amount = money_field()
    method = models.CharField(max_length=16, choices=PayoutChannel.choices)
    # The saved method the affiliate chose; null for requests made before methods existed, or
    # without one (the profile's free-text details then).
    payout_method = models.ForeignKey(
        "PayoutMethod",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payout_requests",
    )
    # The payout details when it asked: later edits of its methods or profile don't redirect it.
    payout_details = models.TextField(blank=True)
    status = models.CharField(
        max_length=16, choices=PayoutStatus.choices, default=PayoutStatus.REQUESTED
    )
    reference = models.CharField(max_length=255, blank=True)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["affiliate", "created_at"], name="payout_affiliate_time"),
            models.Index(fields=["status", "created_at"], name="payout_status_time"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payout_amount_gt_0"),
            models.CheckConstraint(
                condition=~Q(status=PayoutStatus.PAID) | ~Q(reference=""),
                name="payout_paid_has_reference",
            ),
        ]

    def __str__(self) -> str:
        return f"payout #{self.pk} {format_money(self.amount, self.currency)} ({self.status})"


class PayoutEvent(models.Model):
    """Append-only history of a payout request's status."""

    payout = models.ForeignKey(PayoutRequest, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, choices=PayoutStatus.choices)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status}"


# An exchange rate's precision: 10 places keep a small rate (1 IDR in EUR is about 0.0000570000)
# to 6 significant digits, and 10 digits before the point cover 1 unit of any currency in use.
RATE_MAX_DIGITS = 20
RATE_DECIMAL_PLACES = 10


class ExchangeRateSource(models.TextChoices):
    MANUAL = "manual", "Entered (console or API)"
    CSV = "csv", "CSV import"
    FEED = "feed", "Scheduled load"


class ExchangeRate(models.Model):
    """One day's rate: 1 `from_currency` is worth `rate` `to_currency` on `date`.

    One row per (date, from, to); entering it again replaces the rate. Conversions keep the rate
    they were converted at, so a later correction never changes money already booked.
    """

    date = models.DateField()
    from_currency = models.CharField(max_length=3)
    to_currency = models.CharField(max_length=3)
    rate = models.DecimalField(max_digits=RATE_MAX_DIGITS, decimal_places=RATE_DECIMAL_PLACES)
    source = models.CharField(
        max_length=16, choices=ExchangeRateSource.choices, default=ExchangeRateSource.MANUAL
    )
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-date", "from_currency", "to_currency"]
        constraints = [
            models.UniqueConstraint(
                fields=["date", "from_currency", "to_currency"], name="exchange_rate_per_day"
            ),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchange_rate_gt_0"),
            models.CheckConstraint(
                condition=~Q(from_currency=models.F("to_currency")),
                name="exchange_rate_two_currencies",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} 1 {self.from_currency} = {self.rate} {self.to_currency}"


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ISSUED = "issued", "Issued"
    PAID = "paid", "Paid"
    VOID = "void", "Void"


class Invoice(models.Model):
    """What one advertiser owes for one period in one currency (see payouts/invoices.py).

    Its lines are the advertiser's receivable ledger entries of the period, plus manual lines
    that are posted to the ledger when it is issued, so `total` is always the sum of the ledger
    lines it covers. `number` is given at issue, without gaps (`InvoiceNumberCounter`).
    """

    advertiser = models.ForeignKey(Advertiser, on_delete=models.PROTECT, related_name="invoices")
    currency = models.CharField(max_length=3)
    # Calendar dates, both inclusive, read in UTC.
    period_start = models.DateField()
    period_end = models.DateField()
    number = models.CharField(max_length=32, null=True, blank=True, unique=True)
    status = models.CharField(
        max_length=8, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT
    )
    total = money_field()
    amount_paid = money_field()
    created_at = models.DateTimeField()
    # When the draft's lines were last derived from the ledger.
    computed_at = models.DateTimeField()
    issued_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-period_start", "-id"]
        indexes = [
            models.Index(fields=["advertiser", "currency", "period_start"], name="invoice_period"),
            models.Index(fields=["status", "period_start"], name="invoice_status_period"),
        ]
        constraints = [
            # One live invoice per advertiser, currency and period: drafting is idempotent.
            models.UniqueConstraint(
                fields=["advertiser", "currency", "period_start", "period_end"],
                condition=~Q(status="void"),
                name="invoice_one_per_period",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="invoice_period_ordered",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "void"]) | Q(number__isnull=False),
                name="invoice_issued_has_number",
            ),
            models.CheckConstraint(
                condition=Q(amount_paid__gte=0) & Q(amount_paid__lte=models.F("total"))
                | Q(amount_paid=0),
                name="invoice_paid_within_total",
            ),
        ]

    def __str__(self) -> str:
        label = self.number or f"draft #{self.pk}"
        return f"{label} {self.advertiser_id} {self.period_start:%Y-%m} ({self.status})"

    @property
    def amount_due(self) -> Decimal:
        return self.total - self.amount_paid


class InvoiceLineKind(models.TextChoices):
    REVENUE = "revenue", "Revenue"
    ADJUSTMENT = "adjustment", "Adjustment"


class InvoiceLine(models.Model):
    """One line of an invoice. Derived lines (`is_manual` false) are rebuilt from the ledger
    while the invoice is a draft; manual ones are kept and posted to the ledger at issue."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=16, choices=InvoiceLineKind.choices)
    description = models.CharField(max_length=300)
    # Revenue lines: conversions approved less conversions reversed; other lines: 1.
    quantity = models.IntegerField(default=1)
    amount = money_field()
    is_manual = models.BooleanField(default=False)
    # Revenue lines: the campaign and event they sum (ids: campaigns may be archived later).
    campaign_id = models.BigIntegerField(null=True, blank=True)
    event_id = models.BigIntegerField(null=True, blank=True)
    # A manual line, once posted at issue; a derived adjustment line, the transaction it shows.
    ledger_transaction = models.ForeignKey(
        LedgerTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    position = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.description}: {format_money(self.amount, self.invoice.currency)}"


class InvoicePayment(models.Model):
    """Money received against an issued invoice: one ledger transaction each (the advertiser's
    receivable is credited, the network's cash debited)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    amount = money_field()
    paid_at = models.DateTimeField()
    reference = models.CharField(max_length=255)
    ledger_transaction = models.OneToOneField(
        LedgerTransaction, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="invoice_payment_gt_0"),
            # A bank reference recorded twice is a retry or a mistake, never a second payment.
            models.UniqueConstraint(
                fields=["invoice", "reference"], name="invoice_payment_reference_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{format_money(self.amount, self.invoice.currency)} ({self.reference})"


class InvoiceNumberCounter(models.Model):
    """The last invoice number given in a year. Issuing locks this row (SELECT ... FOR UPDATE)
    and increments it in the issuing transaction, so numbers are consecutive: a rolled-back
    issue gives its number back."""

    year = models.PositiveIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"
