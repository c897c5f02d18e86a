"""Who may see which campaigns, applications and links.

One function per resource decides visibility, and a forbidden object answers exactly like a
missing one (NotFoundError, 404). Admins see everything; an advertiser sees its own campaigns
and what hangs off them; an affiliate sees the campaigns it may promote and its own rows.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from accounts.models import Affiliate, ApprovalStatus, User
from campaigns.models import (
    AccessStatus,
    Campaign,
    CampaignAccess,
    CampaignStatus,
    ConversionEvent,
    PartnerKey,
    PricingRule,
    SmartLink,
    SmartLinkEntry,
    TrackingLink,
    Visibility,
)
from campaigns.pricing_rules import pricing_rule_sort_key
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


def event_list(*, viewer: User, campaign: Campaign) -> QuerySet[ConversionEvent]:
    """The events of a campaign the viewer may see (the caller resolved the campaign with
    `campaign_get`, which decides visibility): the default event first."""
    return ConversionEvent.objects.filter(campaign=campaign).prefetch_related("caps")


def event_get(*, viewer: User, event_id: int) -> ConversionEvent:
    """An event of a campaign the viewer may see; 404 otherwise."""
    visible = campaign_list(viewer=viewer).values("pk")
    event = (
        ConversionEvent.objects.filter(pk=event_id, campaign_id__in=visible)
        .select_related("campaign")
        .prefetch_related("caps")
        .first()
    )
    if event is None:
        raise NotFoundError("Event not found.")
    return event


def pricing_rule_list(*, viewer: User) -> QuerySet[PricingRule]:
    """Admin: every rule; advertiser: its campaigns' rules; anyone else (affiliates included,
    who see only the payout that applies to them): none."""
    if viewer.is_network_admin:
        queryset = PricingRule.objects.all()
    elif viewer.is_advertiser:
        queryset = PricingRule.objects.filter(campaign__advertiser_id=viewer.pk)
    else:
        queryset = PricingRule.objects.none()
    return queryset.select_related("campaign", "event", "affiliate__user").order_by("-id")


def pricing_rule_get(*, viewer: User, rule_id: int) -> PricingRule:
    rule = pricing_rule_list(viewer=viewer).filter(pk=rule_id).first()
    if rule is None:
        raise NotFoundError("Pricing rule not found.")
    return rule


@dataclass(frozen=True)
class PayoutTerms:
    payout_type: str
    payout_amount: Decimal
    revshare_percent: Decimal
    rule_id: int | None  # None: the event's own terms


@dataclass(frozen=True)
class EventPayout:
    """What one affiliate earns on one event right now: `base` for any country and sub1, and
    the rules that pay differently for some countries or sub1 values (`description`, terms)."""

    event: ConversionEvent
    base: PayoutTerms
    conditional: list[tuple[str, PayoutTerms]]


def _terms(source: ConversionEvent | PricingRule, rule_id: int | None) -> PayoutTerms:
    return PayoutTerms(
        payout_type=source.payout_type,
        payout_amount=source.payout_amount,
        revshare_percent=source.revshare_percent,
        rule_id=rule_id,
    )


def pricing_rules_for_affiliate_at(*, affiliate_id: int, at: dt.datetime) -> QuerySet[PricingRule]:
    """The rules that may apply to the affiliate's conversions at `at` (any campaign): its own
    and everyone's, never another affiliate's; the caller narrows to a campaign."""
    return PricingRule.objects.filter(
        Q(affiliate__isnull=True) | Q(affiliate_id=affiliate_id),
        Q(starts_at__isnull=True) | Q(starts_at__lte=at),
        Q(ends_at__isnull=True) | Q(ends_at__gt=at),
    )


def event_payouts_for_affiliate(
    *, campaign: Campaign, affiliate_id: int, at: dt.datetime
) -> list[EventPayout]:
    """Per event of the campaign, the payout that applies to the affiliate at `at` (never the
    revenue): its own rules and everyone's, never another affiliate's. Two queries."""
    events = list(ConversionEvent.objects.filter(campaign=campaign))
    rules = list(
        pricing_rules_for_affiliate_at(affiliate_id=affiliate_id, at=at).filter(campaign=campaign)
    )
    return event_payouts_from(events=events, rules=rules)


def event_payouts_from(
    *, events: list[ConversionEvent], rules: list[PricingRule]
) -> list[EventPayout]:
    """`event_payouts_for_affiliate` from rows already read (`rules` from
    `pricing_rules_for_affiliate_at`, one campaign's): a list page prefetches them for every
    campaign at once."""
    payouts = []
    for event in events:
        applying = sorted(
            (rule for rule in rules if rule.event_id in (None, event.pk)),
            key=pricing_rule_sort_key,
            reverse=True,
        )
        unconditional = [rule for rule in applying if not rule.country and not rule.sub1]
        base_rule = unconditional[0] if unconditional else None
        base = _terms(event, None) if base_rule is None else _terms(base_rule, base_rule.pk)
        base_score = base_rule.specificity if base_rule else 0
        conditional = []
        for rule in applying:
            if (rule.country or rule.sub1) and rule.specificity > base_score:
                condition = ", ".join(
                    part
                    for part in (rule.country, f"sub1 {rule.sub1}" if rule.sub1 else "")
                    if part
                )
                conditional.append((condition, _terms(rule, rule.pk)))
        payouts.append(EventPayout(event=event, base=base, conditional=conditional))
    return payouts


def campaigns_runnable_by_affiliate(*, affiliate_id: int) -> QuerySet[Campaign]:
    """The campaigns the affiliate may run, i.e. get a tracking link for (`link_get_or_create`'s
    rule): not archived, and approved access, or public with no access row yet (applying to a
    public campaign approves at once). A rejected, revoked or pending row keeps it out.
    Whether the affiliate itself is approved is the caller's check."""
    accesses = CampaignAccess.objects.filter(campaign=OuterRef("pk"), affiliate_id=affiliate_id)
    return (
        Campaign.objects.exclude(status=CampaignStatus.ARCHIVED)
        .alias(
            is_approved=Exists(accesses.filter(status=AccessStatus.APPROVED)),
            has_access_row=Exists(accesses),
        )
        .filter(Q(is_approved=True) | Q(visibility=Visibility.PUBLIC, has_access_row=False))
        .order_by("name", "id")
    )


def smart_link_list(*, viewer: User) -> QuerySet[SmartLink]:
    """Admin: every smart link; affiliate: its own; anyone else (advertisers too): none.
    Entries come prefetched in priority order with their campaigns."""
    if viewer.is_network_admin:
        queryset = SmartLink.objects.all()
    elif viewer.is_affiliate:
        queryset = SmartLink.objects.filter(affiliate_id=viewer.pk)
    else:
        queryset = SmartLink.objects.none()
    entries = SmartLinkEntry.objects.select_related("campaign").order_by("priority", "id")
    return (
        queryset.select_related("affiliate__user")
        .prefetch_related(Prefetch("entries", queryset=entries))
        .order_by("-id")
    )


def smart_link_get(*, viewer: User, smart_link_id: int) -> SmartLink:
    smart_link = smart_link_list(viewer=viewer).filter(pk=smart_link_id).first()
    if smart_link is None:
        raise NotFoundError("Smart link not found.")
    return smart_link
