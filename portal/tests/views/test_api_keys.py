import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from accounts.api_keys import api_key_create
from accounts.models import ApiKey
from accounts.tests.factories import AdvertiserFactory, AffiliateFactory

pytestmark = pytest.mark.django_db


def _logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("portal", "factory"), [("affiliate", AffiliateFactory), ("advertiser", AdvertiserFactory)]
)
def test_create_shows_the_key_once(portal, factory):
    user = factory().user
    client = _logged_in(user)

    created = client.post(
        f"/portal/{portal}/api-keys/",
        {
            "name": "Nightly export",
            "scope": "write",
            "expires_on": "2099-12-31",
            "ip_allowlist": "198.51.100.0/24\n203.0.113.7",
        },
    )
    listed = client.get(f"/portal/{portal}/api-keys/")

    row = ApiKey.objects.get()
    key = created.context["key"]
    assert created.status_code == 200
    assert created["Cache-Control"] == "no-store"
    assert key.startswith(row.prefix + ".")
    assert key in created.content.decode()
    assert (row.user_id, row.name, row.scope, row.ip_allowlist, row.expiry_date) == (
        user.pk,
        "Nightly export",
        "write",
        ["198.51.100.0/24", "203.0.113.7"],
        dt.datetime(2100, 1, 1, tzinfo=dt.UTC),
    )
    html = listed.content.decode()
    assert listed.status_code == 200
    assert f"{row.prefix}…" in html
    assert "Nightly export" in html
    assert "Read and write" in html
    assert "2100-01-01 00:00 UTC" in html
    assert key.partition(".")[2] not in html
    assert f'href="/portal/{portal}/api-keys/" aria-current="page">API keys<' in html


def test_form_errors_re_render_the_page():
    client = _logged_in(AffiliateFactory().user)

    response = client.post(
        "/portal/affiliate/api-keys/",
        {"name": "Bad", "scope": "read", "ip_allowlist": "not-an-ip"},
    )

    assert response.status_code == 200
    assert "&#x27;not-an-ip&#x27; is not an IP address or CIDR range." in response.content.decode()
    assert ApiKey.objects.count() == 0


def test_only_the_owner_sees_and_revokes_its_keys():
    owner, other = AffiliateFactory(), AffiliateFactory()
    mine = api_key_create(user=owner.user, name="Mine", now=timezone.now()).api_key
    theirs = api_key_create(user=other.user, name="Theirs", now=timezone.now()).api_key
    client = _logged_in(owner.user)

    listed = client.get("/portal/affiliate/api-keys/").content.decode()
    foreign = client.post(f"/portal/affiliate/api-keys/{theirs.pk}/revoke/")
    revoked = client.post(f"/portal/affiliate/api-keys/{mine.pk}/revoke/", follow=True)

    assert ("Mine" in listed, "Theirs" in listed) == (True, False)
    assert foreign.status_code == 404
    assert revoked.redirect_chain == [("/portal/affiliate/api-keys/", 302)]
    assert f"API key “Mine” ({mine.prefix}…) revoked." in revoked.content.decode()
    assert 'badge-revoked">revoked<' in revoked.content.decode()
    assert list(ApiKey.objects.order_by("pk").values_list("revoked", flat=True)) == [True, False]
