"""Who may see which campaigns, applications and links.

One function per resource decides visibility, and a forbidden object answers exactly like a
missing one (NotFoundError, 404). Admins see everything; an advertiser sees its own campaigns
and what hangs off them; an affiliate sees the campaigns it may promote and its own rows.
"""

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import Affiliate, ApprovalStatus, User
from campaigns.models import (
    AccessStatus,
    Campaign,
    CampaignAccess,
    CampaignStatus,
    PartnerKey,
    TrackingLink,
    Visibility,
)
from core.exceptions import NotFoundError

# An access row lets an affiliate see a private campaign while it is pending (it was invited or
# asked) or approved; a rejected or revoked affiliate no longer sees it at all.
_ACCESS_STATUSES_THAT_SHOW_PRIVATE = (AccessStatus.PENDING, AccessStatus.APPROVED)


def _campaigns_visible_to_affiliate(affiliate_id: int) -> QuerySet[Campaign]:
    has_access = CampaignAccess.objects.filter(
        campaign=OuterRef("pk"),
        affiliate_id=affiliate_id,
        status__in=_ACCESS_STATUSES_THAT_SHOW_PRIVATE,
    )
    return (
        Campaign.objects.exclude(status=CampaignStatus.ARCHIVED)
        .alias(has_access=Exists(has_access))
        .filter(
            Q(visibility__in=(Visibility.PUBLIC, Visibility.APPROVAL))
            | Q(visibility=Visibility.PRIVATE, has_access=True)
        )
    )


def campaign_list(*, viewer: User) -> QuerySet[Campaign]:
    """Admin: all; advertiser: its own (archived included); affiliate: not archived, and public,
    approval, or private with a pending/approved access row of its own; anyone else: none."""
    if viewer.is_network_admin:
        queryset = Campaign.objects.all()
    elif viewer.is_advertiser:
        queryset = Campaign.objects.filter(advertiser_id=viewer.pk)
    elif viewer.is_affiliate:
        queryset = _campaigns_visible_to_affiliate(viewer.pk)
    else:
        queryset = Campaign.objects.none()
    return queryset.select_related("advertiser__user").prefetch_related("caps").order_by("-id")


def campaign_get(*, viewer: User, campaign_id: int) -> Campaign:
    campaign = campaign_list(viewer=viewer).filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFoundError("Campaign not found.")
    return campaign


def campaign_get_for_affiliate(*, affiliate: Affiliate, campaign_id: int) -> Campaign:
    """A campaign the affiliate may see (same rule as `campaign_list`), else NotFoundError."""
    campaign = (
        _campaigns_visible_to_affiliate(affiliate.pk)
        .select_related("advertiser")
        .filter(pk=campaign_id)
        .first()
    )
    if campaign is None:
        raise NotFoundError("Campaign not found.")
    return campaign


def access_list(*, viewer: User) -> QuerySet[CampaignAccess]:
    """Admin: all applications; advertiser: those to its campaigns; affiliate: its own."""
    queryset = CampaignAccess.objects.select_related(
        "campaign", "affiliate__user", "decided_by"
    ).order_by("-id")
    if viewer.is_network_admin:
        return queryset
    if viewer.is_advertiser:
        return queryset.filter(campaign__advertiser_id=viewer.pk)
    if viewer.is_affiliate:
        return queryset.filter(affiliate_id=viewer.pk)
    return queryset.none()


def access_get(*, viewer: User, access_id: int) -> CampaignAccess:
    access = access_list(viewer=viewer).filter(pk=access_id).first()
    if access is None:
        raise NotFoundError("Application not found.")
    return access


def affiliate_get_for_invitation(
    *, viewer: User, affiliate_id: int | None = None, email: str = ""
) -> Affiliate:
    """The affiliate an admin or an advertiser names to invite, by id or by email: any
    affiliate of the network (an advertiser invites affiliates it has not worked with yet),
    whatever its approval status, which the invitation itself checks. Anyone else, or no such
    affiliate: NotFoundError."""
    if not (viewer.is_network_admin or viewer.is_advertiser):
        raise NotFoundError("Affiliate not found.")
    queryset = Affiliate.objects.select_related("user")
    if affiliate_id is not None:
        affiliate = queryset.filter(user_id=affiliate_id).first()
    elif email.strip():
        affiliate = queryset.filter(user__email__iexact=email.strip()).first()
    else:
        affiliate = None
    if affiliate is None:
        raise NotFoundError("Affiliate not found.")
    return affiliate


def affiliate_list_for_invitation(*, viewer: User) -> QuerySet[Affiliate]:
    """Approved affiliates to offer on an invitation form. Admins: every one. An advertiser:
    those that already applied to or work on one of its campaigns, never the network's whole
    roster (it may still invite anyone by id or email). Anyone else: none."""
    queryset = Affiliate.objects.filter(status=ApprovalStatus.APPROVED).select_related("user")
    if viewer.is_network_admin:
        pass
    elif viewer.is_advertiser:
        worked_with = CampaignAccess.objects.filter(
            affiliate=OuterRef("pk"), campaign__advertiser_id=viewer.pk
        )
        queryset = queryset.filter(Exists(worked_with))
    else:
        queryset = queryset.none()
    return queryset.order_by("company", "user__email")


def link_list(*, viewer: User) -> QuerySet[TrackingLink]:
    """Admin: all links; advertiser: links to its campaigns; affiliate: its own."""
    queryset = TrackingLink.objects.select_related("campaign", "affiliate__user").order_by("-id")
    if viewer.is_network_admin:
        return queryset
    if viewer.is_advertiser:
        return queryset.filter(campaign__advertiser_id=viewer.pk)
    if viewer.is_affiliate:
        return queryset.filter(affiliate_id=viewer.pk)
    return queryset.none()


def link_get(*, viewer: User, link_id: int) -> TrackingLink:
    link = link_list(viewer=viewer).filter(pk=link_id).first()
    if link is None:
        raise NotFoundError("Link not found.")
    return link


def partner_key_list(*, viewer: User) -> QuerySet[PartnerKey]:
    """Admin: all keys; advertiser: its own; anyone else: none."""
    if viewer.is_network_admin:
        queryset = PartnerKey.objects.all()
    elif viewer.is_advertiser:
        queryset = PartnerKey.objects.filter(advertiser_id=viewer.pk)
    else:
        queryset = PartnerKey.objects.none()
    return queryset.order_by("-id")


def partner_key_get(*, viewer: User, partner_key_id: int) -> PartnerKey:
    partner_key = partner_key_list(viewer=viewer).filter(pk=partner_key_id).first()
    if partner_key is None:
        raise NotFoundError("Partner key not found.")
    return partner_key
