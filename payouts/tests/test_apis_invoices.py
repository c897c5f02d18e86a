"""The invoices API: who sees which invoice, drafting, lines, issue and payments."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from accounts.tests.factories import AdminUserFactory, AdvertiserFactory, AffiliateFactory
from core.models import AuditEntry, AuditSource
from payouts import invoices
from payouts.models import Invoice, InvoiceStatus
from payouts.tests.factories import conversion_approve

pytestmark = pytest.mark.django_db

IN_MARCH = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)
IN_APRIL = dt.datetime(2026, 4, 2, 9, tzinfo=dt.UTC)
MARCH = {"period_start": "2026-03-01", "period_end": "2026-03-31"}


def _march_revenue(advertiser, revenue: str) -> None:
    with time_machine.travel(IN_MARCH, tick=False):
        conversion_approve(
            affiliate=AffiliateFactory(),
            advertiser=advertiser,
            payout=Decimal("1"),
            revenue=Decimal(revenue),
        )


def _invoice(advertiser, *, issue: bool, period=("2026-03-01", "2026-03-31")) -> Invoice:
    invoice, _ = invoices.invoice_draft_for_period(
        advertiser_id=advertiser.pk,
        currency="USD",
        period_start=dt.date.fromisoformat(period[0]),
        period_end=dt.date.fromisoformat(period[1]),
    )
    if issue:
        with time_machine.travel(IN_APRIL, tick=False):
            invoice = invoices.invoice_issue(invoice_id=invoice.pk, actor=None)
    return invoice


def test_advertiser_lists_only_its_issued_invoices(api_client):
    # given: A has an issued and a draft invoice, B an issued one
    a, b = AdvertiserFactory(), AdvertiserFactory()
    _march_revenue(a, "10")
    _march_revenue(b, "20")
    issued_a = _invoice(a, issue=True)
    draft_a = _invoice(a, issue=False, period=("2026-02-01", "2026-02-28"))
    issued_b = _invoice(b, issue=True)
    api_client.force_authenticate(a.user)

    # when
    listed = api_client.get("/api/invoices")
    own_draft = api_client.get(f"/api/invoices/{draft_a.pk}")
    others = api_client.get(f"/api/invoices/{issued_b.pk}")
    others_csv = api_client.get(f"/api/invoices/{issued_b.pk}.csv")

    # then
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [issued_a.pk]
    assert listed.json()["results"][0] | {"created_at": None, "issued_at": None} == {
        "id": issued_a.pk,
        "number": "INV-2026-000001",
        "status": "issued",
        "advertiser_id": a.pk,
        "advertiser_name": str(a),
        "currency": "USD",
        "period_start": "2026-03-01",
        "period_end": "2026-03-31",
        "total": "10.0000",
        "amount_paid": "0.0000",
        "amount_due": "10.0000",
        "created_at": None,
        "issued_at": None,
        "due_at": "2026-05-02T09:00:00Z",
        "paid_at": None,
    }
    assert (own_draft.status_code, own_draft.json()["code"]) == (404, "not_found")
    assert (others.status_code, others_csv.status_code) == (404, 404)
    assert "INV-2026-000002" not in others.content.decode()


def test_affiliates_have_no_invoices(api_client):
    api_client.force_authenticate(AffiliateFactory().user)
    assert api_client.get("/api/invoices").status_code == 403


def test_admin_drafts_adds_a_line_issues_and_records_payments(api_client):
    # given
    admin = AdminUserFactory()
    advertiser = AdvertiserFactory()
    _march_revenue(advertiser, "100")
    api_client.force_authenticate(admin)
    body = {"advertiser_id": advertiser.pk, "currency": "usd", **MARCH}

    # when: drafted twice, a line, issued, paid in two parts (one refused as too much)
    created = api_client.post("/api/invoices", body, format="json")
    again = api_client.post("/api/invoices", body, format="json")
    invoice_id = created.json()["id"]
    line = api_client.post(
        f"/api/invoices/{invoice_id}/lines",
        {"description": "Late fee", "amount": "-20.5"},
        format="json",
    )
    with time_machine.travel(IN_APRIL, tick=False):
        issued = api_client.post(f"/api/invoices/{invoice_id}/issue")
    too_much = api_client.post(
        f"/api/invoices/{invoice_id}/payments",
        {"amount": "79.51", "reference": "wire-1"},
        format="json",
    )
    first = api_client.post(
        f"/api/invoices/{invoice_id}/payments",
        {"amount": "40", "reference": "wire-1", "paid_at": "2026-04-10T00:00:00Z"},
        format="json",
    )
    rest = api_client.post(
        f"/api/invoices/{invoice_id}/payments",
        {"amount": "39.50", "reference": "wire-2"},
        format="json",
    )

    # then
    assert (created.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == invoice_id
    assert line.status_code == 201
    assert [(row["description"], row["amount"]) for row in line.json()["lines"]] == [
        ("Approved conversions less reversals", "100.0000"),
        ("Late fee", "-20.5000"),
    ]
    assert (issued.status_code, issued.json()["number"], issued.json()["total"]) == (
        200,
        "INV-2026-000001",
        "79.5000",
    )
    assert (too_much.status_code, too_much.json()["code"]) == (400, "overpayment")
    assert first.status_code == 201
    assert first.json()["payments"][0]["paid_at"] == "2026-04-10T00:00:00Z"
    assert (rest.status_code, rest.json()["status"], rest.json()["amount_due"]) == (
        201,
        "paid",
        "0.0000",
    )
    assert list(
        AuditEntry.objects.filter(object_type="payouts.invoice")
        .order_by("id")
        .values_list("action", "source")
    ) == [
        ("issue", AuditSource.API),
        ("record_payment", AuditSource.API),
        ("record_payment", AuditSource.API),
    ]


@pytest.mark.parametrize(
    ("body", "code", "status"),
    [
        ({"advertiser_id": 999_999, "currency": "USD", **MARCH}, "invalid_advertiser", 400),
        (
            {"currency": "USD", "period_start": "2026-03-31", "period_end": "2026-03-01"},
            "invalid_period",
            400,
        ),
        ({"currency": "XXX", **MARCH}, "invalid", 400),
        ({"currency": "USD", "period_start": "2026-03-15", "period_end": "2026-04-14"}, None, 409),
    ],
)
def test_draft_refusals(api_client, body, code, status):
    advertiser = AdvertiserFactory()
    _invoice(advertiser, issue=False)
    api_client.force_authenticate(AdminUserFactory())

    response = api_client.post(
        "/api/invoices", {"advertiser_id": advertiser.pk, **body}, format="json"
    )

    assert response.status_code == status
    assert response.json()["code"] == (code or "period_overlaps")
    assert Invoice.objects.count() == 1


def test_issue_of_an_open_period_is_a_conflict(api_client):
    advertiser = AdvertiserFactory()
    _march_revenue(advertiser, "5")
    invoice = _invoice(advertiser, issue=False)
    api_client.force_authenticate(AdminUserFactory())

    with time_machine.travel(dt.datetime(2026, 3, 31, 18, tzinfo=dt.UTC), tick=False):
        response = api_client.post(f"/api/invoices/{invoice.pk}/issue")

    assert (response.status_code, response.json()["code"]) == (409, "period_not_ended")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number) == (InvoiceStatus.DRAFT, None)


def test_csv_of_an_invoice(api_client):
    advertiser = AdvertiserFactory()
    _march_revenue(advertiser, "12.5")
    invoice = _invoice(advertiser, issue=True)
    api_client.force_authenticate(advertiser.user)

    response = api_client.get(f"/api/invoices/{invoice.pk}.csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="INV-2026-000001.csv"'
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[-1] == (
        f"INV-2026-000001,issued,{advertiser.pk},2026-03-01,2026-03-31,USD,,due,Amount due,,,,"
        "12.5000"
    )


def test_list_query_count(api_client, django_assert_num_queries):
    advertiser = AdvertiserFactory()
    for month in (1, 2, 3):
        with time_machine.travel(dt.datetime(2026, month, 10, tzinfo=dt.UTC), tick=False):
            conversion_approve(
                affiliate=AffiliateFactory(), advertiser=advertiser, payout=Decimal("1")
            )
        start = dt.date(2026, month, 1)
        _invoice(advertiser, issue=True, period=(str(start), str(invoices.month_period(start)[1])))
    api_client.force_authenticate(advertiser.user)

    # the advertiser profile (approved?), the count, the page with its advertisers joined
    with django_assert_num_queries(3):
        response = api_client.get("/api/invoices")

    assert response.json()["count"] == 3
