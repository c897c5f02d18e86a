"""An invoice as CSV: one row per line, then its total, what was paid and what is due."""

from collections.abc import Iterable, Iterator

from core.csv_export import csv_lines
from payouts.models import Invoice

INVOICE_COLUMNS = [
    "invoice_number",
    "status",
    "advertiser_id",
    "period_start",
    "period_end",
    "currency",
    "row",
    "kind",
    "description",
    "campaign_id",
    "event_id",
    "quantity",
    "amount",
]


def _rows(invoice: Invoice) -> list[list]:
    head = [
        invoice.number or "",
        invoice.status,
        invoice.advertiser_id,
        invoice.period_start,
        invoice.period_end,
        invoice.currency,
    ]
    rows: list[list] = [
        [
            *head,
            position,
            line.kind,
            line.description,
            line.campaign_id,
            line.event_id,
            line.quantity,
            line.amount,
        ]
        for position, line in enumerate(invoice.lines.all(), start=1)
    ]
    return [
        *rows,
        [*head, None, "total", "Total", None, None, None, invoice.total],
        [*head, None, "paid", "Paid", None, None, None, invoice.amount_paid],
        [*head, None, "due", "Amount due", None, None, None, invoice.amount_due],
    ]


def invoice_csv(invoice: Invoice) -> Iterator[str]:
    """The invoice as CSV lines; amounts with 4 places as stored."""
    return csv_lines(INVOICE_COLUMNS, _rows(invoice))


def invoices_csv(invoices: Iterable[Invoice]) -> Iterator[str]:
    """Several invoices in one file, one after the other (the console's export)."""
    return csv_lines(INVOICE_COLUMNS, (row for invoice in invoices for row in _rows(invoice)))


def invoice_filename(invoice: Invoice, extension: str) -> str:
    return f"{invoice.number or f'draft-{invoice.pk}'}.{extension}"
