"""`/api/campaigns/<id>/apply`, `/api/applications` (+ approve / reject / revoke) and
`/api/campaigns/<id>/link`."""

import pytest

from campaigns.models import AccessStatus, CampaignAccess, CampaignStatus, TrackingLink, Visibility
from campaigns.tests.factories import CampaignAccessFactory, CampaignFactory, network
from core.tests.api_bodies import (
    ADMIN_OR_ADVERTISER_FORBIDDEN,
    AFFILIATE_FORBIDDEN,
    ANY_ROLE_FORBIDDEN,
    NOT_AUTHENTICATED,
    invalid_fields_body,
    iso,
    not_found,
)

pytestmark = pytest.mark.django_db

APPLICATION_NOT_FOUND = not_found("Application not found.")
CAMPAIGN_NOT_FOUND = not_found("Campaign not found.")


def application_body(access: CampaignAccess) -> dict:
    access.refresh_from_db()
    return {
        "id": access.pk,
        "campaign_id": access.campaign_id,
        "campaign_name": access.campaign.name,
        "affiliate_id": access.affiliate_id,
        "affiliate_name": access.affiliate.company,
        "status": access.status,
        "message": access.message,
        "decision_reason": access.decision_reason,
        "decided_at": iso(access.decided_at),
        "invited_at": iso(access.invited_at),
        "created_at": iso(access.created_at),
        "updated_at": iso(access.updated_at),
    }


# --- apply ------------------------------------------------------------------------------------


def test_affiliate_applies_to_an_approval_campaign_once():
    net = network()
    campaign = CampaignFactory(advertiser=net.advertiser2, visibility=Visibility.APPROVAL)
    client = net.client_as("affiliate1")
    url = f"/api/campaigns/{campaign.pk}/apply"

    first = client.post(url, {"message": "Big survey audience"}, format="json")
    again = client.post(url, {"message": "Please?"}, format="json")

    access = CampaignAccess.objects.get(campaign=campaign, affiliate=net.affiliate1)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() == application_body(access)
    assert first.json()["status"] == "pending"
    assert first.json()["message"] == "Big survey audience"
    assert CampaignAccess.objects.filter(campaign=campaign).count() == 1


def test_applying_to_a_public_campaign_approves_at_once():
    net = network()

    response = net.client_as("affiliate1").post(f"/api/campaigns/{net.campaign2.pk}/apply")

    assert response.status_code == 200
    assert response.json()["status"] == "approved"


@pytest.mark.parametrize(
    ("role", "status_code", "expected"),
    [
        ("anonymous", 401, NOT_AUTHENTICATED),
        ("advertiser2", 403, AFFILIATE_FORBIDDEN),
        ("admin", 403, AFFILIATE_FORBIDDEN),
        ("pending_affiliate", 403, AFFILIATE_FORBIDDEN),
        ("affiliate1", 404, CAMPAIGN_NOT_FOUND),
    ],
)
def test_apply_refusals_create_nothing(role, status_code, expected):
    net = network()
    private = CampaignFactory(advertiser=net.advertiser2, visibility=Visibility.PRIVATE)

    response = net.client_as(role).post(f"/api/campaigns/{private.pk}/apply")

    assert response.status_code == status_code
    assert response.json() == expected
    assert not CampaignAccess.objects.filter(campaign=private).exists()


# --- list -------------------------------------------------------------------------------------


def test_application_list_scopes_by_role():
    net = network()
    third = CampaignAccessFactory(
        campaign=net.campaign1, affiliate=net.affiliate2, status=AccessStatus.PENDING
    )
    access1 = CampaignAccess.objects.get(affiliate=net.affiliate1)
    access2 = CampaignAccess.objects.get(affiliate=net.affiliate2, campaign=net.campaign2)

    ids = {
        role: [row["id"] for row in net.client_as(role).get("/api/applications").json()["results"]]
        for role in ("admin", "advertiser1", "advertiser2", "affiliate1", "affiliate2")
    }

    assert ids == {
        "admin": [third.pk, access2.pk, access1.pk],
        "advertiser1": [third.pk, access1.pk],
        "advertiser2": [access2.pk],
        "affiliate1": [access1.pk],
        "affiliate2": [third.pk, access2.pk],
    }


def test_application_list_body_and_filters():
    net = network()
    pending = CampaignAccessFactory(
        campaign=net.campaign1, affiliate=net.affiliate2, status=AccessStatus.PENDING
    )

    response = net.client_as("advertiser1").get("/api/applications", {"status": "pending"})

    assert response.status_code == 200
    assert response.json() == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [application_body(pending)],
    }


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        # Ids were decimals: 1e+227 was refused as "less than or equal to 1e+50".
        ({"campaign": "1.0156374935137626e+227"}, {"campaign": ["A positive integer id."]}),
        ({"affiliate": "-1"}, {"affiliate": ["A positive integer id."]}),
        (
            {"ordering": "status"},
            {"ordering": ["Select a valid choice. status is not one of the available choices."]},
        ),
    ],
)
def test_application_list_refuses_malformed_filters_naming_them(params, fields):
    net = network()

    response = net.client_as("admin").get("/api/applications", params)

    assert response.status_code == 400
    assert response.json() == invalid_fields_body(fields)


@pytest.mark.parametrize(
    ("role", "status_code", "expected"),
    [("anonymous", 401, NOT_AUTHENTICATED), ("pending_advertiser", 403, ANY_ROLE_FORBIDDEN)],
)
def test_application_list_refusals(role, status_code, expected):
    net = network()

    response = net.client_as(role).get("/api/applications")

    assert response.status_code == status_code
    assert response.json() == expected


def test_application_list_queries_do_not_grow_with_rows(django_assert_max_num_queries):
    net = network()
    client = net.client_as("advertiser1")
    for _ in range(2):
        CampaignAccessFactory(campaign=net.campaign1)
    with django_assert_max_num_queries(5) as few:
        client.get("/api/applications")
    baseline = len(few.captured_queries)
    for _ in range(10):
        CampaignAccessFactory(campaign=net.campaign1)

    with django_assert_max_num_queries(baseline):
        response = client.get("/api/applications")

    assert response.json()["count"] == 13


# --- decisions --------------------------------------------------------------------------------


def test_owner_approves_then_revokes_then_cannot_reject():
    net = network()
    access = CampaignAccessFactory(
        campaign=net.campaign1, affiliate=net.affiliate2, status=AccessStatus.PENDING
    )
    client = net.client_as("advertiser1")
    base = f"/api/applications/{access.pk}"

    approved = client.post(f"{base}/approve", {"reason": "Good traffic"}, format="json")
    revoked = client.post(f"{base}/revoke", {"reason": "Fraud"}, format="json")
    rejected = client.post(f"{base}/reject")

    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    assert approved.json()["decision_reason"] == "Good traffic"
    assert revoked.status_code == 200
    assert revoked.json() == application_body(access)
    assert revoked.json()["status"] == "revoked"
    assert rejected.status_code == 409
    assert rejected.json() == {
        "status": "error",
        "code": "invalid_transition",
        "message": "An application cannot go from revoked to rejected.",
    }
    access.refresh_from_db()
    assert (access.status, access.decided_by_id) == (AccessStatus.REVOKED, net.advertiser1.pk)


def test_admin_rejects_any_application():
    net = network()
    access = CampaignAccessFactory(
        campaign=net.campaign2, affiliate=net.affiliate1, status=AccessStatus.PENDING
    )

    response = net.client_as("admin").post(f"/api/applications/{access.pk}/reject")

    assert response.status_code == 200
    assert response.json()["status"] == "rejected"


@pytest.mark.parametrize("decision", ["approve", "reject", "revoke"])
@pytest.mark.parametrize(
    ("role", "status_code", "expected"),
    [
        ("anonymous", 401, NOT_AUTHENTICATED),
        ("affiliate2", 403, ADMIN_OR_ADVERTISER_FORBIDDEN),
        ("advertiser2", 404, APPLICATION_NOT_FOUND),
    ],
)
def test_decision_refusals_change_nothing(decision, role, status_code, expected):
    net = network()
    access = CampaignAccessFactory(
        campaign=net.campaign1, affiliate=net.affiliate2, status=AccessStatus.PENDING
    )

    response = net.client_as(role).post(f"/api/applications/{access.pk}/{decision}")

    assert response.status_code == status_code
    assert response.json() == expected
    access.refresh_from_db()
    assert (access.status, access.decided_at) == (AccessStatus.PENDING, None)


# --- tracking link ----------------------------------------------------------------------------


def test_affiliate_gets_one_link_per_campaign():
    net = network()
    client = net.client_as("affiliate1")

    first = client.get(f"/api/campaigns/{net.campaign2.pk}/link")
    again = client.get(f"/api/campaigns/{net.campaign2.pk}/link")

    link = TrackingLink.objects.get(campaign=net.campaign2, affiliate=net.affiliate1)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert first.json() == {
        "link_id": link.token,
        "url": f"http://testserver/c/{link.token}",
        "campaign_id": net.campaign2.pk,
    }


def test_existing_link_is_returned():
    net = network()

    response = net.client_as("affiliate1").get(f"/api/campaigns/{net.campaign1.pk}/link")

    assert response.json() == {
        "link_id": net.link1.token,
        "url": f"http://testserver/c/{net.link1.token}",
        "campaign_id": net.campaign1.pk,
    }


@pytest.mark.parametrize(
    "setup",
    ["approval_without_access", "pending_access", "private_without_access", "archived"],
)
def test_link_is_404_without_approved_access(setup):
    net = network()
    visibility = {
        "approval_without_access": Visibility.APPROVAL,
        "pending_access": Visibility.APPROVAL,
        "private_without_access": Visibility.PRIVATE,
        "archived": Visibility.PUBLIC,
    }[setup]
    campaign = CampaignFactory(
        advertiser=net.advertiser2,
        visibility=visibility,
        status=CampaignStatus.ARCHIVED if setup == "archived" else CampaignStatus.ACTIVE,
    )
    if setup == "pending_access":
        CampaignAccessFactory(
            campaign=campaign, affiliate=net.affiliate1, status=AccessStatus.PENDING
        )

    response = net.client_as("affiliate1").get(f"/api/campaigns/{campaign.pk}/link")

    assert response.status_code == 404
    assert response.json() == CAMPAIGN_NOT_FOUND
    assert not TrackingLink.objects.filter(campaign=campaign).exists()


@pytest.mark.parametrize(
    ("role", "status_code", "expected"),
    [
        ("anonymous", 401, NOT_AUTHENTICATED),
        ("admin", 403, AFFILIATE_FORBIDDEN),
        ("advertiser2", 403, AFFILIATE_FORBIDDEN),
        ("pending_affiliate", 403, AFFILIATE_FORBIDDEN),
    ],
)
def test_link_refused_roles_create_nothing(role, status_code, expected):
    net = network()

    response = net.client_as(role).get(f"/api/campaigns/{net.campaign2.pk}/link")

    assert response.status_code == status_code
    assert response.json() == expected
    assert TrackingLink.objects.filter(campaign=net.campaign2).count() == 1
