"""`/api/payout-methods`: the affiliate manages its own methods with its password, admins read
anyone's; `POST /api/payouts` takes a method and keeps a snapshot of its details."""

from decimal import Decimal

import pytest
import time_machine
from django.core.cache import cache
from rest_framework.throttling import ScopedRateThrottle

from accounts.tests.factories import (
    DEFAULT_PASSWORD,
    AdminUserFactory,
    AdvertiserFactory,
    AffiliateFactory,
)
from core.models import AuditEntry
from payouts.models import PayoutMethod, PayoutRequest
from payouts.tests.factories import (
    GOOD_IBAN,
    GOOD_IBAN_COMPACT,
    funded_affiliate,
    payout_method_add,
)

pytestmark = pytest.mark.django_db

T0 = "2026-03-01T12:00:00Z"


def _bank_body(**overrides) -> dict:
    return {
        "kind": "bank",
        "label": "Main",
        "account_holder": "Pat Doe",
        "iban": GOOD_IBAN,
        "password": DEFAULT_PASSWORD,
    } | overrides


def test_affiliate_adds_a_bank_method(api_client):
    affiliate = AffiliateFactory()
    api_client.force_authenticate(affiliate.user)

    with time_machine.travel(T0, tick=False):
        response = api_client.post("/api/payout-methods", _bank_body(), format="json")

    method = PayoutMethod.objects.get()
    assert response.status_code == 201
    assert response.json() == {
        "id": method.pk,
        "affiliate_id": affiliate.user_id,
        "kind": "bank",
        "label": "Main",
        "summary": "Main · Bank transfer (IBAN) DE89••••3000",
        "is_default": True,
        "is_archived": False,
        "created_at": T0,
        "updated_at": T0,
        "account_holder": "Pat Doe",
        "iban": GOOD_IBAN_COMPACT,
        "bic": "COBADEFFXXX",
    }
    assert AuditEntry.objects.get().source == "api"


def test_a_bad_iban_checksum_is_a_400_naming_the_field(api_client):
    affiliate = AffiliateFactory()
    api_client.force_authenticate(affiliate.user)

    response = api_client.post(
        "/api/payout-methods", _bank_body(iban="DE89 3704 0044 0532 0130 01"), format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "code": "invalid_iban",
        "message": "The IBAN's check digits are wrong: look for a typo.",
        "fields": {"iban": ["The IBAN's check digits are wrong: look for a typo."]},
    }
    assert (PayoutMethod.objects.count(), AuditEntry.objects.count()) == (0, 0)


@pytest.mark.parametrize("password", [None, "", "wrong"])
def test_a_change_without_the_right_password_is_403(api_client, password):
    affiliate = AffiliateFactory()
    method = payout_method_add(affiliate=affiliate, kind="paypal")
    api_client.force_authenticate(affiliate.user)
    extra = {} if password is None else {"password": password}

    responses = [
        api_client.post(
            "/api/payout-methods",
            {"kind": "paypal", "email": "x@example.test"} | extra,
            format="json",
        ),
        api_client.patch(
            f"/api/payout-methods/{method.pk}", {"label": "New"} | extra, format="json"
        ),
        api_client.delete(f"/api/payout-methods/{method.pk}", extra, format="json"),
    ]

    assert [(r.status_code, r.json()["code"]) for r in responses] == [
        (403, "reauthentication_required")
    ] * 3
    assert list(PayoutMethod.objects.values_list("pk", "label")) == [(method.pk, "")]


def test_unknown_fields_are_refused(api_client):
    affiliate = AffiliateFactory()
    api_client.force_authenticate(affiliate.user)

    response = api_client.post("/api/payout-methods", _bank_body(routing="123"), format="json")

    assert (response.status_code, response.json()["code"], response.json()["fields"]) == (
        400,
        "unknown_field",
        {"routing": ["Not a field of a payout method."]},
    )


def test_patch_changes_details_and_delete_removes(api_client):
    affiliate = AffiliateFactory()
    method = payout_method_add(affiliate=affiliate, kind="paypal")
    api_client.force_authenticate(affiliate.user)

    patched = api_client.patch(
        f"/api/payout-methods/{method.pk}",
        {"email": "new@example.test", "label": "PP", "password": DEFAULT_PASSWORD},
        format="json",
    )
    deleted = api_client.delete(
        f"/api/payout-methods/{method.pk}", {"password": DEFAULT_PASSWORD}, format="json"
    )

    assert (patched.status_code, patched.json()["email"], patched.json()["label"]) == (
        200,
        "new@example.test",
        "PP",
    )
    assert deleted.status_code == 204
    assert PayoutMethod.objects.count() == 0


def test_lists_are_scoped_and_archived_ones_are_asked_for(api_client):
    affiliate = funded_affiliate(available=Decimal("500"))
    other = AffiliateFactory()
    active = payout_method_add(affiliate=affiliate, kind="paypal")
    archived = payout_method_add(affiliate=affiliate, kind="bank")
    api_client.force_authenticate(affiliate.user)
    api_client.post(
        "/api/payouts",
        {"amount": "50", "currency": "USD", "payout_method": archived.pk},
        format="json",
    )
    api_client.delete(
        f"/api/payout-methods/{archived.pk}", {"password": DEFAULT_PASSWORD}, format="json"
    )
    theirs = payout_method_add(affiliate=other, kind="paypal")

    own = api_client.get("/api/payout-methods")
    with_archived = api_client.get("/api/payout-methods?include_archived=true")
    foreign = api_client.get(f"/api/payout-methods/{theirs.pk}")
    api_client.force_authenticate(AdminUserFactory())
    admin_all = api_client.get("/api/payout-methods")
    admin_one = api_client.get(f"/api/payout-methods?affiliate_id={other.user_id}")
    admin_patch = api_client.patch(
        f"/api/payout-methods/{theirs.pk}",
        {"label": "x", "password": DEFAULT_PASSWORD},
        format="json",
    )

    assert [m["id"] for m in own.json()["results"]] == [active.pk]
    assert [(m["id"], m["is_archived"]) for m in with_archived.json()["results"]] == [
        (active.pk, False),
        (archived.pk, True),
    ]
    assert foreign.status_code == 404
    assert [m["id"] for m in admin_all.json()["results"]] == [active.pk, theirs.pk]
    assert [m["id"] for m in admin_one.json()["results"]] == [theirs.pk]
    assert admin_patch.status_code == 403


def test_advertisers_have_no_payout_methods(api_client):
    api_client.force_authenticate(AdvertiserFactory().user)

    assert api_client.get("/api/payout-methods").status_code == 403


def test_a_payout_request_takes_a_method_and_keeps_its_details(api_client):
    affiliate = funded_affiliate(available=Decimal("500"))
    method = payout_method_add(affiliate=affiliate, kind="paypal")
    api_client.force_authenticate(affiliate.user)

    response = api_client.post(
        "/api/payouts",
        {"amount": "100", "currency": "USD", "payout_method": method.pk},
        format="json",
    )
    api_client.patch(
        f"/api/payout-methods/{method.pk}",
        {"email": "changed@example.test", "password": DEFAULT_PASSWORD},
        format="json",
    )

    assert response.status_code == 201
    body = api_client.get(f"/api/payouts/{response.json()['id']}").json()
    assert (body["method"], body["payout_method_id"], body["payout_details"]) == (
        "paypal",
        method.pk,
        "PayPal\nPayPal email: pat@example.test",
    )


def test_a_payout_request_with_someone_elses_method_is_a_400(api_client):
    affiliate = funded_affiliate(available=Decimal("500"))
    theirs = payout_method_add(affiliate=AffiliateFactory(), kind="paypal")
    api_client.force_authenticate(affiliate.user)

    response = api_client.post(
        "/api/payouts",
        {"amount": "100", "currency": "USD", "payout_method": theirs.pk},
        format="json",
    )

    assert (response.status_code, response.json()["code"]) == (400, "invalid_payout_method")
    assert PayoutRequest.objects.count() == 0


def test_method_list_runs_a_constant_number_of_queries(api_client, django_assert_max_num_queries):
    affiliate = AffiliateFactory()
    for _ in range(5):
        payout_method_add(affiliate=affiliate, kind="paypal")
    api_client.force_authenticate(affiliate.user)

    with django_assert_max_num_queries(6):
        response = api_client.get("/api/payout-methods")

    assert response.json()["count"] == 5


def test_changes_are_limited_per_user_and_reads_are_not(api_client, monkeypatch):
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "reauthentication", "2/hour")
    cache.clear()
    affiliate = AffiliateFactory()
    api_client.force_authenticate(affiliate.user)
    body = {"kind": "paypal", "email": "x@example.test", "password": "a guess"}

    statuses = [
        api_client.post("/api/payout-methods", body, format="json").status_code for _ in range(3)
    ]
    reads = [api_client.get("/api/payout-methods").status_code for _ in range(3)]
    cache.clear()

    assert statuses == [403, 403, 429]
    assert reads == [200, 200, 200]
