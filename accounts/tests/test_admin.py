import pytest
from django.core import mail

from accounts.models import Affiliate, ApprovalStatus
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
