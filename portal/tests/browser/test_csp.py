"""The Content-Security-Policy in a real browser: the console, the portal and the Swagger UI
render and work with no CSP violation (every violation event and every console message is
collected from before the first script runs)."""

import pytest
from playwright.sync_api import Page, expect

from accounts.tests.factories import DEFAULT_PASSWORD, AdminUserFactory, AffiliateFactory
from campaigns.tests.factories import CampaignFactory, TrackingLinkFactory
from portal.tests.browser.support import log_in
from tracker.tests.factories import ClickFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Collected in the page itself, so nothing a violation reports is missed.
_COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def _watch(page: Page) -> list[str]:
    """Console errors and warnings of `page` (Chromium reports refused resources there)."""
    messages: list[str] = []
    page.on(
        "console",
        lambda message: (
            messages.append(message.text) if message.type in ("error", "warning") else None
        ),
    )
    page.on("pageerror", lambda error: messages.append(str(error)))
    page.add_init_script(_COLLECT_VIOLATIONS)
    return messages


def _violations(page: Page) -> list[str]:
    return page.evaluate("window.__cspViolations")


def test_the_console_renders_under_the_csp(new_page, live_server):
    # given staff, a campaign (a change form with date and relation widgets) and a click
    AdminUserFactory(email="ops@clickledger.test")
    campaign = CampaignFactory(name="Spring sale")
    ClickFactory(link=TrackingLinkFactory(campaign=campaign))
    page = new_page()
    messages = _watch(page)

    page.goto("/admin/login/")
    page.locator("#id_username").fill("ops@clickledger.test")
    page.locator("#id_password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#console-figures")).to_be_visible()
    seen = {"index": _violations(page)}
    # the console's own style sheet applies (it replaced an inline <style>)
    number_align = page.evaluate(
        "getComputedStyle(document.querySelector('.console td.number')).textAlign"
    )
    page.goto(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    expect(page.locator("#campaign_form")).to_be_visible()
    seen["campaign form"] = _violations(page)
    page.goto("/admin/tracker/click/")
    expect(page.locator("#result_list")).to_be_visible()
    seen["click list"] = _violations(page)

    assert seen == {"index": [], "campaign form": [], "click list": []}
    assert [m for m in messages if "Content Security Policy" in m] == []
    assert number_align == "right"


def test_a_portal_page_renders_under_the_csp(new_page, live_server):
    affiliate = AffiliateFactory(user__email="aff@traffic.test")
    TrackingLinkFactory(affiliate=affiliate)
    page = new_page()
    messages = _watch(page)

    log_in(page, "aff@traffic.test", DEFAULT_PASSWORD)
    expect(page.locator(".charts")).to_be_visible()
    dashboard = _violations(page)
    page.get_by_role("link", name="Campaigns").first.click()
    page.wait_for_load_state("load")
    campaigns = _violations(page)

    assert (dashboard, campaigns) == ([], [])
    assert [m for m in messages if "Content Security Policy" in m] == []
    # the portal's stylesheet applies
    assert page.evaluate("getComputedStyle(document.querySelector('.topbar')).display") == "flex"


def test_the_swagger_ui_renders_and_works_under_the_csp(new_page, live_server):
    page = new_page()
    messages = _watch(page)

    response = page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("ClickLedger API")
    expect(page.locator(".opblock").first).to_be_visible()
    page.locator(".opblock-summary").first.click()
    expect(page.locator(".opblock-body").first).to_be_visible()

    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert _violations(page) == []
    assert [m for m in messages if "Content Security Policy" in m] == []
