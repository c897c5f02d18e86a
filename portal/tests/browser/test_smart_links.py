"""The affiliate's smart links page in Chromium at a phone's width: create one by ticking
campaigns, copy its URL, and the page never scrolls sideways (the campaigns' table scrolls in
its own box). Screenshots go to artifacts/browser/<test name>/."""

import pytest
from playwright.sync_api import Browser

from accounts.tests.factories import DEFAULT_PASSWORD, AffiliateFactory
from campaigns.models import SmartLink
from campaigns.tests.factories import CampaignFactory
from portal.tests.browser.support import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
LONG_NAME = "Summer mega sale for cashback and loyalty rewards sites in North America"


def test_an_affiliate_creates_a_smart_link_on_a_phone_and_copies_its_url(
    browser: Browser, live_server, screens
):
    affiliate = AffiliateFactory()
    first = CampaignFactory(name=LONG_NAME)
    second = CampaignFactory(name="Backup offer")
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    log_in(page, affiliate.user.email, DEFAULT_PASSWORD)

    page.goto("/portal/affiliate/smart-links/")
    screens.take(page, "empty")
    page.locator("#id_name").fill("Phone rotation")
    page.locator("#id_catch_all_url").fill("https://backup.example/?s={sub1}")
    page.get_by_role("checkbox", name=LONG_NAME, exact=True).check()
    page.get_by_label(f"Weight of {LONG_NAME}").fill("70")
    page.get_by_role("checkbox", name="Backup offer", exact=True).check()
    page.get_by_label("Priority of Backup offer").fill("2")
    page.get_by_role("button", name="Create smart link").click()
    page.wait_for_load_state("load")
    screens.take(page, "created")

    smart_link = SmartLink.objects.get()
    field = page.get_by_label("Smart link URL")
    assert field.input_value().endswith(f"/s/{smart_link.token}")
    page.get_by_role("button", name="Copy").first.click()
    assert page.evaluate("navigator.clipboard.readText()") == field.input_value()
    assert list(
        smart_link.entries.order_by("priority").values_list("campaign_id", "priority", "weight")
    ) == [(first.pk, 1, 70), (second.pk, 2, 100)]
    layout = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert layout[0] <= layout[1]

    page.get_by_role("link", name="Edit").click()
    page.wait_for_load_state("load")
    screens.take(page, "edit")
    layout = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert layout[0] <= layout[1]
    context.close()
