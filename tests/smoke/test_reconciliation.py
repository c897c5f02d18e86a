"""Reconciliation on SQLite: the preview's money, an apply that re-prices at the advertiser's
amount, and a second apply that changes nothing (conversions, history, ledger)."""

from decimal import Decimal

import pytest
from django.utils import timezone

from payouts.models import LedgerEntry
from tracker.models import Conversion, ConversionHistory
from tracker.services.reconciliations import (
    conversions_bulk,
    reconciliation_apply,
    reconciliation_create,
)
from tracker.tests.factories import reconciliation_world

pytestmark = pytest.mark.smoke


@pytest.mark.django_db
def test_a_reconciliation_applies_once_with_the_previewed_money():
    world = reconciliation_world()
    today = timezone.now().date()
    reconciliation = reconciliation_create(
        advertiser=world.advertiser,
        campaign=world.campaigns["main"],
        date_from=today,
        date_to=today,
        content=b"transaction_id;status;amount\nT-STATUS;approved;12,50\nT-MATCH;approved;10\n",
        file_name="theirs.csv",
        actor=None,
    )
    row = reconciliation.rows.get(transaction_id="T-STATUS")
    assert (row.row_class, row.revenue_delta, row.payout_delta) == (
        "status_differs",
        Decimal("12.5000"),
        Decimal("10.0000"),
    )

    first = reconciliation_apply(
        reconciliation=reconciliation, classes=["status_differs"], actor=None, source="admin"
    )
    books = (
        ConversionHistory.objects.count(),
        sorted(LedgerEntry.objects.values_list("amount", flat=True)),
    )
    second = reconciliation_apply(
        reconciliation=reconciliation, classes=["status_differs"], actor=None, source="admin"
    )

    assert first.money == {"USD": {"revenue": Decimal("12.5000"), "payout": Decimal("10.0000")}}
    assert (second.outcomes, second.money) == ({}, {})
    assert books == (
        ConversionHistory.objects.count(),
        sorted(LedgerEntry.objects.values_list("amount", flat=True)),
    )
    assert sum(LedgerEntry.objects.values_list("amount", flat=True)) == Decimal("0")
    conversion = Conversion.objects.get(transaction_id="T-STATUS")
    assert (conversion.status, conversion.revenue, conversion.payout) == (
        "approved",
        Decimal("12.5000"),
        Decimal("10.0000"),
    )


@pytest.mark.django_db
def test_bulk_reject_preview_equals_the_apply():
    world = reconciliation_world()
    selection = Conversion.objects.filter(campaign=world.campaigns["main"])
    kwargs = {"selection": selection, "ids": None, "action": "reject", "actor": None}

    preview = conversions_bulk(dry_run=True, source="admin", **kwargs)
    applied = conversions_bulk(dry_run=False, source="admin", **kwargs)
    repeat = conversions_bulk(dry_run=False, source="admin", **kwargs)

    assert (preview.count, preview.money) == (applied.count, applied.money)
    assert (applied.count, repeat.count) == (1, 0)
    assert Conversion.objects.get(transaction_id="T-STATUS").status == "rejected"
