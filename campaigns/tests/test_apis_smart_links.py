"""`/api/smart-links` and `/api/smart-links/<id>`."""

import pytest

from campaigns.models import SmartLink, Visibility
from campaigns.smart_links import smart_link_create
from campaigns.tests.factories import CampaignFactory
from core.models import AuditEntry, AuditSource

pytestmark = pytest.mark.django_db


def _create(net, affiliate=None, **fields):
    affiliate = affiliate or net.affiliate1
    return smart_link_create(
        affiliate=affiliate,
        name=fields.pop("name", "Mine"),
        entries=fields.pop("entries", [{"campaign": net.campaign1.pk}]),
        **fields,
    )


def test_affiliate_creates_a_smart_link_and_gets_its_url(net):
    other = CampaignFactory(name="Backup offer")

    response = net.client_as("affiliate1").post(
        "/api/smart-links",
        {
            "name": "Geo mix",
            "entries": [
                {"campaign": other.pk, "priority": 2, "weight": 3},
                {"campaign": net.campaign1.pk, "priority": 1, "weight": 100},
            ],
            "catch_all_url": "https://backup.example/?s={sub1}",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    smart_link = SmartLink.objects.get()
    body = response.json()
    assert body == {
        "id": smart_link.pk,
        "affiliate_id": net.affiliate1.pk,
        "name": "Geo mix",
        "token": smart_link.token,
        "url": f"http://testserver/s/{smart_link.token}",
        "entries": [
            {
                "campaign": net.campaign1.pk,
                "campaign_name": "Campaign one",
                "priority": 1,
                "weight": 100,
            },
            {"campaign": other.pk, "campaign_name": "Backup offer", "priority": 2, "weight": 3},
        ],
        "catch_all_url": "https://backup.example/?s={sub1}",
        "is_active": True,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert AuditEntry.objects.get().source == AuditSource.API


def test_a_campaign_the_affiliate_may_not_run_is_refused_with_a_code(net):
    private = CampaignFactory(visibility=Visibility.PRIVATE)

    response = net.client_as("affiliate1").post(
        "/api/smart-links",
        {"name": "Mine", "entries": [{"campaign": private.pk}]},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "code": "campaign_not_available",
        "message": f"Entry 1: campaign #{private.pk} is not one this affiliate may run "
        "(apply to it first).",
        "fields": {
            "entries": [
                f"Entry 1: campaign #{private.pk} is not one this affiliate may run "
                "(apply to it first)."
            ]
        },
    }
    assert SmartLink.objects.count() == 0


def test_shape_errors_are_the_shared_invalid_answer(net):
    response = net.client_as("affiliate1").post(
        "/api/smart-links", {"name": "Mine", "entries": [{"weight": 1}]}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "entries" in response.json()["fields"]


def test_admin_creates_for_a_named_affiliate_only(net):
    admin = net.client_as("admin")
    payload = {"name": "Ops", "entries": [{"campaign": net.campaign2.pk}]}

    missing = admin.post("/api/smart-links", payload, format="json")
    created = admin.post(
        "/api/smart-links", {**payload, "affiliate_id": net.affiliate2.pk}, format="json"
    )
    foreign = net.client_as("affiliate1").post(
        "/api/smart-links", {**payload, "affiliate_id": net.affiliate2.pk}, format="json"
    )

    assert (missing.status_code, missing.json()["code"]) == (400, "missing_affiliate_id")
    assert (created.status_code, created.json()["affiliate_id"]) == (201, net.affiliate2.pk)
    assert (foreign.status_code, foreign.json()["code"]) == (400, "invalid_affiliate")


def test_lists_are_scoped_and_admins_filter_by_affiliate(net):
    mine = _create(net)
    theirs = _create(net, affiliate=net.affiliate2, entries=[{"campaign": net.campaign2.pk}])

    own = net.client_as("affiliate1").get("/api/smart-links").json()
    everyone = net.client_as("admin").get("/api/smart-links").json()
    filtered = net.client_as("admin").get(f"/api/smart-links?affiliate={net.affiliate2.pk}")
    advertiser = net.client_as("advertiser1").get("/api/smart-links")

    assert [row["id"] for row in own["results"]] == [mine.pk]
    assert [row["id"] for row in everyone["results"]] == [theirs.pk, mine.pk]
    assert [row["id"] for row in filtered.json()["results"]] == [theirs.pk]
    assert advertiser.status_code == 403


def test_the_list_costs_the_same_queries_for_one_or_many(net, django_assert_max_num_queries):
    for index in range(5):
        _create(net, name=f"Link {index}")
    client = net.client_as("affiliate1")

    with django_assert_max_num_queries(6):
        response = client.get("/api/smart-links")

    assert response.json()["count"] == 5


def test_another_affiliates_smart_link_is_404(net):
    theirs = _create(net, affiliate=net.affiliate2, entries=[{"campaign": net.campaign2.pk}])
    client = net.client_as("affiliate1")

    answers = [
        client.get(f"/api/smart-links/{theirs.pk}").status_code,
        client.patch(f"/api/smart-links/{theirs.pk}", {"name": "x"}, format="json").status_code,
        client.delete(f"/api/smart-links/{theirs.pk}").status_code,
    ]

    assert answers == [404, 404, 404]
    theirs.refresh_from_db()
    assert (theirs.name, theirs.is_active) == ("Mine", True)


def test_patch_changes_fields_and_delete_deactivates(net):
    smart_link = _create(net)
    other = CampaignFactory()
    client = net.client_as("affiliate1")

    patched = client.patch(
        f"/api/smart-links/{smart_link.pk}",
        {"name": "New", "entries": [{"campaign": other.pk, "weight": 9}], "catch_all_url": ""},
        format="json",
    )
    deleted = client.delete(f"/api/smart-links/{smart_link.pk}")
    listed = client.get("/api/smart-links?is_active=false").json()
    back = client.patch(f"/api/smart-links/{smart_link.pk}", {"is_active": True}, format="json")

    assert patched.status_code == 200
    assert (patched.json()["name"], patched.json()["entries"]) == (
        "New",
        [{"campaign": other.pk, "campaign_name": other.name, "priority": 1, "weight": 9}],
    )
    assert (deleted.status_code, deleted.json()["is_active"]) == (200, False)
    assert [row["id"] for row in listed["results"]] == [smart_link.pk]
    assert back.json()["is_active"] is True
