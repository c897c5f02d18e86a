"""Every number and filtered list the portals show, read through the scoped selectors.

Dashboards aggregate raw clicks and conversions with the ORM here, in one module, so that they
can move to the reporting rollups later without touching a view. Scoping is never decided here:
each function starts from `click_list` / `conversion_list` / ... for the viewer.

Periods are whole UTC days [date_from, date_to]. A conversion counts on the day it was created;
revenue and payout are those of conversions that are approved now (what the ledger books).
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import User
from campaigns.models import AccessStatus, Campaign, CampaignAccess
from core.money import quantize_money
from tracker.models import Conversion, ConversionStatus, EndUserPoints
from tracker.selectors import click_list, conversion_list, points_list

PERIOD_CHOICES = (7, 30, 90)
DEFAULT_PERIOD_DAYS = 30
_ZERO = Decimal("0.0000")
_APPROVED = Q(status=ConversionStatus.APPROVED)


@dataclass(frozen=True)
class Period:
    date_from: dt.date
    date_to: dt.date

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.date_from, dt.time.min, tzinfo=dt.UTC)

    @property
    def end(self) -> dt.datetime:
        return dt.datetime.combine(self.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)

    @property
    def days(self) -> list[dt.date]:
        span = (self.date_to - self.date_from).days
        return [self.date_from + dt.timedelta(days=offset) for offset in range(span + 1)]


def period_last_days(days: int, *, today: dt.date | None = None) -> Period:
    today = today or timezone.now().astimezone(dt.UTC).date()
    return Period(date_from=today - dt.timedelta(days=days - 1), date_to=today)


@dataclass(frozen=True)
class MoneyTotals:
    currency: str
    revenue: Decimal
    payout: Decimal
    epc: Decimal | None  # payout per click, 4 places; None without clicks


@dataclass(frozen=True)
class DayStats:
    day: dt.date
    clicks: int = 0
    unique_clicks: int = 0
    conversions: int = 0
    approved: int = 0


@dataclass
class TrafficSummary:
    period: Period
    clicks: int
    unique_clicks: int
    conversions: int
    approved: int
    pending: int
    rejected: int
    money: list[MoneyTotals]
    daily: list[DayStats] = field(default_factory=list)

    @property
    def conversion_rate(self) -> Decimal | None:
        """Conversions per 100 clicks, 2 places; None without clicks."""
        if not self.clicks:
            return None
        rate = Decimal(self.conversions) * 100 / Decimal(self.clicks)
        return rate.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _epc(payout: Decimal, clicks: int) -> Decimal | None:
    return quantize_money(payout / clicks) if clicks else None


def traffic_summary(*, viewer: User, period: Period) -> TrafficSummary:
    """Totals and the daily series of the viewer's traffic in `period` (four queries)."""
    clicks = click_list(viewer=viewer).filter(
        created_at__gte=period.start, created_at__lt=period.end
    )
    conversions = conversion_list(viewer=viewer).filter(
        created_at__gte=period.start, created_at__lt=period.end
    )
    click_totals = clicks.order_by().aggregate(
        clicks=Count("id"), unique_clicks=Count("id", filter=Q(is_unique=True))
    )
    status_counts = {
        row["status"]: row["n"]
        for row in conversions.order_by().values("status").annotate(n=Count("id"))
    }
    money_rows = (
        conversions.filter(_APPROVED)
        .order_by()
        .values("currency")
        .annotate(revenue=Sum("revenue"), payout=Sum("payout"))
        .order_by("currency")
    )
    by_day: dict[dt.date, dict[str, int]] = {day: {} for day in period.days}
    for row in (
        clicks.order_by()
        .annotate(day=TruncDate("created_at", tzinfo=dt.UTC))
        .values("day")
        .annotate(clicks=Count("id"), unique_clicks=Count("id", filter=Q(is_unique=True)))
    ):
        by_day.setdefault(row["day"], {}).update(
            clicks=row["clicks"], unique_clicks=row["unique_clicks"]
        )
    for row in (
        conversions.order_by()
        .annotate(day=TruncDate("created_at", tzinfo=dt.UTC))
        .values("day")
        .annotate(conversions=Count("id"), approved=Count("id", filter=_APPROVED))
    ):
        by_day.setdefault(row["day"], {}).update(
            conversions=row["conversions"], approved=row["approved"]
        )
    total_clicks = click_totals["clicks"]
    return TrafficSummary(
        period=period,
        clicks=total_clicks,
        unique_clicks=click_totals["unique_clicks"],
        conversions=sum(status_counts.values()),
        approved=status_counts.get(ConversionStatus.APPROVED, 0),
        pending=status_counts.get(ConversionStatus.PENDING, 0),
        rejected=status_counts.get(ConversionStatus.REJECTED, 0),
        money=[
            MoneyTotals(
                currency=row["currency"],
                revenue=quantize_money(row["revenue"] or _ZERO),
                payout=quantize_money(row["payout"] or _ZERO),
                epc=_epc(row["payout"] or _ZERO, total_clicks),
            )
            for row in money_rows
        ],
        daily=[DayStats(day=day, **values) for day, values in sorted(by_day.items())],
    )


@dataclass(frozen=True)
class AffiliateRank:
    affiliate_id: int
    name: str
    clicks: int
    conversions: int
    revenue: Decimal  # of approved conversions, all currencies added (ranked within a currency)
    currency: str


def top_affiliates(*, viewer: User, period: Period, limit: int = 5) -> list[AffiliateRank]:
    """The affiliates that brought the most approved revenue to the viewer's campaigns (two
    queries): revenue, then conversions, then clicks decide."""
    conversions = (
        conversion_list(viewer=viewer)
        .filter(created_at__gte=period.start, created_at__lt=period.end)
        .order_by()
        .values("affiliate_id", "affiliate__company", "affiliate__user__email", "currency")
        .annotate(
            conversions=Count("id"),
            revenue=Sum("revenue", filter=_APPROVED, default=_ZERO),
        )
        .order_by("-revenue", "-conversions", "affiliate_id")[:limit]
    )
    rows = list(conversions)
    clicks = {
        row["affiliate_id"]: row["n"]
        for row in click_list(viewer=viewer)
        .filter(
            created_at__gte=period.start,
            created_at__lt=period.end,
            affiliate_id__in=[row["affiliate_id"] for row in rows],
        )
        .order_by()
        .values("affiliate_id")
        .annotate(n=Count("id"))
    }
    return [
        AffiliateRank(
            affiliate_id=row["affiliate_id"],
            name=row["affiliate__company"] or row["affiliate__user__email"],
            clicks=clicks.get(row["affiliate_id"], 0),
            conversions=row["conversions"],
            revenue=quantize_money(row["revenue"]),
            currency=row["currency"],
        )
        for row in rows
    ]


# --- list filters ------------------------------------------------------------------------------


def conversions_filtered(
    queryset: QuerySet[Conversion],
    *,
    status: str = "",
    campaign_id: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    search: str = "",
) -> QuerySet[Conversion]:
    """`queryset` (already scoped) narrowed by the list page's filters, with the campaign."""
    if status:
        queryset = queryset.filter(status=status)
    if campaign_id is not None:
        queryset = queryset.filter(campaign_id=campaign_id)
    if date_from is not None:
        queryset = queryset.filter(created_at__gte=Period(date_from, date_from).start)
    if date_to is not None:
        queryset = queryset.filter(created_at__lt=Period(date_to, date_to).end)
    if search:
        queryset = queryset.filter(
            Q(click__click_id=search)
            | Q(transaction_id=search)
            | Q(user_id=search)
            | Q(click__sub1=search)
        )
    return queryset.select_related("campaign")


def campaigns_filtered(
    queryset: QuerySet[Campaign], *, status: str = "", search: str = ""
) -> QuerySet[Campaign]:
    if status:
        queryset = queryset.filter(status=status)
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(external_offer_id=search))
    return queryset


def campaigns_with_access(
    queryset: QuerySet[Campaign], *, affiliate_id: int, access: str = ""
) -> tuple[QuerySet[Campaign], dict[int, CampaignAccess]]:
    """The affiliate's view of `queryset` and its own access row per campaign (by id).

    `access` narrows to one access status, or "none" for campaigns it has not applied to.
    """
    rows = {
        row.campaign_id: row
        for row in CampaignAccess.objects.filter(affiliate_id=affiliate_id).only(
            "id", "campaign_id", "status"
        )
    }
    if access == "none":
        queryset = queryset.exclude(pk__in=list(rows))
    elif access in AccessStatus.values:
        queryset = queryset.filter(
            pk__in=[campaign_id for campaign_id, row in rows.items() if row.status == access]
        )
    return queryset, rows


def points_filtered(*, viewer: User, search: str = "") -> QuerySet[EndUserPoints]:
    queryset = points_list(viewer=viewer)
    if search:
        queryset = queryset.filter(user_id__icontains=search)
    return queryset
