"""The operator console: the Django admin with an index organised for daily work.

`ConsoleAdminSite` is the project's default admin site (installed by
`portal.apps.ConsoleAdminConfig` in place of `django.contrib.admin`), so `admin.site` and
`@admin.register` everywhere register on it unchanged. Its index adds the network's figures of
today and of this month and the approval queues (`portal.selectors.console_overview`) above the
usual list of models; `templates/admin/index.html` draws them.

Its login asks for the two-factor code of accounts that have it on (`ConsoleLoginForm`), and a
session that did not pass it is not let in while the account has a device or its role requires
one (`has_permission`), as django-otp's OTPAdminSite does for every account.
"""

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import path


class ConsoleAdminSite(admin.AdminSite):
    site_header = "ClickLedger operator console"
    site_title = "ClickLedger console"
    index_title = "Today on the network"
    login_template = "admin/console_login.html"

    @property
    def login_form(self):  # type: ignore[override]
        # Imported on use: the form reads models, which cannot load while the site is built.
        from portal.forms import ConsoleLoginForm

        return ConsoleLoginForm

    def has_permission(self, request: HttpRequest) -> bool:
        from accounts.two_factor import otp_session_is_satisfied

        return super().has_permission(request) and otp_session_is_satisfied(
            request,
            request.user,  # type: ignore[arg-type]  # logged in: super() checked is_active
        )

    def index(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        # Imported on use: the admin site is built while apps load, before models can be read.
        from portal.selectors import console_overview

        user = request.user
        if not user.is_authenticated:  # admin_view() lets only logged-in staff reach the index
            raise PermissionDenied
        context = {"console": console_overview(viewer=user), **(extra_context or {})}
        return super().index(request, extra_context=context)

    def get_urls(self):
        urls = super().get_urls()
        # Before the admin's catch-all pattern, which answers 404 to anything it does not know.
        return [
            path(
                "reports/fraud/",
                self.admin_view(self.fraud_report_view),
                name="fraud-report",
            ),
            *urls,
        ]

    def fraud_report_view(self, request: HttpRequest) -> TemplateResponse:
        """The fraud signals of the network's clicks and conversions per affiliate, campaign and
        signal (`reporting.services.fraud`), for staff who may read clicks and conversions."""
        from core.exceptions import ApplicationError
        from portal.forms import FraudReportForm
        from portal.selectors import fraud_report_table
        from reporting.services.fraud import fraud_report

        user = request.user
        if not (user.has_perm("tracker.view_click") and user.has_perm("tracker.view_conversion")):
            raise PermissionDenied
        form = FraudReportForm(request.GET or None)
        report = None
        if not form.is_bound or form.is_valid():
            try:
                report = fraud_report(
                    viewer=user,  # type: ignore[arg-type]  # admin_view: logged-in staff
                    query=form.report_query(),
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
        context = {
            **self.each_context(request),
            "title": "Fraud report",
            "form": form,
            "report": report,
            "report_table": fraud_report_table(report) if report else None,
        }
        return TemplateResponse(request, "admin/fraud_report.html", context)

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None):
        """The console's login form counts against the same per-client login limit as the
        API's and the portal's (accounts.throttling)."""
        from accounts.throttling import SCOPE_LOGIN
        from portal.views.shared import throttled_posts

        return throttled_posts(SCOPE_LOGIN)(super().login)(request, extra_context)
