"""Who may open a portal page: the role check of every view, and the domain errors they map.

Anonymous visitors go to the login page; partners whose account is not approved yet go to the
pending page; a user of another role gets 403. Owner scoping is the selectors' job: an object of
another tenant raises NotFoundError there, which answers 404 here, the same as a missing one.
"""

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from accounts.models import Advertiser, Affiliate, Role
from core.exceptions import NotFoundError

_PROFILE_MODELS = {Role.ADVERTISER: Advertiser, Role.AFFILIATE: Affiliate}


def portal_role_required(role: str) -> Callable:
    """Decorate a view of the `role` portal; the view gets `request.profile` (its partner row)."""
    profile_model = _PROFILE_MODELS[Role(role)]

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if user.is_network_admin or user.role != role:
                raise PermissionDenied("This page belongs to another role's portal.")
            profile = profile_model.objects.filter(user=user).first()
            if profile is None or not profile.is_approved:
                return redirect("portal:pending")
            request.profile = profile
            try:
                return view(request, *args, **kwargs)
            except NotFoundError as exc:
                raise Http404(exc.message) from exc

        return wrapper

    return decorator


advertiser_required = portal_role_required(Role.ADVERTISER)
affiliate_required = portal_role_required(Role.AFFILIATE)
