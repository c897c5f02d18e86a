"""Manual adjustments: `POST/GET /api/adjustments` (admin), the console's page, the ledger rows
they write (balanced, against the network's adjustments account), retries by Idempotency-Key,
the audit log, and the owner's statement showing them with their reason."""

from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from accounts.tests.factories import (
    AdminUserFactory,
    AdvertiserFactory,
    AffiliateFactory,
    StaffUserFactory,
)
from core.models import AuditEntry
from payouts import ledger, selectors
from payouts.models import LedgerEntry, LedgerTransaction
from payouts.tests.factories import conversion_approve, funded_affiliate

pytestmark = pytest.mark.django_db

T0 = "2026-03-01T12:00:00Z"


@pytest.fixture
def admin(api_client):
    user = AdminUserFactory(email="ops@example.test")
    api_client.force_authenticate(user)
    return user


def _post(api_client, body: dict, **headers):
    return api_client.post("/api/adjustments", body, format="json", **headers)


def _lines(txn: LedgerTransaction) -> list[tuple[str, int, str, Decimal]]:
    return [
        (e.account.owner_type, e.account.owner_id, e.account.kind, e.amount)
        for e in LedgerEntry.objects.filter(transaction=txn).select_related("account")
    ]


def test_admin_credits_an_affiliate(api_client, admin):
    affiliate = funded_affiliate(available=Decimal("100"))

    with time_machine.travel(T0, tick=False):
        response = _post(
            api_client,
            {
                "owner_type": "affiliate",
                "owner_id": affiliate.user_id,
                "amount": "25.50",
                "currency": "usd",
                "reason": "Bonus for March",
            },
        )

    txn = LedgerTransaction.objects.get(kind="adjustment")
    assert response.status_code == 201
    assert response.json() == {
        "id": txn.pk,
        "owner_type": "affiliate",
        "owner_id": affiliate.user_id,
        "amount": "25.5000",
        "currency": "USD",
        "reason": "Bonus for March",
        "actor_email": "ops@example.test",
        "created_at": T0,
    }
    assert _lines(txn) == [
        ("affiliate", affiliate.user_id, "available", Decimal("-25.5000")),
        ("network", 0, "adjustments", Decimal("25.5000")),
    ]
    assert selectors.affiliate_balances(affiliate_id=affiliate.user_id)["USD"]["available"] == (
        Decimal("125.5000")
    )
    assert ledger.ledger_reconcile() == []
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.source, entry.object_type, entry.object_id, entry.changes) == (
        "adjust",
        "api",
        "payouts.ledgertransaction",
        str(txn.pk),
        {
            "owner_type": [None, "affiliate"],
            "owner_id": [None, affiliate.user_id],
            "amount": [None, "25.5000"],
            "currency": [None, "USD"],
            "reason": [None, "Bonus for March"],
        },
    )


def test_a_negative_adjustment_takes_back_and_may_leave_a_negative_balance(api_client, admin):
    affiliate = funded_affiliate(available=Decimal("10"))

    response = _post(
        api_client,
        {
            "owner_type": "affiliate",
            "owner_id": affiliate.user_id,
            "amount": "-30",
            "currency": "USD",
            "reason": "Chargeback of fraudulent sales",
        },
    )

    assert (response.status_code, response.json()["amount"]) == (201, "-30.0000")
    assert selectors.affiliate_balances(affiliate_id=affiliate.user_id)["USD"]["available"] == (
        Decimal("-20.0000")
    )


def test_an_advertiser_adjustment_moves_its_receivable_and_the_margin(api_client, admin):
    advertiser = AdvertiserFactory()
    conversion_approve(
        affiliate=AffiliateFactory(),
        advertiser=advertiser,
        revenue=Decimal("100"),
        payout=Decimal("60"),
    )

    response = _post(
        api_client,
        {
            "owner_type": "advertiser",
            "owner_id": advertiser.user_id,
            "amount": "-15",
            "currency": "USD",
            "reason": "Credit note: duplicate leads",
        },
    )

    txn = LedgerTransaction.objects.get(kind="adjustment")
    assert response.status_code == 201
    assert _lines(txn) == [
        ("advertiser", advertiser.user_id, "receivable", Decimal("-15.0000")),
        ("network", 0, "adjustments", Decimal("15.0000")),
    ]
    assert selectors.advertiser_balances(advertiser_id=advertiser.user_id) == {
        "USD": {"receivable": Decimal("85.0000")}
    }
    assert selectors.network_totals()["USD"]["margin"] == Decimal("25.0000")
    assert ledger.ledger_reconcile() == []


def test_the_same_idempotency_key_posts_once(api_client, admin):
    affiliate = AffiliateFactory()
    body = {
        "owner_type": "affiliate",
        "owner_id": affiliate.user_id,
        "amount": "5",
        "currency": "USD",
        "reason": "Goodwill",
    }

    first = _post(api_client, body, HTTP_IDEMPOTENCY_KEY="adj-42")
    again = _post(api_client, body, HTTP_IDEMPOTENCY_KEY="adj-42")
    other = _post(api_client, body | {"amount": "6"}, HTTP_IDEMPOTENCY_KEY="adj-42")

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_key_reused")
    assert LedgerTransaction.objects.filter(kind="adjustment").count() == 1
    assert AuditEntry.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"amount": "0"}, "invalid_amount", "amount"),
        ({"reason": "   "}, "invalid", "reason"),
        ({"owner_id": 999_999}, "unknown_owner", "owner_id"),
        ({"owner_type": "network"}, "invalid", "owner_type"),
        ({"amount": "1e3"}, "invalid", "amount"),
        ({"currency": "XYZ"}, "invalid", "currency"),
    ],
)
def test_bad_adjustments_are_400_and_post_nothing(api_client, admin, body, code, field):
    affiliate = AffiliateFactory()
    base = {
        "owner_type": "affiliate",
        "owner_id": affiliate.user_id,
        "amount": "5",
        "currency": "USD",
        "reason": "Goodwill",
    }

    response = _post(api_client, base | body)

    assert response.status_code == 400
    assert (response.json()["code"], list(response.json()["fields"])) == (code, [field])
    assert LedgerTransaction.objects.filter(kind="adjustment").count() == 0


def test_only_admins_and_staff_with_the_permission_adjust(api_client):
    affiliate = funded_affiliate(available=Decimal("10"))
    body = {
        "owner_type": "affiliate",
        "owner_id": affiliate.user_id,
        "amount": "5",
        "currency": "USD",
        "reason": "x",
    }
    answers = {}
    for name, user in {
        "affiliate": affiliate.user,
        "viewer": StaffUserFactory(permissions=["payouts.view_ledgeradjustment"]),
        "poster": StaffUserFactory(
            permissions=["payouts.view_ledgeradjustment", "payouts.add_ledgeradjustment"]
        ),
    }.items():
        api_client.force_authenticate(user)
        answers[name] = (
            _post(api_client, body).status_code,
            api_client.get("/api/adjustments").status_code,
        )

    assert answers == {"affiliate": (403, 403), "viewer": (403, 200), "poster": (201, 200)}


def test_admin_lists_adjustments_newest_first_and_filters_by_owner(api_client, admin):
    affiliate = AffiliateFactory()
    advertiser = AdvertiserFactory()
    first = ledger.ledger_adjustment_post(
        affiliate_id=affiliate.user_id, currency="USD", amount=Decimal("3"), reason="a", actor=admin
    )
    second = ledger.ledger_adjustment_post(
        advertiser_id=advertiser.user_id,
        currency="EUR",
        amount=Decimal("7"),
        reason="b",
        actor=None,
    )

    everything = api_client.get("/api/adjustments").json()
    advertisers = api_client.get("/api/adjustments?owner_type=advertiser").json()
    unknown = api_client.get("/api/adjustments?owner=1")

    assert [
        (a["id"], a["owner_type"], a["amount"], a["actor_email"]) for a in everything["results"]
    ] == [
        (second.pk, "advertiser", "7.0000", ""),
        (first.pk, "affiliate", "3.0000", "ops@example.test"),
    ]
    assert [a["id"] for a in advertisers["results"]] == [second.pk]
    assert (unknown.status_code, unknown.json()["code"]) == (400, "unknown_parameter")


def test_the_affiliates_statement_shows_the_adjustment_with_its_reason(api_client, admin):
    affiliate = AffiliateFactory()
    _post(
        api_client,
        {
            "owner_type": "affiliate",
            "owner_id": affiliate.user_id,
            "amount": "12",
            "currency": "USD",
            "reason": "Bonus, well deserved",
        },
    )
    api_client.force_authenticate(affiliate.user)

    response = api_client.get("/api/statement.csv?currency=USD")

    rows = b"".join(response.streaming_content).decode().splitlines()
    assert rows[1].split(",")[3:7] == ["adjustment", "available", "12.0000", "12.0000"]
    assert rows[1].endswith(',adjustment,,,"Bonus, well deserved"')


def test_the_console_posts_an_adjustment(client):
    admin = AdminUserFactory()
    client.force_login(admin)
    affiliate = AffiliateFactory()
    url = reverse("admin:payouts_ledgeradjustment_add")

    form = client.get(url)
    refused = client.post(
        url,
        {
            "owner_type": "affiliate",
            "owner_id": affiliate.user_id,
            "amount": "0",
            "currency": "USD",
            "reason": "x",
        },
    )
    posted = client.post(
        url,
        {
            "owner_type": "affiliate",
            "owner_id": affiliate.user_id,
            "amount": "-2.5",
            "currency": "USD",
            "reason": "Correction",
        },
    )
    listed = client.get(reverse("admin:payouts_ledgeradjustment_changelist"))

    assert form.status_code == 200
    assert refused.status_code == 200
    assert "Must not be zero." in refused.content.decode()
    assert posted.status_code == 302
    txn = LedgerTransaction.objects.get(kind="adjustment")
    assert (txn.memo, txn.actor) == ("Correction", admin)
    assert AuditEntry.objects.get().source == "console"
    assert f"affiliate {affiliate.user_id}" in listed.content.decode()
