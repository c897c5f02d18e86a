"""The account's two-factor authentication page: set up an authenticator app (secret, otpauth
URI and QR code; a code from the app confirms it), see the ten recovery codes once, turn it off
with a code. Every logged-in user has it, admins too: a role that must use two-factor
authentication is sent here before any other page (portal.middleware)."""

import django_otp
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.http import AuthenticatedHttpRequest
from accounts.models import Role
from accounts.services import partner_profile_of
from accounts.two_factor import (
    otp_disable,
    otp_enrolment_confirm,
    otp_enrolment_pending,
    otp_enrolment_start,
    otp_is_enabled,
    otp_is_required,
    otp_recovery_codes_left,
)
from core.exceptions import ApplicationError
from portal.forms import OtpForm, service_errors_apply

_ROLE_BASES: dict[str, str] = {
    Role.ADVERTISER: "portal/advertiser/base.html",
    Role.AFFILIATE: "portal/affiliate/base.html",
}


def _base_template(request: AuthenticatedHttpRequest) -> str:
    """Inside the partner's portal once it is approved and needs no enrolment; else the bare
    layout (admins, pending partners, and whoever must set up two-factor first)."""
    user = request.user
    if user.is_network_admin or (otp_is_required(user) and not otp_is_enabled(user)):
        return "portal/base.html"
    partner = partner_profile_of(user)
    if partner is None or not partner.is_approved:
        return "portal/base.html"
    return _ROLE_BASES[user.role]


@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    action = request.POST.get("action", "")
    form = OtpForm(request.POST if action in ("confirm", "disable") else None)
    if action == "start":
        try:
            otp_enrolment_start(user=user)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect("portal:two-factor")
    if action == "confirm" and form.is_valid():
        try:
            device, codes = otp_enrolment_confirm(user=user, token=form.cleaned_data["otp"])
        except ApplicationError as exc:
            service_errors_apply(form, exc)
        else:
            django_otp.login(request, device)  # the code just typed is this session's 2nd factor
            return render(
                request,
                "portal/two_factor_codes.html",
                {"base_template": _base_template(request), "codes": codes},
            )
    if action == "disable" and form.is_valid():
        try:
            otp_disable(user=user, token=form.cleaned_data["otp"])
        except ApplicationError as exc:
            service_errors_apply(form, exc)
        else:
            messages.success(request, "Two-factor authentication is off.")
            return redirect("portal:two-factor")
    enabled = otp_is_enabled(user)
    return render(
        request,
        "portal/two_factor.html",
        {
            "base_template": _base_template(request),
            "enabled": enabled,
            "required": otp_is_required(user),
            "enrolment": None if enabled else otp_enrolment_pending(user),
            "recovery_codes_left": otp_recovery_codes_left(user) if enabled else 0,
            "form": form,
        },
    )
