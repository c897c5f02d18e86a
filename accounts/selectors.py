"""Who may see which accounts. An affiliate or advertiser sees only itself; admins see everyone."""

from django.db.models import QuerySet

from accounts.models import Advertiser, Affiliate, ApiKey, User
from core.exceptions import NotFoundError


def affiliate_list(*, viewer: User) -> QuerySet[Affiliate]:
    queryset = Affiliate.objects.select_related("user").order_by("user_id")
    if viewer.is_network_admin:
        return queryset
    if viewer.is_affiliate:
        return queryset.filter(user=viewer)
    return queryset.none()


def affiliate_get(*, viewer: User, affiliate_id: int) -> Affiliate:
    affiliate = affiliate_list(viewer=viewer).filter(user_id=affiliate_id).first()
    if affiliate is None:
        raise NotFoundError("Affiliate not found.")
    return affiliate


def advertiser_list(*, viewer: User) -> QuerySet[Advertiser]:
    queryset = Advertiser.objects.select_related("user").order_by("user_id")
    if viewer.is_network_admin:
        return queryset
    if viewer.is_advertiser:
        return queryset.filter(user=viewer)
    return queryset.none()


def advertiser_get(*, viewer: User, advertiser_id: int) -> Advertiser:
    advertiser = advertiser_list(viewer=viewer).filter(user_id=advertiser_id).first()
    if advertiser is None:
        raise NotFoundError("Advertiser not found.")
    return advertiser


def own_affiliate(user: User) -> Affiliate:
    """The affiliate profile of the logged-in affiliate (the permission class proved it exists)."""
    return affiliate_get(viewer=user, affiliate_id=user.pk)


def api_key_list(*, viewer: User) -> QuerySet[ApiKey]:
    """The viewer's own API keys, newest first. Keys are personal, admins' too: operators see
    everyone's in the console."""
    return ApiKey.objects.filter(user=viewer).order_by("-created", "-id")


def api_key_get(*, viewer: User, api_key_id: int) -> ApiKey:
    api_key = api_key_list(viewer=viewer).filter(pk=api_key_id).first()
    if api_key is None:
        raise NotFoundError("API key not found.")
    return api_key
