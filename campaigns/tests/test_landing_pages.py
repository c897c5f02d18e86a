import pytest

from campaigns.landing_pages import landing_page_create, landing_page_deactivate
from campaigns.models import LandingPage
from campaigns.tests.factories import CampaignFactory, LandingPageFactory, network
from core.exceptions import ApplicationError
from core.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_landing_page_create_validates_every_field_at_once():
    campaign = CampaignFactory()

    with pytest.raises(ApplicationError) as error:
        landing_page_create(
            campaign=campaign, data={"url": "https://adv.example/?c={clik_id}", "weight": -1}
        )

    assert error.value.code == "invalid"
    assert error.value.fields == {
        "name": ["This field is required."],
        "url": ["Unknown macro(s): {clik_id}."],
        "weight": ["Must be a whole number from 0 to 1000000."],
    }
    assert LandingPage.objects.count() == 0


def test_landing_page_deactivate_keeps_the_page_and_audits():
    page = LandingPageFactory()

    landing_page_deactivate(landing_page=page)

    page.refresh_from_db()
    assert page.is_active is False
    entry = AuditEntry.objects.get(action="update")
    assert entry.changes == {"is_active": [True, False]}


def test_api_owner_adds_lists_and_deactivates_pages():
    net = network()
    client = net.client_as("advertiser1")
    url = f"/api/campaigns/{net.campaign1.pk}/landing-pages"

    created = client.post(
        url, {"name": "Spring", "url": "https://adv.example/s?c={click_id}"}, format="json"
    )
    page = LandingPage.objects.get()
    patched = client.patch(f"/api/landing-pages/{page.pk}", {"is_active": False}, format="json")
    listed = client.get(url)

    assert created.status_code == 201
    body = {
        "id": page.pk,
        "campaign": net.campaign1.pk,
        "name": "Spring",
        "url": "https://adv.example/s?c={click_id}",
        "weight": 100,
        "is_active": True,
        "created_at": created.json()["created_at"],
        "updated_at": created.json()["updated_at"],
    }
    assert created.json() == body
    assert patched.status_code == 200
    assert patched.json()["is_active"] is False
    assert [row["is_active"] for row in listed.json()] == [False]


def test_api_affiliate_running_the_campaign_lists_active_pages_to_pin():
    net = network()
    active = LandingPageFactory(campaign=net.campaign1, name="Active")
    LandingPageFactory(campaign=net.campaign1, is_active=False)

    mine = net.client_as("affiliate1").get(f"/api/campaigns/{net.campaign1.pk}/landing-pages")
    not_running = net.client_as("affiliate2").get(
        f"/api/campaigns/{net.campaign1.pk}/landing-pages"
    )

    assert mine.status_code == 200
    assert mine.json() == [{"id": active.pk, "campaign": net.campaign1.pk, "name": "Active"}]
    assert not_running.status_code == 404


def test_api_refuses_another_advertisers_page_and_bad_input():
    net = network()
    other = LandingPageFactory(campaign=net.campaign2)
    client = net.client_as("advertiser1")

    foreign = client.patch(f"/api/landing-pages/{other.pk}", {"weight": 1}, format="json")
    bad = client.post(
        f"/api/campaigns/{net.campaign1.pk}/landing-pages",
        {"name": "x", "url": "ftp://adv.example/"},
        format="json",
    )

    assert foreign.status_code == 404
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_url"
    other.refresh_from_db()
    assert other.weight == 100
