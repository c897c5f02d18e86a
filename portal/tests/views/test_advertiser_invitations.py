"""Invitations in the portals: the advertiser invites an affiliate from its campaign's page (by id
or email, with the affiliates it already works with suggested); the invited affiliate finds the
private campaign in its list, marked invited, and gets its link."""

import pytest

from campaigns.models import AccessStatus, CampaignAccess, CampaignStatus, TrackingLink
from campaigns.tests.factories import CampaignFactory, Network
from portal.tests.factories import portal_client
from portal.tests.test_markup import _audit

pytestmark = pytest.mark.django_db

NO_SUCH_AFFILIATE = "No approved affiliate has this id or email."


@pytest.fixture
def private(net: Network):
    return CampaignFactory(advertiser=net.advertiser1, name="Members only", visibility="private")


def _invite_url(campaign) -> str:
    return f"/portal/advertiser/campaigns/{campaign.pk}/invite/"


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_campaign_page_offers_the_invitation_with_the_advertisers_own_affiliates(net, private):
    response = portal_client(net, "advertiser1").get(f"/portal/advertiser/campaigns/{private.pk}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert f'action="{_invite_url(private)}"' in html
    assert 'list="known-affiliates"' in html
    # Affiliate 1 works on advertiser 1's campaign one; affiliate 2 only on advertiser 2's.
    assert list(response.context["known_affiliates"]) == [net.affiliate1]
    assert f'<option value="{net.affiliate1.pk}">{net.affiliate1}</option>' in html
    assert str(net.affiliate2) not in html
    audit = _audit(html)
    assert "id_affiliate" in audit.labels
    assert [control for control in audit.controls if control not in audit.labels] == []


def test_an_archived_campaign_page_has_no_invitation(net):
    archived = CampaignFactory(advertiser=net.advertiser1, status=CampaignStatus.ARCHIVED)

    response = portal_client(net, "advertiser1").get(f"/portal/advertiser/campaigns/{archived.pk}/")

    assert _invite_url(archived) not in response.content.decode()
    assert response.context["known_affiliates"] == []


@pytest.mark.parametrize("how", ["id", "email"])
def test_advertiser_invites_by_id_or_email_and_the_affiliate_gets_its_link(
    how, net, private, django_capture_on_commit_callbacks
):
    named = {"id": str(net.affiliate2.pk), "email": f"  {net.affiliate2.user.email.upper()} "}
    advertiser = portal_client(net, "advertiser1")
    affiliate = portal_client(net, "affiliate2")
    assert private.pk not in [
        c.pk for c, _ in affiliate.get("/portal/affiliate/campaigns/").context["rows"]
    ]

    with django_capture_on_commit_callbacks() as callbacks:
        response = advertiser.post(_invite_url(private), {"affiliate": named[how]}, follow=True)

    access = CampaignAccess.objects.get(campaign=private, affiliate=net.affiliate2)
    assert response.redirect_chain == [(f"/portal/advertiser/campaigns/{private.pk}/", 302)]
    assert _messages(response) == [
        f"{net.affiliate2} is invited to “Members only”: its access is approved and it has been "
        "emailed."
    ]
    assert (access.status, access.invited_by) == (AccessStatus.APPROVED, net.advertiser1.user)
    assert len(callbacks) == 1
    # The affiliate sees the campaign, marked invited, with its "Get link" button.
    listing = affiliate.get("/portal/affiliate/campaigns/")
    rows = {campaign.pk: row for campaign, row in listing.context["rows"]}
    assert rows[private.pk] == access
    html = listing.content.decode()
    assert f"Invited {access.invited_at:%Y-%m-%d}" in html
    assert f'action="/portal/affiliate/campaigns/{private.pk}/link/"' in html
    got_link = affiliate.post(f"/portal/affiliate/campaigns/{private.pk}/link/")
    link = TrackingLink.objects.get(campaign=private, affiliate=net.affiliate2)
    assert got_link["Location"] == f"/portal/affiliate/links/{link.pk}/"


@pytest.mark.parametrize("named", ["unknown", "pending", "advertiser", "blank"])
def test_an_affiliate_that_cannot_be_invited_gets_one_answer_and_nothing_changes(
    named, net, private, django_capture_on_commit_callbacks
):
    value = {
        "unknown": "nobody@example.test",
        "pending": net.pending_affiliate.user.email,
        "advertiser": str(net.advertiser2.pk),
        "blank": "   ",
    }[named]

    with django_capture_on_commit_callbacks() as callbacks:
        response = portal_client(net, "advertiser1").post(
            _invite_url(private), {"affiliate": value}, follow=True
        )

    expected = (
        "Name the affiliate to invite by its id or its email."
        if named == "blank"
        else NO_SUCH_AFFILIATE
    )
    assert _messages(response) == [expected]
    assert not CampaignAccess.objects.filter(campaign=private).exists()
    assert callbacks == []


def test_inviting_an_affiliate_that_has_access_says_so_and_sends_nothing(
    net, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = portal_client(net, "advertiser1").post(
            _invite_url(net.campaign1), {"affiliate": str(net.affiliate1.pk)}, follow=True
        )

    assert _messages(response) == [f"{net.affiliate1} already has access to “Campaign one”."]
    assert callbacks == []


@pytest.mark.parametrize(("role", "status_code"), [("advertiser2", 404), ("affiliate2", 403)])
def test_only_the_owner_invites_from_the_portal(role, status_code, net, private):
    response = portal_client(net, role).post(
        _invite_url(private), {"affiliate": str(net.affiliate2.pk)}
    )

    assert response.status_code == status_code
    assert not CampaignAccess.objects.filter(campaign=private).exists()
