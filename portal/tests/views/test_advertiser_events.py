"""The advertiser portal's conversion events: listed on the campaign page, added, edited with
their caps, deleted unless in use or the default; another advertiser's events are a 404."""

from decimal import Decimal

import pytest

from campaigns.events import event_create
from campaigns.models import Cap, ConversionEvent
from campaigns.tests.factories import network
from portal.tests.factories import portal_client
from tracker.tests.factories import ClickFactory, postback

pytestmark = pytest.mark.django_db

EVENT_POST = {
    "code": "sale",
    "name": "Sale",
    "payout_type": "revshare",
    "payout_amount": "0",
    "revshare_percent": "30",
    "default_revenue": "10",
    "initial_status": "pending",
    "allow_multiple": "on",
    "cap0_period": "day",
    "cap0_scope": "affiliate",
    "cap0_metric": "conversions",
    "cap0_limit": "20",
    "cap0_action": "reject",
}


def _sale(campaign) -> ConversionEvent:
    return event_create(
        campaign=campaign,
        data={"code": "sale", "name": "Sale", "payout_type": "fixed", "payout_amount": "12"},
    )


def test_the_campaign_page_lists_its_events_with_terms_status_and_caps():
    net = network()
    caps = [{"period": "day", "scope": "affiliate", "metric": "conversions", "limit": "20"}]
    sale = event_create(campaign=net.campaign1, data={**EVENT_POST, "caps": caps})

    response = portal_client(net, "advertiser1").get(
        f"/portal/advertiser/campaigns/{net.campaign1.pk}/"
    )

    html = response.content.decode()
    assert [row.event.code for row in response.context["events"]] == ["default", "sale"]
    assert [row.terms for row in response.context["events"]] == [
        "80.00% of revenue",
        "30.00% of revenue",
    ]
    assert response.context["events"][1].caps == ["Per affiliate Daily conversions ≤ 20"]
    assert f'href="/portal/advertiser/events/{sale.pk}/"' in html
    assert f'action="/portal/advertiser/events/{sale.pk}/delete/"' in html
    assert "Pending" in html
    assert f'href="/portal/advertiser/campaigns/{net.campaign1.pk}/pricing-rules/"' in html


def test_adding_an_event_saves_its_terms_and_caps_and_flashes():
    net = network()
    client = portal_client(net, "advertiser1")

    response = client.post(
        f"/portal/advertiser/campaigns/{net.campaign1.pk}/events/new/", EVENT_POST, follow=True
    )

    event = ConversionEvent.objects.get(campaign=net.campaign1, code="sale")
    assert (
        event.name,
        event.payout_type,
        event.revshare_percent,
        event.default_revenue,
        event.initial_status,
        event.allow_multiple,
        event.is_default,
    ) == ("Sale", "revshare", Decimal("30.0000"), Decimal("10.0000"), "pending", True, False)
    assert [(c.scope, c.period, c.metric, c.limit) for c in Cap.objects.filter(event=event)] == [
        ("affiliate", "day", "conversions", Decimal("20.0000"))
    ]
    assert response.redirect_chain == [(f"/portal/advertiser/campaigns/{net.campaign1.pk}/", 302)]
    assert "Event “Sale” (sale) saved." in response.content.decode()


def test_the_services_refusals_show_under_their_fields():
    net = network()
    _sale(net.campaign1)
    client = portal_client(net, "advertiser1")

    duplicate = client.post(
        f"/portal/advertiser/campaigns/{net.campaign1.pk}/events/new/", EVENT_POST
    )
    bad = client.post(
        f"/portal/advertiser/campaigns/{net.campaign1.pk}/events/new/",
        {**EVENT_POST, "code": "Big Sale!", "revshare_percent": "0"},
    )

    assert duplicate.status_code == 200
    assert duplicate.context["form"].errors == {
        "code": ["Already used by another event of this campaign."]
    }
    assert set(bad.context["form"].errors) == {"code", "revshare_percent"}
    assert ConversionEvent.objects.filter(campaign=net.campaign1).count() == 2


def test_editing_an_event_shows_its_values_and_replaces_its_caps():
    net = network()
    sale = _sale(net.campaign1)
    client = portal_client(net, "advertiser1")

    page = client.get(f"/portal/advertiser/events/{sale.pk}/")
    saved = client.post(
        f"/portal/advertiser/events/{sale.pk}/",
        {**EVENT_POST, "name": "Purchase", "payout_type": "fixed", "payout_amount": "15.5"},
    )

    assert page.context["form"].initial["payout_amount"] == "12.00"
    assert saved.status_code == 302
    sale.refresh_from_db()
    assert (sale.name, sale.payout_type, sale.payout_amount) == (
        "Purchase",
        "fixed",
        Decimal("15.5000"),
    )
    assert Cap.objects.filter(event=sale).count() == 1


def test_an_event_cap_cannot_block_clicks():
    net = network()
    sale = _sale(net.campaign1)

    response = portal_client(net, "advertiser1").post(
        f"/portal/advertiser/events/{sale.pk}/", {**EVENT_POST, "cap0_action": "block_clicks"}
    )

    assert response.status_code == 200
    assert "cap0_action" in response.context["form"].errors
    assert Cap.objects.filter(event=sale).count() == 0


def test_editing_the_default_event_changes_the_campaigns_payout_too():
    net = network()
    default = ConversionEvent.objects.get(campaign=net.campaign1, is_default=True)

    portal_client(net, "advertiser1").post(
        f"/portal/advertiser/events/{default.pk}/",
        {**EVENT_POST, "code": "default", "payout_type": "fixed", "payout_amount": "3"},
    )

    net.campaign1.refresh_from_db()
    assert (net.campaign1.payout_type, net.campaign1.payout_amount) == ("fixed", Decimal("3.0000"))


def test_deleting_an_unused_event_works_and_the_default_or_a_used_one_is_refused():
    net = network()
    client = portal_client(net, "advertiser1")
    unused = _sale(net.campaign1)
    used = event_create(
        campaign=net.campaign1, data={"code": "lead", "name": "Lead", "payout_type": "fixed"}
    )
    postback(net.key1, click_id=ClickFactory(link=net.link1).click_id, event="lead")
    default = ConversionEvent.objects.get(campaign=net.campaign1, is_default=True)

    deleted = client.post(f"/portal/advertiser/events/{unused.pk}/delete/", follow=True)
    in_use = client.post(f"/portal/advertiser/events/{used.pk}/delete/", follow=True)
    is_default = client.post(f"/portal/advertiser/events/{default.pk}/delete/", follow=True)

    assert "Event “Sale” (sale) deleted." in deleted.content.decode()
    assert "This event has conversions and cannot be deleted." in in_use.content.decode()
    assert "The default event cannot be deleted" in is_default.content.decode()
    assert sorted(
        ConversionEvent.objects.filter(campaign=net.campaign1).values_list("code", flat=True)
    ) == ["default", "lead"]


def test_another_advertisers_events_and_campaign_are_not_found():
    net = network()
    theirs = _sale(net.campaign2)
    client = portal_client(net, "advertiser1")

    statuses = [
        client.get(f"/portal/advertiser/events/{theirs.pk}/").status_code,
        client.post(f"/portal/advertiser/events/{theirs.pk}/", EVENT_POST).status_code,
        client.post(f"/portal/advertiser/events/{theirs.pk}/delete/").status_code,
        client.get(f"/portal/advertiser/campaigns/{net.campaign2.pk}/events/new/").status_code,
        portal_client(net, "affiliate1").get(f"/portal/advertiser/events/{theirs.pk}/").status_code,
    ]

    assert statuses == [404, 404, 404, 404, 403]
    assert ConversionEvent.objects.filter(pk=theirs.pk).exists()
