"""The portals in a real browser: from a new campaign to an approved payout, then signing up.

Every main page of both portals (and the console's index and payout list) is screenshotted to
artifacts/browser/<test name>/ and checked for the accessibility basics (see a11y.py).
"""

import json
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest
from playwright.sync_api import expect

from accounts.models import Affiliate, ApprovalStatus
from accounts.tests.factories import (
    DEFAULT_PASSWORD,
    AdminUserFactory,
    AdvertiserFactory,
    AffiliateFactory,
)
from campaigns.models import Campaign, PartnerKey, TrackingLink
from payouts.models import PayoutRequest
from portal.tests.browser.support import chart_point, log_in, stats, table_rows
from reporting.services.rollups import stats_refresh
from tracker.models import Click, Conversion

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Where the last day's dot of a 30-day chart sits when its value is the chart's maximum
# (portal/charts.py: x = the right edge of the plot, y = its top).
LAST_DAY_AT_TOP = {"cx": "704.0", "cy": "36.0"}
NO_VALUE = "\N{EN DASH}"  # what the tables show for an empty value


def test_campaign_click_postback_and_payout_in_the_browser(
    new_page, live_server, settings, httpserver, screens, celery_eager
):
    settings.PUBLIC_BASE_URL = live_server.url
    advertiser = AdvertiserFactory(company="Acme Shoes", user__email="ads@acme.test")
    affiliate = AffiliateFactory(company="Traffic Co", user__email="aff@traffic.test")
    AdminUserFactory(email="ops@clickledger.test")
    landing = httpserver.url_for("/landing")
    httpserver.expect_request("/landing").respond_with_data(
        "<!doctype html><title>Acme</title><h1>Acme spring sale</h1>", content_type="text/html"
    )
    httpserver.expect_request("/receiver").respond_with_data("ok")

    # The advertiser creates a campaign whose landing page receives the click id.
    adv = new_page()
    adv.goto("/portal/login/")
    screens.take(adv, "login")
    log_in(adv, "ads@acme.test", DEFAULT_PASSWORD)
    expect(adv).to_have_url(f"{live_server.url}/portal/advertiser/")
    screens.take(adv, "advertiser-dashboard-empty")
    adv.get_by_role("link", name="Campaigns").click()
    adv.get_by_role("link", name="New campaign").click()
    adv.get_by_label("Name:", exact=True).fill("Spring sale")
    adv.get_by_label("Visibility").select_option("approval")
    adv.get_by_label("Landing URL").fill(f"{landing}?cid=")
    adv.get_by_role("button", name="{click_id}").click()
    adv.get_by_label("Payout model").select_option("fixed")
    adv.get_by_label("Fixed payout").fill("62.50")
    adv.get_by_label("Default revenue").fill("80.00")
    adv.get_by_label("Hold (days)").fill("0")
    adv.get_by_role("button", name="Preview a filled URL").click()
    expect(adv.locator(".preview-out code")).to_have_text(f"{landing}?cid=AbC123xYz_sample")
    screens.take(adv, "advertiser-campaign-new")
    adv.get_by_role("button", name="Create campaign").click()
    expect(adv.locator(".message-success")).to_have_text("Campaign “Spring sale” saved.")
    screens.take(adv, "advertiser-campaign-editor")
    campaign = Campaign.objects.get()
    assert (
        campaign.landing_url,
        campaign.visibility,
        campaign.payout_type,
        campaign.currency,
        campaign.payout_amount,
        campaign.default_revenue,
        campaign.hold_days,
    ) == (
        f"{landing}?cid={{click_id}}",
        "approval",
        "fixed",
        "USD",
        Decimal("62.5000"),
        Decimal("80.0000"),
        0,
    )

    # ... and a partner key for its shop's server.
    adv.get_by_role("link", name="Partner keys").click()
    screens.take(adv, "advertiser-partner-keys-empty")
    adv.get_by_label("Name:", exact=True).fill("Shop server")
    adv.get_by_role("button", name="Create key").click()
    expect(adv.get_by_role("heading", level=1)).to_have_text("Partner key created")
    screens.take(adv, "advertiser-partner-key-created")
    postback_url = adv.get_by_label("Postback URL for the partner").input_value()
    key = PartnerKey.objects.get(advertiser=advertiser)
    assert postback_url.startswith(f"{live_server.url}/postback/{key.key}?")

    # The affiliate applies; the advertiser approves.
    aff = new_page()
    log_in(aff, "aff@traffic.test", DEFAULT_PASSWORD)
    expect(aff).to_have_url(f"{live_server.url}/portal/affiliate/")
    screens.take(aff, "affiliate-dashboard-empty")
    aff.get_by_role("link", name="Campaigns").click()
    aff.get_by_label(f"Message for campaign {campaign.pk}").fill("Coupon site, 20k visits a day")
    aff.get_by_role("button", name="Apply").click()
    expect(aff.locator(".message-success")).to_have_text("Your access to “Spring sale” is pending.")
    screens.take(aff, "affiliate-campaigns-applied")
    adv.get_by_role("link", name="Applications").click()
    screens.take(adv, "advertiser-applications-pending")
    adv.get_by_role("button", name="Approve").click()
    expect(adv.locator(".message-success")).to_have_text("Traffic Co on “Spring sale”: approved.")
    screens.take(adv, "advertiser-applications-approved")

    # The affiliate builds its link with a sub id and an end user id, and copies it.
    aff.get_by_role("link", name="Campaigns").click()
    aff.get_by_role("button", name="Get link").click()
    aff.get_by_label("sub1").fill("spring-banner")
    aff.get_by_label("End user id").fill("player-7")
    aff.get_by_role("button", name="Copy").click()
    expect(aff.get_by_role("button", name="Copied")).to_be_visible()
    copied = aff.evaluate("navigator.clipboard.readText()")
    screens.take(aff, "affiliate-link-builder")
    token = TrackingLink.objects.get(campaign=campaign, affiliate=affiliate).token
    assert copied == f"{live_server.url}/c/{token}?sub1=spring-banner&user_id=player-7"

    # Its postback endpoint: a test first, then every approved conversion.
    aff.get_by_role("link", name="Postbacks").click()
    screens.take(aff, "affiliate-endpoints-empty")
    aff.get_by_label("Name:", exact=True).fill("My tracker")
    aff.get_by_label("URL template").fill(
        httpserver.url_for("/receiver") + "?cid={click_id}&status={status}&amount={payout}"
    )
    aff.get_by_role("button", name="Add endpoint").click()
    expect(aff.get_by_role("heading", level=1)).to_have_text("Endpoint added")
    screens.take(aff, "affiliate-endpoint-secret")
    aff.get_by_role("link", name="Back to endpoints").click()
    aff.get_by_role("button", name="Send a test").click()
    expect(aff.get_by_role("heading", level=1)).to_have_text("Test delivery")
    expect(aff.locator(".badge")).to_have_text("delivered")
    screens.take(aff, "affiliate-endpoint-test")

    # A visitor clicks the link on the affiliate's site and lands on the advertiser's page.
    httpserver.expect_request("/publisher").respond_with_data(
        f'<!doctype html><title>Deals</title><h1>Deals</h1><a href="{copied}">Spring sale</a>',
        content_type="text/html",
    )
    visitor = new_page()
    visitor.goto(httpserver.url_for("/publisher"))
    visitor.get_by_role("link", name="Spring sale").click()
    visitor.wait_for_url(f"{landing}?cid=*")
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Acme spring sale")
    click = Click.objects.get()
    assert visitor.url == f"{landing}?cid={click.click_id}"
    assert (click.link.token, click.sub1, click.user_id, click.is_unique, click.blocked_reason) == (
        token,
        "spring-banner",
        "player-7",
        True,
        "",
    )

    # The sale is reported as the shop's server would report it, a GET on its postback URL,
    # sent from the key's postback tester, which shows the request and what the partner gets.
    adv.get_by_role("link", name="Partner keys").click()
    adv.get_by_role("link", name="Test a postback to Shop server").click()
    expect(adv.get_by_role("heading", level=1)).to_have_text("Postback tester: “Shop server”")
    adv.get_by_label("Click id").fill(click.click_id)
    adv.get_by_label("Status:", exact=True).select_option("approved")
    adv.get_by_label("Payout (your revenue)").fill("80.00")
    adv.get_by_label("Transaction id").fill("ORDER-1001")
    adv.get_by_role("button", name="Send postback").click()
    expect(adv.locator("#tester-response-status")).to_have_text("200 OK")
    expect(adv.locator("#tester-request-line")).to_have_text(
        f"GET {postback_url.split('?')[0]}?click_id={click.click_id}&status=approved"
        "&payout=80.00&transaction_id=ORDER-1001"
    )
    screens.take(adv, "advertiser-postback-tester")
    answer = json.loads(adv.locator("#tester-response-body").inner_text())
    conversion = Conversion.objects.get()
    assert (
        adv.locator("#tester-response-status").inner_text(),
        answer["result"],
        answer["conversion_id"],
    ) == (
        "200 OK",
        "created",
        conversion.pk,
    )
    assert (conversion.status, conversion.revenue, conversion.payout, conversion.user_id) == (
        "approved",
        Decimal("80.0000"),
        Decimal("62.5000"),
        "player-7",
    )
    forwards = [
        dict(parse_qsl(urlsplit(request.url).query))
        for request, _ in httpserver.log
        if request.path == "/receiver"
    ]
    assert forwards == [
        {"cid": "test-click", "status": "test", "amount": "1.0000"},
        {"cid": click.click_id, "status": "approved", "amount": "62.5000"},
    ]

    # The dashboards read the hourly rollups, which a beat task refreshes every 15 s; no beat runs
    # in tests, so the test runs that refresh itself, as the next tick would.
    stats_refresh()
    day = click.created_at.date().isoformat()

    adv.get_by_role("link", name="Dashboard").click()
    assert stats(adv) == {
        "Clicks": "1",
        "Conversions": "1 (1 approved · 0 pending)",
        "Conversion rate": "100.00%",
        "Revenue (USD)": "$80.00",
    }
    assert chart_point(adv, "clicks", f"{day}: Clicks 1") == LAST_DAY_AT_TOP
    assert chart_point(adv, "conversions", f"{day}: Approved 1") == LAST_DAY_AT_TOP
    assert table_rows(adv, "#top-heading ~ .table-wrap table") == [
        ["Traffic Co", str(affiliate.pk), "1", "1", "$80.00"]
    ]
    screens.take(adv, "advertiser-dashboard")
    adv.get_by_role("link", name="Conversions").click()
    assert table_rows(adv) == [
        [
            str(conversion.pk),
            conversion.created_at.strftime("%Y-%m-%d %H:%M"),
            "Spring sale",
            str(affiliate.pk),
            "Approved",
            "$80.00",
            f"{click.click_id[:17]}… ORDER-1001",
        ]
    ]
    screens.take(adv, "advertiser-conversions")
    adv.get_by_role("link", name=str(conversion.pk), exact=True).click()
    expect(adv.get_by_role("heading", level=1)).to_have_text(f"Conversion #{conversion.pk}")
    screens.take(adv, "advertiser-conversion-detail")
    adv.get_by_role("link", name="Campaigns").click()
    screens.take(adv, "advertiser-campaigns")
    adv.get_by_role("link", name="Partner keys").click()
    screens.take(adv, "advertiser-partner-keys")

    aff.get_by_role("link", name="Dashboard").click()
    assert stats(aff) == {
        "Clicks": "1",
        "Unique clicks": "1",
        "Conversions": "1 (1 approved · 0 pending)",
        "Conversion rate": "100.00%",
        "EPC (USD)": "$62.50 ($62.50 earned)",
    }
    assert chart_point(aff, "clicks", f"{day}: Unique clicks 1") == LAST_DAY_AT_TOP
    assert chart_point(aff, "conversions", f"{day}: Conversions 1") == LAST_DAY_AT_TOP
    assert table_rows(aff, "#earnings-heading ~ .table-wrap table") == [
        ["USD", "$0.00", "$62.50", "$0.00", "$0.00"]
    ]
    screens.take(aff, "affiliate-dashboard")
    aff.get_by_role("link", name="Campaigns").click()
    screens.take(aff, "affiliate-campaigns")
    aff.get_by_role("link", name="My links").click()
    screens.take(aff, "affiliate-links")
    aff.get_by_role("link", name="Postbacks").click()
    screens.take(aff, "affiliate-endpoints")
    aff.get_by_role("navigation").get_by_role("link", name="Delivery log").click()
    assert [row[3:6] for row in table_rows(aff)] == [
        [f"approved conversion #{conversion.pk}", "Delivered", "1"],
        ["test", "Delivered", "1"],
    ]
    screens.take(aff, "affiliate-deliveries")
    aff.get_by_role("link", name="Conversions").click()
    assert table_rows(aff) == [
        [
            str(conversion.pk),
            conversion.created_at.strftime("%Y-%m-%d %H:%M"),
            "Spring sale",
            "Approved",
            "$62.50",
            f"{click.click_id[:17]}…",
            "spring-banner",
            "player-7",
        ]
    ]
    screens.take(aff, "affiliate-conversions")
    aff.get_by_role("link", name="End-user points").click()
    assert [row[:2] for row in table_rows(aff)] == [["player-7", "62.50"]]
    screens.take(aff, "affiliate-points")

    # Hold 0 days: the payout is available at once, and the affiliate asks for 50.00 of it.
    aff.get_by_role("link", name="Payouts").click()
    aff.get_by_label("Amount").fill("50.00")
    aff.get_by_role("button", name="Request payout").click()
    payout = PayoutRequest.objects.get()
    expect(aff.locator(".message-success")).to_have_text(
        f"Payout #{payout.pk} of $50.00 requested."
    )
    assert table_rows(aff, "#balance-heading ~ .table-wrap table") == [
        ["USD", "$0.00", "$12.50", "$50.00", "$0.00", "CSV"]
    ]
    screens.take(aff, "affiliate-payouts-requested")

    # The operator approves it in the console (an admin logging in to the portal lands there).
    ops = new_page()
    log_in(ops, "ops@clickledger.test", DEFAULT_PASSWORD)
    expect(ops).to_have_url(f"{live_server.url}/admin/")
    screens.take(ops, "admin-index")
    ops.goto("/admin/payouts/payoutrequest/?status__exact=requested")
    screens.take(ops, "admin-payouts-requested")
    ops.locator(f'input[name="_selected_action"][value="{payout.pk}"]').check()
    ops.get_by_role("combobox", name="Action").select_option("approve")
    ops.get_by_role("button", name="Go").click()
    # Money actions ask first, on a page listing what they will change; nothing changes before.
    expect(ops.locator("#action-objects li")).to_have_text(
        [f"#{payout.pk} Traffic Co: $50.00 by PayPal (requested)"]
    )
    screens.take(ops, "admin-payouts-confirm")
    assert PayoutRequest.objects.get().status == "requested"
    ops.get_by_role("button", name="Yes, approve").click()
    expect(ops.locator(".messagelist .success")).to_have_text("Approved: 1 payout(s).")
    screens.take(ops, "admin-payouts-approved")
    payout.refresh_from_db()
    assert (payout.status, payout.amount) == ("approved", Decimal("50.0000"))

    aff.reload()
    assert table_rows(aff, "#history-heading ~ .table-wrap table") == [
        [
            str(payout.pk),
            payout.created_at.strftime("%Y-%m-%d %H:%M"),
            "$50.00",
            "PayPal",
            "Approved",
            NO_VALUE,
            NO_VALUE,
        ]
    ]
    screens.take(aff, "affiliate-payouts-approved")
    print(f"Screenshots: {screens.folder}")


def test_signup_waits_for_approval_in_the_browser(new_page, live_server, screens):
    page = new_page()
    page.goto("/portal/login/")
    page.get_by_role("link", name="Create an account").click()
    screens.take(page, "signup")
    page.get_by_label("Your name").fill("Dana Reyes")
    page.get_by_label("Company").fill("Reyes Media")
    page.get_by_label("Email").fill("dana@reyes.test")
    page.get_by_label("Password:", exact=True).fill("short")
    page.get_by_label("Password again").fill("short")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator(".form-errors")).to_have_text("Please correct the errors below.")
    screens.take(page, "signup-errors")
    page.get_by_label("Password:", exact=True).fill("plum-orchard-91")
    page.get_by_label("Password again").fill("plum-orchard-91")
    page.get_by_role("button", name="Create account").click()

    expect(page).to_have_url(f"{live_server.url}/portal/pending/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Your account is waiting for approval"
    )
    screens.take(page, "pending")
    affiliate = Affiliate.objects.get(user__email="dana@reyes.test")
    assert (affiliate.company, affiliate.status) == ("Reyes Media", ApprovalStatus.PENDING)
    page.goto("/portal/affiliate/")
    expect(page).to_have_url(f"{live_server.url}/portal/pending/")
    print(f"Screenshots: {screens.folder}")
