"""Two-factor authentication in a real browser: an affiliate sets it up by reading the secret
off the page into an "app" (the test computes the TOTP code from it), confirms it, keeps the
recovery codes, logs out, and logs in again with a code, then with a recovery code.
Screenshots go to artifacts/browser/<test name>/."""

import base64

import pytest
from django_otp.oath import totp
from playwright.sync_api import Page, expect

from accounts.tests.factories import DEFAULT_PASSWORD, AffiliateFactory
from portal.tests.browser.support import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "aff@traffic.test"


def _log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state("load")


def test_set_up_two_factor_then_log_in_with_a_code(new_page, live_server, screens):
    AffiliateFactory(company="Traffic Co", user__email=EMAIL)
    page = new_page()
    log_in(page, EMAIL, DEFAULT_PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/portal/affiliate/")

    # From the account page to the set-up: the secret, its otpauth link and the QR code.
    page.get_by_role("link", name="Your account").click()
    page.get_by_role("link", name="Two-factor authentication").click()
    screens.take(page, "two-factor-off")
    page.get_by_role("button", name="Set up two-factor authentication").click()
    secret = page.get_by_label("Secret key").input_value()
    assert (
        page.get_by_label("Set-up link (otpauth URI)")
        .input_value()
        .startswith(f"otpauth://totp/ClickLedger%3Aaff%40traffic.test?secret={secret}&")
    )
    expect(page.get_by_role("img", name="QR code of the set-up key")).to_be_visible()
    screens.take(page, "two-factor-setup")

    # The "app" computes the code from the secret it was given; typing it turns 2FA on.
    key = base64.b32decode(secret)
    page.get_by_label("Code").fill(f"{totp(key):06d}")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = page.locator(".recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    screens.take(page, "two-factor-recovery-codes")

    # Logging in again: the password, then a code (the next step's: the first one is spent).
    _log_out(page)
    log_in(page, EMAIL, DEFAULT_PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/portal/login/code/")
    screens.take(page, "login-code")
    page.get_by_label("Code").fill(f"{totp(key, drift=1):06d}")
    with page.expect_navigation():
        page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(f"{live_server.url}/portal/affiliate/")

    # And once with a recovery code, which the page then counts as used.
    _log_out(page)
    log_in(page, EMAIL, DEFAULT_PASSWORD)
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(f"{live_server.url}/portal/affiliate/")
    page.goto("/portal/two-factor/")
    expect(page.get_by_text("9 of 10")).to_be_visible()
    screens.take(page, "two-factor-on")
