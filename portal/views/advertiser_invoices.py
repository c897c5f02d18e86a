"""The advertiser's invoices: list, detail, a printable page and CSV. Only issued and paid
invoices of the viewer (`payouts.invoice_selectors`); anything else answers 404."""

from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from payouts.invoice_exports import invoice_csv, invoice_filename
from payouts.invoice_selectors import invoice_get, invoice_list
from portal.access import AdvertiserRequest, advertiser_required
from portal.tables import Column, Table, csv_response

INVOICE_COLUMNS = [
    Column("Number", "number"),
    Column("Period", "period"),
    Column("Total", "total", numeric=True),
    Column("Due", None, numeric=True),
    Column("Status", "status"),
    Column("Issued", "issued"),
    Column("Due date", "due_at"),
]
INVOICE_SORTS = {
    "number": "number",
    "period": "period_start",
    "total": "total",
    "status": "status",
    "issued": "issued_at",
    "due_at": "due_at",
}


@advertiser_required
def invoice_list_view(request: AdvertiserRequest) -> HttpResponse:
    table = Table(
        request,
        invoice_list(viewer=request.user),
        columns=INVOICE_COLUMNS,
        sorts=INVOICE_SORTS,
        default_sort="-period",
    )
    return render(request, "portal/advertiser/invoice_list.html", {"table": table})


@advertiser_required
def invoice_detail(request: AdvertiserRequest, invoice_id: int) -> HttpResponse:
    invoice = invoice_get(viewer=request.user, invoice_id=invoice_id)
    return render(request, "portal/advertiser/invoice_detail.html", {"invoice": invoice})


@advertiser_required
def invoice_print(request: AdvertiserRequest, invoice_id: int) -> HttpResponse:
    """A standalone document (no portal chrome) that prints on A4 or Letter."""
    invoice = invoice_get(viewer=request.user, invoice_id=invoice_id)
    return render(request, "portal/advertiser/invoice_print.html", {"invoice": invoice})


@advertiser_required
def invoice_csv_view(request: AdvertiserRequest, invoice_id: int) -> StreamingHttpResponse:
    invoice = invoice_get(viewer=request.user, invoice_id=invoice_id)
    return csv_response(invoice_filename(invoice, "csv"), invoice_csv(invoice))
