"""`/api/affiliates` and `/api/advertisers`: admin lists with filters, a partner's own profile,
and the approve / reject / suspend flow with its email."""

import pytest
from django.core import mail
from django.core.cache import cache
from rest_framework.fields import DateTimeField
from rest_framework.test import APIClient

from accounts.models import Advertiser, Affiliate, ApprovalStatus, PayoutMethod
from accounts.tests.factories import AdminUserFactory, AdvertiserFactory, AffiliateFactory
from config.celery import app as celery_app
from core.tests.api_bodies import invalid_fields_body

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()


@pytest.fixture
def eager_celery():
    """Tasks published after commit run in-process (nothing reaches a broker)."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def _as(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def _iso(value) -> str | None:
    return DateTimeField().to_representation(value) if value else None


def _affiliate_body(affiliate: Affiliate) -> dict:
    affiliate.refresh_from_db()
    return {
        "id": affiliate.pk,
        "email": affiliate.user.email,
        "name": affiliate.user.name,
        "company": affiliate.company,
        "contact_name": affiliate.contact_name,
        "phone": affiliate.phone,
        "website": affiliate.website,
        "status": affiliate.status,
        "status_reason": affiliate.status_reason,
        "status_changed_at": _iso(affiliate.status_changed_at),
        "created_at": _iso(affiliate.created_at),
        "traffic_sources": affiliate.traffic_sources,
        "payout_method": affiliate.payout_method,
        "payout_details": affiliate.payout_details,
    }


def _advertiser_body(advertiser: Advertiser) -> dict:
    advertiser.refresh_from_db()
    return {
        "id": advertiser.pk,
        "email": advertiser.user.email,
        "name": advertiser.user.name,
        "company": advertiser.company,
        "contact_name": advertiser.contact_name,
        "phone": advertiser.phone,
        "website": advertiser.website,
        "status": advertiser.status,
        "status_reason": advertiser.status_reason,
        "status_changed_at": _iso(advertiser.status_changed_at),
        "created_at": _iso(advertiser.created_at),
    }


# --- lists ---------------------------------------------------------------------------------------


def test_admin_lists_affiliates_with_filters_search_ordering_and_pages():
    admin = AdminUserFactory()
    alpha = AffiliateFactory(company="Alpha Media", user__email="alpha@example.test")
    beta = AffiliateFactory(
        company="Beta Ads", status=ApprovalStatus.PENDING, user__email="beta@example.test"
    )
    gamma = AffiliateFactory(
        company="Gamma", status=ApprovalStatus.SUSPENDED, user__email="gamma@example.test"
    )
    AdvertiserFactory()
    client = _as(admin)

    everyone = client.get("/api/affiliates")
    pending = client.get("/api/affiliates", {"status": "pending"})
    two_statuses = client.get("/api/affiliates?status=pending&status=suspended")
    by_email = client.get("/api/affiliates", {"search": "ALPHA@"})
    by_company = client.get("/api/affiliates", {"search": "ads"})
    by_email_desc = client.get("/api/affiliates", {"ordering": "-email"})
    second_page = client.get("/api/affiliates", {"page_size": 2, "page": 2})

    assert everyone.status_code == 200
    assert everyone.json() == {
        "count": 3,
        "next": None,
        "previous": None,
        "results": [_affiliate_body(alpha), _affiliate_body(beta), _affiliate_body(gamma)],
    }
    assert [row["id"] for row in pending.json()["results"]] == [beta.pk]
    assert [row["id"] for row in two_statuses.json()["results"]] == [beta.pk, gamma.pk]
    assert [row["id"] for row in by_email.json()["results"]] == [alpha.pk]
    assert [row["id"] for row in by_company.json()["results"]] == [beta.pk]
    assert [row["id"] for row in by_email_desc.json()["results"]] == [gamma.pk, beta.pk, alpha.pk]
    assert second_page.json()["count"] == 3
    assert [row["id"] for row in second_page.json()["results"]] == [gamma.pk]


def test_admin_lists_advertisers():
    admin = AdminUserFactory()
    first = AdvertiserFactory(company="Shop One")
    second = AdvertiserFactory(company="Shop Two", status=ApprovalStatus.REJECTED)
    AffiliateFactory()

    response = _as(admin).get("/api/advertisers")
    rejected = _as(admin).get("/api/advertisers", {"status": "rejected"})

    assert response.json() == {
        "count": 2,
        "next": None,
        "previous": None,
        "results": [_advertiser_body(first), _advertiser_body(second)],
    }
    assert [row["id"] for row in rejected.json()["results"]] == [second.pk]


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        (
            {"status": "nonsense"},
            {"status": ["Select a valid choice. nonsense is not one of the available choices."]},
        ),
        # The schema now lists the sort keys; anything else was and is a 400.
        (
            {"ordering": "error"},
            {"ordering": ["Select a valid choice. error is not one of the available choices."]},
        ),
        ({"page_size": "ten"}, {"page_size": ["A positive integer."]}),
    ],
)
def test_list_refuses_bad_filters_with_400(params, fields):
    response = _as(AdminUserFactory()).get("/api/affiliates", params)

    assert response.status_code == 400
    assert response.json() == invalid_fields_body(fields)


@pytest.mark.parametrize("path", ["/api/affiliates", "/api/advertisers"])
def test_lists_refuse_a_parameter_they_do_not_take(path):
    response = _as(AdminUserFactory()).get(path, {"statuses": "approved", "page": "1"})

    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "code": "unknown_parameter",
        "message": "Unknown query parameter(s): statuses. "
        "Accepted: ordering, page, page_size, search, status.",
        "fields": {"statuses": ["Unknown parameter."]},
    }


@pytest.mark.parametrize("path", ["/api/affiliates", "/api/advertisers"])
def test_lists_run_a_constant_number_of_queries(path, django_assert_max_num_queries):
    admin = AdminUserFactory()
    AffiliateFactory.create_batch(12)
    AdvertiserFactory.create_batch(12)
    client = _as(admin)

    with django_assert_max_num_queries(2):
        response = client.get(path)

    assert response.json()["count"] == 12


@pytest.mark.parametrize("path", ["/api/affiliates", "/api/advertisers"])
def test_lists_are_for_admins_only(path):
    AffiliateFactory(company="Secret Co")
    AdvertiserFactory(company="Secret Co")
    people = {
        "anonymous": None,
        "affiliate": AffiliateFactory().user,
        "advertiser": AdvertiserFactory().user,
    }

    responses = {name: _as(user).get(path) for name, user in people.items()}

    assert {name: r.status_code for name, r in responses.items()} == {
        "anonymous": 401,
        "affiliate": 403,
        "advertiser": 403,
    }
    for response in responses.values():
        assert "Secret" not in response.content.decode()
        assert "results" not in response.json()


# --- one partner ---------------------------------------------------------------------------------


def test_an_affiliate_sees_its_own_profile_with_payout_details_and_nobody_elses():
    mine = AffiliateFactory(
        payout_method=PayoutMethod.WIRE, payout_details="IBAN DE00 1234", traffic_sources="SEO"
    )
    theirs = AffiliateFactory(payout_details="IBAN FR76 9999")
    advertiser = AdvertiserFactory()

    own = _as(mine.user).get(f"/api/affiliates/{mine.pk}")
    other = _as(mine.user).get(f"/api/affiliates/{theirs.pk}")
    missing = _as(mine.user).get("/api/affiliates/999999")
    as_admin = _as(AdminUserFactory()).get(f"/api/affiliates/{theirs.pk}")
    as_advertiser = _as(advertiser.user).get(f"/api/affiliates/{mine.pk}")
    anonymous = _as(None).get(f"/api/affiliates/{mine.pk}")

    assert own.status_code == 200
    assert own.json() == _affiliate_body(mine)
    assert own.json()["payout_details"] == "IBAN DE00 1234"
    assert other.status_code == 404
    assert (
        other.json()
        == missing.json()
        == {
            "status": "error",
            "code": "not_found",
            "message": "Affiliate not found.",
        }
    )
    assert as_admin.json() == _affiliate_body(theirs)
    assert as_advertiser.status_code == 403
    assert "IBAN" not in as_advertiser.content.decode()
    assert anonymous.status_code == 401


def test_an_advertiser_sees_its_own_profile_and_nobody_elses():
    mine = AdvertiserFactory()
    theirs = AdvertiserFactory()

    own = _as(mine.user).get(f"/api/advertisers/{mine.pk}")
    other = _as(mine.user).get(f"/api/advertisers/{theirs.pk}")
    as_affiliate = _as(AffiliateFactory().user).get(f"/api/advertisers/{mine.pk}")

    assert own.json() == _advertiser_body(mine)
    assert other.status_code == 404
    assert other.json()["message"] == "Advertiser not found."
    assert as_affiliate.status_code == 403


# --- approve / reject / suspend ------------------------------------------------------------------


def test_register_then_admin_approves_and_the_affiliate_gets_an_email_and_access(
    api_client, eager_celery, django_capture_on_commit_callbacks
):
    admin = AdminUserFactory()
    registered = api_client.post(
        "/api/auth/register",
        {
            "email": "pub@example.test",
            "password": "a-long-enough-passphrase",
            "role": "affiliate",
            "name": "Pub",
        },
        format="json",
    ).json()
    affiliate_id = registered["id"]
    pub = Affiliate.objects.get(pk=affiliate_id).user
    before = _as(pub).get(f"/api/affiliates/{affiliate_id}")

    with django_capture_on_commit_callbacks(execute=True):
        approved = _as(admin).post(
            f"/api/affiliates/{affiliate_id}/approve", {"reason": "Welcome"}, format="json"
        )
    after = _as(pub).get(f"/api/affiliates/{affiliate_id}")

    affiliate = Affiliate.objects.get(pk=affiliate_id)
    assert before.status_code == 403
    assert approved.status_code == 200
    assert approved.json() == _affiliate_body(affiliate)
    assert (affiliate.status, affiliate.status_reason, affiliate.status_changed_by) == (
        ApprovalStatus.APPROVED,
        "Welcome",
        admin,
    )
    assert after.status_code == 200
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["pub@example.test"]
    assert mail.outbox[0].subject == "Your ClickLedger account: approved"
    assert "has been approved" in mail.outbox[0].body
    assert "Reason: Welcome" in mail.outbox[0].body


@pytest.mark.parametrize(
    ("kind", "action", "start", "end"),
    [
        ("affiliates", "reject", ApprovalStatus.PENDING, ApprovalStatus.REJECTED),
        ("affiliates", "suspend", ApprovalStatus.APPROVED, ApprovalStatus.SUSPENDED),
        ("advertisers", "approve", ApprovalStatus.PENDING, ApprovalStatus.APPROVED),
        ("advertisers", "reject", ApprovalStatus.SUSPENDED, ApprovalStatus.REJECTED),
        ("advertisers", "suspend", ApprovalStatus.APPROVED, ApprovalStatus.SUSPENDED),
    ],
)
def test_status_actions_move_the_partner_and_email_it(
    kind, action, start, end, eager_celery, django_capture_on_commit_callbacks
):
    factory = AffiliateFactory if kind == "affiliates" else AdvertiserFactory
    partner = factory(status=start)

    with django_capture_on_commit_callbacks(execute=True):
        response = _as(AdminUserFactory()).post(f"/api/{kind}/{partner.pk}/{action}")

    partner.refresh_from_db()
    assert response.status_code == 200
    assert response.json()["status"] == end
    assert response.json()["status_reason"] == ""
    assert partner.status == end
    assert [message.subject for message in mail.outbox] == [f"Your ClickLedger account: {end}"]


def test_setting_the_status_a_partner_already_has_changes_nothing(
    eager_celery, django_capture_on_commit_callbacks
):
    affiliate = AffiliateFactory(status=ApprovalStatus.APPROVED)

    with django_capture_on_commit_callbacks(execute=True):
        response = _as(AdminUserFactory()).post(f"/api/affiliates/{affiliate.pk}/approve")

    assert response.status_code == 200
    assert response.json() == _affiliate_body(affiliate)
    assert affiliate.status_changed_at is None
    assert mail.outbox == []


def test_a_refused_transition_is_409_and_changes_nothing(
    eager_celery, django_capture_on_commit_callbacks
):
    affiliate = AffiliateFactory(status=ApprovalStatus.PENDING)

    with django_capture_on_commit_callbacks(execute=True):
        response = _as(AdminUserFactory()).post(f"/api/affiliates/{affiliate.pk}/suspend")

    affiliate.refresh_from_db()
    assert response.status_code == 409
    assert response.json() == {
        "status": "error",
        "code": "invalid_transition",
        "message": "Cannot move from pending to suspended.",
    }
    assert affiliate.status == ApprovalStatus.PENDING
    assert mail.outbox == []


def test_status_actions_validate_the_reason_and_404_unknown_partners():
    admin = _as(AdminUserFactory())
    advertiser = AdvertiserFactory(status=ApprovalStatus.PENDING)

    too_long = admin.post(
        f"/api/advertisers/{advertiser.pk}/reject", {"reason": "x" * 501}, format="json"
    )
    unknown = admin.post("/api/advertisers/999999/approve")
    wrong_kind = admin.post(f"/api/affiliates/{advertiser.pk}/approve")

    advertiser.refresh_from_db()
    assert too_long.status_code == 400
    assert list(too_long.json()["fields"]) == ["reason"]
    assert unknown.status_code == 404
    assert wrong_kind.status_code == 404
    assert wrong_kind.json()["message"] == "Affiliate not found."
    assert advertiser.status == ApprovalStatus.PENDING


@pytest.mark.parametrize("action", ["approve", "reject", "suspend"])
def test_only_admins_may_change_a_partner_status(
    action, eager_celery, django_capture_on_commit_callbacks
):
    affiliate = AffiliateFactory(status=ApprovalStatus.PENDING)
    people = {
        "anonymous": None,
        "self": affiliate.user,
        "other_affiliate": AffiliateFactory().user,
        "advertiser": AdvertiserFactory().user,
    }

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        statuses = {
            name: _as(user).post(f"/api/affiliates/{affiliate.pk}/{action}").status_code
            for name, user in people.items()
        }

    affiliate.refresh_from_db()
    assert statuses == {"anonymous": 401, "self": 403, "other_affiliate": 403, "advertiser": 403}
    assert affiliate.status == ApprovalStatus.PENDING
    assert affiliate.status_changed_at is None
    assert callbacks == []
    assert mail.outbox == []
