"""Advertiser invoices in the console: list with filters, lines and payments inline, actions
that issue, record a payment and void drafts (each through payouts.invoices)."""

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse

from accounts.admin import PartnerLookupsMixin
from accounts.admin_actions import confirmed_action
from accounts.http import AuthenticatedHttpRequest
from core.exceptions import ApplicationError
from core.formatting import format_money
from core.models import AuditSource
from core.money_fields import MoneyFormField
from payouts import invoices
from payouts.invoice_exports import invoices_csv
from payouts.models import Invoice, InvoiceLine, InvoicePayment


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        # Lines and payments go through `payouts.invoices`: each is money on the ledger.
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="Amount")
    def amount_display(self, obj) -> str:
        return format_money(obj.amount, obj.invoice.currency)


class InvoiceLineInline(_ReadOnlyInline):
    model = InvoiceLine
    readonly_fields = (
        "kind",
        "description",
        "quantity",
        "amount_display",
        "is_manual",
        "campaign_id",
    )
    fields = readonly_fields


class InvoicePaymentInline(_ReadOnlyInline):
    model = InvoicePayment
    readonly_fields = (
        "amount_display",
        "paid_at",
        "reference",
        "ledger_transaction",
        "recorded_by",
    )
    fields = readonly_fields


class InvoicePaymentForm(forms.Form):
    reference = forms.CharField(max_length=255, help_text="The bank or processor reference.")
    amount = MoneyFormField(
        required=False,
        max_digits=18,
        decimal_places=4,
        help_text="Empty: each selected invoice's whole amount due.",
    )
    paid_at = forms.DateTimeField(required=False, help_text="Empty: now.")


def _describe(invoice: Invoice) -> str:
    return (
        f"{invoice.number or f'draft #{invoice.pk}'} {invoice.advertiser}: "
        f"{format_money(invoice.amount_due, invoice.currency)} due ({invoice.status})"
    )


@admin.register(Invoice)
class InvoiceAdmin(PartnerLookupsMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "number",
        "advertiser",
        "period_start",
        "period_end",
        "currency",
        "total_display",
        "due_display",
        "status",
        "issued_at",
        "due_at",
    ]
    list_filter = ["status", "currency", "period_start", "advertiser"]
    search_fields = ["number", "advertiser__company", "advertiser__user__email"]
    list_select_related = ["advertiser__user"]
    date_hierarchy = "period_start"
    readonly_fields = (
        "advertiser",
        "currency",
        "period_start",
        "period_end",
        "number",
        "status",
        "total_display",
        "paid_display",
        "due_display",
        "created_at",
        "computed_at",
        "issued_at",
        "issued_by",
        "due_at",
        "paid_at",
        "voided_at",
    )
    fields = readonly_fields
    inlines = [InvoiceLineInline, InvoicePaymentInline]
    actions = ["issue", "record_payment", "void", "export_csv"]

    @admin.display(description="Total", ordering="total")
    def total_display(self, obj: Invoice) -> str:
        return format_money(obj.total, obj.currency)

    @admin.display(description="Paid")
    def paid_display(self, obj: Invoice) -> str:
        return format_money(obj.amount_paid, obj.currency)

    @admin.display(description="Due")
    def due_display(self, obj: Invoice) -> str:
        return format_money(obj.amount_due, obj.currency)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Drafts come from the monthly task or `POST /api/invoices`, derived from the ledger.
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def _each(
        self,
        request: HttpRequest,
        queryset: QuerySet[Invoice],
        label: str,
        act: Callable[[Invoice], object],
    ) -> None:
        done = 0
        for invoice in queryset.order_by("id"):
            try:
                act(invoice)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"{_describe(invoice)}: {exc.message}", messages.ERROR)
        self.message_user(request, f"{label}: {done} invoice(s).", messages.SUCCESS)

    @confirmed_action(
        description="Issue selected drafts (numbers them; they can no longer change)",
        question="Issue {count} {verbose_name}? Each gets the next number and its manual lines"
        " are posted to the ledger.",
        button="Yes, issue",
        permissions=["change"],
        describe=_describe,
    )
    def issue(self, request: AuthenticatedHttpRequest, queryset: QuerySet[Invoice]) -> None:
        self._each(
            request,
            queryset,
            "Issued",
            lambda invoice: invoices.invoice_issue(
                invoice_id=invoice.pk, actor=request.user, source=AuditSource.CONSOLE
            ),
        )

    @confirmed_action(
        description="Record a payment on selected invoices",
        question="Record a payment on {count} {verbose_name}?",
        button="Record payment",
        permissions=["change"],
        describe=_describe,
        form_factory=lambda request, data: InvoicePaymentForm(data),
    )
    def record_payment(
        self,
        request: AuthenticatedHttpRequest,
        queryset: QuerySet[Invoice],
        reference: str,
        amount=None,
        paid_at=None,
    ) -> None:
        self._each(
            request,
            queryset,
            "Payment recorded",
            lambda invoice: invoices.invoice_payment_record(
                invoice_id=invoice.pk,
                amount=amount if amount is not None else invoice.amount_due,
                paid_at=paid_at,
                reference=reference,
                actor=request.user,
                source=AuditSource.CONSOLE,
            ),
        )

    @confirmed_action(
        description="Void selected drafts",
        question="Void {count} {verbose_name}? Their periods can then be drafted again.",
        button="Yes, void",
        permissions=["change"],
        describe=_describe,
    )
    def void(self, request: AuthenticatedHttpRequest, queryset: QuerySet[Invoice]) -> None:
        self._each(
            request,
            queryset,
            "Voided",
            lambda invoice: invoices.invoice_void(
                invoice_id=invoice.pk, actor=request.user, source=AuditSource.CONSOLE
            ),
        )

    @admin.action(description="Export selected invoices as CSV (lines and totals)")
    def export_csv(self, request: HttpRequest, queryset: QuerySet) -> StreamingHttpResponse:
        selected = queryset.order_by("id").prefetch_related("lines")
        response = StreamingHttpResponse(
            invoices_csv(selected.iterator(chunk_size=200)), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = 'attachment; filename="invoices.csv"'
        return response
