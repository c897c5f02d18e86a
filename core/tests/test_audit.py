"""The audit log: values as stored, diffs of changed fields only, secrets masked, the source of
an API request, and the console's read-only pages."""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.urls import reverse

from accounts.tests.factories import AdminUserFactory
from campaigns.models import PartnerKey
from campaigns.tests.factories import CampaignFactory, PartnerKeyFactory
from core.audit import (
    MASK,
    audit_diff,
    audit_record,
    audit_snapshot,
    audit_source_for_request,
    audit_value,
)
from core.models import AuditEntry, AuditSource

pytestmark = pytest.mark.django_db


def test_values_are_json_with_amounts_as_strings_and_rows_as_ids():
    campaign = CampaignFactory()
    moment = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)

    assert audit_value(Decimal("2.5000")) == "2.5000"
    assert audit_value(moment) == "2026-01-02T03:04:05+00:00"
    assert audit_value(campaign) == campaign.pk
    assert audit_value({"a": [Decimal(1), None]}) == {"a": ["1", None]}


def test_snapshot_reads_foreign_keys_by_id_and_decimals_with_the_columns_places():
    campaign = CampaignFactory(payout_amount=Decimal(3))

    assert audit_snapshot(campaign, ["advertiser", "payout_amount"]) == {
        "advertiser": campaign.advertiser_id,
        "payout_amount": "3.0000",
    }


def test_diff_keeps_changed_fields_only_and_masks_secrets():
    partner_key = PartnerKeyFactory()
    before = audit_snapshot(partner_key, ["name", "signing_secret", "is_active"])
    partner_key.name = "renamed"
    partner_key.signing_secret = "new-secret-value"

    changes = audit_diff(
        before, audit_snapshot(partner_key, ["name", "signing_secret", "is_active"])
    )

    assert changes == {"name": [before["name"], "renamed"], "signing_secret": [MASK, MASK]}
    assert "new-secret-value" not in str(changes)


def test_record_copies_the_actor_and_skips_an_update_that_changed_nothing():
    admin = AdminUserFactory()

    entry = audit_record(
        actor=admin,
        source=AuditSource.CONSOLE,
        action="approve",
        obj_type=PartnerKey,
        obj_id=7,
        obj_repr="key #7",
        before={"status": "pending"},
        after={"status": "approved"},
    )
    nothing = audit_record(
        actor=admin,
        source=AuditSource.CONSOLE,
        action="update",
        obj_type="campaigns.campaign",
        obj_id=1,
        before={"name": "a"},
        after={"name": "a"},
    )

    assert nothing is None
    assert entry is not None
    assert list(
        AuditEntry.objects.values_list(
            "actor_id", "actor_email", "source", "action", "object_type", "object_id", "changes"
        )
    ) == [
        (
            admin.pk,
            admin.email,
            "console",
            "approve",
            "campaigns.partnerkey",
            "7",
            {"status": ["pending", "approved"]},
        )
    ]


def test_record_refuses_an_unknown_source():
    with pytest.raises(ValueError, match="unknown audit source 'web'"):
        audit_record(actor=None, source="web", action="create", obj_type="x.y", obj_id=1)


def test_source_of_an_api_request_is_api_key_when_a_stored_key_authenticated_it():
    key_row = PartnerKeyFactory()  # any row: what an API key authentication leaves in `auth`

    assert audit_source_for_request(SimpleNamespace(auth=key_row)) == "api_key"
    assert audit_source_for_request(SimpleNamespace(auth={"token_type": "access"})) == "api"
    assert audit_source_for_request(SimpleNamespace(auth=None)) == "api"


def test_console_lists_filters_and_shows_an_entry_read_only(client):
    admin = AdminUserFactory()
    client.force_login(admin)
    entry = audit_record(
        actor=admin,
        source=AuditSource.PORTAL,
        action="update",
        obj_type="campaigns.campaign",
        obj_id=3,
        obj_repr="Spring <sale>",
        before={"payout_amount": "1.0000"},
        after={"payout_amount": "2.0000"},
    )
    audit_record(
        actor=None,
        source=AuditSource.SYSTEM,
        action="pause",
        obj_type="campaigns.campaign",
        obj_id=4,
        before={"status": "active"},
        after={"status": "paused"},
    )
    assert entry is not None
    changelist = reverse("admin:core_auditentry_changelist")

    filtered = client.get(changelist, {"source__exact": "portal", "q": "spring"})
    by_actor = client.get(changelist, {"actor_email": admin.email})
    page = client.get(reverse("admin:core_auditentry_change", args=[entry.pk]))
    add = client.get(reverse("admin:core_auditentry_add"))

    assert [row.pk for row in filtered.context["cl"].result_list] == [entry.pk]
    assert [row.pk for row in by_actor.context["cl"].result_list] == [entry.pk]
    html = page.content.decode()
    assert "<th>payout_amount</th><td><code>1.0000</code></td><td><code>2.0000</code></td>" in html
    assert "Spring &lt;sale&gt;" in html
    assert 'name="_save"' not in html
    assert add.status_code == 403
