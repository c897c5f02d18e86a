"""`GET /s/<token>`: answered like `/c/<token>` (302 and the click id cookie, or a plain 404)."""

import pytest

from campaigns.models import CampaignStatus
from campaigns.tests.factories import (
    CampaignFactory,
    SmartLinkEntryFactory,
    SmartLinkFactory,
    TrackingLinkFactory,
)
from tracker.models import Click

pytestmark = pytest.mark.django_db


def _smart_link(campaign, **fields):
    smart_link = SmartLinkFactory(**fields)
    TrackingLinkFactory(campaign=campaign, affiliate=smart_link.affiliate)
    SmartLinkEntryFactory(smart_link=smart_link, campaign=campaign)
    return smart_link


def test_redirects_to_the_campaign_with_the_query_passed_through_and_sets_the_cookie(client):
    campaign = CampaignFactory(
        landing_url="https://adv.example/?c={click_id}&s2={sub2}", attribution_window_hours=48
    )
    smart_link = _smart_link(campaign)

    response = client.get(
        f"/s/{smart_link.token}?sub_id2=news&lp_color=blue",
        headers={"user-agent": "Mozilla/5.0", "referer": "https://blog.example/"},
    )

    click = Click.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"https://adv.example/?c={click.click_id}&s2=news"
    assert response["Cache-Control"] == "no-store"
    assert response.cookies["cl_cid"].value == click.click_id
    assert response.cookies["cl_cid"]["max-age"] == 172800
    assert (click.smart_link_id, click.campaign_id, click.sub2, click.extra, click.referer) == (
        smart_link.pk,
        campaign.pk,
        "news",
        {"lp_color": "blue"},
        "https://blog.example/",
    )


def test_the_catch_all_is_a_redirect_without_cookie_or_click(client):
    smart_link = _smart_link(
        CampaignFactory(status=CampaignStatus.PAUSED),
        catch_all_url="https://backup.example/?s={sub1}",
    )

    response = client.get(f"/s/{smart_link.token}?sub1=x")

    assert response.status_code == 302
    assert response["Location"] == "https://backup.example/?s=x"
    assert "cl_cid" not in response.cookies
    assert Click.objects.count() == 0


@pytest.mark.parametrize("case", ["unknown", "too long", "inactive", "nothing fits"])
def test_404_is_plain_text_and_records_nothing(client, case):
    smart_link = _smart_link(
        CampaignFactory(status=CampaignStatus.PAUSED if case == "nothing fits" else "active"),
        is_active=case != "inactive",
    )
    token = {"unknown": "nope", "too long": "x" * 65}.get(case, smart_link.token)

    response = client.get(f"/s/{token}")

    assert (response.status_code, response.content) == (404, b"Not found.\n")
    assert Click.objects.count() == 0


def test_head_is_answered_like_get_and_post_is_refused(client):
    smart_link = _smart_link(CampaignFactory(landing_url="https://adv.example/"))

    head = client.head(f"/s/{smart_link.token}")
    post = client.post(f"/s/{smart_link.token}")

    assert (head.status_code, head["Location"]) == (302, "https://adv.example/")
    assert post.status_code == 405
    assert Click.objects.count() == 1


def test_a_visit_costs_two_queries(client, django_assert_num_queries):
    smart_link = _smart_link(CampaignFactory())

    with django_assert_num_queries(2):
        response = client.get(f"/s/{smart_link.token}")

    assert response.status_code == 302
