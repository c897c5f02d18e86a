"""A campaign's landing pages: create, edit, deactivate, list, and the click's choice of one.

A campaign with active landing pages sends each click to one of them: the one the tracking link
pins with `lp=<id>` when that is an active page of the campaign, else one drawn by weight (a
page of weight 0 is only reached by pinning). Without active pages, or when every weight is 0,
the click goes to the campaign's `landing_url` as before. Clicks keep the page's id, so a page
that was used is never deleted: it is deactivated.

Who may call what is decided by the views and selectors; the services assume the caller was
allowed to reach the objects it passes in.
"""

import random
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from accounts.models import User
from campaigns.draws import weighted_choice
from campaigns.macros import LANDING_MACROS, TemplateError, template_validate
from campaigns.models import AccessStatus, Campaign, CampaignAccess, LandingPage
from campaigns.selectors import campaign_list
from campaigns.terms import FieldErrors, Invalid, clean_bool, clean_text, fields_clean
from core.audit import audit_record, audit_snapshot
from core.exceptions import NotFoundError
from core.models import AuditSource

MAX_WEIGHT = 1_000_000
# What a click reads of each active page (`tracker.sql.clicks`): (id, url template, weight).
PageChoice = tuple[int, str, int]


def _clean_url(raw: Any) -> str:
    value = clean_text(2000, required=True)(raw)
    try:
        template_validate(value, allowed=LANDING_MACROS)
    except TemplateError as exc:
        raise Invalid(str(exc)) from exc
    return value


def _clean_weight(raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise Invalid("Must be a whole number.")
    text = str(raw).strip()
    if not text.isdigit() or not 0 <= int(text) <= MAX_WEIGHT:
        raise Invalid(f"Must be a whole number from 0 to {MAX_WEIGHT}.")
    return int(text)


_CLEANERS = {
    "name": (clean_text(200, required=True), "invalid_name"),
    "url": (_clean_url, "invalid_url"),
    "weight": (_clean_weight, "invalid_weight"),
    "is_active": (clean_bool, "invalid_is_active"),
}
_AUDITED = ["campaign", "name", "url", "weight", "is_active"]


def _clean(data: Mapping[str, Any], *, required: Sequence[str]) -> dict[str, Any]:
    errors = FieldErrors(summary="The landing page has invalid fields.")
    cleaned = fields_clean(data, _CLEANERS, errors)
    for name in required:
        if name not in data and name not in errors.fields:
            errors.add(name, "This field is required.", f"invalid_{name}")
    errors.raise_if_any()
    return cleaned


@transaction.atomic
def landing_page_create(
    *,
    campaign: Campaign,
    data: Mapping[str, Any],
    actor: User | None = None,
    source: str = AuditSource.SYSTEM,
) -> LandingPage:
    """`name` and `url` are required; `weight` defaults to 100, `is_active` to true."""
    cleaned = _clean(data, required=("name", "url"))
    page = LandingPage.objects.create(campaign=campaign, **cleaned)
    audit_record(
        actor=actor,
        source=source,
        action="create",
        obj_type=LandingPage,
        obj_id=page.pk,
        obj_repr=str(page),
        after=audit_snapshot(page, _AUDITED),
    )
    return page


@transaction.atomic
def landing_page_update(
    *,
    landing_page: LandingPage,
    data: Mapping[str, Any],
    actor: User | None = None,
    source: str = AuditSource.SYSTEM,
) -> LandingPage:
    """A partial update of `name`, `url`, `weight` and `is_active` (false deactivates: the page
    stops taking clicks and keeps its history). Clicks already sent keep the page's id."""
    cleaned = _clean(data, required=())
    locked = LandingPage.objects.select_for_update().get(pk=landing_page.pk)
    changed = [name for name, value in cleaned.items() if getattr(locked, name) != value]
    before = audit_snapshot(locked, changed)
    for name in changed:
        setattr(locked, name, cleaned[name])
    if changed:
        locked.save(update_fields=[*changed, "updated_at"])
    audit_record(
        actor=actor,
        source=source,
        action="update",
        obj_type=LandingPage,
        obj_id=locked.pk,
        obj_repr=str(locked),
        before=before,
        after=audit_snapshot(locked, changed),
    )
    return locked


def landing_page_deactivate(
    *, landing_page: LandingPage, actor: User | None = None, source: str = AuditSource.SYSTEM
) -> LandingPage:
    return landing_page_update(
        landing_page=landing_page, data={"is_active": False}, actor=actor, source=source
    )


# --- selectors ---------------------------------------------------------------------------------


def landing_page_list(*, viewer: User, campaign: Campaign) -> QuerySet[LandingPage]:
    """The pages of a campaign the caller resolved with `campaign_get` (which decides whether the
    viewer sees it). Admin and owner: every page; an affiliate: the active pages of a campaign it
    runs (approved access), else NotFoundError, like a campaign it cannot see."""
    pages = LandingPage.objects.filter(campaign=campaign).order_by("id")
    if viewer.is_network_admin or viewer.is_advertiser:
        return pages
    runs = CampaignAccess.objects.filter(
        campaign=campaign, affiliate_id=viewer.pk, status=AccessStatus.APPROVED
    ).exists()
    if not viewer.is_affiliate or not runs:
        raise NotFoundError("Campaign not found.")
    return pages.filter(is_active=True)


def landing_page_get(*, viewer: User, landing_page_id: int) -> LandingPage:
    """A page of a campaign the viewer owns (or any, for admins); 404 otherwise. Affiliates
    only list pages, so they get 404 here."""
    if not (viewer.is_network_admin or viewer.is_advertiser):
        raise NotFoundError("Landing page not found.")
    visible = campaign_list(viewer=viewer).values("pk")
    page = LandingPage.objects.filter(pk=landing_page_id, campaign_id__in=visible).first()
    if page is None:
        raise NotFoundError("Landing page not found.")
    return page


# --- the click's choice ------------------------------------------------------------------------


def landing_page_pick(
    pages: Sequence[PageChoice], *, pinned: str | None, rng: random.Random
) -> PageChoice | None:
    """The page a click goes to among the campaign's active `pages`: the one whose id is
    `pinned` (the link's `lp` parameter) if it is among them, else a draw by weight; None when
    there are no pages or every weight is 0 (the campaign's `landing_url` then)."""
    if not pages:
        return None
    if pinned:
        for page in pages:
            if str(page[0]) == pinned.strip():
                return page
    return weighted_choice(pages, [page[2] for page in pages], rng)
