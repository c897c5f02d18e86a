import datetime as dt
from collections import Counter, defaultdict
from decimal import ROUND_HALF_UP, Decimal
from io import StringIO

import pytest
import time_machine
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db.models import Sum

from accounts.models import Advertiser, Affiliate, ApprovalStatus, User
from campaigns.models import (
    AccessStatus,
    Campaign,
    CampaignAccess,
    Cap,
    CapCounter,
    ConversionEvent,
    PartnerKey,
    PayoutType,
    PricingRule,
    TrackingLink,
    Visibility,
)
from campaigns.pricing_rules import pricing_rule_candidates
from tracker.models import (
    BlockedReason,
    Click,
    Conversion,
    ConversionHistory,
    ConversionStatus,
    EndUserPoints,
)
from tracker.services.pricing import conversion_price

pytestmark = pytest.mark.django_db

DEMO_TOKENS = [
    "demo-link-aff1-c1",
    "demo-link-aff1-c2",
    "demo-link-aff1-c3",
    "demo-link-aff1-c4",
    "demo-link-aff2-c1",
    "demo-link-aff2-c2",
    "demo-link-aff2-c4",
]
SHOP = "DEMO-SHOP-2E"
FOUR_PLACES = Decimal("0.0001")
# The traffic generator weighs hours of the absolute clock: with "now" a few seconds later, a draw
# near an hour's edge changes which clicks convert. Tests that compare two runs freeze both here.
FROZEN_NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", verbosity=0, stdout=out, **options)
    return out.getvalue()


def demo_object_counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "advertisers": Advertiser.objects.count(),
        "affiliates": Affiliate.objects.count(),
        "campaigns": Campaign.objects.count(),
        "caps": Cap.objects.count(),
        "accesses": CampaignAccess.objects.count(),
        "links": TrackingLink.objects.count(),
        "partner_keys": PartnerKey.objects.count(),
        "events": ConversionEvent.objects.count(),
        "pricing_rules": PricingRule.objects.count(),
    }


def traffic_counts() -> dict[str, int]:
    return {
        "clicks": Click.objects.count(),
        "conversions": Conversion.objects.count(),
        "history": ConversionHistory.objects.count(),
    }


def test_second_run_adds_traffic_but_no_demo_objects():
    with time_machine.travel(FROZEN_NOW, tick=False):
        seed(clicks=200, seed=1)
    objects_after_first = demo_object_counts()
    traffic_after_first = traffic_counts()

    with time_machine.travel(FROZEN_NOW, tick=False):
        output = seed(clicks=200, seed=1)

    assert objects_after_first == {
        "users": 5,
        "advertisers": 1,
        "affiliates": 3,
        "campaigns": 4,
        "caps": 1,
        "accesses": 7,
        "links": 7,
        "partner_keys": 1,
        "events": 6,
        "pricing_rules": 2,
    }
    assert demo_object_counts() == objects_after_first
    assert traffic_after_first["clicks"] == 200
    assert traffic_after_first["conversions"] > 0
    assert traffic_counts() == {key: 2 * value for key, value in traffic_after_first.items()}
    assert sorted(TrackingLink.objects.values_list("token", flat=True)) == DEMO_TOKENS
    assert "http://testserver/c/demo-link-aff1-c1" in output
    assert "demo-partner-key-0000000000000000" in output
    assert "admin@clickledger.local / demo-admin-pass" in output


def test_demo_objects_have_the_documented_shape():
    with time_machine.travel(FROZEN_NOW, tick=False):
        seed(clicks=0)

    advertiser = Advertiser.objects.get(user__email="advertiser@clickledger.local")
    key = PartnerKey.objects.get()
    campaigns = {c.external_offer_id: c for c in Campaign.objects.all()}
    assert advertiser.status == ApprovalStatus.APPROVED
    assert dict(Affiliate.objects.values_list("user__email", "status")) == {
        "affiliate1@clickledger.local": ApprovalStatus.APPROVED,
        "affiliate2@clickledger.local": ApprovalStatus.APPROVED,
        "affiliate3@clickledger.local": ApprovalStatus.PENDING,
    }
    assert (key.key, key.advertiser_id, key.is_active) == (
        "demo-partner-key-0000000000000000",
        advertiser.pk,
        True,
    )
    assert key.signing_secret == "demo-signing-secret-00000000000000000000000000000000"
    assert {
        offer: (c.payout_type, c.currency, c.visibility, c.payout_amount, c.revshare_percent)
        for offer, c in campaigns.items()
    } == {
        "DEMO-LEAD-001": (
            PayoutType.FIXED,
            "USD",
            Visibility.PUBLIC,
            Decimal("2.5000"),
            Decimal("0.0000"),
        ),
        "VBFS6": (
            PayoutType.REVSHARE,
            "USD",
            Visibility.APPROVAL,
            Decimal("0.0000"),
            Decimal("80.0000"),
        ),
        "DEMO-APP-EU-7": (
            PayoutType.REVSHARE,
            "EUR",
            Visibility.PRIVATE,
            Decimal("0.0000"),
            Decimal("65.5000"),
        ),
        SHOP: (
            PayoutType.FIXED,
            "USD",
            Visibility.PUBLIC,
            Decimal("1.5000"),
            Decimal("0.0000"),
        ),
    }
    shop = campaigns[SHOP]
    assert [
        (e.code, e.is_default, e.payout_type, e.payout_amount, e.revshare_percent, e.allow_multiple)
        for e in shop.events.order_by("id")
    ] == [
        ("default", True, PayoutType.FIXED, Decimal("1.5000"), Decimal("0.0000"), False),
        ("lead", False, PayoutType.FIXED, Decimal("1.5000"), Decimal("0.0000"), False),
        ("sale", False, PayoutType.REVSHARE, Decimal("0.0000"), Decimal("30.0000"), True),
    ]
    affiliate1 = Affiliate.objects.get(user__email="affiliate1@clickledger.local")
    week_start = dt.datetime(2026, 10, 26, tzinfo=dt.UTC)  # the Monday of FROZEN_NOW's week
    assert [
        (
            rule.event.code,
            rule.affiliate_id,
            rule.country,
            rule.starts_at,
            rule.ends_at,
            rule.payout_type,
            rule.payout_amount,
            rule.revshare_percent,
            rule.specificity,
        )
        for rule in shop.pricing_rules.select_related("event").order_by("id")
    ] == [
        ("sale", affiliate1.pk, "", None, None, "revshare", Decimal(0), Decimal(40), 12),
        (
            "lead",
            None,
            "US",
            week_start,
            week_start + dt.timedelta(days=7),
            "fixed",
            Decimal("2.5000"),
            Decimal(0),
            6,
        ),
    ]
    cap = Cap.objects.get()
    assert (cap.campaign_id, cap.scope, cap.period, cap.metric, cap.limit) == (
        campaigns["DEMO-LEAD-001"].pk,
        "campaign",
        "day",
        "conversions",
        Decimal("200.0000"),
    )
    assert set(CampaignAccess.objects.values_list("status", flat=True)) == {AccessStatus.APPROVED}
    assert {c.advertiser_id for c in campaigns.values()} == {advertiser.pk}


def test_demo_logins_work():
    seed(clicks=0)

    admin = authenticate(email="admin@clickledger.local", password="demo-admin-pass")
    advertiser = authenticate(email="advertiser@clickledger.local", password="demo-advertiser-pass")
    affiliates = [
        authenticate(email=f"affiliate{n}@clickledger.local", password="demo-affiliate-pass")
        for n in (1, 2)
    ]

    assert admin is not None
    assert (admin.is_superuser, admin.is_staff) == (True, True)
    assert advertiser is not None
    assert advertiser.is_advertiser
    assert all(user is not None and user.is_affiliate for user in affiliates)
    assert authenticate(email="admin@clickledger.local", password="wrong") is None


def test_reset_traffic_deletes_demo_traffic_and_keeps_the_demo_network():
    seed(clicks=300, seed=2, conversion_rate=0.3)
    objects_before = demo_object_counts()
    assert EndUserPoints.objects.exists()
    assert CapCounter.objects.exists()

    seed(clicks=0, reset_traffic=True)

    assert traffic_counts() == {"clicks": 0, "conversions": 0, "history": 0}
    assert EndUserPoints.objects.count() == 0
    assert CapCounter.objects.count() == 0
    assert demo_object_counts() == objects_before

    seed(clicks=120, reset_traffic=True)

    assert Click.objects.count() == 120


def test_seeded_money_is_exact_per_payout_model():
    seed(clicks=2000, seed=3, conversion_rate=0.2)

    conversions = list(Conversion.objects.select_related("campaign"))
    models_seen = Counter(c.campaign.payout_type for c in conversions)
    assert models_seen[PayoutType.FIXED] > 0
    assert models_seen[PayoutType.REVSHARE] > 0
    for conversion in conversions:
        campaign = conversion.campaign
        assert conversion.currency == campaign.currency
        assert conversion.revenue == conversion.revenue.quantize(FOUR_PLACES)
        if campaign.external_offer_id == SHOP:
            continue  # its events and rules: test_seeded_events_are_priced_as_the_postbacks_are
        if campaign.payout_type == PayoutType.FIXED:
            assert conversion.revenue in {
                Decimal("4.0000"),
                Decimal("3.7500"),
                Decimal("4.2500"),
                Decimal("5.0000"),
            }
            assert conversion.payout == Decimal("2.5000")
        else:
            expected = (conversion.revenue * campaign.revshare_percent / 100).quantize(
                FOUR_PLACES, rounding=ROUND_HALF_UP
            )
            assert conversion.payout == expected
        expected_points = (
            conversion.payout
            if conversion.status == ConversionStatus.APPROVED and conversion.user_id
            else Decimal(0)
        )
        assert conversion.points_awarded == expected_points
    # A revenue with 4 places at 80 % or 65.5 % needs rounding: the data exercises it.
    assert any(
        c.revenue * c.campaign.revshare_percent / 100 != c.payout
        for c in conversions
        if c.campaign.payout_type == PayoutType.REVSHARE
    )


def test_seeded_history_points_and_statuses_agree():
    seed(clicks=2000, seed=4, conversion_rate=0.2)

    statuses = Counter(Conversion.objects.values_list("status", flat=True))
    assert set(statuses) == set(ConversionStatus.values)
    assert statuses[ConversionStatus.APPROVED] > statuses[ConversionStatus.PENDING]
    for conversion in Conversion.objects.prefetch_related("history"):
        history = list(conversion.history.all())
        assert history[0].from_status == ""
        assert history[-1].to_status == conversion.status
        assert [h.from_status for h in history[1:]] == [h.to_status for h in history[:-1]]
        assert all(
            (h.revenue, h.payout) == (conversion.revenue, conversion.payout) for h in history
        )
        assert conversion.created_at >= conversion.click.created_at
        assert (conversion.approved_at is not None) == any(
            h.to_status == ConversionStatus.APPROVED for h in history
        )
    expected_points: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for affiliate_id, user_id, payout in (
        Conversion.objects.filter(status=ConversionStatus.APPROVED)
        .exclude(user_id="")
        .values_list("affiliate_id", "user_id", "payout")
    ):
        expected_points[(affiliate_id, user_id)] += payout
    assert {
        (p.affiliate_id, p.user_id): p.points for p in EndUserPoints.objects.all()
    } == expected_points


def test_seeded_clicks_follow_the_uniqueness_and_targeting_rules():
    seed(clicks=3000, seed=5)

    clicks = list(Click.objects.order_by("created_at", "id"))
    non_unique = [c for c in clicks if not c.is_unique]
    assert non_unique
    for click in non_unique:
        assert Click.objects.filter(
            link_id=click.link_id,
            fingerprint=click.fingerprint,
            created_at__lt=click.created_at,
            created_at__gte=click.created_at - dt.timedelta(hours=24),
        ).exists()
    eu_campaign = Campaign.objects.get(external_offer_id="DEMO-APP-EU-7")
    blocked = [c for c in clicks if c.blocked_reason]
    assert blocked
    assert {c.blocked_reason for c in blocked} == {BlockedReason.TARGETING_COUNTRY}
    assert {c.campaign_id for c in blocked} == {eu_campaign.pk}
    assert all(c.country not in eu_campaign.allowed_countries for c in blocked)
    assert not Conversion.objects.filter(click__in=[c.pk for c in blocked]).exists()
    now = clicks[-1].created_at
    assert clicks[0].created_at >= now - dt.timedelta(days=30, minutes=1)
    assert len({c.click_id for c in clicks}) == 3000


def test_seeded_conversions_respect_the_daily_cap_like_live_traffic():
    seed(clicks=0)
    Cap.objects.update(limit=Decimal(1))

    seed(clicks=3000, seed=6, conversion_rate=0.3)

    capped = Campaign.objects.get(external_offer_id="DEMO-LEAD-001")
    consuming = Counter(
        h.created_at.date()
        for h in ConversionHistory.objects.filter(
            conversion__campaign=capped,
            from_status="",
            to_status__in=[ConversionStatus.PENDING, ConversionStatus.APPROVED],
        )
    )
    assert consuming
    assert max(consuming.values()) == 1
    assert dict(CapCounter.objects.values_list("period_start", "used")) == {
        day: Decimal(count) for day, count in consuming.items()
    }
    assert Conversion.objects.filter(
        campaign=capped, status=ConversionStatus.REJECTED, reason="cap_reached"
    ).exists()


def test_orm_writer_writes_the_same_traffic_as_copy():
    def summary() -> dict:
        return {
            "clicks": Click.objects.count(),
            "unique": Click.objects.filter(is_unique=True).count(),
            "statuses": Counter(Conversion.objects.values_list("status", flat=True)),
            "money": Conversion.objects.aggregate(revenue=Sum("revenue"), payout=Sum("payout")),
            "history": ConversionHistory.objects.count(),
            "points": EndUserPoints.objects.aggregate(total=Sum("points"))["total"],
        }

    with time_machine.travel(FROZEN_NOW, tick=False):
        seed(clicks=500, seed=7, conversion_rate=0.2, method="orm", batch_size=120)
        by_orm = summary()
    with time_machine.travel(FROZEN_NOW, tick=False):
        seed(
            clicks=500,
            seed=7,
            conversion_rate=0.2,
            method="copy",
            batch_size=120,
            reset_traffic=True,
        )
        by_copy = summary()

    assert by_orm == by_copy
    assert by_orm["clicks"] == 500


def test_seeded_money_is_in_the_ledger_and_a_reset_takes_it_back():
    from payouts.models import LedgerEntry
    from payouts.selectors import affiliate_balances

    seed(clicks=1500, seed=11, conversion_rate=0.3)

    affiliates = Affiliate.objects.filter(status=ApprovalStatus.APPROVED)
    for affiliate in affiliates:
        approved = defaultdict(Decimal)
        for currency, payout in Conversion.objects.filter(
            affiliate=affiliate, status=ConversionStatus.APPROVED
        ).values_list("currency", "payout"):
            approved[currency] += payout
        balances = affiliate_balances(affiliate_id=affiliate.pk)
        earned = {
            currency: amounts["pending"] + amounts["available"]
            for currency, amounts in balances.items()
        }
        assert earned == {currency: total for currency, total in approved.items() if total}
    assert sum(LedgerEntry.objects.values_list("amount", flat=True)) == Decimal(0)

    seed(clicks=0, reset_traffic=True)

    for affiliate in affiliates:
        for amounts in affiliate_balances(affiliate_id=affiliate.pk).values():
            assert amounts["pending"] + amounts["available"] == Decimal("0.0000")


def test_a_bulk_load_leaves_the_planner_statistics_of_the_tables_it_filled():
    from django.db import connection

    tables = ["tracker_click", "tracker_conversion", "tracker_conversionhistory"]
    with connection.cursor() as cursor:
        for table in tables:  # the planner's row counts start at 0 (ANALYZE writes them in place)
            cursor.execute(f"ANALYZE {table}")

    seed(clicks=400, seed=9)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples::bigint FROM pg_class WHERE relname = ANY(%s)",
            [tables],
        )
        estimated = dict(cursor.fetchall())
    assert estimated == {
        "tracker_click": Click.objects.count(),
        "tracker_conversion": Conversion.objects.count(),
        "tracker_conversionhistory": ConversionHistory.objects.count(),
    }


def test_seeded_events_are_priced_as_the_postbacks_are():
    with time_machine.travel(FROZEN_NOW, tick=False):
        seed(clicks=3000, seed=12, conversion_rate=0.3)

    shop = Campaign.objects.get(external_offer_id=SHOP)
    events = {event.code: event for event in shop.events.all()}
    conversions = list(
        Conversion.objects.filter(campaign=shop)
        .select_related("click", "event", "pricing_rule")
        .order_by("created_at", "id")
    )
    by_click: dict[int, list[Conversion]] = defaultdict(list)
    for conversion in conversions:
        by_click[conversion.click_id].append(conversion)
        # the rule the postback service would choose from the database, and its price
        candidates = pricing_rule_candidates(
            campaign_id=shop.pk,
            event_id=conversion.event_id,
            affiliate_id=conversion.affiliate_id,
            country=conversion.click.country,
            sub1=conversion.click.sub1,
            at=conversion.created_at,
        )
        rule = candidates[0] if candidates else None
        assert conversion.pricing_rule == rule
        sent = conversion.revenue  # what the partner's postback carried, or the default
        assert (
            conversion.payout
            == conversion_price(event=conversion.event, rule=rule, revenue=sent).payout
        )
        assert conversion.dedupe_slot == (
            conversion.transaction_id if conversion.event.allow_multiple else ""
        )
    # every converting click leads first; some then buy, once or twice
    shapes = Counter(tuple(c.event.code for c in chain) for chain in by_click.values())
    assert set(shapes) == {("lead",), ("lead", "sale"), ("lead", "sale", "sale")}
    assert not any(c.event_id == events["default"].pk for c in conversions)
    # both rules priced conversions: affiliate 1's sales at 40 %, this week's US leads at $2.50
    rules = {rule.note: rule for rule in shop.pricing_rules.all()}
    affiliate_rule = rules["Affiliate 1: 40 % on sales"]
    promo = rules["Promo 2026-W44: US leads $2.50"]
    priced = Counter(c.pricing_rule_id for c in conversions)
    assert priced[affiliate_rule.pk] > 0
    assert priced[promo.pk] > 0
    for conversion in conversions:
        if conversion.pricing_rule_id == promo.pk:
            assert conversion.payout == Decimal("2.5000")
            assert conversion.click.country == "US"
            assert conversion.created_at >= promo.starts_at
        elif conversion.event.code == "lead":
            assert conversion.payout == Decimal("1.5000")
        if conversion.pricing_rule_id == affiliate_rule.pk:
            assert conversion.payout == (conversion.revenue * 40 / 100).quantize(
                FOUR_PLACES, rounding=ROUND_HALF_UP
            )
    # the rollups count each event: the report by event adds up to the conversions
    from reporting.models import HourlyDimStat

    counted = Counter()
    for value, *counts in HourlyDimStat.objects.filter(
        dimension="event", campaign=shop
    ).values_list(
        "value",
        "conversions_pending",
        "conversions_approved",
        "conversions_rejected",
        "conversions_reversed",
    ):
        counted[value] += sum(counts)
    assert +counted == Counter(str(c.event_id) for c in conversions)


def test_a_second_run_in_a_later_week_adds_that_weeks_promo_only():
    with time_machine.travel(FROZEN_NOW, tick=False):
        seed(clicks=0)
        seed(clicks=0)
    with time_machine.travel(FROZEN_NOW + dt.timedelta(days=7), tick=False):
        seed(clicks=0)

    assert sorted(PricingRule.objects.values_list("note", flat=True)) == [
        "Affiliate 1: 40 % on sales",
        "Promo 2026-W44: US leads $2.50",
        "Promo 2026-W45: US leads $2.50",
    ]
    assert ConversionEvent.objects.filter(campaign__external_offer_id=SHOP).count() == 3
