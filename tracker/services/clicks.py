"""Recording clicks: the tracking-link redirect (`/c/<token>`) and the legacy `GET /click`.

The redirect is the hottest path of the network, so a click costs two statements, both written
once as SQL rather than compiled by the ORM on every request (measured: the ORM's compile cost
was larger than the queries'): the link with its campaign, affiliate, access status and whether
click caps exist (one joined SELECT), and the INSERT, whose `is_unique` is computed inside the
statement by a NOT EXISTS on the `click_unique_lookup` index. Campaigns with click-blocking caps
add the cap reads. Nothing else happens on the request.

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
from dataclasses import dataclass

import psycopg
from django.conf import settings
from django.db import IntegrityError, connection, transaction
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


@dataclass(frozen=True)
class ClickOutcome:
    click: Click
    # Where the visitor goes; None when the click is blocked and no fallback URL exists.
    redirect_url: str | None
    # False when `click_record_external` found the same click id already recorded for the link.
    created: bool = True


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


def _blocked_reason(*, link: TrackingLink, country: str, now: dt.datetime) -> str:
    campaign = link.campaign
    if campaign.status == CampaignStatus.ARCHIVED:
        return BlockedReason.CAMPAIGN_ARCHIVED
    if campaign.status != CampaignStatus.ACTIVE:
        return BlockedReason.CAMPAIGN_PAUSED
    if link.affiliate.status != ApprovalStatus.APPROVED:
        return BlockedReason.AFFILIATE_NOT_APPROVED
    # A link whose access row vanished is treated like a revoked one.
    if link.access_status != AccessStatus.APPROVED:
        return BlockedReason.ACCESS_REVOKED
    allowed = campaign.allowed_countries
    if allowed and country not in {code.upper() for code in allowed}:
        return BlockedReason.TARGETING_COUNTRY
    if link.has_click_caps and caps_block_clicks(
        campaign=campaign, affiliate_id=link.affiliate_id, at=now
    ):
        return BlockedReason.CAP_REACHED
    return ""


def _fingerprint(ip: str | None, user_agent: str) -> str:
    return hashlib.sha256(f"{ip or ''}\n{user_agent}".encode()).hexdigest()[:32]


def _normalize_country(country: str) -> str:
    country = country.strip().upper()
    return country if len(country) == 2 and country.isalpha() else ""


def _click_build(
    *,
    link: TrackingLink,
    click_id: str,
    params: Mapping[str, str],
    ip: str | None,
    user_agent: str,
    referer: str,
    country: str,
    now: dt.datetime,
    decide_uniqueness: bool = True,
) -> Click:
    """The unsaved click. `decide_uniqueness=False` leaves `is_unique` to the INSERT itself."""
    fields, extra = click_params_parse(params)
    country = _normalize_country(country)
    user_agent = _clean(user_agent)
    fingerprint = _fingerprint(ip, user_agent)
    is_unique = (
        not decide_uniqueness
        or not Click.objects.filter(
            link_id=link.pk, fingerprint=fingerprint, created_at__gt=now - UNIQUENESS_WINDOW
        ).exists()
    )
    return Click(
        click_id=click_id,
        link=link,
        affiliate_id=link.affiliate_id,
        campaign_id=link.campaign_id,
        created_at=now,
        ip=ip,
        user_agent=user_agent,
        referer=_clean(referer),
        country=country,
        extra=extra,
        fingerprint=fingerprint,
        is_unique=is_unique,
        blocked_reason=_blocked_reason(link=link, country=country, now=now),
        **fields,
    )


def _redirect_url(*, click: Click, link: TrackingLink) -> str | None:
    campaign = link.campaign
    if click.blocked_reason:
        template = campaign.fallback_url or settings.DEFAULT_FALLBACK_URL
        if not template:
            return None
    else:
        template = campaign.landing_url
    values = {
        "click_id": click.click_id,
        "affiliate_id": click.affiliate_id,
        "campaign_id": click.campaign_id,
        "offer_id": campaign.external_offer_id or click.campaign_id,
        "user_id": click.user_id,
        "country": click.country,
    }
    values.update({name: getattr(click, name) for name in SUB_FIELDS})
    return template_fill(template, values)


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


def _execute_fetchone(sql: str, params: list) -> tuple | None:
    """Run one hot-path statement and return its first row.

    On PostgreSQL the statement goes through a server-side-binding psycopg cursor on Django's own
    connection, wrapped like any Django cursor (query logging, execute wrappers, error mapping).
    With `prepare_threshold=0` in the database OPTIONS, PostgreSQL then plans it once per
    connection instead of on every click; Django's ORM uses client-side binding, which never
    prepares, so only these statements are affected. Planning was most of the link lookup's cost.
    """
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        raw_cursor = psycopg.Cursor(connection.connection)
        wrapped = (
            connection.make_debug_cursor(raw_cursor)
            if connection.queries_logged
            else connection.make_cursor(raw_cursor)
        )
        with wrapped as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _link_by_token(token: str) -> TrackingLink | None:
    """The link for `token` with what the click needs, in one statement, as model instances."""
    row = _execute_fetchone(_LINK_BY_TOKEN_SQL, [str(CapAction.BLOCK_CLICKS), token])
    if row is None:
        return None
    (
        link_id,
        campaign_id,
        affiliate_id,
        campaign_status,
        landing_url,
        fallback_url,
        external_offer_id,
        allowed_countries,
        timezone_name,
        affiliate_status,
        access_status,
        has_click_caps,
    ) = row
    countries_field = Campaign._meta.get_field("allowed_countries")
    campaign = Campaign(
        id=campaign_id,
        status=campaign_status,
        landing_url=landing_url,
        fallback_url=fallback_url,
        external_offer_id=external_offer_id,
        allowed_countries=countries_field.from_db_value(allowed_countries, None, connection),
        timezone=timezone_name,
    )
    campaign._state.adding = False
    affiliate = Affiliate(user_id=affiliate_id, status=affiliate_status)
    affiliate._state.adding = False
    link = TrackingLink(id=link_id, token=token, campaign=campaign, affiliate=affiliate)
    link._state.adding = False
    link.access_status = access_status
    link.has_click_caps = bool(has_click_caps)
    return link


_INSERT_FIELDS = [field for field in Click._meta.concrete_fields if not field.primary_key]
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


def _click_insert(click: Click) -> None:
    """INSERT the click, deciding `is_unique` in the same statement (one round trip)."""
    params: list = []
    for field in _INSERT_FIELDS:
        if field.name == "is_unique":
            since = click.created_at - UNIQUENESS_WINDOW
            params += [
                click.link_id,
                click.fingerprint,
                connection.ops.adapt_datetimefield_value(since),
            ]
        else:
            params.append(field.get_db_prep_save(getattr(click, field.attname), connection))
    click.pk, is_unique = _execute_fetchone(_CLICK_INSERT_SQL, params)
    click.is_unique = bool(is_unique)
    click._state.adding = False


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
    Runs in autocommit: the INSERT is the only write (two statements in all). Unknown token:
    ApplicationError 404 `unknown_link`, nothing written.
    """
    link = _link_by_token(token)
    if link is None:
        raise ApplicationError("Unknown tracking link.", code="unknown_link", status=404)
    click = _click_build(
        link=link,
        click_id=new_click_id(),
        params=params,
        ip=ip,
        user_agent=user_agent,
        referer=referer,
        country=country,
        now=now,
        decide_uniqueness=False,
    )
    _click_insert(click)
    return ClickOutcome(click=click, redirect_url=_redirect_url(click=click, link=link))


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
    click = _click_build(
        link=link,
        click_id=click_id or new_click_id(),
        params=params,
        ip=ip,
        user_agent=user_agent,
        referer=referer,
        country=country,
        now=now,
    )
    try:
        with transaction.atomic():
            click.save(force_insert=True)
    except IntegrityError:
        existing = Click.objects.filter(click_id=click.click_id).first()
        if existing is None:
            raise
        if existing.link_id != link.pk:
            raise ApplicationError(
                "This click_id is already used by another link.", code="click_id_taken", status=409
            ) from None
        return ClickOutcome(
            click=existing, redirect_url=_redirect_url(click=existing, link=link), created=False
        )
    return ClickOutcome(click=click, redirect_url=_redirect_url(click=click, link=link))
