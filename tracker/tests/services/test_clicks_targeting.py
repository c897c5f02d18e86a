"""Targeting, device data and landing pages on the click path, on PostgreSQL."""

import datetime as dt
import math
import random
from collections import Counter
from contextlib import nullcontext

import pytest

from accounts.models import ApprovalStatus
from campaigns.landing_pages import landing_page_pick
from campaigns.models import AccessStatus, CampaignAccess, CampaignStatus
from campaigns.tests.factories import CampaignFactory, LandingPageFactory, TrackingLinkFactory
from tracker.devices import device_parse
from tracker.models import BlockedReason, Click
from tracker.services.clicks import _blocked_reason, click_record, click_record_external
from tracker.sql.clicks import link_by_token

pytestmark = pytest.mark.django_db

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/120.0.0.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15"
    " (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)
ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/120.0.6099.144 Mobile Safari/537.36"
)
# A Monday, 07:30 UTC: 08:30 in Berlin, Sunday 23:30 in Los Angeles.
MONDAY_0730_UTC = dt.datetime(2026, 3, 2, 7, 30, tzinfo=dt.UTC)
LANDING = "https://adv.example/main?c={click_id}"
FALLBACK = "https://adv.example/fallback"


def _record(link, **overrides):
    kwargs = {
        "token": link.token,
        "params": {},
        "ip": "203.0.113.9",
        "user_agent": CHROME_WINDOWS,
        "referer": "",
        "country": "US",
        "now": MONDAY_0730_UTC,
    }
    kwargs.update(overrides)
    return click_record(**kwargs)


def _link(*, targeting=None, timezone="UTC", **campaign):
    campaign = CampaignFactory(
        landing_url=LANDING,
        fallback_url=FALLBACK,
        targeting=targeting or {},
        timezone=timezone,
        **campaign,
    )
    return TrackingLinkFactory(campaign=campaign)


# (targeting, campaign time zone, the click's differences from a US desktop Chrome on Windows
# at 203.0.113.9 on Monday 07:30 UTC, passes)
CASES = [
    # countries
    ({"countries": {"include": ["US", "CA"]}}, "UTC", {}, True),
    ({"countries": {"include": ["CA"]}}, "UTC", {}, False),
    ({"countries": {"include": ["US"]}}, "UTC", {"country": ""}, False),
    ({"countries": {"exclude": ["US"]}}, "UTC", {}, False),
    ({"countries": {"exclude": ["RU"]}}, "UTC", {}, True),
    # device types
    ({"device_types": {"include": ["mobile"]}}, "UTC", {}, False),
    ({"device_types": {"include": ["mobile"]}}, "UTC", {"user_agent": IPHONE}, True),
    ({"device_types": {"exclude": ["desktop"]}}, "UTC", {}, False),
    ({"device_types": {"exclude": ["bot"]}}, "UTC", {"user_agent": "curl/8.4.0"}, False),
    ({"device_types": {"exclude": ["bot"]}}, "UTC", {"user_agent": ""}, True),
    # operating systems
    ({"os": {"include": ["Android", "iOS"]}}, "UTC", {"user_agent": ANDROID}, True),
    ({"os": {"include": ["Android", "iOS"]}}, "UTC", {}, False),
    ({"os": {"exclude": ["Windows"]}}, "UTC", {}, False),
    ({"os": {"exclude": ["Windows"]}}, "UTC", {"user_agent": IPHONE}, True),
    # browsers
    ({"browsers": {"include": ["Safari"]}}, "UTC", {"user_agent": IPHONE}, True),
    ({"browsers": {"include": ["Safari"]}}, "UTC", {}, False),
    ({"browsers": {"exclude": ["Chrome"]}}, "UTC", {"user_agent": ANDROID}, False),
    ({"browsers": {"exclude": ["Chrome"]}}, "UTC", {"user_agent": IPHONE}, True),
    # day-parting, across a time-zone boundary: Monday 07:30 UTC
    ({"schedule": {"days": [0], "hours": [7]}}, "UTC", {}, True),
    ({"schedule": {"days": [0], "hours": [7]}}, "Europe/Berlin", {}, False),
    ({"schedule": {"days": [0], "hours": [8]}}, "Europe/Berlin", {}, True),
    ({"schedule": {"days": [0, 1, 2, 3, 4]}}, "America/Los_Angeles", {}, False),
    ({"schedule": {"days": [6], "hours": [23]}}, "America/Los_Angeles", {}, True),
    ({"schedule": {"hours": list(range(8, 20))}}, "UTC", {}, False),
    # IP allow and deny, IPv4 and IPv6
    ({"ip_allow": ["203.0.113.0/24"]}, "UTC", {}, True),
    ({"ip_allow": ["198.51.100.0/24"]}, "UTC", {}, False),
    ({"ip_allow": ["2001:db8::/32"]}, "UTC", {"ip": "2001:db8:5::1"}, True),
    ({"ip_allow": ["2001:db8::/32"]}, "UTC", {"ip": "2001:db9::1"}, False),
    ({"ip_allow": ["203.0.113.0/24"]}, "UTC", {"ip": None}, False),
    ({"ip_deny": ["203.0.113.0/28"]}, "UTC", {}, False),
    ({"ip_deny": ["203.0.113.128/25"]}, "UTC", {}, True),
    ({"ip_deny": ["2001:db8::/32"]}, "UTC", {"ip": "2001:db8::1"}, False),
    ({"ip_deny": ["2001:db8::/32"]}, "UTC", {}, True),
    # all together
    (
        {
            "countries": {"include": ["US"]},
            "device_types": {"include": ["mobile"]},
            "os": {"include": ["iOS"]},
            "browsers": {"include": ["Safari"]},
            "ip_allow": ["203.0.113.0/24"],
            "ip_deny": ["203.0.113.10/32"],
            "schedule": {"days": [0], "hours": [8]},
        },
        "Europe/Berlin",
        {"user_agent": IPHONE},
        True,
    ),
]


@pytest.mark.parametrize(("targeting", "timezone", "click", "passes"), CASES)
def test_targeting_blocks_clicks_to_the_fallback_and_records_them(
    targeting, timezone, click, passes, django_assert_num_queries
):
    link = _link(targeting=targeting, timezone=timezone)

    # Targeted campaigns take the two-statement path: the link read, then the INSERT.
    with django_assert_num_queries(2):
        outcome = _record(link, **click)

    row = Click.objects.get()
    device = device_parse(click.get("user_agent", CHROME_WINDOWS))
    assert (row.device_type, row.os, row.browser) == device
    if passes:
        assert row.blocked_reason == ""
        assert outcome.redirect_url == f"https://adv.example/main?c={row.click_id}"
    else:
        assert row.blocked_reason == BlockedReason.TARGETING
        assert outcome.redirect_url == FALLBACK
        assert outcome.cookie_max_age is None


def test_legacy_allowed_countries_still_block_with_their_own_reason_before_targeting():
    link = _link(allowed_countries=["DE"], targeting={"countries": {"include": ["US"]}})

    outcome = _record(link)

    assert Click.objects.get().blocked_reason == BlockedReason.TARGETING_COUNTRY
    assert outcome.redirect_url == FALLBACK


def test_legacy_get_click_applies_targeting_and_records_the_device():
    link = _link(targeting={"device_types": {"include": ["mobile"]}})
    common = {
        "affiliate_id": link.affiliate_id,
        "campaign_id": link.campaign_id,
        "click_id": None,
        "params": {},
        "ip": "203.0.113.9",
        "referer": "",
        "country": "US",
        "now": MONDAY_0730_UTC,
    }

    blocked = click_record_external(**common, user_agent=CHROME_WINDOWS)
    passed = click_record_external(**common, user_agent=IPHONE)

    assert blocked.click.blocked_reason == BlockedReason.TARGETING
    assert blocked.redirect_url == FALLBACK
    assert passed.click.blocked_reason == ""
    assert (passed.click.device_type, passed.click.os, passed.click.browser) == (
        "mobile",
        "iOS",
        "Safari",
    )


def test_a_clean_click_records_its_device_in_one_statement(django_assert_num_queries):
    link = _link()

    with django_assert_num_queries(1):
        _record(link, user_agent=ANDROID)

    row = Click.objects.get()
    assert (row.device_type, row.os, row.browser, row.landing_page_id) == (
        "mobile",
        "Android",
        "Chrome",
        None,
    )


# --- landing pages -----------------------------------------------------------------------------


def test_landing_pages_are_drawn_by_weight_with_their_macros_filled(django_assert_num_queries):
    link = _link()
    first = LandingPageFactory(
        campaign=link.campaign, url="https://adv.example/a?c={click_id}&s={sub1}", weight=1
    )
    second = LandingPageFactory(campaign=link.campaign, url="https://adv.example/b", weight=3)
    expected_order = [
        landing_page_pick(
            [(first.pk, first.url, 1), (second.pk, second.url, 3)], pinned=None, rng=rng
        )[0]
        for rng in [random.Random(7)]
        for _ in range(5)
    ]

    rng = random.Random(7)
    with django_assert_num_queries(2):
        outcomes = [_record(link, params={"sub1": "x y"}, rng=rng)]
    outcomes += [_record(link, params={"sub1": "x y"}, rng=rng) for _ in range(4)]

    clicks = list(Click.objects.order_by("id"))
    assert [click.landing_page_id for click in clicks] == expected_order
    for click, outcome in zip(clicks, outcomes, strict=True):
        assert outcome.redirect_url == (
            f"https://adv.example/a?c={click.click_id}&s=x%20y"
            if click.landing_page_id == first.pk
            else "https://adv.example/b"
        )


def test_lp_pins_an_active_landing_page_of_the_campaign():
    link = _link()
    LandingPageFactory(campaign=link.campaign, weight=100)
    pinned = LandingPageFactory(campaign=link.campaign, url="https://adv.example/pin", weight=0)

    outcome = _record(link, params={"lp": str(pinned.pk)})

    click = Click.objects.get()
    assert click.landing_page_id == pinned.pk
    assert outcome.redirect_url == "https://adv.example/pin"


@pytest.mark.parametrize("lp", ["inactive", "other campaign", "unknown", "not a number", ""])
def test_an_lp_that_is_not_an_active_page_of_the_campaign_is_ignored(lp):
    link = _link()
    drawn = LandingPageFactory(campaign=link.campaign, url="https://adv.example/drawn")
    inactive = LandingPageFactory(campaign=link.campaign, is_active=False)
    other = LandingPageFactory()
    value = {
        "inactive": str(inactive.pk),
        "other campaign": str(other.pk),
        "unknown": "999999",
        "not a number": "abc",
        "": "",
    }[lp]

    outcome = _record(link, params={"lp": value})

    assert Click.objects.get().landing_page_id == drawn.pk
    assert outcome.redirect_url == "https://adv.example/drawn"


def test_without_active_pages_or_weight_the_click_goes_to_the_landing_url():
    link = _link()
    LandingPageFactory(campaign=link.campaign, is_active=False)
    LandingPageFactory(campaign=link.campaign, weight=0)

    outcome = _record(link)

    click = Click.objects.get()
    assert click.landing_page_id is None
    assert outcome.redirect_url == f"https://adv.example/main?c={click.click_id}"


def test_a_blocked_click_gets_no_landing_page():
    link = _link(targeting={"countries": {"include": ["CA"]}})
    LandingPageFactory(campaign=link.campaign)

    outcome = _record(link)

    click = Click.objects.get()
    assert (click.blocked_reason, click.landing_page_id) == (BlockedReason.TARGETING, None)
    assert outcome.redirect_url == FALLBACK


def test_ten_thousand_draws_fall_within_the_binomial_interval_of_each_weight():
    link = _link()
    weights = [10, 30, 60, 0]
    pages = [LandingPageFactory(campaign=link.campaign, weight=weight) for weight in weights]
    choices = link_by_token(link.token).landing_pages
    rng = random.Random(20260302)
    draws = 10_000

    counts = Counter(landing_page_pick(choices, pinned=None, rng=rng)[0] for _ in range(draws))

    total = sum(weights)
    for page, weight in zip(pages, weights, strict=True):
        p = weight / total
        # 99.9 % two-sided interval, normal approximation of the binomial (z = 3.29).
        half_width = 3.29 * math.sqrt(draws * p * (1 - p))
        assert abs(counts[page.pk] - draws * p) <= half_width, (weight, counts[page.pk])
    assert counts[pages[3].pk] == 0


# --- the one-statement path --------------------------------------------------------------------


@pytest.mark.parametrize("campaign_status", list(CampaignStatus))
@pytest.mark.parametrize("affiliate_status", list(ApprovalStatus))
@pytest.mark.parametrize("access_status", [*AccessStatus, None])
@pytest.mark.parametrize(
    "rules", ["none", "targeting passes", "targeting fails", "landing page", "inactive page"]
)
def test_one_statement_path_agrees_with_the_python_rules_with_targeting_and_landing_pages(
    campaign_status, affiliate_status, access_status, rules, django_assert_num_queries
):
    """Targeting and active landing pages send a click to the two-statement path, which
    decides exactly what the Python rules decide; an inactive page changes nothing."""
    targeting = {
        "targeting passes": {"countries": {"include": ["US"]}},
        "targeting fails": {"countries": {"include": ["DE"]}},
    }.get(rules, {})
    link = _link(targeting=targeting, status=campaign_status)
    link.affiliate.status = affiliate_status
    link.affiliate.save()
    CampaignAccess.objects.update(status=access_status or AccessStatus.APPROVED)
    if access_status is None:
        CampaignAccess.objects.all().delete()
    page = None
    if rules in ("landing page", "inactive page"):
        page = LandingPageFactory(campaign=link.campaign, is_active=rules == "landing page")
    device = device_parse(CHROME_WINDOWS)
    expected = _blocked_reason(
        link=link_by_token(link.token),
        country="US",
        now=MONDAY_0730_UTC,
        device_type=device.device_type,
        os=device.os,
        browser=device.browser,
        ip="203.0.113.9",
    )
    one_statement = rules in ("none", "inactive page") and expected == ""

    with django_assert_num_queries(1) if one_statement else nullcontext():
        _record(link)

    click = Click.objects.get()
    assert click.blocked_reason == expected
    drawn = page.pk if rules == "landing page" and not expected else None
    assert click.landing_page_id == drawn
