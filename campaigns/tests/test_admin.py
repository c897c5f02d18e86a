import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApprovalStatus
from accounts.tests.factories import AdminUserFactory, AdvertiserFactory, AffiliateFactory
from campaigns.models import (
    AccessStatus,
    Campaign,
    CampaignAccess,
    CampaignStatus,
    Cap,
    ConversionEvent,
    PartnerKey,
    PricingRule,
    TrackingLink,
    Visibility,
)
from campaigns.tests.factories import (
    CampaignAccessFactory,
    CampaignFactory,
    CapFactory,
    ConversionEventFactory,
    PartnerKeyFactory,
    PricingRuleFactory,
    TrackingLinkFactory,
)

pytestmark = pytest.mark.django_db

CONFIRM = {"confirm": "yes"}  # the answer of the confirmation page every action shows first


@pytest.fixture
def admin_user():
    return AdminUserFactory()


@pytest.fixture
def client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def objects():
    campaign = CampaignFactory(name="Summer")
    CapFactory(campaign=campaign)
    link = TrackingLinkFactory(campaign=campaign)
    return {
        Campaign: campaign,
        CampaignAccess: CampaignAccess.objects.get(campaign=campaign),
        TrackingLink: link,
        PartnerKey: PartnerKeyFactory(advertiser=campaign.advertiser),
    }


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:campaigns_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("model", [Campaign, CampaignAccess, TrackingLink, PartnerKey])
def test_changelist_and_change_page_render(client, objects, model):
    changelist = client.get(_url(model, "changelist"))
    searched = client.get(_url(model, "changelist"), {"q": "summer"})
    change = client.get(_url(model, "change", objects[model].pk))

    assert changelist.status_code == 200
    assert searched.status_code == 200
    assert change.status_code == 200


def test_campaign_changelist_filters_render(client, objects):
    response = client.get(
        _url(Campaign, "changelist"),
        {
            "status__exact": "active",
            "visibility__exact": "public",
            "payout_type__exact": "revshare",
        },
    )

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [objects[Campaign]]


def test_tracking_link_admin_shows_the_full_url(client, objects, settings):
    settings.PUBLIC_BASE_URL = "https://track.example"
    link = objects[TrackingLink]

    response = client.get(_url(TrackingLink, "changelist"))

    assert f"https://track.example/c/{link.token}" in response.content.decode()


def test_partner_key_admin_shows_the_key_read_only(client, objects):
    partner_key = objects[PartnerKey]

    response = client.get(_url(PartnerKey, "change", partner_key.pk))

    body = response.content.decode()
    assert partner_key.key in body
    assert 'name="key"' not in body


def test_campaign_add_form_refuses_what_the_api_refuses(client):
    advertiser = AdvertiserFactory()
    data = {
        "advertiser": advertiser.pk,
        "name": "From admin",
        "landing_url": "https://adv.example/?c={clik_id}",
        "fallback_url": "",
        "currency": "USD",
        "payout_type": "fixed",
        "payout_amount": "1.5",
        "revshare_percent": "0",
        "default_revenue": "0",
        "visibility": "public",
        "attribution_window_hours": "720",
        "hold_days": "0",
        "timezone": "UTC",
        "allowed_countries": "[]",
        "min_seconds_to_convert": "0",
        "caps-TOTAL_FORMS": "0",
        "caps-INITIAL_FORMS": "0",
        "landing_pages-TOTAL_FORMS": "0",
        "landing_pages-INITIAL_FORMS": "0",
    }

    refused = client.post(_url(Campaign, "add"), data)
    accepted = client.post(
        _url(Campaign, "add"), {**data, "landing_url": "https://adv.example/?c={click_id}"}
    )

    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors == {
        "landing_url": ["Unknown macro(s): {clik_id}."]
    }
    assert accepted.status_code == 302
    campaign = Campaign.objects.get()
    assert (campaign.name, campaign.payout_amount) == ("From admin", Decimal("1.5000"))


def test_campaign_add_form_validates_and_normalizes_the_fraud_policy(client):
    advertiser = AdvertiserFactory()
    data = {
        "advertiser": advertiser.pk,
        "name": "From admin",
        "landing_url": "https://adv.example/?c={click_id}",
        "fallback_url": "",
        "currency": "USD",
        "payout_type": "fixed",
        "payout_amount": "1.5",
        "revshare_percent": "0",
        "default_revenue": "0",
        "visibility": "public",
        "attribution_window_hours": "720",
        "hold_days": "0",
        "timezone": "UTC",
        "allowed_countries": "[]",
        "min_seconds_to_convert": "30",
        "caps-TOTAL_FORMS": "0",
        "caps-INITIAL_FORMS": "0",
        "landing_pages-TOTAL_FORMS": "0",
        "landing_pages-INITIAL_FORMS": "0",
    }

    refused = client.post(
        _url(Campaign, "add"), {**data, "fraud_policy": '{"actions": {"bot": "reject"}}'}
    )
    accepted = client.post(
        _url(Campaign, "add"),
        {**data, "fraud_policy": '{"actions": {"bot": "block", "datacenter": "allow"}}'},
    )

    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors == {
        "fraud_policy": [
            "actions.bot: 'reject' is not an action for a click signal; choose allow, flag, block"
        ]
    }
    assert accepted.status_code == 302
    campaign = Campaign.objects.get()
    assert campaign.min_seconds_to_convert == 30
    assert campaign.fraud_policy == {
        "actions": {"bot": "block"},
        "click_velocity_per_minute": 20,
        "conversion_velocity_per_day": 5,
        "alert_fraud_rejections_per_hour": 1,
    }


def test_campaign_add_form_reads_amounts_and_cap_limits_as_plain_decimals_only(client):
    advertiser = AdvertiserFactory()
    data = {
        "advertiser": advertiser.pk,
        "name": "From admin",
        "landing_url": "https://adv.example/?c={click_id}",
        "fallback_url": "",
        "currency": "USD",
        "payout_type": "fixed",
        "payout_amount": "1E+2",
        "revshare_percent": "-0",
        "default_revenue": "1_000",
        "visibility": "public",
        "attribution_window_hours": "720",
        "hold_days": "0",
        "timezone": "UTC",
        "allowed_countries": "[]",
        "min_seconds_to_convert": "0",
        "caps-TOTAL_FORMS": "1",
        "caps-INITIAL_FORMS": "0",
        "landing_pages-TOTAL_FORMS": "0",
        "landing_pages-INITIAL_FORMS": "0",
        "caps-0-scope": "campaign",
        "caps-0-period": "day",
        "caps-0-metric": "conversions",
        "caps-0-limit": "\u0661\u0660",
        "caps-0-action": "reject",
    }

    refused = client.post(_url(Campaign, "add"), data)

    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors == {
        "payout_amount": ["Enter a plain decimal such as 12.50 (not a decimal)."],
        "revshare_percent": ["Enter a plain decimal such as 12.50 (negative)."],
        "default_revenue": ["Enter a plain decimal such as 12.50 (not a decimal)."],
    }
    assert refused.context["inline_admin_formsets"][0].formset.errors == [
        {"limit": ["Enter a plain decimal such as 12.50 (not a decimal)."]}
    ]
    assert not Campaign.objects.exists()


def test_campaign_actions_pause_resume_and_archive_through_the_service(client):
    first, second = CampaignFactory(), CampaignFactory(status=CampaignStatus.ARCHIVED)
    url = _url(Campaign, "changelist")

    paused = client.post(url, {"action": "set_paused", "_selected_action": [first.pk], **CONFIRM})
    first.refresh_from_db()
    status_after_pause = first.status
    client.post(url, {"action": "set_active", "_selected_action": [first.pk, second.pk], **CONFIRM})
    first.refresh_from_db()
    second.refresh_from_db()
    status_after_resume = (first.status, second.status)
    client.post(url, {"action": "set_archived", "_selected_action": [first.pk], **CONFIRM})
    first.refresh_from_db()

    assert paused.status_code == 302
    assert status_after_pause == CampaignStatus.PAUSED
    assert status_after_resume == (CampaignStatus.ACTIVE, CampaignStatus.ARCHIVED)
    assert first.status == CampaignStatus.ARCHIVED


def test_access_actions_approve_reject_and_revoke(
    client, admin_user, django_capture_on_commit_callbacks
):
    pending = CampaignAccessFactory(status=AccessStatus.PENDING)
    other = CampaignAccessFactory(status=AccessStatus.PENDING)
    url = _url(CampaignAccess, "changelist")

    with django_capture_on_commit_callbacks() as callbacks:
        client.post(url, {"action": "mark_approved", "_selected_action": [pending.pk], **CONFIRM})
        client.post(url, {"action": "mark_rejected", "_selected_action": [other.pk], **CONFIRM})
        client.post(url, {"action": "mark_revoked", "_selected_action": [pending.pk], **CONFIRM})
        refused = client.post(
            url, {"action": "mark_revoked", "_selected_action": [other.pk], **CONFIRM}, follow=True
        )

    pending.refresh_from_db()
    other.refresh_from_db()
    assert (pending.status, pending.decided_by) == (AccessStatus.REVOKED, admin_user)
    assert other.status == AccessStatus.REJECTED
    assert len(callbacks) == 3
    messages = [str(message) for message in refused.context["messages"]]
    assert f"Application #{other.pk}: An application cannot go from rejected to revoked." in (
        messages
    )


def test_access_changelist_filters_by_status(client):
    pending = CampaignAccessFactory(status=AccessStatus.PENDING)
    CampaignAccessFactory(status=AccessStatus.APPROVED)

    response = client.get(_url(CampaignAccess, "changelist"), {"status__exact": "pending"})

    assert list(response.context["cl"].result_list) == [pending]


def test_partner_key_rotate_action_keeps_the_old_key_for_the_grace_period(client):
    partner_key = PartnerKeyFactory()
    old_key = partner_key.key

    response = client.post(
        _url(PartnerKey, "changelist"),
        {"action": "rotate_partner_keys", "_selected_action": [partner_key.pk], **CONFIRM},
    )

    partner_key.refresh_from_db()
    assert response.status_code == 302
    assert partner_key.previous_key == old_key
    assert partner_key.key != old_key
    assert partner_key.rotated_at is not None
    assert partner_key.previous_key_expires_at is not None


def test_invite_action_asks_which_affiliate_then_invites_it_to_each_campaign(
    client, admin_user, django_capture_on_commit_callbacks
):
    private = CampaignFactory(name="VIP", visibility=Visibility.PRIVATE)
    archived = CampaignFactory(status=CampaignStatus.ARCHIVED, visibility=Visibility.PRIVATE)
    joined = TrackingLinkFactory(campaign__visibility=Visibility.PRIVATE)
    affiliate = joined.affiliate
    AffiliateFactory(company="Still pending", status=ApprovalStatus.PENDING)
    url = _url(Campaign, "changelist")
    selection = {
        "action": "invite_affiliate",
        "_selected_action": [private.pk, archived.pk, joined.campaign_id],
    }

    with django_capture_on_commit_callbacks() as asked_callbacks:
        asked = client.post(url, selection)
    with django_capture_on_commit_callbacks() as blank_callbacks:
        blank = client.post(url, {**selection, **CONFIRM})
    with django_capture_on_commit_callbacks() as callbacks:
        done = client.post(url, {**selection, **CONFIRM, "affiliate": affiliate.pk}, follow=True)

    # The confirmation page lists the campaigns and offers only approved affiliates.
    html = asked.content.decode()
    assert asked.status_code == 200
    assert '<label for="id_affiliate" class="required">Affiliate:</label>' in html
    assert f"{affiliate} (#{affiliate.pk}, {affiliate.user.email})" in html
    assert "Still pending" not in html
    assert f"#{private.pk} VIP" in html
    # Confirming without an affiliate asks again and changes nothing.
    assert blank.status_code == 200
    assert blank.context["form"].errors == {"affiliate": ["This field is required."]}
    assert (asked_callbacks, blank_callbacks) == ([], [])
    # Then: invited where it had no access, unchanged where it had, refused where archived.
    access = CampaignAccess.objects.get(campaign=private, affiliate=affiliate)
    assert (access.status, access.invited_by) == (AccessStatus.APPROVED, admin_user)
    assert not CampaignAccess.objects.filter(campaign=archived).exists()
    assert len(callbacks) == 1
    assert [str(message) for message in done.context["messages"]] == [
        f"{archived}: An archived campaign cannot take new affiliates.",
        f"{affiliate} invited to 1 campaign(s); 1 already had its access.",
    ]


# --- conversion events and pricing rules ------------------------------------------------------


def _event_form(campaign, **changes) -> dict:
    data = {
        "campaign": campaign.pk,
        "code": "sale",
        "name": "Sale",
        "payout_type": "fixed",
        "payout_amount": "4",
        "revshare_percent": "0",
        "default_revenue": "10",
        "initial_status": "approved",
        "caps-TOTAL_FORMS": "1",
        "caps-INITIAL_FORMS": "0",
        "landing_pages-TOTAL_FORMS": "0",
        "landing_pages-INITIAL_FORMS": "0",
        "caps-0-scope": "campaign",
        "caps-0-period": "day",
        "caps-0-metric": "conversions",
        "caps-0-limit": "20",
        "caps-0-action": "reject",
    }
    data.update(changes)
    return data


def _partner_key_form(partner_key: PartnerKey, **changes) -> dict:
    data = {
        "advertiser": partner_key.advertiser_id,
        "name": partner_key.name,
        "is_active": "on",
        "ip_allowlist": "[]",
        "profile": partner_key.profile,
        "param_map": "{}",
        "status_map": "{}",
    }
    data.update(changes)
    return data


def test_event_admin_lists_filters_and_renders_with_its_caps(client):
    campaign = CampaignFactory(name="Summer")
    sale = ConversionEventFactory(campaign=campaign, code="sale")
    CapFactory(campaign=campaign, event=sale)
    ConversionEventFactory()

    listed = client.get(_url(ConversionEvent, "changelist"), {"campaign__id__exact": campaign.pk})
    searched = client.get(_url(ConversionEvent, "changelist"), {"q": "summer"})
    change = client.get(_url(ConversionEvent, "change", sale.pk))

    default = ConversionEvent.objects.get(campaign=campaign, is_default=True)
    assert list(listed.context["cl"].result_list) == [default, sale]
    assert list(searched.context["cl"].result_list) == [default, sale]
    assert change.status_code == 200
    assert change.context["inline_admin_formsets"][0].formset.queryset.count() == 1


def test_event_add_form_goes_through_the_service_rules(client):
    campaign = CampaignFactory()
    ConversionEventFactory(campaign=campaign, code="lead")

    duplicate = client.post(_url(ConversionEvent, "add"), _event_form(campaign, code="lead"))
    no_percent = client.post(
        _url(ConversionEvent, "add"), _event_form(campaign, payout_type="revshare")
    )
    accepted = client.post(_url(ConversionEvent, "add"), _event_form(campaign))

    assert duplicate.context["adminform"].form.errors == {
        "code": ["Already used by another event of this campaign."]
    }
    assert no_percent.context["adminform"].form.errors == {
        "revshare_percent": ["A revenue share needs a percentage above 0 and at most 100."]
    }
    assert accepted.status_code == 302
    sale = ConversionEvent.objects.get(campaign=campaign, code="sale")
    assert (sale.is_default, sale.payout_amount, sale.default_revenue) == (
        False,
        Decimal("4.0000"),
        Decimal("10.0000"),
    )
    cap = Cap.objects.get(event=sale)
    assert (cap.campaign_id, cap.limit) == (campaign.pk, Decimal("20.0000"))


def test_editing_the_default_event_in_the_admin_changes_the_campaigns_terms(client):
    campaign = CampaignFactory()
    default = ConversionEvent.objects.get(campaign=campaign, is_default=True)
    data = _event_form(
        campaign, code="default", name="Install", payout_amount="2.5", **{"caps-TOTAL_FORMS": "0"}
    )

    response = client.post(_url(ConversionEvent, "change", default.pk), data)

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.payout_type, campaign.payout_amount) == ("fixed", Decimal("2.5000"))


def test_the_default_event_cannot_be_deleted_and_others_go_through_the_service(client):
    campaign = CampaignFactory()
    default = ConversionEvent.objects.get(campaign=campaign, is_default=True)
    spare = ConversionEventFactory(campaign=campaign)

    refused = client.get(_url(ConversionEvent, "delete", default.pk))
    bulk = client.post(
        _url(ConversionEvent, "changelist"),
        {"action": "delete_selected", "_selected_action": [spare.pk], "post": "yes"},
    )

    assert refused.status_code == 403
    assert bulk.status_code == 302
    assert list(ConversionEvent.objects.filter(campaign=campaign)) == [default]


def test_pricing_rule_admin_lists_filters_and_shows_the_description(client):
    campaign = CampaignFactory(name="Summer")
    affiliate = AffiliateFactory()
    sale = ConversionEventFactory(campaign=campaign, code="sale")
    rule = PricingRuleFactory(campaign=campaign, event=sale, affiliate=affiliate, country="GB")
    ended = PricingRuleFactory(
        campaign=campaign, ends_at=timezone.now() - dt.timedelta(days=1), note="old deal"
    )
    url = _url(PricingRule, "changelist")

    def listed(params: dict) -> list:
        response = client.get(url, params)
        assert response.status_code == 200
        return list(response.context["cl"].result_list)

    assert listed({"active": "yes"}) == [rule]
    assert listed({"active": "no"}) == [ended]
    assert listed({"event__code": "sale"}) == [rule]
    assert listed({"country": "GB"}) == [rule]
    assert listed({"campaign__id__exact": campaign.pk}) == [ended, rule]
    assert listed({"affiliate__user__exact": affiliate.pk}) == [rule]
    assert listed({"q": "old deal"}) == [ended]
    change = client.get(_url(PricingRule, "change", rule.pk)).content.decode()
    assert f"affiliate #{affiliate.pk}, event sale, GB" in change


def test_pricing_rule_add_form_goes_through_the_service_rules(client):
    campaign = CampaignFactory()
    other = ConversionEventFactory()
    data = {
        "campaign": campaign.pk,
        "event": other.pk,
        "country": "GB",
        "sub1": "",
        "starts_at_0": "2026-07-02",
        "starts_at_1": "00:00:00",
        "ends_at_0": "2026-07-01",
        "ends_at_1": "00:00:00",
        "payout_type": "fixed",
        "payout_amount": "3",
        "revshare_percent": "0",
        "revenue_amount": "",
        "note": "",
    }

    refused = client.post(_url(PricingRule, "add"), data)
    accepted = client.post(
        _url(PricingRule, "add"), {**data, "event": "", "ends_at_0": "", "ends_at_1": ""}
    )

    assert set(refused.context["adminform"].form.errors) == {"event", "ends_at"}
    assert accepted.status_code == 302
    rule = PricingRule.objects.get()
    assert (rule.campaign_id, rule.country, rule.payout_amount) == (
        campaign.pk,
        "GB",
        Decimal("3.0000"),
    )


def test_partner_key_admin_checks_the_profile_like_the_api(client):
    partner_key = PartnerKeyFactory()
    url = _url(PartnerKey, "change", partner_key.pk)

    refused = client.post(
        url, _partner_key_form(partner_key, profile="tune", status_map='{"sale": "approved"}')
    )
    saved = client.post(
        url,
        _partner_key_form(
            partner_key,
            profile="custom",
            param_map='{"clickref": "click_id"}',
            status_map='{"OK": "approved"}',
        ),
    )

    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors == {
        "status_map": ["Only the custom profile takes its own map."]
    }
    assert saved.status_code == 302
    partner_key.refresh_from_db()
    assert (partner_key.profile, partner_key.param_map, partner_key.status_map) == (
        "custom",
        {"clickref": "click_id"},
        {"ok": "approved"},
    )


def test_campaign_admin_edits_targeting_json_with_the_api_rules(client, objects):
    campaign = objects[Campaign]
    data = {
        "advertiser": campaign.advertiser_id,
        "name": campaign.name,
        "description": "",
        "landing_url": campaign.landing_url,
        "fallback_url": campaign.fallback_url,
        "currency": "USD",
        "payout_type": campaign.payout_type,
        "payout_amount": "0",
        "revshare_percent": "80",
        "default_revenue": "0",
        "visibility": campaign.visibility,
        "external_offer_id": "",
        "attribution_window_hours": "720",
        "hold_days": "0",
        "auto_approve_after_hours": "",
        "timezone": "UTC",
        "allowed_countries": "[]",
        "min_seconds_to_convert": "0",
        "caps-TOTAL_FORMS": "0",
        "caps-INITIAL_FORMS": "0",
        "landing_pages-TOTAL_FORMS": "0",
        "landing_pages-INITIAL_FORMS": "0",
    }

    refused = client.post(
        _url(Campaign, "change", campaign.pk),
        {**data, "targeting": '{"os": {"include": ["iOS"], "exclude": ["Android"]}}'},
    )
    saved = client.post(
        _url(Campaign, "change", campaign.pk),
        {**data, "targeting": '{"countries": {"include": ["ca", "us"]}, "ip_deny": []}'},
    )
    page = client.get(_url(Campaign, "change", campaign.pk))

    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors == {
        "targeting": ['targeting.os: must be {"include": [...]} or {"exclude": [...]}']
    }
    assert saved.status_code == 302
    campaign.refresh_from_db()
    assert campaign.targeting == {"countries": {"include": ["CA", "US"]}}
    assert "in CA, US" in page.content.decode()
