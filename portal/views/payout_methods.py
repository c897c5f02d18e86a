"""The affiliate's payout methods: list, add (one kind at a time), edit, remove.

Every change asks for the password again; the `payouts.payout_methods` services check it, the
details, write the audit log and email the affiliate. Each POST counts against the user's
`reauthentication` limit, shared with the API's payout method changes.
"""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.throttling import SCOPE_REAUTHENTICATION
from core.exceptions import ApplicationError
from core.models import AuditSource
from payouts import payout_methods
from payouts.models import PayoutMethodKind
from payouts.selectors import payout_method_get, payout_method_list
from portal.access import AffiliateRequest, affiliate_required
from portal.forms import PayoutMethodForm, ReauthenticationForm, service_errors_apply
from portal.views.shared import throttled_posts


def _rows(request: AffiliateRequest) -> list[tuple]:
    return [
        (method, payout_methods.payout_method_summary(method, with_label=False))
        for method in payout_method_list(viewer=request.user, include_archived=True)
    ]


@affiliate_required
def payout_method_list_view(request: AffiliateRequest) -> HttpResponse:
    return render(
        request,
        "portal/affiliate/payout_methods.html",
        {"rows": _rows(request), "kinds": PayoutMethodKind.choices},
    )


@affiliate_required
@require_http_methods(["GET", "POST"])
@throttled_posts(SCOPE_REAUTHENTICATION)
def payout_method_add(request: AffiliateRequest, kind: str) -> HttpResponse:
    if kind not in PayoutMethodKind.values:
        raise Http404("No such kind of payout method.")
    form = PayoutMethodForm(request.POST or None, kind=kind)
    if request.method == "POST" and form.is_valid():
        try:
            method = payout_methods.payout_method_create(
                affiliate=request.profile,
                actor=request.user,
                password=form.cleaned_data["password"],
                kind=kind,
                details=form.details(),
                label=form.cleaned_data["label"],
                is_default=form.cleaned_data["is_default"],
                source=AuditSource.PORTAL,
            )
        except ApplicationError as exc:
            service_errors_apply(form, exc)
        else:
            summary = payout_methods.payout_method_summary(method)
            messages.success(request, f"Payout method added: {summary}.")
            return redirect("portal:affiliate-payout-methods")
    return render(
        request,
        "portal/affiliate/payout_method_form.html",
        {"form": form, "kind_label": PayoutMethodKind(kind).label, "method": None},
    )


@affiliate_required
@require_http_methods(["GET", "POST"])
@throttled_posts(SCOPE_REAUTHENTICATION)
def payout_method_edit(request: AffiliateRequest, payout_method_id: int) -> HttpResponse:
    method = payout_method_get(viewer=request.user, payout_method_id=payout_method_id)
    if method.is_archived:
        raise Http404("This payout method was removed.")
    form = PayoutMethodForm(
        request.POST or None,
        kind=method.kind,
        initial={"label": method.label, "is_default": method.is_default, **method.details},
    )
    if request.method == "POST" and form.is_valid():
        try:
            method = payout_methods.payout_method_update(
                method=method,
                actor=request.user,
                password=form.cleaned_data["password"],
                details=form.details(),
                label=form.cleaned_data["label"],
                # Unticking the default is not a change: another method is made the default.
                is_default=True if form.cleaned_data["is_default"] else None,
                source=AuditSource.PORTAL,
            )
        except ApplicationError as exc:
            service_errors_apply(form, exc)
        else:
            messages.success(request, "Payout method saved.")
            return redirect("portal:affiliate-payout-methods")
    return render(
        request,
        "portal/affiliate/payout_method_form.html",
        {"form": form, "kind_label": method.get_kind_display(), "method": method},
    )


@affiliate_required
@require_POST
@throttled_posts(SCOPE_REAUTHENTICATION)
def payout_method_remove(request: AffiliateRequest, payout_method_id: int) -> HttpResponse:
    method = payout_method_get(viewer=request.user, payout_method_id=payout_method_id)
    form = ReauthenticationForm(request.POST)
    if form.is_valid():
        try:
            outcome = payout_methods.payout_method_archive(
                method=method,
                actor=request.user,
                password=form.cleaned_data["password"],
                source=AuditSource.PORTAL,
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                "Payout method archived: payout requests made with it keep its details."
                if outcome == payout_methods.ACTION_ARCHIVED
                else "Payout method deleted.",
            )
    else:
        messages.error(request, "Confirm the removal with your current password.")
    return redirect("portal:affiliate-payout-methods")
