"""The console's reconciliation pages: upload an advertiser's conversion list (the model's add
page), read the preview (its change page), apply chosen classes and download the result file.

Staff need `tracker.add_reconciliation` to upload, `view_reconciliation` to read, and both
`change_reconciliation` and `change_conversion` to apply (applying changes conversions). Every
write goes through `tracker.services.reconciliations`; nothing here saves a row.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedHttpRequest
from accounts.models import Advertiser
from campaigns.models import Campaign
from core.exceptions import ApplicationError
from core.models import AuditSource
from core.uploads import MULTIPART_OVERHEAD, upload_size_limited
from tracker import selectors
from tracker.models import ChangeSource, Reconciliation, RowClass
from tracker.reconciliation_files import MAX_FILE_BYTES, MAX_ROWS, reconciliation_result_lines

APPLY_PERMISSIONS = ("tracker.change_reconciliation", "tracker.change_conversion")
PAGE_ROWS = 200


class ReconciliationUploadForm(forms.Form):
    advertiser = forms.ModelChoiceField(
        queryset=Advertiser.objects.select_related("user").order_by("company"),
        help_text="Whose conversion list this is.",
    )
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.order_by("name"),
        required=False,
        help_text="Empty: all the advertiser's campaigns.",
    )
    date_from = forms.DateField(widget=AdminDateWidget, help_text="First day (UTC).")
    date_to = forms.DateField(widget=AdminDateWidget, help_text="Last day (UTC), inclusive.")
    file = forms.FileField(
        label="CSV file",
        help_text=(
            "Columns: transaction_id or click_id, status, and optionally amount, event, "
            f"currency. At most {MAX_FILE_BYTES // (1024 * 1024)} MB and {MAX_ROWS:,} rows."
        ),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        campaign, advertiser = cleaned.get("campaign"), cleaned.get("advertiser")
        if campaign and advertiser and campaign.advertiser_id != advertiser.pk:
            self.add_error("campaign", "This campaign belongs to another advertiser.")
        return cleaned


class ReconciliationApplyForm(forms.Form):
    classes = forms.MultipleChoiceField(
        choices=[
            (RowClass.STATUS_DIFFERS, "Status differs: move ours to their status"),
            (RowClass.AMOUNT_DIFFERS, "Amount differs: report only"),
            (RowClass.MISSING_HERE, "Missing here: report only"),
        ],
        widget=forms.CheckboxSelectMultiple,
    )


@admin.register(Reconciliation)
class ReconciliationAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "created_at",
        "advertiser",
        "campaign",
        "date_from",
        "date_to",
        "line_count",
        "status",
    ]
    list_filter = ["status"]
    list_select_related = ["advertiser__user", "campaign"]

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # The record of what was compared and applied stays.
        return False

    def get_urls(self) -> list:
        site = self.admin_site
        opts = self.model._meta
        name = f"{opts.app_label}_{opts.model_name}"
        upload = upload_size_limited(MAX_FILE_BYTES + MULTIPART_OVERHEAD)(self.add_view)
        return [
            path("add/", site.admin_view(upload), name=f"{name}_add"),
            path(
                "<path:object_id>/apply/",
                site.admin_view(require_POST(self.apply_view)),
                name=f"{name}_apply",
            ),
            path(
                "<path:object_id>/result.csv",
                site.admin_view(self.result_view),
                name=f"{name}_result",
            ),
            *super().get_urls(),
        ]

    def _context(self, request: HttpRequest, **extra: Any) -> dict[str, Any]:
        return {**self.admin_site.each_context(request), "opts": self.model._meta, **extra}

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None):
        """The upload page: a valid upload stores the preview and opens it."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        posted = request.method == "POST"
        form = ReconciliationUploadForm(
            request.POST if posted else None, request.FILES if posted else None
        )
        if posted and form.is_valid():
            from tracker.services.reconciliations import reconciliation_create

            data = form.cleaned_data
            upload = data["file"]
            try:
                reconciliation = reconciliation_create(
                    advertiser=data["advertiser"],
                    campaign=data["campaign"],
                    date_from=data["date_from"],
                    date_to=data["date_to"],
                    content=upload.read(MAX_FILE_BYTES + 1),
                    file_name=upload.name or "upload.csv",
                    actor=request.user,  # type: ignore[arg-type]
                )
            except ApplicationError as exc:
                form.add_error(
                    "date_to" if exc.code == "invalid_date_range" else "file", exc.message
                )
            else:
                return redirect(
                    reverse("admin:tracker_reconciliation_change", args=[reconciliation.pk])
                )
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request,
            "admin/tracker/reconciliation/upload.html",
            self._context(request, title="Reconcile an advertiser's conversion list", form=form),
        )

    def _get(self, request: AuthenticatedHttpRequest, object_id: str) -> Reconciliation:
        if not object_id.isdigit():
            raise PermissionDenied
        reconciliation = (
            selectors.reconciliation_list(viewer=request.user).filter(pk=int(object_id)).first()
        )
        if reconciliation is None:
            raise Http404("Reconciliation not found.")
        return reconciliation

    def change_view(self, request: HttpRequest, object_id: str, form_url="", extra_context=None):
        """The preview: totals per class, the first rows, the apply form and the result file."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        user_request: AuthenticatedHttpRequest = request  # type: ignore[assignment]
        reconciliation = self._get(user_request, object_id)
        rows = selectors.reconciliation_rows(reconciliation=reconciliation)
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request,
            "admin/tracker/reconciliation/detail.html",
            self._context(
                request,
                title=str(reconciliation),
                reconciliation=reconciliation,
                summary=selectors.reconciliation_summary_rows(
                    reconciliation=reconciliation, viewer=user_request.user
                ),
                rows=rows[:PAGE_ROWS],
                rows_total=rows.count(),
                page_rows=PAGE_ROWS,
                may_apply=request.user.has_perms(APPLY_PERMISSIONS),
                apply_form=ReconciliationApplyForm(),
            ),
        )

    def apply_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if not request.user.has_perms(APPLY_PERMISSIONS):
            raise PermissionDenied
        user_request: AuthenticatedHttpRequest = request  # type: ignore[assignment]
        reconciliation = self._get(user_request, object_id)
        form = ReconciliationApplyForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose the classes to apply.")
        else:
            from tracker.services.reconciliations import reconciliation_apply

            result = reconciliation_apply(
                reconciliation=reconciliation,
                classes=form.cleaned_data["classes"],
                actor=user_request.user,
                source=ChangeSource.ADMIN,
                audit_source=AuditSource.CONSOLE,
            )
            if result.outcomes:
                done = ", ".join(
                    f"{count} {name}" for name, count in sorted(result.outcomes.items())
                )
                messages.success(request, f"Applied: {done}.")
            else:
                messages.info(request, "Nothing left to apply in these classes.")
        return redirect(reverse("admin:tracker_reconciliation_change", args=[reconciliation.pk]))

    def result_view(self, request: HttpRequest, object_id: str) -> StreamingHttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        user_request: AuthenticatedHttpRequest = request  # type: ignore[assignment]
        reconciliation = self._get(user_request, object_id)
        response = StreamingHttpResponse(
            reconciliation_result_lines(reconciliation=reconciliation, viewer=user_request.user),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="reconciliation-{reconciliation.pk}.csv"'
        )
        return response
