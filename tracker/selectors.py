"""Who may see which clicks, conversions and end-user points.

Admins see everything; an advertiser sees the traffic of its own campaigns; an affiliate its own
traffic and its own end users' points; anyone else sees nothing. A forbidden object answers
exactly like a missing one (NotFoundError, 404). These functions decide which rows; what
money each role may read *of* a row is `money_visible`, the one rule that the API's output
serializers and filters, the reports and the portal's pages and exports follow.
"""

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet

from accounts.models import Affiliate, User
from accounts.selectors import affiliate_list
from campaigns.models import PartnerKey
from campaigns.selectors import link_list
from core.exceptions import ApplicationError, NotFoundError
from tracker.models import (
    Click,
    Conversion,
    ConversionHistory,
    EndUserPoints,
    PostbackLog,
    Reconciliation,
    ReconciliationRow,
    RowClass,
)

REVENUE = "revenue"
PAYOUT = "payout"
MARGIN = "margin"
EPC = "epc"


def money_visible(*, viewer: User) -> frozenset[str]:
    """The money of conversions (and of their history and rollups) the viewer may read.

    Admins: everything. Advertisers: the revenue (what they pay), never the affiliate's payout,
    the margin (revenue - payout) or EPC (payout per click): any of them would give away the
    network's margin. Affiliates: their payout and EPC, never the revenue or the margin. The
    points a conversion awarded are its payout in another unit: they follow `payout`.
    """
    if viewer.is_network_admin:
        return frozenset((REVENUE, PAYOUT, MARGIN, EPC))
    if viewer.is_advertiser:
        return frozenset((REVENUE,))
    if viewer.is_affiliate:
        return frozenset((PAYOUT, EPC))
    return frozenset()


def click_list(*, viewer: User) -> QuerySet[Click]:
    """Newest first. No joins: a click row carries every id its output needs."""
    if viewer.is_network_admin:
        queryset = Click.objects.all()
    elif viewer.is_advertiser:
        queryset = Click.objects.filter(campaign__advertiser_id=viewer.pk)
    elif viewer.is_affiliate:
        queryset = Click.objects.filter(affiliate_id=viewer.pk)
    else:
        queryset = Click.objects.none()
    return queryset.order_by("-id")


def conversion_list(*, viewer: User) -> QuerySet[Conversion]:
    """Newest first, with the click and the event joined (their `click_id`, sub ids and event
    code are part of the output)."""
    if viewer.is_network_admin:
        queryset = Conversion.objects.all()
    elif viewer.is_advertiser:
        queryset = Conversion.objects.filter(campaign__advertiser_id=viewer.pk)
    elif viewer.is_affiliate:
        queryset = Conversion.objects.filter(affiliate_id=viewer.pk)
    else:
        queryset = Conversion.objects.none()
    return queryset.select_related("click", "event").order_by("-id")


def conversion_get(*, viewer: User, conversion_id: int) -> Conversion:
    """One conversion the viewer may see, with its history (oldest change first) prefetched."""
    conversion = (
        conversion_list(viewer=viewer)
        .prefetch_related(Prefetch("history", queryset=ConversionHistory.objects.order_by("id")))
        .filter(pk=conversion_id)
        .first()
    )
    if conversion is None:
        raise NotFoundError("Conversion not found.")
    return conversion


def postback_log_list(*, viewer: User) -> QuerySet[PostbackLog]:
    """Received postbacks: admins all; an advertiser those that named one of its partner keys,
    accepted or refused (a disabled or expired key is logged without `partner_key`, by its text);
    nobody else."""
    if viewer.is_network_admin:
        queryset = PostbackLog.objects.all()
    elif viewer.is_advertiser:
        own_keys = PartnerKey.objects.filter(advertiser_id=viewer.pk)
        queryset = PostbackLog.objects.filter(
            Q(partner_key__advertiser_id=viewer.pk)
            | Q(partner_key__isnull=True, key__in=own_keys.values("key"))
            | Q(partner_key__isnull=True, key__in=own_keys.values("previous_key"))
        )
    else:
        queryset = PostbackLog.objects.none()
    return queryset.order_by("-received_at")


def points_list(*, viewer: User) -> QuerySet[EndUserPoints]:
    """End users' points balances: an affiliate's own end users; admins all; nobody else."""
    if viewer.is_network_admin:
        queryset = EndUserPoints.objects.all()
    elif viewer.is_affiliate:
        queryset = EndUserPoints.objects.filter(affiliate_id=viewer.pk)
    else:
        queryset = EndUserPoints.objects.none()
    return queryset.order_by("user_id", "affiliate_id")


def affiliate_get_for_traffic(*, viewer: User, affiliate_id: int) -> Affiliate:
    """An affiliate whose traffic the viewer may list (the legacy `/affiliates/<id>/clicks`).

    Admin: any affiliate; affiliate: itself only; advertiser: an affiliate holding a tracking
    link to one of its campaigns. Anything else is NotFoundError, so an id reveals nothing.
    """
    if viewer.is_advertiser:
        has_link = link_list(viewer=viewer).filter(affiliate_id=OuterRef("pk"))
        queryset = Affiliate.objects.filter(Exists(has_link))
    else:
        queryset = affiliate_list(viewer=viewer)
    affiliate = queryset.filter(user_id=affiliate_id).first()
    if affiliate is None:
        raise NotFoundError("Affiliate not found.")
    return affiliate


def reconciliation_list(*, viewer: User) -> QuerySet[Reconciliation]:
    """Reconciliations: admins all; an advertiser its own; nobody else. Newest first."""
    if viewer.is_network_admin:
        queryset = Reconciliation.objects.all()
    elif viewer.is_advertiser:
        queryset = Reconciliation.objects.filter(advertiser_id=viewer.pk)
    else:
        queryset = Reconciliation.objects.none()
    return queryset.select_related("campaign", "advertiser__user").order_by("-id")


def reconciliation_get(*, viewer: User, reconciliation_id: int) -> Reconciliation:
    reconciliation = reconciliation_list(viewer=viewer).filter(pk=reconciliation_id).first()
    if reconciliation is None:
        raise NotFoundError("Reconciliation not found.")
    return reconciliation


def reconciliation_summary_view(*, reconciliation: Reconciliation, viewer: User) -> dict:
    """The preview's totals per class as the viewer may read them: advertisers never get the
    payout deltas (they would give away the affiliates' payouts and the margin)."""
    visible = money_visible(viewer=viewer)
    classes = {}
    for name, entry in reconciliation.summary.get("classes", {}).items():
        money = {
            currency: {
                key: value
                for key, value in amounts.items()
                if (key == "revenue_delta" and REVENUE in visible)
                or (key == "payout_delta" and PAYOUT in visible)
            }
            for currency, amounts in entry["money"].items()
        }
        classes[name] = {**entry, "money": money}
    return classes


RECONCILIATION_RESULT_COLUMNS = (
    ("line", "line", None),
    ("class", "row_class", None),
    ("transaction_id", "transaction_id", None),
    ("click_id", "click_id", None),
    ("event", "event", None),
    ("their_status", "their_status", None),
    ("their_amount", "their_amount", None),
    ("currency", "currency", None),
    ("conversion_id", "conversion_id", None),
    ("our_status", "our_status", None),
    ("our_revenue", "our_revenue", REVENUE),
    ("our_payout", "our_payout", PAYOUT),
    ("revenue_delta", "revenue_delta", REVENUE),
    ("payout_delta", "payout_delta", PAYOUT),
    ("reason", "reason", None),
    ("action", "planned_action", None),
    ("outcome", "outcome", None),
    ("outcome_message", "outcome_message", None),
    ("applied_at", "applied_at", None),
)


def reconciliation_result_columns(*, viewer: User) -> list[tuple[str, str]]:
    """(header, row field) of the result file, without the money the viewer may not read."""
    visible = money_visible(viewer=viewer)
    return [
        (header, name)
        for header, name, money in RECONCILIATION_RESULT_COLUMNS
        if money is None or money in visible
    ]


def reconciliation_rows(*, reconciliation: Reconciliation) -> QuerySet[ReconciliationRow]:
    """Its rows in file order, then ours the file lacks."""
    return reconciliation.rows.order_by(F("line").asc(nulls_last=True), "pk")


def conversions_for_bulk(*, viewer: User, filters: Mapping[str, Any]) -> QuerySet[Conversion]:
    """The viewer's conversions narrowed by `filters`: `campaign_id`, `affiliate_id`, `event`
    (code), `date_from` / `date_to` (UTC days, inclusive). 400 `invalid_date_range` when they
    are reversed."""
    queryset = conversion_list(viewer=viewer)
    if "campaign_id" in filters:
        queryset = queryset.filter(campaign_id=filters["campaign_id"])
    if "affiliate_id" in filters:
        queryset = queryset.filter(affiliate_id=filters["affiliate_id"])
    if "event" in filters:
        queryset = queryset.filter(event__code=filters["event"])
    date_from, date_to = filters.get("date_from"), filters.get("date_to")
    if date_from and date_to and date_from > date_to:
        raise ApplicationError(
            "date_from is after date_to.",
            code="invalid_date_range",
            fields={"date_to": ["Must be on or after date_from."]},
        )
    if date_from:
        queryset = queryset.filter(
            created_at__gte=dt.datetime.combine(date_from, dt.time.min, tzinfo=dt.UTC)
        )
    if date_to:
        next_day = date_to + dt.timedelta(days=1)
        queryset = queryset.filter(
            created_at__lt=dt.datetime.combine(next_day, dt.time.min, tzinfo=dt.UTC)
        )
    return queryset


def reconciliation_summary_rows(*, reconciliation: Reconciliation, viewer: User) -> list[dict]:
    """The preview's totals for a page: per class (in `RowClass` order) its label, counts and
    money per currency as Decimal (`payout_delta` None for who may not read payouts)."""
    visible = money_visible(viewer=viewer)
    classes = reconciliation.summary.get("classes", {})
    rows = []
    for value, label in RowClass.choices:
        entry = classes.get(value, {"count": 0, "to_apply": 0, "money": {}})
        money = [
            {
                "currency": currency,
                "revenue_delta": Decimal(amounts["revenue_delta"]),
                "payout_delta": Decimal(amounts["payout_delta"]) if PAYOUT in visible else None,
            }
            for currency, amounts in entry["money"].items()
        ]
        rows.append(
            {
                "row_class": value,
                "label": label,
                "count": entry["count"],
                "to_apply": entry["to_apply"],
                "money": money,
            }
        )
    return rows
