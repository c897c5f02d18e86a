import datetime as dt
import math
import random
from decimal import Decimal

import pytest

from accounts.tests.factories import AffiliateFactory
from campaigns.caps import cap_period_start
from campaigns.models import AccessStatus, CampaignAccess, CampaignStatus, CapAction, CapCounter
from campaigns.tests.factories import (
    CampaignFactory,
    CapFactory,
    SmartLinkEntryFactory,
    SmartLinkFactory,
    TrackingLinkFactory,
)
from core.exceptions import ApplicationError
from tracker.models import Click
from tracker.services.smart_links import smart_click_record

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)


def _smart_link(entries, *, affiliate=None, **fields):
    """A smart link of `affiliate` over `entries` (campaign, priority, weight), with the
    affiliate's tracking link on each campaign, as `smart_link_create` leaves them."""
    affiliate = affiliate or AffiliateFactory()
    smart_link = SmartLinkFactory(affiliate=affiliate, **fields)
    links = {}
    for campaign, priority, weight in entries:
        links[campaign.pk] = TrackingLinkFactory(campaign=campaign, affiliate=affiliate)
        SmartLinkEntryFactory(
            smart_link=smart_link, campaign=campaign, priority=priority, weight=weight
        )
    return smart_link, links


def _visit(smart_link, *, rng=None, **overrides):
    kwargs = {
        "token": smart_link.token,
        "params": {},
        "ip": "198.51.100.7",
        "user_agent": "UA/1.0",
        "referer": "",
        "country": "",
        "now": NOW,
        "rng": rng or random.Random(7),
    }
    kwargs.update(overrides)
    return smart_click_record(**kwargs)


def test_the_click_records_the_campaign_its_link_and_the_smart_link():
    campaign = CampaignFactory(landing_url="https://adv.example/lp?c={click_id}&s1={sub1}")
    smart_link, links = _smart_link([(campaign, 1, 100)])

    outcome = _visit(smart_link, params={"sub1": "blog", "color": "red"})

    click = Click.objects.get()
    assert (
        click.smart_link_id,
        click.campaign_id,
        click.link_id,
        click.affiliate_id,
        click.sub1,
        click.extra,
        click.blocked_reason,
        click.is_unique,
    ) == (
        smart_link.pk,
        campaign.pk,
        links[campaign.pk].pk,
        smart_link.affiliate_id,
        "blog",
        {"color": "red"},
        "",
        True,
    )
    assert outcome.redirect_url == f"https://adv.example/lp?c={click.click_id}&s1=blog"
    assert outcome.click is not None
    assert outcome.click.click_id == click.click_id
    assert outcome.click.cookie_max_age == campaign.attribution_window_hours * 3600


def test_a_clean_visit_costs_one_read_and_one_insert(django_assert_num_queries):
    first, second = CampaignFactory(), CampaignFactory()
    smart_link, _links = _smart_link([(first, 1, 50), (second, 1, 50)])

    with django_assert_num_queries(2) as captured:
        _visit(smart_link)

    assert captured.captured_queries[0]["sql"].lstrip().startswith("SELECT")
    assert captured.captured_queries[1]["sql"].lstrip().startswith("INSERT")
    assert Click.objects.count() == 1


def test_ten_thousand_draws_follow_the_weights():
    """Each campaign's share stays within the binomial 99.9 % interval of its weight (normal
    approximation, z = 3.29)."""
    campaigns = [CampaignFactory() for _ in range(3)]
    weights = [10, 30, 60]
    smart_link, _links = _smart_link(
        [(campaign, 1, weight) for campaign, weight in zip(campaigns, weights, strict=True)]
    )
    rng = random.Random(20250301)
    draws = 10_000

    for _ in range(draws):
        _visit(smart_link, rng=rng)

    counts = {campaign.pk: 0 for campaign in campaigns}
    for campaign_id in Click.objects.values_list("campaign_id", flat=True):
        counts[campaign_id] += 1
    assert sum(counts.values()) == draws
    for campaign, weight in zip(campaigns, weights, strict=True):
        p = weight / sum(weights)
        half_width = 3.29 * math.sqrt(draws * p * (1 - p))
        assert draws * p - half_width <= counts[campaign.pk] <= draws * p + half_width, (
            campaign.pk,
            counts[campaign.pk],
        )


def test_a_weight_of_zero_is_never_drawn():
    drawn, never = CampaignFactory(), CampaignFactory()
    smart_link, _links = _smart_link([(drawn, 1, 1), (never, 1, 0)])

    for seed in range(50):
        _visit(smart_link, rng=random.Random(seed))

    assert set(Click.objects.values_list("campaign_id", flat=True)) == {drawn.pk}


def test_a_paused_first_campaign_falls_through_to_the_next_priority():
    paused = CampaignFactory(status=CampaignStatus.PAUSED)
    archived = CampaignFactory(status=CampaignStatus.ARCHIVED)
    second = CampaignFactory(landing_url="https://second.example/")
    smart_link, links = _smart_link([(paused, 1, 100), (archived, 1, 100), (second, 2, 1)])

    outcome = _visit(smart_link)

    click = Click.objects.get()
    assert (click.campaign_id, click.link_id, click.blocked_reason) == (
        second.pk,
        links[second.pk].pk,
        "",
    )
    assert outcome.redirect_url == "https://second.example/"


def test_a_capped_first_campaign_falls_through_to_the_next_priority():
    capped = CampaignFactory()
    cap = CapFactory(campaign=capped, limit=Decimal(2), action=CapAction.BLOCK_CLICKS)
    period = cap_period_start(period=cap.period, at=NOW, timezone_name=capped.timezone)
    CapCounter.objects.create(cap=cap, period_start=period, used=Decimal(2))
    second = CampaignFactory()
    smart_link, _links = _smart_link([(capped, 1, 100), (second, 2, 100)])

    _visit(smart_link)

    assert list(Click.objects.values_list("campaign_id", "blocked_reason")) == [(second.pk, "")]


def test_revoked_access_and_country_targeting_are_skipped_like_on_the_tracking_link():
    revoked = CampaignFactory()
    targeted = CampaignFactory(allowed_countries=["DE"])
    last = CampaignFactory()
    smart_link, _links = _smart_link([(revoked, 1, 100), (targeted, 2, 100), (last, 3, 100)])
    CampaignAccess.objects.filter(campaign=revoked).update(status=AccessStatus.REVOKED)

    _visit(smart_link, country="FR")
    _visit(smart_link, country="DE")

    assert list(Click.objects.order_by("id").values_list("campaign_id", flat=True)) == [
        last.pk,
        targeted.pk,
    ]


def test_nothing_fits_goes_to_the_catch_all_with_the_visits_macros_and_records_nothing():
    paused = CampaignFactory(status=CampaignStatus.PAUSED)
    smart_link, _links = _smart_link(
        [(paused, 1, 100)],
        catch_all_url="https://backup.example/?a={affiliate_id}&s={sub1}&u={user_id}&g={country}",
    )

    outcome = _visit(smart_link, params={"sub1": "a b", "user_id": "p/1"}, country="fr")

    assert outcome.click is None
    assert outcome.redirect_url == (
        f"https://backup.example/?a={smart_link.affiliate_id}&s=a%20b&u=p%2F1&g=FR"
    )
    assert Click.objects.count() == 0


def test_nothing_fits_without_a_catch_all_is_no_redirect_and_records_nothing():
    smart_link, _links = _smart_link([(CampaignFactory(status=CampaignStatus.PAUSED), 1, 100)])

    outcome = _visit(smart_link)

    assert (outcome.redirect_url, outcome.click) == (None, None)
    assert Click.objects.count() == 0


def test_an_entry_without_a_tracking_link_is_skipped():
    affiliate = AffiliateFactory()
    smart_link, _links = _smart_link([(CampaignFactory(), 2, 100)], affiliate=affiliate)
    SmartLinkEntryFactory(smart_link=smart_link, campaign=CampaignFactory(), priority=1)

    _visit(smart_link)

    assert Click.objects.get().campaign_id == _links.popitem()[0]


@pytest.mark.parametrize("token", ["missing", "x" * 65])
def test_an_unknown_token_is_404_and_writes_nothing(token):
    with pytest.raises(ApplicationError) as caught:
        _visit(SmartLinkFactory.build(token=token))

    assert (caught.value.status, caught.value.code) == (404, "unknown_link")
    assert Click.objects.count() == 0


def test_an_inactive_smart_link_is_404_even_with_a_catch_all():
    smart_link, _links = _smart_link(
        [(CampaignFactory(), 1, 100)], is_active=False, catch_all_url="https://backup.example/"
    )

    with pytest.raises(ApplicationError) as caught:
        _visit(smart_link)

    assert caught.value.code == "unknown_link"
    assert Click.objects.count() == 0


def test_a_smart_link_without_entries_goes_to_its_catch_all():
    smart_link = SmartLinkFactory(catch_all_url="https://backup.example/")

    assert _visit(smart_link).redirect_url == "https://backup.example/"
