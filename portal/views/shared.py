"""Pages every visitor shares: login (with its two-factor step), logout, signup, password
reset, the pending page, the portal home and the site's root."""

import time
from collections.abc import Callable
from functools import wraps

import django_otp
from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView, LogoutView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_http_methods, require_safe

from accounts.http import AuthenticatedHttpRequest
from accounts.models import Role, User
from accounts.services import partner_profile_of, user_register
from accounts.throttling import (
    SCOPE_LOGIN,
    SCOPE_REGISTER,
    auth_throttle_hit,
)
from accounts.two_factor import otp_is_enabled, otp_login_check
from core.exceptions import ApplicationError
from portal.forms import LoginForm, OtpForm, SignupForm, service_errors_apply

# Between the password and the code, the session holds who is logging in (not logged in yet).
_PENDING_LOGIN_KEY = "portal_login_pending"
# A password that was right stays good for the code step this long.
PENDING_LOGIN_SECONDS = 300


def throttled_posts(scope: str) -> Callable:
    """View decorator: each POST counts against `scope`'s per-client limit, the same counter as
    the API's (accounts.throttling); over it, a 429 page with `Retry-After`, and the form is not
    processed."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method == "POST":
                wait = auth_throttle_hit(request=request, scope=scope)
                if wait is not None:
                    response = render(
                        request,
                        "portal/throttled.html",
                        {"wait_minutes": -(-wait // 60)},
                        status=429,
                    )
                    response["Retry-After"] = str(wait)
                    return response
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


@require_safe
def site_root(request: HttpRequest) -> HttpResponse:
    """`/`: staff to the console, partners to their portal, everyone else to the login page."""
    user = request.user
    if not user.is_authenticated:
        return redirect("portal:login")
    if user.is_network_admin:
        return redirect("admin:index")
    return redirect("portal:home")


@method_decorator(throttled_posts(SCOPE_LOGIN), name="dispatch")
class PortalLoginView(LoginView):
    """The password step. A user with two-factor authentication on is not logged in here: the
    session remembers the user for a few minutes and the code step (`login_code`) finishes."""

    template_name = "portal/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        if not otp_is_enabled(user):
            return super().form_valid(form)
        self.request.session[_PENDING_LOGIN_KEY] = {
            "user_id": user.pk,
            "backend": user.backend,
            "next": self.get_redirect_url(),
            "at": int(time.time()),
        }
        return redirect("portal:login-code")


def _pending_login(request: HttpRequest) -> tuple[User, dict] | None:
    pending = request.session.get(_PENDING_LOGIN_KEY)
    if not isinstance(pending, dict) or time.time() - pending["at"] > PENDING_LOGIN_SECONDS:
        return None
    user = User.objects.filter(pk=pending["user_id"], is_active=True).first()
    return (user, pending) if user is not None else None


@require_http_methods(["GET", "POST"])
@throttled_posts(SCOPE_LOGIN)
def login_code(request: HttpRequest) -> HttpResponse:
    """The code step of a login: a code from the authenticator app, or a recovery code."""
    found = _pending_login(request)
    if found is None:
        request.session.pop(_PENDING_LOGIN_KEY, None)
        return redirect("portal:login")
    user, pending = found
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = otp_login_check(user=user, token=form.cleaned_data["otp"])
        except ApplicationError as exc:
            service_errors_apply(form, exc)
        else:
            del request.session[_PENDING_LOGIN_KEY]
            login(request, user, backend=pending["backend"])
            django_otp.login(request, device)  # this session passed the second factor
            return redirect(pending["next"] or resolve_url(settings.LOGIN_REDIRECT_URL))
    return render(request, "portal/login_code.html", {"form": form})


class PortalLogoutView(LogoutView):
    next_page = "portal:login"


@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Send each role to its own portal; admins work in the Django admin."""
    user = request.user
    if user.is_network_admin:
        return redirect("admin:index")
    profile = partner_profile_of(user)
    if profile is None or not profile.is_approved:
        return redirect("portal:pending")
    if user.role == Role.ADVERTISER:
        return redirect("portal:advertiser-dashboard")
    return redirect("portal:affiliate-dashboard")


@require_http_methods(["GET", "POST"])
@throttled_posts(SCOPE_REGISTER)
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("portal:home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = user_register(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                role=form.cleaned_data["role"],
                name=form.cleaned_data["name"],
                company=form.cleaned_data["company"],
            )
        except ApplicationError as exc:
            service_errors_apply(form, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("portal:pending")
    return render(request, "portal/signup.html", {"form": form})


@login_required
def pending(request: AuthenticatedHttpRequest) -> HttpResponse:
    """What a partner whose account is not approved (yet) sees instead of its portal."""
    profile = partner_profile_of(request.user)
    if request.user.is_network_admin or (profile is not None and profile.is_approved):
        return redirect("portal:home")
    return render(request, "portal/pending.html", {"profile": profile})


_PROFILE_BASES: dict[str, str] = {
    Role.ADVERTISER: "portal/advertiser/base.html",
    Role.AFFILIATE: "portal/affiliate/base.html",
}


@login_required
def profile(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The signed-in partner's own account as the network holds it (read-only: the network
    changes company, status and payout details), with the link to change the password.

    A partner not approved (yet) sees it too, outside its portal's navigation; admins keep
    their account in the Django admin.
    """
    user = request.user
    if user.is_network_admin:
        return redirect("admin:index")
    partner = partner_profile_of(user)
    is_in_portal = partner is not None and partner.is_approved
    return render(
        request,
        "portal/profile.html",
        {
            "base_template": _PROFILE_BASES[user.role] if is_in_portal else "portal/base.html",
            "partner": partner,
            "is_affiliate": user.role == Role.AFFILIATE,
        },
    )
