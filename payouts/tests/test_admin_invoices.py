"""The invoices console: issue and record payments through confirmed actions, CSV export;
invoices cannot be added or deleted there."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from accounts.tests.factories import AdminUserFactory, AdvertiserFactory
from core.models import AuditEntry, AuditSource
from payouts import invoices
from payouts.models import Invoice, InvoiceStatus

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:payouts_invoice_changelist"


def _draft(fee: str) -> Invoice:
    invoice, _ = invoices.invoice_draft_for_period(
        advertiser_id=AdvertiserFactory().pk,
        currency="EUR",
        period_start=dt.date(2026, 3, 1),
        period_end=dt.date(2026, 3, 31),
    )
    invoices.invoice_line_add(invoice_id=invoice.pk, description="Fee", amount=fee, actor=None)
    return invoice


def test_console_issues_then_records_payments(client):
    # given
    admin = AdminUserFactory()
    client.force_login(admin)
    first, second = _draft("100"), _draft("50")
    selected = [first.pk, second.pk]

    # when: issue both; pay 30 on each; then pay what is due on the second only
    with time_machine.travel(dt.datetime(2026, 4, 2, tzinfo=dt.UTC), tick=False):
        asked = client.post(reverse(CHANGELIST), {"action": "issue", "_selected_action": selected})
        issued = client.post(
            reverse(CHANGELIST), {"action": "issue", "_selected_action": selected, "confirm": "yes"}
        )
    partial = client.post(
        reverse(CHANGELIST),
        {
            "action": "record_payment",
            "_selected_action": selected,
            "confirm": "yes",
            "reference": "BATCH-1",
            "amount": "30",
            "paid_at": "",
        },
    )
    rest = client.post(
        reverse(CHANGELIST),
        {
            "action": "record_payment",
            "_selected_action": [second.pk],
            "confirm": "yes",
            "reference": "BATCH-2",
            "amount": "",
            "paid_at": "",
        },
    )

    # then
    assert asked.status_code == 200  # the confirmation page
    assert (issued.status_code, partial.status_code, rest.status_code) == (302, 302, 302)
    rows = {
        row[0]: row[1:]
        for row in Invoice.objects.values_list("pk", "number", "status", "amount_paid")
    }
    assert rows == {
        first.pk: ("INV-2026-000001", InvoiceStatus.ISSUED, Decimal("30.0000")),
        second.pk: ("INV-2026-000002", InvoiceStatus.PAID, Decimal("50.0000")),
    }
    assert set(
        AuditEntry.objects.filter(object_type="payouts.invoice").values_list("source", flat=True)
    ) == {AuditSource.CONSOLE}


def test_console_export_and_no_add_or_delete(client):
    client.force_login(AdminUserFactory())
    invoice = _draft("12.34")

    export = client.post(
        reverse(CHANGELIST), {"action": "export_csv", "_selected_action": [invoice.pk]}
    )
    add = client.get(reverse("admin:payouts_invoice_add"))
    change = client.get(reverse("admin:payouts_invoice_change", args=[invoice.pk]))

    assert export.status_code == 200
    lines = b"".join(export.streaming_content).decode().splitlines()
    assert lines[1].endswith(",1,adjustment,Fee,,,1,12.3400")
    assert (add.status_code, change.status_code) == (403, 200)
    assert "€12.34" in change.content.decode()
