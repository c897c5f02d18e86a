"""`payouts.payout_methods`: each kind's fields checked (IBAN check digits by schwifty), the
password asked again, the audit log without account numbers in clear, the email after commit,
one default per affiliate, archive instead of delete once a payout used the method."""

from decimal import Decimal

import pytest
import time_machine
from django.core import mail

from accounts.tests.factories import DEFAULT_PASSWORD, AffiliateFactory
from config.celery import app as celery_app
from core.exceptions import ApplicationError
from core.models import AuditEntry, AuditSource
from payouts import services
from payouts.models import PayoutMethod, PayoutRequest
from payouts.payout_methods import (
    details_masked,
    payout_method_archive,
    payout_method_create,
    payout_method_details_clean,
    payout_method_update,
)
from payouts.tests.factories import (
    GOOD_IBAN,
    GOOD_IBAN_COMPACT,
    funded_affiliate,
    payout_method_add,
)

pytestmark = pytest.mark.django_db

T0 = "2026-03-01T12:00:00+00:00"


@pytest.fixture
def eager_celery():
    """Tasks published after commit run in-process (the email reaches mail.outbox)."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def _refusal(kind: str, details: dict) -> tuple[str, dict]:
    with pytest.raises(ApplicationError) as caught:
        payout_method_details_clean(kind=kind, details=details)
    return caught.value.code, caught.value.fields


# --- validation per kind ------------------------------------------------------------------------


def test_a_good_iban_is_accepted_compact_with_its_bic():
    cleaned = payout_method_details_clean(
        kind="bank", details={"account_holder": " Pat  Doe ", "iban": "de89 3704 0044 0532 0130 00"}
    )

    # No BIC given: schwifty's registry knows the IBAN's bank.
    assert cleaned == {"account_holder": "Pat Doe", "iban": GOOD_IBAN_COMPACT, "bic": "COBADEFFXXX"}


def test_an_iban_with_a_wrong_check_digit_is_refused_naming_the_field():
    code, fields = _refusal(
        "bank", {"account_holder": "Pat Doe", "iban": "DE89 3704 0044 0532 0130 01"}
    )

    assert (code, fields) == (
        "invalid_iban",
        {"iban": ["The IBAN's check digits are wrong: look for a typo."]},
    )


@pytest.mark.parametrize(
    ("kind", "details", "code", "field"),
    [
        ("bank", {"account_holder": "P", "iban": "XX12 3456"}, "invalid_iban", "iban"),
        ("bank", {"account_holder": "P", "iban": "DE8937040044"}, "invalid_iban", "iban"),
        (
            "bank",
            {"account_holder": "P", "iban": GOOD_IBAN, "bic": "NOTABIC"},
            "invalid_bic",
            "bic",
        ),
        ("bank", {"iban": GOOD_IBAN}, "required", "account_holder"),
        (
            "bank",
            {"account_holder": "P", "iban": GOOD_IBAN, "email": "a@b.c"},
            "unknown_field",
            "email",
        ),
        ("paypal", {"email": "not-an-email"}, "invalid_email", "email"),
        ("paypal", {}, "required", "email"),
        (
            "wire",
            {
                "account_holder": "P",
                "bank_name": "B",
                "account_number": "12",
                "swift_bic": "CHASUS33",
                "bank_address": "A",
            },
            "invalid_account_number",
            "account_number",
        ),
        (
            "wire",
            {
                "account_holder": "P",
                "bank_name": "B",
                "account_number": "123456",
                "swift_bic": "CHASE",
                "bank_address": "A",
            },
            "invalid_bic",
            "swift_bic",
        ),
        (
            "crypto",
            {
                "currency": "USDT",
                "network": "tron",
                "address": "0x52908400098527886E0F7030069857D2E4169EE7",
            },
            "invalid_address",
            "address",
        ),
        (
            "crypto",
            {"currency": "USDT", "network": "dogecoin", "address": "D123"},
            "invalid_network",
            "network",
        ),
        (
            "crypto",
            {"currency": "U$", "network": "bitcoin", "address": "x"},
            "invalid_currency",
            "currency",
        ),
    ],
)
def test_each_kind_refuses_bad_fields_naming_the_field(kind, details, code, field):
    got_code, fields = _refusal(kind, details)

    assert (got_code, list(fields)) == (code, [field])


def test_an_unknown_kind_is_refused():
    assert _refusal("cheque", {}) == (
        "invalid_kind",
        {"kind": ["One of: paypal, bank, wire, crypto."]},
    )


@pytest.mark.parametrize(
    ("kind", "details", "cleaned"),
    [
        ("paypal", {"email": "Pat@Example.TEST"}, {"email": "pat@example.test"}),
        (
            "wire",
            {
                "account_holder": "Pat Doe",
                "bank_name": "First Bank",
                "account_number": "0001-2345 6789",
                "swift_bic": "chasus33",
                "bank_address": "1 Main St",
            },
            {
                "account_holder": "Pat Doe",
                "bank_name": "First Bank",
                "account_number": "000123456789",
                "swift_bic": "CHASUS33",
                "bank_address": "1 Main St",
            },
        ),
        (
            "crypto",
            {
                "currency": "eth",
                "network": "Ethereum",
                "address": "0x52908400098527886E0F7030069857D2E4169EE7",
            },
            {
                "currency": "ETH",
                "network": "ethereum",
                "address": "0x52908400098527886E0F7030069857D2E4169EE7",
            },
        ),
        (
            "crypto",
            {
                "currency": "BTC",
                "network": "bitcoin",
                "address": "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
            },
            {
                "currency": "BTC",
                "network": "bitcoin",
                "address": "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
            },
        ),
    ],
)
def test_good_details_are_normalized(kind, details, cleaned):
    assert payout_method_details_clean(kind=kind, details=details) == cleaned


def test_masking_keeps_only_the_ends_of_account_numbers():
    assert details_masked(
        kind="bank",
        details={"account_holder": "Pat Doe", "iban": GOOD_IBAN_COMPACT, "bic": "COBADEFFXXX"},
    ) == {"account_holder": "Pat Doe", "iban": "DE89••••3000", "bic": "COBADEFFXXX"}
    assert details_masked(kind="paypal", details={"email": "pat@example.test"}) == {
        "email": "p••••@example.test"
    }


# --- re-authentication --------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["", "wrong password"])
def test_a_change_needs_the_current_password(password, django_capture_on_commit_callbacks):
    affiliate = AffiliateFactory()

    with pytest.raises(ApplicationError) as caught, django_capture_on_commit_callbacks() as calls:
        payout_method_create(
            affiliate=affiliate,
            actor=affiliate.user,
            password=password,
            kind="paypal",
            details={"email": "pat@example.test"},
        )

    assert (caught.value.code, caught.value.status) == ("reauthentication_required", 403)
    assert list(caught.value.fields) == ["password"]
    assert (PayoutMethod.objects.count(), AuditEntry.objects.count(), calls) == (0, 0, [])


def test_update_and_archive_need_the_password_too():
    affiliate = AffiliateFactory()
    method = payout_method_add(affiliate=affiliate, kind="paypal")

    for change in (
        lambda: payout_method_update(
            method=method, actor=affiliate.user, password="nope", label="Mine"
        ),
        lambda: payout_method_archive(method=method, actor=affiliate.user, password="nope"),
    ):
        with pytest.raises(ApplicationError) as caught:
            change()
        assert caught.value.code == "reauthentication_required"

    method.refresh_from_db()
    assert (method.label, method.archived_at) == ("", None)


# --- create, update, archive: audit and email ---------------------------------------------------


def test_create_audits_masked_details_and_emails_the_affiliate_after_commit(
    eager_celery, django_capture_on_commit_callbacks
):
    affiliate = AffiliateFactory(user__email="pat@example.test", user__name="Pat")

    with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks(execute=True):
        method = payout_method_create(
            affiliate=affiliate,
            actor=affiliate.user,
            password=DEFAULT_PASSWORD,
            kind="bank",
            label="Main account",
            details={"account_holder": "Pat Doe", "iban": GOOD_IBAN},
            source=AuditSource.PORTAL,
        )

    assert (method.kind, method.is_default, method.details) == (
        "bank",
        True,  # the first method is the default
        {"account_holder": "Pat Doe", "iban": GOOD_IBAN_COMPACT, "bic": "COBADEFFXXX"},
    )
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.source, entry.actor_id, entry.object_type, entry.object_id) == (
        "create",
        "portal",
        affiliate.user_id,
        "payouts.payoutmethod",
        str(method.pk),
    )
    assert entry.changes == {
        "kind": [None, "bank"],
        "label": [None, "Main account"],
        "is_default": [None, True],
        "details.account_holder": [None, "Pat Doe"],
        "details.iban": [None, "DE89••••3000"],
        "details.bic": [None, "COBADEFFXXX"],
    }
    assert GOOD_IBAN_COMPACT not in str(entry.changes)
    [email] = mail.outbox
    assert (email.to, email.subject) == (
        ["pat@example.test"],
        "Your ClickLedger payout method was created",
    )
    assert email.body.splitlines() == [
        "Hello Pat,",
        "",
        "A payout method of your ClickLedger account was created on 2026-03-01 12:00 UTC:",
        "",
        "    Main account · Bank transfer (IBAN) DE89••••3000",
        "",
        "If you did not make this change, change your password now and contact the network: "
        "payouts go where your payout methods say.",
    ]
    assert GOOD_IBAN_COMPACT not in email.body


def test_no_email_before_commit(django_capture_on_commit_callbacks):
    affiliate = AffiliateFactory()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        payout_method_add(affiliate=affiliate, kind="paypal")

    assert (len(callbacks), mail.outbox) == (1, [])


def test_update_merges_details_checks_them_again_and_audits_the_change(
    eager_celery, django_capture_on_commit_callbacks
):
    affiliate = AffiliateFactory()
    method = payout_method_add(affiliate=affiliate)
    AuditEntry.objects.all().delete()

    with django_capture_on_commit_callbacks(execute=True):
        updated = payout_method_update(
            method=method,
            actor=affiliate.user,
            password=DEFAULT_PASSWORD,
            details={"iban": "GB82 WEST 1234 5698 7654 32"},
        )

    # A new IBAN without a BIC: the old bank's BIC is not kept.
    assert updated.details == {
        "account_holder": "Pat Doe",
        "iban": "GB82WEST12345698765432",
        "bic": "",
    }
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.changes) == (
        "update",
        {
            "details.iban": ["DE89••••3000", "GB82••••5432"],
            "details.bic": ["COBADEFFXXX", ""],
        },
    )
    # The create's callback ran outside the capture: never committed, never sent.
    assert [email.subject for email in mail.outbox] == [
        "Your ClickLedger payout method was updated"
    ]


def test_a_bad_iban_on_update_changes_nothing():
    affiliate = AffiliateFactory()
    method = payout_method_add(affiliate=affiliate)

    with pytest.raises(ApplicationError) as caught:
        payout_method_update(
            method=method,
            actor=affiliate.user,
            password=DEFAULT_PASSWORD,
            details={"iban": "DE89 3704 0044 0532 0130 01"},
        )

    assert (caught.value.code, list(caught.value.fields)) == ("invalid_iban", ["iban"])
    method.refresh_from_db()
    assert method.details["iban"] == GOOD_IBAN_COMPACT


def test_one_default_per_affiliate():
    affiliate = AffiliateFactory()
    first = payout_method_add(affiliate=affiliate, kind="paypal")
    second = payout_method_add(affiliate=affiliate, kind="bank")
    third = payout_method_add(affiliate=affiliate, kind="crypto", is_default=True)

    assert dict(PayoutMethod.objects.values_list("pk", "is_default")) == {
        first.pk: False,
        second.pk: False,
        third.pk: True,
    }

    payout_method_update(
        method=second, actor=affiliate.user, password=DEFAULT_PASSWORD, is_default=True
    )

    assert list(PayoutMethod.objects.filter(is_default=True).values_list("pk", flat=True)) == [
        second.pk
    ]


def test_an_unused_method_is_deleted_a_used_one_archived():
    affiliate = funded_affiliate(available=Decimal("500"))
    unused = payout_method_add(affiliate=affiliate, kind="paypal")
    used = payout_method_add(affiliate=affiliate, kind="bank")
    services.payout_request_create(
        affiliate=affiliate, amount="100", currency="USD", payout_method=used.pk
    )

    assert (
        payout_method_archive(method=unused, actor=affiliate.user, password=DEFAULT_PASSWORD)
        == "deleted"
    )
    assert (
        payout_method_archive(method=used, actor=affiliate.user, password=DEFAULT_PASSWORD)
        == "archived"
    )

    assert list(PayoutMethod.objects.values_list("pk", "is_default")) == [(used.pk, False)]
    used.refresh_from_db()
    assert used.archived_at is not None
    assert list(
        AuditEntry.objects.filter(object_type="payouts.payoutmethod")
        .values_list("action", flat=True)
        .order_by("id")
    ) == [
        "create",
        "create",
        "delete",
        "archive",
    ]
    with pytest.raises(ApplicationError) as caught:
        payout_method_update(
            method=used, actor=affiliate.user, password=DEFAULT_PASSWORD, label="x"
        )
    assert (caught.value.code, caught.value.status) == ("payout_method_archived", 409)


# --- payout requests with a method ----------------------------------------------------------------


def test_a_payout_request_keeps_a_snapshot_of_the_method():
    affiliate = funded_affiliate(available=Decimal("500"))
    method = payout_method_add(affiliate=affiliate, label="Main")

    payout = services.payout_request_create(
        affiliate=affiliate, amount="100", currency="USD", payout_method=method
    )
    payout_method_update(
        method=method,
        actor=affiliate.user,
        password=DEFAULT_PASSWORD,
        details={"account_holder": "Somebody Else"},
    )

    payout.refresh_from_db()
    assert (payout.method, payout.payout_method_id) == ("bank", method.pk)
    assert payout.payout_details == (
        "Bank transfer (IBAN) (Main)\n"
        "Account holder: Pat Doe\n"
        "IBAN: DE89 3704 0044 0532 0130 00\n"
        "BIC: COBADEFFXXX"
    )


def test_the_default_method_is_used_when_none_is_named():
    affiliate = funded_affiliate(available=Decimal("500"), payout_details="old profile text")
    payout_method_add(affiliate=affiliate, kind="paypal")

    payout = services.payout_request_create(affiliate=affiliate, amount="100", currency="USD")

    assert (payout.method, payout.payout_details) == (
        "paypal",
        "PayPal\nPayPal email: pat@example.test",
    )


def test_naming_a_channel_without_a_method_keeps_the_profile_details():
    affiliate = funded_affiliate(available=Decimal("500"), payout_details="old profile text")
    payout_method_add(affiliate=affiliate, kind="paypal")

    payout = services.payout_request_create(
        affiliate=affiliate, amount="100", currency="USD", method="wire"
    )

    assert (payout.method, payout.payout_method_id, payout.payout_details) == (
        "wire",
        None,
        "old profile text",
    )


def test_another_affiliates_or_an_archived_method_is_refused():
    affiliate = funded_affiliate(available=Decimal("500"))
    other = payout_method_add(affiliate=AffiliateFactory(), kind="paypal")
    archived = payout_method_add(affiliate=affiliate, kind="paypal")
    services.payout_request_create(
        affiliate=affiliate, amount="50", currency="USD", payout_method=archived
    )
    payout_method_archive(method=archived, actor=affiliate.user, password=DEFAULT_PASSWORD)

    for method in (other, archived):
        with pytest.raises(ApplicationError) as caught:
            services.payout_request_create(
                affiliate=affiliate, amount="50", currency="USD", payout_method=method.pk
            )
        assert (caught.value.code, caught.value.fields) == (
            "invalid_payout_method",
            {"payout_method": ["Not one of your active payout methods."]},
        )
    assert PayoutRequest.objects.count() == 1


def test_a_channel_that_contradicts_the_method_is_refused():
    affiliate = funded_affiliate(available=Decimal("500"))
    method = payout_method_add(affiliate=affiliate, kind="paypal")

    with pytest.raises(ApplicationError) as caught:
        services.payout_request_create(
            affiliate=affiliate, amount="50", currency="USD", payout_method=method, method="wire"
        )

    assert caught.value.code == "invalid_method"
    assert PayoutRequest.objects.count() == 0
