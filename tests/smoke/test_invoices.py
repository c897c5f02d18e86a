"""Advertiser invoices on SQLite: totals equal to the ledger entries they cover, numbering,
partial payments down to zero, the ledger still balanced and immutable."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db.models import Sum

from accounts.tests.factories import AdvertiserFactory, AffiliateFactory
from core.exceptions import ApplicationError
from payouts import invoices
from payouts.ledger import ledger_reconcile
from payouts.models import InvoiceStatus
from payouts.tests.factories import conversion_approve, conversion_status_change

pytestmark = [pytest.mark.smoke, pytest.mark.django_db]

IN_MARCH = dt.datetime(2026, 3, 10, tzinfo=dt.UTC)
IN_APRIL = dt.datetime(2026, 4, 2, tzinfo=dt.UTC)


def test_an_invoice_is_its_ledger_entries_and_is_paid_down_to_zero():
    # given: 0.1 + 0.2 + 0.3333 approved in March, 0.2 of it reversed
    advertiser, affiliate = AdvertiserFactory(), AffiliateFactory()
    with time_machine.travel(IN_MARCH, tick=False):
        ids = [
            conversion_approve(
                affiliate=affiliate,
                advertiser=advertiser,
                payout=Decimal("0.01"),
                revenue=Decimal(revenue),
            )[0]
            for revenue in ("0.1", "0.2", "0.3333")
        ]
        conversion_status_change(
            conversion_id=ids[1],
            affiliate=affiliate,
            advertiser=advertiser,
            from_status="approved",
            to_status="reversed",
            payout=Decimal("0.01"),
        )
    invoice, _ = invoices.invoice_draft_for_period(
        advertiser_id=advertiser.pk,
        currency="USD",
        period_start=dt.date(2026, 3, 1),
        period_end=dt.date(2026, 3, 31),
    )
    invoices.invoice_line_add(invoice_id=invoice.pk, description="Fee", amount="0.1", actor=None)

    # when
    with time_machine.travel(IN_APRIL, tick=False):
        invoice = invoices.invoice_issue(invoice_id=invoice.pk, actor=None)
    for reference, amount in (("a", "0.2667"), ("b", "0.2666")):
        invoices.invoice_payment_record(
            invoice_id=invoice.pk, amount=amount, paid_at=None, reference=reference, actor=None
        )
    with pytest.raises(ApplicationError) as refused:
        invoices.invoice_payment_record(
            invoice_id=invoice.pk, amount="0.0001", paid_at=None, reference="c", actor=None
        )
    invoice.refresh_from_db()

    # then
    covered = invoices.invoice_covered_entries(invoice).aggregate(total=Sum("amount"))["total"]
    assert (invoice.number, invoice.total, covered) == (
        "INV-2026-000001",
        Decimal("0.5333"),
        Decimal("0.5333"),
    )
    assert (invoice.status, invoice.amount_due) == (InvoiceStatus.PAID, Decimal("0.0000"))
    assert refused.value.code == "already_paid"
    assert invoices.invoice_receivable_left(invoice) == Decimal("0.0000")
    assert ledger_reconcile() == []
