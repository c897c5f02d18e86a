"""Advertiser invoices: drafts from the ledger, issue, numbering, payments (PostgreSQL)."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db.models import Sum

from accounts.tests.factories import AdminUserFactory, AdvertiserFactory, AffiliateFactory
from core.exceptions import ApplicationError
from core.models import AuditEntry
from payouts import invoices, ledger, selectors, tasks
from payouts.invoice_exports import invoice_csv
from payouts.models import (
    AccountKind,
    Invoice,
    InvoiceLineKind,
    InvoiceStatus,
    LedgerEntry,
    OwnerType,
    TransactionKind,
)
from payouts.tests.factories import conversion_approve, conversion_status_change

pytestmark = pytest.mark.django_db

MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
IN_MARCH = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)
IN_APRIL = dt.datetime(2026, 4, 2, 9, tzinfo=dt.UTC)


def _march_activity(advertiser, affiliate) -> None:
    """Two approvals and one reversal in March, one approval on 1 April (not March's)."""
    with time_machine.travel(IN_MARCH, tick=False):
        conversion_approve(
            affiliate=affiliate, advertiser=advertiser, payout=Decimal("4"), revenue=Decimal("10")
        )
        reversed_id, _ = conversion_approve(
            affiliate=affiliate,
            advertiser=advertiser,
            payout=Decimal("1"),
            revenue=Decimal("2.5050"),
        )
    with time_machine.travel(dt.datetime(2026, 3, 31, 23, 59, 59, tzinfo=dt.UTC), tick=False):
        conversion_status_change(
            conversion_id=reversed_id,
            affiliate=affiliate,
            advertiser=advertiser,
            from_status="approved",
            to_status="reversed",
            payout=Decimal("1"),
        )
        conversion_approve(
            affiliate=affiliate, advertiser=advertiser, payout=Decimal("3"), revenue=Decimal("7")
        )
    with time_machine.travel(dt.datetime(2026, 4, 1, tzinfo=dt.UTC), tick=False):
        conversion_approve(
            affiliate=affiliate, advertiser=advertiser, payout=Decimal("1"), revenue=Decimal("99")
        )


def _draft(advertiser, period=MARCH, currency="USD") -> tuple[Invoice, bool]:
    return invoices.invoice_draft_for_period(
        advertiser_id=advertiser.pk,
        currency=currency,
        period_start=period[0],
        period_end=period[1],
    )


def _receivable_sum(advertiser) -> Decimal:
    return LedgerEntry.objects.filter(
        account__owner_type=OwnerType.ADVERTISER,
        account__owner_id=advertiser.pk,
        account__kind=AccountKind.RECEIVABLE,
    ).aggregate(total=Sum("amount"))["total"]


def test_draft_sums_the_periods_receivable_entries():
    # given
    advertiser, affiliate = AdvertiserFactory(), AffiliateFactory()
    _march_activity(advertiser, affiliate)

    # when
    invoice, created = _draft(advertiser)

    # then: 10 + 2.505 - 2.505 + 7; April's 99 is not March's
    assert created is True
    assert (invoice.status, invoice.number, invoice.total) == (
        InvoiceStatus.DRAFT,
        None,
        Decimal("17.0000"),
    )
    lines = list(invoice.lines.values_list("kind", "quantity", "amount"))
    # No labeler knows these ids (no conversion rows): one line for all conversions.
    assert lines == [(InvoiceLineKind.REVENUE, 2, Decimal("17.0000"))]
    covered = invoices.invoice_covered_entries(invoice).aggregate(total=Sum("amount"))["total"]
    assert covered == invoice.total


def test_draft_is_idempotent_and_refreshes_while_draft():
    # given
    advertiser, affiliate = AdvertiserFactory(), AffiliateFactory()
    _march_activity(advertiser, affiliate)
    first, _ = _draft(advertiser)

    # when: a late posting dated in March (as if it had been posted then), then a second draft
    with time_machine.travel(IN_MARCH, tick=False):
        conversion_approve(
            affiliate=affiliate, advertiser=advertiser, payout=Decimal("1"), revenue=Decimal("3")
        )
    second, created = _draft(advertiser)

    # then
    assert (second.pk, created, second.total) == (first.pk, False, Decimal("20.0000"))
    assert Invoice.objects.filter(advertiser=advertiser).count() == 1
    assert second.lines.count() == 1


def test_an_overlapping_period_is_refused():
    advertiser = AdvertiserFactory()
    _draft(advertiser)

    with pytest.raises(ApplicationError) as refused:
        _draft(advertiser, period=(dt.date(2026, 3, 15), dt.date(2026, 4, 14)))

    assert (refused.value.code, refused.value.status) == ("period_overlaps", 409)


def test_another_currency_is_another_invoice():
    advertiser = AdvertiserFactory()
    usd, _ = _draft(advertiser)
    eur, created = _draft(advertiser, currency="EUR")
    assert created is True
    assert usd.pk != eur.pk


def test_adjustment_lines_from_the_ledger_and_manual_lines():
    # given: a manual adjustment on the receivable in March (as the adjustments API posts one)
    advertiser, affiliate = AdvertiserFactory(), AffiliateFactory()
    _march_activity(advertiser, affiliate)
    with time_machine.travel(IN_MARCH, tick=False):
        receivable = ledger.ledger_account(
            owner_type=OwnerType.ADVERTISER,
            owner_id=advertiser.pk,
            kind=AccountKind.RECEIVABLE,
            currency="USD",
        )
        adjustments = ledger.network_account(kind=AccountKind.ADJUSTMENTS, currency="USD")
        ledger.ledger_post(
            kind=TransactionKind.ADJUSTMENT,
            lines=[(receivable, Decimal("-2")), (adjustments, Decimal("2"))],
            reference_type="adjustment",
            reference_id=None,
            idempotency_key="test-adjustment-1",
            memo="Goodwill credit",
        )
    invoice, _ = _draft(advertiser)

    # when
    invoices.invoice_line_add(
        invoice_id=invoice.pk, description="Setup fee", amount="25.50", actor=None
    )
    invoice.refresh_from_db()

    # then
    lines = list(invoice.lines.values_list("kind", "description", "amount", "is_manual"))
    assert lines == [
        (InvoiceLineKind.REVENUE, "Approved conversions less reversals", Decimal("17.0000"), False),
        (InvoiceLineKind.ADJUSTMENT, "Goodwill credit", Decimal("-2.0000"), False),
        (InvoiceLineKind.ADJUSTMENT, "Setup fee", Decimal("25.5000"), True),
    ]
    assert invoice.total == Decimal("40.5000")


def test_issue_numbers_posts_manual_lines_and_audits():
    # given
    admin = AdminUserFactory()
    advertiser, affiliate = AdvertiserFactory(), AffiliateFactory()
    _march_activity(advertiser, affiliate)
    invoice, _ = _draft(advertiser)
    invoices.invoice_line_add(
        invoice_id=invoice.pk, description="Discount", amount="-1.25", actor=admin
    )

    # when
    with time_machine.travel(IN_APRIL, tick=False):
        issued = invoices.invoice_issue(invoice_id=invoice.pk, actor=admin)

    # then
    assert (issued.status, issued.number, issued.total) == (
        InvoiceStatus.ISSUED,
        "INV-2026-000001",
        Decimal("15.7500"),
    )
    assert issued.due_at == IN_APRIL + dt.timedelta(days=30)
    covered = invoices.invoice_covered_entries(issued).aggregate(total=Sum("amount"))["total"]
    assert covered == Decimal("15.7500")
    manual = issued.lines.get(is_manual=True)
    assert manual.ledger_transaction is not None
    assert ledger.ledger_reconcile() == []
    entry = AuditEntry.objects.get(action="issue")
    assert (entry.object_id, entry.actor_id, entry.changes["number"]) == (
        str(invoice.pk),
        admin.pk,
        [None, "INV-2026-000001"],
    )
    # Issued: a second draft call returns it unchanged, lines can no longer be added.
    again, created = _draft(advertiser)
    assert (again.pk, created, again.status) == (invoice.pk, False, InvoiceStatus.ISSUED)
    with pytest.raises(ApplicationError) as refused:
        invoices.invoice_line_add(invoice_id=invoice.pk, description="x", amount="1", actor=None)
    assert refused.value.code == "not_draft"


def test_issue_refuses_an_open_period_and_nothing_to_invoice():
    advertiser, affiliate = AdvertiserFactory(), AffiliateFactory()
    _march_activity(advertiser, affiliate)
    invoice, _ = _draft(advertiser)
    empty, _ = _draft(AdvertiserFactory())

    last_hour = dt.datetime(2026, 3, 31, 23, tzinfo=dt.UTC)
    with time_machine.travel(last_hour, tick=False), pytest.raises(ApplicationError) as early:
        invoices.invoice_issue(invoice_id=invoice.pk, actor=None)
    with time_machine.travel(IN_APRIL, tick=False), pytest.raises(ApplicationError) as nothing:
        invoices.invoice_issue(invoice_id=empty.pk, actor=None)

    assert (early.value.code, nothing.value.code) == ("period_not_ended", "nothing_to_invoice")
    assert Invoice.objects.filter(number__isnull=False).count() == 0


def _issued(advertiser, affiliate) -> Invoice:
    _march_activity(advertiser, affiliate)
    invoice, _ = _draft(advertiser)
    with time_machine.travel(IN_APRIL, tick=False):
        return invoices.invoice_issue(invoice_id=invoice.pk, actor=None)


def test_half_payment_then_the_rest_pays_the_invoice_and_clears_its_receivable():
    # given: 17.00 due; April has its own 99.00 on the receivable
    admin = AdminUserFactory()
    advertiser, affiliate = AdvertiserFactory(), AffiliateFactory()
    invoice = _issued(advertiser, affiliate)
    paid_at = dt.datetime(2026, 4, 20, tzinfo=dt.UTC)

    # when
    invoices.invoice_payment_record(
        invoice_id=invoice.pk, amount="8.50", paid_at=paid_at, reference="wire-1", actor=admin
    )
    invoice.refresh_from_db()
    half = (invoice.status, invoice.amount_paid, invoice.amount_due)
    last = invoices.invoice_payment_record(
        invoice_id=invoice.pk, amount="8.5", paid_at=paid_at, reference="wire-2", actor=admin
    )
    invoice.refresh_from_db()

    # then
    assert half == (InvoiceStatus.ISSUED, Decimal("8.5000"), Decimal("8.5000"))
    assert (invoice.status, invoice.amount_paid, invoice.amount_due, invoice.paid_at) == (
        InvoiceStatus.PAID,
        Decimal("17.0000"),
        Decimal("0.0000"),
        paid_at,
    )
    assert invoices.invoice_receivable_left(invoice) == Decimal("0.0000")
    assert _receivable_sum(advertiser) == Decimal("99.0000")
    # Cash received is not revenue: the network's totals and margin do not move.
    assert set(selectors.network_totals()["USD"]) == {"revenue", "payouts", "adjustments", "margin"}
    entries = set(last.ledger_transaction.entries.values_list("account__kind", "amount"))
    assert entries == {
        (AccountKind.CASH, Decimal("8.5000")),
        (AccountKind.RECEIVABLE, Decimal("-8.5000")),
    }
    assert ledger.ledger_reconcile() == []
    assert AuditEntry.objects.filter(action="record_payment").count() == 2
    with pytest.raises(ApplicationError) as after:
        invoices.invoice_payment_record(
            invoice_id=invoice.pk, amount="1", paid_at=None, reference="wire-3", actor=admin
        )
    assert (after.value.code, after.value.status) == ("already_paid", 409)


@pytest.mark.parametrize(
    ("amount", "reference", "code"),
    [
        ("17.0001", "wire-9", "overpayment"),
        ("0", "wire-9", "invalid_amount"),
        ("-1", "wire-9", "invalid_amount"),
        ("abc", "wire-9", "invalid_amount"),
        ("1", "  ", "reference_required"),
        ("1", "wire-1", "duplicate_payment"),
    ],
)
def test_payment_refusals(amount, reference, code):
    advertiser, affiliate = AdvertiserFactory(), AffiliateFactory()
    invoice = _issued(advertiser, affiliate)
    invoices.invoice_payment_record(
        invoice_id=invoice.pk, amount="1", paid_at=None, reference="wire-1", actor=None
    )

    with pytest.raises(ApplicationError) as refused:
        invoices.invoice_payment_record(
            invoice_id=invoice.pk, amount=amount, paid_at=None, reference=reference, actor=None
        )

    assert refused.value.code == code
    invoice.refresh_from_db()
    assert (invoice.amount_paid, invoice.payments.count()) == (Decimal("1.0000"), 1)


def test_a_draft_takes_no_payment_and_can_be_voided_then_redrafted():
    advertiser = AdvertiserFactory()
    draft, _ = _draft(advertiser)
    with pytest.raises(ApplicationError) as refused:
        invoices.invoice_payment_record(
            invoice_id=draft.pk, amount="1", paid_at=None, reference="x", actor=None
        )
    invoices.invoice_void(invoice_id=draft.pk, actor=None)
    again, created = _draft(advertiser)
    assert (refused.value.code, created, again.pk != draft.pk) == ("not_issued", True, True)


def test_monthly_drafts_for_every_advertiser_with_activity():
    # given
    active, quiet, affiliate = AdvertiserFactory(), AdvertiserFactory(), AffiliateFactory()
    _march_activity(active, affiliate)
    with time_machine.travel(IN_MARCH, tick=False):
        conversion_approve(
            affiliate=affiliate, advertiser=active, payout=Decimal("1"), currency="EUR"
        )

    # when: twice
    first = invoices.invoices_draft_monthly(now=IN_APRIL)
    second = invoices.invoices_draft_monthly(now=IN_APRIL)

    # then
    assert [(i.advertiser_id, i.currency, i.total) for i in first] == [
        (active.pk, "EUR", Decimal("1.0000")),
        (active.pk, "USD", Decimal("17.0000")),
    ]
    assert [i.pk for i in second] == [i.pk for i in first]
    assert not Invoice.objects.filter(advertiser=quiet).exists()


def test_csv_lists_lines_then_totals():
    advertiser, affiliate = AdvertiserFactory(), AffiliateFactory()
    invoice = _issued(advertiser, affiliate)

    text = "".join(invoice_csv(invoice))

    head = f"INV-2026-000001,issued,{advertiser.pk},2026-03-01,2026-03-31,USD"
    assert text.splitlines() == [
        "invoice_number,status,advertiser_id,period_start,period_end,currency,row,kind,"
        "description,campaign_id,event_id,quantity,amount",
        f"{head},1,revenue,Approved conversions less reversals,,,2,17.0000",
        f"{head},,total,Total,,,,17.0000",
        f"{head},,paid,Paid,,,,0.0000",
        f"{head},,due,Amount due,,,,17.0000",
    ]


def test_monthly_task_drafts_last_month_and_a_rerun_changes_nothing():
    advertiser, affiliate = AdvertiserFactory(), AffiliateFactory()
    _march_activity(advertiser, affiliate)

    assert tasks.draft_monthly_invoices(now="2026-04-01T02:07:00+00:00") == 1
    assert tasks.draft_monthly_invoices(now="2026-04-01T02:07:00+00:00") == 1
    invoice = Invoice.objects.get(advertiser=advertiser)
    assert (invoice.period_start, invoice.period_end, invoice.total) == (
        *MARCH,
        Decimal("17.0000"),
    )
