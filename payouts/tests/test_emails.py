"""`payouts.emails`: the exact text of each payout decision email, money in the default locale."""

from decimal import Decimal

import pytest

from core.formatting import locale_override
from payouts import services
from payouts.emails import PAYOUT_DECISIONS, payout_decision_email
from payouts.models import PayoutEvent, PayoutStatus
from payouts.tests.factories import funded_affiliate

pytestmark = pytest.mark.django_db


def _payout(currency: str = "USD"):
    affiliate = funded_affiliate(
        available=Decimal("2500"), currency=currency, user__email="pub@x.test", user__name="Pat"
    )
    return services.payout_request_create(
        affiliate=affiliate, amount=Decimal("1234.5"), currency=currency
    )


def test_the_decisions_are_approved_rejected_and_paid():
    assert {PayoutStatus.APPROVED, PayoutStatus.REJECTED, PayoutStatus.PAID} == PAYOUT_DECISIONS


def test_approval_email(settings):
    payout = _payout()
    services.payout_approve(payout=payout, actor=None)
    event = PayoutEvent.objects.get(payout=payout, to_status=PayoutStatus.APPROVED)

    email = payout_decision_email(event=event)

    assert (email.subject, email.to, email.cc, email.bcc, email.from_email) == (
        f"Your ClickLedger payout #{payout.pk}: approved",
        ["pub@x.test"],
        [],
        [],
        settings.DEFAULT_FROM_EMAIL,
    )
    assert email.body == (
        f"Hello Pat,\n\nYour payout request #{payout.pk} of $1,234.50 "
        "has been approved and will be paid soon."
    )


def test_rejection_email_gives_the_reason():
    payout = _payout()
    services.payout_reject(payout=payout, actor=None, reason=" Details missing ")
    event = PayoutEvent.objects.get(payout=payout, to_status=PayoutStatus.REJECTED)

    email = payout_decision_email(event=event)

    assert email.subject == f"Your ClickLedger payout #{payout.pk}: rejected"
    assert email.body.splitlines() == [
        "Hello Pat,",
        "",
        f"Your payout request #{payout.pk} of $1,234.50 has been rejected; the amount is back in "
        "your available balance.",
        "",
        "Reason: Details missing",
    ]


def test_paid_email_gives_the_payment_reference_in_the_default_locale_whoever_pays():
    payout = _payout(currency="EUR")
    services.payout_approve(payout=payout, actor=None)
    with locale_override("de"):
        services.payout_mark_paid(payout=payout, actor=None, reference="SEPA-42")
        event = PayoutEvent.objects.get(payout=payout, to_status=PayoutStatus.PAID)
        email = payout_decision_email(event=event)

    assert email.subject == f"Your ClickLedger payout #{payout.pk}: paid"
    assert email.body.splitlines() == [
        "Hello Pat,",
        "",
        f"Your payout request #{payout.pk} of €1,234.50 has been paid.",
        "",
        "Payment reference: SEPA-42",
    ]
