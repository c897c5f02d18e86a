"""`manage.py seed_demo`: a demo network (accounts, campaigns, links, a partner key) and traffic.

Contract:
- Demo objects are found by natural keys (email, campaign name + advertiser, (campaign,
  affiliate) pair, partner key value): a second run creates none of them again and never resets
  what someone changed on them (passwords included).
- Traffic is ADDED on every run: `--clicks 2000` twice gives 4000 demo clicks. `--reset-traffic`
  first deletes every click, conversion (with its history), cap counter and end-user points row
  of the demo campaigns and affiliates.
- Conversions carry the money the postback service computes (its own `conversion_price`: revenue,
  fixed or revshare payout, 4 places, ROUND_HALF_UP; the winning pricing rule, ranked by
  `pricing_rules_ranked` over the rule set loaded once, priced and stored as the conversion's
  `pricing_rule_id`), a ConversionHistory row per change, and
  consume the demo daily cap exactly like live traffic (over the cap: rejected `cap_reached`).
  End-user points are recomputed from the conversions' `points_awarded` at the end.
- The shop campaign converts on two events: `lead` (fixed payout, once per click), then on some
  clicks one or two `sale`s (revshare, several per click, each with its own transaction id).
  Its events are found by (campaign, code) and its pricing rules by (campaign, note): the
  affiliate-1 sale rule once, the dated promo once per ISO week (its note names the week, so a
  run in a later week adds that week's promo and keeps the old ones).
- Rows are written in batches, each batch (clicks + their conversions + history + cap counters)
  in one transaction: PostgreSQL COPY with ids drawn from the tables' sequences, else
  bulk_create (SQLite quickstart).
"""

import bisect
import hashlib
import json
import queue
import random
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, models, transaction
from django.db.models import Sum
from django.utils import timezone
from psycopg import sql
from tqdm import tqdm

from accounts.models import Advertiser, Affiliate, ApprovalStatus, Role, User
from accounts.services import user_register
from campaigns.caps import cap_period_start
from campaigns.events import campaign_default_event_sync
from campaigns.models import (
    AccessStatus,
    Campaign,
    CampaignAccess,
    CampaignStatus,
    Cap,
    CapCounter,
    CapMetric,
    CapPeriod,
    CapScope,
    ConversionEvent,
    PartnerKey,
    PayoutType,
    PricingRule,
    TrackingLink,
    Visibility,
)
from campaigns.pricing_rules import pricing_rules_ranked
from core import tokens
from core.exceptions import ApplicationError
from core.sql import column_of, concrete_field
from forwarding.models import Delivery
from payouts.ledger import ledger_conversion_status_changed, ledger_hold_release_due
from payouts.models import LedgerEntry, LedgerTransaction
from reporting.models import HourlyDimStat, HourlyStat
from reporting.services.rollups import stats_rebuild, stats_refresh
from tracker.devices import device_parse
from tracker.models import (
    BlockedReason,
    ChangeSource,
    Click,
    Conversion,
    ConversionHistory,
    ConversionStatus,
    EndUserPoints,
)
from tracker.services.pricing import conversion_price

# Published demo credentials (README, end-of-run summary): known on purpose.
ADMIN_EMAIL = "admin@clickledger.local"
ADMIN_PASSWORD = "demo-admin-pass"  # noqa: S105
ADVERTISER_EMAIL = "advertiser@clickledger.local"
ADVERTISER_PASSWORD = "demo-advertiser-pass"  # noqa: S105
AFFILIATE_EMAILS = ("affiliate1@clickledger.local", "affiliate2@clickledger.local")
PENDING_AFFILIATE_EMAIL = "affiliate3@clickledger.local"
AFFILIATE_PASSWORD = "demo-affiliate-pass"  # noqa: S105
PARTNER_KEY = "demo-partner-key-0000000000000000"
PARTNER_SIGNING_SECRET = "demo-signing-secret-00000000000000000000000000000000"  # noqa: S105

EU_COUNTRIES = ["DE", "FR", "NL", "ES", "IT", "AT", "BE", "PL", "SE", "IE"]


@dataclass(frozen=True)
class CampaignSpec:
    slug: str
    fields: dict[str, Any]


SHOP_CAMPAIGN = CampaignSpec(
    slug="c4",
    fields={
        "name": "Demo: Shop lead + sale (USD)",
        "description": (
            "Two events: a lead (fixed $1.50, approved on arrival) and each sale (30 % of the "
            "order value, several per click); affiliate 1 earns 40 % on sales; this week, US "
            "leads pay $2.50."
        ),
        "landing_url": "https://shop.example.com/?clickid={click_id}&aff={affiliate_id}",
        "fallback_url": "https://shop.example.com/",
        "currency": "USD",
        # The default event (postbacks naming no event) mirrors these: the lead's terms.
        "payout_type": PayoutType.FIXED,
        "payout_amount": Decimal("1.5000"),
        "revshare_percent": Decimal("0"),
        "default_revenue": Decimal("3.0000"),
        "visibility": Visibility.PUBLIC,
        "external_offer_id": "DEMO-SHOP-2E",
    },
)
CAMPAIGN_SPECS = (
    CampaignSpec(
        slug="c1",
        fields={
            "name": "Demo: Finance lead (fixed USD)",
            "description": "Fixed $2.50 per approved lead; public; daily cap of 200 leads.",
            "landing_url": (
                "https://offers.example.com/finance?cid={click_id}&aff={affiliate_id}"
                "&offer={offer_id}&s1={sub1}"
            ),
            "fallback_url": "https://offers.example.com/unavailable",
            "currency": "USD",
            "payout_type": PayoutType.FIXED,
            "payout_amount": Decimal("2.5000"),
            "revshare_percent": Decimal("0"),
            "default_revenue": Decimal("4.0000"),
            "visibility": Visibility.PUBLIC,
            "external_offer_id": "DEMO-LEAD-001",
        },
    ),
    CampaignSpec(
        slug="c2",
        fields={
            "name": "Demo: Survey wall (80% revshare USD)",
            "description": "Surveys paid per completion; 80 % of the partner's payout, as points.",
            "landing_url": (
                "https://surveys.example.com/start?click_id={click_id}&uid={user_id}"
                "&survey={offer_id}"
            ),
            "fallback_url": "https://surveys.example.com/closed",
            "currency": "USD",
            "payout_type": PayoutType.REVSHARE,
            "payout_amount": Decimal("0"),
            "revshare_percent": Decimal("80"),
            "default_revenue": Decimal("1.0000"),
            "visibility": Visibility.APPROVAL,
            "external_offer_id": "VBFS6",
        },
    ),
    CampaignSpec(
        slug="c3",
        fields={
            "name": "Demo: EU app install (65% revshare EUR, private)",
            "description": "Invitation only; EU traffic only.",
            "landing_url": "https://apps.example.com/install?ref={click_id}&c={country}",
            "fallback_url": "https://apps.example.com/not-available",
            "currency": "EUR",
            "payout_type": PayoutType.REVSHARE,
            "payout_amount": Decimal("0"),
            "revshare_percent": Decimal("65.5"),
            "default_revenue": Decimal("1.8000"),
            "visibility": Visibility.PRIVATE,
            "external_offer_id": "DEMO-APP-EU-7",
            "allowed_countries": EU_COUNTRIES,
        },
    ),
    SHOP_CAMPAIGN,
)
# (code, fields) of the shop campaign's events besides its default one.
SHOP_EVENTS = (
    (
        "lead",
        {
            "name": "Lead (sign-up)",
            "payout_type": PayoutType.FIXED,
            "payout_amount": Decimal("1.5000"),
            "revshare_percent": Decimal("0"),
            "default_revenue": Decimal("3.0000"),
            "allow_multiple": False,
        },
    ),
    (
        "sale",
        {
            "name": "Sale",
            "payout_type": PayoutType.REVSHARE,
            "payout_amount": Decimal("0"),
            "revshare_percent": Decimal("30"),
            "default_revenue": Decimal("0"),
            "allow_multiple": True,
        },
    ),
)
SHOP_AFFILIATE_SALE_NOTE = "Affiliate 1: 40 % on sales"
SHOP_PROMO_COUNTRY = "US"
# Share of the shop's leads followed by a sale, and of those by a second sale.
SALE_AFTER_LEAD_RATE = 0.45
SECOND_SALE_RATE = 0.25


def shop_promo_note(week_start: datetime) -> str:
    year, week, _day = week_start.isocalendar()
    return f"Promo {year}-W{week:02d}: US leads $2.50"


def week_start_of(moment: datetime) -> datetime:
    """Monday 00:00 UTC of the moment's week."""
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


DAILY_CAP_CAMPAIGN = "c1"
DAILY_CAP_LIMIT = Decimal("200")

# (affiliate index, campaign slug, share of the traffic).
LINK_SPECS = (
    (0, "c1", 0.30),
    (0, "c2", 0.25),
    (0, "c3", 0.10),
    (1, "c1", 0.20),
    (1, "c2", 0.15),
    (0, "c4", 0.12),
    (1, "c4", 0.08),
)


def link_token(affiliate_index: int, slug: str) -> str:
    return f"demo-link-aff{affiliate_index + 1}-{slug}"


@dataclass
class DemoNetwork:
    admin: User
    advertiser: Advertiser
    affiliates: list[Affiliate]
    pending_affiliate: Affiliate
    campaigns: dict[str, Campaign]
    links: list[TrackingLink]
    link_weights: list[float]
    partner_key: PartnerKey
    cap: Cap
    shop_events: dict[str, ConversionEvent] = field(default_factory=dict)
    shop_rules: list[PricingRule] = field(default_factory=list)


def _partner_ensure(*, email: str, password: str, role: str, name: str, company: str, status: str):
    """Register through the accounts service; an existing account is kept as it is."""
    profile_model = Advertiser if role == Role.ADVERTISER else Affiliate
    try:
        user = user_register(
            email=email, password=password, role=role, name=name, company=company, status=status
        )
    except ApplicationError as exc:
        if exc.code != "email_taken":
            raise
        user = User.objects.get(email=email)
    return profile_model.objects.get(user=user)


@transaction.atomic
def demo_network_ensure(*, now: datetime) -> DemoNetwork:
    """Create what is missing of the demo network; idempotent by natural keys."""
    admin = User.objects.filter(email=ADMIN_EMAIL).first()
    if admin is None:
        admin = User.objects.create_superuser(
            email=ADMIN_EMAIL, password=ADMIN_PASSWORD, name="Demo Admin"
        )
    advertiser = _partner_ensure(
        email=ADVERTISER_EMAIL,
        password=ADVERTISER_PASSWORD,
        role=Role.ADVERTISER,
        name="Ada Advertiser",
        company="Demo Offers Ltd",
        status=ApprovalStatus.APPROVED,
    )
    affiliates = [
        _partner_ensure(
            email=email,
            password=AFFILIATE_PASSWORD,
            role=Role.AFFILIATE,
            name=f"Publisher {number}",
            company=f"Demo Media {number}",
            status=ApprovalStatus.APPROVED,
        )
        for number, email in enumerate(AFFILIATE_EMAILS, start=1)
    ]
    pending_affiliate = _partner_ensure(
        email=PENDING_AFFILIATE_EMAIL,
        password=AFFILIATE_PASSWORD,
        role=Role.AFFILIATE,
        name="Pending Publisher",
        company="Waiting Room Media",
        status=ApprovalStatus.PENDING,
    )
    campaigns = {}
    for spec in CAMPAIGN_SPECS:
        defaults = {key: value for key, value in spec.fields.items() if key != "name"}
        campaigns[spec.slug], _ = Campaign.objects.get_or_create(
            advertiser=advertiser,
            name=spec.fields["name"],
            defaults={**defaults, "status": CampaignStatus.ACTIVE},
        )
        campaign_default_event_sync(campaign=campaigns[spec.slug])
    shop = campaigns[SHOP_CAMPAIGN.slug]
    shop_events = {
        code: ConversionEvent.objects.get_or_create(campaign=shop, code=code, defaults=fields)[0]
        for code, fields in SHOP_EVENTS
    }
    week_start = week_start_of(now)
    shop_rules = [
        PricingRule.objects.get_or_create(
            campaign=shop,
            note=SHOP_AFFILIATE_SALE_NOTE,
            defaults={
                "event": shop_events["sale"],
                "affiliate": affiliates[0],
                "payout_type": PayoutType.REVSHARE,
                "revshare_percent": Decimal("40"),
            },
        )[0],
        PricingRule.objects.get_or_create(
            campaign=shop,
            note=shop_promo_note(week_start),
            defaults={
                "event": shop_events["lead"],
                "country": SHOP_PROMO_COUNTRY,
                "starts_at": week_start,
                "ends_at": week_start + timedelta(days=7),
                "payout_type": PayoutType.FIXED,
                "payout_amount": Decimal("2.5000"),
            },
        )[0],
    ]
    cap, _ = Cap.objects.get_or_create(
        campaign=campaigns[DAILY_CAP_CAMPAIGN],
        scope=CapScope.CAMPAIGN,
        period=CapPeriod.DAY,
        metric=CapMetric.CONVERSIONS,
        defaults={"limit": DAILY_CAP_LIMIT},
    )
    links = []
    for affiliate_index, slug, _share in LINK_SPECS:
        affiliate, campaign = affiliates[affiliate_index], campaigns[slug]
        CampaignAccess.objects.get_or_create(
            campaign=campaign,
            affiliate=affiliate,
            defaults={
                "status": AccessStatus.APPROVED,
                "message": "Demo access.",
                "decided_by": admin,
                "decided_at": now,
            },
        )
        link, _ = TrackingLink.objects.get_or_create(
            campaign=campaign,
            affiliate=affiliate,
            defaults={"token": link_token(affiliate_index, slug)},
        )
        links.append(link)
    partner_key, _ = PartnerKey.objects.get_or_create(
        key=PARTNER_KEY,
        defaults={
            "advertiser": advertiser,
            "name": "Demo partner server",
            "signing_secret": PARTNER_SIGNING_SECRET,
        },
    )
    return DemoNetwork(
        admin=admin,
        advertiser=advertiser,
        affiliates=affiliates,
        pending_affiliate=pending_affiliate,
        campaigns=campaigns,
        links=links,
        link_weights=[share for _i, _s, share in LINK_SPECS],
        partner_key=partner_key,
        cap=cap,
        shop_events=shop_events,
        shop_rules=shop_rules,
    )


@transaction.atomic
def demo_traffic_reset(*, network: DemoNetwork) -> dict[str, int]:
    """Delete every click and conversion of the demo campaigns, their cap counters and points.

    Conversions go through the ORM collector (so whatever references them is handled by its own
    on_delete); clicks, by far the largest table, are deleted with one plain DELETE once nothing
    points at them any more.
    """
    campaign_ids = [campaign.pk for campaign in network.campaigns.values()]
    affiliate_ids = [affiliate.pk for affiliate in network.affiliates]
    _ledger_take_back(campaign_ids=campaign_ids)
    conversions = Conversion.objects.filter(campaign_id__in=campaign_ids)
    # Deliveries name their conversion by id (forwarding knows no conversion): deleted first.
    Delivery.objects.filter(conversion_id__in=conversions.values("pk")).delete()
    deleted_conversions, _ = conversions.delete()
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {connection.ops.quote_name(Click._meta.db_table)} "  # noqa: S608
            f"WHERE campaign_id IN ({', '.join(['%s'] * len(campaign_ids))})",
            campaign_ids,
        )
        deleted_clicks = cursor.rowcount
    CapCounter.objects.filter(cap__campaign_id__in=campaign_ids).delete()
    EndUserPoints.objects.filter(affiliate_id__in=affiliate_ids).delete()
    return {"clicks": deleted_clicks, "conversions": deleted_conversions}


def _ledger_take_back(*, campaign_ids: list[int]) -> None:
    """Ledger entries are immutable: before demo conversions are deleted, every approved one
    posts the reversal of what it still holds, so the balances go back to what they were."""
    now = timezone.now()
    approved = (
        Conversion.objects.filter(campaign_id__in=campaign_ids, status=ConversionStatus.APPROVED)
        .select_related("campaign")
        .order_by("pk")
    )
    for conversion in approved.iterator(chunk_size=2000):
        with transaction.atomic():
            ledger_conversion_status_changed(
                conversion_id=conversion.pk,
                affiliate_id=conversion.affiliate_id,
                advertiser_id=conversion.campaign.advertiser_id,
                currency=conversion.currency,
                revenue=conversion.revenue,
                payout=conversion.payout,
                from_status=ConversionStatus.APPROVED,
                to_status=ConversionStatus.REVERSED,
                hold_days=conversion.campaign.hold_days,
                at=now,
                event_key=f"demo-reset:{conversion.pk}:{now.isoformat()}",
            )


def demo_ledger_post(*, after_history_id: int, progress: bool) -> int:
    """Post the money of the seeded status changes exactly as live traffic does.

    The bulk writer inserts conversions and history without the per-event services; this pass
    replays every history row into or out of `approved` (id > `after_history_id`) through the
    same idempotent ledger service (`event_key = history:<id>`), then releases the holds that are
    due. Returns how many history rows were posted.
    """
    rows = (
        ConversionHistory.objects.filter(pk__gt=after_history_id)
        .filter(
            models.Q(from_status=ConversionStatus.APPROVED)
            | models.Q(to_status=ConversionStatus.APPROVED)
        )
        .select_related("conversion__campaign")
        .order_by("pk")
    )
    total = rows.count()
    posted = 0
    with tqdm(
        total=total, desc="ledger", unit="event", disable=not progress, file=sys.stderr
    ) as bar:
        for history in rows.iterator(chunk_size=2000):
            conversion = history.conversion
            with transaction.atomic():
                ledger_conversion_status_changed(
                    conversion_id=conversion.pk,
                    affiliate_id=conversion.affiliate_id,
                    advertiser_id=conversion.campaign.advertiser_id,
                    currency=conversion.currency,
                    revenue=history.revenue,
                    payout=history.payout,
                    from_status=history.from_status,
                    to_status=history.to_status,
                    hold_days=conversion.campaign.hold_days,
                    at=history.created_at,
                    event_key=f"history:{history.pk}",
                )
            posted += 1
            bar.update(1)
    ledger_hold_release_due(now=timezone.now())
    return posted


# --- Traffic generation -------------------------------------------------------------------------

# Demo traffic is spread over this many days before now.
DEMO_DAYS = 30

CLICK_FIELDS = (
    "click_id",
    "link_id",
    "affiliate_id",
    "campaign_id",
    "created_at",
    "ip",
    "user_agent",
    "referer",
    "country",
    "sub1",
    "sub2",
    "sub3",
    "sub4",
    "sub5",
    "user_id",
    "extra",
    "fingerprint",
    "is_unique",
    "blocked_reason",
    "device_type",
    "os",
    "browser",
    "fraud_signals",
)
CONVERSION_FIELDS = (
    "click_id",
    "campaign_id",
    "affiliate_id",
    "partner_key_id",
    "dedupe_slot",
    "transaction_id",
    "external_conversion_id",
    "offer_id",
    "status",
    "reason",
    "currency",
    "revenue",
    "payout",
    "points_awarded",
    "user_id",
    "country",
    "device_id",
    "ip",
    "user_agent",
    "sub_ids",
    "custom_data",
    "created_at",
    "updated_at",
    "approved_at",
    "event_id",
    "pricing_rule_id",
    "fraud_signals",
)
HISTORY_FIELDS = (
    "conversion_id",
    "from_status",
    "to_status",
    "revenue",
    "payout",
    "source",
    "actor_id",
    "postback_log_id",
    "reason",
    "created_at",
)
_JSON_FIELDS = frozenset({"extra", "sub_ids", "custom_data", "fraud_signals"})

# Evening-heavy traffic (UTC hours), as acceptance probabilities.
HOUR_WEIGHTS = (
    0.35, 0.3, 0.25, 0.2, 0.2, 0.25, 0.35, 0.45, 0.55, 0.6, 0.65, 0.7,
    0.75, 0.75, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0, 1.0, 0.95, 0.75, 0.5,
)  # fmt: skip
COUNTRIES = (
    ("US", 30), ("GB", 9), ("DE", 8), ("FR", 6), ("CA", 5), ("AU", 4), ("IN", 7), ("BR", 6),
    ("NL", 3), ("ES", 3), ("IT", 3), ("PL", 2), ("MX", 3), ("JP", 2), ("SE", 1), ("ZA", 1),
    ("", 2),
)  # fmt: skip
EU_COUNTRY_WEIGHTS = tuple((code, 10 - index) for index, code in enumerate(EU_COUNTRIES))
USER_AGENTS = (
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        24,
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.6478.122 Mobile Safari/537.36",
        22,
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/125.0.6422.165 Mobile Safari/537.36",
        10,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Safari/537.36",
        18,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
        "Gecko) Version/17.4.1 Safari/605.1.15",
        8,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0",
        5,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
        "like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/468.0.0.35.108;FBBV/603458389]",
        7,
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; 23090RA98G Build/UP1A.231005.007; wv) "
        "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/126.0.6478.71 Mobile "
        "Safari/537.36 musical_ly_2023505030",
        6,
    ),
)
SOURCES = (
    ("fb", 28, "https://m.facebook.com/", "fbclid"),
    ("google", 22, "https://www.google.com/", "gclid"),
    ("tiktok", 16, "https://www.tiktok.com/", "ttclid"),
    ("native", 14, "https://news-daily.example/article", ""),
    ("push", 10, "", ""),
    ("email", 6, "", ""),
    ("seo", 4, "https://blog.example.org/best-offers", ""),
)
# Public first octets (no private, loopback, CGNAT, multicast or reserved ranges).
PUBLIC_FIRST_OCTETS = (
    2, 5, 23, 24, 31, 37, 45, 46, 62, 66, 68, 71, 73, 77, 78, 81, 82, 86, 88, 89, 91, 92, 93,
    94, 95, 98, 99, 104, 107, 109, 151, 176, 178, 185, 186, 188, 189, 190, 191, 194, 200, 201,
    212, 213, 217,
)  # fmt: skip
REPEAT_VISITOR_RATE = 0.12
IPV6_RATE = 0.05
OFFERWALL_USERS_PER_AFFILIATE = 400
REJECT_REASONS = ("fraud_suspected", "duplicate_lead", "invalid_traffic", "quality_check_failed")
DAY = 86_400.0


def fingerprint_of(ip: str, user_agent: str) -> str:
    """Same fingerprint as the click service: sha256(ip + "\\n" + user agent), 32 hex chars."""
    return hashlib.sha256(f"{ip}\n{user_agent}".encode()).hexdigest()[:32]


class _Weighted:
    """Fast weighted choice: cumulative weights + bisect on one random number."""

    def __init__(self, items: Sequence[Any], weights: Sequence[float]) -> None:
        self.items = list(items)
        self.cumulative: list[float] = []
        total = 0.0
        for weight in weights:
            total += weight
            self.cumulative.append(total)
        self.total = total

    def pick(self, rng: random.Random) -> Any:
        return self.items[bisect.bisect(self.cumulative, rng.random() * self.total)]


@dataclass
class _Visitors:
    """Recent visitors of one link, oldest first, pruned to the 24 h uniqueness window."""

    entries: list[tuple[float, tuple[str, str, str, str]]] = field(default_factory=list)
    head: int = 0

    def prune(self, before: float) -> None:
        entries = self.entries
        head = self.head
        while head < len(entries) and entries[head][0] < before:
            head += 1
        if head > 4096 and head * 2 > len(entries):
            del entries[:head]
            head = 0
        self.head = head


@dataclass
class Batch:
    clicks: list[tuple] = field(default_factory=list)
    # Each conversion row starts with the index of its click in `clicks`.
    conversions: list[tuple] = field(default_factory=list)
    # Each history row starts with the index of its conversion in `conversions`.
    histories: list[tuple] = field(default_factory=list)
    # Cap usage to add, by period start.
    cap_usage: dict = field(default_factory=dict)


class TrafficGenerator:
    """Clicks spread over the last `days` days in time order, with ~`conversion_rate` converting.

    Deterministic for a given `seed` except for click and transaction ids, which come from
    `secrets` so that a second run never collides with the first.
    """

    def __init__(
        self,
        *,
        network: DemoNetwork,
        now: datetime,
        seed: int,
        conversion_rate: float,
        days: int = DEMO_DAYS,
        cap_used: dict | None = None,
    ) -> None:
        self.network = network
        self.now = now
        self.rng = random.Random(seed)
        self.conversion_rate = conversion_rate
        self.days = days
        self.links = _Weighted(network.links, network.link_weights)
        self.countries = _Weighted(*zip(*COUNTRIES, strict=True))
        self.eu_countries = _Weighted(*zip(*EU_COUNTRY_WEIGHTS, strict=True))
        self.user_agents = _Weighted(*zip(*USER_AGENTS, strict=True))
        self.sources = _Weighted(SOURCES, [source[1] for source in SOURCES])
        self.visitors: dict[int, _Visitors] = {link.pk: _Visitors() for link in network.links}
        self.campaigns_by_id = {campaign.pk: campaign for campaign in network.campaigns.values()}
        self.default_events = {
            event.campaign_id: event
            for event in ConversionEvent.objects.filter(
                campaign_id__in=self.campaigns_by_id, is_default=True
            )
        }
        # Every rule of the demo campaigns, loaded once and ranked per conversion in memory,
        # exactly as the postback service ranks the candidates it reads.
        self.rules: dict[int, list[PricingRule]] = {pk: [] for pk in self.campaigns_by_id}
        for rule in PricingRule.objects.filter(campaign_id__in=self.campaigns_by_id).order_by("pk"):
            self.rules[rule.campaign_id].append(rule)
        shop = network.campaigns.get(SHOP_CAMPAIGN.slug)
        self.funnels: dict[int, tuple[ConversionEvent, ConversionEvent]] = {}
        if shop is not None and network.shop_events:
            self.funnels[shop.pk] = (network.shop_events["lead"], network.shop_events["sale"])
        self.cap = network.cap
        self.cap_used: dict = dict(cap_used or {})
        self.partner_key_id = network.partner_key.pk

    def timestamps(self, count: int) -> list[float]:
        rng = self.rng
        end = self.now.timestamp()
        span = self.days * DAY
        start = end - span
        out: list[float] = []
        while len(out) < count:
            ts = start + rng.random() * span
            if rng.random() < HOUR_WEIGHTS[int(ts % DAY // 3600)]:
                out.append(ts)
        out.sort()
        return out

    def _visitor(self, campaign: Campaign) -> tuple[str, str, str, str]:
        rng = self.rng
        if rng.random() < IPV6_RATE:
            ip = (
                f"2a0{rng.randrange(1, 10)}:{rng.getrandbits(16):x}:{rng.getrandbits(16):x}:"
                f"{rng.getrandbits(16):x}::{rng.getrandbits(16) | 1:x}"
            )
        else:
            ip = (
                f"{PUBLIC_FIRST_OCTETS[rng.randrange(len(PUBLIC_FIRST_OCTETS))]}."
                f"{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            )
        user_agent = self.user_agents.pick(rng)
        if campaign.allowed_countries and rng.random() < 0.85:
            country = self.eu_countries.pick(rng)
        else:
            country = self.countries.pick(rng)
        return ip, user_agent, country, fingerprint_of(ip, user_agent)

    def batch(self, timestamps: Sequence[float]) -> Batch:
        rng = self.rng
        batch = Batch()
        clicks = batch.clicks
        new_click_id = tokens.new_click_id
        for ts in timestamps:
            link = self.links.pick(rng)
            campaign = self.campaigns_by_id[link.campaign_id]
            visitors = self.visitors[link.pk]
            visitors.prune(ts - DAY)
            if visitors.head < len(visitors.entries) and rng.random() < REPEAT_VISITOR_RATE:
                visitor = visitors.entries[rng.randrange(visitors.head, len(visitors.entries))][1]
                is_unique = False
            else:
                visitor = self._visitor(campaign)
                is_unique = True
            visitors.entries.append((ts, visitor))
            ip, user_agent, country, fingerprint = visitor
            source, _weight, referer, click_param = self.sources.pick(rng)
            extra = {click_param: tokens.token_urlsafe(12)} if click_param else {}
            user_id = ""
            if campaign.payout_type == PayoutType.REVSHARE and campaign.currency == "USD":
                user_id = f"u{link.affiliate_id}-{rng.randrange(OFFERWALL_USERS_PER_AFFILIATE):04d}"
            blocked_reason = ""
            if campaign.allowed_countries and country not in campaign.allowed_countries:
                blocked_reason = BlockedReason.TARGETING_COUNTRY
            subs = (
                source,
                f"cr{rng.randrange(1, 40):03d}",
                f"site-{rng.randrange(1000, 1120)}",
                ("ios", "android", "desktop", "")[rng.randrange(4)],
                "",
            )
            clicks.append(
                (
                    new_click_id(),
                    link.pk,
                    link.affiliate_id,
                    campaign.pk,
                    datetime.fromtimestamp(ts, tz=UTC),
                    ip,
                    user_agent,
                    referer,
                    country,
                    *subs,
                    user_id,
                    extra,
                    fingerprint,
                    is_unique,
                    blocked_reason,
                    *device_parse(user_agent),
                    [],
                )
            )
            if not blocked_reason and rng.random() < self.conversion_rate:
                self._convert(batch, len(clicks) - 1, campaign, ts, subs)
        return batch

    def _postback_payout(self, campaign: Campaign, event: ConversionEvent) -> Decimal | None:
        """The `payout` the partner's postback would carry (None: it sent none)."""
        rng = self.rng
        if event.allow_multiple:
            # A sale reports its order value.
            return Decimal(rng.randrange(150_000, 2_500_000)).scaleb(-4)
        if campaign.payout_type == PayoutType.FIXED:
            # Most lead partners send no payout: the campaign's default revenue applies.
            if rng.random() < 0.7:
                return None
            return Decimal(rng.choice(("3.7500", "4.2500", "5.0000")))
        low, high = (5_000, 80_000) if campaign.currency == "USD" else (8_000, 30_000)
        # Four places on purpose: revshare then needs ROUND_HALF_UP.
        return Decimal(rng.randrange(low, high)).scaleb(-4)

    def _convert(
        self, batch: Batch, click_index: int, campaign: Campaign, click_ts: float, subs: tuple
    ) -> None:
        funnel = self.funnels.get(campaign.pk)
        if funnel is None:
            self._conversion_add(
                batch, click_index, campaign, self.default_events[campaign.pk], click_ts, subs
            )
            return
        lead, sale = funnel
        after_ts = self._conversion_add(batch, click_index, campaign, lead, click_ts, subs)
        rng = self.rng
        if rng.random() < SALE_AFTER_LEAD_RATE:
            sales = 2 if rng.random() < SECOND_SALE_RATE else 1
            for _ in range(sales):
                after_ts = self._conversion_add(batch, click_index, campaign, sale, after_ts, subs)

    def _conversion_add(
        self,
        batch: Batch,
        click_index: int,
        campaign: Campaign,
        event: ConversionEvent,
        after_ts: float,
        subs: tuple,
    ) -> float:
        """One conversion of `event` on the click, created after `after_ts`; returns its time."""
        rng = self.rng
        now_ts = self.now.timestamp()
        created_ts = min(after_ts + rng.expovariate(1 / 2400.0) + 20, now_ts)
        decided_ts = min(created_ts + rng.uniform(600, 3 * DAY), now_ts)
        created_at = datetime.fromtimestamp(created_ts, tz=UTC)
        decided_at = datetime.fromtimestamp(decided_ts, tz=UTC)
        click = batch.clicks[click_index]
        ranked = pricing_rules_ranked(
            self.rules[campaign.pk],
            event_id=event.pk,
            affiliate_id=click[2],
            country=click[8],
            sub1=click[9],
            at=created_at,
        )
        rule = ranked[0] if ranked else None
        price = conversion_price(
            event=event, rule=rule, revenue=self._postback_payout(campaign, event)
        )
        revenue, payout = price.revenue, price.payout
        roll = rng.random()
        pending, approved, rejected, reversed_ = (
            ConversionStatus.PENDING,
            ConversionStatus.APPROVED,
            ConversionStatus.REJECTED,
            ConversionStatus.REVERSED,
        )
        # (from, to, reason, at) for each status change, in order.
        if roll < 0.70:
            steps = [("", approved, "", created_at)]
        elif roll < 0.78:
            steps = [("", pending, "", created_at), (pending, approved, "", decided_at)]
        elif roll < 0.88:
            steps = [("", pending, "", created_at)]
        elif roll < 0.95:
            reason = REJECT_REASONS[rng.randrange(len(REJECT_REASONS))]
            steps = [("", pending, "", created_at), (pending, rejected, reason, decided_at)]
        else:
            steps = [
                ("", approved, "", created_at),
                (approved, reversed_, "chargeback", decided_at),
            ]
        if campaign.pk == self.cap.campaign_id:
            period = cap_period_start(
                period=self.cap.period, at=created_at, timezone_name=campaign.timezone
            )
            used = self.cap_used.get(period, Decimal(0))
            if used + 1 > self.cap.limit:
                steps = [("", rejected, "cap_reached", created_at)]
            else:
                self.cap_used[period] = used + 1
                batch.cap_usage[period] = self.cap_used[period]
        status = steps[-1][1]
        reason = steps[-1][2]
        user_id = click[14]
        approved_at = next((at for _f, to, _r, at in steps if to == approved), None)
        points = payout if status == approved and user_id else Decimal("0.0000")
        custom_data: dict[str, Any] = {}
        if campaign.currency == "USD" and user_id:
            custom_data = {
                "completion_time_seconds": rng.randrange(90, 1500),
                "survey_length": ("short", "medium", "long")[rng.randrange(3)],
            }
        elif campaign.currency == "EUR":
            custom_data = {"platform": click[12] or "android", "app_version": "3.2.1"}
        sub_ids = {f"sub{n}": value for n, value in enumerate(subs, start=1) if value}
        has_transaction = event.allow_multiple or rng.random() < 0.85
        transaction_id = f"TXN-{tokens.token_urlsafe(9)}" if has_transaction else ""
        conversion_index = len(batch.conversions)
        batch.conversions.append(
            (
                click_index,
                campaign.pk,
                click[2],
                self.partner_key_id,
                # Dedupe: once per (click, event), or per transaction for a repeatable event.
                transaction_id if event.allow_multiple else "",
                transaction_id,
                f"P-{rng.getrandbits(40):010x}" if rng.random() < 0.3 else "",
                campaign.external_offer_id,
                status,
                reason,
                campaign.currency,
                revenue,
                payout,
                points,
                user_id,
                click[8],
                "",
                click[5],
                click[6],
                sub_ids,
                custom_data,
                created_at,
                steps[-1][3],
                approved_at,
                event.pk,
                rule.pk if rule is not None else None,
                [],
            )
        )
        for from_status, to_status, step_reason, at in steps:
            batch.histories.append(
                (
                    conversion_index,
                    from_status,
                    to_status,
                    revenue,
                    payout,
                    ChangeSource.POSTBACK,
                    None,
                    None,
                    step_reason,
                    at,
                )
            )
        return created_ts


# --- Writers ------------------------------------------------------------------------------------


def _columns(model: type[models.Model], names: Sequence[str]) -> list[str]:
    return [column_of(concrete_field(model, name)) for name in names]


def _field_names(model: type[models.Model], names: Sequence[str]) -> list[str]:
    """Model attribute names for bulk_create: FK columns map back to their attname."""
    by_column = {f.column: f.attname for f in model._meta.concrete_fields}
    return [by_column.get(name, name) for name in names]


class CopyWriter:
    """PostgreSQL: ids drawn from each table's sequence, rows streamed with COPY."""

    def __init__(self) -> None:
        self.click_copy = self._copy_sql(Click, ("id", *CLICK_FIELDS))
        self.conversion_copy = self._copy_sql(Conversion, ("id", *CONVERSION_FIELDS))
        self.history_copy = self._copy_sql(ConversionHistory, HISTORY_FIELDS)

    @staticmethod
    def _copy_sql(model: type[models.Model], names: Sequence[str]) -> sql.Composed:
        return sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(model._meta.db_table),
            sql.SQL(", ").join([sql.Identifier(column) for column in _columns(model, names)]),
        )

    @staticmethod
    def _ids(cursor, model: type[models.Model], count: int) -> list[int]:
        if not count:
            return []
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, count],
        )
        return sorted(row[0] for row in cursor.fetchall())

    @staticmethod
    def _json_encoded(row: tuple, json_positions: Sequence[int]) -> list:
        values = list(row)
        for position in json_positions:
            value = values[position]
            values[position] = json.dumps(value) if value else ("[]" if value == [] else "{}")
        return values

    def write(self, batch: Batch) -> None:
        click_json = [i for i, name in enumerate(CLICK_FIELDS) if name in _JSON_FIELDS]
        conversion_json = [i for i, name in enumerate(CONVERSION_FIELDS) if name in _JSON_FIELDS]
        with connection.cursor() as cursor:
            raw = cursor.cursor
            click_ids = self._ids(cursor, Click, len(batch.clicks))
            conversion_ids = self._ids(cursor, Conversion, len(batch.conversions))
            with raw.copy(self.click_copy) as copy:
                for pk, row in zip(click_ids, batch.clicks, strict=True):
                    copy.write_row((pk, *self._json_encoded(row, click_json)))
            if batch.conversions:
                with raw.copy(self.conversion_copy) as copy:
                    for pk, row in zip(conversion_ids, batch.conversions, strict=True):
                        values = self._json_encoded(row, conversion_json)
                        values[0] = click_ids[values[0]]
                        copy.write_row((pk, *values))
                with raw.copy(self.history_copy) as copy:
                    for row in batch.histories:
                        copy.write_row((conversion_ids[row[0]], *row[1:]))


class OrmWriter:
    """Any database (the SQLite quickstart): bulk_create, primary keys read back."""

    batch_size = 2_000

    def __init__(self) -> None:
        self.click_names = _field_names(Click, CLICK_FIELDS)
        self.conversion_names = _field_names(Conversion, CONVERSION_FIELDS)
        self.history_names = _field_names(ConversionHistory, HISTORY_FIELDS)

    def write(self, batch: Batch) -> None:
        clicks = [Click(**dict(zip(self.click_names, row, strict=True))) for row in batch.clicks]
        Click.objects.bulk_create(clicks, batch_size=self.batch_size)
        conversions = []
        for row in batch.conversions:
            values = dict(zip(self.conversion_names, row, strict=True))
            values["click_id"] = clicks[row[0]].pk
            conversions.append(Conversion(**values))
        Conversion.objects.bulk_create(conversions, batch_size=self.batch_size)
        histories = []
        for row in batch.histories:
            values = dict(zip(self.history_names, row, strict=True))
            values["conversion_id"] = conversions[row[0]].pk
            histories.append(ConversionHistory(**values))
        ConversionHistory.objects.bulk_create(histories, batch_size=self.batch_size)


def _cap_counters_save(*, cap: Cap, usage: dict) -> None:
    for period_start, used in usage.items():
        CapCounter.objects.update_or_create(
            cap=cap, affiliate_key=0, period_start=period_start, defaults={"used": used}
        )


def end_user_points_recompute(*, affiliate_ids: Sequence[int]) -> int:
    """Points = the sum of `points_awarded` of the affiliates' conversions, per end user.

    That is what the conversion service keeps incrementally (add on approval, take back on
    reversal), so recomputing it is exact and idempotent.
    """
    totals = (
        Conversion.objects.filter(affiliate_id__in=affiliate_ids)
        .exclude(user_id="")
        .values("affiliate_id", "user_id")
        .annotate(total=Sum("points_awarded"))
        .order_by()
    )
    existing = set(
        EndUserPoints.objects.filter(affiliate_id__in=affiliate_ids).values_list(
            "affiliate_id", "user_id"
        )
    )
    # An end user who never earned anything has no row, as with live traffic.
    rows = [
        EndUserPoints(affiliate_id=row["affiliate_id"], user_id=row["user_id"], points=row["total"])
        for row in totals
        if row["total"] or (row["affiliate_id"], row["user_id"]) in existing
    ]
    EndUserPoints.objects.bulk_create(
        rows,
        batch_size=1_000,
        update_conflicts=True,
        unique_fields=["affiliate", "user_id"],
        update_fields=["points", "updated_at"],
    )
    return len(rows)


def _batches_ahead(
    generator: TrafficGenerator, timestamps: Sequence[float], batch_size: int
) -> Iterator[Batch]:
    """Generate the next batches in a thread while the caller writes the current one.

    The generator touches no database, and PostgreSQL spends most of a COPY maintaining the
    click indexes while this process waits on the socket, so the two overlap on two cores.
    """
    ready: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def produce() -> None:
        try:
            for start in range(0, len(timestamps), batch_size):
                item: Batch | BaseException | None = generator.batch(
                    timestamps[start : start + batch_size]
                )
                while not stop.is_set():
                    try:
                        ready.put(item, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ready.put(None)
        except BaseException as exc:  # handed over to the consumer, which re-raises it
            ready.put(exc)

    producer = threading.Thread(target=produce, name="seed-demo-generator", daemon=True)
    producer.start()
    try:
        while (item := ready.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        producer.join()


BULK_LOADED_MODELS = (
    Click,
    Conversion,
    ConversionHistory,
    EndUserPoints,
    LedgerTransaction,
    LedgerEntry,
    HourlyStat,
    HourlyDimStat,
)


def bulk_loaded_tables_analyze() -> list[str]:
    """Do for the tables a bulk load just filled what autovacuum would do minutes later.

    Without it, pages measured right after `seed_demo --clicks 1000000` ran on a planner with
    no statistics and no visibility map: the advertiser's conversion list took 198 ms at p95
    instead of 34 ms. VACUUM cannot run inside a transaction (a test's), ANALYZE alone can.
    Returns the statement used per table; nothing on other databases.
    """
    if connection.vendor != "postgresql":
        return []
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        for model in BULK_LOADED_MODELS:
            cursor.execute(
                sql.SQL("{} {}").format(sql.SQL(command), sql.Identifier(model._meta.db_table))
            )
    return [command] * len(BULK_LOADED_MODELS)


def demo_traffic_generate(
    *,
    network: DemoNetwork,
    clicks: int,
    seed: int,
    now: datetime,
    conversion_rate: float = 0.03,
    batch_size: int = 10_000,
    method: str = "auto",
    progress: bool = True,
) -> dict[str, int]:
    """Add `clicks` demo clicks (and their conversions); each batch commits on its own."""
    if method == "auto":
        method = "copy" if connection.vendor == "postgresql" else "orm"
    writer = CopyWriter() if method == "copy" else OrmWriter()
    cap_used = dict(
        CapCounter.objects.filter(cap=network.cap, affiliate_key=0).values_list(
            "period_start", "used"
        )
    )
    generator = TrafficGenerator(
        network=network, now=now, seed=seed, conversion_rate=conversion_rate, cap_used=cap_used
    )
    written = {"clicks": 0, "conversions": 0, "history": 0}
    timestamps = generator.timestamps(clicks)
    with tqdm(
        total=clicks, unit="click", unit_scale=True, file=sys.stderr, disable=not progress
    ) as bar:
        for batch in _batches_ahead(generator, timestamps, batch_size):
            with transaction.atomic():
                writer.write(batch)
                _cap_counters_save(cap=network.cap, usage=batch.cap_usage)
            written["clicks"] += len(batch.clicks)
            written["conversions"] += len(batch.conversions)
            written["history"] += len(batch.histories)
            bar.update(len(batch.clicks))
    written["end_users"] = end_user_points_recompute(
        affiliate_ids=[affiliate.pk for affiliate in network.affiliates]
    )
    return written


class Command(BaseCommand):
    help = (
        "Create the demo network (admin, advertiser, affiliates, campaigns, links, partner key) "
        "if missing, then ADD --clicks demo clicks with conversions (running twice doubles the "
        "traffic; --reset-traffic deletes the demo traffic first)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--clicks", type=int, default=2000, help="Clicks to add (default 2000)."
        )
        parser.add_argument("--seed", type=int, default=42, help="Random seed (default 42).")
        parser.add_argument(
            "--reset-traffic",
            action="store_true",
            help="Delete the demo campaigns' clicks, conversions, cap counters and points first.",
        )
        parser.add_argument(
            "--conversion-rate",
            type=float,
            default=0.03,
            help="Share of (unblocked) clicks that convert (default 0.03).",
        )
        parser.add_argument("--batch-size", type=int, default=10_000)
        parser.add_argument(
            "--method",
            choices=["auto", "copy", "orm"],
            default="auto",
            help="auto: COPY on PostgreSQL, bulk_create elsewhere.",
        )

    def handle(self, *args, **options) -> None:
        if options["clicks"] < 0 or options["batch_size"] < 1:
            raise ValueError("--clicks must be >= 0 and --batch-size >= 1.")
        if not 0 <= options["conversion_rate"] <= 1:
            raise ValueError("--conversion-rate must be between 0 and 1.")
        now = timezone.now()
        network = demo_network_ensure(now=now)
        if options["reset_traffic"]:
            deleted = demo_traffic_reset(network=network)
            self.stdout.write(
                f"Deleted {deleted['clicks']} demo clicks and {deleted['conversions']} rows of "
                "conversions and their history."
            )
        started = timezone.now()
        last_history_id = ConversionHistory.objects.aggregate(last=models.Max("pk"))["last"] or 0
        written = demo_traffic_generate(
            network=network,
            clicks=options["clicks"],
            seed=options["seed"],
            now=now,
            conversion_rate=options["conversion_rate"],
            batch_size=options["batch_size"],
            method=options["method"],
            progress=options["verbosity"] > 0,
        )
        ledger_events = demo_ledger_post(
            after_history_id=last_history_id, progress=options["verbosity"] > 0
        )
        if options["reset_traffic"]:
            # Deleted conversions leave no history row for the watermark to see: recompute.
            stats_rebuild(start=now - timedelta(days=DEMO_DAYS + 2), end=now + timedelta(hours=1))
        stats_refresh()
        if written["clicks"]:
            bulk_loaded_tables_analyze()
        elapsed = (timezone.now() - started).total_seconds()
        self.stdout.write(
            f"Added {written['clicks']} clicks, {written['conversions']} conversions, "
            f"{written['history']} history rows, {ledger_events} ledger postings in "
            f"{elapsed:.1f} s ({written['end_users']} end users with points)."
        )
        self._summary(network)

    def _summary(self, network: DemoNetwork) -> None:
        base = settings.PUBLIC_BASE_URL
        lines = [
            "",
            "ClickLedger demo",
            f"  Admin:         {base}/admin/   {ADMIN_EMAIL} / {ADMIN_PASSWORD}",
            f"  Portal:        {base}/portal/",
            f"  API docs:      {base}/api/docs/",
            f"  Advertiser:    {ADVERTISER_EMAIL} / {ADVERTISER_PASSWORD}",
            *(f"  Affiliate:     {email} / {AFFILIATE_PASSWORD}" for email in AFFILIATE_EMAILS),
            f"  Pending:       {PENDING_AFFILIATE_EMAIL} / {AFFILIATE_PASSWORD} (awaits approval)",
            "  Tracking links:",
            *(
                f"    {base}/c/{link.token}   ({link.affiliate.user.email}, {link.campaign.name})"
                for link in TrackingLink.objects.filter(pk__in=[x.pk for x in network.links])
                .select_related("affiliate__user", "campaign")
                .order_by("token")
            ),
            f"  Partner key:   {network.partner_key.key}",
            f"  Postback URL:  {base}/postback/{network.partner_key.key}"
            "?click_id={click_id}&status=approved&payout=5.00&transaction_id={transaction_id}",
            "  Try it:",
            f"    curl -si {base}/c/{link_token(0, 'c2')}?sub1=readme | grep -i ^location",
            f"    curl -s '{base}/postback/{network.partner_key.key}"
            "?click_id=<CLICK_ID>&status=approved&payout=5.00&transaction_id=TXN-README-1'",
            "  Events (shop campaign, link demo-link-aff1-c4):",
            f"    curl -s '{base}/postback/{network.partner_key.key}"
            "?click_id=<CLICK_ID>&event=lead'",
            f"    curl -s '{base}/postback/{network.partner_key.key}"
            "?click_id=<CLICK_ID>&event=sale&transaction_id=ORDER-1&payout=80.00'",
        ]
        self.stdout.write("\n".join(lines))
