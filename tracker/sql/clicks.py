"""The click's hand-written SQL (PostgreSQL and SQLite): reading a link with everything a click
needs to know about it, and inserting the click, each written once rather than compiled by the
ORM on every request.

The rules of a click (why it is blocked, where it goes) are `tracker.services.clicks`; what the
SQL here encodes of them is only "nothing can block this click" (`_CLEAR_STATUSES` and the
`WHERE` of `_CLICK_FAST_SQL`), and a test runs every combination of those columns through both.
"""

import datetime as dt
import json
from typing import TYPE_CHECKING, Any, NamedTuple, TypedDict

from accounts.models import Affiliate, ApprovalStatus
from campaigns.fraud_policy import CLICK_SIGNALS
from campaigns.landing_pages import PageChoice
from campaigns.models import (
    AccessStatus,
    Campaign,
    CampaignAccess,
    CampaignStatus,
    Cap,
    CapAction,
    LandingPage,
    TrackingLink,
)
from core.sql import column_of, execute_fetchone, execute_returning, hot_connection, prepared
from tracker.ip_lists import ip_key, ip_listed_sql
from tracker.models import Click, IpListKind

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

UNIQUENESS_WINDOW = dt.timedelta(hours=24)

# A click's field values by attname, as many types as the model's fields: the hot path builds
# and inserts these rather than Click instances.
ClickValues = dict[str, Any]


class LinkAnnotations(TypedDict):
    """What `tracker.services.clicks._link_queryset()` adds to each link."""

    access_status: str | None
    has_click_caps: bool


class LinkContext(NamedTuple):
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
    attribution_window_hours: int  # the `cl_cid` cookie's lifetime
    targeting: dict[str, Any]  # `campaigns.targeting`; {} when the campaign has no rules
    landing_pages: list[PageChoice]  # the campaign's active pages, by id
    # Fraud (tracker.fraud): the campaign's policy, and whether the click's IP is in the deny
    # and data-center lists (None: not read with the link; the fraud check looks them up).
    fraud_policy: dict
    deny_listed: bool | None = None
    datacenter_listed: bool | None = None

    @classmethod
    def of(cls, link: "WithAnnotations[TrackingLink, LinkAnnotations]") -> "LinkContext":
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
            attribution_window_hours=campaign.attribution_window_hours,
            targeting=campaign.targeting or {},
            # Not part of the link's query: this path (the legacy `GET /click`) is not the hot one.
            landing_pages=list(
                LandingPage.objects.filter(campaign_id=link.campaign_id, is_active=True)
                .order_by("id")
                .values_list("id", "url", "weight")
            ),
            fraud_policy=campaign.fraud_policy or {},
        )


# What a click reads about a link, without the WHERE: `_LINK_BY_TOKEN_SQL` adds the token,
# `tracker.sql.smart_links` the affiliate's links of a smart link's campaigns. Columns in the
# order of `LinkContext` (`_link_context` parses them); its bound parameters, in order, are
# `link_select_params(ip)`, which every statement built on it passes first. `{landing_pages}`
# is filled in each database's dialect below.
_LINK_SELECT_TEMPLATE = f"""
SELECT link.id, link.campaign_id, link.affiliate_id,
       campaign.status, campaign.landing_url, campaign.fallback_url, campaign.external_offer_id,
       campaign.allowed_countries, campaign.timezone,
       affiliate.status,
       access.status,
       EXISTS (
           SELECT 1 FROM {Cap._meta.db_table} cap
           WHERE cap.campaign_id = link.campaign_id AND cap.action = %s
       ),
       campaign.attribution_window_hours,
       campaign.targeting,
       ({{landing_pages}}),
       campaign.fraud_policy,
       {ip_listed_sql(IpListKind.DENY)},
       {ip_listed_sql(IpListKind.DATACENTER)}
FROM {TrackingLink._meta.db_table} link
JOIN {Campaign._meta.db_table} campaign ON campaign.id = link.campaign_id
JOIN {Affiliate._meta.db_table} affiliate ON affiliate.user_id = link.affiliate_id
LEFT JOIN {CampaignAccess._meta.db_table} access
       ON access.campaign_id = link.campaign_id AND access.affiliate_id = link.affiliate_id
"""  # noqa: S608 - table names come from our models; values are bound parameters
# The campaign's active landing pages as a JSON array of [id, url, weight] (an empty array when
# it has none), in each database's dialect.
_PAGES_FROM = (
    f"FROM {LandingPage._meta.db_table} page"
    " WHERE page.campaign_id = link.campaign_id AND page.is_active"
)
_LINK_SELECT_SQL = _LINK_SELECT_TEMPLATE.format(
    landing_pages="SELECT COALESCE(jsonb_agg(jsonb_build_array(page.id, page.url, page.weight)),"
    f" '[]'::jsonb) {_PAGES_FROM}"
)
_LINK_SELECT_SQLITE = _LINK_SELECT_TEMPLATE.format(
    landing_pages="SELECT json_group_array(json_array(page.id, page.url, page.weight))"
    f" {_PAGES_FROM}"
)
_LINK_BY_TOKEN_SQL = _LINK_SELECT_SQL + "WHERE link.token = %s\n"
_LINK_BY_TOKEN_SQLITE = _LINK_SELECT_SQLITE + "WHERE link.token = %s\n"
_LINK_WIDTH = 18  # the columns of `_LINK_SELECT_SQL`


def link_select_sql() -> str:
    """The link SELECT (without its WHERE) in the hot connection's dialect."""
    return _LINK_SELECT_SQL if hot_connection().vendor == "postgresql" else _LINK_SELECT_SQLITE


def link_select_params(ip: str | None) -> list[object]:
    """The bound values of the link SELECT, in order: the click-cap action, then the click's
    address for the deny and data-center list probes (twice each)."""
    key = ip_key(ip)
    return [str(CapAction.BLOCK_CLICKS), key, key, key, key]


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _link_context(row: tuple) -> LinkContext:
    """From the columns of `_LINK_SELECT_SQL`, in order."""
    db = hot_connection()
    countries = _ALLOWED_COUNTRIES.from_db_value(row[7], _ALLOWED_COUNTRIES.cached_col, db)
    # Most links have neither: skip the JSON parsing of the usual "{}" and "[]".
    targeting = {} if row[13] in (None, "{}") else _json(row[13])
    pages = (
        []
        if row[14] in (None, "[]")
        else sorted((int(id_), url, int(weight)) for id_, url, weight in _json(row[14]))
    )
    policy = _FRAUD_POLICY.from_db_value(row[15], _FRAUD_POLICY.cached_col, db)
    return LinkContext._make(
        (
            *row[:7],
            countries or [],
            *row[8:11],
            bool(row[11]),
            row[12],
            targeting or {},
            pages,
            policy or {},
            bool(row[16]),
            bool(row[17]),
        )
    )


def _link_params(token: str, ip: str | None) -> list[object]:
    """The bound values of `_LINK_BY_TOKEN_SQL`, in order."""
    return [*link_select_params(ip), token]


def link_by_token(token: str, ip: str | None = None) -> LinkContext | None:
    """What the click from `ip` needs about the link `token`, in one prepared statement."""
    sql = _LINK_BY_TOKEN_SQL if hot_connection().vendor == "postgresql" else _LINK_BY_TOKEN_SQLITE
    row = execute_fetchone(sql, _link_params(token, ip))
    return None if row is None else _link_context(row)


_ALLOWED_COUNTRIES = Campaign._meta.get_field("allowed_countries")
_FRAUD_POLICY = Campaign._meta.get_field("fraud_policy")
_INSERT_FIELDS = [field for field in Click._meta.concrete_fields if not field.primary_key]
_IS_UNIQUE = Click._meta.get_field("is_unique")
# Table and column names come from our models; every value is a bound parameter.
_CLICK_INSERT_SQL = (
    "INSERT INTO {table} ({columns}) VALUES ({values}) RETURNING id, is_unique".format(  # noqa: S608
        table=Click._meta.db_table,
        columns=", ".join(column_of(field) for field in _INSERT_FIELDS),
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


def click_insert(values: ClickValues) -> None:
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
    values["id"], is_unique = execute_returning(_CLICK_INSERT_SQL, params)
    values["is_unique"] = bool(is_unique)


# The usual click in one statement (PostgreSQL): read the link and, when nothing can block the
# click, insert it. "Nothing can block" is the cheap part of `_blocked_reason` written in SQL:
# campaign active, affiliate and access approved, no country targeting, no click-blocking cap,
# no targeting rules and no active landing page (whose draw needs Python).
# Any other link comes back without an inserted row, and Python decides the reason and inserts
# (`_click_insert`): the rules themselves live in `_blocked_reason` only. A test checks that the
# two paths agree for every combination of those columns.
_LINK_COLUMNS = (
    "id, campaign_id, affiliate_id, campaign_status, landing_url, fallback_url, external_offer_id,"
    " allowed_countries, timezone, affiliate_status, access_status, has_click_caps,"
    " attribution_window_hours, targeting, landing_pages, fraud_policy, deny_listed,"
    " datacenter_listed"
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
      AND link.targeting = '{{}}'::jsonb AND link.landing_pages = '[]'::jsonb
      AND NOT COALESCE(
          COALESCE(link.fraud_policy -> 'actions', link.fraud_policy) ?| ARRAY[{click_signals}],
          FALSE
      )
    RETURNING id, is_unique
)
SELECT link.*, inserted.id, inserted.is_unique FROM link LEFT JOIN inserted ON TRUE
""".format(  # noqa: S608 - table and column names come from our models; values are bound
    link_columns=_LINK_COLUMNS,
    link_sql=_LINK_BY_TOKEN_SQL,
    click_signals=", ".join(f"'{signal}'" for signal in CLICK_SIGNALS),
    table=Click._meta.db_table,
    columns=", ".join(column_of(field) for field in _INSERT_FIELDS),
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


def click_record_fast(token: str, values: ClickValues) -> LinkContext | None:
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
    params = _link_params(token, values["ip"])
    for field in _INSERT_FIELDS:
        if field.attname in bound:
            params.append(bound[field.attname])
        elif field.name == "is_unique":
            params += [bound["fingerprint"], since]
    params += _CLEAR_STATUSES
    row = execute_fetchone(_CLICK_FAST_SQL, params)
    if row is None:
        return None
    link = _link_context(row[:_LINK_WIDTH])
    if row[_LINK_WIDTH] is not None:
        values["link_id"] = link.link_id
        values["affiliate_id"] = link.affiliate_id
        values["campaign_id"] = link.campaign_id
        values["blocked_reason"] = ""
        values["id"], values["is_unique"] = row[_LINK_WIDTH], bool(row[_LINK_WIDTH + 1])
    return link
