"""The affiliate portal's smart links: list, create, edit, deactivate."""

import pytest

from campaigns.models import SmartLink, SmartLinkEntry, Visibility
from campaigns.smart_links import smart_link_create
from campaigns.tests.factories import CampaignFactory
from core.models import AuditEntry, AuditSource
from portal.tests.factories import portal_client

pytestmark = pytest.mark.django_db

PAGE = "/portal/affiliate/smart-links/"


def test_the_form_offers_only_campaigns_the_affiliate_may_run(net):
    hidden = CampaignFactory(name="Private elsewhere", visibility=Visibility.PRIVATE)

    response = portal_client(net, "affiliate1").get(PAGE)

    offered = [name for _id, name in response.context["form"].campaigns]
    assert "Campaign one" in offered
    assert "Campaign two" in offered  # public: running it is one click away
    assert hidden.name not in offered
    assert f'name="include_{net.campaign1.pk}"' in response.content.decode()


def test_creating_from_the_portal_saves_the_ticked_campaigns_and_shows_the_url(net):
    client = portal_client(net, "affiliate1")

    response = client.post(
        PAGE,
        {
            "name": "Rotation",
            "catch_all_url": "https://backup.example/?s={sub1}",
            f"include_{net.campaign1.pk}": "on",
            f"priority_{net.campaign1.pk}": "1",
            f"weight_{net.campaign1.pk}": "70",
            f"include_{net.campaign2.pk}": "on",
            f"priority_{net.campaign2.pk}": "2",
            f"weight_{net.campaign2.pk}": "",
        },
        follow=True,
    )

    smart_link = SmartLink.objects.get()
    assert response.redirect_chain == [(PAGE, 302)]
    assert list(
        SmartLinkEntry.objects.order_by("priority").values_list("campaign_id", "priority", "weight")
    ) == [(net.campaign1.pk, 1, 70), (net.campaign2.pk, 2, 100)]
    assert f"http://testserver/s/{smart_link.token}" in response.content.decode()
    assert AuditEntry.objects.get().source == AuditSource.PORTAL


def test_the_services_refusal_is_shown_on_the_form(net):
    response = portal_client(net, "affiliate1").post(PAGE, {"name": "Nothing ticked"})

    assert response.status_code == 200
    assert "Give at least one entry" in response.content.decode()
    assert SmartLink.objects.count() == 0


def test_editing_replaces_the_entries_and_deactivating_stops_the_link(net):
    smart_link = smart_link_create(
        affiliate=net.affiliate1, name="Mine", entries=[{"campaign": net.campaign1.pk}]
    )
    client = portal_client(net, "affiliate1")
    edit = f"{PAGE}{smart_link.pk}/"

    form = client.get(edit)
    saved = client.post(
        edit,
        {
            "name": "Renamed",
            "catch_all_url": "",
            "is_active": "on",
            f"include_{net.campaign2.pk}": "on",
            f"priority_{net.campaign2.pk}": "3",
            f"weight_{net.campaign2.pk}": "5",
        },
    )
    deactivated = client.post(f"{edit}deactivate/")

    assert form.context["form"].initial[f"include_{net.campaign1.pk}"] is True
    assert (saved.status_code, deactivated.status_code) == (302, 302)
    smart_link.refresh_from_db()
    assert (smart_link.name, smart_link.is_active) == ("Renamed", False)
    assert list(smart_link.entries.values_list("campaign_id", "priority", "weight")) == [
        (net.campaign2.pk, 3, 5)
    ]


def test_another_affiliates_smart_link_is_404(net):
    theirs = smart_link_create(
        affiliate=net.affiliate2, name="Theirs", entries=[{"campaign": net.campaign2.pk}]
    )
    client = portal_client(net, "affiliate1")

    answers = [
        client.get(f"{PAGE}{theirs.pk}/").status_code,
        client.post(f"{PAGE}{theirs.pk}/deactivate/").status_code,
    ]

    assert answers == [404, 404]
    theirs.refresh_from_db()
    assert theirs.is_active is True
