"""Recording clicks: the tracking-link redirect (`/c/<token>`) and the legacy `GET /click`.

The redirect is the hottest path of the network. Its SQL is written once, by hand
(`tracker.sql.clicks`), rather than compiled by the ORM on every request (measured: the ORM's
compile cost was larger than the queries'): on PostgreSQL a click that nothing can block is one
statement (the link read and the INSERT together), any other click the link read, then the
rules below, then the INSERT, whose `is_unique` is computed inside the statement by a NOT EXISTS
on the `click_unique_lookup` index. Campaigns with click-blocking caps add the cap reads;
campaigns whose fraud policy names a click signal take the second path too (`tracker.fraud`: the
IP-list answers come with the link read, velocity is a cache counter, not a database write).
Nothing else happens on the request, and no model instance is built: the link is read into a
tuple and the click is a dict of values until someone asks for `ClickOutcome.click` (the view
does not).

A blocked click (campaign paused or archived, affiliate or access not approved, country not
in `allowed_countries`, the campaign's targeting rules failed (`tracker.targeting`), click-blocking
cap used up, a fraud signal the campaign blocks (`tracker.fraud`)) is still recorded, with its
`blocked_reason`, and is sent to the campaign's fallback URL, else
`settings.DEFAULT_FALLBACK_URL`, else nowhere (the view answers 404). A click that is not blocked
goes to the campaign's landing page pinned by the link's `lp`, else one drawn by weight, else the
campaign's `landing_url` (`campaigns.landing_pages.landing_page_pick`).

Every click records the device type, OS and browser of its user agent (`tracker.devices`, cached
per agent).

Uniqueness is best effort: two simultaneous first clicks of one visitor may both be counted
unique. It is a reporting flag, never money, so it is not worth a lock on the hot path.
"""

import datetime as dt
import functools
import hashlib
import random
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet, Subquery

from accounts.models import ApprovalStatus
from campaigns.caps import caps_block_clicks
from campaigns.draws import DRAW_RANDOM
from campaigns.landing_pages import landing_page_pick
from campaigns.macros import template_fill
from campaigns.models import (
    AccessStatus,
    Campaign,
    CampaignAccess,
    CampaignStatus,
    Cap,
    CapAction,
    TrackingLink,
)
from core.exceptions import ApplicationError
from core.sql import hot_connection
from core.tokens import new_click_id
from tracker.devices import device_parse
from tracker.fraud import click_fraud_check
from tracker.models import BlockedReason, Click
from tracker.sql.clicks import (
    ClickValues,
    LinkAnnotations,
    LinkContext,
    click_insert,
    click_record_fast,
    link_by_token,
)
from tracker.targeting import targeting_block_reason

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

SUB_FIELDS = ("sub1", "sub2", "sub3", "sub4", "sub5")
# Parameter name -> Click field, in order of precedence: the canonical name beats its aliases.
_PARAM_ALIASES: dict[str, tuple[str, ...]] = {
    "sub1": ("sub1", "sub_id1", "sub_id"),
    "sub2": ("sub2", "sub_id2"),
    "sub3": ("sub3", "sub_id3"),
    "sub4": ("sub4", "sub_id4"),
    "sub5": ("sub5", "sub_id5"),
    "user_id": ("user_id",),
}
_KNOWN_PARAMS = frozenset(name for names in _PARAM_ALIASES.values() for name in names)
_SHORT_FIELD_LENGTH = 255  # Click.sub1..sub5 and user_id
EXTERNAL_CLICK_ID = re.compile(r"[A-Za-z0-9._~-]{1,64}")
# The click-id cookie's lifetime when the campaign names no attribution window.
DEFAULT_COOKIE_MAX_AGE = 30 * 24 * 3600


class ClickOutcome:
    """The click recorded and where the visitor goes.

    `redirect_url` is None when the click is blocked and no fallback URL exists. `created` is
    False when `click_record_external` found the same click id already recorded for the link.
    `click` is the saved Click; on the redirect path it is built only when asked for (the view
    never asks: building a model instance was a measurable share of a click's CPU time).
    `click_id` is the click's id and `cookie_max_age` how long, in seconds, the browser may keep
    it for conversion pixels (the campaign's attribution window); None when the click is blocked:
    it cannot earn a conversion, so it must not replace the cookie of an earlier click that can.
    """

    def __init__(
        self,
        *,
        redirect_url: str | None,
        click: Click | None = None,
        click_values: ClickValues | None = None,
        created: bool = True,
        attribution_window_hours: int = 0,
    ) -> None:
        if click is not None and click_values is None:
            self.click = click
            self.click_id = click.click_id
            blocked = bool(click.blocked_reason)
        elif click is None and click_values is not None:
            self._click_values = click_values
            self.click_id = click_values["click_id"]
            blocked = bool(click_values["blocked_reason"])
        else:
            raise ValueError("Give either the click or its values.")
        self.redirect_url = redirect_url
        self.created = created
        self.cookie_max_age: int | None = (
            None if blocked else (attribution_window_hours * 3600 or DEFAULT_COOKIE_MAX_AGE)
        )

    @functools.cached_property
    def click(self) -> Click:
        click = Click(**self._click_values)
        click._state.adding = False
        click._state.db = DEFAULT_DB_ALIAS
        return click


def _clean(value: str) -> str:
    # PostgreSQL text and jsonb cannot hold NUL; a `%00` in a link must not turn into a 500.
    return value.replace("\x00", "")


def click_params_parse(params: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Split query parameters into Click fields (sub1..sub5, user_id) and the click's extra data.

    `sub_id1`..`sub_id5` alias `sub1`..`sub5` and `sub_id` aliases `sub1`; the canonical name wins
    when both are given. Values longer than the columns are cut to 255 characters.
    """
    fields: dict[str, str] = {}
    for field, names in _PARAM_ALIASES.items():
        value = ""
        for name in names:
            if name in params:
                value = params[name]
                break
        fields[field] = _clean(value)[:_SHORT_FIELD_LENGTH]
    extra = {
        _clean(name): _clean(value) for name, value in params.items() if name not in _KNOWN_PARAMS
    }
    return fields, extra


@functools.cache
def _link_queryset() -> "QuerySet[WithAnnotations[TrackingLink, LinkAnnotations]]":
    """Links with campaign, affiliate, the pair's access status and whether click caps exist.

    Built once per process (callers only `.filter()` it, which clones): building it is a good
    share of a click's CPU time.
    """
    access_status = (
        CampaignAccess.objects.filter(
            campaign_id=OuterRef("campaign_id"), affiliate_id=OuterRef("affiliate_id")
        )
        .order_by()
        .values("status")[:1]
    )
    has_click_caps = Cap.objects.filter(
        campaign_id=OuterRef("campaign_id"), action=CapAction.BLOCK_CLICKS
    )
    return (
        TrackingLink.objects.select_related("campaign", "affiliate")
        .only(
            "token",
            "campaign",
            "affiliate",
            "campaign__status",
            "campaign__landing_url",
            "campaign__fallback_url",
            "campaign__external_offer_id",
            "campaign__allowed_countries",
            "campaign__timezone",
            "campaign__attribution_window_hours",
            "campaign__targeting",
            "affiliate__status",
            "campaign__fraud_policy",
        )
        .annotate(access_status=Subquery(access_status), has_click_caps=Exists(has_click_caps))
    )


def _blocked_reason(
    *,
    link: LinkContext,
    country: str,
    now: dt.datetime,
    device_type: str = "",
    os: str = "",
    browser: str = "",
    ip: str | None = None,
) -> str:
    if link.campaign_status == CampaignStatus.ARCHIVED:
        return BlockedReason.CAMPAIGN_ARCHIVED
    if link.campaign_status != CampaignStatus.ACTIVE:
        return BlockedReason.CAMPAIGN_PAUSED
    if link.affiliate_status != ApprovalStatus.APPROVED:
        return BlockedReason.AFFILIATE_NOT_APPROVED
    # A link whose access row vanished is treated like a revoked one.
    if link.access_status != AccessStatus.APPROVED:
        return BlockedReason.ACCESS_REVOKED
    allowed = link.allowed_countries
    if allowed and country not in {code.upper() for code in allowed}:
        return BlockedReason.TARGETING_COUNTRY
    if link.targeting and targeting_block_reason(
        link.targeting,
        country=country,
        device_type=device_type,
        os=os,
        browser=browser,
        ip=ip,
        now=now,
        timezone=link.timezone,
    ):
        return BlockedReason.TARGETING
    if link.has_click_caps and caps_block_clicks(
        campaign=Campaign(id=link.campaign_id, timezone=link.timezone),
        affiliate_id=link.affiliate_id,
        at=now,
    ):
        return BlockedReason.CAP_REACHED
    return ""


def _fingerprint(ip: str | None, user_agent: str) -> str:
    return hashlib.sha256(f"{ip or ''}\n{user_agent}".encode()).hexdigest()[:32]


def _normalize_country(country: str) -> str:
    country = country.strip().upper()
    return country if len(country) == 2 and country.isalpha() else ""


def _visit_values(
    *,
    click_id: str,
    params: Mapping[str, str],
    ip: str | None,
    user_agent: str,
    referer: str,
    country: str,
    now: dt.datetime,
) -> ClickValues:
    """The click's field values (attnames) that come from the visit, not from the link."""
    fields, extra = click_params_parse(params)
    user_agent = _clean(user_agent)
    device = device_parse(user_agent)
    return {
        "click_id": click_id,
        "created_at": now,
        "ip": ip,
        "user_agent": user_agent,
        "referer": _clean(referer),
        "country": _normalize_country(country),
        "extra": extra,
        "fingerprint": _fingerprint(ip, user_agent),
        "device_type": device.device_type,
        "os": device.os,
        "browser": device.browser,
        "landing_page_id": None,
        "smart_link_id": None,
        "fraud_signals": [],
        **fields,
    }


def _link_values_add(
    values: ClickValues, *, link: LinkContext, now: dt.datetime, rng: random.Random
) -> None:
    """Complete the visit's values with the link's ids, the reason the click is blocked and,
    when it is not, its landing page (pinned by the link's `lp`, kept in `extra`, or drawn)."""
    values["link_id"] = link.link_id
    values["affiliate_id"] = link.affiliate_id
    values["campaign_id"] = link.campaign_id
    values["blocked_reason"] = _blocked_reason(
        link=link,
        country=values["country"],
        now=now,
        device_type=values["device_type"],
        os=values["os"],
        browser=values["browser"],
        ip=values["ip"],
    )
    if link.fraud_policy and not values["blocked_reason"]:
        _fraud_apply(values, link=link, now=now)
    if link.landing_pages and not values["blocked_reason"]:
        page = landing_page_pick(link.landing_pages, pinned=values["extra"].get("lp"), rng=rng)
        values["landing_page_id"] = page[0] if page else None


def _fraud_apply(values: ClickValues, *, link: LinkContext, now: dt.datetime) -> None:
    """The campaign's fraud policy (`tracker.fraud`): signals recorded, maybe blocked."""
    verdict = click_fraud_check(
        policy=link.fraud_policy,
        link_id=link.link_id,
        ip=values["ip"],
        user_agent=values["user_agent"],
        device_type=values["device_type"],
        deny_listed=link.deny_listed,
        datacenter_listed=link.datacenter_listed,
        now=now,
    )
    values["fraud_signals"] = verdict.signals
    if verdict.blocked:
        values["blocked_reason"] = BlockedReason.FRAUD


def _redirect_url(*, click: ClickValues, link: LinkContext) -> str | None:
    """`click`: the click's values by attname."""
    if click["blocked_reason"]:
        template = link.fallback_url or settings.DEFAULT_FALLBACK_URL
        if not template:
            return None
    else:
        template = link.landing_url
        page_id = click.get("landing_page_id")
        for page in link.landing_pages if page_id is not None else ():
            if page[0] == page_id:
                template = page[1]
                break
    values = {
        "click_id": click["click_id"],
        "affiliate_id": click["affiliate_id"],
        "campaign_id": click["campaign_id"],
        "offer_id": link.external_offer_id or click["campaign_id"],
        "user_id": click["user_id"],
        "country": click["country"],
    }
    values.update({name: click[name] for name in SUB_FIELDS})
    return template_fill(template, values)


def _click_as_values(click: Click) -> ClickValues:
    return {field.attname: getattr(click, field.attname) for field in Click._meta.concrete_fields}


def click_record(
    *,
    token: str,
    params: Mapping[str, str],
    ip: str | None,
    user_agent: str,
    referer: str,
    country: str,
    now: dt.datetime,
    rng: random.Random = DRAW_RANDOM,
) -> ClickOutcome:
    """Record one click on the link `token` and say where the visitor goes.

    Not idempotent by design: every request is a click (uniqueness is the `is_unique` flag).
    Runs in autocommit: the INSERT is the only write. On PostgreSQL a click that nothing blocks
    costs one statement (`_CLICK_FAST_SQL`); a possibly blocked one, or any click elsewhere, two
    (plus the cap reads of click-blocking caps). Unknown token: ApplicationError 404
    `unknown_link`, nothing written.
    """
    values = _visit_values(
        click_id=new_click_id(),
        params=params,
        ip=ip,
        user_agent=user_agent,
        referer=referer,
        country=country,
        now=now,
    )
    if hot_connection().vendor == "postgresql":
        link = click_record_fast(token, values)
    else:
        link = link_by_token(token, ip)
    if link is None:
        raise ApplicationError("Unknown tracking link.", code="unknown_link", status=404)
    if "id" not in values:
        _link_values_add(values, link=link, now=now, rng=rng)
        click_insert(values)
    return ClickOutcome(
        click_values=values,
        redirect_url=_redirect_url(click=values, link=link),
        attribution_window_hours=link.attribution_window_hours,
    )


def click_record_external(
    *,
    affiliate_id: int,
    campaign_id: int,
    click_id: str | None,
    params: Mapping[str, str],
    ip: str | None,
    user_agent: str,
    referer: str,
    country: str,
    now: dt.datetime,
    rng: random.Random = DRAW_RANDOM,
) -> ClickOutcome:
    """Record a click reported by id pair (legacy `GET /click`), optionally with the caller's id.

    Idempotent on `click_id`: the same id again for the same link returns the click already
    recorded (`created=False`, nothing written); on another link it is 409 `click_id_taken`.
    Decided by the unique constraint on `Click.click_id`, inside a savepoint, so two concurrent
    identical requests record one click. No link for the pair: 404 `link_not_found`.
    """
    if click_id is not None and not EXTERNAL_CLICK_ID.fullmatch(click_id):
        raise ApplicationError(
            "click_id must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_', '~' or '-'.",
            code="invalid_click_id",
            fields={"click_id": ["1 to 64 characters of A-Z a-z 0-9 . _ ~ -"]},
        )
    link = _link_queryset().filter(campaign_id=campaign_id, affiliate_id=affiliate_id).first()
    if link is None:
        raise ApplicationError(
            "Unknown affiliate_id or campaign_id.", code="link_not_found", status=404
        )
    context = LinkContext.of(link)
    values = _visit_values(
        click_id=click_id or new_click_id(),
        params=params,
        ip=ip,
        user_agent=user_agent,
        referer=referer,
        country=country,
        now=now,
    )
    _link_values_add(values, link=context, now=now, rng=rng)
    try:
        with transaction.atomic():
            click_insert(values)
    except IntegrityError:
        existing = Click.objects.filter(click_id=values["click_id"]).first()
        if existing is None:
            raise
        if existing.link_id != link.pk:
            raise ApplicationError(
                "This click_id is already used by another link.", code="click_id_taken", status=409
            ) from None
        return ClickOutcome(
            click=existing,
            redirect_url=_redirect_url(click=_click_as_values(existing), link=context),
            created=False,
            attribution_window_hours=context.attribution_window_hours,
        )
    return ClickOutcome(
        click_values=values,
        redirect_url=_redirect_url(click=values, link=context),
        attribution_window_hours=context.attribution_window_hours,
    )
