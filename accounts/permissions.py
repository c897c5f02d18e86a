"""Role checks for API views. Owner scoping is the selectors' job, not these classes'."""

from rest_framework.permissions import BasePermission

from accounts.models import Advertiser, Affiliate, ApprovalStatus


class IsNetworkAdmin(BasePermission):
    message = "Only network admins may do this."

    def has_permission(self, request, view) -> bool:
        return bool(
            request.user and request.user.is_authenticated and request.user.is_network_admin
        )


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
