"""The smart link redirect (`/s/<token>`): pick the campaign that takes the visit, record the
click on the affiliate's tracking link for it, exactly as `/c/<token>` would, with the smart link
noted on the click.

One read (`tracker.sql.smart_links`: the smart link and every entry's link context, in priority
order), then, in Python, the click's own rules on each candidate (`_link_values_add`, which
decides `blocked_reason` for `/c/` too: paused or archived campaign, access revoked, affiliate
not approved, targeting, click-blocking caps, and whatever else blocks a click), then one
INSERT through `click_insert`. Reading click-blocking caps costs their reads per capped
candidate, as on `/c/`; a smart link over campaigns without such caps costs two statements.

Among the first priority level with at least one candidate that would not be blocked (and a
weight above 0), one is drawn by weight. When no entry can take the visit, nothing is recorded
(no campaign took it, so there is no link to count it on and nothing it could ever earn) and the
visitor goes to the smart link's catch-all URL, with the visit's own macros filled; without one
the answer is 404, like an unknown link.
"""

import datetime as dt
import itertools
import random
from collections.abc import Mapping

from campaigns.draws import DRAW_RANDOM, weighted_choice
from campaigns.macros import template_fill
from core.exceptions import ApplicationError
from core.tokens import new_click_id
from tracker.services.clicks import (
    SUB_FIELDS,
    ClickOutcome,
    _link_values_add,
    _redirect_url,
    _visit_values,
)
from tracker.sql.clicks import ClickValues, LinkContext, click_insert
from tracker.sql.smart_links import SmartLinkContext, smart_link_by_token

# A draw decides where traffic goes, not a secret: the process's generator is enough.


class SmartLinkOutcome:
    """Where the visitor goes and, when a campaign took the visit, its click (`click`, the
    `/c/` outcome: redirect, cookie lifetime). `redirect_url` None: answer 404."""

    def __init__(self, *, redirect_url: str | None, click: ClickOutcome | None) -> None:
        self.redirect_url = redirect_url
        self.click = click


def _choose(
    smart: SmartLinkContext, visit: ClickValues, now: dt.datetime, rng: random.Random
) -> tuple[LinkContext, ClickValues] | None:
    """The candidate that takes the visit, with the click's values completed for its link."""
    for _priority, level in itertools.groupby(smart.candidates, key=lambda c: c.priority):
        open_: list[tuple[LinkContext, ClickValues]] = []
        weights: list[int] = []
        for candidate in level:
            if candidate.weight <= 0:
                continue
            values = dict(visit)
            _link_values_add(values, link=candidate.link, now=now, rng=rng)
            if values["blocked_reason"]:
                continue
            open_.append((candidate.link, values))
            weights.append(candidate.weight)
        chosen = weighted_choice(open_, weights, rng)
        if chosen is not None:
            return chosen
    return None


def _catch_all_url(smart: SmartLinkContext, visit: ClickValues) -> str | None:
    if not smart.catch_all_url:
        return None
    values = {
        "affiliate_id": smart.affiliate_id,
        "user_id": visit["user_id"],
        "country": visit["country"],
    }
    values.update({name: visit[name] for name in SUB_FIELDS})
    return template_fill(smart.catch_all_url, values)


def smart_click_record(
    *,
    token: str,
    params: Mapping[str, str],
    ip: str | None,
    user_agent: str,
    referer: str,
    country: str,
    now: dt.datetime,
    rng: random.Random | None = None,
) -> SmartLinkOutcome:
    """Send one visit of the smart link `token` to the campaign that takes it (see the module).

    Not idempotent by design, like `click_record`: every request is a visit. Runs in autocommit:
    the click's INSERT is the only write. Unknown or inactive smart link: ApplicationError 404
    `unknown_link`, nothing written. `rng`: the draw's generator (tests seed one).
    """
    visit = _visit_values(
        click_id=new_click_id(),
        params=params,
        ip=ip,
        user_agent=user_agent,
        referer=referer,
        country=country,
        now=now,
    )
    smart = smart_link_by_token(token, ip)
    if smart is None:
        raise ApplicationError("Unknown smart link.", code="unknown_link", status=404)
    chosen = _choose(smart, visit, now, rng or DRAW_RANDOM)
    if chosen is None:
        return SmartLinkOutcome(redirect_url=_catch_all_url(smart, visit), click=None)
    link, values = chosen
    values["smart_link_id"] = smart.smart_link_id
    click_insert(values)
    click = ClickOutcome(
        click_values=values,
        redirect_url=_redirect_url(click=values, link=link),
        attribution_window_hours=link.attribution_window_hours,
    )
    return SmartLinkOutcome(redirect_url=click.redirect_url, click=click)
