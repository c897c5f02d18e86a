"""Payout decisions in the admin; the ledger is visible here but never editable."""

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, TypedDict

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import OuterRef, QuerySet, Subquery, Sum
from django.http import HttpRequest, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from accounts.admin import PartnerLookupsMixin
from accounts.admin_actions import confirmed_action
from accounts.http import AuthenticatedHttpRequest
from core.exceptions import ApplicationError
from core.formatting import format_money
from core.models import AuditSource
from payouts import (
    exchange_rate_admin,  # noqa: F401 - registers ExchangeRateAdmin
    services,
)
from payouts.exports import payouts_csv
from payouts.models import (
    CREDIT_NORMAL_KINDS,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    PayoutEvent,
    PayoutRequest,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class PayoutEventInline(_ReadOnlyInline):
    model = PayoutEvent
    readonly_fields = ("created_at", "from_status", "to_status", "actor", "note")
    fields = readonly_fields


DEFAULT_REJECT_REASON = "Rejected by the network."


def _describe_payout(payout: PayoutRequest) -> str:
    return (
        f"#{payout.pk} {payout.affiliate}: {format_money(payout.amount, payout.currency)}"
        f" by {payout.get_method_display()} ({payout.status})"
    )


@admin.register(PayoutRequest)
class PayoutRequestAdmin(PartnerLookupsMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "affiliate",
        "amount_display",
        "currency",
        "method",
        "status",
        "reference",
        "created_at",
        "decided_at",
    ]
    list_filter = ["status", "currency", "method"]
    search_fields = ["affiliate__user__email", "affiliate__company", "reference"]
    list_select_related = ["affiliate__user"]
    readonly_fields = (
        "affiliate",
        "currency",
        "amount_display",
        "method",
        "payout_details",
        "status",
        "reference",
        "note",
        "created_at",
        "decided_at",
        "decided_by",
        "paid_at",
    )
    fields = readonly_fields
    inlines = [PayoutEventInline]
    actions = ["approve", "reject", "mark_paid", "export_csv"]

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, obj: PayoutRequest) -> str:
        return format_money(obj.amount, obj.currency)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Requests come from affiliates (API/portal): they lock ledger money, an admin form can't.
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def _decide(
        self,
        request: HttpRequest,
        queryset: QuerySet[PayoutRequest],
        label: str,
        decide: Callable[[PayoutRequest], object],
    ) -> None:
        done = 0
        for payout in queryset.order_by("id"):
            try:
                decide(payout)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"Payout #{payout.pk}: {exc.message}", messages.ERROR)
        self.message_user(request, f"{label}: {done} payout(s).", messages.SUCCESS)

    @confirmed_action(
        description="Approve selected payouts",
        question="Approve {count} {verbose_name}? Each affiliate is emailed; the money"
        " stays requested until you mark the payout paid.",
        button="Yes, approve",
        permissions=["change"],
        describe=_describe_payout,
    )
    def approve(self, request: AuthenticatedHttpRequest, queryset: QuerySet[PayoutRequest]) -> None:
        self._decide(
            request,
            queryset,
            "Approved",
            lambda payout: services.payout_approve(
                payout=payout, actor=request.user, source=AuditSource.CONSOLE
            ),
        )

    @confirmed_action(
        description="Reject selected payouts (the amount returns to available)",
        question="Reject {count} {verbose_name}? Each amount returns to the affiliate's"
        " available balance and the affiliate is emailed.",
        button="Yes, reject",
        permissions=["change"],
        reason_help=f"Sent to the affiliate; empty: “{DEFAULT_REJECT_REASON}”",
        describe=_describe_payout,
    )
    def reject(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet[PayoutRequest], reason: str = ""
    ) -> None:
        self._decide(
            request,
            queryset,
            "Rejected",
            lambda payout: services.payout_reject(
                payout=payout,
                actor=request.user,
                reason=reason or DEFAULT_REJECT_REASON,
                source=AuditSource.CONSOLE,
            ),
        )

    @admin.action(
        description="Mark selected payouts paid (asks for references)", permissions=["change"]
    )
    def mark_paid(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet[PayoutRequest]
    ) -> TemplateResponse | None:
        if request.POST.get("apply") != "yes":
            return TemplateResponse(
                request,
                "admin/payouts/payoutrequest/mark_paid.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Mark payouts paid",
                    "opts": self.model._meta,
                    "queryset": queryset.select_related("affiliate__user").order_by("id"),
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                },
            )
        paid = skipped = 0
        for payout in queryset.order_by("id"):
            reference = request.POST.get(f"reference_{payout.pk}", "").strip()
            if not reference:
                skipped += 1
                continue
            try:
                services.payout_mark_paid(
                    payout=payout,
                    actor=request.user,
                    reference=reference,
                    source=AuditSource.CONSOLE,
                )
                paid += 1
            except ApplicationError as exc:
                self.message_user(request, f"Payout #{payout.pk}: {exc.message}", messages.ERROR)
        self.message_user(
            request,
            f"Marked paid: {paid} payout(s); {skipped} left unchanged without a reference.",
            messages.SUCCESS,
        )
        return None

    @admin.action(description="Export selected payouts as CSV")
    def export_csv(self, request: HttpRequest, queryset: QuerySet) -> StreamingHttpResponse:
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response = StreamingHttpResponse(
            payouts_csv(queryset.order_by("id")), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="payouts-{stamp}.csv"'
        return response


class _ReadOnlyAdmin(PartnerLookupsMixin, admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class LedgerEntryInline(_ReadOnlyInline):
    model = LedgerEntry
    readonly_fields = ("account", "amount_display", "created_at")
    fields = readonly_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("account")

    @admin.display(description="Amount (debit +, credit -)")
    def amount_display(self, obj: LedgerEntry) -> str:
        return format_money(obj.amount, obj.account.currency)


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(_ReadOnlyAdmin):
    list_display = [
        "id",
        "kind",
        "reference_type",
        "reference_id",
        "memo",
        "actor",
        "created_at",
        "release_at",
    ]
    list_filter = ["kind", "reference_type"]
    search_fields = ["idempotency_key", "memo", "=reference_id"]
    list_select_related = ["actor"]
    inlines = [LedgerEntryInline]
    date_hierarchy = "created_at"


class _EntriesTotal(TypedDict):
    entries_total: Decimal | None


@admin.register(LedgerAccount)
class LedgerAccountAdmin(_ReadOnlyAdmin):
    list_display = ["id", "owner_type", "owner_id", "kind", "currency", "balance"]
    list_filter = ["owner_type", "kind", "currency"]
    search_fields = ["=owner_id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # A correlated subquery, not a join + GROUP BY: only the page's accounts are summed
        # (through the entry index), and the changelist's COUNT and filters stay plain.
        total = (
            LedgerEntry.objects.filter(account=OuterRef("pk"))
            .order_by()
            .values("account")
            .annotate(total=Sum("amount"))
            .values("total")
        )
        return super().get_queryset(request).annotate(entries_total=Subquery(total))

    @admin.display(description="Balance (as the owner sees it)")
    def balance(self, obj: "WithAnnotations[LedgerAccount, _EntriesTotal]") -> str:
        total = obj.entries_total or Decimal(0)
        return format_money(-total if obj.kind in CREDIT_NORMAL_KINDS else total, obj.currency)


# Invoices live in their own module; importing it registers their ModelAdmin.
from payouts import invoice_admin  # noqa: E402, F401
