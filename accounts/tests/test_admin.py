import pytest
from django.core import mail
from django.utils import timezone

from accounts.api_keys import api_key_create
from accounts.models import Affiliate, ApiKey, ApprovalStatus
from accounts.tests.factories import AdminUserFactory, AdvertiserFactory, AffiliateFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("mark_approved", ApprovalStatus.APPROVED),
        ("mark_rejected", ApprovalStatus.REJECTED),
    ],
)
def test_admin_action_decides_pending_affiliates(client, action, expected):
    admin = AdminUserFactory()
    pending = AffiliateFactory(status=ApprovalStatus.PENDING)
    client.force_login(admin)

    response = client.post(
        "/admin/accounts/affiliate/",
        {"action": action, "_selected_action": [pending.pk], "confirm": "yes"},
        follow=True,
    )

    pending.refresh_from_db()
    assert response.status_code == 200
    assert pending.status == expected
    assert pending.status_changed_by == admin


def test_admin_suspends_an_approved_advertiser(client):
    admin = AdminUserFactory()
    advertiser = AdvertiserFactory(status=ApprovalStatus.APPROVED)
    client.force_login(admin)

    client.post(
        "/admin/accounts/advertiser/",
        {"action": "mark_suspended", "_selected_action": [advertiser.pk], "confirm": "yes"},
    )

    advertiser.refresh_from_db()
    assert advertiser.status == ApprovalStatus.SUSPENDED


def test_admin_changelists_render(client):
    client.force_login(AdminUserFactory())
    AffiliateFactory()
    AdvertiserFactory()

    for url in [
        "/admin/",
        "/admin/accounts/user/",
        "/admin/accounts/affiliate/",
        "/admin/accounts/advertiser/",
    ]:
        assert client.get(url).status_code == 200, url
    assert mail.outbox == []
    assert Affiliate.objects.count() == 1


def test_console_lists_api_keys_without_their_secret_and_revokes_them(client):
    issued = api_key_create(user=AffiliateFactory().user, name="Script", now=timezone.now())
    row = issued.api_key
    client.force_login(AdminUserFactory())

    listed = client.get("/admin/accounts/apikey/?scope__exact=read&revoked__exact=0")
    page = client.get(f"/admin/accounts/apikey/{row.pk}/change/")
    add = client.get("/admin/accounts/apikey/add/")
    asked = client.post(
        "/admin/accounts/apikey/", {"action": "revoke_api_keys", "_selected_action": [row.pk]}
    )
    revoked = client.post(
        "/admin/accounts/apikey/",
        {"action": "revoke_api_keys", "_selected_action": [row.pk], "confirm": "yes"},
        follow=True,
    )

    secret = issued.key.partition(".")[2]
    assert (listed.status_code, page.status_code, add.status_code) == (200, 200, 403)
    for response in (listed, page):
        html = response.content.decode()
        assert row.prefix in html
        assert secret not in html
        assert row.hashed_key not in html
    assert "Revoke 1 API key?" in asked.content.decode()
    assert ApiKey.objects.get().revoked is True
    assert "Revoked 1 API key(s)." in revoked.content.decode()
