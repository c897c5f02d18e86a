"""The advertiser's invoice pages: its issued invoices only, printable and as CSV."""

import datetime as dt

import pytest

from payouts import invoices
from portal.tests.factories import portal_client

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 4, 2, tzinfo=dt.UTC)


def _invoice(advertiser_id: int, *, month: int, issue: bool, fee: str = "1234.5"):
    start = dt.date(2026, month, 1)
    invoice, _ = invoices.invoice_draft_for_period(
        advertiser_id=advertiser_id,
        currency="USD",
        period_start=start,
        period_end=invoices.month_period(start)[1],
    )
    invoices.invoice_line_add(
        invoice_id=invoice.pk, description="Newsletter placement", amount=fee, actor=None
    )
    if issue:
        invoice = invoices.invoice_issue(invoice_id=invoice.pk, actor=None, now=NOW)
    return invoice


def test_invoice_pages_show_own_issued_invoices_only(net):
    # given
    client = portal_client(net, "advertiser1")
    own = _invoice(net.advertiser1.pk, month=3, issue=True)
    invoices.invoice_payment_record(
        invoice_id=own.pk, amount="234.5", paid_at=NOW, reference="SEPA-1", actor=None
    )
    draft = _invoice(net.advertiser1.pk, month=2, issue=False)
    other = _invoice(net.advertiser2.pk, month=3, issue=True)

    # when
    listed = client.get("/portal/advertiser/invoices/")
    detail = client.get(f"/portal/advertiser/invoices/{own.pk}/")
    printable = client.get(f"/portal/advertiser/invoices/{own.pk}/print/")
    csv = client.get(f"/portal/advertiser/invoices/{own.pk}.csv")

    # then
    assert listed.status_code == 200
    page = listed.content.decode()
    assert own.number in page
    assert other.number not in page
    assert f"/portal/advertiser/invoices/{draft.pk}/" not in page
    assert detail.status_code == printable.status_code == 200
    for body in (detail.content.decode(), printable.content.decode()):
        assert "$1,234.50" in body  # total
        assert "$1,000.00" in body  # still due
        assert "SEPA-1" in body
    assert "@media print" not in printable.content.decode()  # the stylesheet is a file
    assert 'href="/static/portal/invoice.css"' in printable.content.decode()
    assert csv["Content-Disposition"] == f'attachment; filename="{own.number}.csv"'
    for path in (f"{draft.pk}/", f"{other.pk}/", f"{other.pk}/print/", f"{other.pk}.csv"):
        assert client.get(f"/portal/advertiser/invoices/{path}").status_code == 404
