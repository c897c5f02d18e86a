"""The click side of the fraud policy: each signal, each action, what a clean click costs, and
the velocity counter on both backends (process memory, a real Redis)."""

import datetime as dt

import pytest

from campaigns.fraud_policy import fraud_policy_clean
from campaigns.tests.factories import CampaignFactory, TrackingLinkFactory
from tracker import fraud
from tracker.ip_lists import ip_list_load
from tracker.models import BlockedReason, Click
from tracker.services.clicks import click_record, click_record_external

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 3, 1, 12, 0, 30, tzinfo=dt.UTC)
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"


@pytest.fixture(autouse=True)
def _local_counter(settings):
    """Each test starts with a fresh process-local counter, unless it configures Redis."""
    settings.FRAUD_VELOCITY_COUNTER = "local"
    fraud.velocity_counter.cache_clear()
    yield
    fraud.velocity_counter.cache_clear()


def _link(actions: dict[str, str], **policy):
    campaign = CampaignFactory(fraud_policy=fraud_policy_clean({"actions": actions, **policy}))
    return TrackingLinkFactory(campaign=campaign)


def _record(link, **overrides):
    kwargs = {
        "token": link.token,
        "params": {},
        "ip": "198.51.100.7",
        "user_agent": BROWSER,
        "referer": "",
        "country": "",
        "now": NOW,
    }
    kwargs.update(overrides)
    return click_record(**kwargs)


def _load(kind: str, *lines: str) -> None:
    ip_list_load(kind=kind, name="ops", lines=list(lines))


def test_a_bot_agent_on_a_block_campaign_goes_to_the_fallback_as_fraud():
    link = _link({"bot": "block"})

    outcome = _record(link, user_agent="Googlebot/2.1 (+http://www.google.com/bot.html)")

    click = Click.objects.get()
    assert (click.blocked_reason, click.fraud_signals) == (BlockedReason.FRAUD, ["bot"])
    assert outcome.redirect_url == "https://advertiser.example/fallback"
    assert outcome.cookie_max_age is None


@pytest.mark.parametrize("user_agent", ["", "   ", "curl/8.4.0", "python-requests/2.31"])
def test_empty_or_tool_agents_are_the_bot_signal(user_agent):
    link = _link({"bot": "flag"})

    _record(link, user_agent=user_agent)

    click = Click.objects.get()
    assert (click.blocked_reason, click.fraud_signals) == ("", ["bot"])


def test_a_parsed_bot_device_type_is_the_bot_signal_whatever_the_agent_says():
    assert fraud.is_bot_agent(user_agent=BROWSER, device_type="bot") is True
    assert fraud.is_bot_agent(user_agent="SomeCrawler", device_type="desktop") is False
    assert fraud.is_bot_agent(user_agent=BROWSER, device_type="") is False


def test_a_browser_on_a_bot_block_campaign_lands_with_no_signal():
    link = _link({"bot": "block"})

    outcome = _record(link)

    click = Click.objects.get()
    assert (click.blocked_reason, click.fraud_signals) == ("", [])
    assert outcome.redirect_url.startswith("https://advertiser.example/landing?")


def test_bot_allowed_records_nothing():
    link = _link({"bot": "allow"})

    _record(link, user_agent="")

    click = Click.objects.get()
    assert (click.blocked_reason, click.fraud_signals) == ("", [])
    assert link.campaign.fraud_policy == {}


def test_deny_list_flag_and_block_at_the_list_boundaries():
    _load("deny", "203.0.113.0/28")
    flagged = _link({"deny_list": "flag"})
    blocked = _link({"deny_list": "block"})

    for ip in ("203.0.113.0", "203.0.113.15", "203.0.113.16", "203.0.112.255"):
        _record(flagged, ip=ip)
        _record(blocked, ip=ip)

    rows = list(
        Click.objects.order_by("id").values_list("link_id", "ip", "blocked_reason", "fraud_signals")
    )
    assert rows == [
        (flagged.pk, "203.0.113.0", "", ["deny_list"]),
        (blocked.pk, "203.0.113.0", "fraud", ["deny_list"]),
        (flagged.pk, "203.0.113.15", "", ["deny_list"]),
        (blocked.pk, "203.0.113.15", "fraud", ["deny_list"]),
        (flagged.pk, "203.0.113.16", "", []),
        (blocked.pk, "203.0.113.16", "", []),
        (flagged.pk, "203.0.112.255", "", []),
        (blocked.pk, "203.0.112.255", "", []),
    ]


def test_datacenter_signal_on_ipv6_and_the_deny_list_is_not_the_datacenter_list():
    _load("datacenter", "2001:db8::/32")
    _load("deny", "198.51.100.0/24")
    link = _link({"datacenter": "block", "deny_list": "flag"})

    in_dc = _record(link, ip="2001:db8:ffff::1")
    denied = _record(link, ip="198.51.100.9")
    outside = _record(link, ip="2001:db9::1")

    assert (in_dc.click.blocked_reason, in_dc.click.fraud_signals) == ("fraud", ["datacenter"])
    assert (denied.click.blocked_reason, denied.click.fraud_signals) == ("", ["deny_list"])
    assert (outside.click.blocked_reason, outside.click.fraud_signals) == ("", [])


def test_several_signals_are_all_recorded_and_one_block_blocks():
    _load("deny", "198.51.100.0/24")
    link = _link({"bot": "flag", "deny_list": "block"})

    outcome = _record(link, user_agent="")

    assert outcome.click.blocked_reason == "fraud"
    assert outcome.click.fraud_signals == ["bot", "deny_list"]


def test_an_already_blocked_click_keeps_its_reason_and_is_not_checked():
    campaign = CampaignFactory(
        status="paused", fraud_policy=fraud_policy_clean({"actions": {"bot": "block"}})
    )
    link = TrackingLinkFactory(campaign=campaign)

    outcome = _record(link, user_agent="")

    assert (outcome.click.blocked_reason, outcome.click.fraud_signals) == ("campaign_paused", [])


def test_click_velocity_counts_per_ip_and_link_and_minute_in_process_memory():
    link = _link({"click_velocity": "block"}, click_velocity_per_minute=2)
    other_link = _link({"click_velocity": "block"}, click_velocity_per_minute=2)

    reasons = [_record(link).click.blocked_reason for _ in range(4)]
    other_ip = _record(link, ip="198.51.100.8").click.blocked_reason
    other = _record(other_link).click.blocked_reason
    next_minute = _record(link, now=NOW + dt.timedelta(seconds=30)).click.blocked_reason

    assert reasons == ["", "", "fraud", "fraud"]
    assert (other_ip, other, next_minute) == ("", "", "")
    assert list(Click.objects.filter(blocked_reason="fraud").values_list("fraud_signals")) == [
        (["click_velocity"],),
        (["click_velocity"],),
    ]


def test_click_velocity_flag_records_without_blocking():
    link = _link({"click_velocity": "flag"}, click_velocity_per_minute=1)

    first, second = _record(link), _record(link)

    assert (first.click.blocked_reason, first.click.fraud_signals) == ("", [])
    assert (second.click.blocked_reason, second.click.fraud_signals) == ("", ["click_velocity"])


def test_click_velocity_without_an_ip_is_not_counted():
    link = _link({"click_velocity": "block"}, click_velocity_per_minute=1)

    outcomes = [_record(link, ip=None) for _ in range(3)]

    assert [outcome.click.blocked_reason for outcome in outcomes] == ["", "", ""]


def test_click_velocity_counts_in_redis_shared_by_every_process(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/9",
            "KEY_PREFIX": "fraud-test",
        }
    }
    settings.FRAUD_VELOCITY_COUNTER = "auto"
    fraud.velocity_counter.cache_clear()
    from django.core.cache import cache

    cache.clear()
    link = _link({"click_velocity": "block"}, click_velocity_per_minute=2)

    counter = fraud.velocity_counter()
    reasons = [_record(link).click.blocked_reason for _ in range(3)]
    # A second process's counter reads the same Redis key.
    fraud.velocity_counter.cache_clear()
    from_another_process = _record(link).click.blocked_reason

    assert isinstance(counter, fraud.RedisVelocityCounter)
    assert reasons == ["", "", "fraud"]
    assert from_another_process == "fraud"
    client = cache._cache.get_client(write=False)
    keys = client.keys("fraud-test:*fraud:cv:*")
    assert len(keys) == 1
    assert int(client.get(keys[0])) == 4
    assert 0 < client.ttl(keys[0]) <= 120
    cache.clear()


def test_the_redis_setting_refuses_a_cache_that_is_not_redis(settings):
    settings.FRAUD_VELOCITY_COUNTER = "redis"
    fraud.velocity_counter.cache_clear()

    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        fraud.velocity_counter()


def test_a_failing_counter_costs_the_click_nothing(monkeypatch):
    link = _link({"click_velocity": "block"}, click_velocity_per_minute=1)

    def down(self, key, *, bucket):
        raise ConnectionError("redis down")

    monkeypatch.setattr(fraud.LocalVelocityCounter, "incr", down)

    outcomes = [_record(link) for _ in range(3)]

    assert [outcome.click.blocked_reason for outcome in outcomes] == ["", "", ""]


# --- what it costs -----------------------------------------------------------------------------


def test_a_clean_click_on_an_empty_policy_stays_one_statement(django_assert_num_queries):
    _load("deny", "10.0.0.0/8")
    link = TrackingLinkFactory(campaign=CampaignFactory())

    with django_assert_num_queries(1):
        _record(link)

    assert Click.objects.get().fraud_signals == []


def test_a_conversion_only_policy_keeps_the_one_statement_click(django_assert_num_queries):
    link = _link({"too_fast": "reject", "ip_mismatch": "flag"})

    with django_assert_num_queries(1):
        _record(link, user_agent="")

    assert Click.objects.get().fraud_signals == []


def test_ip_lists_come_with_the_link_read_no_query_of_their_own(django_assert_num_queries):
    _load("deny", "198.51.100.0/24")
    _load("datacenter", "198.51.100.0/25")
    link = _link({"deny_list": "flag", "datacenter": "flag", "bot": "flag"})

    # the link read (with both list probes), the insert
    with django_assert_num_queries(2):
        outcome = _record(link)

    assert outcome.click.fraud_signals == ["deny_list", "datacenter"]
    assert Click.objects.get().fraud_signals == ["deny_list", "datacenter"]


def test_the_legacy_click_route_checks_the_lists_itself():
    _load("deny", "198.51.100.0/24")
    link = _link({"deny_list": "block"})

    outcome = click_record_external(
        affiliate_id=link.affiliate_id,
        campaign_id=link.campaign_id,
        click_id=None,
        params={},
        ip="198.51.100.7",
        user_agent=BROWSER,
        referer="",
        country="",
        now=NOW,
    )

    assert (outcome.click.blocked_reason, outcome.click.fraud_signals) == ("fraud", ["deny_list"])


def test_a_shorthand_policy_written_without_the_services_still_applies(django_assert_num_queries):
    blocking = TrackingLinkFactory(campaign=CampaignFactory(fraud_policy={"bot": "block"}))
    conversion_only = TrackingLinkFactory(
        campaign=CampaignFactory(fraud_policy={"too_fast": "reject"})
    )

    blocked = _record(blocking, user_agent="")
    with django_assert_num_queries(1):
        passed = _record(conversion_only, user_agent="")

    assert (blocked.click.blocked_reason, blocked.click.fraud_signals) == ("fraud", ["bot"])
    assert (passed.click.blocked_reason, passed.click.fraud_signals) == ("", [])
