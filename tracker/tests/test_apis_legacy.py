"""The first integrations' legacy listings: `/clicks?affiliate_id=`, `/conversions?affiliate_id=`,
`/affiliates/<id>/clicks`, `/affiliates/<id>/conversions` (login required, scoped)."""

import datetime as dt

import pytest

from campaigns.tests.factories import network
from core.tests.api_bodies import NOT_AUTHENTICATED, iso
from tracker.tests.factories import ClickFactory, postback

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
AFFILIATE_NOT_FOUND = {
    "success": False,
    "status": "error",
    "code": "not_found",
    "message": "Affiliate not found.",
}


def clicks_for(net, *, count: int):
    return [
        ClickFactory(link=net.link1, created_at=NOW + dt.timedelta(minutes=n)) for n in range(count)
    ]


@pytest.mark.parametrize("path", ["/clicks?affiliate_id={id}", "/affiliates/{id}/clicks"])
def test_affiliate_lists_its_clicks_newest_first_in_the_legacy_shape(path):
    net = network()
    older, newer = clicks_for(net, count=2)
    ClickFactory(link=net.link2)

    response = net.client_as("affiliate1").get(path.format(id=net.affiliate1.pk))

    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "status": "success",
        "data": [
            {
                "id": click.pk,
                "click_id": click.click_id,
                "campaign_id": net.campaign1.pk,
                "created_at": iso(click.created_at),
            }
            for click in (newer, older)
        ],
    }


@pytest.mark.parametrize("path", ["/conversions?affiliate_id={id}", "/affiliates/{id}/conversions"])
def test_conversions_show_the_payout_to_affiliates_and_the_revenue_to_advertisers(path):
    net = network()
    click = ClickFactory(link=net.link1)
    conversion = postback(net.key1, click_id=click.click_id, payout="100.00")
    url = path.format(id=net.affiliate1.pk)

    as_affiliate = net.client_as("affiliate1").get(url)
    as_advertiser = net.client_as("advertiser1").get(url)

    row = {
        "id": conversion.pk,
        "click_id": click.click_id,
        "currency": "USD",
        "created_at": iso(conversion.created_at),
    }
    assert as_affiliate.status_code == as_advertiser.status_code == 200
    assert as_affiliate.json() == {
        "success": True,
        "status": "success",
        "data": [{**row, "amount": "80.0000"}],
    }
    assert as_advertiser.json()["data"] == [{**row, "amount": "100.0000"}]


@pytest.mark.parametrize(
    "path",
    [
        "/clicks?affiliate_id={id}",
        "/conversions?affiliate_id={id}",
        "/affiliates/{id}/clicks",
        "/affiliates/{id}/conversions",
    ],
)
@pytest.mark.parametrize(
    ("role", "status_code", "expected"),
    [
        ("anonymous", 401, {"success": False, **NOT_AUTHENTICATED}),
        ("affiliate2", 404, AFFILIATE_NOT_FOUND),
        ("advertiser2", 404, AFFILIATE_NOT_FOUND),
    ],
)
def test_another_tenants_affiliate_is_not_found(path, role, status_code, expected):
    net = network()
    click = ClickFactory(link=net.link1)
    postback(net.key1, click_id=click.click_id, payout="1")

    response = net.client_as(role).get(path.format(id=net.affiliate1.pk))

    assert response.status_code == status_code
    assert response.json() == expected


def test_admin_and_owning_advertiser_see_the_affiliates_clicks():
    net = network()
    (click,) = clicks_for(net, count=1)

    for role in ("admin", "advertiser1"):
        response = net.client_as(role).get(f"/affiliates/{net.affiliate1.pk}/clicks")
        assert [row["id"] for row in response.json()["data"]] == [click.pk]


def test_without_affiliate_id_the_list_is_the_callers_scope():
    net = network()
    (mine,) = clicks_for(net, count=1)
    theirs = ClickFactory(link=net.link2, created_at=NOW + dt.timedelta(hours=1))

    own = net.client_as("affiliate1").get("/clicks").json()["data"]
    everyone = net.client_as("admin").get("/clicks").json()["data"]

    assert [row["id"] for row in own] == [mine.pk]
    assert [row["id"] for row in everyone] == [theirs.pk, mine.pk]


def test_limit_caps_the_list_and_is_validated():
    net = network()
    clicks = clicks_for(net, count=5)
    client = net.client_as("affiliate1")

    limited = client.get("/clicks", {"affiliate_id": net.affiliate1.pk, "limit": 2})
    too_big = client.get("/clicks", {"limit": 5000})

    assert [row["id"] for row in limited.json()["data"]] == [clicks[4].pk, clicks[3].pk]
    assert too_big.status_code == 400
    assert too_big.json() == {
        "success": False,
        "status": "error",
        "code": "invalid",
        "message": "The request has invalid fields.",
        "fields": {"limit": ["Ensure this value is less than or equal to 1000."]},
    }


@pytest.mark.parametrize(
    ("path", "query", "accepted"),
    [
        ("/clicks", "campaign_id=1", "affiliate_id, limit"),
        ("/conversions", "affiliate=1", "affiliate_id, limit"),
        ("/affiliates/{affiliate_id}/clicks", "affiliate_id=1", "limit"),
    ],
)
def test_a_parameter_the_list_does_not_take_is_refused_not_ignored(path, query, accepted):
    net = network()
    clicks_for(net, count=1)
    name = query.split("=")[0]

    response = net.client_as("affiliate1").get(
        f"{path.format(affiliate_id=net.affiliate1.pk)}?{query}"
    )

    assert response.status_code == 400
    assert response.json() == {
        "success": False,
        "status": "error",
        "code": "unknown_parameter",
        "message": f"Unknown query parameter(s): {name}. Accepted: {accepted}.",
        "fields": {name: ["Unknown parameter."]},
    }


def test_default_limit_is_100(django_assert_max_num_queries):
    net = network()
    ClickFactory.create_batch(105, link=net.link1)

    with django_assert_max_num_queries(4):
        response = net.client_as("affiliate1").get(f"/affiliates/{net.affiliate1.pk}/clicks")

    assert len(response.json()["data"]) == 100


def test_legacy_conversions_query_count_is_constant(django_assert_max_num_queries):
    net = network()
    for _ in range(6):
        postback(net.key1, click_id=ClickFactory(link=net.link1).click_id, payout="1")

    with django_assert_max_num_queries(4):
        response = net.client_as("affiliate1").get(f"/affiliates/{net.affiliate1.pk}/conversions")

    assert len(response.json()["data"]) == 6
