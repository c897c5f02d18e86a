"""The affiliate portal's payout methods: add one kind at a time, edit, remove, each with the
password; the payouts page links there and offers the methods to a payout request."""

from decimal import Decimal

import pytest
from django.core.cache import cache
from rest_framework.throttling import ScopedRateThrottle

from accounts.tests.factories import DEFAULT_PASSWORD
from campaigns.tests.factories import network
from core.models import AuditEntry
from payouts.models import PayoutMethod, PayoutRequest
from payouts.tests.factories import (
    GOOD_IBAN,
    GOOD_IBAN_COMPACT,
    conversion_approve,
    payout_method_add,
)
from portal.tests.factories import portal_client

pytestmark = pytest.mark.django_db

METHODS = "/portal/affiliate/payout-methods/"


def test_the_payouts_page_links_to_the_payout_methods():
    net = network()

    page = portal_client(net, "affiliate1").get("/portal/affiliate/payouts/").content.decode()

    assert f'href="{METHODS}"' in page


def test_adding_a_bank_method_with_a_good_iban():
    net = network()
    client = portal_client(net, "affiliate1")

    form = client.get(f"{METHODS}new/bank/")
    added = client.post(
        f"{METHODS}new/bank/",
        {
            "label": "Main",
            "account_holder": "Pat Doe",
            "iban": GOOD_IBAN,
            "bic": "",
            "password": DEFAULT_PASSWORD,
        },
    )
    listed = client.get(METHODS)

    assert list(form.context["form"].fields) == [
        "label",
        "account_holder",
        "iban",
        "bic",
        "is_default",
        "password",
    ]
    assert added["Location"] == METHODS
    method = PayoutMethod.objects.get(affiliate=net.affiliate1)
    assert (method.kind, method.details["iban"], method.is_default) == (
        "bank",
        GOOD_IBAN_COMPACT,
        True,
    )
    assert AuditEntry.objects.get().source == "portal"
    html = listed.content.decode()
    assert "Bank transfer (IBAN) DE89••••3000" in html
    assert GOOD_IBAN_COMPACT not in html


def test_a_bad_iban_or_a_wrong_password_is_shown_on_its_field():
    net = network()
    client = portal_client(net, "affiliate1")
    body = {"account_holder": "Pat Doe", "iban": GOOD_IBAN, "password": DEFAULT_PASSWORD}

    bad_iban = client.post(f"{METHODS}new/bank/", body | {"iban": "DE89 3704 0044 0532 0130 01"})
    bad_password = client.post(f"{METHODS}new/bank/", body | {"password": "guess"})

    assert bad_iban.context["form"].errors == {
        "iban": ["The IBAN's check digits are wrong: look for a typo."]
    }
    assert bad_password.context["form"].errors == {
        "password": ["Your current password is required, and must be correct."]
    }
    assert PayoutMethod.objects.count() == 0


def test_an_unknown_kind_is_404():
    net = network()

    assert portal_client(net, "affiliate1").get(f"{METHODS}new/cheque/").status_code == 404


def test_editing_and_removing_a_method():
    net = network()
    method = payout_method_add(affiliate=net.affiliate1, kind="paypal")
    client = portal_client(net, "affiliate1")

    form = client.get(f"{METHODS}{method.pk}/")
    saved = client.post(
        f"{METHODS}{method.pk}/",
        {
            "label": "PP",
            "email": "new@example.test",
            "is_default": "on",
            "password": DEFAULT_PASSWORD,
        },
    )
    refused = client.post(f"{METHODS}{method.pk}/remove/", {"password": "guess"})
    removed = client.post(f"{METHODS}{method.pk}/remove/", {"password": DEFAULT_PASSWORD})

    assert form.context["form"].initial["email"] == "pat@example.test"
    assert saved["Location"] == METHODS
    assert (refused["Location"], removed["Location"]) == (METHODS, METHODS)
    assert PayoutMethod.objects.count() == 0
    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == [
        "create",
        "update",
        "delete",
    ]


def test_another_affiliates_method_is_404():
    net = network()
    theirs = payout_method_add(affiliate=net.affiliate2, kind="paypal")
    client = portal_client(net, "affiliate1")

    assert client.get(f"{METHODS}{theirs.pk}/").status_code == 404
    assert (
        client.post(f"{METHODS}{theirs.pk}/remove/", {"password": DEFAULT_PASSWORD}).status_code
        == 404
    )
    assert PayoutMethod.objects.count() == 1


def test_a_payout_request_picks_a_method_and_keeps_its_details():
    net = network()
    conversion_approve(affiliate=net.affiliate1, payout=Decimal("80"))
    payout_method_add(affiliate=net.affiliate1, kind="paypal")
    bank = payout_method_add(affiliate=net.affiliate1, kind="bank")
    client = portal_client(net, "affiliate1")

    page = client.get("/portal/affiliate/payouts/")
    requested = client.post(
        "/portal/affiliate/payouts/",
        {"amount": "60", "currency": "USD", "payout_method": str(bank.pk)},
    )

    choices = page.context["form"].fields["payout_method"].choices
    assert [label for _, label in choices] == [
        "My default payout method",
        "PayPal p••••@example.test",
        "Bank transfer (IBAN) DE89••••3000",
    ]
    assert "method" not in page.context["form"].fields
    assert requested["Location"] == "/portal/affiliate/payouts/"
    payout = PayoutRequest.objects.get()
    assert (payout.method, payout.payout_method_id) == ("bank", bank.pk)
    assert "IBAN: DE89 3704 0044 0532 0130 00" in payout.payout_details


def test_the_forms_share_the_apis_limit(monkeypatch):
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "reauthentication", "2/hour")
    cache.clear()
    net = network()
    client = portal_client(net, "affiliate1")
    body = {"email": "x@example.test", "password": "a guess"}

    statuses = [client.post(f"{METHODS}new/paypal/", body).status_code for _ in range(2)]
    form = client.get(f"{METHODS}new/paypal/")
    refused = client.post(f"{METHODS}new/paypal/", body)
    cache.clear()

    assert (statuses, form.status_code, refused.status_code) == ([200, 200], 200, 429)
    assert refused["Retry-After"].isdigit()
