"""Campaign changes in the audit log: the same edit through the portal, the console and the API
gives one entry each, with its actor, its source and only the changed field."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from campaigns import services
from campaigns.models import Campaign, PayoutType
from campaigns.tests.factories import PartnerKeyFactory, network
from core.audit import MASK
from core.models import AuditEntry
from portal.forms import CampaignForm
from portal.tests.factories import portal_client

pytestmark = pytest.mark.django_db

PAYOUT_DIFF = {"payout_amount": ["1.0000", "2.0000"]}


def _fixed_campaign(net) -> Campaign:
    campaign = net.campaign1
    campaign.payout_type = PayoutType.FIXED
    campaign.payout_amount = Decimal("1.0000")
    campaign.save()
    return campaign


def _entries() -> list[tuple]:
    return list(
        AuditEntry.objects.order_by("id").values_list(
            "actor_id", "actor_email", "source", "action", "object_type", "object_id", "changes"
        )
    )


def _portal_post(campaign: Campaign, **changes) -> dict:
    initial = CampaignForm.initial_from(campaign)
    data = {name: "" if value is None else value for name, value in initial.items()}
    data = {name: value for name, value in data.items() if value is not False}
    return {**data, **changes}


def _admin_post(campaign: Campaign, **changes) -> dict:
    data = {
        "advertiser": campaign.advertiser_id,
        "name": campaign.name,
        "description": campaign.description,
        "landing_url": campaign.landing_url,
        "fallback_url": campaign.fallback_url,
        "currency": campaign.currency,
        "payout_type": campaign.payout_type,
        "payout_amount": str(campaign.payout_amount),
        "revshare_percent": str(campaign.revshare_percent),
        "default_revenue": str(campaign.default_revenue),
        "visibility": campaign.visibility,
        "external_offer_id": campaign.external_offer_id,
        "attribution_window_hours": str(campaign.attribution_window_hours),
        "hold_days": str(campaign.hold_days),
        "auto_approve_after_hours": "",
        "timezone": campaign.timezone,
        "allowed_countries": "[]",
        "min_seconds_to_convert": str(campaign.min_seconds_to_convert),
        "caps-TOTAL_FORMS": "0",
        "caps-INITIAL_FORMS": "0",
        "landing_pages-TOTAL_FORMS": "0",
        "landing_pages-INITIAL_FORMS": "0",
    }
    return {**data, **changes}


def test_a_payout_edit_in_the_portal_the_console_and_the_api_gives_three_entries():
    net = network()
    campaign = _fixed_campaign(net)
    advertiser_user = net.advertiser1.user
    admin = net.admin
    console = Client()
    console.force_login(admin)
    key = str(campaign.pk)

    portal = portal_client(net, "advertiser1").post(
        f"/portal/advertiser/campaigns/{campaign.pk}/", _portal_post(campaign, payout_amount="2")
    )
    after_portal = _entries()
    Campaign.objects.filter(pk=campaign.pk).update(payout_amount=Decimal("1.0000"))
    campaign.refresh_from_db()
    console_answer = console.post(
        reverse("admin:campaigns_campaign_change", args=[campaign.pk]),
        _admin_post(campaign, payout_amount="2"),
    )
    Campaign.objects.filter(pk=campaign.pk).update(payout_amount=Decimal("1.0000"))
    api = net.client_as("admin").patch(
        f"/api/campaigns/{campaign.pk}", {"payout_amount": "2"}, format="json"
    )

    assert (portal.status_code, console_answer.status_code, api.status_code) == (302, 302, 200)
    assert after_portal == [
        (
            advertiser_user.pk,
            advertiser_user.email,
            "portal",
            "update",
            "campaigns.campaign",
            key,
            PAYOUT_DIFF,
        )
    ]
    assert _entries() == [
        *after_portal,
        (admin.pk, admin.email, "console", "update", "campaigns.campaign", key, PAYOUT_DIFF),
        (admin.pk, admin.email, "api", "update", "campaigns.campaign", key, PAYOUT_DIFF),
    ]


def test_an_edit_that_changes_nothing_writes_no_entry():
    net = network()
    campaign = _fixed_campaign(net)

    services.campaign_update(campaign=campaign, data={"payout_amount": "1.0"})

    assert _entries() == []


def test_a_rejected_edit_writes_no_entry():
    net = network()
    campaign = _fixed_campaign(net)

    response = net.client_as("advertiser1").patch(
        f"/api/campaigns/{campaign.pk}",
        {"payout_amount": "2", "landing_url": "https://x.example/?c={nope}"},
        format="json",
    )

    assert response.status_code == 400
    assert _entries() == []


def test_pause_caps_and_defaults_without_a_caller_are_system_entries():
    net = network()
    campaign = _fixed_campaign(net)

    services.campaign_set_status(campaign=campaign, status="paused", actor=None)
    services.campaign_update(campaign=campaign, data={"caps": [{"period": "day", "limit": "5"}]})

    assert _entries() == [
        (
            None,
            "",
            "system",
            "pause",
            "campaigns.campaign",
            str(campaign.pk),
            {"status": ["active", "paused"]},
        ),
        (
            None,
            "",
            "system",
            "update",
            "campaigns.campaign",
            str(campaign.pk),
            {
                "caps": [
                    [],
                    [
                        {
                            "scope": "campaign",
                            "period": "day",
                            "metric": "conversions",
                            "limit": "5.0000",
                            "action": "reject",
                        }
                    ],
                ]
            },
        ),
    ]


def test_a_partner_key_rotation_is_logged_with_its_secrets_masked():
    net = network()
    partner_key = PartnerKeyFactory(advertiser=net.advertiser1)
    old_key = partner_key.key

    response = net.client_as("advertiser1").post(f"/api/partner-keys/{partner_key.pk}/rotate")

    assert response.status_code == 200
    entry = AuditEntry.objects.get()
    assert (entry.source, entry.action, entry.object_type) == (
        "api",
        "rotate",
        "campaigns.partnerkey",
    )
    assert entry.changes == {"key": [MASK, MASK], "signing_secret": [MASK, MASK]}
    assert old_key not in str(entry.changes)


def test_event_changes_through_the_api_are_logged_with_actor_source_and_diff():
    net = network()
    client = net.client_as("advertiser1")
    user = net.advertiser1.user

    created = client.post(
        f"/api/campaigns/{net.campaign1.pk}/events",
        {"code": "lead", "name": "Lead", "payout_type": "fixed", "payout_amount": "1.5"},
        format="json",
    )
    event_id = created.json()["id"]
    changed = client.patch(f"/api/events/{event_id}", {"payout_amount": "2"}, format="json")
    deleted = client.delete(f"/api/events/{event_id}")

    assert (created.status_code, changed.status_code, deleted.status_code) == (201, 200, 204)
    created_fields = {
        "code": [None, "lead"],
        "name": [None, "Lead"],
        "payout_type": [None, "fixed"],
        "payout_amount": [None, "1.5000"],
        "revshare_percent": [None, "0.0000"],
        "default_revenue": [None, "0.0000"],
        "allow_multiple": [None, False],
        "initial_status": [None, "approved"],
    }
    key = str(event_id)
    assert _entries() == [
        (user.pk, user.email, "api", "create", "campaigns.conversionevent", key, created_fields),
        (
            user.pk,
            user.email,
            "api",
            "update",
            "campaigns.conversionevent",
            key,
            {"payout_amount": ["1.5000", "2.0000"]},
        ),
        (
            user.pk,
            user.email,
            "api",
            "delete",
            "campaigns.conversionevent",
            key,
            {
                name: [after, None]
                for name, (_, after) in {
                    **created_fields,
                    "payout_amount": [None, "2.0000"],
                }.items()
            },
        ),
    ]


def test_pricing_rule_changes_are_logged_from_the_api_and_the_import():
    net = network()
    client = net.client_as("admin")
    admin = net.admin

    created = client.post(
        f"/api/campaigns/{net.campaign1.pk}/pricing-rules",
        {"affiliate": net.affiliate1.pk, "payout_type": "fixed", "payout_amount": "3"},
        format="json",
    )
    rule_id = created.json()["id"]
    imported = client.post(
        f"/api/campaigns/{net.campaign1.pk}/pricing-rules/import",
        f"id,payout_type,payout_amount\n{rule_id},fixed,4\n".encode(),
        content_type="text/csv",
    )

    assert (created.status_code, imported.status_code) == (201, 200)
    entries = _entries()
    assert [entry[:6] for entry in entries] == [
        (admin.pk, admin.email, "api", "create", "campaigns.pricingrule", str(rule_id)),
        (admin.pk, admin.email, "api", "update", "campaigns.pricingrule", str(rule_id)),
    ]
    assert entries[0][6]["affiliate"] == [None, net.affiliate1.pk]
    assert entries[1][6] == {"payout_amount": ["3.0000", "4.0000"]}
