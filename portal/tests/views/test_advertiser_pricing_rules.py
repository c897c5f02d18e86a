"""The advertiser portal's pricing rules: the table with its filters, the rule editor, delete,
the price preview and the CSV import (a dry run that writes nothing, then apply)."""

import base64
import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns.events import event_create
from campaigns.models import PricingRule
from campaigns.pricing_rules import pricing_rule_create
from campaigns.tests.factories import network
from portal.tests.factories import portal_client
from tracker.tests.factories import ClickFactory, postback

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)

RULE_POST = {
    "event": "",
    "affiliate": "",
    "country": "gb",
    "sub1": "",
    "starts_at": "2026-12-01T00:00",
    "ends_at": "",
    "payout_type": "fixed",
    "payout_amount": "12",
    "revshare_percent": "0",
    "revenue_amount": "",
    "note": "UK push",
}


def _rules_world():
    net = network()
    sale = event_create(
        campaign=net.campaign1,
        data={"code": "sale", "name": "Sale", "payout_type": "revshare", "revshare_percent": "30"},
    )
    everyone_gb = pricing_rule_create(
        campaign=net.campaign1, data={"country": "GB", "payout_type": "fixed", "payout_amount": "5"}
    )
    affiliate_sale = pricing_rule_create(
        campaign=net.campaign1,
        data={
            "event": "sale",
            "affiliate": net.affiliate1.pk,
            "payout_type": "fixed",
            "payout_amount": "12",
        },
    )
    ended = pricing_rule_create(
        campaign=net.campaign1,
        data={
            "payout_type": "fixed",
            "payout_amount": "1",
            "starts_at": "2026-01-01",
            "ends_at": "2026-02-01",
        },
    )
    return net, sale, everyone_gb, affiliate_sale, ended


def _ids(response) -> list[int]:
    return [row.rule.pk for row in response.context["rows"]]


@time_machine.travel(NOW, tick=False)
def test_the_rules_table_describes_each_rule_and_filters_by_event_affiliate_and_validity():
    net, sale, everyone_gb, affiliate_sale, ended = _rules_world()
    client = portal_client(net, "advertiser1")
    path = f"/portal/advertiser/campaigns/{net.campaign1.pk}/pricing-rules/"

    everything = client.get(path)
    by_event = client.get(path, {"event": sale.pk})
    no_event = client.get(path, {"event": "all"})
    by_affiliate = client.get(path, {"affiliate": net.affiliate1.pk})
    active = client.get(path, {"active": "now"})
    inactive = client.get(path, {"active": "not"})

    assert _ids(everything) == [ended.pk, affiliate_sale.pk, everyone_gb.pk]
    assert [(row.applies_to, row.terms, row.active) for row in everything.context["rows"]] == [
        ("everyone", "$1.00", False),
        (f"affiliate #{net.affiliate1.pk}, event sale", "$12.00", True),
        ("GB", "$5.00", True),
    ]
    assert _ids(by_event) == [affiliate_sale.pk]
    assert _ids(no_event) == [ended.pk, everyone_gb.pk]
    assert _ids(by_affiliate) == [affiliate_sale.pk]
    assert _ids(active) == [affiliate_sale.pk, everyone_gb.pk]
    assert _ids(inactive) == [ended.pk]
    assert everything.context["form"].fields["affiliate"].choices[2] == (
        str(net.affiliate1.pk),
        net.affiliate1.company or net.affiliate1.user.email,
    )


@time_machine.travel(NOW, tick=False)
def test_creating_and_editing_a_rule_goes_through_the_service():
    net = network()
    client = portal_client(net, "advertiser1")

    created = client.post(
        f"/portal/advertiser/campaigns/{net.campaign1.pk}/pricing-rules/new/",
        {**RULE_POST, "affiliate": str(net.affiliate1.pk)},
        follow=True,
    )
    rule = PricingRule.objects.get()
    page = client.get(f"/portal/advertiser/pricing-rules/{rule.pk}/")
    edited = client.post(
        f"/portal/advertiser/pricing-rules/{rule.pk}/",
        {**RULE_POST, "payout_type": "revshare", "revshare_percent": "40", "sub1": "promo"},
    )

    assert created.redirect_chain == [
        (f"/portal/advertiser/campaigns/{net.campaign1.pk}/pricing-rules/", 302)
    ]
    assert f"Pricing rule #{rule.pk} saved." in created.content.decode()
    assert page.context["form"].initial["starts_at"] == "2026-12-01T00:00"
    assert page.context["form"].initial["affiliate"] == str(net.affiliate1.pk)
    assert edited.status_code == 302
    rule.refresh_from_db()
    assert (
        rule.campaign_id,
        rule.affiliate_id,
        rule.country,
        rule.sub1,
        rule.starts_at,
        rule.payout_type,
        rule.revshare_percent,
        rule.note,
    ) == (
        net.campaign1.pk,
        None,
        "GB",
        "promo",
        dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
        "revshare",
        Decimal("40.0000"),
        "UK push",
    )


def test_the_services_refusals_show_under_the_rule_fields():
    net = network()

    response = portal_client(net, "advertiser1").post(
        f"/portal/advertiser/campaigns/{net.campaign1.pk}/pricing-rules/new/",
        {
            **RULE_POST,
            "affiliate": "999999",
            "country": "GBR",
            "ends_at": "2026-11-01T00:00",
        },
    )

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"country"}  # the form's own max_length
    response = portal_client(net, "advertiser1").post(
        f"/portal/advertiser/campaigns/{net.campaign1.pk}/pricing-rules/new/",
        {**RULE_POST, "affiliate": "999999", "country": "1x", "ends_at": "2026-11-01T00:00"},
    )
    assert set(response.context["form"].errors) == {"affiliate", "country", "ends_at"}
    assert PricingRule.objects.count() == 0


def test_deleting_a_rule_and_a_rule_that_priced_conversions_is_refused():
    net = network()
    client = portal_client(net, "advertiser1")
    unused = pricing_rule_create(
        campaign=net.campaign1, data={"country": "FR", "payout_type": "fixed", "payout_amount": "2"}
    )
    used = pricing_rule_create(
        campaign=net.campaign1, data={"payout_type": "fixed", "payout_amount": "3"}
    )
    conversion = postback(net.key1, click_id=ClickFactory(link=net.link1).click_id)

    deleted = client.post(f"/portal/advertiser/pricing-rules/{unused.pk}/delete/", follow=True)
    refused = client.post(f"/portal/advertiser/pricing-rules/{used.pk}/delete/", follow=True)

    assert conversion.pricing_rule_id == used.pk
    assert f"Pricing rule #{unused.pk} deleted." in deleted.content.decode()
    assert "This rule priced conversions and cannot be deleted" in refused.content.decode()
    assert list(PricingRule.objects.values_list("pk", flat=True)) == [used.pk]


@time_machine.travel(NOW, tick=False)
def test_the_preview_names_the_winning_rule_and_the_rules_it_beats():
    net, sale, everyone_gb, affiliate_sale, _ = _rules_world()
    client = portal_client(net, "advertiser1")
    path = f"/portal/advertiser/campaigns/{net.campaign1.pk}/pricing-rules/"
    query = {"preview_affiliate": net.affiliate1.pk, "preview_event": sale.pk}

    won = client.get(path, {**query, "preview_country": "gb", "preview_sub1": "promo"})
    own_terms = client.get(path, {**query, "preview_affiliate": net.affiliate2.pk})
    in_january = client.get(
        path,
        {**query, "preview_affiliate": net.affiliate2.pk, "preview_date": "2026-01-15"},
    )

    preview = won.context["preview"]
    assert preview.criteria == f"affiliate {net.affiliate1.pk}, event sale, country GB, sub1 promo"
    assert (preview.winner.rule.pk, preview.winner.terms) == (affiliate_sale.pk, "$12.00")
    assert [row.rule.pk for row in preview.beaten] == [everyone_gb.pk]
    assert preview.event_terms == "30.00% of revenue"
    html = won.content.decode()
    assert "pays $12.00" in html
    assert own_terms.context["preview"].winner is None
    assert "the event's own terms pay 30.00% of revenue" in own_terms.content.decode()
    assert in_january.context["preview"].winner.terms == "$1.00"


def test_another_advertisers_rules_and_pages_are_not_found():
    net = network()
    theirs = pricing_rule_create(
        campaign=net.campaign2, data={"payout_type": "fixed", "payout_amount": "2"}
    )
    client = portal_client(net, "advertiser1")
    campaign2 = f"/portal/advertiser/campaigns/{net.campaign2.pk}/pricing-rules/"

    statuses = [
        client.get(f"/portal/advertiser/pricing-rules/{theirs.pk}/").status_code,
        client.post(f"/portal/advertiser/pricing-rules/{theirs.pk}/", RULE_POST).status_code,
        client.post(f"/portal/advertiser/pricing-rules/{theirs.pk}/delete/").status_code,
        client.get(campaign2).status_code,
        client.get(f"{campaign2}new/").status_code,
        client.get(f"{campaign2}import/").status_code,
        client.get(f"{campaign2}template.csv").status_code,
    ]

    assert statuses == [404] * 7
    assert PricingRule.objects.filter(pk=theirs.pk).exists()


# --- import ------------------------------------------------------------------------------------

IMPORT_CSV = (
    "id,event,affiliate,country,payout_type,payout_amount,note\n"
    "{rule},,,,,7,raised\n"
    ",sale,{affiliate},GB,fixed,12,new\n"
)


def _upload(content: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("rules.csv", content.encode(), content_type="text/csv")


def test_an_import_dry_run_writes_nothing_then_apply_writes_what_it_showed():
    net = network()
    event_create(
        campaign=net.campaign1, data={"code": "sale", "name": "Sale", "payout_type": "fixed"}
    )
    rule = pricing_rule_create(
        campaign=net.campaign1, data={"payout_type": "fixed", "payout_amount": "5"}
    )
    client = portal_client(net, "advertiser1")
    path = f"/portal/advertiser/campaigns/{net.campaign1.pk}/pricing-rules/import/"
    content = IMPORT_CSV.format(rule=rule.pk, affiliate=net.affiliate1.pk)

    dry = client.post(path, {"file": _upload(content)})

    result = dry.context["result"]
    assert [(row.line, row.action, row.rule_id) for row in result.rows] == [
        (2, "update", rule.pk),
        (3, "create", None),
    ]
    assert result.rows[0].changes == {
        "payout_amount": ["5.0000", "7.0000"],
        "note": ["", "raised"],
    }
    assert PricingRule.objects.count() == 1
    rule.refresh_from_db()
    assert rule.payout_amount == Decimal("5.0000")
    html = dry.content.decode()
    assert "Apply import" in html
    assert dry.context["content_b64"] == base64.b64encode(content.encode()).decode()

    applied = client.post(path, {"content": dry.context["content_b64"], "apply": "1"}, follow=True)

    assert applied.redirect_chain == [
        (f"/portal/advertiser/campaigns/{net.campaign1.pk}/pricing-rules/", 302)
    ]
    assert "Import applied: 1 created, 1 updated, 0 unchanged." in applied.content.decode()
    rule.refresh_from_db()
    assert (rule.payout_amount, rule.note) == (Decimal("7.0000"), "raised")
    new = PricingRule.objects.exclude(pk=rule.pk).get()
    assert (new.event.code, new.affiliate_id, new.country, new.payout_amount) == (
        "sale",
        net.affiliate1.pk,
        "GB",
        Decimal("12.0000"),
    )


def test_an_import_with_an_error_row_shows_it_and_offers_no_apply():
    net = network()
    client = portal_client(net, "advertiser1")
    path = f"/portal/advertiser/campaigns/{net.campaign1.pk}/pricing-rules/import/"
    content = "country,payout_type,payout_amount\nGB,fixed,3\nnowhere,fixed,3\n"

    dry = client.post(path, {"file": _upload(content)})
    forced = client.post(
        path, {"content": base64.b64encode(content.encode()).decode(), "apply": "1"}
    )

    assert [(row.action, row.errors) for row in dry.context["result"].rows] == [
        ("create", {}),
        (
            "error",
            {"country": ["An ISO 3166-1 alpha-2 country code (GB, US, ...) or empty for all."]},
        ),
    ]
    assert "Apply import" not in dry.content.decode()
    assert forced.status_code == 200
    assert forced.context["result"].dry_run is False
    assert PricingRule.objects.count() == 0


def test_a_file_that_is_not_a_rules_csv_is_an_error_under_the_file_field():
    net = network()
    client = portal_client(net, "advertiser1")
    path = f"/portal/advertiser/campaigns/{net.campaign1.pk}/pricing-rules/import/"

    no_file = client.post(path, {})
    wrong_header = client.post(path, {"file": _upload("name,amount\nx,1\n")})
    not_base64 = client.post(path, {"content": "@@@", "apply": "1"})

    assert no_file.context["form"].errors == {"file": ["Choose a CSV file."]}
    assert (
        wrong_header.context["form"]
        .errors["file"][0]
        .startswith("The first line names the columns")
    )
    assert not_base64.context["form"].errors == {"file": ["Upload the file again."]}
    assert PricingRule.objects.count() == 0


def test_the_template_csv_has_the_import_columns_and_the_campaigns_rules():
    net = network()
    event_create(
        campaign=net.campaign1, data={"code": "sale", "name": "Sale", "payout_type": "fixed"}
    )
    rule = pricing_rule_create(
        campaign=net.campaign1,
        data={
            "event": "sale",
            "affiliate": net.affiliate1.pk,
            "country": "GB",
            "starts_at": "2026-12-01",
            "payout_type": "fixed",
            "payout_amount": "12",
        },
    )
    pricing_rule_create(campaign=net.campaign2, data={"payout_type": "fixed"})

    response = portal_client(net, "advertiser1").get(
        f"/portal/advertiser/campaigns/{net.campaign1.pk}/pricing-rules/template.csv"
    )

    lines = b"".join(response.streaming_content).decode().splitlines()
    assert response["Content-Disposition"] == (
        f'attachment; filename="pricing-rules-{net.campaign1.pk}.csv"'
    )
    assert lines == [
        "id,event,affiliate,country,sub1,starts_at,ends_at,payout_type,payout_amount,"
        "revshare_percent,revenue_amount,note",
        f"{rule.pk},sale,{net.affiliate1.pk},GB,,2026-12-01T00:00:00Z,,fixed,12.0000,0.0000,,",
    ]
