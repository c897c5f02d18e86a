"""What money each role reads through the API: an advertiser never the affiliate's payout, the
margin or EPC (it could compute the network's margin from them); an affiliate never the revenue
nor the margin; the admin everything. Checked on the exact keys of every answer and on the
bodies themselves (JSON and CSV), with amounts no other field carries.

The traffic: two clicks on affiliate 1's link to advertiser 1's 80 % revshare campaign, one
converting for a revenue of 9.8765: payout 7.9012, margin 1.9753, EPC 3.9506.
"""

import csv
import io

import pytest

from campaigns.tests.factories import Network, network
from reporting.services.rollups import stats_refresh
from tracker.models import Conversion
from tracker.tests.factories import ClickFactory, postback

pytestmark = pytest.mark.django_db

REVENUE = "9.8765"
PAYOUT = "7.9012"
MARGIN = "1.9753"
EPC = "3.9506"
ROLES = ("admin", "advertiser1", "affiliate1")

# Amounts each role must never find anywhere in a body.
HIDDEN = {
    "admin": (),
    "advertiser1": (PAYOUT, MARGIN, EPC),
    "affiliate1": (REVENUE, MARGIN),
}

CONVERSION_KEYS = {
    "id",
    "click_id",
    "campaign_id",
    "affiliate_id",
    "status",
    "reason",
    "currency",
    "transaction_id",
    "user_id",
    "country",
    "sub1",
    "sub2",
    "sub3",
    "sub4",
    "sub5",
    "created_at",
    "updated_at",
    "approved_at",
    "event",
    "event_name",
    "fraud_signals",
}
# What the partner sent when it paid in another currency: revenue, so never an affiliate's.
PARTNER_KEYS = {
    "offer_id",
    "external_conversion_id",
    "original_amount",
    "original_currency",
    "exchange_rate",
}
LIST_KEYS = {
    "admin": CONVERSION_KEYS
    | PARTNER_KEYS
    | {"revenue", "payout", "points_awarded", "margin", "pricing_rule_id"},
    "advertiser1": CONVERSION_KEYS | PARTNER_KEYS | {"revenue", "pricing_rule_id"},
    "affiliate1": CONVERSION_KEYS | {"payout", "points_awarded"},
}
VISIT_KEYS = {"device_id", "ip", "user_agent", "history"}
DETAIL_KEYS = {
    "admin": LIST_KEYS["admin"] | VISIT_KEYS | {"sub_ids", "custom_data", "partner_key_id"},
    "advertiser1": LIST_KEYS["advertiser1"] | VISIT_KEYS | {"sub_ids", "custom_data"},
    "affiliate1": LIST_KEYS["affiliate1"] | VISIT_KEYS,
}
CHANGE_KEYS = {"from_status", "to_status", "source", "reason", "created_at"}
HISTORY_KEYS = {
    "admin": CHANGE_KEYS | {"revenue", "payout", "actor_id", "postback_log_id"},
    "advertiser1": CHANGE_KEYS | {"revenue"},
    "affiliate1": CHANGE_KEYS | {"payout"},
}
REPORT_GROUPS = ["date", "campaign_id", "campaign_name", "currency"]
REPORT_COUNTS = [
    "clicks",
    "unique_clicks",
    "blocked_clicks",
    "conversions",
    "conversions_pending",
    "conversions_approved",
    "conversions_rejected",
    "conversions_reversed",
    "conversion_rate",
]
REPORT_MONEY = {
    "admin": ["revenue", "payout", "margin", "epc"],
    "advertiser1": ["revenue"],
    "affiliate1": ["payout", "epc"],
}


@pytest.fixture
def traffic() -> tuple[Network, Conversion]:
    net = network()
    ClickFactory(link=net.link1)
    click = ClickFactory(link=net.link1, user_id="player-1")
    conversion = postback(
        net.key1, click_id=click.click_id, payout=REVENUE, transaction_id="T-1", note="free"
    )
    assert (str(conversion.revenue), str(conversion.payout)) == (REVENUE, PAYOUT)
    stats_refresh()
    return net, conversion


def _leaks(role: str, text: str) -> list[str]:
    return [amount for amount in HIDDEN[role] if amount in text]


@pytest.mark.parametrize("role", ROLES)
def test_conversion_list_and_detail_carry_exactly_the_roles_money(role, traffic):
    net, conversion = traffic
    client = net.client_as(role)

    listing = client.get("/api/conversions")
    detail = client.get(f"/api/conversions/{conversion.pk}")

    assert (listing.status_code, detail.status_code) == (200, 200)
    (row,) = listing.json()["results"]
    body = detail.json()
    assert set(row) == LIST_KEYS[role]
    assert set(body) == DETAIL_KEYS[role]
    assert [set(change) for change in body["history"]] == [HISTORY_KEYS[role]]
    assert _leaks(role, listing.content.decode() + detail.content.decode()) == []


def test_the_status_change_answer_shows_the_advertiser_no_payout(traffic):
    net, conversion = traffic

    response = net.client_as("advertiser1").post(
        f"/api/conversions/{conversion.pk}/status",
        {"status": "reversed", "reason": "chargeback"},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == DETAIL_KEYS["advertiser1"]
    assert [set(change) for change in body["history"]] == [HISTORY_KEYS["advertiser1"]] * 2
    assert _leaks("advertiser1", response.content.decode()) == []


@pytest.mark.parametrize(
    ("role", "ordering", "status_code"),
    [
        ("admin", "payout", 200),
        ("admin", "-revenue", 200),
        ("affiliate1", "-payout", 200),
        ("advertiser1", "revenue", 200),
        # Sorting by a hidden amount would rank the conversions by it: refused like a typo.
        ("advertiser1", "payout", 400),
        ("advertiser1", "-payout", 400),
        ("affiliate1", "revenue", 400),
    ],
)
def test_conversions_sort_only_by_the_money_the_role_sees(role, ordering, status_code, traffic):
    net, _ = traffic

    response = net.client_as(role).get("/api/conversions", {"ordering": ordering})

    assert response.status_code == status_code
    if status_code == 400:
        body = response.json()
        assert (body["code"], list(body["fields"])) == ("invalid", ["ordering"])


@pytest.mark.parametrize("role", ROLES)
def test_report_json_and_csv_carry_exactly_the_roles_columns(role, traffic):
    net, _ = traffic
    client = net.client_as(role)
    query = "/api/reports?group_by=day,campaign"
    columns = REPORT_GROUPS + REPORT_COUNTS + REPORT_MONEY[role]

    report = client.get(query)
    export = client.get(f"{query}&format=csv")

    assert (report.status_code, export.status_code) == (200, 200)
    body = report.json()
    assert [list(row) for row in body["results"]] == [columns]
    assert [list(row) for row in body["totals"]] == [["currency", *columns[4:]]]
    text = b"".join(export.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == columns
    assert len(rows) == 2
    assert _leaks(role, report.content.decode() + text) == []


@pytest.mark.parametrize("role", ["admin", "advertiser1"])
def test_campaign_analytics_carries_exactly_the_roles_columns(role, traffic):
    net, _ = traffic

    response = net.client_as(role).get(f"/api/analytics/campaign/{net.campaign1.pk}")

    assert response.status_code == 200
    body = response.json()
    assert list(body["totals"]) == REPORT_COUNTS + REPORT_MONEY[role]
    assert {tuple(day) for day in body["daily"]} == {("date", *REPORT_COUNTS, *REPORT_MONEY[role])}
    assert body["totals"]["revenue"] == REVENUE
    assert _leaks(role, response.content.decode()) == []


@pytest.mark.parametrize(
    ("role", "amount"), [("admin", REVENUE), ("advertiser1", REVENUE), ("affiliate1", PAYOUT)]
)
def test_legacy_conversion_list_shows_each_role_its_own_amount(role, amount, traffic):
    net, _ = traffic

    response = net.client_as(role).get("/conversions")

    assert response.status_code == 200
    assert [row["amount"] for row in response.json()["data"]] == [amount]
    assert _leaks(role, response.content.decode()) == []
