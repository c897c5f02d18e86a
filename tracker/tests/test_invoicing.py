"""Advertiser invoices over a month of real traffic: conversions reported by postback, some
reversed, invoiced per campaign and event, paid in two parts (PostgreSQL).

Here rather than in payouts' tests: building conversions needs the tracker, which payouts may
not import."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db.models import Sum

from core.models import AuditSource
from payouts import invoices, ledger
from payouts.models import InvoiceLineKind, InvoiceStatus
from tracker.models import ChangeSource, Conversion, ConversionStatus
from tracker.services.conversions import conversion_status_change
from tracker.tests.factories import postback, postback_world

pytestmark = pytest.mark.django_db

MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))


def _at(month: int, day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=dt.UTC)


def _approved(world, campaign: str, amount: str, at: dt.datetime) -> Conversion:
    with time_machine.travel(at, tick=False):
        click = world.click(campaign)
        return postback(
            world.partner_key, click_id=click.click_id, status="approved", payout=amount
        )


def _reverse(conversion: Conversion, at: dt.datetime) -> None:
    with time_machine.travel(at, tick=False):
        conversion_status_change(
            conversion_id=conversion.pk,
            status=ConversionStatus.REVERSED,
            actor=None,
            reason="chargeback",
            source=ChangeSource.ADMIN,
            audit_source=AuditSource.SYSTEM,
        )


def test_a_month_of_traffic_with_reversals_is_invoiced_to_the_cent_and_paid():
    # given: two campaigns; February's and April's activity must stay out of March
    world = postback_world()
    shoes, hats = world.campaign("shoes"), world.campaign("hats")
    _approved(world, "shoes", "9.99", _at(2, 27))
    february_reversed_in_march = _approved(world, "hats", "4.00", _at(2, 28))
    march = [
        _approved(world, "shoes", amount, _at(3, day))
        for day, amount in ((1, "10.01"), (5, "12.345"), (17, "0.01"), (31, "7.50"))
    ]
    march += [_approved(world, "hats", amount, _at(3, day)) for day, amount in ((2, "3.3333"),)]
    _reverse(march[1], _at(3, 20))  # approved and reversed in March
    _reverse(february_reversed_in_march, _at(3, 3))  # reversed in March: a credit on March's
    reversed_in_april = march[0]
    _reverse(reversed_in_april, _at(4, 1, 0))
    _approved(world, "shoes", "100", _at(4, 1, 1))

    # when
    invoice, _ = invoices.invoice_draft_for_period(
        advertiser_id=world.advertiser.pk,
        currency="USD",
        period_start=MARCH[0],
        period_end=MARCH[1],
    )

    # then: one revenue line per campaign and event, sums as the conversions' revenue says
    revenue = {c.pk: c.revenue for c in Conversion.objects.all()}
    shoes_total = sum(revenue[c.pk] for c in march[:4])  # march[1]: approved, then reversed
    shoes_total -= revenue[march[1].pk]
    hats_total = revenue[march[4].pk] - revenue[february_reversed_in_march.pk]
    default_event = shoes.events.get(is_default=True)
    lines = list(
        invoice.lines.values_list("kind", "description", "quantity", "amount", "campaign_id")
    )
    expected = [
        (InvoiceLineKind.REVENUE, f"{hats.name} — {default_event.name}", 0, hats_total, hats.pk),
        (InvoiceLineKind.REVENUE, f"{shoes.name} — {default_event.name}", 3, shoes_total, shoes.pk),
    ]
    assert lines == sorted(expected, key=lambda line: line[1])
    assert invoice.total == shoes_total + hats_total
    covered = invoices.invoice_covered_entries(invoice).aggregate(total=Sum("amount"))["total"]
    assert covered == invoice.total

    # when: issued in April, paid in two halves
    with time_machine.travel(_at(4, 2), tick=False):
        invoices.invoice_issue(invoice_id=invoice.pk, actor=None)
    half = (invoice.total / 2).quantize(Decimal("0.0001"))
    for reference, amount in (("wire-1", half), ("wire-2", invoice.total - half)):
        invoices.invoice_payment_record(
            invoice_id=invoice.pk, amount=amount, paid_at=None, reference=reference, actor=None
        )
    invoice.refresh_from_db()

    # then
    assert (invoice.status, invoice.amount_paid) == (InvoiceStatus.PAID, invoice.total)
    assert invoices.invoice_receivable_left(invoice) == Decimal("0.0000")
    assert ledger.ledger_reconcile() == []
