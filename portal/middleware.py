"""Two-factor enrolment comes first: a user whose role must use it and who has not set it up
reaches no other portal or console page (accounts.two_factor, settings.OTP_REQUIRED_ROLES)."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from accounts.two_factor import otp_is_enabled, otp_is_required, otp_session_is_verified

# The pages such a user may still open: the enrolment page itself, and the ways out.
_ALLOWED_URL_NAMES = ("portal:two-factor", "portal:logout", "admin:logout", "logout")
_GUARDED_PREFIXES = ("/portal/", "/admin/")


class TwoFactorEnrolmentMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._must_enrol(request):
            return redirect("portal:two-factor")
        return self.get_response(request)

    def _must_enrol(self, request: HttpRequest) -> bool:
        if not request.path.startswith(_GUARDED_PREFIXES):
            return False
        user = request.user
        # The role test needs no query, so pages of roles that need no second factor cost none.
        if not user.is_authenticated or not otp_is_required(user):
            return False
        if request.path in {reverse(name) for name in _ALLOWED_URL_NAMES}:
            return False
        return not otp_session_is_verified(request) and not otp_is_enabled(user)
