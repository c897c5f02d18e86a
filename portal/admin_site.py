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

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None):
        """The console's login form counts against the same per-client login limit as the
        API's and the portal's (accounts.throttling)."""
        from accounts.throttling import SCOPE_LOGIN
        from portal.views.shared import throttled_posts

        return throttled_posts(SCOPE_LOGIN)(super().login)(request, extra_context)
