"""Every portal page: 200 for its role, login for anonymous, 403 for other roles, the pending
page for partners not approved yet, 404 for another tenant's objects."""

import pytest

from campaigns.tests.factories import network
from forwarding.tests.factories import DeliveryFactory, PostbackEndpointFactory
from portal.tests.factories import ADVERTISER_PAGES, AFFILIATE_PAGES, portal_client
from tracker.tests.factories import ClickFactory, postback

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ADVERTISER_PAGES)
def test_advertiser_pages_render_for_the_advertiser(url):
    net = network()

    response = portal_client(net, "advertiser1").get(url)

    assert response.status_code == 200
    assert b'aria-label="Advertiser portal"' in response.content


@pytest.mark.parametrize("url", AFFILIATE_PAGES)
def test_affiliate_pages_render_for_the_affiliate(url):
    net = network()

    response = portal_client(net, "affiliate1").get(url)

    assert response.status_code == 200
    assert b'aria-label="Affiliate portal"' in response.content


@pytest.mark.parametrize("url", ADVERTISER_PAGES + AFFILIATE_PAGES)
def test_anonymous_visitors_are_sent_to_the_login_page(url):
    net = network()

    response = portal_client(net, "anonymous").get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/portal/login/?next={url}"


@pytest.mark.parametrize(
    ("role", "url"),
    [
        *[("affiliate1", url) for url in ADVERTISER_PAGES],
        *[("admin", url) for url in ADVERTISER_PAGES],
        *[("advertiser1", url) for url in AFFILIATE_PAGES],
        *[("admin", url) for url in AFFILIATE_PAGES],
    ],
)
def test_other_roles_are_forbidden(role, url):
    net = network()

    response = portal_client(net, role).get(url)

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("role", "url"),
    [("pending_advertiser", url) for url in ADVERTISER_PAGES]
    + [("pending_affiliate", url) for url in AFFILIATE_PAGES],
)
def test_partners_not_approved_see_the_pending_page(role, url):
    net = network()
    client = portal_client(net, role)

    response = client.get(url)
    pending = client.get("/portal/pending/")

    assert response.status_code == 302
    assert response["Location"] == "/portal/pending/"
    assert pending.status_code == 200
    assert b"Your account is waiting for approval" in pending.content


@pytest.mark.parametrize(
    ("role", "target"),
    [
        ("admin", "/admin/"),
        ("advertiser1", "/portal/advertiser/"),
        ("affiliate1", "/portal/affiliate/"),
        ("pending_affiliate", "/portal/pending/"),
    ],
)
def test_home_sends_each_role_to_its_portal(role, target):
    net = network()

    response = portal_client(net, role).get("/portal/")

    assert response.status_code == 302
    assert response["Location"] == target


def test_another_advertisers_objects_answer_404():
    net = network()
    click = ClickFactory(link=net.link2)
    conversion = postback(net.key2, click_id=click.click_id, payout="3")
    client = portal_client(net, "advertiser1")

    pages = [
        client.get(f"/portal/advertiser/campaigns/{net.campaign2.pk}/"),
        client.get(f"/portal/advertiser/partner-keys/{net.key2.pk}/"),
        client.get(f"/portal/advertiser/conversions/{conversion.pk}/"),
        client.post(
            f"/portal/advertiser/campaigns/{net.campaign2.pk}/status/", {"status": "paused"}
        ),
        client.post(f"/portal/advertiser/partner-keys/{net.key2.pk}/rotate/"),
        client.post(
            f"/portal/advertiser/conversions/{conversion.pk}/",
            {"status": "rejected", "reason": "nope"},
        ),
    ]

    assert [page.status_code for page in pages] == [404] * 6
    net.campaign2.refresh_from_db()
    net.key2.refresh_from_db()
    conversion.refresh_from_db()
    assert (net.campaign2.status, net.key2.rotated_at, conversion.status) == (
        "active",
        None,
        "approved",
    )


def test_another_affiliates_objects_answer_404():
    net = network()
    endpoint = PostbackEndpointFactory(affiliate=net.affiliate2)
    delivery = DeliveryFactory(endpoint=endpoint, status="failed")
    client = portal_client(net, "affiliate1")

    pages = [
        client.get(f"/portal/affiliate/links/{net.link2.pk}/"),
        client.get(f"/portal/affiliate/endpoints/{endpoint.pk}/"),
        client.post(f"/portal/affiliate/endpoints/{endpoint.pk}/delete/"),
        client.post(f"/portal/affiliate/endpoints/{endpoint.pk}/test/"),
        client.post(f"/portal/affiliate/deliveries/{delivery.pk}/replay/"),
    ]

    assert [page.status_code for page in pages] == [404] * 5
    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert endpoint.__class__.objects.filter(pk=endpoint.pk).exists()
