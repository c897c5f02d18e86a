"""`/api/campaigns/<id>/pricing-rules` (list, create, import, preview) and
`/api/pricing-rules/<id>`: owner advertiser and admins only."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns.models import PricingRule
from campaigns.tests.factories import ConversionEventFactory, PricingRuleFactory, network
from core.tests.api_bodies import ADMIN_OR_ADVERTISER_FORBIDDEN, iso, not_found
from tracker.tests.factories import ClickFactory, postback

pytestmark = pytest.mark.django_db

RULE_NOT_FOUND = not_found("Pricing rule not found.")
CAMPAIGN_NOT_FOUND = not_found("Campaign not found.")
NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)


def rule_body(rule: PricingRule, **changes) -> dict:
    rule.refresh_from_db()
    body = {
        "id": rule.pk,
        "campaign": rule.campaign_id,
        "event": rule.event_id,
        "event_code": rule.event.code if rule.event else None,
        "affiliate": rule.affiliate_id,
        "country": rule.country,
        "sub1": rule.sub1,
        "starts_at": iso(rule.starts_at),
        "ends_at": iso(rule.ends_at),
        "payout_type": rule.payout_type,
        "payout_amount": f"{rule.payout_amount:.4f}",
        "revshare_percent": f"{rule.revshare_percent:.4f}",
        "revenue_amount": None if rule.revenue_amount is None else f"{rule.revenue_amount:.4f}",
        "note": rule.note,
        "description": changes.pop("description", "everyone"),
        "specificity": rule.specificity,
        "is_active": True,
        "created_at": iso(rule.created_at),
        "updated_at": iso(rule.updated_at),
    }
    body.update(changes)
    return body


def _rules_url(net, campaign=None) -> str:
    return f"/api/campaigns/{(campaign or net.campaign1).pk}/pricing-rules"


def _counts() -> tuple[int, list]:
    return PricingRule.objects.count(), list(PricingRule.objects.order_by("pk").values())


# --- list and filters -------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_owner_lists_its_campaigns_rules_newest_first():
    net = network()
    sale = ConversionEventFactory(campaign=net.campaign1, code="sale")
    first = PricingRuleFactory(campaign=net.campaign1)
    second = PricingRuleFactory(
        campaign=net.campaign1, event=sale, affiliate=net.affiliate1, country="GB"
    )
    PricingRuleFactory(campaign=net.campaign2)

    response = net.client_as("advertiser1").get(_rules_url(net))

    assert response.status_code == 200
    assert response.json() == {
        "count": 2,
        "next": None,
        "previous": None,
        "results": [
            rule_body(second, description=f"affiliate #{net.affiliate1.pk}, event sale, GB"),
            rule_body(first),
        ],
    }


@time_machine.travel(NOW, tick=False)
def test_rule_list_filters_by_event_affiliate_country_and_activity():
    net = network()
    sale = ConversionEventFactory(campaign=net.campaign1, code="sale")
    everyone = PricingRuleFactory(campaign=net.campaign1)
    on_sale = PricingRuleFactory(campaign=net.campaign1, event=sale)
    mine = PricingRuleFactory(campaign=net.campaign1, affiliate=net.affiliate1, country="GB")
    ended = PricingRuleFactory(campaign=net.campaign1, ends_at=NOW - dt.timedelta(hours=1))
    future = PricingRuleFactory(campaign=net.campaign1, starts_at=NOW + dt.timedelta(hours=1))
    client = net.client_as("admin")

    def ids(**params) -> list[int]:
        response = client.get(_rules_url(net), params)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids(event="SALE") == [on_sale.pk]
    assert ids(affiliate=net.affiliate1.pk) == [mine.pk]
    assert ids(country="gb") == [mine.pk]
    assert ids(active="true") == [mine.pk, on_sale.pk, everyone.pk]
    assert ids(active="false") == [future.pk, ended.pk]
    assert client.get(_rules_url(net), {"active": "maybe"}).status_code == 400


@pytest.mark.parametrize(
    ("role", "status_code", "expected"),
    [
        ("affiliate1", 403, ADMIN_OR_ADVERTISER_FORBIDDEN),
        ("advertiser2", 404, CAMPAIGN_NOT_FOUND),
    ],
)
def test_rule_list_refusals(role, status_code, expected):
    net = network()
    PricingRuleFactory(campaign=net.campaign1, affiliate=net.affiliate1)

    response = net.client_as(role).get(_rules_url(net))

    assert (response.status_code, response.json()) == (status_code, expected)


def test_rule_list_queries_do_not_grow_with_rows(django_assert_max_num_queries):
    net = network()
    client = net.client_as("advertiser1")
    sale = ConversionEventFactory(campaign=net.campaign1)
    PricingRuleFactory(campaign=net.campaign1, event=sale, affiliate=net.affiliate1)
    with django_assert_max_num_queries(8) as few:
        client.get(_rules_url(net))
    for _ in range(5):
        PricingRuleFactory(campaign=net.campaign1, event=sale, affiliate=net.affiliate2)

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(_rules_url(net))

    assert response.json()["count"] == 6


# --- create, detail, change, delete -----------------------------------------------------------


def test_owner_creates_a_rule_naming_the_event_by_code():
    net = network()
    ConversionEventFactory(campaign=net.campaign1, code="sale")

    response = net.client_as("advertiser1").post(
        _rules_url(net),
        {
            "event": "sale",
            "affiliate": net.affiliate1.pk,
            "country": "gb",
            "starts_at": "2099-07-01T00:00:00Z",
            "payout_type": "revshare",
            "revshare_percent": "55",
            "revenue_amount": "30",
            "note": "summer deal",
        },
        format="json",
    )

    rule = PricingRule.objects.get()
    assert response.status_code == 201
    assert response.json() == rule_body(
        rule,
        description=f"affiliate #{net.affiliate1.pk}, event sale, GB",
        is_active=False,
    )
    assert (rule.country, rule.revshare_percent, rule.revenue_amount) == (
        "GB",
        Decimal("55.0000"),
        Decimal("30.0000"),
    )


def test_creating_a_rule_refuses_another_campaigns_event_and_an_end_before_the_start():
    net = network()
    other = ConversionEventFactory(campaign=net.campaign2, code="sale")

    response = net.client_as("admin").post(
        _rules_url(net),
        {
            "event": other.pk,
            "starts_at": "2026-07-02T00:00:00Z",
            "ends_at": "2026-07-01T00:00:00Z",
            "payout_type": "fixed",
        },
        format="json",
    )

    assert response.status_code == 400
    assert (response.json()["code"], sorted(response.json()["fields"])) == (
        "invalid",
        ["ends_at", "event"],
    )
    assert not PricingRule.objects.exists()


def test_rule_detail_change_and_refusals():
    net = network()
    rule = PricingRuleFactory(campaign=net.campaign1, affiliate=net.affiliate1)
    url = f"/api/pricing-rules/{rule.pk}"

    changed = net.client_as("advertiser1").patch(url, {"payout_amount": "7.25"}, format="json")
    seen = net.client_as("admin").get(url)
    stranger = net.client_as("advertiser2").patch(url, {"payout_amount": "0"}, format="json")
    affiliate = net.client_as("affiliate1").get(url)

    description = f"affiliate #{net.affiliate1.pk}"
    assert (changed.status_code, changed.json()) == (
        200,
        rule_body(rule, description=description),
    )
    assert rule.payout_amount == Decimal("7.2500")
    assert (seen.status_code, seen.json()) == (200, rule_body(rule, description=description))
    assert (stranger.status_code, stranger.json()) == (404, RULE_NOT_FOUND)
    assert (affiliate.status_code, affiliate.json()) == (403, ADMIN_OR_ADVERTISER_FORBIDDEN)


def test_deleting_a_rule_that_priced_conversions_is_a_conflict():
    net = network()
    used = PricingRuleFactory(campaign=net.campaign1, affiliate=net.affiliate1)
    click = ClickFactory(link=net.link1)
    conversion = postback(net.key1, click_id=click.click_id, payout="5")
    unused = PricingRuleFactory(campaign=net.campaign1, country="FR")
    client = net.client_as("advertiser1")

    refused = client.delete(f"/api/pricing-rules/{used.pk}")
    deleted = client.delete(f"/api/pricing-rules/{unused.pk}")

    assert conversion.pricing_rule_id == used.pk
    assert (refused.status_code, refused.json()["code"]) == (409, "pricing_rule_in_use")
    assert deleted.status_code == 204
    assert list(PricingRule.objects.values_list("pk", flat=True)) == [used.pk]


# --- import -----------------------------------------------------------------------------------


CSV = (
    "id,event,affiliate,country,payout_type,payout_amount,note\n"
    "{existing},,,,fixed,8,raised\n"
    ",sale,{affiliate},GB,fixed,6,new\n"
)


def _import(client, net, content: str, *, dry_run: bool | None = None, as_file: bool = True):
    url = f"{_rules_url(net)}/import"
    if dry_run is not None:
        url += f"?dry_run={'true' if dry_run else 'false'}"
    if as_file:
        upload = SimpleUploadedFile("rules.csv", content.encode(), content_type="text/csv")
        return client.post(url, {"file": upload}, format="multipart")
    return client.post(url, content, content_type="text/csv")


def test_import_dry_run_writes_nothing_and_the_real_import_does_what_it_said():
    net = network()
    ConversionEventFactory(campaign=net.campaign1, code="sale")
    existing = PricingRuleFactory(campaign=net.campaign1, payout_amount=3)
    content = CSV.format(existing=existing.pk, affiliate=net.affiliate1.pk)
    client = net.client_as("advertiser1")
    before = _counts()

    dry = _import(client, net, content, dry_run=True)
    after_dry_run = _counts()
    real = _import(client, net, content, as_file=False)

    assert after_dry_run == before
    assert dry.status_code == 200
    assert dry.json() == {
        "dry_run": True,
        "counts": {"create": 1, "update": 1, "unchanged": 0, "error": 0},
        "rows": [
            {
                "line": 2,
                "action": "update",
                "rule_id": existing.pk,
                "changes": {"payout_amount": ["3.0000", "8.0000"], "note": ["", "raised"]},
                "errors": {},
            },
            {
                "line": 3,
                "action": "create",
                "rule_id": None,
                "changes": {
                    "event": ["", "sale"],
                    "affiliate": ["", str(net.affiliate1.pk)],
                    "country": ["", "GB"],
                    "payout_type": ["", "fixed"],
                    "payout_amount": ["", "6.0000"],
                    "revshare_percent": ["", "0"],
                    "note": ["", "new"],
                },
                "errors": {},
            },
        ],
    }
    created = PricingRule.objects.exclude(pk=existing.pk).get()
    expected = dry.json()
    expected["dry_run"] = False
    expected["rows"][1]["rule_id"] = created.pk
    assert (real.status_code, real.json()) == (200, expected)
    existing.refresh_from_db()
    assert (existing.payout_amount, existing.note) == (Decimal("8.0000"), "raised")
    assert (created.country, created.affiliate_id, created.payout_amount) == (
        "GB",
        net.affiliate1.pk,
        Decimal("6.0000"),
    )


def test_import_dry_run_as_a_form_field():
    net = network()
    upload = SimpleUploadedFile("rules.csv", b"payout_type,payout_amount\nfixed,1\n")

    response = net.client_as("admin").post(
        f"{_rules_url(net)}/import", {"file": upload, "dry_run": "true"}, format="multipart"
    )

    assert (response.status_code, response.json()["dry_run"]) == (200, True)
    assert not PricingRule.objects.exists()


def test_a_real_import_with_an_error_row_writes_nothing_and_answers_the_rows():
    net = network()
    content = "country,payout_type,payout_amount\nGB,fixed,2\nGBR,fixed,3\n"
    client = net.client_as("advertiser1")
    before = _counts()

    response = _import(client, net, content)

    assert response.status_code == 400
    body = response.json()
    assert (body["status"], body["code"], body["dry_run"], body["counts"]) == (
        "error",
        "import_has_errors",
        False,
        {"create": 1, "update": 0, "unchanged": 0, "error": 1},
    )
    assert body["rows"][1]["action"] == "error"
    assert list(body["rows"][1]["errors"]) == ["country"]
    assert _counts() == before


@pytest.mark.parametrize(
    ("content", "dry_run_param", "code"),
    [
        ("", "", "missing_file"),
        ("country\nGB\n", "", "invalid_csv"),
        ("payout_type\nfixed\n", "?dry_run=yes", "invalid_dry_run"),
        ("payout_type\nfixed\n", "?dryrun=true", "unknown_parameter"),
    ],
)
def test_import_refuses_bad_requests(content, dry_run_param, code):
    net = network()

    response = net.client_as("admin").post(
        f"{_rules_url(net)}/import{dry_run_param}", content, content_type="text/csv"
    )

    assert (response.status_code, response.json()["code"]) == (400, code)
    assert not PricingRule.objects.exists()


def test_import_without_a_file_field_is_refused():
    net = network()

    response = net.client_as("admin").post(
        f"{_rules_url(net)}/import", {"dry_run": "true"}, format="multipart"
    )

    assert (response.status_code, response.json()["code"]) == (400, "missing_file")


@pytest.mark.parametrize(
    ("role", "status_code"), [("affiliate1", 403), ("advertiser2", 404), ("anonymous", 401)]
)
def test_import_refusals_write_nothing(role, status_code):
    net = network()

    response = _import(net.client_as(role), net, "payout_type\nfixed\n")

    assert response.status_code == status_code
    assert not PricingRule.objects.exists()


# --- preview ----------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_preview_names_the_winning_rule_and_those_it_beat():
    net = network()
    sale = ConversionEventFactory(campaign=net.campaign1, code="sale", default_revenue=20)
    everyone = PricingRuleFactory(campaign=net.campaign1, payout_amount=1)
    on_sale = PricingRuleFactory(campaign=net.campaign1, event=sale, payout_amount=2)
    mine_gb = PricingRuleFactory(
        campaign=net.campaign1,
        event=sale,
        affiliate=net.affiliate1,
        country="GB",
        payout_amount=5,
        revenue_amount=Decimal("25"),
    )
    PricingRuleFactory(campaign=net.campaign1, affiliate=net.affiliate2, payout_amount=9)
    client = net.client_as("advertiser1")
    url = f"{_rules_url(net)}/preview"

    gb = client.get(url, {"affiliate": net.affiliate1.pk, "event": "sale", "country": "gb"})
    fr = client.get(url, {"affiliate": net.affiliate1.pk, "event": "sale", "country": "FR"})
    later = client.get(url, {"event": "sale", "at": (NOW + dt.timedelta(days=1)).isoformat()})

    assert (gb.status_code, gb.json()) == (
        200,
        {
            "rule_id": mine_gb.pk,
            "description": f"affiliate #{net.affiliate1.pk}, event sale, GB",
            "event": "sale",
            "payout_type": "fixed",
            "payout_amount": "5.0000",
            "revshare_percent": "0.0000",
            "revenue_amount": "25.0000",
            "beaten": [on_sale.pk, everyone.pk],
        },
    )
    assert (fr.json()["rule_id"], fr.json()["revenue_amount"], fr.json()["beaten"]) == (
        on_sale.pk,
        "20.0000",
        [everyone.pk],
    )
    assert later.json()["rule_id"] == on_sale.pk


def test_preview_without_rules_answers_the_default_events_terms():
    net = network()

    response = net.client_as("admin").get(f"{_rules_url(net)}/preview")

    assert (response.status_code, response.json()) == (
        200,
        {
            "rule_id": None,
            "description": "event terms",
            "event": "default",
            "payout_type": "revshare",
            "payout_amount": "0.0000",
            "revshare_percent": "80.0000",
            "revenue_amount": "0.0000",
            "beaten": [],
        },
    )


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"event": "nope"}, "unknown_event"),
        ({"affiliate": "x"}, "invalid_affiliate"),
        ({"at": "yesterday"}, "invalid_at"),
        ({"campaign": "1"}, "unknown_parameter"),
    ],
)
def test_preview_refuses_bad_parameters(params, code):
    net = network()

    response = net.client_as("advertiser1").get(f"{_rules_url(net)}/preview", params)

    assert (response.status_code, response.json()["code"]) == (400, code)
