"""Decision traces of conversions and clicks: the winning rule and the rules it beat, the caps
with their counters, the window arithmetic, the history with its requests; scoped and redacted."""

import pytest
from django.test import Client

from campaigns.events import event_create
from campaigns.models import CapPeriod, CapScope
from campaigns.pricing_rules import pricing_rule_create
from campaigns.tests.factories import CapFactory
from tracker.explain import click_explain, conversion_explain
from tracker.models import Conversion
from tracker.tests.factories import postback_world


def _capped_world():
    world = postback_world()
    campaign = world.campaign()
    lead = event_create(
        campaign=campaign,
        data={"code": "lead", "name": "Lead", "payout_type": "fixed", "payout_amount": "1"},
    )
    everyone = pricing_rule_create(
        campaign=campaign, data={"event": "lead", "payout_type": "fixed", "payout_amount": "2"}
    )
    in_gb = pricing_rule_create(
        campaign=campaign,
        data={"event": "lead", "country": "GB", "payout_type": "fixed", "payout_amount": "3"},
    )
    for_affiliate = pricing_rule_create(
        campaign=campaign,
        data={"affiliate": world.affiliate.pk, "payout_type": "fixed", "payout_amount": "12"},
    )
    pricing_rule_create(  # another country: never a candidate
        campaign=campaign,
        data={"event": "lead", "country": "US", "payout_type": "fixed", "payout_amount": "9"},
    )
    cap = CapFactory(
        campaign=campaign, event=lead, scope=CapScope.CAMPAIGN, period=CapPeriod.DAY, limit=1
    )
    return world, campaign, cap, (for_affiliate, in_gb, everyone)


@pytest.mark.django_db
def test_a_rule_priced_conversion_capped_on_a_second_try_is_explained_exactly(net):
    world, _, cap, (for_affiliate, in_gb, everyone) = _capped_world()
    first, second = world.click(country="GB"), world.click(country="GB")
    client = Client()
    client.get(world.postback_path, {"click_id": first.click_id, "event": "lead"})
    client.get(world.postback_path, {"click_id": second.click_id, "event": "lead"})
    capped = Conversion.objects.get(click=second)

    trace = conversion_explain(viewer=net.admin, conversion_id=capped.pk)

    assert (trace["conversion"]["status"], trace["conversion"]["reason"]) == (
        "rejected",
        "cap_reached",
    )
    assert trace["pricing"]["priced_by"] == "pricing_rule"
    assert trace["pricing"]["pricing_rule_id"] == for_affiliate.pk
    assert [
        (c["id"], c["specificity"], c["won"], c["payout_amount"])
        for c in trace["pricing"]["candidates"]
    ] == [
        (for_affiliate.pk, 8, True, "12.0000"),
        (in_gb.pk, 6, False, "3.0000"),
        (everyone.pk, 4, False, "2.0000"),
    ]
    assert trace["caps"] == [
        {
            "cap_id": cap.pk,
            "event": "lead",
            "scope": "campaign",
            "period": "day",
            "metric": "conversions",
            "period_start": trace["caps"][0]["period_start"],
            "limit": "1.0000",
            "used": "1.0000",
            "is_reached": True,
        }
    ]
    assert trace["window"]["within_window"] is True
    assert [(h["from_status"], h["to_status"], h["source"]) for h in trace["history"]] == [
        ("", "rejected", "postback")
    ]
    assert trace["history"][0]["request"]["partner_params"] == {
        "click_id": second.click_id,
        "event": "lead",
    }


@pytest.mark.django_db
def test_the_affiliate_reads_its_payout_never_the_revenue_or_the_partners_parameters(net):
    world, _, _, _ = _capped_world()
    click = world.click(country="GB")
    Client().get(world.postback_path, {"click_id": click.click_id, "event": "lead"})
    conversion = Conversion.objects.get()

    trace = conversion_explain(viewer=world.affiliate.user, conversion_id=conversion.pk)

    assert trace["conversion"]["payout"] == "12.0000"
    assert "revenue" not in trace["conversion"]
    assert "margin" not in trace["conversion"]
    assert "partner_params" not in trace["history"][0]["request"]
    assert "default_revenue" not in trace["event"]


@pytest.mark.django_db
def test_the_advertiser_never_reads_the_affiliates_payout_of_a_conversion(net):
    world, _, _, _ = _capped_world()
    click = world.click(country="GB")
    Client().get(world.postback_path, {"click_id": click.click_id, "event": "lead"})
    conversion = Conversion.objects.get()

    trace = conversion_explain(viewer=world.advertiser.user, conversion_id=conversion.pk)

    assert "payout" not in trace["conversion"]
    assert "margin" not in trace["conversion"]
    assert trace["conversion"]["revenue"] == "0.0000"


@pytest.mark.django_db
def test_a_click_is_explained_with_its_checks_and_conversions(net):
    world, _, _, _ = _capped_world()
    click = world.click(country="GB")
    Client().get(world.postback_path, {"click_id": click.click_id, "event": "lead"})

    trace = click_explain(viewer=net.admin, click_id=click.click_id)

    assert trace["decision"] == {
        "went_to": "landing_page",
        "blocked_reason": "",
        "checks": {
            "campaign_status": "active",
            "allowed_countries": [],
            "country": "GB",
            "country_allowed": True,
            "targeting": {},
            "targeting_failed": None,
        },
        "fraud_signals": [],
        "fraud": [
            {
                "signal": "bot",
                "action": "allow",
                "detected": False,
                "recorded": False,
                "inputs": {"user_agent": "Mozilla/5.0 (test)", "device_type": ""},
            },
            {
                "signal": "deny_list",
                "action": "allow",
                "detected": False,
                "recorded": False,
                "inputs": {"ip": "203.0.113.10", "list": "deny"},
            },
            {
                "signal": "datacenter",
                "action": "allow",
                "detected": False,
                "recorded": False,
                "inputs": {"ip": "203.0.113.10", "list": "datacenter"},
            },
            {
                "signal": "click_velocity",
                "action": "allow",
                "detected": None,
                "recorded": False,
                "inputs": {"ip": "203.0.113.10", "per_minute_limit": 20},
            },
        ],
    }
    assert [(c["event"], c["status"]) for c in trace["conversions"]] == [("lead", "approved")]


@pytest.mark.django_db
def test_another_tenants_conversion_is_not_found_over_the_api(net):
    world, _, _, _ = _capped_world()
    click = world.click()
    Client().get(world.postback_path, {"click_id": click.click_id, "event": "lead"})
    conversion = Conversion.objects.get()

    response = net.client_as("affiliate1").get(f"/api/conversions/{conversion.pk}/explain")
    own = net.client_as("admin").get(f"/api/conversions/{conversion.pk}/explain")

    assert response.status_code == 404
    assert own.status_code == 200
    assert own.json()["pricing"]["pricing_rule_id"] is not None


@pytest.mark.django_db
def test_the_advertisers_conversion_page_and_the_console_show_the_trace(net):
    world, _, _, (for_affiliate, _, _) = _capped_world()
    click = world.click(country="GB")
    Client().get(world.postback_path, {"click_id": click.click_id, "event": "lead"})
    conversion = Conversion.objects.get()
    advertiser = Client()
    advertiser.force_login(world.advertiser.user)
    console = Client()
    console.force_login(net.admin)

    page = advertiser.get(f"/portal/advertiser/conversions/{conversion.pk}/")
    change_form = console.get(f"/admin/tracker/conversion/{conversion.pk}/change/")

    for response in (page, change_form):
        html = response.content.decode()
        assert response.status_code == 200
        assert f'<dd id="explanation-priced-by">pricing rule #{for_affiliate.pk}</dd>' in html
        assert "<td>#" in html
        assert "won" in html
        assert "beaten" in html
