"""Clicks, conversions and their history, the raw log of partner postbacks, end-user points."""

import uuid

from django.contrib.postgres.indexes import BrinIndex
from django.db import models
from django.db.models import Q

from accounts.models import Advertiser, Affiliate, User
from campaigns.models import (
    Campaign,
    ConversionEvent,
    LandingPage,
    PartnerKey,
    PricingRule,
    SmartLink,
    TrackingLink,
)
from core.fields import money_field
from core.formatting import format_number
from payouts.models import RATE_DECIMAL_PLACES, RATE_MAX_DIGITS


class BlockedReason(models.TextChoices):
    CAMPAIGN_PAUSED = "campaign_paused", "Campaign paused"
    CAMPAIGN_ARCHIVED = "campaign_archived", "Campaign archived"
    CAP_REACHED = "cap_reached", "Cap reached"
    AFFILIATE_NOT_APPROVED = "affiliate_not_approved", "Affiliate not approved"
    ACCESS_REVOKED = "access_revoked", "Affiliate's access revoked"
    TARGETING_COUNTRY = "targeting_country", "Country not targeted"
    TARGETING = "targeting", "Targeting"
    FRAUD = "fraud", "Fraud"


class DeviceType(models.TextChoices):
    DESKTOP = "desktop", "Desktop"
    MOBILE = "mobile", "Mobile"
    TABLET = "tablet", "Tablet"
    BOT = "bot", "Bot"
    OTHER = "other", "Other"


CLICK_ID_MAX_LENGTH = 64


class Click(models.Model):
    click_id = models.CharField(max_length=CLICK_ID_MAX_LENGTH)
    # No single-column FK indexes: the composite indexes below lead with each of these columns,
    # and every index costs each click's INSERT (see Meta).
    link = models.ForeignKey(
        TrackingLink, on_delete=models.PROTECT, related_name="clicks", db_index=False
    )
    affiliate = models.ForeignKey(
        Affiliate, on_delete=models.PROTECT, related_name="clicks", db_index=False
    )
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="clicks", db_index=False
    )
    created_at = models.DateTimeField()
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.TextField(blank=True)
    referer = models.TextField(blank=True)
    country = models.CharField(max_length=2, blank=True)
    sub1 = models.CharField(max_length=255, blank=True)
    sub2 = models.CharField(max_length=255, blank=True)
    sub3 = models.CharField(max_length=255, blank=True)
    sub4 = models.CharField(max_length=255, blank=True)
    sub5 = models.CharField(max_length=255, blank=True)
    user_id = models.CharField(max_length=255, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    # sha256(ip, user agent) prefix: same visitor on the same link within 24 h is not unique.
    fingerprint = models.CharField(max_length=32, blank=True)
    is_unique = models.BooleanField(default=True)
    blocked_reason = models.CharField(max_length=32, choices=BlockedReason.choices, blank=True)
    device_type = models.CharField(max_length=16, choices=DeviceType.choices, blank=True)
    os = models.CharField(max_length=64, blank=True)
    browser = models.CharField(max_length=64, blank=True)
    # Clicks keep the ids of the landing page and smart link they came through even if those are
    # edited later; no database constraint or index (the services never delete a used one, and
    # nothing looks clicks up by them: reports read rollups).
    landing_page = models.ForeignKey(
        LandingPage,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    smart_link = models.ForeignKey(
        SmartLink,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    fraud_signals = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-id"]
        # Indexes are what queries need, nothing more (measured in docs/performance.md): a
        # UniqueConstraint on click_id (unlike unique=True, no second `_like` pattern index: click
        # ids are looked up exactly), the uniqueness lookup of the click path, the scoped lists
        # by campaign and by affiliate, and a BRIN on created_at (clicks arrive in time order)
        # for the rollup refresh's hour ranges and the retention pruning, at a few kB.
        constraints = [
            models.UniqueConstraint(fields=["click_id"], name="click_click_id_unique"),
        ]
        indexes = [
            models.Index(fields=["link", "fingerprint", "created_at"], name="click_unique_lookup"),
            models.Index(fields=["campaign", "created_at"], name="click_campaign_time"),
            models.Index(fields=["affiliate", "created_at"], name="click_affiliate_time"),
            BrinIndex(fields=["created_at"], name="click_created_brin", pages_per_range=32),
            # The fraud report's flagged clicks by time. Partial: a clean click (fraud_signals
            # '[]') writes no entry, so the click path pays nothing for it.
            models.Index(
                fields=["created_at"],
                name="click_flagged_time",
                condition=~models.Q(fraud_signals=[]),
            ),
        ]

    def __str__(self) -> str:
        return self.click_id


class ConversionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    REVERSED = "reversed", "Reversed"


class Conversion(models.Model):
    """One attributed conversion of one event. Identity (dedupe) is two unique constraints:

    - (`click`, `event`, `dedupe_slot`): `dedupe_slot` is "" for events converting once per click
      and the transaction id for events that allow several conversions per click;
    - (`campaign`, `event`, `transaction_id`) whenever a transaction id was given.

    So one click brings one `lead` and one `sale`. `pricing_rule` is the rule that priced it
    (null: the event's own terms); a later status change never reprices.
    """

    # No single-column indexes on these three: `conversion_per_click` and the two time indexes
    # (see Meta) lead with them, and each index is written by every postback that converts.
    click = models.ForeignKey(
        Click, on_delete=models.PROTECT, related_name="conversions", db_index=False
    )
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="conversions", db_index=False
    )
    affiliate = models.ForeignKey(
        Affiliate, on_delete=models.PROTECT, related_name="conversions", db_index=False
    )
    partner_key = models.ForeignKey(
        PartnerKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="conversions"
    )
    # Covered by the identity constraints, which lead with click and campaign.
    event = models.ForeignKey(
        ConversionEvent, on_delete=models.PROTECT, related_name="conversions", db_index=False
    )
    pricing_rule = models.ForeignKey(
        PricingRule, null=True, blank=True, on_delete=models.PROTECT, related_name="conversions"
    )
    dedupe_slot = models.CharField(max_length=255, blank=True)
    transaction_id = models.CharField(max_length=255, blank=True)
    external_conversion_id = models.CharField(max_length=255, blank=True)
    offer_id = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=ConversionStatus.choices)
    reason = models.CharField(max_length=255, blank=True)
    currency = models.CharField(max_length=3)
    revenue = money_field()
    payout = money_field()
    # A postback in another currency than the campaign's: what the partner sent and the rate
    # (1 original_currency = exchange_rate currency) that made `revenue` of it. Empty otherwise.
    original_amount = money_field(null=True, blank=True, default=None)
    original_currency = models.CharField(max_length=3, blank=True, default="", db_default="")
    exchange_rate = models.DecimalField(
        max_digits=RATE_MAX_DIGITS, decimal_places=RATE_DECIMAL_PLACES, null=True, blank=True
    )
    points_awarded = money_field()
    user_id = models.CharField(max_length=255, blank=True)
    country = models.CharField(max_length=2, blank=True)
    device_id = models.CharField(max_length=255, blank=True)
    ip = models.CharField(max_length=64, blank=True)
    user_agent = models.TextField(blank=True)
    sub_ids = models.JSONField(default=dict, blank=True)
    custom_data = models.JSONField(default=dict, blank=True)
    fraud_signals = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField()
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["click", "event", "dedupe_slot"], name="conversion_per_click_event"
            ),
            models.UniqueConstraint(
                fields=["campaign", "event", "transaction_id"],
                condition=~Q(transaction_id=""),
                name="conversion_unique_event_transaction",
            ),
            models.CheckConstraint(condition=Q(revenue__gte=0), name="conversion_revenue_gte_0"),
            models.CheckConstraint(condition=Q(payout__gte=0), name="conversion_payout_gte_0"),
        ]
        indexes = [
            models.Index(fields=["campaign", "created_at"], name="conv_campaign_time"),
            models.Index(fields=["affiliate", "created_at"], name="conv_affiliate_time"),
            models.Index(fields=["status", "created_at"], name="conv_status_time"),
        ]

    def __str__(self) -> str:
        return f"conversion #{self.pk} ({self.status})"


class ChangeSource(models.TextChoices):
    POSTBACK = "postback", "Partner postback"
    LEGACY_POSTBACK = "legacy_postback", "Legacy GET /postback"
    ADMIN = "admin", "Admin"
    ADVERTISER = "advertiser", "Advertiser"
    SYSTEM = "system", "Scheduled job"


class ConversionHistory(models.Model):
    """Append-only: every status change of a conversion, who made it, from which request, why."""

    conversion = models.ForeignKey(Conversion, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    revenue = money_field()
    payout = money_field()
    source = models.CharField(max_length=24, choices=ChangeSource.choices)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)
    postback_log_id = models.UUIDField(null=True, blank=True, db_index=True)
    reason = models.CharField(max_length=255, blank=True)
    # The partner's own status value when its key's profile mapped it (`sale`, `1`).
    partner_status = models.CharField(max_length=64, blank=True, default="", db_default="")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "conversion history"

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status}"


class PostbackOutcome(models.TextChoices):
    CREATED = "created", "Created"
    UPDATED = "updated", "Updated"
    DUPLICATE = "duplicate", "Duplicate"
    REJECTED = "rejected", "Recorded as rejected"
    TEST = "test", "Test"
    ERROR = "error", "Refused"


class PostbackLog(models.Model):
    """Every inbound postback as received, refused ones too. Its id is the `log_id` we answer."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    received_at = models.DateTimeField(db_index=True)
    endpoint = models.CharField(max_length=32)
    method = models.CharField(max_length=8)
    # `key`, `click_id` and `transaction_id` keep their B-tree indexes but not the
    # `varchar_pattern_ops` twins Django adds on PostgreSQL for LIKE 'prefix%': every search here
    # is exact (the admin's `exact_search_fields`), and migration 0004 drops them.
    key = models.CharField(max_length=128, blank=True, db_index=True)
    partner_key = models.ForeignKey(
        PartnerKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="logs"
    )
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    query_string = models.TextField(blank=True)
    content_type = models.CharField(max_length=128, blank=True)
    body = models.TextField(blank=True)
    params = models.JSONField(default=dict, blank=True)
    click_id = models.CharField(max_length=255, blank=True, db_index=True)
    transaction_id = models.CharField(max_length=255, blank=True, db_index=True)
    outcome = models.CharField(max_length=16, choices=PostbackOutcome.choices)
    http_status = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=64, blank=True)
    message = models.CharField(max_length=500, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    conversion = models.ForeignKey(
        Conversion, null=True, blank=True, on_delete=models.SET_NULL, related_name="postback_logs"
    )

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["outcome", "received_at"], name="postbacklog_outcome")]

    def __str__(self) -> str:
        return str(self.id)


class EndUserPoints(models.Model):
    """Offerwall points of one end user (`user_id`) with one affiliate, 1:1 with payout amounts."""

    affiliate = models.ForeignKey(Affiliate, on_delete=models.CASCADE, related_name="user_points")
    user_id = models.CharField(max_length=255)
    points = money_field()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "end-user points"
        constraints = [
            models.UniqueConstraint(fields=["affiliate", "user_id"], name="points_unique_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {format_number(self.points, places=2)} points"


# --- reconciliation with an advertiser's own conversion list -------------------------------------


class ReconciliationStatus(models.TextChoices):
    PREVIEWED = "previewed", "Previewed"
    APPLIED = "applied", "Applied"


class RowClass(models.TextChoices):
    """How one line of the advertiser's file (or one of our conversions) compares."""

    MATCHED = "matched", "Matched"
    MISSING_HERE = "missing_here", "In their file, not ours"
    MISSING_THERE = "missing_there", "Ours, not in their file"
    STATUS_DIFFERS = "status_differs", "Status differs"
    AMOUNT_DIFFERS = "amount_differs", "Amount differs"
    INVALID = "invalid", "Invalid row"


class Reconciliation(models.Model):
    """An advertiser's conversion list for one campaign (or all its campaigns) and a date range,
    compared with ours: one `ReconciliationRow` per line of the file, plus one per conversion of
    ours in the range that the file does not name. `summary` is the preview's totals per class,
    computed once when the file is read (the rows keep the snapshot they were classed on)."""

    advertiser = models.ForeignKey(
        Advertiser, on_delete=models.PROTECT, related_name="reconciliations"
    )
    # Null: every campaign of the advertiser.
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.PROTECT, related_name="reconciliations"
    )
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    date_from = models.DateField()
    date_to = models.DateField()
    status = models.CharField(
        max_length=16, choices=ReconciliationStatus.choices, default=ReconciliationStatus.PREVIEWED
    )
    file_name = models.CharField(max_length=255, blank=True)
    file_sha256 = models.CharField(max_length=64)
    line_count = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(date_from__lte=models.F("date_to")),
                name="reconciliation_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"reconciliation #{self.pk} ({self.date_from} to {self.date_to})"


class ReconciliationRow(models.Model):
    """One line of the advertiser's file (`line` set) or one conversion of ours it lacks
    (`missing_there`, no line). `our_*` and the deltas are the preview's snapshot; `outcome`
    and `applied_at` are written once, when the row is applied (a set `applied_at` is the
    marker that makes a second apply skip it)."""

    reconciliation = models.ForeignKey(
        Reconciliation, on_delete=models.CASCADE, related_name="rows"
    )
    line = models.PositiveIntegerField(null=True, blank=True)
    row_class = models.CharField(max_length=16, choices=RowClass.choices)
    # `invalid`: the reason code; other classes: a note (why a change cannot be applied).
    reason = models.CharField(max_length=255, blank=True)
    transaction_id = models.CharField(max_length=255, blank=True)
    click_id = models.CharField(max_length=255, blank=True)
    event = models.CharField(max_length=64, blank=True)
    their_status = models.CharField(max_length=16, blank=True)
    their_amount = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    conversion = models.ForeignKey(
        Conversion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    our_status = models.CharField(max_length=16, blank=True)
    our_revenue = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    our_payout = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    # Signed: what our booked (approved) money would change by if our records took their values.
    revenue_delta = money_field()
    payout_delta = money_field()
    # approve | reject | reverse: what applying the row does; "" when it does nothing.
    planned_action = models.CharField(max_length=16, blank=True)
    outcome = models.CharField(max_length=32, blank=True)
    outcome_message = models.CharField(max_length=255, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reconciliation", "line"],
                condition=Q(line__isnull=False),
                name="reconciliation_row_line_unique",
            ),
            models.UniqueConstraint(
                fields=["reconciliation", "conversion"],
                condition=Q(conversion__isnull=False),
                name="reconciliation_row_conversion_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["reconciliation", "row_class"], name="reconciliation_row_class"),
        ]

    def __str__(self) -> str:
        return f"line {self.line or '-'}: {self.row_class}"


class IpListKind(models.TextChoices):
    DENY = "deny", "Deny list"
    DATACENTER = "datacenter", "Data-center list"


class IpList(models.Model):
    """An operator's CIDR list (deny or data-center), loaded from a file by `ip_list_load`.

    Its own ranges are `IpListRange`; what the click path reads is `IpRange`, the union of every
    list of the kind (see `tracker.ip_lists`).
    """

    kind = models.CharField(max_length=16, choices=IpListKind.choices)
    name = models.CharField(max_length=100)
    source = models.CharField(max_length=500, blank=True, help_text="The file it was loaded from.")
    loaded_at = models.DateTimeField()
    entry_count = models.PositiveIntegerField(default=0, help_text="Addresses and CIDRs loaded.")
    range_count = models.PositiveIntegerField(default=0, help_text="Ranges once merged.")

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = "IP list"
        constraints = [
            models.UniqueConstraint(fields=["kind", "name"], name="ip_list_kind_name_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"


class IpListRange(models.Model):
    """One range of one list, merged with the list's other ranges: the list's own content, from
    which the kind's `IpRange` union is rebuilt when a list of the kind changes.

    `start` and `end` (inclusive) are 16-byte big-endian addresses, IPv4 mapped into IPv6
    (`::ffff:a.b.c.d`), so bytes compare like addresses on PostgreSQL (bytea) and SQLite (blob).
    """

    ip_list = models.ForeignKey(IpList, on_delete=models.CASCADE, related_name="ranges")
    start_key = models.BinaryField(max_length=16)
    end_key = models.BinaryField(max_length=16)

    class Meta:
        verbose_name = "IP list range"

    def __str__(self) -> str:
        return f"{self.ip_list_id}: {bytes(self.start_key).hex()}-{bytes(self.end_key).hex()}"


class IpRange(models.Model):
    """The union of every list of a kind as non-overlapping ranges, so one index probe answers
    "is this address listed": the last range starting at or before it, then its `end_key`."""

    kind = models.CharField(max_length=16, choices=IpListKind.choices)
    start_key = models.BinaryField(max_length=16)
    end_key = models.BinaryField(max_length=16)

    class Meta:
        verbose_name = "IP range"
        constraints = [
            # Also the lookup's index: (kind, start) read backwards from the address.
            models.UniqueConstraint(
                fields=["kind", "start_key"], name="ip_range_kind_start_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {bytes(self.start_key).hex()}-{bytes(self.end_key).hex()}"
