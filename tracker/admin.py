"""Django admin for tracking data: read-only views of clicks, conversions, postback logs, points.

Nothing here writes a tracking row directly. The one write, reversing conversions, goes through
`tracker.services.conversions.conversion_status_change` so history, points and forwarding happen
exactly as for any other status change. Click and postback tables grow to millions of rows: their
changelists never run a full-table COUNT(*) (see `EstimatedCountPaginator`).
"""

import json
from collections.abc import Callable
from functools import cached_property
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import OperationalError, connections, transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils.html import format_html

from accounts.admin import PartnerLookupsMixin
from accounts.admin_actions import confirmed_action
from accounts.http import AuthenticatedHttpRequest
from campaigns.models import Campaign, ConversionEvent
from core.exceptions import ApplicationError
from core.formatting import format_money, format_number
from core.models import AuditSource
from tracker.explain import conversion_trace
from tracker.ip_lists import ip_list_delete, ip_list_load_file
from tracker.models import (
    ChangeSource,
    Click,
    Conversion,
    ConversionHistory,
    ConversionStatus,
    EndUserPoints,
    IpList,
    IpListKind,
    PostbackLog,
)

# The whole changelist should answer within 200 ms: the exact count may take a quarter of it.
COUNT_TIMEOUT_MS = 50


class EstimatedCountPaginator(Paginator):
    """An exact count when it is cheap, the planner's estimate when it is not.

    On PostgreSQL the COUNT(*) runs under a short statement timeout inside a savepoint; when it
    times out, the row estimate of `EXPLAIN` stands in (pages past the real end then answer the
    admin's usual "page out of range" redirect). Other databases count exactly.
    """

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return super().count
        connection = connections[queryset.db]
        if connection.vendor != "postgresql":
            return super().count
        try:
            with transaction.atomic(using=queryset.db), connection.cursor() as cursor:
                cursor.execute("SHOW statement_timeout")
                previous = cursor.fetchone()[0]
                cursor.execute(f"SET LOCAL statement_timeout = {COUNT_TIMEOUT_MS}")
                exact = queryset.count()
                # SET LOCAL outlives a released savepoint: put the caller's value back.
                cursor.execute("SELECT set_config('statement_timeout', %s, true)", [previous])
                return exact
        except OperationalError:
            return self._estimate(queryset, connection)

    @staticmethod
    def _estimate(queryset: QuerySet, connection) -> int:
        query_sql, params = queryset.order_by().query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {query_sql}", params)
            plan = cursor.fetchone()[0]
        if isinstance(plan, str):
            plan = json.loads(plan)
        return int(plan[0]["Plan"]["Plan Rows"])


def _pretty_json(value: Any) -> str:
    return format_html(
        '<pre class="console-pre">{}</pre>',
        json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str),
    )


class EventCodeFilter(admin.SimpleListFilter):
    """By conversion event code (`lead` on every campaign); the codes come from the events
    table, not from a scan of the conversions."""

    title = "event"
    parameter_name = "event"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        codes = ConversionEvent.objects.order_by("code").values_list("code", flat=True).distinct()
        return [(code, code) for code in codes[:200]]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        return queryset.filter(event__code=value) if value else queryset


class FraudSignalsFilter(admin.SimpleListFilter):
    """Rows that raised any fraud signal, or none (on PostgreSQL the clicks' flagged rows are
    read through a partial index)."""

    title = "fraud signals"
    parameter_name = "fraud"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Has fraud signals"), ("no", "No fraud signals")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        flagged = ~Q(fraud_signals=[])
        if self.value() == "yes":
            return queryset.filter(flagged)
        if self.value() == "no":
            return queryset.exclude(flagged)
        return queryset


def _fraud_flag(signals: list[str]) -> str:
    if not signals:
        return "-"
    return format_html('<span class="fraud-flag">⚑ {}</span>', ", ".join(signals))


class ReadOnlyAdmin(PartnerLookupsMixin, admin.ModelAdmin):
    """Tracking rows are facts written by the services: view them, never edit or delete them."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ExactSearchMixin:
    """Search by exact, case-sensitive value on indexed columns (ids and keys are tokens).

    Django's `=field` search is `iexact` (UPPER(...) = UPPER(...)), which no plain index serves.
    """

    exact_search_fields: tuple[str, ...] = ()

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        term = search_term.strip()
        if not term:
            return queryset, False
        condition = Q()
        for name in self.exact_search_fields:
            condition |= Q(**{name: term})
        return queryset.filter(condition), False


@admin.register(Click)
class ClickAdmin(ExactSearchMixin, ReadOnlyAdmin):
    list_display = [
        "click_id",
        "created_at",
        "campaign",
        "affiliate",
        "country",
        "device_display",
        "sub1",
        "sub2",
        "is_unique",
        "blocked_reason",
        "fraud_display",
        "ip",
    ]
    # No date_hierarchy: it reads MIN/MAX and every distinct month or day of the (filtered)
    # table before drawing, a full scan of the largest table. The date filter is a range.
    list_filter = [
        ("created_at", admin.DateFieldListFilter),
        "campaign",
        "affiliate",
        "blocked_reason",
        "is_unique",
        FraudSignalsFilter,
        "device_type",
    ]
    list_select_related = ["campaign", "affiliate__user"]
    search_fields = ["click_id"]  # shows the search box; the matching is get_search_results
    search_help_text = (
        "Exact click id; a term that is no click id is matched against sub1 to sub5 (no index:"
        " narrow by date, campaign or affiliate first on a large table)."
    )
    exact_search_fields = ("sub1", "sub2", "sub3", "sub4", "sub5")
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50
    fieldsets = (
        (None, {"fields": ("click_id", "created_at", "link", "campaign", "affiliate")}),
        (
            "Visitor",
            {
                "fields": (
                    "ip",
                    "country",
                    "user_agent",
                    "device_type",
                    "os",
                    "browser",
                    "referer",
                    "fingerprint",
                )
            },
        ),
        (
            "Result",
            {
                "fields": (
                    "is_unique",
                    "blocked_reason",
                    "fraud_display",
                    "landing_page",
                    "smart_link",
                )
            },
        ),
        ("Sub ids", {"fields": ("sub1", "sub2", "sub3", "sub4", "sub5", "user_id")}),
        ("Other parameters", {"fields": ("extra_pretty",)}),
    )
    readonly_fields = ["extra_pretty", "fraud_display"]

    @admin.display(description="Extra parameters")
    def extra_pretty(self, obj: Click) -> str:
        return _pretty_json(obj.extra)

    @admin.display(description="Device")
    def device_display(self, obj: Click) -> str:
        return " · ".join(part for part in (obj.device_type, obj.os, obj.browser) if part) or "-"

    @admin.display(description="Fraud signals")
    def fraud_display(self, obj: Click) -> str:
        return _fraud_flag(obj.fraud_signals)

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        """A click id through its unique index; only a term that is none reads the sub ids."""
        term = search_term.strip()
        if term and Click.objects.filter(click_id=term).exists():
            return queryset.filter(click_id=term), False
        return super().get_search_results(request, queryset, search_term)


class ConversionHistoryInline(admin.TabularInline):
    model = ConversionHistory
    extra = 0
    can_delete = False
    readonly_fields = (
        "created_at",
        "from_status",
        "to_status",
        "revenue_display",
        "payout_display",
        "source",
        "actor",
        "reason",
        "partner_status",
        "postback_log_id",
    )
    fields = readonly_fields
    ordering = ["id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("conversion")

    @admin.display(description="Revenue")
    def revenue_display(self, obj: ConversionHistory) -> str:
        return format_money(obj.revenue, obj.conversion.currency)

    @admin.display(description="Payout")
    def payout_display(self, obj: ConversionHistory) -> str:
        return format_money(obj.payout, obj.conversion.currency)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


def _describe_conversion(conversion: Conversion) -> str:
    return (
        f"#{conversion.pk} · {conversion.status} · {conversion.campaign} · {conversion.affiliate}"
        f" · click {conversion.click.click_id}"
        f" · {format_money(conversion.payout, conversion.currency)}"
    )


def _not_approved_warning(queryset: QuerySet) -> str:
    count = queryset.exclude(status=ConversionStatus.APPROVED).count()
    if not count:
        return ""
    return (
        f"{count} of them {'is' if count == 1 else 'are'} not approved; only approved conversions"
        " can be reversed, the others will be reported and left as they are."
    )


def _bulk_preview_warning(action: str) -> Callable[[QuerySet[Conversion]], str]:
    """The confirmation page's line for a bulk approve/reject: what it acts on and the money
    it books, from the same service run as a dry run (so the page shows what the apply does)."""

    def warning(queryset: QuerySet[Conversion]) -> str:
        from tracker.services.reconciliations import conversions_bulk

        preview = conversions_bulk(
            selection=queryset,
            ids=None,
            action=action,
            dry_run=True,
            actor=None,
            source=ChangeSource.ADMIN,
        )
        money = "; ".join(
            f"revenue {format_money(amounts['revenue'], currency)}, "
            f"payout {format_money(amounts['payout'], currency)}"
            for currency, amounts in sorted(preview.money.items())
        )
        skipped = queryset.exclude(status=ConversionStatus.PENDING).count()
        parts = [f"{preview.count} pending conversion(s) will be {action}d"]
        if action == "approve" and money:
            parts.append(f"booking {money}")
        if skipped:
            parts.append(f"{skipped} not pending are left as they are")
        return "; ".join(parts) + "."

    return warning


def _bulk_decide(
    request: AuthenticatedHttpRequest, queryset: QuerySet[Conversion], *, action: str, reason: str
) -> str:
    from tracker.services.reconciliations import conversions_bulk

    try:
        result = conversions_bulk(
            selection=queryset,
            ids=None,
            action=action,
            dry_run=False,
            actor=request.user,
            source=ChangeSource.ADMIN,
            reason=reason,
            audit_source=AuditSource.CONSOLE,
        )
    except ApplicationError as exc:
        return exc.message
    return f"{action.capitalize()}d {result.count} pending conversion(s)."


def _has_decide_permission(request: HttpRequest) -> bool:
    return request.user.has_perm("tracker.change_conversion")


@admin.register(Conversion)
class ConversionAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "created_at",
        "status",
        "campaign",
        "event_code",
        "affiliate",
        "click_id_display",
        "transaction_id",
        "pricing_rule_display",
        "revenue_display",
        "payout_display",
        "currency",
        "device_display",
        "fraud_display",
    ]
    list_filter = ["status", EventCodeFilter, FraudSignalsFilter, "campaign", "affiliate"]
    list_select_related = ["campaign", "affiliate__user", "click", "event"]
    search_fields = ["transaction_id"]  # shows the search box; see get_search_results
    search_help_text = "Exact click id or transaction id."
    date_hierarchy = "created_at"
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    inlines = [ConversionHistoryInline]
    actions = ["reverse_with_reason", "approve_pending", "reject_pending"]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "click",
                    "campaign",
                    "event",
                    "pricing_rule",
                    "affiliate",
                    "partner_key",
                    "status",
                    "reason",
                    "fraud_display",
                    "created_at",
                    "updated_at",
                    "approved_at",
                )
            },
        ),
        (
            "Money",
            {
                "fields": (
                    "currency",
                    "revenue_display",
                    "payout_display",
                    "points_display",
                    "original_display",
                )
            },
        ),
        (
            "Partner's identifiers",
            {"fields": ("transaction_id", "external_conversion_id", "offer_id", "dedupe_slot")},
        ),
        (
            "End user",
            {"fields": ("user_id", "country", "ip", "user_agent", "device_id", "sub_ids_pretty")},
        ),
        ("Custom data", {"fields": ("custom_data_pretty",)}),
        ("Why", {"fields": ("explanation",)}),
    )
    readonly_fields = [
        "fraud_display",
        "explanation",
        "revenue_display",
        "payout_display",
        "points_display",
        "original_display",
        "sub_ids_pretty",
        "custom_data_pretty",
    ]

    @admin.display(description="Decision trace")
    def explanation(self, obj: Conversion) -> str:
        # The console is the operator's: the whole trace, unredacted.
        if obj.pk is None:
            return ""
        trace = conversion_trace(conversion_id=obj.pk)
        return render_to_string("tracker/_conversion_explanation.html", {"explanation": trace})

    @admin.display(description="Revenue", ordering="revenue")
    def revenue_display(self, obj: Conversion) -> str:
        return format_money(obj.revenue, obj.currency)

    @admin.display(description="Payout", ordering="payout")
    def payout_display(self, obj: Conversion) -> str:
        return format_money(obj.payout, obj.currency)

    @admin.display(description="Points awarded")
    def points_display(self, obj: Conversion) -> str:
        return format_number(obj.points_awarded, places=2)

    @admin.display(description="Partner's payout")
    def original_display(self, obj: Conversion) -> str:
        # Set when the postback paid in another currency than the campaign's.
        if not obj.original_currency or obj.original_amount is None:
            return "-"
        return (
            f"{format_money(obj.original_amount, obj.original_currency)} at 1 "
            f"{obj.original_currency} = {obj.exchange_rate} {obj.currency}"
        )

    @admin.display(description="Click", ordering="click__click_id")
    def click_id_display(self, obj: Conversion) -> str:
        return obj.click.click_id

    @admin.display(description="Device")
    def device_display(self, obj: Conversion) -> str:
        click = obj.click
        return (
            " · ".join(part for part in (click.device_type, click.os, click.browser) if part) or "-"
        )

    @admin.display(description="Fraud signals")
    def fraud_display(self, obj: Conversion) -> str:
        return _fraud_flag(obj.fraud_signals)

    @admin.display(description="Event", ordering="event__code")
    def event_code(self, obj: Conversion) -> str:
        return obj.event.code

    @admin.display(description="Pricing rule")
    def pricing_rule_display(self, obj: Conversion) -> str:
        return f"#{obj.pricing_rule_id}" if obj.pricing_rule_id else "event terms"

    @admin.display(description="Sub ids")
    def sub_ids_pretty(self, obj: Conversion) -> str:
        return _pretty_json(obj.sub_ids)

    @admin.display(description="Custom data")
    def custom_data_pretty(self, obj: Conversion) -> str:
        return _pretty_json(obj.custom_data)

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        """A click id or a transaction id, both through an index: the click's unique id, and
        the (campaign, transaction id) key probed for every campaign (a small table), so a
        search never scans the conversions (transaction ids are unique per campaign only)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        click_ids = list(Click.objects.filter(click_id=term).values_list("pk", flat=True))
        campaign_ids = list(Campaign.objects.values_list("pk", flat=True))
        condition = Q(click_id__in=click_ids) | Q(campaign_id__in=campaign_ids, transaction_id=term)
        return queryset.filter(condition), False

    def has_reverse_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("tracker.change_conversion")

    @confirmed_action(
        description="Reverse selected conversions (asks for a reason)",
        question="Reverse {count} {verbose_name}? A reversal is final: the affiliate's payout and"
        " end-user points are taken back, the change is added to each conversion's history and"
        " forwarded to the affiliate's postback endpoints.",
        button="Reverse with this reason",
        permissions=["reverse"],
        reason_help="Recorded in each conversion's history and sent with the reversal.",
        reason_required=True,
        warning=_not_approved_warning,
        describe=_describe_conversion,
    )
    def reverse_with_reason(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet[Conversion], reason: str
    ) -> None:
        """Reverses each conversion through the conversion service, one transaction each;
        refusals are reported per row."""
        # Imported on use: admin autodiscovery must not pull in the service layer (and, through
        # it, the forwarding tasks).
        from tracker.services.conversions import conversion_status_change

        reversed_count = 0
        for conversion_id in queryset.values_list("pk", flat=True):
            try:
                conversion_status_change(
                    conversion_id=conversion_id,
                    status=ConversionStatus.REVERSED,
                    actor=request.user,
                    reason=reason,
                    source=ChangeSource.ADMIN,
                    audit_source=AuditSource.CONSOLE,
                )
            except ApplicationError as exc:
                self.message_user(
                    request, f"Conversion #{conversion_id}: {exc.message}", messages.ERROR
                )
            else:
                reversed_count += 1
        self.message_user(request, f"Reversed {reversed_count} conversion(s).", messages.SUCCESS)

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return _has_decide_permission(request)

    @confirmed_action(
        description="Approve selected pending conversions (with a preview)",
        question="Approve the pending ones of {count} {verbose_name}? Each goes through the"
        " status machine: history, ledger, end-user points and forwarding.",
        button="Approve",
        permissions=["decide"],
        reason_help="Recorded in each conversion's history (default: bulk approve).",
        warning=_bulk_preview_warning("approve"),
        describe=_describe_conversion,
    )
    def approve_pending(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet[Conversion], reason: str
    ) -> None:
        self.message_user(request, _bulk_decide(request, queryset, action="approve", reason=reason))

    @confirmed_action(
        description="Reject selected pending conversions (with a preview)",
        question="Reject the pending ones of {count} {verbose_name}? Each goes through the"
        " status machine and is forwarded to the affiliate.",
        button="Reject",
        permissions=["decide"],
        reason_help="Recorded in each conversion's history (default: bulk reject).",
        warning=_bulk_preview_warning("reject"),
        describe=_describe_conversion,
    )
    def reject_pending(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet[Conversion], reason: str
    ) -> None:
        self.message_user(request, _bulk_decide(request, queryset, action="reject", reason=reason))


@admin.register(PostbackLog)
class PostbackLogAdmin(ExactSearchMixin, ReadOnlyAdmin):
    list_display = [
        "received_at",
        "outcome",
        "http_status",
        "code",
        "method",
        "endpoint",
        "click_id",
        "transaction_id",
        "source_ip",
        "key",
    ]
    list_filter = ["outcome", "http_status", "code"]
    list_select_related = ["partner_key"]
    search_fields = ["click_id"]  # shows the search box; see exact_search_fields
    search_help_text = "Exact click id, transaction id or partner key."
    exact_search_fields = ("click_id", "transaction_id", "key")
    date_hierarchy = "received_at"
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "id",
                    "received_at",
                    "endpoint",
                    "method",
                    "key",
                    "partner_key",
                    "source_ip",
                )
            },
        ),
        (
            "Result",
            {
                "fields": (
                    "outcome",
                    "http_status",
                    "code",
                    "message",
                    "warnings_pretty",
                    "conversion",
                    "click_id",
                    "transaction_id",
                )
            },
        ),
        (
            "Request as received",
            {"fields": ("query_string", "content_type", "body_pretty", "params_pretty")},
        ),
    )
    readonly_fields = ["warnings_pretty", "body_pretty", "params_pretty"]

    @admin.display(description="Parsed parameters")
    def params_pretty(self, obj: PostbackLog) -> str:
        return _pretty_json(obj.params)

    @admin.display(description="Warnings")
    def warnings_pretty(self, obj: PostbackLog) -> str:
        return _pretty_json(obj.warnings)

    @admin.display(description="Body")
    def body_pretty(self, obj: PostbackLog) -> str:
        body = obj.body
        if "json" in obj.content_type:
            try:
                return _pretty_json(json.loads(body))
            except ValueError:
                pass
        return format_html('<pre class="console-pre">{}</pre>', body)


@admin.register(EndUserPoints)
class EndUserPointsAdmin(ReadOnlyAdmin):
    list_display = ["user_id", "affiliate", "points_display", "updated_at"]
    list_filter = ["affiliate"]
    list_select_related = ["affiliate__user"]
    search_fields = ["=user_id"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    @admin.display(description="Points", ordering="points")
    def points_display(self, obj: EndUserPoints) -> str:
        return format_number(obj.points, places=2)


# The reconciliation pages (upload, preview, apply, result file) and their model.
from tracker import admin_reconciliations  # noqa: E402, F401


class IpListUploadForm(forms.Form):
    kind = forms.ChoiceField(label="Kind", choices=IpListKind.choices)
    name = forms.CharField(
        label="Name", max_length=100, help_text="A list with this name and kind is replaced."
    )
    file = forms.FileField(label="File", help_text="Text, one address, CIDR or range per line.")
    skip_invalid = forms.BooleanField(
        label="Skip unusable lines",
        required=False,
        help_text="Load the usable lines and list the others; otherwise any refuses the file.",
    )


@admin.register(IpList)
class IpListAdmin(admin.ModelAdmin):
    """The operator's deny and data-center lists. Adding is the upload page (a file, loaded by
    `ip_list_load_file`); a list is replaced by uploading it again under its name, never edited
    row by row; deleting goes through `ip_list_delete`, which takes its addresses out of the
    kind's union."""

    list_display = ["name", "kind", "entry_count", "range_count", "loaded_at", "source"]
    list_filter = ["kind"]
    search_fields = ["name"]
    readonly_fields = ["kind", "name", "source", "loaded_at", "entry_count", "range_count"]
    fields = ["kind", "name", "source", "loaded_at", "entry_count", "range_count"]

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # Viewable (the detail page is read-only); never edited.
        return obj is None and super().has_change_permission(request, obj)

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = IpListUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = ip_list_load_file(
                    kind=form.cleaned_data["kind"],
                    name=form.cleaned_data["name"],
                    file=upload,
                    source=upload.name,
                    skip_invalid=form.cleaned_data["skip_invalid"],
                    actor=request.user,
                    audit_source=AuditSource.CONSOLE,
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
                for lines in (exc.fields or {}).values():
                    for line in lines:
                        form.add_error(None, line)
            else:
                skipped = result.bad_lines
                self.message_user(
                    request,
                    f"{result.ip_list}: {format_number(result.entries)} entries in "
                    f"{format_number(result.ranges)} ranges loaded.",
                    messages.SUCCESS,
                )
                if skipped:
                    shown = "; ".join(
                        f"line {number}: {text!r}" for number, text, _ in skipped[:20]
                    )
                    self.message_user(
                        request, f"{len(skipped)} line(s) skipped: {shown}", messages.WARNING
                    )
                return redirect("admin:tracker_iplist_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Upload an IP list",
            "form": form,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/tracker/iplist/upload.html", context)

    def delete_model(self, request: HttpRequest, obj: IpList) -> None:
        ip_list_delete(ip_list=obj, actor=request.user, audit_source=AuditSource.CONSOLE)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for ip_list in queryset.order_by("id"):
            ip_list_delete(ip_list=ip_list, actor=request.user, audit_source=AuditSource.CONSOLE)
