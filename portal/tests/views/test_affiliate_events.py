"""The affiliate portal's view of conversion events: the campaign page's payout per event (its
own and everyone's rules, never another affiliate's, never revenue) and the endpoint form's
conversion events."""

import datetime as dt

import pytest
import time_machine

from campaigns.events import event_create
from campaigns.pricing_rules import pricing_rule_create
from campaigns.tests.factories import CampaignFactory, network
from forwarding.models import PostbackEndpoint
from forwarding.tests.factories import PostbackEndpointFactory
from portal.tests.factories import portal_client

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)


@time_machine.travel(NOW, tick=False)
def test_the_campaign_page_shows_the_affiliates_payout_per_event_and_no_revenue():
    net = network()
    event_create(
        campaign=net.campaign1,
        data={
            "code": "sale",
            "name": "Sale",
            "payout_type": "revshare",
            "revshare_percent": "30",
            "default_revenue": "777.77",
        },
    )
    pricing_rule_create(  # this affiliate's own rule in GB
        campaign=net.campaign1,
        data={
            "event": "sale",
            "affiliate": net.affiliate1.pk,
            "country": "GB",
            "payout_type": "fixed",
            "payout_amount": "12",
            "revenue_amount": "555.55",
        },
    )
    pricing_rule_create(  # another affiliate's rule: never shown to affiliate1
        campaign=net.campaign1,
        data={
            "affiliate": net.affiliate2.pk,
            "payout_type": "fixed",
            "payout_amount": "99",
        },
    )
    pricing_rule_create(  # everyone's, for sub1 promo, on every event
        campaign=net.campaign1,
        data={"sub1": "promo", "payout_type": "fixed", "payout_amount": "2"},
    )

    response = portal_client(net, "affiliate1").get(
        f"/portal/affiliate/campaigns/{net.campaign1.pk}/"
    )

    assert response.status_code == 200
    assert [row.summary for row in response.context["rows"]] == [
        "Conversion: 80.00% of revenue; sub1 promo: $2.00",
        "Sale: 30.00% of revenue; GB: $12.00; sub1 promo: $2.00",
    ]
    html = response.content.decode()
    assert "Sale: 30.00% of revenue; GB: $12.00; sub1 promo: $2.00" in html
    for hidden in ("99.00", "777.77", "555.55", "Revenue", "revenue_amount"):
        assert hidden not in html


def test_the_other_affiliate_sees_its_own_rule_and_not_the_first_ones():
    net = network()
    pricing_rule_create(
        campaign=net.campaign1,
        data={"affiliate": net.affiliate1.pk, "payout_type": "fixed", "payout_amount": "12"},
    )
    pricing_rule_create(
        campaign=net.campaign1,
        data={"affiliate": net.affiliate2.pk, "payout_type": "fixed", "payout_amount": "99"},
    )

    response = portal_client(net, "affiliate2").get(
        f"/portal/affiliate/campaigns/{net.campaign1.pk}/"
    )

    assert [row.summary for row in response.context["rows"]] == ["Conversion: $99.00"]
    assert "$12.00" not in response.content.decode()


def test_a_campaign_the_affiliate_may_not_see_is_not_found():
    net = network()
    private = CampaignFactory(advertiser=net.advertiser1, visibility="private")

    response = portal_client(net, "affiliate1").get(f"/portal/affiliate/campaigns/{private.pk}/")
    advertiser = portal_client(net, "advertiser1").get(
        f"/portal/affiliate/campaigns/{net.campaign1.pk}/"
    )

    assert (response.status_code, advertiser.status_code) == (404, 403)


def test_the_campaign_list_links_each_campaign_to_its_page():
    net = network()

    response = portal_client(net, "affiliate1").get("/portal/affiliate/campaigns/")

    assert f'href="/portal/affiliate/campaigns/{net.campaign1.pk}/"' in response.content.decode()


def test_an_endpoint_subscribes_to_conversion_events_and_the_form_lists_codes_and_macros():
    net = network()
    event_create(
        campaign=net.campaign1, data={"code": "sale", "name": "Sale", "payout_type": "fixed"}
    )
    event_create(  # a campaign affiliate1 may not see: its code is not suggested
        campaign=CampaignFactory(visibility="private"),
        data={"code": "secret-goal", "name": "Secret", "payout_type": "fixed"},
    )
    client = portal_client(net, "affiliate1")

    page = client.get("/portal/affiliate/endpoints/")
    client.post(
        "/portal/affiliate/endpoints/",
        {
            "name": "Tracker",
            "url": "http://127.0.0.1:9000/pb?cid={click_id}&goal={event}&n={event_name}",
            "method": "GET",
            "events": ["approved"],
            "campaign": "",
            "conversion_events": " sale, Lead ,",
            "is_active": "on",
        },
    )
    endpoint = PostbackEndpoint.objects.get(name="Tracker")
    edit = client.get(f"/portal/affiliate/endpoints/{endpoint.pk}/")
    cleared = client.post(
        f"/portal/affiliate/endpoints/{endpoint.pk}/",
        {
            "name": "Tracker",
            "url": endpoint.url,
            "method": "GET",
            "events": ["approved"],
            "campaign": "",
            "conversion_events": "",
            "is_active": "on",
        },
    )

    assert page.context["event_codes"] == ["default", "sale"]
    html = page.content.decode()
    assert "<code>{event}</code>" in html
    assert "<code>{event_name}</code>" in html
    assert 'data-insert-macro="event_name"' in html
    assert endpoint.conversion_events == ["sale", "lead"]
    assert edit.context["form"].initial["conversion_events"] == "sale, lead"
    assert cleared.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.conversion_events == []


def test_a_wrong_event_code_shows_under_the_field():
    net = network()
    endpoint = PostbackEndpointFactory(
        affiliate=net.affiliate1, url="http://127.0.0.1:9000/pb?c={click_id}"
    )

    response = portal_client(net, "affiliate1").post(
        f"/portal/affiliate/endpoints/{endpoint.pk}/",
        {
            "name": "x",
            "url": endpoint.url,
            "method": "GET",
            "events": ["approved"],
            "campaign": "",
            "conversion_events": "sale, not a code!",
            "is_active": "on",
        },
    )

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["conversion_events"]
