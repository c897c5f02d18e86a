"""Campaigns (offers), their caps, who may promote them, tracking links and partner keys."""

from django.db import models
from django.db.models import Q

from accounts.models import Advertiser, Affiliate, User
from campaigns.partner_profiles import PartnerProfile
from core.fields import money_field
from core.formatting import format_number
from core.models import TimeStampedModel


class CampaignStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    ARCHIVED = "archived", "Archived"


class PayoutType(models.TextChoices):
    FIXED = "fixed", "Fixed amount"
    REVSHARE = "revshare", "Revenue share"


class Visibility(models.TextChoices):
    PUBLIC = "public", "Public: any approved affiliate"
    APPROVAL = "approval", "Requires approval"
    PRIVATE = "private", "Private: by invitation"


class Campaign(TimeStampedModel):
    advertiser = models.ForeignKey(Advertiser, on_delete=models.PROTECT, related_name="campaigns")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    landing_url = models.CharField(
        max_length=2000, help_text="Where clicks go; macros such as {click_id} are filled in."
    )
    fallback_url = models.CharField(
        max_length=2000, blank=True, help_text="Where blocked clicks go (paused, capped, ...)."
    )
    status = models.CharField(
        max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.ACTIVE
    )
    currency = models.CharField(max_length=3, default="USD")
    payout_type = models.CharField(max_length=16, choices=PayoutType.choices)
    payout_amount = money_field(help_text="Fixed payout per conversion (fixed model).")
    revshare_percent = models.DecimalField(
        max_digits=7, decimal_places=4, default=0, help_text="Percent of revenue (revshare model)."
    )
    default_revenue = money_field(help_text="Revenue when the partner's postback has no payout.")
    visibility = models.CharField(
        max_length=16, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    external_offer_id = models.CharField(
        max_length=100,
        blank=True,
        help_text="The partner's offer_id / survey_id for this campaign.",
    )
    attribution_window_hours = models.PositiveIntegerField(default=30 * 24)
    hold_days = models.PositiveIntegerField(default=0)
    auto_approve_after_hours = models.PositiveIntegerField(null=True, blank=True)
    allow_multiple_conversions = models.BooleanField(default=False)
    timezone = models.CharField(max_length=64, default="UTC")
    allowed_countries = models.JSONField(
        default=list, blank=True, help_text="ISO country codes; empty means every country."
    )
    # Who may click: include/exclude lists, IP ranges and day-parting (tracker.targeting).
    targeting = models.JSONField(default=dict, blank=True)
    # Fraud signal -> action (allow, flag, block, hold, reject); a signal not named is allowed.
    fraud_policy = models.JSONField(default=dict, blank=True)
    min_seconds_to_convert = models.PositiveIntegerField(
        default=0, help_text="A conversion sooner than this after its click is the too_fast signal."
    )

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["advertiser", "status"]),
            models.Index(fields=["external_offer_id"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(payout_amount__gte=0), name="campaign_payout_gte_0"),
            models.CheckConstraint(
                condition=Q(revshare_percent__gte=0) & Q(revshare_percent__lte=100),
                name="campaign_revshare_0_100",
            ),
            models.CheckConstraint(
                condition=Q(default_revenue__gte=0), name="campaign_revenue_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.name}"

    @property
    def campaign_caps(self) -> list["Cap"]:
        """The caps on the whole campaign (the events' own caps are theirs); uses a prefetch."""
        return [cap for cap in self.caps.all() if cap.event_id is None]


class EventInitialStatus(models.TextChoices):
    APPROVED = "approved", "Approved"
    PENDING = "pending", "Pending"


DEFAULT_EVENT_CODE = "default"
EVENT_CODE_MAX_LENGTH = 50


class ConversionEvent(TimeStampedModel):
    """A goal of a campaign (`lead`, `sale`, `deposit`) with its own terms and caps.

    Exactly one event per campaign is the default: postbacks that name no event convert on it,
    and its terms are the campaign's own payout fields (the campaign services keep the two equal).
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="events")
    code = models.SlugField(max_length=EVENT_CODE_MAX_LENGTH)
    name = models.CharField(max_length=200)
    is_default = models.BooleanField(default=False)
    payout_type = models.CharField(max_length=16, choices=PayoutType.choices)
    payout_amount = money_field()
    revshare_percent = models.DecimalField(max_digits=7, decimal_places=4, default=0)
    default_revenue = money_field()
    allow_multiple = models.BooleanField(
        default=False,
        help_text="Several conversions of this event per click, each with its own transaction id.",
    )
    initial_status = models.CharField(
        max_length=16, choices=EventInitialStatus.choices, default=EventInitialStatus.APPROVED
    )

    class Meta:
        ordering = ["-is_default", "id"]
        verbose_name = "conversion event"
        constraints = [
            models.UniqueConstraint(fields=["campaign", "code"], name="event_code_unique"),
            models.UniqueConstraint(
                fields=["campaign"], condition=Q(is_default=True), name="event_one_default"
            ),
            models.CheckConstraint(condition=Q(payout_amount__gte=0), name="event_payout_gte_0"),
            models.CheckConstraint(
                condition=Q(revshare_percent__gte=0) & Q(revshare_percent__lte=100),
                name="event_revshare_0_100",
            ),
            models.CheckConstraint(condition=Q(default_revenue__gte=0), name="event_revenue_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class PricingRule(TimeStampedModel):
    """Overrides an event's terms for matching conversions: the most specific valid rule wins.

    Specificity: affiliate 8 + event 4 + country 2 + sub1 1 (an empty criterion matches all);
    ties go to the later `starts_at`, then the higher id. Valid from `starts_at` (null: always)
    until `ends_at` (null: open), excluded.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="pricing_rules")
    event = models.ForeignKey(
        ConversionEvent,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="pricing_rules",
        help_text="Empty: every event of the campaign.",
    )
    affiliate = models.ForeignKey(
        Affiliate,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="pricing_rules",
        help_text="Empty: every affiliate.",
    )
    country = models.CharField(max_length=2, blank=True, help_text="Empty: every country.")
    sub1 = models.CharField(max_length=255, blank=True, help_text="Empty: any sub1.")
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    payout_type = models.CharField(max_length=16, choices=PayoutType.choices)
    payout_amount = money_field()
    revshare_percent = models.DecimalField(max_digits=7, decimal_places=4, default=0)
    revenue_amount = models.DecimalField(
        max_digits=18,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="Revenue when the partner sends none; empty keeps the event's.",
    )
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["campaign", "ends_at"], name="pricing_rule_campaign")]
        constraints = [
            models.CheckConstraint(condition=Q(payout_amount__gte=0), name="rule_payout_gte_0"),
            models.CheckConstraint(
                condition=Q(revshare_percent__gte=0) & Q(revshare_percent__lte=100),
                name="rule_revshare_0_100",
            ),
            models.CheckConstraint(
                condition=Q(revenue_amount__isnull=True) | Q(revenue_amount__gte=0),
                name="rule_revenue_gte_0",
            ),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True)
                | Q(ends_at__isnull=True)
                | Q(ends_at__gt=models.F("starts_at")),
                name="rule_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"rule #{self.pk}"

    @property
    def specificity(self) -> int:
        return (
            (8 if self.affiliate_id else 0)
            + (4 if self.event_id else 0)
            + (2 if self.country else 0)
            + (1 if self.sub1 else 0)
        )


class CapScope(models.TextChoices):
    CAMPAIGN = "campaign", "Campaign-wide"
    AFFILIATE = "affiliate", "Per affiliate"


class CapPeriod(models.TextChoices):
    DAY = "day", "Daily"
    WEEK = "week", "Weekly"
    MONTH = "month", "Monthly"
    TOTAL = "total", "Total"


class CapMetric(models.TextChoices):
    CONVERSIONS = "conversions", "Conversions"
    PAYOUT = "payout", "Payout budget"


class CapAction(models.TextChoices):
    REJECT_CONVERSIONS = "reject", "Reject further conversions"
    BLOCK_CLICKS = "block_clicks", "Also send clicks to the fallback URL"


class Cap(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="caps")
    # Empty: a campaign cap, counting every event; else it counts that event's conversions only.
    event = models.ForeignKey(
        ConversionEvent, null=True, blank=True, on_delete=models.CASCADE, related_name="caps"
    )
    scope = models.CharField(max_length=16, choices=CapScope.choices, default=CapScope.CAMPAIGN)
    period = models.CharField(max_length=16, choices=CapPeriod.choices, default=CapPeriod.DAY)
    metric = models.CharField(
        max_length=16, choices=CapMetric.choices, default=CapMetric.CONVERSIONS
    )
    limit = money_field()
    action = models.CharField(
        max_length=16, choices=CapAction.choices, default=CapAction.REJECT_CONVERSIONS
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "scope", "period", "metric"],
                condition=Q(event__isnull=True),
                name="cap_unique_per_kind",
            ),
            models.UniqueConstraint(
                fields=["event", "scope", "period", "metric"],
                condition=Q(event__isnull=False),
                name="cap_unique_per_event_kind",
            ),
            models.CheckConstraint(condition=Q(limit__gte=0), name="cap_limit_gte_0"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_scope_display()} {self.get_period_display()} {self.metric}"
            f" ≤ {format_number(self.limit, max_places=2)}"
        )


class CapCounter(models.Model):
    """What a cap has used in one period (and, for per-affiliate caps, for one affiliate).

    `affiliate_key` is the affiliate's id for per-affiliate caps and 0 for campaign-wide ones, so
    that one unique constraint covers both. Consumption is a conditional UPDATE (`used + amount <=
    limit`), which PostgreSQL re-checks under the row lock: exact under any concurrency.
    """

    cap = models.ForeignKey(Cap, on_delete=models.CASCADE, related_name="counters")
    affiliate_key = models.BigIntegerField(default=0)
    period_start = models.DateField()
    used = money_field()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["cap", "affiliate_key", "period_start"], name="cap_counter_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"cap #{self.cap_id} affiliate {self.affiliate_key} {self.period_start}: {self.used}"


class AccessStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    REVOKED = "revoked", "Revoked"


class CampaignAccess(TimeStampedModel):
    """An affiliate's application to (or invitation into) a campaign.

    An invitation is approved access from the start (`invited_at` and `invited_by` say who
    invited and when); it is the only way into a private campaign.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="accesses")
    affiliate = models.ForeignKey(Affiliate, on_delete=models.CASCADE, related_name="accesses")
    status = models.CharField(
        max_length=16, choices=AccessStatus.choices, default=AccessStatus.PENDING
    )
    message = models.TextField(blank=True, help_text="What the affiliate said when applying.")
    decision_reason = models.CharField(max_length=500, blank=True)
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    invited_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    invited_at = models.DateTimeField(
        null=True, blank=True, help_text="When the advertiser or an admin invited the affiliate."
    )

    class Meta:
        verbose_name = "campaign application"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "affiliate"], name="access_unique_pair"),
        ]


class TrackingLink(models.Model):
    """One link per (affiliate, campaign); `token` is the unguessable part of `/c/<token>`."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="links")
    affiliate = models.ForeignKey(Affiliate, on_delete=models.CASCADE, related_name="links")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "affiliate"], name="link_unique_pair"),
        ]

    def __str__(self) -> str:
        return self.token


class LandingPage(TimeStampedModel):
    """One of a campaign's landing URLs; clicks draw one by weight unless the link pins it (`lp`).

    Never deleted once used: clicks keep its id, so the services deactivate it instead.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="landing_pages")
    name = models.CharField(max_length=200)
    url = models.CharField(max_length=2000, help_text="Macros such as {click_id} are filled in.")
    weight = models.PositiveIntegerField(default=100)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.name}"


class SmartLink(TimeStampedModel):
    """An affiliate's `/s/<token>`: sends each visitor to the first campaign that can take it."""

    affiliate = models.ForeignKey(Affiliate, on_delete=models.CASCADE, related_name="smart_links")
    name = models.CharField(max_length=200)
    token = models.CharField(max_length=64, unique=True)
    catch_all_url = models.CharField(max_length=2000, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.name


class SmartLinkEntry(models.Model):
    """A campaign of a smart link: lower `priority` first, `weight` draws within a level."""

    smart_link = models.ForeignKey(SmartLink, on_delete=models.CASCADE, related_name="entries")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    priority = models.PositiveSmallIntegerField(default=1)
    weight = models.PositiveIntegerField(default=100)

    class Meta:
        ordering = ["priority", "id"]
        verbose_name_plural = "smart link entries"
        constraints = [
            models.UniqueConstraint(
                fields=["smart_link", "campaign"], name="smart_link_entry_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.smart_link_id}: campaign {self.campaign_id} p{self.priority} w{self.weight}"


PARTNER_KEY_MAX_LENGTH = 64


class PartnerKey(TimeStampedModel):
    """A partner server's credential for `/postback/<key>`, owned by one advertiser."""

    advertiser = models.ForeignKey(
        Advertiser, on_delete=models.CASCADE, related_name="partner_keys"
    )
    name = models.CharField(max_length=100, blank=True)
    key = models.CharField(max_length=PARTNER_KEY_MAX_LENGTH, unique=True)
    previous_key = models.CharField(
        max_length=PARTNER_KEY_MAX_LENGTH, unique=True, null=True, blank=True
    )
    previous_key_expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    ip_allowlist = models.JSONField(
        default=list, blank=True, help_text="IP addresses or CIDR ranges; empty allows any."
    )
    require_signature = models.BooleanField(default=False)
    signing_secret = models.CharField(max_length=128)
    # Rotation keeps the previous secret valid for signatures as long as the previous key.
    previous_signing_secret = models.CharField(max_length=128, blank=True)
    rotated_at = models.DateTimeField(null=True, blank=True)
    # How the partner's postback is read (campaigns.partner_profiles): whose parameter names.
    profile = models.CharField(
        max_length=16,
        choices=PartnerProfile.choices,
        default=PartnerProfile.CLICKLEDGER,
        db_default=PartnerProfile.CLICKLEDGER,
    )
    param_map = models.JSONField(
        default=dict, blank=True, help_text="Custom profile: their parameter name -> ours."
    )
    status_map = models.JSONField(
        default=dict, blank=True, help_text="Custom profile: their status value -> ours."
    )

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.name or f"key #{self.pk}"
