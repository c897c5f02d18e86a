"""Recording clicks: the tracking-link redirect (`/c/<token>`) and the legacy `GET /click`.

The redirect is the hottest path of the network, so a click costs two statements, both written
once as SQL rather than compiled by the ORM on every request (measured: the ORM's compile cost
was larger than the queries'): the link with its campaign, affiliate, access status and whether
click caps exist (one joined SELECT), and the INSERT, whose `is_unique` is computed inside the
statement by a NOT EXISTS on the `click_unique_lookup` index. Campaigns with click-blocking caps
add the cap reads. Nothing else happens on the request, and no model instance is built: the
link is read into a tuple and the click is a dict of values until someone asks for
`ClickOutcome.click` (the view does not).

A blocked click (campaign paused or archived, affiliate or access not approved, country not
targeted, click-blocking cap used up) is still recorded, with its `blocked_reason`, and is sent to
the campaign's fallback URL, else `settings.DEFAULT_FALLBACK_URL`, else nowhere (the view answers
404).

Uniqueness is best effort: two simultaneous first clicks of one visitor may both be counted
unique. It is a reporting flag, never money, so it is not worth a lock on the hot path.
"""

import datetime as dt
import functools
import hashlib
import re
from collections.abc import Mapping
from typing import NamedTuple

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet, Subquery

from accounts.models import Affiliate, ApprovalStatus
from campaigns.caps import caps_block_clicks
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
from core.sql import execute_fetchone, hot_connection, prepared
from core.tokens import new_click_id
from tracker.models import BlockedReason, Click

UNIQUENESS_WINDOW = dt.timedelta(hours=24)
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


class ClickOutcome:
    """The click recorded and where the visitor goes.

    `redirect_url` is None when the click is blocked and no fallback URL exists. `created` is
    False when `click_record_external` found the same click id already recorded for the link.
    `click` is the saved Click; on the redirect path it is built only when asked for (the view
    never asks: building a model instance was a measurable share of a click's CPU time).
    """

    def __init__(
        self,
        *,
        redirect_url: str | None,
        click: Click | None = None,
        click_values: dict[str, object] | None = None,
        created: bool = True,
    ) -> None:
        if (click is None) == (click_values is None):
            raise ValueError("Give either the click or its values.")
        self.redirect_url = redirect_url
        self.created = created
        if click is not None:
            self.click = click
        else:
            self._click_values = click_values

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
def _link_queryset() -> QuerySet[TrackingLink]:
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
            "affiliate__status",
        )
        .annotate(access_status=Subquery(access_status), has_click_caps=Exists(has_click_caps))
    )


class _LinkContext(NamedTuple):
    """What a click needs to know about its link, read in one statement."""

    link_id: int
    campaign_id: int
    affiliate_id: int
    campaign_status: str
    landing_url: str
    fallback_url: str
    external_offer_id: str
    allowed_countries: list[str]
    timezone: str
    affiliate_status: str
    access_status: str | None  # None: the pair's access row vanished
    has_click_caps: bool

    @classmethod
    def of(cls, link: TrackingLink) -> "_LinkContext":
        """From a link of `_link_queryset()`."""
        campaign = link.campaign
        return cls(
            link_id=link.pk,
            campaign_id=link.campaign_id,
            affiliate_id=link.affiliate_id,
            campaign_status=campaign.status,
            landing_url=campaign.landing_url,
            fallback_url=campaign.fallback_url,
            external_offer_id=campaign.external_offer_id,
            allowed_countries=campaign.allowed_countries,
            timezone=campaign.timezone,
            affiliate_status=link.affiliate.status,
            access_status=link.access_status,
            has_click_caps=bool(link.has_click_caps),
        )


def _blocked_reason(*, link: _LinkContext, country: str, now: dt.datetime) -> str:
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
) -> dict[str, object]:
    """The click's field values (attnames) that come from the visit, not from the link."""
    fields, extra = click_params_parse(params)
    user_agent = _clean(user_agent)
    return {
        "click_id": click_id,
        "created_at": now,
        "ip": ip,
        "user_agent": user_agent,
        "referer": _clean(referer),
        "country": _normalize_country(country),
        "extra": extra,
        "fingerprint": _fingerprint(ip, user_agent),
        **fields,
    }


def _link_values_add(values: dict[str, object], *, link: _LinkContext, now: dt.datetime) -> None:
    """Complete the visit's values with the link's ids and the reason the click is blocked."""
    values["link_id"] = link.link_id
    values["affiliate_id"] = link.affiliate_id
    values["campaign_id"] = link.campaign_id
    values["blocked_reason"] = _blocked_reason(link=link, country=values["country"], now=now)


def _redirect_url(*, click: Mapping[str, object], link: _LinkContext) -> str | None:
    """`click`: the click's values by attname."""
    if click["blocked_reason"]:
        template = link.fallback_url or settings.DEFAULT_FALLBACK_URL
        if not template:
            return None
    else:
        template = link.landing_url
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


def _click_as_values(click: Click) -> dict[str, object]:
    return {field.attname: getattr(click, field.attname) for field in Click._meta.concrete_fields}


_LINK_BY_TOKEN_SQL = f"""
SELECT link.id, link.campaign_id, link.affiliate_id,
       campaign.status, campaign.landing_url, campaign.fallback_url, campaign.external_offer_id,
       campaign.allowed_countries, campaign.timezone,
       affiliate.status,
       access.status,
       EXISTS (
           SELECT 1 FROM {Cap._meta.db_table} cap
           WHERE cap.campaign_id = link.campaign_id AND cap.action = %s
       )
FROM {TrackingLink._meta.db_table} link
JOIN {Campaign._meta.db_table} campaign ON campaign.id = link.campaign_id
JOIN {Affiliate._meta.db_table} affiliate ON affiliate.user_id = link.affiliate_id
LEFT JOIN {CampaignAccess._meta.db_table} access
       ON access.campaign_id = link.campaign_id AND access.affiliate_id = link.affiliate_id
WHERE link.token = %s
"""  # noqa: S608 - table names come from our models; values are bound parameters


def _link_context(row: tuple) -> _LinkContext:
    """From the columns of `_LINK_BY_TOKEN_SQL`, in order."""
    countries = _ALLOWED_COUNTRIES.from_db_value(row[7], None, hot_connection())
    return _LinkContext(*row[:7], countries or [], *row[8:11], bool(row[11]))


def _link_by_token(token: str) -> _LinkContext | None:
    """What the click needs about the link `token`, in one prepared statement."""
    row = execute_fetchone(_LINK_BY_TOKEN_SQL, [str(CapAction.BLOCK_CLICKS), token])
    return None if row is None else _link_context(row)


_ALLOWED_COUNTRIES = Campaign._meta.get_field("allowed_countries")
_INSERT_FIELDS = [field for field in Click._meta.concrete_fields if not field.primary_key]
_IS_UNIQUE = Click._meta.get_field("is_unique")
# Table and column names come from our models; every value is a bound parameter.
_CLICK_INSERT_SQL = (
    "INSERT INTO {table} ({columns}) VALUES ({values}) RETURNING id, is_unique".format(  # noqa: S608
        table=Click._meta.db_table,
        columns=", ".join(field.column for field in _INSERT_FIELDS),
        values=", ".join(
            (
                f"NOT EXISTS (SELECT 1 FROM {Click._meta.db_table} WHERE link_id = %s"  # noqa: S608
                " AND fingerprint = %s AND created_at > %s)"
            )
            if field.name == "is_unique"
            else "%s"
            for field in _INSERT_FIELDS
        ),
    )
)


def _click_insert(values: dict[str, object]) -> None:
    """INSERT the click, deciding `is_unique` in the same statement (one round trip).

    Sets `id` and `is_unique` in `values`.
    """
    db = hot_connection()
    params = prepared(
        _INSERT_FIELDS,
        [
            values[field.attname] if field.attname in values else field.get_default()
            for field in _INSERT_FIELDS
        ],
        db,
    )
    at = _INSERT_FIELDS.index(_IS_UNIQUE)
    since = db.ops.adapt_datetimefield_value(values["created_at"] - UNIQUENESS_WINDOW)
    params[at : at + 1] = [values["link_id"], values["fingerprint"], since]
    values["id"], is_unique = execute_fetchone(_CLICK_INSERT_SQL, params)
    values["is_unique"] = bool(is_unique)


# The usual click in one statement (PostgreSQL): read the link and, when nothing can block the
# click, insert it. "Nothing can block" is the cheap part of `_blocked_reason` written in SQL:
# campaign active, affiliate and access approved, no country targeting, no click-blocking cap.
# Any other link comes back without an inserted row, and Python decides the reason and inserts
# (`_click_insert`): the rules themselves live in `_blocked_reason` only. A test checks that the
# two paths agree for every combination of those columns.
_LINK_COLUMNS = (
    "id, campaign_id, affiliate_id, campaign_status, landing_url, fallback_url, external_offer_id,"
    " allowed_countries, timezone, affiliate_status, access_status, has_click_caps"
)
_FROM_LINK = {
    "link_id": "link.id",
    "affiliate_id": "link.affiliate_id",
    "campaign_id": "link.campaign_id",
}
_CLICK_FAST_SQL = """
WITH link ({link_columns}) AS ({link_sql}),
inserted AS (
    INSERT INTO {table} ({columns})
    SELECT {values} FROM link
    WHERE link.campaign_status = %s AND link.affiliate_status = %s AND link.access_status = %s
      AND link.allowed_countries = '[]'::jsonb AND NOT link.has_click_caps
    RETURNING id, is_unique
)
SELECT link.*, inserted.id, inserted.is_unique FROM link LEFT JOIN inserted ON TRUE
""".format(  # noqa: S608 - table and column names come from our models; values are bound
    link_columns=_LINK_COLUMNS,
    link_sql=_LINK_BY_TOKEN_SQL,
    table=Click._meta.db_table,
    columns=", ".join(field.column for field in _INSERT_FIELDS),
    values=", ".join(
        _FROM_LINK.get(field.attname)
        or (
            f"NOT EXISTS (SELECT 1 FROM {Click._meta.db_table} seen"  # noqa: S608
            " WHERE seen.link_id = link.id AND seen.fingerprint = %s AND seen.created_at > %s)"
            if field.name == "is_unique"
            else "''"
            if field.name == "blocked_reason"
            else "%s"
        )
        for field in _INSERT_FIELDS
    ),
)
_FAST_BOUND_FIELDS = [
    field
    for field in _INSERT_FIELDS
    if field.attname not in _FROM_LINK and field.name not in ("is_unique", "blocked_reason")
]
_CLEAR_STATUSES = [
    str(CampaignStatus.ACTIVE),
    str(ApprovalStatus.APPROVED),
    str(AccessStatus.APPROVED),
]


def _click_record_fast(token: str, values: dict[str, object]) -> _LinkContext | None:
    """Run `_CLICK_FAST_SQL`. Returns the link (None: unknown token); when the click was inserted,
    `values` gets its link ids, `blocked_reason`, `id` and `is_unique`."""
    db = hot_connection()
    bound = dict(
        zip(
            (field.attname for field in _FAST_BOUND_FIELDS),
            prepared(
                _FAST_BOUND_FIELDS,
                # Every bound field comes from the visit (`_visit_values`), so no default is needed.
                [values[field.attname] for field in _FAST_BOUND_FIELDS],
                db,
            ),
            strict=True,
        )
    )
    since = db.ops.adapt_datetimefield_value(values["created_at"] - UNIQUENESS_WINDOW)
    params: list[object] = [str(CapAction.BLOCK_CLICKS), token]
    for field in _INSERT_FIELDS:
        if field.attname in bound:
            params.append(bound[field.attname])
        elif field.name == "is_unique":
            params += [bound["fingerprint"], since]
    params += _CLEAR_STATUSES
    row = execute_fetchone(_CLICK_FAST_SQL, params)
    if row is None:
        return None
    link = _link_context(row[:12])
    if row[12] is not None:
        values["link_id"] = link.link_id
        values["affiliate_id"] = link.affiliate_id
        values["campaign_id"] = link.campaign_id
        values["blocked_reason"] = ""
        values["id"], values["is_unique"] = row[12], bool(row[13])
    return link


def click_record(
    *,
    token: str,
    params: Mapping[str, str],
    ip: str | None,
    user_agent: str,
    referer: str,
    country: str,
    now: dt.datetime,
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
        link = _click_record_fast(token, values)
    else:
        link = _link_by_token(token)
    if link is None:
        raise ApplicationError("Unknown tracking link.", code="unknown_link", status=404)
    if "id" not in values:
        _link_values_add(values, link=link, now=now)
        _click_insert(values)
    return ClickOutcome(click_values=values, redirect_url=_redirect_url(click=values, link=link))


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
    context = _LinkContext.of(link)
    values = _visit_values(
        click_id=click_id or new_click_id(),
        params=params,
        ip=ip,
        user_agent=user_agent,
        referer=referer,
        country=country,
        now=now,
    )
    _link_values_add(values, link=context, now=now)
    try:
        with transaction.atomic():
            _click_insert(values)
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
        )
    return ClickOutcome(click_values=values, redirect_url=_redirect_url(click=values, link=context))
