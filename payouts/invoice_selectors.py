"""Who may see which invoice: admins all, an advertiser its own issued and paid ones (never a
draft or a voided one), nobody else any. A hidden invoice is missing (404)."""

from django.db.models import QuerySet

from accounts.models import User
from core.exceptions import NotFoundError
from payouts.models import Invoice, InvoiceStatus

ADVERTISER_VISIBLE_STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.PAID)


def invoice_list(*, viewer: User) -> QuerySet[Invoice]:
    queryset = Invoice.objects.select_related("advertiser__user").order_by("-period_start", "-id")
    if viewer.is_network_admin:
        return queryset
    if viewer.is_advertiser:
        return queryset.filter(advertiser_id=viewer.pk, status__in=ADVERTISER_VISIBLE_STATUSES)
    return queryset.none()


def invoice_get(*, viewer: User, invoice_id: int) -> Invoice:
    """One invoice with its lines and payments, or NotFoundError."""
    invoice = (
        invoice_list(viewer=viewer)
        .prefetch_related("lines", "payments")
        .filter(pk=invoice_id)
        .first()
    )
    if invoice is None:
        raise NotFoundError("Invoice not found.")
    return invoice
