"""The fraud policy's shape and its validation, through the campaign services and the API."""

import pytest

from campaigns import services
from campaigns.fraud_policy import FraudPolicyError, fraud_policy_clean
from campaigns.tests.factories import network
from core.exceptions import ApplicationError
from core.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_clean_normalizes_drops_allowed_signals_and_fills_default_thresholds():
    policy = fraud_policy_clean(
        {
            "actions": {"too_fast": "reject", "bot": "block", "datacenter": "allow"},
            "click_velocity_per_minute": "30",
        }
    )

    assert policy == {
        "actions": {"bot": "block", "too_fast": "reject"},
        "click_velocity_per_minute": 30,
        "conversion_velocity_per_day": 5,
        "alert_fraud_rejections_per_hour": 1,
    }


@pytest.mark.parametrize(
    "raw",
    [None, {}, {"actions": {}}, {"actions": {"bot": "allow"}, "click_velocity_per_minute": 9}],
)
def test_a_policy_that_does_nothing_is_stored_empty(raw):
    assert fraud_policy_clean(raw) == {}


def test_clean_names_every_bad_key():
    with pytest.raises(FraudPolicyError) as raised:
        fraud_policy_clean(
            {
                "actions": {
                    "bot": "reject",
                    "too_fast": "block",
                    "captcha": "flag",
                    "ip_mismatch": "hold",
                },
                "click_velocity_per_minute": 0,
                "conversion_velocity_per_day": True,
                "velocity": 3,
            }
        )

    assert raised.value.problems == {
        "velocity": (
            "unknown key; use actions, alert_fraud_rejections_per_hour, "
            "click_velocity_per_minute, conversion_velocity_per_day"
        ),
        "actions.bot": "'reject' is not an action for a click signal; choose allow, flag, block",
        "actions.too_fast": (
            "'block' is not an action for a conversion signal; choose allow, flag, hold, reject"
        ),
        "actions.captcha": (
            "unknown signal; use bot, deny_list, datacenter, click_velocity, too_fast, "
            "ip_mismatch, conversion_velocity"
        ),
        "click_velocity_per_minute": "must be between 1 and 2147483647",
        "conversion_velocity_per_day": "must be a whole number",
    }


@pytest.mark.parametrize("raw", [[], "block", 3])
def test_clean_refuses_what_is_not_an_object(raw):
    with pytest.raises(FraudPolicyError) as raised:
        fraud_policy_clean(raw)

    assert raised.value.problems == {"fraud_policy": "must be an object"}


def test_campaign_update_refuses_a_bad_policy_with_its_code_and_field():
    net = network()

    with pytest.raises(ApplicationError) as raised:
        services.campaign_update(
            campaign=net.campaign1, data={"fraud_policy": {"actions": {"bot": "hold"}}}
        )

    assert raised.value.code == "invalid_fraud_policy"
    assert raised.value.fields == {
        "fraud_policy": [
            "actions.bot: 'hold' is not an action for a click signal; choose allow, flag, block"
        ]
    }


def test_campaign_update_stores_the_policy_and_audits_it():
    net = network()

    campaign = services.campaign_update(
        campaign=net.campaign1,
        data={"fraud_policy": {"actions": {"bot": "flag"}}, "min_seconds_to_convert": 30},
    )

    assert campaign.fraud_policy["actions"] == {"bot": "flag"}
    assert campaign.min_seconds_to_convert == 30
    entry = AuditEntry.objects.get(action="update")
    assert entry.changes["min_seconds_to_convert"] == [0, 30]
    assert entry.changes["fraud_policy"][1]["actions"] == {"bot": "flag"}


def test_the_api_reads_and_writes_the_policy(api_client):
    net = network()
    api_client.force_authenticate(net.advertiser1.user)
    url = f"/api/campaigns/{net.campaign1.pk}"

    bad = api_client.patch(
        url, {"fraud_policy": {"actions": {"ip_mismatch": "block"}}}, format="json"
    )
    bad_seconds = api_client.patch(url, {"min_seconds_to_convert": -1}, format="json")
    good = api_client.patch(
        url,
        {"fraud_policy": {"actions": {"ip_mismatch": "reject"}}, "min_seconds_to_convert": 10},
        format="json",
    )

    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_fraud_policy"
    assert bad.json()["fields"] == {
        "fraud_policy": [
            "actions.ip_mismatch: 'block' is not an action for a conversion signal; "
            "choose allow, flag, hold, reject"
        ]
    }
    assert bad_seconds.status_code == 400
    assert good.status_code == 200
    assert good.json()["fraud_policy"] == {
        "actions": {"ip_mismatch": "reject"},
        "click_velocity_per_minute": 20,
        "conversion_velocity_per_day": 5,
        "alert_fraud_rejections_per_hour": 1,
    }
    assert good.json()["min_seconds_to_convert"] == 10


def test_the_shorthand_with_signals_at_the_top_level_is_accepted():
    assert fraud_policy_clean(
        {"bot": "block", "too_fast": "reject", "click_velocity_per_minute": 9}
    ) == {
        "actions": {"bot": "block", "too_fast": "reject"},
        "click_velocity_per_minute": 9,
        "conversion_velocity_per_day": 5,
        "alert_fraud_rejections_per_hour": 1,
    }
