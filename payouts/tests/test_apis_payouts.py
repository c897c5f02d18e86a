from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Group, Permission
from django.core import mail

from accounts.models import ApprovalStatus, PayoutMethod
from accounts.tests.factories import (
    AdminUserFactory,
    AdvertiserFactory,
    AffiliateFactory,
    StaffUserFactory,
)
from config.celery import app as celery_app
from core.tests.api_bodies import invalid_fields_body
from payouts import selectors, services
from payouts.models import LedgerTransaction, PayoutEvent, PayoutRequest
from payouts.tests.factories import conversion_approve, funded_affiliate

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 4, 1, 9, 30, tzinfo=UTC)
T0_TEXT = "2026-04-01T09:30:00Z"
T1 = T0 + timedelta(hours=2)
T1_TEXT = "2026-04-01T11:30:00Z"
T2 = T0 + timedelta(days=1)
T2_TEXT = "2026-04-02T09:30:00Z"

NOT_AUTHENTICATED = {
    "status": "error",
    "code": "not_authenticated",
    "message": "Authentication credentials were not provided.",
}
NOT_ADMIN_OR_AFFILIATE = {
    "status": "error",
    "code": "permission_denied",
    "message": "Only network admins and approved affiliates may do this.",
}
NOT_AFFILIATE = {
    "status": "error",
    "code": "permission_denied",
    "message": "Only approved affiliates may do this.",
}
NOT_ADMIN = {
    "status": "error",
    "code": "permission_denied",
    "message": "Only network admins may do this.",
}
PAYOUT_NOT_FOUND = {"status": "error", "code": "not_found", "message": "Payout not found."}


@pytest.fixture(autouse=True)
def _minimum_50(settings):
    settings.PAYOUT_MINIMUM_AMOUNT = "50.00"


@pytest.fixture
def eager_celery():
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def usd(affiliate) -> dict[str, Decimal]:
    return selectors.affiliate_balances(affiliate_id=affiliate.user_id)["USD"]


def payout_body(payout: PayoutRequest, **overrides) -> dict:
    """The list representation of a payout as stored now."""
    body = {
        "id": payout.pk,
        "affiliate_id": payout.affiliate_id,
        "affiliate_email": payout.affiliate.user.email,
        "amount": f"{payout.amount:.4f}",
        "currency": payout.currency,
        "method": payout.method,
        "payout_method_id": payout.payout_method_id,
        "payout_details": payout.payout_details,
        "status": payout.status,
        "reference": payout.reference,
        "note": payout.note,
        "created_at": payout.created_at.isoformat().replace("+00:00", "Z"),
        "decided_at": None,
        "paid_at": None,
    }
    body.update(overrides)
    return body


def request_payout(affiliate, amount: str = "100", currency: str = "USD", at=T0) -> PayoutRequest:
    with time_machine.travel(at, tick=False):
        return services.payout_request_create(affiliate=affiliate, amount=amount, currency=currency)


# --- POST /api/payouts ----------------------------------------------------------------------


def test_affiliate_requests_a_payout(api_client):
    # given
    affiliate = funded_affiliate(
        available=Decimal("120"),
        payout_method=PayoutMethod.WIRE,
        payout_details="IBAN DE00 1234",
        user__email="pub@example.test",
    )
    api_client.force_authenticate(affiliate.user)

    # when
    with time_machine.travel(T0, tick=False):
        response = api_client.post(
            "/api/payouts", {"amount": "100.50", "currency": "usd"}, format="json"
        )

    # then
    payout = PayoutRequest.objects.get()
    assert response.status_code == 201
    assert response.json() == {
        "id": payout.pk,
        "affiliate_id": affiliate.user_id,
        "affiliate_email": "pub@example.test",
        "amount": "100.5000",
        "currency": "USD",
        "method": "wire",
        "payout_method_id": None,
        "payout_details": "IBAN DE00 1234",
        "status": "requested",
        "reference": "",
        "note": "",
        "created_at": T0_TEXT,
        "decided_at": None,
        "paid_at": None,
        "events": [
            {
                "from_status": "",
                "to_status": "requested",
                "actor": "affiliate",
                "note": "",
                "created_at": T0_TEXT,
            }
        ],
    }
    assert usd(affiliate) == {
        "pending": Decimal("0.0000"),
        "available": Decimal("19.5000"),
        "requested": Decimal("100.5000"),
        "paid": Decimal("0.0000"),
    }


def test_affiliate_may_choose_the_method(api_client):
    affiliate = funded_affiliate(available=Decimal("120"))
    api_client.force_authenticate(affiliate.user)

    response = api_client.post(
        "/api/payouts", {"amount": 60, "currency": "USD", "method": "crypto"}, format="json"
    )

    assert response.status_code == 201
    assert (response.json()["method"], response.json()["amount"]) == ("crypto", "60.0000")
    assert PayoutRequest.objects.get().method == "crypto"


@pytest.mark.parametrize(
    ("payload", "body"),
    [
        (
            {"amount": "49.9999", "currency": "USD"},
            {
                "status": "error",
                "code": "below_minimum",
                "message": "The minimum payout is 50.0000 USD.",
                "fields": {"amount": ["At least 50.0000."]},
            },
        ),
        (
            {"amount": "120.0001", "currency": "USD"},
            {
                "status": "error",
                "code": "insufficient_balance",
                "message": "The available balance is 120.0000 USD.",
                "fields": {"amount": ["At most 120.0000."]},
            },
        ),
        (
            {"amount": "60", "currency": "EUR"},
            {
                "status": "error",
                "code": "insufficient_balance",
                "message": "The available balance is 0.0000 EUR.",
                "fields": {"amount": ["At most 0.0000."]},
            },
        ),
        (
            {"amount": "-60", "currency": "USD"},
            {
                "status": "error",
                "code": "invalid_amount",
                "message": "Invalid amount: negative.",
                "fields": {"amount": ["negative"]},
            },
        ),
        (
            {"amount": "-0", "currency": "USD"},
            {
                "status": "error",
                "code": "invalid_amount",
                "message": "Invalid amount: negative.",
                "fields": {"amount": ["negative"]},
            },
        ),
        (
            {"amount": "6E+1", "currency": "USD"},
            invalid_fields_body(
                {"amount": ["Enter a plain decimal such as 12.50 (not a decimal)."]}
            ),
        ),
        (
            {"amount": "60_0", "currency": "USD"},
            invalid_fields_body(
                {"amount": ["Enter a plain decimal such as 12.50 (not a decimal)."]}
            ),
        ),
        (
            {"amount": "\u0666\u0660", "currency": "USD"},
            invalid_fields_body(
                {"amount": ["Enter a plain decimal such as 12.50 (not a decimal)."]}
            ),
        ),
        (
            {"amount": "+60", "currency": "USD"},
            invalid_fields_body(
                {"amount": ["Enter a plain decimal such as 12.50 (a sign is not accepted)."]}
            ),
        ),
        (
            {"amount": "60.00001", "currency": "USD"},
            invalid_fields_body(
                {"amount": ["Ensure that there are no more than 4 decimal places."]}
            ),
        ),
        (
            {"currency": "XXQ", "method": "cash"},
            {
                "status": "error",
                "code": "invalid",
                "message": "The request has invalid fields.",
                "fields": {
                    "amount": ["This field is required."],
                    "currency": ["Use an ISO 4217 code, e.g. USD."],
                    "method": ['"cash" is not a valid choice.'],
                },
            },
        ),
    ],
)
def test_payout_request_refusals_change_nothing(api_client, payload, body):
    # given
    affiliate = funded_affiliate(available=Decimal("120"))
    transactions_before = LedgerTransaction.objects.count()
    api_client.force_authenticate(affiliate.user)

    # when
    response = api_client.post("/api/payouts", payload, format="json")

    # then
    assert response.status_code == 400
    assert response.json() == body
    assert PayoutRequest.objects.count() == 0
    assert LedgerTransaction.objects.count() == transactions_before
    assert usd(affiliate)["available"] == Decimal("120.0000")


@pytest.mark.parametrize(
    ("who", "status", "body"),
    [
        ("anonymous", 401, NOT_AUTHENTICATED),
        ("admin", 403, NOT_AFFILIATE),
        ("advertiser", 403, NOT_AFFILIATE),
        ("suspended_affiliate", 403, NOT_AFFILIATE),
    ],
)
def test_only_approved_affiliates_request_payouts(api_client, who, status, body):
    # given
    suspended = funded_affiliate(available=Decimal("500"), status=ApprovalStatus.SUSPENDED)
    users = {
        "admin": AdminUserFactory(),
        "advertiser": AdvertiserFactory().user,
        "suspended_affiliate": suspended.user,
    }
    if who in users:
        api_client.force_authenticate(users[who])

    # when
    response = api_client.post("/api/payouts", {"amount": "100", "currency": "USD"}, format="json")

    # then
    assert response.status_code == status
    assert response.json() == body
    assert PayoutRequest.objects.count() == 0
    assert usd(suspended)["available"] == Decimal("500.0000")


# --- GET /api/payouts -----------------------------------------------------------------------


@pytest.fixture
def two_affiliates_payouts():
    """Affiliate A: a USD payout at T0 (later rejected) and a EUR one at T2; B: a USD one at T1."""
    admin = AdminUserFactory()
    a = funded_affiliate(available=Decimal("300"), user__email="a@example.test")
    conversion_approve(affiliate=a, payout=Decimal("80"), currency="EUR")
    b = funded_affiliate(available=Decimal("300"), user__email="b@example.test")
    a_usd = request_payout(a, "100", at=T0)
    b_usd = request_payout(b, "200", at=T1)
    a_eur = request_payout(a, "75", currency="EUR", at=T2)
    with time_machine.travel(T2, tick=False):
        services.payout_reject(payout=a_usd, actor=admin, reason="Wrong IBAN")
    a_usd.refresh_from_db()
    return {"admin": admin, "a": a, "b": b, "a_usd": a_usd, "b_usd": b_usd, "a_eur": a_eur}


def test_affiliate_lists_only_its_own_payouts_newest_first(api_client, two_affiliates_payouts):
    # given
    data = two_affiliates_payouts
    api_client.force_authenticate(data["a"].user)

    # when
    response = api_client.get("/api/payouts")

    # then
    assert response.status_code == 200
    assert response.json() == {
        "count": 2,
        "next": None,
        "previous": None,
        "results": [
            payout_body(data["a_eur"], created_at=T2_TEXT),
            payout_body(
                data["a_usd"],
                status="rejected",
                note="Wrong IBAN",
                created_at=T0_TEXT,
                decided_at=T2_TEXT,
            ),
        ],
    }


def test_admin_lists_every_payout(api_client, two_affiliates_payouts):
    data = two_affiliates_payouts
    api_client.force_authenticate(data["admin"])

    response = api_client.get("/api/payouts")

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [
        data["a_eur"].pk,
        data["b_usd"].pk,
        data["a_usd"].pk,
    ]
    assert response.json()["results"][1] == payout_body(data["b_usd"], created_at=T1_TEXT)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "requested"}, ["a_eur", "b_usd"]),
        ({"status": ["requested", "rejected"]}, ["a_eur", "b_usd", "a_usd"]),
        ({"currency": "eur"}, ["a_eur"]),
        ({"affiliate_id": "b"}, ["b_usd"]),
        ({"created_after": "2026-04-01T10:00:00Z"}, ["a_eur", "b_usd"]),
        ({"created_before": "2026-04-01T11:30:00Z"}, ["b_usd", "a_usd"]),
        ({"ordering": "amount"}, ["a_eur", "a_usd", "b_usd"]),
        ({"ordering": "-amount"}, ["b_usd", "a_usd", "a_eur"]),
        ({"ordering": "created_at"}, ["a_usd", "b_usd", "a_eur"]),
        ({"ordering": "currency,amount"}, ["a_eur", "a_usd", "b_usd"]),
        ({"page_size": 1, "page": 2}, ["b_usd"]),
    ],
)
def test_admin_filters_orders_and_pages_payouts(
    api_client, two_affiliates_payouts, query, expected
):
    # given
    data = two_affiliates_payouts
    if query.get("affiliate_id") == "b":
        query = {"affiliate_id": data["b"].user_id}
    api_client.force_authenticate(data["admin"])

    # when
    response = api_client.get("/api/payouts", query)

    # then
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [data[k].pk for k in expected]


def test_affiliate_filtering_on_another_affiliate_sees_nothing(api_client, two_affiliates_payouts):
    data = two_affiliates_payouts
    api_client.force_authenticate(data["a"].user)

    response = api_client.get("/api/payouts", {"affiliate_id": data["b"].user_id})

    assert response.status_code == 200
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_an_unknown_status_filter_is_a_400(api_client, two_affiliates_payouts):
    api_client.force_authenticate(two_affiliates_payouts["admin"])

    response = api_client.get("/api/payouts", {"status": "lost"})

    assert response.status_code == 400
    assert response.json() == invalid_fields_body(
        {"status": ["Select a valid choice. lost is not one of the available choices."]}
    )


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        # Off the whitelist (and not a silent fallback to the default order either).
        (
            {"ordering": "payout_details"},
            {
                "ordering": [
                    "Unknown ordering 'payout_details': use id, -id, created_at, -created_at, "
                    "amount, -amount, status, -status, currency, -currency, paid_at, -paid_at."
                ]
            },
        ),
        (
            {"ordering": "amount,"},
            {
                "ordering": [
                    "Unknown ordering '': use id, -id, created_at, "
                    "-created_at, amount, -amount, status, -status, "
                    "currency, -currency, paid_at, -paid_at."
                ]
            },
        ),
        ({"affiliate_id": "1e5"}, {"affiliate_id": ["A positive integer id."]}),
        ({"affiliate_id": "0"}, {"affiliate_id": ["A positive integer id."]}),
        # PostgreSQL refuses a UTC offset beyond 15:59: this was a 500 (DataError).
        (
            {"created_after": "0107-02-27T17:23:16.655705+22:18"},
            {
                "created_after": [
                    "An RFC 3339 date-time such as 2026-03-10T09:30:00Z, with a UTC offset "
                    "within +-15:59."
                ]
            },
        ),
        (
            {"created_before": "2026-04-01"},
            {
                "created_before": [
                    "An RFC 3339 date-time such as 2026-03-10T09:30:00Z, with a UTC offset "
                    "within +-15:59."
                ]
            },
        ),
        ({"page_size": "ten"}, {"page_size": ["A positive integer."]}),
    ],
)
def test_a_malformed_list_parameter_is_a_400_naming_it(
    api_client, two_affiliates_payouts, query, fields
):
    api_client.force_authenticate(two_affiliates_payouts["admin"])

    response = api_client.get("/api/payouts", query)

    assert response.status_code == 400
    assert response.json() == invalid_fields_body(fields)


def test_created_filters_take_offsets_up_to_the_database_limit(api_client, two_affiliates_payouts):
    # given A's USD payout at T0 (09:30Z), B's at T1 (11:30Z), A's EUR one at T2 (a day later)
    # when: from 09:29:59Z (01:29:59-08:00) to 11:31Z (03:30 the next day at +15:59)
    data = two_affiliates_payouts
    api_client.force_authenticate(data["admin"])
    response = api_client.get(
        "/api/payouts",
        {
            "created_after": "2026-04-01T01:29:59-08:00",
            "created_before": "2026-04-02T03:30:00+15:59",
        },
    )

    # then
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [
        data["b_usd"].pk,
        data["a_usd"].pk,
    ]


def test_payout_list_runs_a_constant_number_of_queries(api_client, django_assert_max_num_queries):
    # given: many payouts of many affiliates
    admin = AdminUserFactory()
    for _ in range(6):
        affiliate = funded_affiliate(available=Decimal("200"))
        request_payout(affiliate, "60")
        request_payout(affiliate, "70")
    api_client.force_authenticate(admin)

    # when / then: count + page; the role check needs none for an admin
    with django_assert_max_num_queries(2):
        response = api_client.get("/api/payouts")
    assert response.json()["count"] == 12


def test_affiliate_payout_list_runs_a_constant_number_of_queries(
    api_client, django_assert_max_num_queries
):
    affiliate = funded_affiliate(available=Decimal("1000"))
    for _ in range(8):
        request_payout(affiliate, "60")
    api_client.force_authenticate(affiliate.user)

    # the approval check, count, page
    with django_assert_max_num_queries(3):
        response = api_client.get("/api/payouts")
    assert response.json()["count"] == 8


@pytest.mark.parametrize(
    ("who", "status", "body"),
    [("anonymous", 401, NOT_AUTHENTICATED), ("advertiser", 403, NOT_ADMIN_OR_AFFILIATE)],
)
def test_payout_list_is_refused_to_others(api_client, two_affiliates_payouts, who, status, body):
    if who == "advertiser":
        api_client.force_authenticate(AdvertiserFactory().user)

    response = api_client.get("/api/payouts")

    assert response.status_code == status
    assert response.json() == body


# --- GET /api/payouts/<id> ------------------------------------------------------------------


def test_affiliate_reads_its_payout_with_its_history(api_client, two_affiliates_payouts):
    # given
    data = two_affiliates_payouts
    api_client.force_authenticate(data["a"].user)

    # when
    response = api_client.get(f"/api/payouts/{data['a_usd'].pk}")

    # then
    assert response.status_code == 200
    assert response.json() == {
        **payout_body(
            data["a_usd"],
            status="rejected",
            note="Wrong IBAN",
            created_at=T0_TEXT,
            decided_at=T2_TEXT,
        ),
        "events": [
            {
                "from_status": "",
                "to_status": "requested",
                "actor": "affiliate",
                "note": "",
                "created_at": T0_TEXT,
            },
            {
                "from_status": "requested",
                "to_status": "rejected",
                "actor": "admin",
                "note": "Wrong IBAN",
                "created_at": T2_TEXT,
            },
        ],
    }


def test_admin_reads_any_payout(api_client, two_affiliates_payouts):
    data = two_affiliates_payouts
    api_client.force_authenticate(data["admin"])

    response = api_client.get(f"/api/payouts/{data['b_usd'].pk}")

    assert response.status_code == 200
    assert response.json() == {
        **payout_body(data["b_usd"], created_at=T1_TEXT),
        "events": [
            {
                "from_status": "",
                "to_status": "requested",
                "actor": "affiliate",
                "note": "",
                "created_at": T1_TEXT,
            }
        ],
    }


@pytest.mark.parametrize(
    ("who", "status", "body"),
    [
        ("anonymous", 401, NOT_AUTHENTICATED),
        ("advertiser", 403, NOT_ADMIN_OR_AFFILIATE),
        ("other_affiliate", 404, PAYOUT_NOT_FOUND),
    ],
)
def test_payout_detail_is_refused_to_others(api_client, two_affiliates_payouts, who, status, body):
    # given
    data = two_affiliates_payouts
    if who == "advertiser":
        api_client.force_authenticate(AdvertiserFactory().user)
    elif who == "other_affiliate":
        api_client.force_authenticate(data["b"].user)

    # when
    response = api_client.get(f"/api/payouts/{data['a_usd'].pk}")

    # then: exactly like a payout that does not exist
    assert response.status_code == status
    assert response.json() == body


def test_an_unknown_payout_is_404(api_client, two_affiliates_payouts):
    api_client.force_authenticate(two_affiliates_payouts["admin"])

    response = api_client.get("/api/payouts/987654321")

    assert response.status_code == 404
    assert response.json() == PAYOUT_NOT_FOUND


# --- lifecycle: approve, reject, mark-paid --------------------------------------------------


@pytest.mark.parametrize("approve_path", ["/api/payouts/approve/{id}", "/api/payouts/{id}/approve"])
def test_lifecycle_request_approve_pay_through_the_api(
    api_client, eager_celery, django_capture_on_commit_callbacks, approve_path
):
    # given: the affiliate asks through the API
    admin = AdminUserFactory()
    affiliate = funded_affiliate(available=Decimal("300"), user__email="pub@example.test")
    api_client.force_authenticate(affiliate.user)
    with time_machine.travel(T0, tick=False):
        created = api_client.post(
            "/api/payouts", {"amount": "250", "currency": "USD"}, format="json"
        )
    payout_id = created.json()["id"]
    api_client.force_authenticate(admin)

    # when: the admin approves, then pays
    with time_machine.travel(T1, tick=False), django_capture_on_commit_callbacks(execute=True):
        approved = api_client.post(approve_path.format(id=payout_id))
    with time_machine.travel(T2, tick=False), django_capture_on_commit_callbacks(execute=True):
        paid = api_client.post(
            f"/api/payouts/{payout_id}/mark-paid", {"reference": " PP-123 "}, format="json"
        )

    # then
    payout = PayoutRequest.objects.get(pk=payout_id)
    requested_event = {
        "from_status": "",
        "to_status": "requested",
        "actor": "affiliate",
        "note": "",
        "created_at": T0_TEXT,
    }
    approved_event = {
        "from_status": "requested",
        "to_status": "approved",
        "actor": "admin",
        "note": "",
        "created_at": T1_TEXT,
    }
    assert approved.status_code == 200
    assert approved.json() == {
        **payout_body(
            payout, status="approved", reference="", created_at=T0_TEXT, decided_at=T1_TEXT
        ),
        "events": [requested_event, approved_event],
    }
    assert paid.status_code == 200
    assert paid.json() == {
        **payout_body(payout, created_at=T0_TEXT, decided_at=T2_TEXT, paid_at=T2_TEXT),
        "events": [
            requested_event,
            approved_event,
            {
                "from_status": "approved",
                "to_status": "paid",
                "actor": "admin",
                "note": "reference PP-123",
                "created_at": T2_TEXT,
            },
        ],
    }
    assert (payout.status, payout.reference, payout.decided_by) == ("paid", "PP-123", admin)
    assert usd(affiliate) == {
        "pending": Decimal("0.0000"),
        "available": Decimal("50.0000"),
        "requested": Decimal("0.0000"),
        "paid": Decimal("250.0000"),
    }
    assert [m.subject for m in mail.outbox] == [
        f"Your ClickLedger payout #{payout_id}: approved",
        f"Your ClickLedger payout #{payout_id}: paid",
    ]
    assert mail.outbox[1].to == ["pub@example.test"]


@pytest.mark.parametrize("from_status", ["requested", "approved"])
def test_admin_rejects_a_payout_and_the_money_returns(api_client, from_status):
    # given
    admin = AdminUserFactory()
    affiliate = funded_affiliate(available=Decimal("300"))
    payout = request_payout(affiliate, "250")
    if from_status == "approved":
        services.payout_approve(payout=payout, actor=admin)
    api_client.force_authenticate(admin)

    # when
    with time_machine.travel(T2, tick=False):
        response = api_client.post(
            f"/api/payouts/{payout.pk}/reject", {"reason": "Details unverifiable"}, format="json"
        )

    # then
    payout.refresh_from_db()
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    assert response.json()["note"] == "Details unverifiable"
    assert response.json()["events"][-1] == {
        "from_status": from_status,
        "to_status": "rejected",
        "actor": "admin",
        "note": "Details unverifiable",
        "created_at": T2_TEXT,
    }
    assert (payout.status, payout.note) == ("rejected", "Details unverifiable")
    assert usd(affiliate) == {
        "pending": Decimal("0.0000"),
        "available": Decimal("300.0000"),
        "requested": Decimal("0.0000"),
        "paid": Decimal("0.0000"),
    }


def test_reject_without_a_reason_is_allowed(api_client):
    affiliate = funded_affiliate(available=Decimal("300"))
    payout = request_payout(affiliate, "250")
    api_client.force_authenticate(AdminUserFactory())

    response = api_client.post(f"/api/payouts/{payout.pk}/reject")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["note"]) == ("rejected", "")


@pytest.mark.parametrize("payload", [{}, {"reference": "   "}])
def test_mark_paid_needs_a_reference(api_client, payload):
    # given
    admin = AdminUserFactory()
    affiliate = funded_affiliate(available=Decimal("300"))
    payout = request_payout(affiliate, "250")
    services.payout_approve(payout=payout, actor=admin)
    api_client.force_authenticate(admin)

    # when
    response = api_client.post(f"/api/payouts/{payout.pk}/mark-paid", payload, format="json")

    # then
    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "code": "reference_required",
        "message": "A paid payout needs the payment's reference.",
        "fields": {"reference": ["Required."]},
    }
    payout.refresh_from_db()
    assert payout.status == "approved"
    assert usd(affiliate)["requested"] == Decimal("250.0000")


@pytest.mark.parametrize(
    ("status", "action", "payload", "message"),
    [
        ("requested", "mark-paid", {"reference": "PP-1"}, "A requested payout cannot become paid."),
        ("approved", "approve", {}, "A approved payout cannot become approved."),
        ("rejected", "approve", {}, "A rejected payout cannot become approved."),
        ("rejected", "reject", {}, "A rejected payout cannot become rejected."),
        ("paid", "reject", {}, "A paid payout cannot become rejected."),
        ("paid", "mark-paid", {"reference": "PP-2"}, "A paid payout cannot become paid."),
    ],
)
def test_invalid_transitions_are_409_and_change_nothing(
    api_client, status, action, payload, message
):
    # given
    admin = AdminUserFactory()
    affiliate = funded_affiliate(available=Decimal("300"))
    payout = request_payout(affiliate, "250")
    if status in {"approved", "paid"}:
        services.payout_approve(payout=payout, actor=admin)
    if status == "paid":
        services.payout_mark_paid(payout=payout, actor=admin, reference="PP-0")
    if status == "rejected":
        services.payout_reject(payout=payout, actor=admin)
    balances_before = usd(affiliate)
    events_before = PayoutEvent.objects.count()
    api_client.force_authenticate(admin)

    # when
    response = api_client.post(f"/api/payouts/{payout.pk}/{action}", payload, format="json")

    # then
    assert response.status_code == 409
    assert response.json() == {"status": "error", "code": "invalid_transition", "message": message}
    payout.refresh_from_db()
    assert payout.status == status
    assert usd(affiliate) == balances_before
    assert PayoutEvent.objects.count() == events_before


@pytest.mark.parametrize(
    "path",
    [
        "/api/payouts/approve/{id}",
        "/api/payouts/{id}/approve",
        "/api/payouts/{id}/reject",
        "/api/payouts/{id}/mark-paid",
    ],
)
@pytest.mark.parametrize(
    ("who", "status", "body"),
    [
        ("anonymous", 401, NOT_AUTHENTICATED),
        ("owner_affiliate", 403, NOT_ADMIN),
        ("advertiser", 403, NOT_ADMIN),
    ],
)
def test_decisions_are_admin_only_and_refusals_change_nothing(api_client, path, who, status, body):
    # given
    affiliate = funded_affiliate(available=Decimal("300"))
    payout = request_payout(affiliate, "250")
    if who == "owner_affiliate":
        api_client.force_authenticate(affiliate.user)
    elif who == "advertiser":
        api_client.force_authenticate(AdvertiserFactory().user)

    # when
    response = api_client.post(path.format(id=payout.pk), {"reference": "X"}, format="json")

    # then
    assert response.status_code == status
    assert response.json() == body
    payout.refresh_from_db()
    assert payout.status == "requested"
    assert PayoutEvent.objects.filter(payout=payout).count() == 1
    assert usd(affiliate)["requested"] == Decimal("250.0000")


@pytest.mark.parametrize(
    "path",
    [
        "/api/payouts/approve/987654321",
        "/api/payouts/987654321/approve",
        "/api/payouts/987654321/reject",
        "/api/payouts/987654321/mark-paid",
    ],
)
def test_deciding_an_unknown_payout_is_404(api_client, path):
    api_client.force_authenticate(AdminUserFactory())

    response = api_client.post(path, {"reference": "X"}, format="json")

    assert response.status_code == 404
    assert response.json() == PAYOUT_NOT_FOUND


def test_a_non_approved_affiliate_cannot_read_payouts_even_its_own(api_client):
    affiliate = funded_affiliate(available=Decimal("300"))
    payout = request_payout(affiliate, "250")
    affiliate.status = ApprovalStatus.SUSPENDED
    affiliate.save(update_fields=["status"])
    api_client.force_authenticate(affiliate.user)

    listing = api_client.get("/api/payouts")
    detail = api_client.get(f"/api/payouts/{payout.pk}")

    assert (listing.status_code, detail.status_code) == (403, 403)
    assert listing.json() == detail.json() == NOT_ADMIN_OR_AFFILIATE


def test_other_affiliate_id_never_leaks_into_a_created_payout(api_client):
    # given: the body names another affiliate; the payout is always the caller's
    a = funded_affiliate(available=Decimal("300"))
    b = AffiliateFactory()
    api_client.force_authenticate(a.user)

    # when
    response = api_client.post(
        "/api/payouts",
        {"amount": "100", "currency": "USD", "affiliate_id": b.user_id},
        format="json",
    )

    # then
    assert response.status_code == 201
    assert PayoutRequest.objects.get().affiliate_id == a.user_id


# --- staff: Django permissions decide -----------------------------------------------------------


def test_view_only_staff_reads_payouts_but_cannot_approve_them(api_client):
    affiliate = funded_affiliate(available=Decimal("100"))
    payout = services.payout_request_create(affiliate=affiliate, amount="60", currency="USD")
    api_client.force_authenticate(
        StaffUserFactory(permissions=["payouts.view_payoutrequest", "payouts.view_ledgeraccount"])
    )

    listed = api_client.get("/api/payouts")
    approved = api_client.post(f"/api/payouts/{payout.pk}/approve")

    assert [row["id"] for row in listed.json()["results"]] == [payout.pk]
    assert (approved.status_code, approved.json()) == (
        403,
        {
            "status": "error",
            "code": "permission_denied",
            "message": "Your staff account lacks the permission payouts.change_payoutrequest.",
        },
    )
    assert PayoutRequest.objects.get().status == "requested"


def test_staff_with_the_change_permission_approve_payouts(api_client):
    affiliate = funded_affiliate(available=Decimal("100"))
    payout = services.payout_request_create(affiliate=affiliate, amount="60", currency="USD")
    payouts_group = Group.objects.create(name="Payouts")
    payouts_group.permissions.set(Permission.objects.filter(content_type__app_label="payouts"))
    staff = StaffUserFactory()
    staff.groups.add(payouts_group)
    api_client.force_authenticate(staff)

    approved = api_client.post(f"/api/payouts/{payout.pk}/approve")
    campaigns = api_client.get("/api/campaigns")

    assert (approved.status_code, approved.json()["status"]) == (200, "approved")
    assert (campaigns.status_code, campaigns.json()["message"]) == (
        403,
        "Your staff account lacks the permission campaigns.view_campaign.",
    )
