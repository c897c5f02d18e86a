"""The advertiser portal's targeting editor and landing pages section."""

import pytest

from campaigns.models import Campaign, LandingPage
from campaigns.tests.factories import LandingPageFactory, network
from portal.forms import CampaignForm
from portal.tests.factories import portal_client
from portal.tests.views.test_advertiser import CAMPAIGN_POST

pytestmark = pytest.mark.django_db

TARGETING_POST = {
    "t_countries_mode": "include",
    "t_countries_other": "us, ca",
    "t_device_types_mode": "include",
    "t_device_types": ["mobile"],
    "t_os_mode": "include",
    "t_os": ["Android", "iOS"],
    "t_os_other": "",
    "t_browsers_mode": "exclude",
    "t_browsers": [],
    "t_browsers_other": "Opera Mini",
    "t_ip_allow": "",
    "t_ip_deny": "203.0.113.0/24\n\n2001:db8::/32\n",
    "t_days": ["0", "1", "2", "3", "4"],
    "t_hours": [str(hour) for hour in range(8, 20)],
}
STORED = {
    "countries": {"include": ["CA", "US"]},
    "device_types": {"include": ["mobile"]},
    "os": {"include": ["Android", "iOS"]},
    "browsers": {"exclude": ["Opera Mini"]},
    "ip_deny": ["203.0.113.0/24", "2001:db8::/32"],
    "schedule": {"days": [0, 1, 2, 3, 4], "hours": list(range(8, 20))},
}


def test_targeting_editor_saves_normalized_rules_and_shows_the_summary():
    net = network()
    client = portal_client(net, "advertiser1")

    response = client.post("/portal/advertiser/campaigns/new/", {**CAMPAIGN_POST, **TARGETING_POST})

    campaign = Campaign.objects.get(name="Spring sale")
    assert response.status_code == 302
    assert campaign.targeting == STORED
    page = client.get(f"/portal/advertiser/campaigns/{campaign.pk}/")
    summary = (
        "mobile Android/iOS non-Opera Mini in CA, US; weekdays 08\u201320 local; 1 range denied"
    )
    assert page.context["targeting_summary"] == summary.replace("1 range", "2 ranges")
    assert summary.replace("1 range", "2 ranges") in page.content.decode()


def test_targeting_editor_round_trips_what_it_shows():
    net = network()
    campaign = net.campaign1
    campaign.targeting = STORED
    campaign.save()

    initial = CampaignForm.initial_from(campaign)

    assert {key: value for key, value in initial.items() if key.startswith("t_")} == {
        "t_countries_mode": "include",
        "t_countries": [],
        "t_countries_other": "CA, US",
        "t_device_types_mode": "include",
        "t_device_types": ["mobile"],
        "t_os_mode": "include",
        "t_os": ["Android", "iOS"],
        "t_os_other": "",
        "t_browsers_mode": "exclude",
        "t_browsers": [],
        "t_browsers_other": "Opera Mini",
        "t_ip_allow": "",
        "t_ip_deny": "203.0.113.0/24\n2001:db8::/32",
        "t_days": ["0", "1", "2", "3", "4"],
        "t_hours": [str(hour) for hour in range(8, 20)],
    }


def test_targeting_editor_shows_a_refused_rule_without_saving():
    net = network()
    client = portal_client(net, "advertiser1")

    response = client.post(
        "/portal/advertiser/campaigns/new/",
        {**CAMPAIGN_POST, "t_ip_allow": "10.0.0.0/33", "t_countries_other": "USA"},
    )

    assert response.status_code == 200
    assert Campaign.objects.filter(name="Spring sale").count() == 0
    assert response.context["form"].non_field_errors() == [
        "targeting.countries.include: not a 2-letter country code: 'USA'"
    ]


def test_landing_pages_section_adds_and_deactivates_pages():
    net = network()
    client = portal_client(net, "advertiser1")
    campaign = net.campaign1

    added = client.post(
        f"/portal/advertiser/campaigns/{campaign.pk}/landing-pages/",
        {"name": "Spring", "url": "https://adv.example/s?c={click_id}", "weight": "30"},
    )
    page = LandingPage.objects.get()
    retired = client.post(
        f"/portal/advertiser/landing-pages/{page.pk}/",
        {"name": "Spring", "url": "https://adv.example/s?c={click_id}", "weight": "30"},
    )
    shown = client.get(f"/portal/advertiser/campaigns/{campaign.pk}/")

    assert added.status_code == retired.status_code == 302
    assert added["Location"] == f"/portal/advertiser/campaigns/{campaign.pk}/#landing-pages"
    page.refresh_from_db()
    assert (page.campaign_id, page.name, page.weight, page.is_active) == (
        campaign.pk,
        "Spring",
        30,
        False,
    )
    assert shown.context["landing_pages"] == [page]


def test_landing_page_of_another_advertiser_is_not_found():
    net = network()
    other = LandingPageFactory(campaign=net.campaign2)

    response = portal_client(net, "advertiser1").post(
        f"/portal/advertiser/landing-pages/{other.pk}/",
        {"name": "Mine", "url": "https://adv.example/", "weight": "1", "is_active": "on"},
    )

    assert response.status_code == 404
    other.refresh_from_db()
    assert other.name != "Mine"


def test_affiliate_link_page_lists_the_active_pages_it_can_pin():
    net = network()
    active = LandingPageFactory(campaign=net.campaign1, name="Spring")
    LandingPageFactory(campaign=net.campaign1, is_active=False)
    net.campaign1.targeting = {"countries": {"include": ["US"]}}
    net.campaign1.save()

    response = portal_client(net, "affiliate1").get(f"/portal/affiliate/links/{net.link1.pk}/")

    assert response.context["landing_pages"] == [
        (active, f"http://testserver/c/{net.link1.token}?lp={active.pk}")
    ]
    assert response.context["targeting_summary"] == "in US"
    assert f"?lp={active.pk}" in response.content.decode()
