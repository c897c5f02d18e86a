"""Invoice numbering under real concurrency: threads with their own connections (PostgreSQL)."""

import datetime as dt

import pytest

from accounts.tests.factories import AdvertiserFactory
from core.exceptions import ApplicationError
from payouts import invoices
from payouts.models import Invoice, InvoiceNumberCounter, InvoiceStatus
from payouts.tests.test_ledger_concurrency import run_together

pytestmark = pytest.mark.django_db(transaction=True)

IN_APRIL = dt.datetime(2026, 4, 2, 9, tzinfo=dt.UTC)


def _draft(*, with_line: bool) -> Invoice:
    invoice, _ = invoices.invoice_draft_for_period(
        advertiser_id=AdvertiserFactory().pk,
        currency="USD",
        period_start=dt.date(2026, 3, 1),
        period_end=dt.date(2026, 3, 31),
    )
    if with_line:
        invoices.invoice_line_add(
            invoice_id=invoice.pk, description="Monthly fee", amount="10", actor=None
        )
    return invoice


def test_concurrent_issues_get_consecutive_numbers_without_gaps():
    # given: 12 drafts worth invoicing and 3 with nothing on them (their issue fails)
    drafts = [_draft(with_line=True) for _ in range(12)] + [
        _draft(with_line=False) for _ in range(3)
    ]

    # when: all issued at once, each drafts issued twice
    calls = [
        (
            lambda invoice_id=draft.pk: invoices.invoice_issue(
                invoice_id=invoice_id, actor=None, now=IN_APRIL
            )
        )
        for draft in drafts + drafts
    ]
    results = run_together(calls)

    # then
    codes = sorted(r.code for r in results if isinstance(r, ApplicationError))
    assert [
        r for r in results if isinstance(r, Exception) and not isinstance(r, ApplicationError)
    ] == []
    assert codes == ["not_draft"] * 12 + ["nothing_to_invoice"] * 6
    numbers = sorted(
        Invoice.objects.filter(status=InvoiceStatus.ISSUED).values_list("number", flat=True)
    )
    assert numbers == [f"INV-2026-{n:06d}" for n in range(1, 13)]
    assert InvoiceNumberCounter.objects.get(year=2026).last_number == 12
    assert Invoice.objects.filter(status=InvoiceStatus.DRAFT, number__isnull=True).count() == 3


def test_concurrent_drafts_of_one_period_make_one_invoice():
    advertiser = AdvertiserFactory()

    def draft():
        return invoices.invoice_draft_for_period(
            advertiser_id=advertiser.pk,
            currency="USD",
            period_start=dt.date(2026, 3, 1),
            period_end=dt.date(2026, 3, 31),
        )

    results = run_together([draft for _ in range(8)])

    assert [r for r in results if isinstance(r, Exception)] == []
    assert sorted(created for _, created in results) == [False] * 7 + [True]
    assert len({invoice.pk for invoice, _ in results}) == 1


def test_concurrent_payments_never_pay_more_than_the_total():
    # given: an issued invoice of 10
    invoice = _draft(with_line=True)
    invoices.invoice_issue(invoice_id=invoice.pk, actor=None, now=IN_APRIL)

    # when: six payments of 4 at once
    results = run_together(
        [
            (
                lambda n=n: invoices.invoice_payment_record(
                    invoice_id=invoice.pk, amount="4", paid_at=None, reference=f"r{n}", actor=None
                )
            )
            for n in range(6)
        ]
    )

    # then: two are recorded, the rest refused as too much (then as already paid: none here)
    codes = sorted(r.code for r in results if isinstance(r, ApplicationError))
    assert codes == ["overpayment"] * 4
    invoice.refresh_from_db()
    assert (invoice.status, str(invoice.amount_paid), invoice.payments.count()) == (
        InvoiceStatus.ISSUED,
        "8.0000",
        2,
    )
