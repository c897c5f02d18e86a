import datetime as dt
from contextlib import nullcontext
from decimal import Decimal

import pytest

from accounts.models import ApprovalStatus
from campaigns.caps import cap_period_start
from campaigns.models import AccessStatus, CampaignAccess, CampaignStatus, CapAction, CapCounter
from campaigns.tests.factories import CampaignFactory, CapFactory, TrackingLinkFactory
from core.exceptions import ApplicationError
from tracker.models import BlockedReason, Click
from tracker.services.clicks import (
    _blocked_reason,
    click_params_parse,
    click_record,
    click_record_external,
)
from tracker.sql.clicks import link_by_token
from tracker.tests.factories import ClickFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
LANDING = (
    "https://adv.example/lp?c={click_id}&a={affiliate_id}&cmp={campaign_id}&o={offer_id}"
    "&s1={sub1}&s2={sub2}&s3={sub3}&s4={sub4}&s5={sub5}&u={user_id}&geo={country}"
)


def _record(link, **overrides):
    kwargs = {
        "token": link.token,
        "params": {},
        "ip": "198.51.100.7",
        "user_agent": "UA/1.0",
        "referer": "",
        "country": "",
        "now": NOW,
    }
    kwargs.update(overrides)
    return click_record(**kwargs)


def _external(link, **overrides):
    kwargs = {
        "affiliate_id": link.affiliate_id,
        "campaign_id": link.campaign_id,
        "click_id": None,
        "params": {},
        "ip": "198.51.100.7",
        "user_agent": "UA/1.0",
        "referer": "",
        "country": "",
        "now": NOW,
    }
    kwargs.update(overrides)
    return click_record_external(**kwargs)


def test_click_params_parse_maps_aliases_with_canonical_names_first_and_keeps_the_rest():
    fields, extra = click_params_parse(
        {
            "sub_id": "alias-of-1",
            "sub_id2": "two",
            "sub3": "three",
            "sub_id3": "loses-to-sub3",
            "sub_id5": "five",
            "user_id": "u-1",
            "utm_source": "fb",
            "gclid": "x\x00y",
        }
    )

    assert fields == {
        "sub1": "alias-of-1",
        "sub2": "two",
        "sub3": "three",
        "sub4": "",
        "sub5": "five",
        "user_id": "u-1",
    }
    assert extra == {"utm_source": "fb", "gclid": "xy"}


def test_click_params_parse_cuts_sub_ids_to_the_column_length():
    fields, _ = click_params_parse({"sub1": "x" * 300, "user_id": "y" * 256})

    assert fields["sub1"] == "x" * 255
    assert fields["user_id"] == "y" * 255


def test_click_record_stores_the_click_and_fills_every_macro_in_one_query(
    django_assert_num_queries,
):
    campaign = CampaignFactory(landing_url=LANDING, external_offer_id="OFF-9")
    link = TrackingLinkFactory(campaign=campaign)

    with django_assert_num_queries(1):
        outcome = _record(
            link,
            params={"sub1": "a&b", "sub_id2": "c d", "user_id": "ü/1", "x": "y"},
            referer="https://pub.example/page",
            country="de",
        )

    click = Click.objects.get()
    assert outcome.click == click
    assert outcome.created is True
    assert len(click.click_id) == 22
    assert outcome.redirect_url == (
        f"https://adv.example/lp?c={click.click_id}&a={link.affiliate_id}&cmp={campaign.pk}"
        "&o=OFF-9&s1=a%26b&s2=c%20d&s3=&s4=&s5=&u=%C3%BC%2F1&geo=DE"
    )
    assert (
        click.link_id,
        click.affiliate_id,
        click.campaign_id,
        click.created_at,
        click.ip,
        click.user_agent,
        click.referer,
        click.country,
        click.sub1,
        click.sub2,
        click.user_id,
        click.extra,
        click.is_unique,
        click.blocked_reason,
    ) == (
        link.pk,
        link.affiliate_id,
        campaign.pk,
        NOW,
        "198.51.100.7",
        "UA/1.0",
        "https://pub.example/page",
        "DE",
        "a&b",
        "c d",
        "ü/1",
        {"x": "y"},
        True,
        "",
    )


def test_click_record_offer_id_defaults_to_the_campaign_id():
    campaign = CampaignFactory(landing_url="https://adv.example/?o={offer_id}")
    link = TrackingLinkFactory(campaign=campaign)

    outcome = _record(link)

    assert outcome.redirect_url == f"https://adv.example/?o={campaign.pk}"


def test_click_record_unknown_token_raises_404_and_writes_nothing():
    with pytest.raises(ApplicationError) as error:
        click_record(
            token="nope",
            params={},
            ip=None,
            user_agent="",
            referer="",
            country="",
            now=NOW,
        )

    assert (error.value.code, error.value.status) == ("unknown_link", 404)
    assert Click.objects.count() == 0


def test_click_record_uniqueness_is_per_link_ip_and_user_agent_within_24_hours():
    link = TrackingLinkFactory()
    other_link = TrackingLinkFactory()

    first = _record(link, now=NOW - dt.timedelta(hours=24))
    repeat_within = _record(link, now=NOW - dt.timedelta(hours=1))
    other_ua = _record(link, user_agent="UA/2.0", now=NOW - dt.timedelta(hours=1))
    other_ip = _record(link, ip="198.51.100.8", now=NOW - dt.timedelta(hours=1))
    no_ip = _record(link, ip=None, now=NOW - dt.timedelta(hours=1))
    on_other_link = _record(other_link, now=NOW - dt.timedelta(hours=1))
    # 24 h after the first click but 1 h after the others: still a repeat.
    still_repeat = _record(link, now=NOW)
    # Any earlier click of the visitor on the link within 24 h makes a repeat (sliding window).
    after_window = _record(link, now=NOW + dt.timedelta(hours=24, seconds=1))

    assert [
        first.click.is_unique,
        repeat_within.click.is_unique,
        other_ua.click.is_unique,
        other_ip.click.is_unique,
        no_ip.click.is_unique,
        on_other_link.click.is_unique,
        still_repeat.click.is_unique,
        after_window.click.is_unique,
    ] == [True, False, True, True, True, True, False, True]


def test_click_record_a_click_exactly_24_hours_old_no_longer_counts():
    link = TrackingLinkFactory()
    _record(link, now=NOW - dt.timedelta(hours=24))

    assert _record(link, now=NOW).click.is_unique is True


@pytest.mark.parametrize(
    ("campaign_status", "affiliate_status", "access_status", "expected"),
    [
        (CampaignStatus.PAUSED, ApprovalStatus.APPROVED, AccessStatus.APPROVED, "campaign_paused"),
        (
            CampaignStatus.ARCHIVED,
            ApprovalStatus.APPROVED,
            AccessStatus.APPROVED,
            "campaign_archived",
        ),
        (
            CampaignStatus.ACTIVE,
            ApprovalStatus.SUSPENDED,
            AccessStatus.APPROVED,
            "affiliate_not_approved",
        ),
        (
            CampaignStatus.ACTIVE,
            ApprovalStatus.PENDING,
            AccessStatus.APPROVED,
            "affiliate_not_approved",
        ),
        (CampaignStatus.ACTIVE, ApprovalStatus.APPROVED, AccessStatus.REVOKED, "access_revoked"),
        (CampaignStatus.ACTIVE, ApprovalStatus.APPROVED, AccessStatus.PENDING, "access_revoked"),
    ],
)
def test_click_record_blocked_clicks_are_recorded_and_sent_to_the_filled_fallback(
    campaign_status, affiliate_status, access_status, expected
):
    campaign = CampaignFactory(
        status=campaign_status, fallback_url="https://adv.example/fb?c={click_id}&s={sub1}"
    )
    link = TrackingLinkFactory(
        campaign=campaign, affiliate__status=affiliate_status, access=access_status
    )

    outcome = _record(link, params={"sub1": "a b"})

    click = Click.objects.get()
    assert click.blocked_reason == expected
    assert outcome.redirect_url == f"https://adv.example/fb?c={click.click_id}&s=a%20b"


def test_click_record_link_without_access_row_counts_as_revoked():
    link = TrackingLinkFactory()
    CampaignAccess.objects.all().delete()

    outcome = _record(link)

    assert outcome.click.blocked_reason == BlockedReason.ACCESS_REVOKED


def test_click_record_country_targeting_blocks_other_and_unknown_countries():
    campaign = CampaignFactory(allowed_countries=["US", "ca"])
    link = TrackingLinkFactory(campaign=campaign)

    reasons = [_record(link, country=code).click.blocked_reason for code in ("US", "CA", "DE", "")]

    assert reasons == ["", "", "targeting_country", "targeting_country"]


def test_click_record_blocked_goes_to_the_default_fallback_then_nowhere(settings):
    campaign = CampaignFactory(status=CampaignStatus.PAUSED, fallback_url="")
    link = TrackingLinkFactory(campaign=campaign)

    settings.DEFAULT_FALLBACK_URL = "https://network.example/offers?from={campaign_id}"
    with_default = _record(link)
    settings.DEFAULT_FALLBACK_URL = ""
    without = _record(link)

    assert with_default.redirect_url == f"https://network.example/offers?from={campaign.pk}"
    assert without.redirect_url is None
    assert Click.objects.filter(blocked_reason="campaign_paused").count() == 2


def test_click_record_used_up_click_blocking_cap_blocks(django_assert_num_queries):
    campaign = CampaignFactory()
    cap = CapFactory(campaign=campaign, limit=Decimal(2), action=CapAction.BLOCK_CLICKS)
    link = TrackingLinkFactory(campaign=campaign)
    period = cap_period_start(period=cap.period, at=NOW, timezone_name=campaign.timezone)
    counter = CapCounter.objects.create(cap=cap, period_start=period, used=Decimal(1))

    open_cap = _record(link)
    counter.used = Decimal(2)
    counter.save()
    # link, caps, one counter, insert (uniqueness is decided inside the insert)
    with django_assert_num_queries(4):
        used_up = _record(link)

    assert open_cap.click.blocked_reason == ""
    assert used_up.click.blocked_reason == BlockedReason.CAP_REACHED
    assert used_up.redirect_url == "https://advertiser.example/fallback"


def test_click_record_conversion_only_caps_cost_no_query_and_never_block(
    django_assert_num_queries,
):
    campaign = CampaignFactory()
    cap = CapFactory(campaign=campaign, limit=Decimal(1), action=CapAction.REJECT_CONVERSIONS)
    link = TrackingLinkFactory(campaign=campaign)
    period = cap_period_start(period=cap.period, at=NOW, timezone_name=campaign.timezone)
    CapCounter.objects.create(cap=cap, period_start=period, used=Decimal(1))

    with django_assert_num_queries(1):
        outcome = _record(link)

    assert outcome.click.blocked_reason == ""


@pytest.mark.parametrize("campaign_status", list(CampaignStatus))
@pytest.mark.parametrize("affiliate_status", list(ApprovalStatus))
@pytest.mark.parametrize("access_status", [*AccessStatus, None])
@pytest.mark.parametrize("countries", [[], ["us"], ["DE"]])
@pytest.mark.parametrize("click_cap", [None, "open", "used up"])
def test_click_record_one_statement_path_agrees_with_the_python_rules(
    campaign_status,
    affiliate_status,
    access_status,
    countries,
    click_cap,
    django_assert_num_queries,
):
    """The one-statement path inserts only when `_blocked_reason` would say "" (and then costs one
    query); every other link falls back to the Python rules, with their exact reason."""
    campaign = CampaignFactory(status=campaign_status, allowed_countries=countries)
    link = TrackingLinkFactory(
        campaign=campaign, affiliate__status=affiliate_status, access=access_status or "approved"
    )
    if access_status is None:
        CampaignAccess.objects.all().delete()
    if click_cap is not None:
        cap = CapFactory(campaign=campaign, limit=Decimal(1), action=CapAction.BLOCK_CLICKS)
        used = Decimal(1 if click_cap == "used up" else 0)
        period = cap_period_start(period=cap.period, at=NOW, timezone_name=campaign.timezone)
        CapCounter.objects.create(cap=cap, period_start=period, used=used)
    expected = _blocked_reason(link=link_by_token(link.token), country="US", now=NOW)
    one_statement = not countries and click_cap is None and expected == ""

    with django_assert_num_queries(1) if one_statement else nullcontext():
        outcome = _record(link, country="us")

    assert Click.objects.get().blocked_reason == expected
    assert outcome.click.blocked_reason == expected


def test_click_record_strips_nul_characters_everywhere():
    link = TrackingLinkFactory()

    outcome = _record(
        link,
        params={"sub1": "a\x00b", "k\x00ey": "v\x00al"},
        user_agent="U\x00A",
        referer="r\x00ef",
    )

    click = Click.objects.get()
    assert outcome.click == click
    assert (click.sub1, click.extra, click.user_agent, click.referer) == (
        "ab",
        {"key": "val"},
        "UA",
        "ref",
    )


def test_click_record_external_uses_the_given_click_id_and_is_idempotent_for_the_link():
    link = TrackingLinkFactory()

    first = _external(link, click_id="abc123")
    repeat = _external(link, click_id="abc123", now=NOW + dt.timedelta(minutes=5))

    click = Click.objects.get()
    assert (click.click_id, click.link_id, click.created_at) == ("abc123", link.pk, NOW)
    assert (first.created, repeat.created) == (True, False)
    assert repeat.click == click
    assert repeat.click.created_at == NOW


def test_click_record_external_refuses_a_click_id_of_another_link():
    link = TrackingLinkFactory()
    other = TrackingLinkFactory()
    ClickFactory(link=other, click_id="abc123")

    with pytest.raises(ApplicationError) as error:
        _external(link, click_id="abc123")

    assert (error.value.code, error.value.status) == ("click_id_taken", 409)
    assert Click.objects.filter(link=link).count() == 0


@pytest.mark.parametrize("bad", ["", "x" * 65, "a b", "a/b", "ä", "{click_id}"])
def test_click_record_external_validates_the_click_id(bad):
    link = TrackingLinkFactory()

    with pytest.raises(ApplicationError) as error:
        _external(link, click_id=bad)

    assert (error.value.code, error.value.status) == ("invalid_click_id", 400)
    assert Click.objects.count() == 0


def test_click_record_external_accepts_the_full_click_id_alphabet():
    link = TrackingLinkFactory()

    outcome = _external(link, click_id="Az09._~-" + "x" * 56)

    assert outcome.click.click_id == "Az09._~-" + "x" * 56


def test_click_record_external_generates_a_click_id_when_none_is_given():
    link = TrackingLinkFactory()

    outcome = _external(link)

    assert len(outcome.click.click_id) == 22
    assert Click.objects.get().click_id == outcome.click.click_id


def test_click_record_external_without_a_link_for_the_pair_is_404():
    link = TrackingLinkFactory()
    other_campaign = CampaignFactory()

    with pytest.raises(ApplicationError) as error:
        _external(link, campaign_id=other_campaign.pk)

    assert (error.value.code, error.value.status) == ("link_not_found", 404)
    assert Click.objects.count() == 0
