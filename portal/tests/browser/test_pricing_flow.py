"""Conversion events and pricing rules in a real browser: the advertiser adds an event, a rule,
previews which rule pays, imports a CSV file (checked first, then applied from the page's own
hidden copy of the file), and the affiliate reads its payout per event."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import DEFAULT_PASSWORD, AdvertiserFactory, AffiliateFactory
from campaigns.models import ConversionEvent, PricingRule
from campaigns.tests.factories import CampaignFactory, TrackingLinkFactory
from portal.tests.browser.support import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_events_rules_preview_and_import_then_the_affiliates_payout(new_page, screens, tmp_path):
    advertiser = AdvertiserFactory(user__email="ads@acme.test")
    affiliate = AffiliateFactory(company="Traffic Co", user__email="aff@traffic.test")
    campaign = CampaignFactory(
        advertiser=advertiser, name="Spring sale", payout_type="fixed", payout_amount="1"
    )
    TrackingLinkFactory(campaign=campaign, affiliate=affiliate)

    # An event with a cap, added from the campaign page.
    adv = new_page()
    log_in(adv, "ads@acme.test", DEFAULT_PASSWORD)
    adv.goto(f"/portal/advertiser/campaigns/{campaign.pk}/")
    adv.get_by_role("link", name="Add an event").click()
    adv.get_by_label("Code").fill("sale")
    adv.get_by_label("Name:", exact=True).fill("Sale")
    adv.get_by_label("Payout model").select_option("revshare")
    adv.get_by_label("Revenue share %").fill("30")
    adv.get_by_label("Cap 1 period").select_option("day")
    adv.get_by_label("Cap 1 limit").fill("50")
    screens.take(adv, "event-new")
    adv.get_by_role("button", name="Create event").click()
    expect(adv.locator(".message-success")).to_have_text("Event “Sale” (sale) saved.")
    expect(adv.locator("#events tbody tr")).to_have_count(2)
    screens.take(adv, "campaign-events")
    sale = ConversionEvent.objects.get(code="sale")

    # A rule for this affiliate in GB, then the preview names it.
    adv.get_by_role("link", name="Pricing rules").click()
    adv.get_by_role("link", name="New rule").click()
    adv.get_by_label("Event").select_option(str(sale.pk))
    adv.get_by_label("Affiliate id").fill(str(affiliate.pk))
    adv.get_by_label("Country").fill("GB")
    adv.get_by_label("Fixed payout").fill("12")
    adv.get_by_role("button", name="Create rule").click()
    rule = PricingRule.objects.get()
    expect(adv.locator(".message-success")).to_have_text(f"Pricing rule #{rule.pk} saved.")
    adv.locator("#id_preview_affiliate").fill(str(affiliate.pk))
    adv.locator("#id_preview_event").select_option(str(sale.pk))
    adv.locator("#id_preview_country").fill("gb")
    adv.get_by_role("button", name="Preview").click()
    expect(adv.locator(".preview-out")).to_contain_text(
        f"affiliate {affiliate.pk}, event sale, country GB → rule #{rule.pk}"
    )
    expect(adv.locator(".preview-out")).to_contain_text("pays $12.00")
    screens.take(adv, "pricing-rules-preview")

    # The import: the check writes nothing; Apply sends the checked file back.
    csv_file = tmp_path / "rules.csv"
    csv_file.write_text(
        f"id,country,payout_type,payout_amount\n{rule.pk},,,15\n,DE,fixed,3\n", encoding="utf-8"
    )
    adv.get_by_role("link", name="Import CSV").click()
    adv.get_by_label("CSV file").set_input_files(str(csv_file))
    adv.get_by_role("button", name="Check the file").click()
    expect(
        adv.get_by_text("1 to create · 1 to update · 0 unchanged · 0 with errors")
    ).to_be_visible()
    screens.take(adv, "pricing-import-checked")
    assert PricingRule.objects.count() == 1
    adv.get_by_role("button", name="Apply import").click()
    expect(adv.locator(".message-success")).to_have_text(
        "Import applied: 1 created, 1 updated, 0 unchanged."
    )
    rule.refresh_from_db()
    assert rule.payout_amount == Decimal("15.0000")
    assert PricingRule.objects.filter(country="DE", payout_amount=Decimal("3")).count() == 1

    # The affiliate's campaign page: its payout per event.
    aff = new_page()
    log_in(aff, "aff@traffic.test", DEFAULT_PASSWORD)
    aff.goto("/portal/affiliate/campaigns/")
    aff.get_by_role("link", name="Spring sale").click()
    expect(aff.locator("main")).to_contain_text(
        "Conversion: $1.00; DE: $3.00 · Sale: 30.00% of revenue; GB: $15.00; DE: $3.00"
    )
    screens.take(aff, "affiliate-campaign")
