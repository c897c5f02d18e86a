from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.http import StreamingHttpResponse

from accounts.models import PayoutMethod
from accounts.tests.factories import AdminUserFactory, AdvertiserFactory, AffiliateFactory
from core.tests.api_bodies import invalid_fields_body
from payouts import services
from payouts.models import LedgerEntry
from payouts.tests.factories import conversion_approve, funded_affiliate

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 4, 1, 9, 30, tzinfo=UTC)
T1 = T0 + timedelta(days=1)
PAYOUTS_HEADER = (
    "id,affiliate_id,affiliate_email,amount,currency,method,payout_details,status,reference,"
    "created_at,decided_at,paid_at"
)
STATEMENT_HEADER = (
    "entry_id,transaction_id,created_at,transaction_kind,account,amount,balance,"
    "reference_type,reference_id,conversion_id,memo"
)

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


@pytest.fixture(autouse=True)
def _minimum_1(settings):
    settings.PAYOUT_MINIMUM_AMOUNT = "1"


def csv_text(response) -> str:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content).decode()


@pytest.fixture
def payouts():
    """A: a USD payout at T0, paid at T1 (wire, formula-looking details); B: a EUR one at T1."""
    admin = AdminUserFactory()
    a = funded_affiliate(
        available=Decimal("100"),
        user__email="a@example.test",
        payout_method=PayoutMethod.WIRE,
        payout_details="=HYPERLINK(evil)",
    )
    b = AffiliateFactory(user__email="b@example.test")
    conversion_approve(affiliate=b, payout=Decimal("30"), currency="EUR")
    with time_machine.travel(T0, tick=False):
        a_usd = services.payout_request_create(affiliate=a, amount="60", currency="USD")
    with time_machine.travel(T1, tick=False):
        services.payout_approve(payout=a_usd, actor=admin)
        services.payout_mark_paid(payout=a_usd, actor=admin, reference="PP-9")
        b_eur = services.payout_request_create(affiliate=b, amount="12.5", currency="EUR")
    return {"admin": admin, "a": a, "b": b, "a_usd": a_usd, "b_eur": b_eur}


def a_usd_row(data) -> str:
    return (
        f"{data['a_usd'].pk},{data['a'].user_id},a@example.test,60.0000,USD,wire,"
        "'=HYPERLINK(evil),paid,PP-9,"
        "2026-04-01T09:30:00+00:00,2026-04-02T09:30:00+00:00,2026-04-02T09:30:00+00:00"
    )


def b_eur_row(data) -> str:
    return (
        f"{data['b_eur'].pk},{data['b'].user_id},b@example.test,12.5000,EUR,paypal,,requested,,"
        "2026-04-02T09:30:00+00:00,,"
    )


def test_admin_exports_every_payout_as_csv(api_client, payouts):
    # given
    api_client.force_authenticate(payouts["admin"])

    # when
    response = api_client.get("/api/payouts/export.csv")

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="payouts.csv"'
    assert csv_text(response) == "\r\n".join(
        [PAYOUTS_HEADER, b_eur_row(payouts), a_usd_row(payouts), ""]
    )


def test_affiliate_exports_only_its_own_payouts(api_client, payouts):
    api_client.force_authenticate(payouts["b"].user)

    response = api_client.get("/api/payouts/export.csv", HTTP_ACCEPT="text/csv")

    assert response.status_code == 200
    assert csv_text(response) == "\r\n".join([PAYOUTS_HEADER, b_eur_row(payouts), ""])


@pytest.mark.parametrize(
    ("query", "rows"),
    [
        ({"status": "paid"}, ["a_usd"]),
        ({"currency": "EUR"}, ["b_eur"]),
        ({"created_before": "2026-04-01T12:00:00Z"}, ["a_usd"]),
        ({"ordering": "id"}, ["a_usd", "b_eur"]),
    ],
)
def test_payout_export_takes_the_list_filters(api_client, payouts, query, rows):
    api_client.force_authenticate(payouts["admin"])

    response = api_client.get("/api/payouts/export.csv", query)

    builders = {"a_usd": a_usd_row, "b_eur": b_eur_row}
    assert csv_text(response) == "\r\n".join(
        [PAYOUTS_HEADER, *(builders[row](payouts) for row in rows), ""]
    )


def test_a_bad_export_filter_is_a_json_400(api_client, payouts):
    api_client.force_authenticate(payouts["admin"])

    response = api_client.get("/api/payouts/export.csv", {"status": "lost"}, HTTP_ACCEPT="text/csv")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "invalid"


@pytest.mark.parametrize("path", ["/api/payouts/export.csv", "/api/statement.csv?currency=USD"])
@pytest.mark.parametrize(
    ("who", "status", "body"),
    [("anonymous", 401, NOT_AUTHENTICATED), ("advertiser", 403, NOT_ADMIN_OR_AFFILIATE)],
)
def test_exports_are_refused_to_others_with_a_json_error(
    api_client, payouts, path, who, status, body
):
    if who == "advertiser":
        api_client.force_authenticate(AdvertiserFactory().user)

    response = api_client.get(path, HTTP_ACCEPT="text/csv")

    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json() == body


# --- GET /api/statement.csv -------------------------------------------------------------------


def entry_prefixes(affiliate, currency: str) -> list[str]:
    """`entry_id,transaction_id,created_at` of the affiliate's ledger lines, oldest first."""
    entries = LedgerEntry.objects.filter(
        account__owner_type="affiliate",
        account__owner_id=affiliate.user_id,
        account__currency=currency,
    ).order_by("id")
    return [f"{e.id},{e.transaction_id},{e.created_at.isoformat()}" for e in entries]


def conversion_of(affiliate, currency: str) -> int:
    return LedgerEntry.objects.get(
        account__owner_id=affiliate.user_id,
        account__currency=currency,
        transaction__kind="conversion_approved",
    ).transaction.reference_id


def test_affiliate_downloads_its_statement(api_client, payouts):
    # given
    a, payout_id = payouts["a"], payouts["a_usd"].pk
    conversion_id = conversion_of(a, "USD")
    p = entry_prefixes(a, "USD")
    api_client.force_authenticate(a.user)

    # when
    response = api_client.get("/api/statement.csv", {"currency": "usd"})

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="statement-{a.user_id}-USD.csv"'
    )
    assert csv_text(response) == "\r\n".join(
        [
            STATEMENT_HEADER,
            f"{p[0]},conversion_approved,available,100.0000,100.0000,conversion,"
            f"{conversion_id},{conversion_id},conversion {conversion_id}: pending -> approved",
            f"{p[1]},payout_requested,available,-60.0000,40.0000,payout,{payout_id},,"
            f"payout {payout_id} requested",
            f"{p[2]},payout_requested,requested,60.0000,60.0000,payout,{payout_id},,"
            f"payout {payout_id} requested",
            f"{p[3]},payout_paid,requested,-60.0000,0.0000,payout,{payout_id},,"
            f'"payout {payout_id} paid, reference PP-9"',
            f"{p[4]},payout_paid,paid,60.0000,60.0000,payout,{payout_id},,"
            f'"payout {payout_id} paid, reference PP-9"',
            "",
        ]
    )


def test_admin_downloads_an_affiliates_statement_by_id(api_client, payouts):
    # given
    b, payout_id = payouts["b"], payouts["b_eur"].pk
    conversion_id = conversion_of(b, "EUR")
    p = entry_prefixes(b, "EUR")
    api_client.force_authenticate(payouts["admin"])

    # when
    response = api_client.get("/api/statement.csv", {"currency": "EUR", "affiliate_id": b.user_id})

    # then
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="statement-{b.user_id}-EUR.csv"'
    )
    assert csv_text(response) == "\r\n".join(
        [
            STATEMENT_HEADER,
            f"{p[0]},conversion_approved,available,30.0000,30.0000,conversion,"
            f"{conversion_id},{conversion_id},conversion {conversion_id}: pending -> approved",
            f"{p[1]},payout_requested,available,-12.5000,17.5000,payout,{payout_id},,"
            f"payout {payout_id} requested",
            f"{p[2]},payout_requested,requested,12.5000,12.5000,payout,{payout_id},,"
            f"payout {payout_id} requested",
            "",
        ]
    )


def test_a_statement_refuses_a_parameter_it_does_not_take(api_client, payouts):
    api_client.force_authenticate(payouts["admin"])

    response = api_client.get(
        "/api/statement.csv", {"currency": "USD", "affiliate": payouts["a"].user_id}
    )

    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "code": "unknown_parameter",
        "message": "Unknown query parameter(s): affiliate. Accepted: affiliate_id, currency.",
        "fields": {"affiliate": ["Unknown parameter."]},
    }


def test_a_statement_in_a_currency_without_entries_is_just_the_header(api_client, payouts):
    api_client.force_authenticate(payouts["a"].user)

    response = api_client.get("/api/statement.csv", {"currency": "GBP"})

    assert response.status_code == 200
    assert csv_text(response) == STATEMENT_HEADER + "\r\n"


@pytest.mark.parametrize(
    ("who", "query", "status", "body"),
    [
        (
            "admin",
            {"currency": "USD"},
            400,
            {
                "status": "error",
                "code": "missing_affiliate_id",
                "message": "Name the affiliate with ?affiliate_id=.",
                "fields": {"affiliate_id": ["Required for admins."]},
            },
        ),
        (
            "a",
            {},
            400,
            invalid_fields_body({"currency": ["This field is required."]}),
        ),
        (
            "a",
            {"currency": "ZZZ"},
            400,
            invalid_fields_body({"currency": ["Use an ISO 4217 code, e.g. USD."]}),
        ),
        (
            "a",
            {"currency": "EUR", "affiliate_id": "b"},
            404,
            {"status": "error", "code": "not_found", "message": "Affiliate not found."},
        ),
        (
            "admin",
            {"currency": "EUR", "affiliate_id": "987654321"},
            404,
            {"status": "error", "code": "not_found", "message": "Affiliate not found."},
        ),
    ],
)
def test_statement_refusals_are_json(api_client, payouts, who, query, status, body):
    # given
    user = payouts["admin"] if who == "admin" else payouts[who].user
    if query.get("affiliate_id") == "b":
        query = {**query, "affiliate_id": payouts["b"].user_id}
    api_client.force_authenticate(user)

    # when
    response = api_client.get("/api/statement.csv", query, HTTP_ACCEPT="text/csv")

    # then: nothing of another affiliate's statement
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json() == body
