"""Payout decisions in the admin; the ledger is visible here but never editable, except through
manual adjustments (their own page, posting through the ledger service)."""

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, TypedDict

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import DecimalField, OuterRef, QuerySet, Subquery, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from accounts.admin import PartnerLookupsMixin
from accounts.admin_actions import confirmed_action
from accounts.http import AuthenticatedHttpRequest
from accounts.models import User
from core.currencies import CURRENCY_CODES
from core.exceptions import ApplicationError
from core.formatting import format_money
from core.models import AuditSource
from core.money_fields import SignedMoneyFormField
from payouts import (
    adjustments,
    exchange_rate_admin,  # noqa: F401 - registers ExchangeRateAdmin
    services,
)
from payouts.exports import payouts_csv
from payouts.models import (
    CREDIT_NORMAL_KINDS,
    AccountKind,
    LedgerAccount,
    LedgerAdjustment,
    LedgerEntry,
    LedgerTransaction,
    OwnerType,
    PayoutEvent,
    PayoutMethod,
    PayoutRequest,
)
from payouts.payout_methods import payout_method_summary
from payouts.selectors import adjustment_from_entry

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
        "payout_method_display",
        "available_display",
        "status",
        "reference",
        "created_at",
        "decided_at",
    ]
    list_filter = ["status", "currency", "method"]
    search_fields = ["affiliate__user__email", "affiliate__company", "reference"]
    list_select_related = ["affiliate__user", "payout_method"]
    readonly_fields = (
        "affiliate",
        "currency",
        "amount_display",
        "method",
        "payout_method_display",
        "available_display",
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

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # The affiliate's available balance in the payout's currency, now: a correlated subquery
        # per row of the page, through the entry index (as the ledger accounts' changelist).
        available = (
            LedgerEntry.objects.filter(
                account__owner_type=OwnerType.AFFILIATE,
                account__owner_id=OuterRef("affiliate_id"),
                account__kind=AccountKind.AVAILABLE,
                account__currency=OuterRef("currency"),
            )
            .order_by()
            .values("account__owner_id")
            .annotate(total=Sum("amount"))
            .values("total")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                available_total=Subquery(
                    available, output_field=DecimalField(max_digits=18, decimal_places=4)
                )
            )
        )

    @admin.display(description="Payout method")
    def payout_method_display(self, obj: PayoutRequest) -> str:
        if obj.payout_method is None:
            return self.get_empty_value_display()
        return payout_method_summary(obj.payout_method)

    @admin.display(description="Available balance now")
    def available_display(self, obj: "WithAnnotations[PayoutRequest, _AvailableTotal]") -> str:
        # Credit-normal account: the affiliate's balance is the negated sum.
        return format_money(-(obj.available_total or Decimal(0)), obj.currency)

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


class _AvailableTotal(TypedDict):
    available_total: Decimal | None


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


@admin.register(PayoutMethod)
class PayoutMethodAdmin(_ReadOnlyAdmin):
    """Read-only: only the affiliate changes its payout methods (with its password), so that
    where its money goes is never changed behind its back."""

    list_display = ["id", "affiliate", "kind", "summary", "is_default", "archived_at", "updated_at"]
    list_filter = ["kind", "is_default"]
    search_fields = ["affiliate__user__email", "affiliate__company", "label"]
    list_select_related = ["affiliate__user"]
    fields = (
        "affiliate",
        "kind",
        "label",
        "details",
        "is_default",
        "archived_at",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    @admin.display(description="Method")
    def summary(self, obj: PayoutMethod) -> str:
        return payout_method_summary(obj)


class AdjustmentForm(forms.Form):
    owner_type = forms.ChoiceField(
        choices=[(OwnerType.AFFILIATE, "Affiliate"), (OwnerType.ADVERTISER, "Advertiser")]
    )
    owner_id = forms.IntegerField(
        min_value=1, label="Owner id", help_text="The affiliate's or advertiser's id."
    )
    amount = SignedMoneyFormField(
        max_digits=18,
        decimal_places=4,
        help_text="Signed: positive credits the affiliate's available balance, or bills the "
        "advertiser more; negative takes back, or is a credit note.",
    )
    currency = forms.ChoiceField(choices=[(code, code) for code in sorted(CURRENCY_CODES)])
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Shown to the owner on its statement.",
    )


@admin.register(LedgerAdjustment)
class LedgerAdjustmentAdmin(_ReadOnlyAdmin):
    """The manual adjustments: listed like the ledger, and posted from the add page (a form of
    its own that calls the adjustment service: ledger rows are never saved by a model form)."""

    list_display = ["id", "owner", "amount_display", "memo", "actor", "created_at"]
    search_fields = ["memo", "idempotency_key"]
    list_select_related = ["actor"]
    inlines = [LedgerEntryInline]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.add_{opts.model_name}")

    def _owner_entry(self, obj: LedgerAdjustment) -> LedgerEntry | None:
        return (
            obj.entries.select_related("account", "transaction__actor")
            .exclude(account__owner_type=OwnerType.NETWORK)
            .first()
        )

    @admin.display(description="Owner")
    def owner(self, obj: LedgerAdjustment) -> str:
        entry = self._owner_entry(obj)
        if entry is None:
            return self.get_empty_value_display()
        return f"{entry.account.owner_type} {entry.account.owner_id}"

    @admin.display(description="Amount (as the owner's balance moved)")
    def amount_display(self, obj: LedgerAdjustment) -> str:
        entry = self._owner_entry(obj)
        if entry is None:
            return self.get_empty_value_display()
        adjustment = adjustment_from_entry(entry)
        return format_money(adjustment.amount, adjustment.currency)

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = AdjustmentForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                result = adjustments.adjustment_post(
                    **form.cleaned_data,
                    # The admin site only lets logged-in staff this far.
                    actor=request.user if isinstance(request.user, User) else None,
                    source=AuditSource.CONSOLE,
                )
            except ApplicationError as exc:
                for name, problems in exc.fields.items():
                    for problem in problems:
                        form.add_error(name if name in form.fields else None, problem)
                if not exc.fields:
                    form.add_error(None, exc.message)
            else:
                adjustment = result.adjustment
                self.message_user(
                    request,
                    f"Adjustment #{adjustment.id} posted: "
                    f"{format_money(adjustment.amount, adjustment.currency)} for "
                    f"{adjustment.owner_type} {adjustment.owner_id}.",
                    messages.SUCCESS,
                )
                opts = self.opts
                return HttpResponseRedirect(
                    reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
                )
        return TemplateResponse(
            request,
            "admin/payouts/ledgeradjustment/add.html",
            {
                **self.admin_site.each_context(request),
                **(extra_context or {}),
                "title": "Post a manual adjustment",
                "opts": self.opts,
                "form": form,
            },
        )


# Invoices live in their own module; importing it registers their ModelAdmin.
from payouts import invoice_admin  # noqa: E402, F401
