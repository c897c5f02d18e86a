"""`POST /api/campaigns/<id>/invite`: the owner advertiser or an admin invites an affiliate into a
campaign (the way into private ones). An invitation is approved access at once: the affiliate
is emailed, sees the campaign in `/api/campaigns` and `/api/applications`, and gets its link."""

from collections.abc import Iterator

import pytest
from django.core import mail

from accounts.models import ApprovalStatus
from accounts.tests.factories import AffiliateFactory
from campaigns.models import AccessStatus, CampaignAccess, CampaignStatus, TrackingLink, Visibility
from campaigns.tests.factories import CampaignAccessFactory, CampaignFactory, Network
from campaigns.tests.test_apis_applications import application_body
from config.celery import app as celery_app
from core.tests.api_bodies import (
    ADMIN_OR_ADVERTISER_FORBIDDEN,
    NOT_AUTHENTICATED,
    invalid_fields_body,
    iso,
    not_found,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """Tasks published after commit run in-process (nothing reaches a broker)."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def private(net: Network):
    return CampaignFactory(
        advertiser=net.advertiser1,
        name="Members only",
        visibility=Visibility.PRIVATE,
        payout_type="fixed",
        payout_amount="12.5",
    )


def _invite(net: Network, role: str, campaign_id: int, body: dict):
    return net.client_as(role).post(f"/api/campaigns/{campaign_id}/invite", body, format="json")


@pytest.mark.parametrize("role", ["advertiser1", "admin"])
def test_an_invited_affiliate_sees_the_private_campaign_and_gets_its_link(
    role, net, private, eager_celery, django_capture_on_commit_callbacks
):
    # given a private campaign affiliate 2 cannot see
    affiliate = net.client_as("affiliate2")
    assert affiliate.get(f"/api/campaigns/{private.pk}/link").status_code == 404
    assert affiliate.post(f"/api/campaigns/{private.pk}/apply").status_code == 404

    # when the owner (or an admin) invites it
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _invite(net, role, private.pk, {"affiliate_id": net.affiliate2.pk})

    # then the invitation is approved access, answered as an application
    access = CampaignAccess.objects.get(campaign=private, affiliate=net.affiliate2)
    inviter = net.user(role)
    assert response.status_code == 200
    assert response.json() == application_body(access)
    assert response.json()["status"] == "approved"
    assert response.json()["invited_at"] is not None
    assert (access.invited_by, access.decided_by) == (inviter, inviter)
    # and the affiliate is emailed once, after commit
    assert len(callbacks) == 1
    assert [(message.to, message.subject) for message in mail.outbox] == [
        ([net.affiliate2.user.email], "Invitation to the campaign “Members only”")
    ]
    body = mail.outbox[0].body
    assert f"You have been invited to promote the campaign “Members only” (#{private.pk})" in body
    assert "Your payout: 12.5000 USD per approved conversion." in body
    assert f"GET http://testserver/api/campaigns/{private.pk}/link" in body
    assert net.advertiser1.company not in body
    # and the affiliate sees the campaign, its invitation, and gets its link
    listed = affiliate.get("/api/campaigns").json()["results"]
    assert [
        (row["id"], row["access_status"], row["access_invited_at"])
        for row in listed
        if row["id"] == private.pk
    ] == [(private.pk, "approved", iso(access.invited_at))]
    detail = affiliate.get(f"/api/campaigns/{private.pk}").json()
    assert (detail["access_status"], detail["access_invited_at"]) == (
        "approved",
        iso(access.invited_at),
    )
    applications = affiliate.get("/api/applications").json()["results"]
    assert application_body(access) in applications
    link = affiliate.get(f"/api/campaigns/{private.pk}/link")
    token = TrackingLink.objects.get(campaign=private, affiliate=net.affiliate2).token
    assert (link.status_code, link.json()) == (
        200,
        {"link_id": token, "url": f"http://testserver/c/{token}", "campaign_id": private.pk},
    )
    assert affiliate.post(f"/api/campaigns/{private.pk}/apply").json() == application_body(access)


@pytest.mark.parametrize("previous", [AccessStatus.PENDING, AccessStatus.REVOKED])
def test_inviting_approves_a_pending_or_revoked_access(
    previous, net, private, eager_celery, django_capture_on_commit_callbacks
):
    access = CampaignAccessFactory(
        campaign=private, affiliate=net.affiliate2, status=previous, decision_reason="old"
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = _invite(net, "advertiser1", private.pk, {"affiliate_id": net.affiliate2.pk})

    access.refresh_from_db()
    assert response.json() == application_body(access)
    assert (access.status, access.decision_reason, access.invited_by) == (
        AccessStatus.APPROVED,
        "",
        net.advertiser1.user,
    )
    assert [message.to for message in mail.outbox] == [[net.affiliate2.user.email]]


def test_inviting_an_affiliate_with_access_changes_nothing_and_sends_nothing(
    net, django_capture_on_commit_callbacks
):
    access = CampaignAccess.objects.get(campaign=net.campaign1, affiliate=net.affiliate1)
    before = application_body(access)

    with django_capture_on_commit_callbacks() as callbacks:
        response = _invite(
            net, "advertiser1", net.campaign1.pk, {"affiliate_id": net.affiliate1.pk}
        )

    assert (response.status_code, response.json()) == (200, before)
    assert application_body(access) == before
    assert callbacks == []


@pytest.mark.parametrize(
    ("role", "status_code", "expected"),
    [
        ("anonymous", 401, NOT_AUTHENTICATED),
        ("affiliate1", 403, ADMIN_OR_ADVERTISER_FORBIDDEN),
        ("affiliate2", 403, ADMIN_OR_ADVERTISER_FORBIDDEN),
        ("pending_advertiser", 403, ADMIN_OR_ADVERTISER_FORBIDDEN),
        # Another advertiser's campaign is missing to it, whatever the body says.
        ("advertiser2", 404, not_found("Campaign not found.")),
    ],
)
@pytest.mark.parametrize("body", [{"affiliate_id": "AFFILIATE"}, {}])
def test_invite_refusals_change_nothing_and_send_nothing(
    role, status_code, expected, body, net, private, django_capture_on_commit_callbacks
):
    body = dict.fromkeys(body, net.affiliate2.pk)

    with django_capture_on_commit_callbacks() as callbacks:
        response = _invite(net, role, private.pk, body)

    assert (response.status_code, response.json()) == (status_code, expected)
    assert not CampaignAccess.objects.filter(campaign=private).exists()
    assert callbacks == []


def _affiliate_error(code: str, message: str, field_message: str) -> dict:
    return {
        "status": "error",
        "code": code,
        "message": message,
        "fields": {"affiliate_id": [field_message]},
    }


@pytest.mark.parametrize(
    ("affiliate", "status_code", "expected"),
    [
        ("unknown", 400, _affiliate_error("invalid_affiliate", *["Unknown affiliate."] * 2)),
        ("advertiser", 400, _affiliate_error("invalid_affiliate", *["Unknown affiliate."] * 2)),
        (
            "pending",
            400,
            _affiliate_error(
                "affiliate_not_approved",
                "Only an approved affiliate can be invited.",
                "This affiliate's account is not approved.",
            ),
        ),
        (
            "suspended",
            400,
            _affiliate_error(
                "affiliate_not_approved",
                "Only an approved affiliate can be invited.",
                "This affiliate's account is not approved.",
            ),
        ),
        ("missing", 400, invalid_fields_body({"affiliate_id": ["This field is required."]})),
        ("text", 400, invalid_fields_body({"affiliate_id": ["A valid integer is required."]})),
    ],
)
def test_invite_refuses_an_affiliate_that_cannot_be_invited(
    affiliate, status_code, expected, net, private, django_capture_on_commit_callbacks
):
    body = {
        "unknown": {"affiliate_id": 999_999},
        "advertiser": {"affiliate_id": net.advertiser2.pk},
        "pending": {"affiliate_id": net.pending_affiliate.pk},
        "suspended": {
            "affiliate_id": AffiliateFactory(status=ApprovalStatus.SUSPENDED).pk,
        },
        "missing": {},
        "text": {"affiliate_id": "me"},
    }[affiliate]

    with django_capture_on_commit_callbacks() as callbacks:
        response = _invite(net, "advertiser1", private.pk, body)

    assert (response.status_code, response.json()) == (status_code, expected)
    assert not CampaignAccess.objects.filter(campaign=private).exists()
    assert callbacks == []


def test_an_archived_campaign_takes_no_invitation(net):
    archived = CampaignFactory(
        advertiser=net.advertiser1, visibility=Visibility.PRIVATE, status=CampaignStatus.ARCHIVED
    )

    response = _invite(net, "advertiser1", archived.pk, {"affiliate_id": net.affiliate2.pk})

    assert (response.status_code, response.json()) == (
        409,
        {
            "status": "error",
            "code": "invalid_transition",
            "message": "An archived campaign cannot take new affiliates.",
        },
    )
    assert not CampaignAccess.objects.filter(campaign=archived).exists()
