"""`payouts.services`: a payout request locks its amount in `requested` (with its refusals and the
minimum), and the approve, reject and mark-paid lifecycle with its status machine."""

from decimal import Decimal

import pytest
from django.core import mail

from accounts.models import ApprovalStatus, PayoutMethod
from accounts.tests.factories import AdminUserFactory
from config.celery import app as celery_app
from core.exceptions import ApplicationError
from payouts import selectors, services
from payouts.models import LedgerTransaction, PayoutEvent, PayoutRequest, PayoutStatus
from payouts.tests.factories import funded_affiliate

pytestmark = pytest.mark.django_db

ZERO = Decimal("0.0000")


def balances(affiliate) -> dict[str, Decimal]:
    return selectors.affiliate_balances(affiliate_id=affiliate.user_id)["USD"]


def ledger_lines(payout: PayoutRequest) -> list[tuple[str, str, Decimal]]:
    return [
        (txn.kind, entry.account.kind, entry.amount)
        for txn in LedgerTransaction.objects.filter(
            reference_type="payout", reference_id=payout.pk
        ).order_by("id")
        for entry in txn.entries.select_related("account").order_by("amount")
    ]


@pytest.fixture
def eager_celery():
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def test_request_locks_the_amount_in_requested(settings):
    # given
    settings.PAYOUT_MINIMUM_AMOUNT = "50.00"
    affiliate = funded_affiliate(
        available=Decimal("120"), payout_method=PayoutMethod.WIRE, payout_details="IBAN DE00 1"
    )

    # when
    payout = services.payout_request_create(
        affiliate=affiliate, amount=Decimal("100.00"), currency="USD"
    )

    # then
    payout.refresh_from_db()
    assert (payout.status, payout.amount, payout.currency) == ("requested", Decimal("100"), "USD")
    assert (payout.method, payout.payout_details) == ("wire", "IBAN DE00 1")
    assert balances(affiliate) == {
        "pending": ZERO,
        "available": Decimal("20.0000"),
        "requested": Decimal("100.0000"),
        "paid": ZERO,
    }
    assert ledger_lines(payout) == [
        ("payout_requested", "requested", Decimal("-100.0000")),
        ("payout_requested", "available", Decimal("100.0000")),
    ]
    assert list(payout.events.values_list("from_status", "to_status", "actor")) == [
        ("", "requested", affiliate.user_id)
    ]


@pytest.mark.parametrize(
    ("amount", "code", "status"),
    [
        ("49.9999", "below_minimum", 400),
        ("120.0001", "insufficient_balance", 400),
        ("-5", "invalid_amount", 400),
        ("1.00001", "invalid_amount", 400),
        ("abc", "invalid_amount", 400),
    ],
)
def test_request_refusals(settings, amount, code, status):
    settings.PAYOUT_MINIMUM_AMOUNT = "50.00"
    affiliate = funded_affiliate(available=Decimal("120"))

    with pytest.raises(ApplicationError) as error:
        services.payout_request_create(affiliate=affiliate, amount=amount, currency="USD")

    assert (error.value.code, error.value.status) == (code, status)
    assert PayoutRequest.objects.count() == 0
    assert balances(affiliate)["available"] == Decimal("120.0000")


def test_request_of_exactly_the_minimum_and_the_whole_balance_is_allowed(settings):
    settings.PAYOUT_MINIMUM_AMOUNT = "50.00"
    affiliate = funded_affiliate(available=Decimal("50"))

    payout = services.payout_request_create(affiliate=affiliate, amount="50", currency="USD")

    assert payout.amount == Decimal("50.0000")
    assert balances(affiliate)["available"] == ZERO


def test_request_needs_an_approved_affiliate_and_a_known_method():
    suspended = funded_affiliate(available=Decimal("500"), status=ApprovalStatus.SUSPENDED)
    approved = funded_affiliate(available=Decimal("500"))

    with pytest.raises(ApplicationError) as not_approved:
        services.payout_request_create(affiliate=suspended, amount="100", currency="USD")
    with pytest.raises(ApplicationError) as bad_method:
        services.payout_request_create(
            affiliate=approved, amount="100", currency="USD", method="cash"
        )

    assert (not_approved.value.code, not_approved.value.status) == ("affiliate_not_approved", 403)
    assert bad_method.value.code == "invalid_method"
    assert PayoutRequest.objects.count() == 0


def test_request_in_a_currency_without_balance_is_insufficient():
    affiliate = funded_affiliate(available=Decimal("500"))

    with pytest.raises(ApplicationError) as error:
        services.payout_request_create(affiliate=affiliate, amount="100", currency="EUR")

    assert error.value.code == "insufficient_balance"


def test_lifecycle_request_approve_pay(eager_celery, django_capture_on_commit_callbacks):
    # given
    admin = AdminUserFactory()
    affiliate = funded_affiliate(available=Decimal("300"), user__email="pub@example.test")
    payout = services.payout_request_create(affiliate=affiliate, amount="250", currency="USD")

    # when
    with django_capture_on_commit_callbacks(execute=True):
        approved = services.payout_approve(payout=payout, actor=admin)
    balances_after_approval = balances(affiliate)
    with django_capture_on_commit_callbacks(execute=True):
        paid = services.payout_mark_paid(payout=approved, actor=admin, reference=" PP-123 ")

    # then
    assert balances_after_approval["requested"] == Decimal("250.0000")
    paid.refresh_from_db()
    assert (paid.status, paid.reference, paid.decided_by) == ("paid", "PP-123", admin)
    assert paid.paid_at == paid.decided_at
    assert balances(affiliate) == {
        "pending": ZERO,
        "available": Decimal("50.0000"),
        "requested": ZERO,
        "paid": Decimal("250.0000"),
    }
    assert ledger_lines(paid) == [
        ("payout_requested", "requested", Decimal("-250.0000")),
        ("payout_requested", "available", Decimal("250.0000")),
        ("payout_paid", "paid", Decimal("-250.0000")),
        ("payout_paid", "requested", Decimal("250.0000")),
    ]
    assert list(
        PayoutEvent.objects.filter(payout=paid).values_list("from_status", "to_status", "note")
    ) == [
        ("", "requested", ""),
        ("requested", "approved", ""),
        ("approved", "paid", "reference PP-123"),
    ]
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["pub@example.test"], f"Your ClickLedger payout #{paid.pk}: approved"),
        (["pub@example.test"], f"Your ClickLedger payout #{paid.pk}: paid"),
    ]
    assert "Payment reference: PP-123" in mail.outbox[1].body


@pytest.mark.parametrize("approve_first", [False, True])
def test_reject_returns_the_amount_to_available(
    approve_first, eager_celery, django_capture_on_commit_callbacks
):
    # given
    admin = AdminUserFactory()
    affiliate = funded_affiliate(available=Decimal("300"))
    payout = services.payout_request_create(affiliate=affiliate, amount="300", currency="USD")
    if approve_first:
        payout = services.payout_approve(payout=payout, actor=admin)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        rejected = services.payout_reject(payout=payout, actor=admin, reason="Wrong IBAN")

    # then
    assert (rejected.status, rejected.note) == ("rejected", "Wrong IBAN")
    assert balances(affiliate) == {
        "pending": ZERO,
        "available": Decimal("300.0000"),
        "requested": ZERO,
        "paid": ZERO,
    }
    assert ledger_lines(rejected)[2:] == [
        ("payout_rejected", "available", Decimal("-300.0000")),
        ("payout_rejected", "requested", Decimal("300.0000")),
    ]
    assert mail.outbox[-1].subject == f"Your ClickLedger payout #{rejected.pk}: rejected"
    assert "Reason: Wrong IBAN" in mail.outbox[-1].body


@pytest.mark.parametrize(
    ("path", "action"),
    [
        ([], "paid"),
        (["approve"], "approve"),
        (["reject"], "approve"),
        (["reject"], "reject"),
        (["reject"], "paid"),
        (["approve", "paid"], "reject"),
        (["approve", "paid"], "paid"),
        (["approve", "paid"], "approve"),
    ],
)
def test_status_machine_refuses_other_transitions(path, action, django_capture_on_commit_callbacks):
    # given
    admin = AdminUserFactory()
    affiliate = funded_affiliate(available=Decimal("100"))
    payout = services.payout_request_create(affiliate=affiliate, amount="100", currency="USD")
    calls = {
        "approve": lambda p: services.payout_approve(payout=p, actor=admin),
        "reject": lambda p: services.payout_reject(payout=p, actor=admin, reason=""),
        "paid": lambda p: services.payout_mark_paid(payout=p, actor=admin, reference="R-1"),
    }
    for step in path:
        payout = calls[step](payout)
    before = (balances(affiliate), PayoutEvent.objects.count(), LedgerTransaction.objects.count())

    # when
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(ApplicationError) as error,
    ):
        calls[action](payout)

    # then
    assert (error.value.code, error.value.status) == ("invalid_transition", 409)
    after = (balances(affiliate), PayoutEvent.objects.count(), LedgerTransaction.objects.count())
    assert after == before
    assert callbacks == []


def test_mark_paid_needs_a_reference():
    admin = AdminUserFactory()
    payout = services.payout_request_create(
        affiliate=funded_affiliate(available=Decimal("100")), amount="100", currency="USD"
    )
    payout = services.payout_approve(payout=payout, actor=admin)

    with pytest.raises(ApplicationError) as error:
        services.payout_mark_paid(payout=payout, actor=admin, reference="   ")

    assert error.value.code == "reference_required"
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.APPROVED
