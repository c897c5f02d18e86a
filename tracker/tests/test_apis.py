"""`/api/clicks`, `/api/conversions`, `/api/conversions/<id>` (+ `/status`) and `/api/points`."""

import datetime as dt
from decimal import Decimal

import pytest

from campaigns.models import LandingPage, SmartLink
from campaigns.tests.factories import ConversionEventFactory, PricingRuleFactory, network
from core.models import AuditEntry
from core.tests.api_bodies import (
    ADMIN_OR_ADVERTISER_FORBIDDEN,
    ADMIN_OR_AFFILIATE_FORBIDDEN,
    ANY_ROLE_FORBIDDEN,
    NOT_AUTHENTICATED,
    invalid_fields_body,
    iso,
    not_found,
)
from tracker.models import (
    ChangeSource,
    Click,
    Conversion,
    ConversionHistory,
    ConversionStatus,
    EndUserPoints,
)
from tracker.tests.factories import ClickFactory, postback

pytestmark = pytest.mark.django_db

CONVERSION_NOT_FOUND = not_found("Conversion not found.")
DAY = dt.datetime(2026, 2, 10, 9, 30, tzinfo=dt.UTC)


def page(results: list) -> dict:
    return {"count": len(results), "next": None, "previous": None, "results": results}


def click_body(click: Click) -> dict:
    return {
        "id": click.pk,
        "click_id": click.click_id,
        "campaign_id": click.campaign_id,
        "affiliate_id": click.affiliate_id,
        "link_id": click.link_id,
        "created_at": iso(click.created_at),
        "ip": "203.0.113.10",
        "user_agent": "Mozilla/5.0 (test)",
        "referer": "",
        "country": click.country,
        "sub1": click.sub1,
        "sub2": "",
        "sub3": "",
        "sub4": "",
        "sub5": "",
        "user_id": click.user_id,
        "extra": click.extra,
        "is_unique": True,
        "blocked_reason": "",
        "device_type": click.device_type,
        "os": click.os,
        "browser": click.browser,
        "landing_page_id": click.landing_page_id,
        "landing_page_name": click.landing_page.name if click.landing_page_id else "",
        "smart_link_id": click.smart_link_id,
        "smart_link_name": click.smart_link.name if click.smart_link_id else "",
        "fraud_signals": click.fraud_signals,
    }


def _conversion_body(conversion: Conversion) -> dict:
    """What every role sees: no money but the currency."""
    conversion.refresh_from_db()
    click = conversion.click
    return {
        "id": conversion.pk,
        "click_id": click.click_id,
        "campaign_id": conversion.campaign_id,
        "affiliate_id": conversion.affiliate_id,
        "event": "default",
        "event_name": "Conversion",
        "status": conversion.status,
        "reason": conversion.reason,
        "currency": "USD",
        "transaction_id": conversion.transaction_id,
        "user_id": conversion.user_id,
        "country": "",
        "sub1": click.sub1,
        "sub2": "",
        "sub3": "",
        "sub4": "",
        "sub5": "",
        "created_at": iso(conversion.created_at),
        "updated_at": iso(conversion.updated_at),
        "approved_at": iso(conversion.approved_at),
        "fraud_signals": conversion.fraud_signals,
    }


def affiliate_conversion_body(conversion: Conversion) -> dict:
    return {
        **_conversion_body(conversion),
        "payout": "4.0000",
        "points_awarded": f"{conversion.points_awarded:.4f}",
    }


def advertiser_conversion_body(conversion: Conversion) -> dict:
    """The revenue and the partner's ids; never the affiliate's payout nor its points."""
    return {
        **_conversion_body(conversion),
        "revenue": "5.0000",
        "pricing_rule_id": None,
        "offer_id": "",
        "external_conversion_id": "",
        "original_amount": None,
        "original_currency": "",
        "exchange_rate": None,
    }


def admin_conversion_body(conversion: Conversion) -> dict:
    return {
        **advertiser_conversion_body(conversion),
        **affiliate_conversion_body(conversion),
        "margin": "1.0000",
    }


def converted(net, *, sub1: str = "", user_id: str = "", **params) -> Conversion:
    click = ClickFactory(link=net.link1, sub1=sub1, user_id=user_id)
    return postback(net.key1, click_id=click.click_id, payout="5.00", **params)


# --- clicks -----------------------------------------------------------------------------------


def test_click_list_scopes_by_role():
    net = network()
    click1 = ClickFactory(link=net.link1)
    click2 = ClickFactory(link=net.link2)

    ids = {
        role: [row["id"] for row in net.client_as(role).get("/api/clicks").json()["results"]]
        for role in ("admin", "advertiser1", "advertiser2", "affiliate1", "affiliate2")
    }

    assert ids == {
        "admin": [click2.pk, click1.pk],
        "advertiser1": [click1.pk],
        "advertiser2": [click2.pk],
        "affiliate1": [click1.pk],
        "affiliate2": [click2.pk],
    }


def test_click_list_body():
    net = network()
    click = ClickFactory(link=net.link1, sub1="banner", user_id="u-1", extra={"gclid": "x"})

    response = net.client_as("affiliate1").get("/api/clicks")

    assert response.status_code == 200
    assert response.json() == page([click_body(click)])


@pytest.mark.parametrize(
    ("role", "status_code", "expected"),
    [
        ("anonymous", 401, NOT_AUTHENTICATED),
        ("pending_affiliate", 403, ANY_ROLE_FORBIDDEN),
        ("pending_advertiser", 403, ANY_ROLE_FORBIDDEN),
    ],
)
def test_click_list_refusals(role, status_code, expected):
    net = network()
    ClickFactory(link=net.link1)

    response = net.client_as(role).get("/api/clicks")

    assert response.status_code == status_code
    assert response.json() == expected


def test_click_list_shows_device_landing_page_smart_link_and_fraud_signals():
    # given a click with all its traffic data and a plain one
    net = network()
    page_ = LandingPage.objects.create(campaign=net.campaign1, name="Quiz", url="https://x.example")
    smart = SmartLink.objects.create(affiliate=net.affiliate1, name="All offers", token="tok-1")
    flagged = ClickFactory(
        link=net.link1,
        device_type="mobile",
        os="Android",
        browser="Chrome Mobile",
        landing_page=page_,
        smart_link=smart,
        fraud_signals=["datacenter", "click_velocity"],
    )
    plain = ClickFactory(link=net.link1, device_type="desktop", os="Windows", browser="Firefox")

    # when the advertiser lists its clicks
    response = net.client_as("advertiser1").get("/api/clicks")

    # then each click names its landing page and smart link and carries its signals
    assert response.status_code == 200
    assert response.json() == page([click_body(plain), click_body(flagged)])
    assert response.json()["results"][1] == {
        **click_body(flagged),
        "landing_page_id": page_.pk,
        "landing_page_name": "Quiz",
        "smart_link_id": smart.pk,
        "smart_link_name": "All offers",
        "fraud_signals": ["datacenter", "click_velocity"],
    }


def test_click_list_filters_by_device_and_fraud_signals():
    net = network()
    flagged = ClickFactory(link=net.link1, device_type="bot", fraud_signals=["bot"])
    other = ClickFactory(
        link=net.link1, device_type="mobile", os="iOS", fraud_signals=["deny_list"]
    )
    clean = ClickFactory(link=net.link1, device_type="mobile", os="Android")
    client = net.client_as("affiliate1")

    def ids(**params) -> list[int]:
        response = client.get("/api/clicks", params)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids(device_type="mobile") == [clean.pk, other.pk]
    assert ids(os="ios") == [other.pk]
    assert ids(has_fraud_signals="true") == [other.pk, flagged.pk]
    assert ids(has_fraud_signals="false") == [clean.pk]
    assert ids(fraud_signal="bot") == [flagged.pk]
    assert client.get("/api/clicks", {"device_type": "phone"}).status_code == 400


def test_click_list_filters():
    net = network()
    old = ClickFactory(link=net.link1, created_at=DAY - dt.timedelta(days=1), sub1="a")
    today = ClickFactory(link=net.link1, created_at=DAY, sub1="b")
    other = ClickFactory(link=net.link2, created_at=DAY, sub1="b")
    client = net.client_as("admin")

    def ids(**params) -> list[int]:
        response = client.get("/api/clicks", params)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids(date_from="2026-02-10", date_to="2026-02-10") == [other.pk, today.pk]
    assert ids(date_to="2026-02-09") == [old.pk]
    assert ids(created_after="2026-02-10T09:30:00Z", created_before="2026-02-10T09:30:01Z") == [
        other.pk,
        today.pk,
    ]
    assert ids(campaign=net.campaign1.pk, sub1="b") == [today.pk]
    assert ids(affiliate=net.affiliate2.pk) == [other.pk]
    assert ids(click_id=old.click_id) == [old.pk]
    assert ids(ordering="id") == [old.pk, today.pk, other.pk]


def test_click_list_rejects_a_malformed_date():
    net = network()

    response = net.client_as("admin").get("/api/clicks", {"date_from": "2026-13-45"})

    assert response.status_code == 400
    assert response.json() == invalid_fields_body({"date_from": ["Enter a valid date."]})


BAD_DATETIME = [
    "An RFC 3339 date-time such as 2026-03-10T09:30:00Z, with a UTC offset within +-15:59."
]


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        # PostgreSQL refuses a UTC offset beyond 15:59: these were 500s (DataError).
        ({"created_before": "0242-11-21T05:18:22.624913+17:40"}, {"created_before": BAD_DATETIME}),
        ({"created_after": "2026-02-10T09:30:00-16:00"}, {"created_after": BAD_DATETIME}),
        # Not RFC 3339 (no time, no offset, no such day), which the schema promises.
        ({"created_after": "2026-02-10"}, {"created_after": BAD_DATETIME}),
        ({"created_after": "2026-02-10T09:30:00"}, {"created_after": BAD_DATETIME}),
        ({"created_after": "2026-02-30T09:30:00Z"}, {"created_after": BAD_DATETIME}),
        ({"date_to": "2026-2-10"}, {"date_to": ["Enter a valid date."]}),
        # Junk booleans were read as "no filter".
        ({"is_unique": "-58800"}, {"is_unique": ["Use true or false."]}),
        ({"is_unique": "True"}, {"is_unique": ["Use true or false."]}),
        # Ids were decimals: 1.5 was accepted, 1e+227 refused as "less than or equal to 1e+50".
        ({"campaign": "1.5"}, {"campaign": ["A positive integer id."]}),
        ({"campaign": "1.0156374935137626e+227"}, {"campaign": ["A positive integer id."]}),
        ({"affiliate": "0"}, {"affiliate": ["A positive integer id."]}),
        (
            {"ordering": "click_id"},
            {"ordering": ["Select a valid choice. click_id is not one of the available choices."]},
        ),
        ({"page": "last"}, {"page": ["A positive integer."]}),
    ],
)
def test_click_list_refuses_malformed_filters_naming_them(params, fields):
    net = network()

    response = net.client_as("admin").get("/api/clicks", params)

    assert response.status_code == 400
    assert response.json() == invalid_fields_body(fields)


def test_click_list_takes_any_offset_the_database_takes_and_the_last_day():
    net = network()
    before = ClickFactory(link=net.link1, created_at=DAY - dt.timedelta(seconds=1))
    at = ClickFactory(link=net.link1, created_at=DAY, is_unique=False)
    client = net.client_as("admin")

    def ids(**params) -> list[int]:
        response = client.get("/api/clicks", params)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    # DAY is 09:30Z: 01:30-08:00 and 01:29+15:59 (the next day) name it
    assert ids(created_after="2026-02-10T01:30:00-08:00") == [at.pk]
    assert ids(created_before="2026-02-11T01:29:00+15:59") == [before.pk]
    assert ids(is_unique="false") == [at.pk]
    # the day after 9999-12-31 does not exist: this was a 500 (OverflowError)
    assert ids(is_unique="true", date_to="9999-12-31") == [before.pk]
    assert ids(created_after="", is_unique="", page="", page_size="") == [at.pk, before.pk]


def test_affiliate_filter_cannot_widen_an_affiliates_scope():
    net = network()
    ClickFactory(link=net.link2)

    response = net.client_as("affiliate1").get("/api/clicks", {"affiliate": net.affiliate2.pk})

    assert response.json() == page([])


@pytest.mark.parametrize("role", ["admin", "advertiser1", "affiliate1"])
def test_click_list_queries_do_not_grow_with_rows(role, django_assert_max_num_queries):
    net = network()
    client = net.client_as(role)
    ClickFactory.create_batch(2, link=net.link1)
    with django_assert_max_num_queries(4) as few:
        client.get("/api/clicks")
    baseline = len(few.captured_queries)
    ClickFactory.create_batch(20, link=net.link1)

    with django_assert_max_num_queries(baseline):
        response = client.get("/api/clicks")

    assert response.json()["count"] == 22


# --- conversions ------------------------------------------------------------------------------


def test_conversion_list_output_depends_on_the_role():
    net = network()
    conversion = converted(net, sub1="s1", transaction_id="T-1")

    bodies = {
        role: net.client_as(role).get("/api/conversions").json()
        for role in ("admin", "advertiser1", "affiliate1")
    }

    assert bodies == {
        "admin": page([admin_conversion_body(conversion)]),
        "advertiser1": page([advertiser_conversion_body(conversion)]),
        "affiliate1": page([affiliate_conversion_body(conversion)]),
    }


def test_conversion_list_scopes_by_role():
    net = network()
    mine = converted(net)
    click2 = ClickFactory(link=net.link2)
    theirs = postback(net.key2, click_id=click2.click_id, payout="1")

    ids = {
        role: [row["id"] for row in net.client_as(role).get("/api/conversions").json()["results"]]
        for role in ("admin", "advertiser1", "advertiser2", "affiliate1", "affiliate2")
    }

    assert ids == {
        "admin": [theirs.pk, mine.pk],
        "advertiser1": [mine.pk],
        "advertiser2": [theirs.pk],
        "affiliate1": [mine.pk],
        "affiliate2": [theirs.pk],
    }


def test_conversion_list_filters():
    net = network()
    approved = converted(net, sub1="x", transaction_id="T-1")
    pending = converted(net, sub1="y", transaction_id="T-2", status="pending")
    client = net.client_as("affiliate1")

    def ids(**params) -> list[int]:
        response = client.get("/api/conversions", params)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids(status="pending") == [pending.pk]
    assert ids(sub1="x") == [approved.pk]
    assert ids(transaction_id="T-2") == [pending.pk]
    assert ids(click_id=approved.click.click_id) == [approved.pk]
    assert ids(campaign=net.campaign2.pk) == []
    assert ids(ordering="created_at") == [approved.pk, pending.pk]


@pytest.mark.parametrize(
    ("role", "status_code", "expected"),
    [
        ("anonymous", 401, NOT_AUTHENTICATED),
        ("pending_affiliate", 403, ANY_ROLE_FORBIDDEN),
    ],
)
def test_conversion_list_refusals(role, status_code, expected):
    net = network()
    converted(net)

    response = net.client_as(role).get("/api/conversions")

    assert response.status_code == status_code
    assert response.json() == expected


@pytest.mark.parametrize("role", ["admin", "advertiser1", "affiliate1"])
def test_conversion_list_queries_do_not_grow_with_rows(role, django_assert_max_num_queries):
    net = network()
    client = net.client_as(role)
    converted(net)
    with django_assert_max_num_queries(4) as few:
        client.get("/api/conversions")
    baseline = len(few.captured_queries)
    for _ in range(10):
        converted(net)

    with django_assert_max_num_queries(baseline):
        response = client.get("/api/conversions")

    assert response.json()["count"] == 11


# --- conversion detail ------------------------------------------------------------------------


def test_conversion_detail_for_the_advertiser_has_history_and_custom_data():
    net = network()
    conversion = converted(
        net, transaction_id="T-9", offer_id="OFF-1", user_age=28, survey="demo", status="pending"
    )
    history = ConversionHistory.objects.get(conversion=conversion)

    response = net.client_as("advertiser1").get(f"/api/conversions/{conversion.pk}")

    assert response.status_code == 200
    assert response.json() == {
        **advertiser_conversion_body(conversion),
        "offer_id": "OFF-1",
        "device_id": "",
        "ip": "203.0.113.10",
        "user_agent": "Mozilla/5.0 (test)",
        "sub_ids": {},
        "custom_data": {"user_age": 28, "survey": "demo"},
        "history": [
            {
                "from_status": "",
                "to_status": "pending",
                "revenue": "5.0000",
                "source": "postback",
                "reason": "",
                "created_at": iso(history.created_at),
            }
        ],
    }


def test_conversion_detail_for_the_affiliate_has_no_revenue_or_partner_data():
    net = network()
    conversion = converted(net, transaction_id="T-9", user_age=28)
    history = ConversionHistory.objects.get(conversion=conversion)

    response = net.client_as("affiliate1").get(f"/api/conversions/{conversion.pk}")

    assert response.status_code == 200
    assert response.json() == {
        **affiliate_conversion_body(conversion),
        "device_id": "",
        "ip": "203.0.113.10",
        "user_agent": "Mozilla/5.0 (test)",
        "history": [
            {
                "from_status": "",
                "to_status": "approved",
                "payout": "4.0000",
                "source": "postback",
                "reason": "",
                "created_at": iso(history.created_at),
            }
        ],
    }


def test_conversion_detail_for_the_admin_has_margin_and_actors():
    net = network()
    conversion = converted(net)
    history = ConversionHistory.objects.get(conversion=conversion)

    response = net.client_as("admin").get(f"/api/conversions/{conversion.pk}")

    body = response.json()
    assert (body["margin"], body["partner_key_id"]) == ("1.0000", net.key1.pk)
    assert body["history"] == [
        {
            "from_status": "",
            "to_status": "approved",
            "payout": "4.0000",
            "revenue": "5.0000",
            "source": "postback",
            "reason": "",
            "created_at": iso(history.created_at),
            "actor_id": None,
            "postback_log_id": str(history.postback_log_id),
        }
    ]


@pytest.mark.parametrize(
    ("role", "status_code", "expected"),
    [
        ("anonymous", 401, NOT_AUTHENTICATED),
        ("pending_advertiser", 403, ANY_ROLE_FORBIDDEN),
        ("advertiser2", 404, CONVERSION_NOT_FOUND),
        ("affiliate2", 404, CONVERSION_NOT_FOUND),
    ],
)
def test_conversion_detail_refusals(role, status_code, expected):
    net = network()
    conversion = converted(net)

    response = net.client_as(role).get(f"/api/conversions/{conversion.pk}")

    assert response.status_code == status_code
    assert response.json() == expected


# --- status changes ---------------------------------------------------------------------------


def test_advertiser_reverses_a_conversion_and_takes_back_the_points():
    net = network()
    conversion = converted(net, user_id="player-1")

    response = net.client_as("advertiser1").post(
        f"/api/conversions/{conversion.pk}/status",
        {"status": "reversed", "reason": "chargeback"},
        format="json",
    )

    conversion.refresh_from_db()
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["reason"], "points_awarded" in body) == (
        "reversed",
        "chargeback",
        False,
    )
    assert [(row["from_status"], row["to_status"], row["source"]) for row in body["history"]] == [
        ("", "approved", "postback"),
        ("approved", "reversed", "advertiser"),
    ]
    assert list(
        ConversionHistory.objects.filter(conversion=conversion).values_list(
            "to_status", "source", "actor_id", "reason"
        )
    ) == [
        ("approved", ChangeSource.POSTBACK, None, ""),
        ("reversed", ChangeSource.ADVERTISER, net.advertiser1.pk, "chargeback"),
    ]
    assert EndUserPoints.objects.get(user_id="player-1").points == Decimal("0.0000")


def test_admin_reapproves_a_rejected_conversion_only_with_a_reason():
    net = network()
    conversion = converted(net, status="rejected")
    client = net.client_as("admin")
    url = f"/api/conversions/{conversion.pk}/status"

    without_reason = client.post(url, {"status": "approved"}, format="json")
    with_reason = client.post(url, {"status": "approved", "reason": "valid"}, format="json")

    assert without_reason.status_code == 400
    assert without_reason.json() == {
        "status": "error",
        "code": "reason_required",
        "message": "Re-approving a rejected conversion needs a reason.",
        "fields": {"reason": ["Required to re-approve a rejected conversion."]},
    }
    assert with_reason.status_code == 200
    assert with_reason.json()["history"][-1]["source"] == "admin"
    assert with_reason.json()["margin"] == "1.0000"


def test_reversed_is_final():
    net = network()
    conversion = converted(net)
    client = net.client_as("advertiser1")
    url = f"/api/conversions/{conversion.pk}/status"
    client.post(url, {"status": "reversed"}, format="json")

    response = client.post(url, {"status": "approved", "reason": "oops"}, format="json")

    assert response.status_code == 409
    assert response.json() == {
        "status": "error",
        "code": "invalid_transition",
        "message": "A reversed conversion cannot become approved.",
    }


def test_status_change_rejects_an_unknown_status():
    net = network()
    conversion = converted(net)

    response = net.client_as("advertiser1").post(
        f"/api/conversions/{conversion.pk}/status", {"status": "paid"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == invalid_fields_body({"status": ['"paid" is not a valid choice.']})


@pytest.mark.parametrize(
    ("role", "status_code", "expected"),
    [
        ("anonymous", 401, NOT_AUTHENTICATED),
        ("affiliate1", 403, ADMIN_OR_ADVERTISER_FORBIDDEN),
        ("advertiser2", 404, CONVERSION_NOT_FOUND),
    ],
)
def test_status_change_refusals_change_nothing(role, status_code, expected):
    net = network()
    conversion = converted(net)

    response = net.client_as(role).post(
        f"/api/conversions/{conversion.pk}/status", {"status": "reversed"}, format="json"
    )

    assert response.status_code == status_code
    assert response.json() == expected
    conversion.refresh_from_db()
    assert conversion.status == ConversionStatus.APPROVED
    assert ConversionHistory.objects.filter(conversion=conversion).count() == 1


# --- points -----------------------------------------------------------------------------------


def test_affiliate_sees_its_end_users_points():
    net = network()
    converted(net, user_id="player-1")
    converted(net, user_id="player-1")
    converted(net, user_id="player-2")
    click2 = ClickFactory(link=net.link2, user_id="player-1")
    postback(net.key2, click_id=click2.click_id, payout="10")
    client = net.client_as("affiliate1")

    everyone = client.get("/api/points")
    one = client.get("/api/points", {"user_id": "player-1"})
    nobody = client.get("/api/points", {"user_id": "player-9"})

    points = {row.user_id: row for row in EndUserPoints.objects.filter(affiliate=net.affiliate1)}
    assert everyone.status_code == 200
    assert everyone.json() == page(
        [
            {
                "affiliate_id": net.affiliate1.pk,
                "user_id": "player-1",
                "points": "8.0000",
                "updated_at": iso(points["player-1"].updated_at),
            },
            {
                "affiliate_id": net.affiliate1.pk,
                "user_id": "player-2",
                "points": "4.0000",
                "updated_at": iso(points["player-2"].updated_at),
            },
        ]
    )
    assert one.json()["results"] == everyone.json()["results"][:1]
    assert nobody.json() == page([])


@pytest.mark.parametrize(
    ("role", "status_code", "expected"),
    [
        ("anonymous", 401, NOT_AUTHENTICATED),
        ("advertiser1", 403, ADMIN_OR_AFFILIATE_FORBIDDEN),
        ("pending_affiliate", 403, ADMIN_OR_AFFILIATE_FORBIDDEN),
    ],
)
def test_points_refusals(role, status_code, expected):
    net = network()
    converted(net, user_id="player-1")

    response = net.client_as(role).get("/api/points")

    assert response.status_code == status_code
    assert response.json() == expected


def test_another_affiliate_sees_none_of_the_points():
    net = network()
    converted(net, user_id="player-1")

    response = net.client_as("affiliate2").get("/api/points", {"user_id": "player-1"})

    assert response.json() == page([])


def test_points_list_queries_do_not_grow_with_rows(django_assert_max_num_queries):
    net = network()
    client = net.client_as("affiliate1")
    converted(net, user_id="p-0")
    with django_assert_max_num_queries(4) as few:
        client.get("/api/points")
    baseline = len(few.captured_queries)
    for n in range(1, 8):
        converted(net, user_id=f"p-{n}")

    with django_assert_max_num_queries(baseline):
        response = client.get("/api/points")

    assert response.json()["count"] == 8


# --- conversion events ------------------------------------------------------------------------


def test_conversions_name_their_event_and_the_rule_that_priced_them():
    net = network()
    sale = ConversionEventFactory(campaign=net.campaign1, code="sale", name="First sale")
    rule = PricingRuleFactory(campaign=net.campaign1, event=sale, affiliate=net.affiliate1)
    lead = converted(net)
    first_sale = converted(net, event="sale")

    bodies = {
        role: net.client_as(role).get(f"/api/conversions/{first_sale.pk}").json()
        for role in ("admin", "advertiser1", "affiliate1")
    }
    listed = net.client_as("advertiser1").get("/api/conversions").json()["results"]

    assert {role: (b["event"], b["event_name"]) for role, b in bodies.items()} == dict.fromkeys(
        ("admin", "advertiser1", "affiliate1"), ("sale", "First sale")
    )
    assert (bodies["admin"]["pricing_rule_id"], bodies["advertiser1"]["pricing_rule_id"]) == (
        rule.pk,
        rule.pk,
    )
    # The affiliate learns its payout, not which rule of the advertiser's set it.
    assert "pricing_rule_id" not in bodies["affiliate1"]
    assert [(row["id"], row["event"], row["pricing_rule_id"]) for row in listed] == [
        (first_sale.pk, "sale", rule.pk),
        (lead.pk, "default", None),
    ]


def test_conversions_carry_their_fraud_signals_and_filter_by_them():
    # given a conversion flagged too fast and a clean one
    net = network()
    flagged = converted(net, transaction_id="t-1")
    Conversion.objects.filter(pk=flagged.pk).update(fraud_signals=["too_fast", "ip_mismatch"])
    clean = converted(net, transaction_id="t-2")
    client = net.client_as("affiliate1")

    # when the affiliate lists them, filtered
    flagged_only = client.get("/api/conversions", {"has_fraud_signals": "true"}).json()
    by_signal = client.get("/api/conversions", {"fraud_signal": "ip_mismatch"}).json()
    clean_only = client.get("/api/conversions", {"has_fraud_signals": "false"}).json()
    detail = client.get(f"/api/conversions/{flagged.pk}").json()

    # then the signals show on the list and the detail
    assert flagged_only == page([affiliate_conversion_body(flagged)])
    assert flagged_only["results"][0]["fraud_signals"] == ["too_fast", "ip_mismatch"]
    assert [row["id"] for row in by_signal["results"]] == [flagged.pk]
    assert [row["id"] for row in clean_only["results"]] == [clean.pk]
    assert detail["fraud_signals"] == ["too_fast", "ip_mismatch"]


def test_conversion_list_filters_by_event_code():
    net = network()
    ConversionEventFactory(campaign=net.campaign1, code="sale")
    converted(net)
    sale = converted(net, event="sale")

    response = net.client_as("affiliate1").get("/api/conversions", {"event": "SALE"})
    default = net.client_as("affiliate1").get("/api/conversions", {"event": "default"})
    none = net.client_as("affiliate1").get("/api/conversions", {"event": "deposit"})

    assert [row["id"] for row in response.json()["results"]] == [sale.pk]
    assert default.json()["count"] == 1
    assert none.json()["count"] == 0


def test_a_status_change_is_in_the_audit_log_with_its_source():
    net = network()
    conversion = converted(net)

    net.client_as("advertiser1").post(
        f"/api/conversions/{conversion.pk}/status",
        {"status": "reversed", "reason": "chargeback"},
        format="json",
    )

    assert list(
        AuditEntry.objects.values_list("actor_id", "source", "action", "object_type", "changes")
    ) == [
        (
            net.advertiser1.user.pk,
            "api",
            "status_change",
            "tracker.conversion",
            {"status": ["approved", "reversed"], "reason": [None, "chargeback"]},
        )
    ]
