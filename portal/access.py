"""Who may open a portal page: the role check of every view, and the domain errors they map.

Anonymous visitors go to the login page; partners whose account is not approved yet go to the
pending page; a user of another role gets 403. Owner scoping is the selectors' job: an object of
another tenant raises NotFoundError there, which answers 404 here, the same as a missing one.
"""

import functools
from collections.abc import Callable
from typing import Any, Generic, TypeVar, cast

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseBase
from django.shortcuts import redirect

from accounts.http import AuthenticatedHttpRequest
from accounts.models import Advertiser, Affiliate, Role
from core.exceptions import NotFoundError

_Profile = TypeVar("_Profile", Advertiser, Affiliate)
_View = Callable[..., HttpResponseBase]


class PortalRequest(AuthenticatedHttpRequest, Generic[_Profile]):
    """A request to a portal view: a logged-in partner of the portal's role, approved, whose
    profile row is `profile`."""

    profile: _Profile


AdvertiserRequest = PortalRequest[Advertiser]
AffiliateRequest = PortalRequest[Affiliate]


def portal_role_required(role: Role, profile_model: type[_Profile]) -> Callable[[_View], _View]:
    """Decorate a view of the `role` portal; the view gets `request.profile` (its partner row)."""

    def decorator(view: _View) -> _View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if user.is_network_admin or user.role != role:
                raise PermissionDenied("This page belongs to another role's portal.")
            profile = profile_model.objects.filter(user=user).first()
            if profile is None or not profile.is_approved:
                return redirect("portal:pending")
            # The checks above made it one: the user is logged in and has the approved profile.
            portal_request = cast("PortalRequest[_Profile]", request)
            portal_request.profile = profile
            try:
                return view(portal_request, *args, **kwargs)
            except NotFoundError as exc:
                raise Http404(exc.message) from exc

        return wrapper

    return decorator


advertiser_required = portal_role_required(Role.ADVERTISER, Advertiser)
affiliate_required = portal_role_required(Role.AFFILIATE, Affiliate)
