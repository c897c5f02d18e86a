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

Affiliate accounts are the network's liabilities to the affiliate, so their natural balance is a
credit; the portal shows the negated sum. Ledger rows are never updated or deleted: a database
trigger (migration 0002) refuses it, and a mistake is corrected by a new, opposite transaction.

Conversions are referenced by id (`reference_type="conversion"`), never by foreign key: the
tracker app depends on payouts, not the other way round.
"""

from typing import ClassVar

from django.db import models
from django.db.models import Q

from accounts.models import Affiliate, User
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


KINDS_BY_OWNER: dict[str, frozenset[str]] = {
    OwnerType.AFFILIATE: frozenset(
        {AccountKind.PENDING, AccountKind.AVAILABLE, AccountKind.REQUESTED, AccountKind.PAID}
    ),
    OwnerType.ADVERTISER: frozenset({AccountKind.RECEIVABLE}),
    OwnerType.NETWORK: frozenset(
        {AccountKind.REVENUE, AccountKind.PAYOUT_EXPENSE, AccountKind.ADJUSTMENTS}
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
