"""Exchange rates in the console: the table (entered rates go through `exchange_rate_set`, so
they are audited like the API's) and the CSV upload page, which previews by default."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import path

from accounts.http import AuthenticatedHttpRequest
from core.exceptions import ApplicationError
from core.models import AuditSource
from payouts import exchange_rates
from payouts.models import ExchangeRate, ExchangeRateSource

# A CSV of rates has a few dozen bytes a line: 5 MB is years of daily rates of every currency.
IMPORT_MAX_BYTES = 5 * 1024 * 1024


class ExchangeRateForm(forms.ModelForm):
    class Meta:
        model = ExchangeRate
        fields = ["date", "from_currency", "to_currency", "rate"]
        help_texts = {"rate": "1 from currency = rate to currency on that day."}

    def _code(self, name: str) -> str:
        try:
            return exchange_rates.currency_code_parse(self.cleaned_data.get(name) or "")
        except ValueError:
            raise forms.ValidationError("Use an ISO 4217 code, e.g. EUR.") from None

    def clean_from_currency(self) -> str:
        return self._code("from_currency")

    def clean_to_currency(self) -> str:
        return self._code("to_currency")

    def clean_rate(self):
        try:
            return exchange_rates.rate_parse(self.cleaned_data.get("rate"))
        except ValueError as error:
            raise forms.ValidationError(f"A positive rate is needed ({error}).") from None

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        if cleaned.get("from_currency") and cleaned.get("from_currency") == cleaned.get(
            "to_currency"
        ):
            self.add_error("to_currency", "Must differ from the from currency.")
        return cleaned


class ExchangeRateImportForm(forms.Form):
    file = forms.FileField(help_text="CSV with the header date,from_currency,to_currency,rate.")
    dry_run = forms.BooleanField(
        required=False,
        initial=True,
        label="Dry run",
        help_text="Check and show every row without writing anything.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > IMPORT_MAX_BYTES:
            raise forms.ValidationError(f"The file is larger than {IMPORT_MAX_BYTES} bytes.")
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError("The file is not UTF-8 text.") from None


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    form = ExchangeRateForm
    list_display = ("date", "from_currency", "to_currency", "rate", "source", "updated_at")
    list_filter = ("source", "from_currency", "to_currency")
    search_fields = ("from_currency", "to_currency")
    date_hierarchy = "date"
    ordering = ("-date", "from_currency", "to_currency")
    change_list_template = "admin/payouts/exchangerate/change_list.html"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # A row is one day of one pair: changing it means its rate, nothing else.
        if obj is not None:
            return ("date", "from_currency", "to_currency", "source", "updated_at")
        return ()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A wrong rate is corrected, not removed: the table is the record of the rates used.
        return False

    def save_model(self, request: HttpRequest, obj: ExchangeRate, form, change: bool) -> None:
        row, _ = exchange_rates.exchange_rate_set(
            on=obj.date,
            from_currency=obj.from_currency,
            to_currency=obj.to_currency,
            rate=obj.rate,
            source=ExchangeRateSource.MANUAL,
            actor=request.user,
            audit_source=AuditSource.CONSOLE,
        )
        obj.pk, obj.source, obj.updated_at = row.pk, row.source, row.updated_at

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="payouts_exchangerate_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request: AuthenticatedHttpRequest) -> TemplateResponse:
        """Upload a CSV: a dry run shows what each row would do; a real run writes all rows or,
        when any row has an error, none."""
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        report = None
        form = ExchangeRateImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                report = exchange_rates.exchange_rates_import(
                    text=form.cleaned_data["file"],
                    dry_run=form.cleaned_data["dry_run"],
                    actor=request.user,
                    audit_source=AuditSource.CONSOLE,
                )
            except ApplicationError as error:
                form.add_error("file", error.message)
            else:
                if report.errors:
                    self.message_user(
                        request,
                        f"{len(report.errors)} row(s) have errors: nothing was written.",
                        messages.ERROR,
                    )
                elif report.written:
                    self.message_user(
                        request, f"Imported {len(report.rows)} row(s).", messages.SUCCESS
                    )
        return TemplateResponse(
            request,
            "admin/payouts/exchangerate/import.html",
            {
                **self.admin_site.each_context(request),
                "title": "Import exchange rates",
                "opts": self.model._meta,
                "form": form,
                "report": report,
            },
        )
