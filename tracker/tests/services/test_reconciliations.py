"""Reconciliation: classing an advertiser's file, its money impact, applying chosen classes
through the status machine (idempotently), and bulk approve/reject of pending conversions."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from core.exceptions import ApplicationError
from payouts.models import LedgerEntry, LedgerTransaction
from payouts.selectors import advertiser_balances, affiliate_balances
from tracker.models import (
    Conversion,
    ConversionHistory,
    Reconciliation,
    ReconciliationRow,
)
from tracker.services.reconciliations import (
    conversions_bulk,
    reconciliation_apply,
    reconciliation_create,
)
from tracker.tests.factories import PostbackWorld, postback, reconciliation_world

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "reconciliation"


@pytest.fixture
def world() -> PostbackWorld:
    return reconciliation_world()


def _today() -> dt.date:
    return timezone.now().date()


def _create(world: PostbackWorld, content: bytes, **kwargs) -> Reconciliation:
    return reconciliation_create(
        advertiser=world.advertiser,
        campaign=kwargs.pop("campaign", world.campaigns["main"]),
        date_from=kwargs.pop("date_from", _today() - dt.timedelta(days=1)),
        date_to=kwargs.pop("date_to", _today()),
        content=content,
        file_name="advertiser.csv",
        actor=world.advertiser.user,
        **kwargs,
    )


def _books() -> dict:
    """What a reconciliation must not touch unless applied: conversions, history, ledger."""
    return {
        "conversions": list(
            Conversion.objects.order_by("pk").values_list("pk", "status", "revenue", "payout")
        ),
        "history": ConversionHistory.objects.count(),
        "ledger_transactions": LedgerTransaction.objects.count(),
        "ledger_entries": LedgerEntry.objects.count(),
        "ledger_sum_abs": sum(abs(a) for a in LedgerEntry.objects.values_list("amount", flat=True)),
    }


def test_the_fixture_file_gives_one_row_of_each_class_with_exact_money(world):
    # given the fixture: BOM, `;`, "Transaction ID", "State", a decimal comma
    content = (FIXTURES / "one_of_each.csv").read_bytes()
    books = _books()

    # when it is previewed
    reconciliation = _create(world, content)

    # then every class has exactly its row, with the exact money impact, and nothing else moved
    rows = {
        row.transaction_id: (
            row.line,
            row.row_class,
            row.revenue_delta,
            row.payout_delta,
            row.planned_action,
        )
        for row in reconciliation.rows.all()
    }
    assert rows == {
        "T-MATCH": (2, "matched", Decimal("0"), Decimal("0"), ""),
        "T-STATUS": (3, "status_differs", Decimal("20.0000"), Decimal("16.0000"), "approve"),
        "T-AMOUNT": (4, "amount_differs", Decimal("-5.0000"), Decimal("-4.0000"), ""),
        "T-THEIRS": (5, "missing_here", Decimal("50.0000"), Decimal("0"), ""),
        "T-BAD": (6, "invalid", Decimal("0"), Decimal("0"), ""),
        "T-OURS": (None, "missing_there", Decimal("-40.0000"), Decimal("-32.0000"), ""),
    }
    assert reconciliation.rows.get(transaction_id="T-BAD").reason == (
        "invalid_status: unknown status 'maybe'"
    )
    usd = lambda revenue, payout: {"USD": {"revenue_delta": revenue, "payout_delta": payout}}  # noqa: E731
    assert reconciliation.summary == {
        "classes": {
            "matched": {"count": 1, "to_apply": 0, "money": usd("0.0000", "0.0000")},
            "missing_here": {"count": 1, "to_apply": 0, "money": usd("50.0000", "0.0000")},
            "missing_there": {"count": 1, "to_apply": 0, "money": usd("-40.0000", "-32.0000")},
            "status_differs": {"count": 1, "to_apply": 1, "money": usd("20.0000", "16.0000")},
            "amount_differs": {"count": 1, "to_apply": 0, "money": usd("-5.0000", "-4.0000")},
            "invalid": {"count": 1, "to_apply": 0, "money": {}},
        }
    }
    assert reconciliation.line_count == 5
    assert reconciliation.status == "previewed"
    assert _books() == books


def test_applying_twice_changes_nothing_the_second_time(world):
    reconciliation = _create(world, (FIXTURES / "one_of_each.csv").read_bytes())
    classes = ["status_differs", "amount_differs", "missing_here"]
    affiliate_before = affiliate_balances(affiliate_id=world.affiliate.pk)["USD"]["available"]

    # when the advertiser applies the three classes
    first = reconciliation_apply(
        reconciliation=reconciliation,
        classes=classes,
        actor=world.advertiser.user,
        source="advertiser",
    )
    books = _books()
    rows = list(ReconciliationRow.objects.order_by("pk").values())
    second = reconciliation_apply(
        reconciliation=reconciliation,
        classes=classes,
        actor=world.advertiser.user,
        source="advertiser",
    )

    # then the first approved T-STATUS through the machine (ledger +20 revenue, +16 payout),
    # reported the others, and the second found nothing left to do
    assert first.outcomes == {"status_changed": 1, "not_supported": 1, "not_created": 1}
    assert first.money == {"USD": {"revenue": Decimal("20.0000"), "payout": Decimal("16.0000")}}
    conversion = Conversion.objects.get(transaction_id="T-STATUS")
    assert (conversion.status, conversion.reason) == (
        "approved",
        f"reconciliation #{reconciliation.pk}",
    )
    assert conversion.history.last().source == "advertiser"
    assert affiliate_balances(affiliate_id=world.affiliate.pk)["USD"]["available"] == (
        affiliate_before + Decimal("16.0000")
    )
    assert Conversion.objects.get(transaction_id="T-AMOUNT").revenue == Decimal("30.0000")
    assert (second.outcomes, second.money) == ({}, {})
    assert _books() == books
    assert list(ReconciliationRow.objects.order_by("pk").values()) == rows
    reconciliation.refresh_from_db()
    assert reconciliation.status == "applied"


def test_approving_with_their_amount_reprices_through_the_machine(world):
    # given their file approves T-STATUS (pending 20.00 here) at 12.50
    content = b"transaction_id,status,amount\nT-STATUS,approved,12.50\n"
    reconciliation = _create(world, content)
    row = reconciliation.rows.get(transaction_id="T-STATUS")
    assert (row.row_class, row.revenue_delta, row.payout_delta) == (
        "status_differs",
        Decimal("12.5000"),
        Decimal("10.0000"),
    )

    # when applied
    result = reconciliation_apply(
        reconciliation=reconciliation, classes=["status_differs"], actor=None, source="admin"
    )

    # then the conversion is approved at their amount, the preview's money exactly
    conversion = Conversion.objects.get(transaction_id="T-STATUS")
    assert (conversion.status, conversion.revenue, conversion.payout) == (
        "approved",
        Decimal("12.5000"),
        Decimal("10.0000"),
    )
    assert result.money == {"USD": {"revenue": Decimal("12.5000"), "payout": Decimal("10.0000")}}
    assert advertiser_balances(advertiser_id=world.advertiser.pk)["USD"]["receivable"] == Decimal(
        "92.5000"
    )


def test_a_conversion_changed_since_the_preview_is_left_alone(world):
    content = b"transaction_id,status\nT-STATUS,rejected\nT-OURS,pending\n"
    reconciliation = _create(world, content)
    # a move into pending is no transition of the machine: planned nothing
    assert reconciliation.rows.get(transaction_id="T-OURS").planned_action == ""
    Conversion.objects.filter(transaction_id="T-STATUS").update(status="approved")

    result = reconciliation_apply(
        reconciliation=reconciliation, classes=["status_differs"], actor=None, source="admin"
    )

    assert result.outcomes == {"changed_since_preview": 1, "not_allowed": 1}
    assert Conversion.objects.get(transaction_id="T-STATUS").status == "approved"


@pytest.mark.parametrize(
    ("content", "code", "status"),
    [
        (b"", "empty_file", 400),
        (b"transaction_id,status\n", "empty_file", 400),
        (b"id,amount\n1,2\n", "missing_columns", 400),
        (b"txn,order_id,status\n1,2,approved\n", "duplicate_column", 400),
        ("transaction_id,status\nT-\u00e9,approved\n".encode("latin-1"), "invalid_encoding", 400),
        (b'transaction_id,status\n"T-1,approved\n', "invalid_csv", 400),
        (b"transaction_id,status\n" + b"T,approved\n" * 50_001, "too_many_rows", 413),
        (b"x" * (5 * 1024 * 1024 + 1), "file_too_large", 413),
    ],
    ids=["empty", "header-only", "no-id", "twice", "latin-1", "broken", "rows", "size"],
)
def test_a_file_that_cannot_be_read_is_refused_with_its_code(world, content, code, status):
    with pytest.raises(ApplicationError) as refused:
        _create(world, content)
    assert (refused.value.code, refused.value.status) == (code, status)
    assert Reconciliation.objects.count() == 0


def test_lines_are_read_tolerantly_and_bad_ones_are_invalid_with_a_reason(world):
    click_id = Conversion.objects.get(transaction_id="T-MATCH").click.click_id
    content = (
        "Click-ID,STATUS,Sale Amount\n"
        ",approved,1\n"
        "nope,,1\n"
        "nope,approved,-1\n"
        'nope,approved,"1.234,50"\n'
        f"{click_id},Approved,10.000\n"
        f"{click_id},approved,10\n"
    ).encode()

    reconciliation = _create(world, content)

    rows = reconciliation.rows.order_by("pk")
    assert list(rows.values_list("line", "row_class", "reason", "revenue_delta")) == [
        (2, "invalid", "missing_id: neither a transaction_id nor a click_id", Decimal("0")),
        (3, "invalid", "missing_status: no status", Decimal("0")),
        (4, "invalid", "invalid_amount: amount '-1': negative", Decimal("0")),
        (5, "missing_here", "no_click", Decimal("1234.5000")),
        (6, "matched", "", Decimal("0")),
        (7, "invalid", "duplicate_row: line 6 names the same conversion", Decimal("0")),
        (None, "missing_there", "", Decimal("0")),
        (None, "missing_there", "", Decimal("-30.0000")),
        (None, "missing_there", "", Decimal("-40.0000")),
    ]


def test_bulk_approve_preview_equals_the_apply_and_a_repeat_changes_nothing(world):
    # given two more pending conversions (T-STATUS is the third)
    for transaction_id, payout in (("T-P1", "1.25"), ("T-P2", "3.75")):
        click = world.click()
        postback(
            world.partner_key,
            click_id=click.click_id,
            transaction_id=transaction_id,
            status="pending",
            payout=payout,
        )
    selection = Conversion.objects.filter(campaign=world.campaigns["main"])
    books = _books()

    # when the preview (dry run), then the apply, then the apply again
    kwargs = {
        "selection": selection,
        "ids": None,
        "action": "approve",
        "actor": None,
        "source": "admin",
    }
    preview = conversions_bulk(dry_run=True, **kwargs)
    assert _books() == books
    applied = conversions_bulk(dry_run=False, **kwargs)
    after = _books()
    repeat = conversions_bulk(dry_run=False, **kwargs)

    # then the preview is exactly what the apply did, and the repeat did nothing
    money = {"USD": {"revenue": Decimal("25.0000"), "payout": Decimal("20.0000")}}
    assert (preview.count, preview.money) == (3, money)
    assert (applied.count, applied.money) == (3, money)
    assert (repeat.count, repeat.money) == (0, {})
    assert _books() == after
    assert set(selection.values_list("status", flat=True)) == {"approved"}


def test_bulk_reject_by_ids_skips_the_decided_and_refuses_an_unseen_id(world):
    pending = Conversion.objects.get(transaction_id="T-STATUS")
    approved = Conversion.objects.get(transaction_id="T-MATCH")
    selection = Conversion.objects.filter(campaign=world.campaigns["main"])
    kwargs = {"selection": selection, "action": "reject", "actor": None, "source": "admin"}

    with pytest.raises(ApplicationError) as refused:
        conversions_bulk(ids=[pending.pk, 10**9], dry_run=True, **kwargs)
    result = conversions_bulk(
        ids=[pending.pk, approved.pk], dry_run=False, reason="fraud", **kwargs
    )

    assert refused.value.status == 404
    assert (result.count, result.skipped) == (1, [approved.pk])
    assert result.money == {"USD": {"revenue": Decimal("0.0000"), "payout": Decimal("0.0000")}}
    pending.refresh_from_db()
    approved.refresh_from_db()
    assert (pending.status, pending.reason, approved.status) == ("rejected", "fraud", "approved")
