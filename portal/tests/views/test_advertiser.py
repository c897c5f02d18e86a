"""The advertiser portal: dashboard numbers, campaign editor, applications, partner keys and
conversions, with their CSV exports and query budgets."""

import re
from decimal import Decimal
from html import unescape

import pytest

from campaigns.events import event_create
from campaigns.models import AccessStatus, Campaign, CampaignAccess, Cap, PartnerKey
from campaigns.tests.factories import CampaignAccessFactory, network
from portal.tests.factories import portal_client
from reporting.services.rollups import stats_refresh
from tracker.models import ConversionHistory
from tracker.tests.factories import ClickFactory, postback

pytestmark = pytest.mark.django_db

CAMPAIGN_POST = {
    "name": "Spring sale",
    "description": "Leads",
    "landing_url": "https://shop.example/land?c={click_id}&s={sub1}",
    "fallback_url": "",
    "currency": "EUR",
    "payout_type": "fixed",
    "payout_amount": "2.5",
    "revshare_percent": "0",
    "default_revenue": "4",
    "visibility": "approval",
    "external_offer_id": "SPRING",
    "attribution_window_hours": "48",
    "hold_days": "3",
    "auto_approve_after_hours": "",
    "timezone": "Europe/Berlin",
    "allowed_countries": "de, at",
    "cap0_period": "day",
    "cap0_scope": "campaign",
    "cap0_metric": "conversions",
    "cap0_limit": "100",
    "cap0_action": "reject",
}


def test_dashboard_shows_the_advertisers_own_numbers_only():
    net = network()
    for _ in range(3):
        ClickFactory(link=net.link1)
    click = ClickFactory(link=net.link1)
    postback(net.key1, click_id=click.click_id, payout="10.00")
    theirs = ClickFactory(link=net.link2)
    postback(net.key2, click_id=theirs.click_id, payout="99.00")

    stats_refresh()
    response = portal_client(net, "advertiser1").get("/portal/advertiser/?days=7")

    summary = response.context["summary"]
    assert (summary.clicks, summary.conversions, summary.approved) == (4, 1, 1)
    assert summary.conversion_rate == Decimal("25.00")
    assert [(m.currency, m.revenue, m.payout, m.epc) for m in summary.money] == [
        ("USD", Decimal("10.0000"), None, None)
    ]
    assert len(summary.daily) == 7
    assert [
        (row.name, row.clicks, row.conversions) for row in response.context["top_affiliates"]
    ] == [(net.affiliate1.company, 4, 1)]
    html = response.content.decode()
    assert '<title id="chart-title-clicks">Clicks per day</title>' in html
    assert "99.0000" not in html
    assert "$99.00" not in html


def test_dashboard_shows_conversions_and_revenue_per_event():
    net = network()
    event_create(
        campaign=net.campaign1,
        data={
            "code": "lead",
            "name": "Lead",
            "payout_type": "fixed",
            "payout_amount": "2",
            "default_revenue": "3",
            "initial_status": "pending",
        },
    )
    postback(net.key1, click_id=ClickFactory(link=net.link1).click_id, payout="10.00")
    lead_click = ClickFactory(link=net.link1)
    postback(net.key1, click_id=lead_click.click_id, event="lead")
    postback(net.key1, click_id=ClickFactory(link=net.link1).click_id, goal="lead")
    postback(net.key2, click_id=ClickFactory(link=net.link2).click_id, event="default")

    stats_refresh()
    response = portal_client(net, "advertiser1").get("/portal/advertiser/?days=7")

    assert [
        (row.code, row.currency, row.conversions, row.approved, row.pending, row.revenue)
        for row in response.context["events"]
    ] == [
        ("default", "USD", 1, 1, 0, Decimal("10.0000")),
        ("lead", "USD", 2, 0, 2, Decimal("0.0000")),
    ]
    assert {row.payout for row in response.context["events"]} == {None}
    html = response.content.decode()
    assert '<h2 id="events-heading">Conversions by event</h2>' in html
    assert "<code>lead</code>" in html


def test_dashboard_breaks_traffic_down_by_os_and_browser_and_lists_fraud_signals():
    # given the advertiser's campaign's clicks on two OSes, one flagged and converting
    net = network()
    ClickFactory(link=net.link1, os="Android", browser="Chrome Mobile")
    flagged = ClickFactory(
        link=net.link1, os="iOS", browser="Mobile Safari", fraud_signals=["datacenter"]
    )
    postback(net.key1, click_id=flagged.click_id, payout="10.00")
    ClickFactory(link=net.link2, os="Windows", fraud_signals=["bot"])  # another advertiser's
    stats_refresh()
    client = portal_client(net, "advertiser1")

    # when it breaks the period down by OS, then by browser
    by_os = client.get("/portal/advertiser/?days=7&breakdown=os")
    by_browser = client.get("/portal/advertiser/?breakdown=browser")

    # then each value has its clicks and revenue; the fraud section has its own traffic only
    assert [
        (row.label, row.clicks, row.conversions, row.revenue, row.payout)
        for row in by_os.context["breakdown"]
    ] == [  # as many clicks: the one with more conversions first
        ("iOS", 1, 1, Decimal("10.0000"), None),
        ("Android", 1, 0, Decimal("0.0000"), None),
    ]
    assert [row.label for row in by_browser.context["breakdown"]] == [
        "Mobile Safari",
        "Chrome Mobile",
    ]
    assert [[cell.value for cell in row][:3] for row in by_os.context["fraud"].rows] == [
        ["datacenter", "USD", 1]
    ]
    html = by_os.content.decode()
    assert "Traffic by operating system" in html
    assert "<code>bot</code>" not in html


def test_dashboard_query_budget(django_assert_max_num_queries):
    net = network()
    for _ in range(5):
        postback(net.key1, click_id=ClickFactory(link=net.link1).click_id, payout="1")
    client = portal_client(net, "advertiser1")

    # session, user, profile, the rollups by day, by event, top affiliates, pending applications,
    # the rollups by device, the flagged clicks and the flagged conversions.
    with django_assert_max_num_queries(10):
        response = client.get("/portal/advertiser/")

    assert response.status_code == 200


def test_campaign_editor_creates_a_campaign_with_every_field_and_caps():
    net = network()

    response = portal_client(net, "advertiser1").post(
        "/portal/advertiser/campaigns/new/", CAMPAIGN_POST
    )

    campaign = Campaign.objects.get(name="Spring sale")
    assert response.status_code == 302
    assert response["Location"] == f"/portal/advertiser/campaigns/{campaign.pk}/"
    assert (
        campaign.advertiser_id,
        campaign.currency,
        campaign.payout_type,
        campaign.payout_amount,
        campaign.default_revenue,
        campaign.visibility,
        campaign.external_offer_id,
        campaign.attribution_window_hours,
        campaign.hold_days,
        campaign.auto_approve_after_hours,
        campaign.timezone,
        campaign.allowed_countries,
    ) == (
        net.advertiser1.pk,
        "EUR",
        "fixed",
        Decimal("2.5000"),
        Decimal("4.0000"),
        "approval",
        "SPRING",
        48,
        3,
        None,
        "Europe/Berlin",
        ["DE", "AT"],
    )
    assert list(Cap.objects.filter(campaign=campaign).values_list("scope", "period", "limit")) == [
        ("campaign", "day", Decimal("100.0000"))
    ]


def test_campaign_editor_shows_service_errors_next_to_fields():
    net = network()
    data = {
        **CAMPAIGN_POST,
        "landing_url": "https://shop.example/?c={clickid}",
        "payout_type": "revshare",
        "revshare_percent": "0",
        "timezone": "Mars/Base",
    }

    response = portal_client(net, "advertiser1").post("/portal/advertiser/campaigns/new/", data)

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "landing_url": ["Unknown macro(s): {clickid}."],
        "timezone": ["Unknown time zone: 'Mars/Base'."],
        "revshare_percent": ["A revenue share needs a percentage above 0 and at most 100."],
    }
    assert not Campaign.objects.filter(name="Spring sale").exists()


def test_campaign_editor_reads_amounts_as_plain_decimals_only():
    net = network()
    data = {
        **CAMPAIGN_POST,
        "payout_amount": "1_000",
        "default_revenue": "\u0664",
        "cap0_limit": "1E+2",
    }

    response = portal_client(net, "advertiser1").post("/portal/advertiser/campaigns/new/", data)

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "payout_amount": [
            "Not a non-negative amount with at most 4 decimal places (not a decimal)."
        ],
        "default_revenue": [
            "Not a non-negative amount with at most 4 decimal places (not a decimal)."
        ],
        "__all__": [
            "Cap 1: Not a non-negative amount with at most 4 decimal places (not a decimal)."
        ],
    }
    assert not Campaign.objects.filter(name="Spring sale").exists()


def test_campaign_editor_shows_a_cap_limit_as_a_plain_decimal_it_can_save_again():
    # given a campaign capped at 100 conversions a day (Decimal("100").normalize() is 1E+2)
    net = network()
    Cap.objects.create(campaign=net.campaign1, period="day", limit=Decimal("100.0000"))
    client = portal_client(net, "advertiser1")
    url = f"/portal/advertiser/campaigns/{net.campaign1.pk}/"

    # when the editor is opened and saved unchanged
    page = client.get(url)
    form = page.context["form"]
    data = {name: form[name].value() for name in form.fields}
    saved = client.post(url, {name: value for name, value in data.items() if value is not None})

    # then the limit reads 100 and saving it keeps it
    assert form["cap0_limit"].value() == "100"
    assert saved.status_code == 302
    assert list(Cap.objects.filter(campaign=net.campaign1).values_list("limit", flat=True)) == [
        Decimal("100.0000")
    ]


def test_campaign_editor_previews_the_filled_landing_url_without_saving():
    net = network()

    response = portal_client(net, "advertiser1").post(
        "/portal/advertiser/campaigns/new/", {**CAMPAIGN_POST, "preview": "1"}
    )

    assert response.context["preview"] == "https://shop.example/land?c=AbC123xYz_sample&s=facebook"
    assert not Campaign.objects.filter(name="Spring sale").exists()


def test_campaign_edit_updates_and_keeps_the_tenant():
    net = network()
    client = portal_client(net, "advertiser1")
    page = client.get(f"/portal/advertiser/campaigns/{net.campaign1.pk}/")

    response = client.post(
        f"/portal/advertiser/campaigns/{net.campaign1.pk}/",
        {**CAMPAIGN_POST, "name": "Renamed", "payout_amount": "7"},
    )

    net.campaign1.refresh_from_db()
    assert page.context["form"].initial["name"] == "Campaign one"
    assert response.status_code == 302
    assert (net.campaign1.name, net.campaign1.payout_amount) == ("Renamed", Decimal("7.0000"))


def test_pause_and_resume():
    net = network()
    client = portal_client(net, "advertiser1")
    url = f"/portal/advertiser/campaigns/{net.campaign1.pk}/status/"

    paused = client.post(url, {"status": "paused"})
    net.campaign1.refresh_from_db()
    status_after_pause = net.campaign1.status
    client.post(url, {"status": "active"})
    net.campaign1.refresh_from_db()

    assert paused["Location"] == "/portal/advertiser/campaigns/"
    assert (status_after_pause, net.campaign1.status) == ("paused", "active")


def test_campaign_list_filters_sorts_and_exports_csv(django_assert_max_num_queries):
    net = network()
    Campaign.objects.filter(pk=net.campaign1.pk).update(status="paused")
    other = Campaign.objects.create(
        advertiser=net.advertiser1,
        name="Alpha",
        landing_url="https://a.example/",
        payout_type="fixed",
    )
    client = portal_client(net, "advertiser1")

    with django_assert_max_num_queries(8):
        page = client.get("/portal/advertiser/campaigns/?sort=name")
    paused = client.get("/portal/advertiser/campaigns/?status=paused")
    export = client.get("/portal/advertiser/campaigns/?format=csv&sort=name")

    assert [c.name for c in page.context["table"].page] == ["Alpha", "Campaign one"]
    assert [c.name for c in paused.context["table"].page] == ["Campaign one"]
    assert export["Content-Type"] == "text/csv; charset=utf-8"
    lines = b"".join(export.streaming_content).decode().splitlines()
    assert lines[0] == (
        "id,name,status,payout_type,payout_amount,revshare_percent,currency,visibility,"
        "landing_url,created_at"
    )
    assert [line.split(",")[1] for line in lines[1:]] == ["Alpha", "Campaign one"]
    assert lines[1].startswith(f"{other.pk},Alpha,active,fixed,0.0000,0.0000,USD,public,")


def test_applications_are_approved_from_the_list():
    net = network()
    access = CampaignAccessFactory(
        campaign=net.campaign1, affiliate=net.affiliate2, status=AccessStatus.PENDING
    )
    CampaignAccessFactory(campaign=net.campaign2, status=AccessStatus.PENDING)
    client = portal_client(net, "advertiser1")

    listed = client.get("/portal/advertiser/applications/?status=pending")
    response = client.post(
        f"/portal/advertiser/applications/{access.pk}/decide/",
        {"status": "approved", "reason": "welcome"},
    )

    access.refresh_from_db()
    assert [row.pk for row in listed.context["table"].page] == [access.pk]
    assert response["Location"] == "/portal/advertiser/applications/"
    assert (access.status, access.decision_reason) == ("approved", "welcome")
    assert CampaignAccess.objects.filter(status=AccessStatus.PENDING).count() == 1


def test_partner_keys_create_shows_the_secret_once_and_lists_the_postback_url():
    net = network()
    client = portal_client(net, "advertiser1")

    created = client.post(
        "/portal/advertiser/partner-keys/",
        {
            "name": "Network X",
            "ip_allowlist": "203.0.113.0/24\n198.51.100.7",
            "require_signature": "on",
        },
    )
    key = PartnerKey.objects.get(name="Network X")
    listing = client.get("/portal/advertiser/partner-keys/").content.decode()

    assert created.status_code == 200
    assert key.signing_secret in created.content.decode()
    assert (key.advertiser_id, key.ip_allowlist, key.require_signature) == (
        net.advertiser1.pk,
        ["203.0.113.0/24", "198.51.100.7/32"],
        True,
    )
    assert f"http://testserver/postback/{key.key}?click_id={{click_id}}" in listing
    assert key.signing_secret not in listing
    assert net.key2.key not in listing


def test_partner_key_allowlist_errors_and_rotation():
    net = network()
    client = portal_client(net, "advertiser1")
    old_key = net.key1.key

    bad = client.post(
        f"/portal/advertiser/partner-keys/{net.key1.pk}/",
        {"name": "k", "ip_allowlist": "not-an-ip", "is_active": "on"},
    )
    rotated = client.post(f"/portal/advertiser/partner-keys/{net.key1.pk}/rotate/")

    net.key1.refresh_from_db()
    assert bad.context["form"].errors == {
        "ip_allowlist": ["'not-an-ip' is not an IP address or CIDR range."]
    }
    assert (net.key1.previous_key, net.key1.key != old_key) == (old_key, True)
    assert net.key1.previous_signing_secret != net.key1.signing_secret
    assert b"The previous key and signing secret keep working until" in rotated.content
    assert net.key1.signing_secret.encode() in rotated.content


def _copy_fields(html: str) -> dict[str, str]:
    """Each copy field's input id -> its value, as the browser reads it (entities decoded)."""
    fields = {}
    for match in re.finditer(r'<input id="([^"]+)" type="text" readonly value="([^"]*)"', html):
        fields[match[1]] = unescape(match[2])
    return fields


def test_the_partner_key_page_shows_the_three_pixel_snippets_with_copy_buttons():
    net = network()
    client = portal_client(net, "advertiser1")

    html = client.get(f"/portal/advertiser/partner-keys/{net.key1.pk}/").content.decode()

    base = f"http://testserver/px/{net.key1.key}"
    query = "event={event}&amp;transaction_id={transaction_id}&amp;payout={payout}"
    fields = _copy_fields(html)
    assert {name: fields[name] for name in ("pixel-img", "pixel-iframe", "pixel-script")} == {
        "pixel-img": f'<img src="{base}.gif?{query}" width="1" height="1" alt="">',
        "pixel-iframe": (
            f'<iframe src="{base}.html?{query}" width="1" height="1" title="" hidden></iframe>'
        ),
        "pixel-script": f'<script src="{base}.js?{query}" async></script>',
    }
    for name in ("pixel-img", "pixel-iframe", "pixel-script"):
        assert f'data-copy="{name}">Copy</button>' in html


def test_a_key_with_an_allowlist_shows_why_it_takes_no_pixel_instead_of_snippets():
    net = network()
    net.key1.ip_allowlist = ["203.0.113.0/24"]
    net.key1.save()
    client = portal_client(net, "advertiser1")

    html = client.get(f"/portal/advertiser/partner-keys/{net.key1.pk}/").content.decode()

    assert "it takes no conversion pixel" in html
    assert "/px/" not in html


def test_conversions_filter_export_and_change_status(django_assert_max_num_queries):
    net = network()
    approved = postback(net.key1, click_id=ClickFactory(link=net.link1).click_id, payout="10")
    pending = postback(
        net.key1,
        click_id=ClickFactory(link=net.link1, sub1="=cmd").click_id,
        payout="5",
        status="pending",
        transaction_id="T-2",
    )
    postback(net.key2, click_id=ClickFactory(link=net.link2).click_id, payout="1")
    client = portal_client(net, "advertiser1")

    with django_assert_max_num_queries(8):
        listing = client.get("/portal/advertiser/conversions/")
    filtered = client.get("/portal/advertiser/conversions/?status=pending")
    searched = client.get("/portal/advertiser/conversions/?q=T-2")
    export = client.get("/portal/advertiser/conversions/?format=csv&sort=id")
    changed = client.post(
        f"/portal/advertiser/conversions/{pending.pk}/", {"status": "approved", "reason": "checked"}
    )

    assert [c.pk for c in listing.context["table"].page] == [pending.pk, approved.pk]
    assert [c.pk for c in filtered.context["table"].page] == [pending.pk]
    assert [c.pk for c in searched.context["table"].page] == [pending.pk]
    lines = b"".join(export.streaming_content).decode().splitlines()
    assert lines[0] == (
        "id,created_at,campaign_id,campaign,affiliate_id,status,reason,fraud_signals,currency,"
        "revenue,click_id,transaction_id,user_id,sub1,device_type,os,browser"
    )
    assert lines[2].endswith(",T-2,,'=cmd,,,")
    assert changed.status_code == 302
    pending.refresh_from_db()
    assert pending.status == "approved"
    history = ConversionHistory.objects.filter(conversion=pending).order_by("id").last()
    assert (history.source, history.actor_id, history.reason) == (
        "advertiser",
        net.advertiser1.pk,
        "checked",
    )


def test_conversion_detail_shows_history_and_refuses_bad_transitions():
    net = network()
    conversion = postback(net.key1, click_id=ClickFactory(link=net.link1).click_id, payout="10")
    client = portal_client(net, "advertiser1")
    client.post(f"/portal/advertiser/conversions/{conversion.pk}/", {"status": "reversed"})

    refused = client.post(
        f"/portal/advertiser/conversions/{conversion.pk}/", {"status": "approved", "reason": "x"}
    )

    assert refused.status_code == 200
    assert refused.context["form"].errors == {
        "__all__": ["A reversed conversion cannot become approved."]
    }
    html = refused.content.decode()
    assert "new → approved" in html
    assert "approved → reversed" in html


def test_partner_key_custom_profile_round_trips_through_the_form():
    net = network()
    client = portal_client(net, "advertiser1")
    url = f"/portal/advertiser/partner-keys/{net.key1.pk}/"

    saved = client.post(
        url,
        {
            "name": "Own platform",
            "is_active": "on",
            "profile": "custom",
            "param_map": "clickref=click_id\norder = transaction_id\n",
            "status_map": "ok=approved\nhold=pending",
        },
    )
    page = client.get(url)

    net.key1.refresh_from_db()
    assert saved["Location"] == "/portal/advertiser/partner-keys/"
    assert (net.key1.profile, net.key1.param_map, net.key1.status_map) == (
        "custom",
        {"clickref": "click_id", "order": "transaction_id"},
        {"ok": "approved", "hold": "pending"},
    )
    assert page.context["form"].initial["param_map"] == "clickref=click_id\norder=transaction_id"
    assert page.context["form"].initial["status_map"] == "hold=pending\nok=approved"


def test_partner_key_form_refuses_bad_maps():
    net = network()
    client = portal_client(net, "advertiser1")

    bad_line = client.post(
        "/portal/advertiser/partner-keys/",
        {"name": "k", "profile": "custom", "param_map": "clickref"},
    )
    bad_target = client.post(
        "/portal/advertiser/partner-keys/",
        {"name": "k", "profile": "custom", "status_map": "sale=paid"},
    )

    assert bad_line.context["form"].errors == {"param_map": ["Line 1: write their=ours."]}
    assert bad_target.context["form"].errors == {
        "status_map": [
            "'sale' -> 'paid': choose one of pending, approved, rejected, reversed, test."
        ]
    }
    assert not PartnerKey.objects.filter(name="k").exists()


def test_partner_key_form_previews_a_postback_without_saving_anything():
    net = network()
    client = portal_client(net, "advertiser1")

    response = client.post(
        f"/portal/advertiser/partner-keys/{net.key1.pk}/",
        {
            "name": "unchanged?",
            "is_active": "on",
            "profile": "keitaro",
            "preview_url": "https://tracker.example.com/postback/KEY?subid=51ts6sgr&status=sale"
            "&payout=21.0&tid=52949935&from=adcombo.com",
            "action": "preview",
        },
    )

    net.key1.refresh_from_db()
    assert response.status_code == 200
    assert response.context["preview"]["rows"] == [
        ("Click id", "51ts6sgr"),
        ("Transaction id", "52949935"),
        ("Event", "the campaign's default event"),
        ("Status", "approved (sent as 'sale')"),
        ("Payout", "21"),
        ("Offer id", "—"),
        ("Sub ids", "—"),
        ("Custom data", '{"from": "adcombo.com"}'),
    ]
    assert response.context["preview"]["renamed"] == {
        "subid": "click_id",
        "tid": "transaction_id",
    }
    assert b"How this postback would be read" in response.content
    assert (net.key1.profile, net.key1.name) != ("keitaro", "unchanged?")


def test_partner_key_form_preview_shows_the_refusal():
    net = network()
    client = portal_client(net, "advertiser1")

    response = client.post(
        "/portal/advertiser/partner-keys/",
        {"profile": "tune", "preview_url": "?transaction_id={aff_sub}", "action": "preview"},
    )

    assert response.context["preview"]["error"].code == "unreplaced_macro"
    assert b"unreplaced_macro" in response.content
    assert PartnerKey.objects.count() == 2
