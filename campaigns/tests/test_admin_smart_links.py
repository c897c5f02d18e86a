"""The console's smart links: listed with their entries, switched off and on (audited), never
added or deleted there."""

import pytest
from django.urls import reverse

from accounts.tests.factories import AdminUserFactory, AffiliateFactory
from campaigns.smart_links import smart_link_create
from campaigns.tests.factories import CampaignFactory
from core.models import AuditEntry, AuditSource

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(AdminUserFactory())
    return client


@pytest.fixture
def smart_link():
    campaign = CampaignFactory(name="Summer sale")
    return smart_link_create(
        affiliate=AffiliateFactory(),
        name="Rotation",
        entries=[{"campaign": campaign.pk, "priority": 2, "weight": 40}],
    )


def test_the_list_and_the_page_show_the_link_and_its_entries(admin_client, smart_link):
    listed = admin_client.get(reverse("admin:campaigns_smartlink_changelist"))
    page = admin_client.get(reverse("admin:campaigns_smartlink_change", args=[smart_link.pk]))

    assert listed.status_code == 200
    assert f"/s/{smart_link.token}" in listed.content.decode()
    assert page.status_code == 200
    html = page.content.decode()
    assert "Summer sale" in html
    assert 'name="is_active"' in html
    assert 'name="name"' not in html  # the affiliate's to change


def test_switching_off_in_the_console_is_audited(admin_client, smart_link):
    response = admin_client.post(
        reverse("admin:campaigns_smartlink_change", args=[smart_link.pk]),
        {
            "entries-TOTAL_FORMS": "1",
            "entries-INITIAL_FORMS": "1",
            "entries-MIN_NUM_FORMS": "0",
            "entries-MAX_NUM_FORMS": "1000",
            "entries-0-id": str(smart_link.entries.get().pk),
            "entries-0-smart_link": str(smart_link.pk),
        },
    )

    assert response.status_code == 302
    smart_link.refresh_from_db()
    assert smart_link.is_active is False
    entry = AuditEntry.objects.get(action="update")
    assert (entry.source, entry.changes) == (AuditSource.CONSOLE, {"is_active": [True, False]})


def test_no_add_or_delete_in_the_console(admin_client, smart_link):
    add = admin_client.get(reverse("admin:campaigns_smartlink_add"))
    delete = admin_client.get(reverse("admin:campaigns_smartlink_delete", args=[smart_link.pk]))

    assert (add.status_code, delete.status_code) == (403, 403)
