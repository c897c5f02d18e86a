"""The postback's hand-written SQL: its click lookup, one prepared statement that also says what
the rest of the request may skip (caps, pricing rules, forwarding)."""

import functools

from campaigns.models import Campaign, Cap, ConversionEvent, PricingRule
from core.sql import execute_fetchone, model_columns, model_from_row
from forwarding.models import PostbackEndpoint
from tracker.models import Click
from tracker.services.conversions import ClickAttribution


@functools.cache
def _click_by_id_sql(*, by_advertiser: bool, by_affiliate: bool) -> str:
    click, campaign = Click._meta.db_table, Campaign._meta.db_table
    scopes = ["click.click_id = %s"]
    if by_advertiser:
        scopes.append("campaign.advertiser_id = %s")
    if by_affiliate:
        scopes.append("click.affiliate_id = %s")
    # Table and column names come from our models; values are bound parameters. The event named
    # by the postback (or, when it names none, the default one) rides along: at most one row
    # matches, (campaign, code) being unique and a campaign having one default event.
    return f"""
SELECT {model_columns(Click, "click")}, {model_columns(Campaign, "campaign")},
       {model_columns(ConversionEvent, "event")},
       EXISTS (SELECT 1 FROM {Cap._meta.db_table} cap WHERE cap.campaign_id = click.campaign_id),
       EXISTS (
           SELECT 1 FROM {PricingRule._meta.db_table} pricing_rule
           WHERE pricing_rule.campaign_id = click.campaign_id
       ),
       EXISTS (
           SELECT 1 FROM {PostbackEndpoint._meta.db_table} endpoint
           WHERE endpoint.affiliate_id = click.affiliate_id AND endpoint.is_active
       )
FROM {click} click
JOIN {campaign} campaign ON campaign.id = click.campaign_id
LEFT JOIN {ConversionEvent._meta.db_table} event ON event.campaign_id = click.campaign_id
    AND CASE WHEN %s = '' THEN event.is_default ELSE event.code = %s END
WHERE {" AND ".join(scopes)}
"""  # noqa: S608


def click_by_id(
    *, click_id: str, advertiser_id: int | None, affiliate_id: int | None, event_code: str = ""
) -> ClickAttribution | None:
    """The click, its campaign, the event `event_code` names (empty: the default event; None
    when the campaign has no such event) and the hints, in one prepared statement (the usual
    postback). Scoped to the advertiser's campaigns and/or the affiliate's clicks, whichever is
    given."""
    scope_values = [value for value in (advertiser_id, affiliate_id) if value is not None]
    if not scope_values:
        raise ValueError("A click is only looked up within an advertiser's or affiliate's scope.")
    row = execute_fetchone(
        _click_by_id_sql(
            by_advertiser=advertiser_id is not None, by_affiliate=affiliate_id is not None
        ),
        [event_code, event_code, click_id, *scope_values],
    )
    if row is None:
        return None
    click_end = len(Click._meta.concrete_fields)
    campaign_end = click_end + len(Campaign._meta.concrete_fields)
    event_end = campaign_end + len(ConversionEvent._meta.concrete_fields)
    click = model_from_row(Click, row[:click_end])
    click.campaign = model_from_row(Campaign, row[click_end:campaign_end])
    event_values = row[campaign_end:event_end]
    event = None if event_values[0] is None else model_from_row(ConversionEvent, event_values)
    has_caps, has_rules, may_forward = row[event_end:]
    return ClickAttribution(
        click=click,
        has_caps=bool(has_caps),
        may_forward=bool(may_forward),
        has_rules=bool(has_rules),
        event=event,
    )
