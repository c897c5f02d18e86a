"""The partner's own account page: what the network holds about it, read-only, with the way to
change the password; one link to it in every portal page's header."""

import pytest

from accounts.models import ApprovalStatus, PayoutMethod
from accounts.tests.factories import AdminUserFactory, AdvertiserFactory, AffiliateFactory
from campaigns.tests.factories import network
from portal.tests.factories import portal_client

pytestmark = pytest.mark.django_db

PROFILE = "/portal/profile/"
PROFILE_LINK = '<a class="account-profile" href="/portal/profile/"'


def test_affiliate_sees_account_company_and_payout_details(client, django_assert_num_queries):
    affiliate = AffiliateFactory(
        company="Blue Media",
        contact_name="Ana Blue",
        phone="+49 30 123",
        website="https://blue.example",
        payout_method=PayoutMethod.WIRE,
        payout_details="IBAN DE00 1234",
        traffic_sources="SEO, newsletters",
    )
    client.force_login(affiliate.user)

    # session, user, partner profile.
    with django_assert_num_queries(3):
        response = client.get(PROFILE)

    html = response.content.decode()
    assert response.status_code == 200
    assert response.templates[0].name == "portal/profile.html"
    assert [t.name for t in response.templates][1] == "portal/affiliate/base.html"
    for text in [
        affiliate.user.email,
        "Blue Media",
        "Ana Blue",
        "+49 30 123",
        '<a href="https://blue.example" rel="noopener noreferrer">https://blue.example</a>',
        '<span class="badge badge-approved">approved</span>',
        "<dd>Bank wire</dd>",
        "<dd>IBAN DE00 1234</dd>",
        "<dd>SEO, newsletters</dd>",
        '<a class="button button-quiet" href="/portal/auth/password_change/">Change password</a>',
    ]:
        assert text in html, text
    assert f'{PROFILE_LINK} aria-current="page">Your account</a>' in html


def test_advertiser_sees_no_payout_section():
    net = network()

    response = portal_client(net, "advertiser1").get(PROFILE)

    html = response.content.decode()
    assert response.status_code == 200
    assert [t.name for t in response.templates][1] == "portal/advertiser/base.html"
    assert net.advertiser1.user.email in html
    assert net.advertiser1.company in html
    assert "Payout method" not in html


def test_a_pending_partner_sees_its_status_outside_the_portal(client):
    affiliate = AffiliateFactory(status=ApprovalStatus.REJECTED, status_reason="Incomplete site")
    client.force_login(affiliate.user)

    response = client.get(PROFILE)

    html = response.content.decode()
    assert [t.name for t in response.templates][1] == "portal/base.html"
    assert '<span class="badge badge-rejected">rejected</span>' in html
    assert "<dd>Incomplete site</dd>" in html
    assert 'aria-label="Affiliate portal"' not in html


def test_every_portal_page_links_to_the_profile_once(client):
    advertiser = AdvertiserFactory()
    client.force_login(advertiser.user)

    html = client.get("/portal/advertiser/campaigns/").content.decode()

    assert html.count(PROFILE_LINK) == 1


def test_admins_go_to_the_admin_and_anonymous_visitors_to_the_login(client):
    anonymous = client.get(PROFILE)
    client.force_login(AdminUserFactory())
    admin = client.get(PROFILE)

    assert (anonymous.status_code, anonymous["Location"]) == (
        302,
        "/portal/login/?next=/portal/profile/",
    )
    assert (admin.status_code, admin["Location"]) == (302, "/admin/")


def test_the_change_password_link_works_for_a_partner(client):
    affiliate = AffiliateFactory()
    affiliate.user.set_password("old-long-passphrase")
    affiliate.user.save()
    client.force_login(affiliate.user)

    form = client.get("/portal/auth/password_change/")
    changed = client.post(
        "/portal/auth/password_change/",
        {
            "old_password": "old-long-passphrase",
            "new_password1": "new-long-passphrase-42",
            "new_password2": "new-long-passphrase-42",
        },
    )

    affiliate.user.refresh_from_db()
    assert form.status_code == 200
    assert (changed.status_code, changed["Location"]) == (302, "/portal/auth/password_change/done/")
    assert affiliate.user.check_password("new-long-passphrase-42")
