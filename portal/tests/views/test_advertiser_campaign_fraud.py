"""The campaign editor's fraud section: shown with the stored policy, saved through the campaign
services (and their audit log)."""

import pytest

from campaigns.models import Campaign
from campaigns.tests.factories import network
from core.models import AuditEntry
from portal.tests.factories import portal_client
from portal.tests.views.test_advertiser import CAMPAIGN_POST

pytestmark = pytest.mark.django_db


def test_the_editor_saves_the_fraud_policy_and_the_minimum_time_to_convert():
    net = network()
    client = portal_client(net, "advertiser1")

    response = client.post(
        f"/portal/advertiser/campaigns/{net.campaign1.pk}/",
        {
            **CAMPAIGN_POST,
            "fraud_bot": "block",
            "fraud_deny_list": "flag",
            "fraud_datacenter": "allow",
            "fraud_click_velocity": "flag",
            "fraud_too_fast": "reject",
            "fraud_ip_mismatch": "hold",
            "fraud_conversion_velocity": "",
            "click_velocity_per_minute": "30",
            "conversion_velocity_per_day": "",
            "alert_fraud_rejections_per_hour": "3",
            "min_seconds_to_convert": "45",
        },
    )

    campaign = Campaign.objects.get(pk=net.campaign1.pk)
    assert response.status_code == 302
    assert campaign.fraud_policy == {
        "actions": {
            "bot": "block",
            "click_velocity": "flag",
            "deny_list": "flag",
            "ip_mismatch": "hold",
            "too_fast": "reject",
        },
        "click_velocity_per_minute": 30,
        "conversion_velocity_per_day": 5,
        "alert_fraud_rejections_per_hour": 3,
    }
    assert campaign.min_seconds_to_convert == 45
    entry = AuditEntry.objects.filter(object_id=str(campaign.pk), action="update").get()
    assert entry.changes["min_seconds_to_convert"] == [0, 45]
    assert entry.changes["fraud_policy"][0] == {}

    page = client.get(f"/portal/advertiser/campaigns/{campaign.pk}/")

    initial = page.context["form"].initial
    assert (initial["fraud_bot"], initial["fraud_datacenter"], initial["fraud_too_fast"]) == (
        "block",
        "allow",
        "reject",
    )
    assert (initial["click_velocity_per_minute"], initial["min_seconds_to_convert"]) == (30, 45)
    html = page.content.decode()
    assert "<legend>Fraud</legend>" in html
    assert '<option value="hold" selected>Hold the conversion (pending)</option>' in html


def test_a_click_signal_cannot_take_a_conversion_action_in_the_editor():
    net = network()

    response = portal_client(net, "advertiser1").post(
        f"/portal/advertiser/campaigns/{net.campaign1.pk}/",
        {**CAMPAIGN_POST, "fraud_bot": "reject", "click_velocity_per_minute": "0"},
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["fraud_bot"] == [
        "Select a valid choice. reject is not one of the available choices."
    ]
    assert errors["click_velocity_per_minute"] == [
        "Ensure this value is greater than or equal to 1."
    ]
    assert Campaign.objects.get(pk=net.campaign1.pk).fraud_policy == {}
