import datetime as dt
from urllib.parse import urlencode

import pytest
import time_machine

from accounts.models import ApprovalStatus
from campaigns.models import AccessStatus, CampaignStatus
from campaigns.tests.factories import CampaignFactory, TrackingLinkFactory
from tracker.models import Click

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
LANDING = (
    "https://adv.example/lp/path?c={click_id}&a={affiliate_id}&cmp={campaign_id}&o={offer_id}"
    "&s1={sub1}&s2={sub2}&s3={sub3}&s4={sub4}&s5={sub5}&u={user_id}&geo={country}#frag"
)
CLICK_FIELDS = (
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
    "is_unique",
    "blocked_reason",
)


def _visit(client, link, query=None, **headers):
    path = f"/c/{link.token}"
    if query:
        path += "?" + urlencode(query)
    return client.get(path, headers={"user-agent": "Mozilla/5.0 (X11)", **headers})


@time_machine.travel(NOW, tick=False)
def test_redirect_fills_every_macro_percent_encoded_and_stores_the_exact_click(client):
    campaign = CampaignFactory(landing_url=LANDING, external_offer_id="OFF 7")
    link = TrackingLinkFactory(campaign=campaign)

    response = _visit(
        client,
        link,
        {
            "sub1": "a&b=c",
            "sub_id2": "x/y?z#w",
            "sub_id3": "two words",
            "sub4": "ünïcødé ✓",
            "sub_id5": "100%",
            "user_id": "user@example.test",
            "utm_source": "news letter",
            "empty": "",
        },
        referer="https://publisher.example/article?id=1",
        cf_ipcountry="fr",
    )

    click = Click.objects.get()
    assert response.status_code == 302
    assert response["Location"] == (
        f"https://adv.example/lp/path?c={click.click_id}&a={link.affiliate_id}"
        f"&cmp={campaign.pk}&o=OFF%207&s1=a%26b%3Dc&s2=x%2Fy%3Fz%23w&s3=two%20words"
        "&s4=%C3%BCn%C3%AFc%C3%B8d%C3%A9%20%E2%9C%93&s5=100%25&u=user%40example.test&geo=FR#frag"
    )
    assert response["Cache-Control"] == "no-store"
    assert Click.objects.values(*CLICK_FIELDS).get() == {
        "link_id": link.pk,
        "affiliate_id": link.affiliate_id,
        "campaign_id": campaign.pk,
        "created_at": NOW,
        "ip": "127.0.0.1",
        "user_agent": "Mozilla/5.0 (X11)",
        "referer": "https://publisher.example/article?id=1",
        "country": "FR",
        "sub1": "a&b=c",
        "sub2": "x/y?z#w",
        "sub3": "two words",
        "sub4": "ünïcødé ✓",
        "sub5": "100%",
        "user_id": "user@example.test",
        "extra": {"utm_source": "news letter", "empty": ""},
        "is_unique": True,
        "blocked_reason": "",
    }


def test_redirect_sub_id_is_an_alias_of_sub1(client):
    link = TrackingLinkFactory(campaign__landing_url="https://adv.example/?s={sub1}")

    response = _visit(client, link, {"sub_id": "from-alias"})

    assert response["Location"] == "https://adv.example/?s=from-alias"
    assert Click.objects.get().sub1 == "from-alias"


def test_redirect_escapes_non_ascii_characters_of_the_landing_template(client):
    link = TrackingLinkFactory(campaign__landing_url="https://adv.example/café?c={click_id}")

    response = _visit(client, link)

    click = Click.objects.get()
    assert response["Location"] == f"https://adv.example/caf%C3%A9?c={click.click_id}"


def test_api_track_click_path_is_the_same_endpoint(client):
    link = TrackingLinkFactory(campaign__landing_url="https://adv.example/?c={click_id}")

    response = client.get(f"/api/track/click/{link.token}?sub1=s")

    click = Click.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"https://adv.example/?c={click.click_id}"
    assert (click.link_id, click.sub1) == (link.pk, "s")


def test_redirect_ignores_x_forwarded_for_unless_proxies_are_trusted(client, settings):
    link = TrackingLinkFactory()
    forwarded = {"x_forwarded_for": "203.0.113.9, 198.51.100.20"}

    settings.TRUSTED_PROXY_COUNT = 0
    _visit(client, link, **forwarded)
    settings.TRUSTED_PROXY_COUNT = 1
    _visit(client, link, **forwarded)
    settings.TRUSTED_PROXY_COUNT = 2
    _visit(client, link, **forwarded)

    assert list(Click.objects.order_by("id").values_list("ip", flat=True)) == [
        "127.0.0.1",
        "198.51.100.20",
        "203.0.113.9",
    ]


def test_redirect_without_country_header_stores_an_empty_country(client):
    link = TrackingLinkFactory()

    _visit(client, link)
    _visit(client, link, cf_ipcountry="XX1")

    assert list(Click.objects.values_list("country", flat=True)) == ["", ""]


def test_redirect_uniqueness_flag_within_and_after_24_hours(client):
    link = TrackingLinkFactory()

    with time_machine.travel(NOW, tick=False):
        _visit(client, link)
    with time_machine.travel(NOW + dt.timedelta(hours=23, minutes=59), tick=False):
        _visit(client, link)
        _visit(client, link, user_agent="Other/1.0")
    with time_machine.travel(NOW + dt.timedelta(hours=48), tick=False):
        _visit(client, link)

    assert list(Click.objects.order_by("id").values_list("is_unique", flat=True)) == [
        True,
        False,
        True,
        True,
    ]


@pytest.mark.parametrize(
    ("campaign_kwargs", "link_kwargs", "country", "expected"),
    [
        ({"status": CampaignStatus.PAUSED}, {}, "", "campaign_paused"),
        ({"status": CampaignStatus.ARCHIVED}, {}, "", "campaign_archived"),
        ({}, {"affiliate__status": ApprovalStatus.SUSPENDED}, "", "affiliate_not_approved"),
        ({}, {"access": AccessStatus.REVOKED}, "", "access_revoked"),
        ({"allowed_countries": ["US"]}, {}, "DE", "targeting_country"),
        ({"allowed_countries": ["US"]}, {}, "", "targeting_country"),
    ],
)
def test_blocked_click_is_recorded_and_goes_to_the_campaign_fallback(
    client, campaign_kwargs, link_kwargs, country, expected
):
    campaign = CampaignFactory(fallback_url="https://adv.example/fallback?c={click_id}")
    for name, value in campaign_kwargs.items():
        setattr(campaign, name, value)
    campaign.save()
    link = TrackingLinkFactory(campaign=campaign, **link_kwargs)
    headers = {"cf_ipcountry": country} if country else {}

    response = _visit(client, link, {"sub1": "s"}, **headers)

    click = Click.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"https://adv.example/fallback?c={click.click_id}"
    assert (click.blocked_reason, click.sub1, click.link_id) == (expected, "s", link.pk)


def test_blocked_click_goes_to_the_default_fallback_without_campaign_fallback(client, settings):
    settings.DEFAULT_FALLBACK_URL = "https://network.example/more-offers"
    link = TrackingLinkFactory(campaign__status=CampaignStatus.PAUSED, campaign__fallback_url="")

    response = _visit(client, link)

    assert response.status_code == 302
    assert response["Location"] == "https://network.example/more-offers"
    assert Click.objects.get().blocked_reason == "campaign_paused"


def test_blocked_click_without_any_fallback_is_a_plain_404_but_still_recorded(client, settings):
    settings.DEFAULT_FALLBACK_URL = ""
    link = TrackingLinkFactory(campaign__status=CampaignStatus.PAUSED, campaign__fallback_url="")

    response = _visit(client, link)

    assert response.status_code == 404
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content == b"Not found.\n"
    assert Click.objects.get().blocked_reason == "campaign_paused"


@pytest.mark.parametrize("token", ["unknown-token", "x" * 65])
def test_unknown_token_is_a_plain_404_and_writes_nothing(client, token):
    TrackingLinkFactory()

    response = client.get(f"/c/{token}?sub1=x")

    assert response.status_code == 404
    assert response.content == b"Not found.\n"
    assert Click.objects.count() == 0


def test_head_answers_like_get_and_records_the_click(client):
    link = TrackingLinkFactory(campaign__landing_url="https://adv.example/?c={click_id}")

    response = client.head(f"/c/{link.token}")

    click = Click.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"https://adv.example/?c={click.click_id}"
    assert response.content == b""


def test_post_is_not_allowed_and_writes_nothing(client):
    link = TrackingLinkFactory()

    response = client.post(f"/c/{link.token}")

    assert response.status_code == 405
    assert Click.objects.count() == 0


def test_redirect_costs_at_most_two_queries(client, django_assert_max_num_queries):
    link = TrackingLinkFactory()

    with django_assert_max_num_queries(2):
        response = _visit(client, link, {"sub1": "a", "sub2": "b", "other": "c"})

    assert response.status_code == 302


# --- the click-id cookie for conversion pixels -------------------------------------------------


def test_redirect_over_http_sets_a_lax_click_id_cookie_for_the_attribution_window(client):
    link = TrackingLinkFactory(campaign__attribution_window_hours=48)

    response = _visit(client, link)

    click = Click.objects.get()
    assert response.status_code == 302
    # What the WSGI handler sends: the morsel's `output`, as for any cookie.
    assert response.cookies["cl_cid"].output(header="Set-Cookie:") == (
        f"Set-Cookie: cl_cid={click.click_id}; HttpOnly; Max-Age=172800; Path=/; SameSite=Lax"
    )
    assert response.cookies["cl_cid"].OutputString() == (
        f"cl_cid={click.click_id}; HttpOnly; Max-Age=172800; Path=/; SameSite=Lax"
    )


def test_redirect_over_https_sets_a_secure_samesite_none_click_id_cookie(client):
    link = TrackingLinkFactory(campaign__attribution_window_hours=720)

    response = client.get(f"/c/{link.token}", secure=True)

    click = Click.objects.get()
    assert response.cookies["cl_cid"].OutputString() == (
        f"cl_cid={click.click_id}; HttpOnly; Max-Age=2592000; Path=/; SameSite=None; Secure"
    )


def test_a_campaign_without_attribution_window_keeps_the_cookie_30_days(client):
    link = TrackingLinkFactory(campaign__attribution_window_hours=0)

    response = _visit(client, link)

    assert response.cookies["cl_cid"]["max-age"] == 2592000


def test_the_api_track_click_path_sets_the_same_cookie(client):
    link = TrackingLinkFactory()

    response = client.get(f"/api/track/click/{link.token}")

    assert response.cookies["cl_cid"].value == Click.objects.get().click_id


def test_a_later_click_replaces_the_cookie(client):
    first, second = TrackingLinkFactory(), TrackingLinkFactory()

    _visit(client, first)
    response = _visit(client, second)

    assert response.cookies["cl_cid"].value == Click.objects.get(link=second).click_id
    assert client.cookies["cl_cid"].value == Click.objects.get(link=second).click_id


def test_a_blocked_click_sets_no_cookie_and_keeps_the_earlier_one(client):
    good = TrackingLinkFactory()
    blocked = TrackingLinkFactory(
        campaign__status=CampaignStatus.PAUSED, campaign__fallback_url="https://adv.example/fb"
    )

    _visit(client, good)
    response = _visit(client, blocked)

    assert response.status_code == 302
    assert "cl_cid" not in response.cookies
    assert client.cookies["cl_cid"].value == Click.objects.get(link=good).click_id


def test_the_cookie_costs_no_query_the_usual_click_stays_one_statement(
    client, django_assert_num_queries
):
    link = TrackingLinkFactory()

    with django_assert_num_queries(1):
        response = _visit(client, link)

    assert response.cookies["cl_cid"].value == Click.objects.get().click_id
