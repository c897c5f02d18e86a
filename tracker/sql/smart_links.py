"""The smart link redirect's one read: the smart link and, per entry in priority order, the
affiliate's tracking link for the entry's campaign with everything a click reads about a link.

The link part is the click's own SELECT (`tracker.sql.clicks._LINK_SELECT_SQL`), used as a
derived table joined on (campaign, affiliate), and its columns are parsed by the click's own
`_link_context`: whatever the click learns to read about a link, a smart link's candidates read
too, in the same statement. Its columns come last in each row (`candidate.*`), so columns added
to it never move the smart link's.
"""

from typing import NamedTuple

from campaigns.models import SmartLink, SmartLinkEntry
from core.sql import execute_fetchall, hot_connection
from tracker.sql.clicks import (
    _LINK_SELECT_SQL,
    _LINK_SELECT_SQLITE,
    LinkContext,
    _link_context,
    link_select_params,
)


class SmartLinkCandidate(NamedTuple):
    priority: int
    weight: int
    link: LinkContext


class SmartLinkContext(NamedTuple):
    smart_link_id: int
    affiliate_id: int
    catch_all_url: str
    # Priority order (then entry order); entries without a tracking link are left out.
    candidates: list[SmartLinkCandidate]


def _smart_link_sql(link_select: str) -> str:
    """The smart link read around `link_select`, the click's link SELECT (without its WHERE).
    The candidate's columns are named after the link's (`link.campaign_id` -> `campaign_id`)."""
    return f"""
SELECT smart.id, smart.affiliate_id, smart.catch_all_url, entry.priority, entry.weight,
       candidate.*
FROM {SmartLink._meta.db_table} smart
LEFT JOIN {SmartLinkEntry._meta.db_table} entry ON entry.smart_link_id = smart.id
LEFT JOIN ({link_select}) candidate
       ON candidate.campaign_id = entry.campaign_id AND candidate.affiliate_id = smart.affiliate_id
WHERE smart.token = %s AND smart.is_active = %s
ORDER BY entry.priority, entry.id
"""  # noqa: S608 - table names come from our models; values are bound parameters


_SMART_LINK_SQL = _smart_link_sql(_LINK_SELECT_SQL)
_SMART_LINK_SQLITE = _smart_link_sql(_LINK_SELECT_SQLITE)
_SMART_COLUMNS = 5


def smart_link_by_token(token: str, ip: str | None = None) -> SmartLinkContext | None:
    """The active smart link `token` with its candidates as seen by a click from `ip`, in one
    statement; None when there is no such active smart link."""
    sql = _SMART_LINK_SQL if hot_connection().vendor == "postgresql" else _SMART_LINK_SQLITE
    rows = execute_fetchall(sql, [*link_select_params(ip), token, True])
    if not rows:
        return None
    smart_link_id, affiliate_id, catch_all_url = rows[0][:3]
    candidates = [
        SmartLinkCandidate(priority=row[3], weight=row[4], link=_link_context(row[_SMART_COLUMNS:]))
        for row in rows
        if row[_SMART_COLUMNS] is not None
    ]
    return SmartLinkContext(
        smart_link_id=smart_link_id,
        affiliate_id=affiliate_id,
        catch_all_url=catch_all_url,
        candidates=candidates,
    )
