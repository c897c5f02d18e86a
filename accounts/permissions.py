"""Role checks for API views. Owner scoping is the selectors' job, not these classes'.

Admins are superusers and staff. A superuser may use every admin route. A staff user (or a user
of the admin role) may use one only with the Django permissions the view names for the request's
method in `admin_permissions` (see `staff_permissions`): `view_<model>` to read, `add_`,
`change_` or `delete_<model>` to act. A method the view names no permissions for is the
superusers' alone. `IsNetworkAdmin` decides this, and every permission class that lets admins
in goes through it, so this is the one place where the API's admin rights are decided.
"""

from collections.abc import Mapping

from rest_framework import exceptions
from rest_framework.permissions import BasePermission

from accounts.api_keys import user_may_use_api
from accounts.models import Advertiser, Affiliate, ApiKey, ApprovalStatus

_READS = ("GET", "HEAD", "OPTIONS")


def staff_permissions(model: str, **actions: str | tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """`admin_permissions` of a view on `model` ("app_label.modelname"): `view_<model>` for the
    safe methods, and for each method given (`POST="change"`) that action on the model; a tuple
    names full permissions instead (`POST=("payouts.change_payoutrequest", ...)`)."""
    app_label, model_name = model.split(".")
    read = (f"{app_label}.view_{model_name}",)
    permissions: dict[str, tuple[str, ...]] = dict.fromkeys(_READS, read)
    for method, action in actions.items():
        needed = action if isinstance(action, tuple) else (f"{app_label}.{action}_{model_name}",)
        permissions[method.upper()] = needed
    return permissions


def staff_permissions_missing(user, view, method: str) -> list[str] | None:
    """The Django permissions `user` (an admin) lacks for `method` on `view`: [] when it has
    them all, None when the view names none for the method (superusers only)."""
    if user.is_superuser:
        return []
    declared: Mapping[str, tuple[str, ...]] = getattr(view, "admin_permissions", {})
    needed = declared.get(method.upper())
    if needed is None and method.upper() in _READS:
        needed = declared.get("GET")
    if needed is None:
        return None
    return [permission for permission in needed if not user.has_perm(permission)]


class IsNetworkAdmin(BasePermission):
    message = "Only network admins may do this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_network_admin):
            return False
        missing = staff_permissions_missing(user, view, request.method or "")
        if missing is None:
            raise exceptions.PermissionDenied("Only superusers may do this.")
        if missing:
            raise exceptions.PermissionDenied(
                "Your staff account lacks the permission " + ", ".join(missing) + "."
            )
        return True


class _IsApprovedPartner(BasePermission):
    profile_model: type[Advertiser] | type[Affiliate] = Affiliate
    role_attr = "is_affiliate"

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and getattr(user, self.role_attr)):
            return False
        return self.profile_model.objects.filter(user=user, status=ApprovalStatus.APPROVED).exists()


class IsApprovedAffiliate(_IsApprovedPartner):
    message = "Only approved affiliates may do this."
    profile_model = Affiliate
    role_attr = "is_affiliate"


class IsApprovedAdvertiser(_IsApprovedPartner):
    message = "Only approved advertisers may do this."
    profile_model = Advertiser
    role_attr = "is_advertiser"


class IsAdminOrApprovedAdvertiser(BasePermission):
    message = "Only network admins and approved advertisers may do this."

    def has_permission(self, request, view) -> bool:
        return IsNetworkAdmin().has_permission(
            request, view
        ) or IsApprovedAdvertiser().has_permission(request, view)


class IsAdminOrApprovedAffiliate(BasePermission):
    message = "Only network admins and approved affiliates may do this."

    def has_permission(self, request, view) -> bool:
        return IsNetworkAdmin().has_permission(
            request, view
        ) or IsApprovedAffiliate().has_permission(request, view)


class IsAnyApprovedRole(BasePermission):
    """Admins, approved advertisers and approved affiliates: the readers of scoped lists."""

    message = "Only network admins, approved advertisers and approved affiliates may do this."

    def has_permission(self, request, view) -> bool:
        return IsAdminOrApprovedAdvertiser().has_permission(
            request, view
        ) or IsApprovedAffiliate().has_permission(request, view)


class IsApprovedUser(BasePermission):
    """Any admin or staff user, and approved partners: for what every account does for itself
    (its own API keys), which needs no model permission."""

    message = "Only approved accounts may do this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user_may_use_api(user))


class NotApiKey(BasePermission):
    """Refuses requests authenticated by an API key: managing keys needs a login (JWT or the
    session), so that a leaked key cannot make or revoke keys."""

    def has_permission(self, request, view) -> bool:
        if isinstance(request.auth, ApiKey):
            raise exceptions.PermissionDenied(
                "Log in (JWT or session) to manage API keys; an API key may not.",
                code="login_required",
            )
        return True
