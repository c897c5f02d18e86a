"""What a conversion event tells the affiliate's postback endpoints, and queuing it.

The forwarding app stores and sends events; the values of an event (its macros) come from the
tracker's rows: the conversion, its click and campaign. Every value is a string, and `payout` is
the affiliate's payout, never the revenue.
"""

import datetime as dt
import uuid
from decimal import Decimal

from campaigns.models import Campaign, ConversionEvent
from forwarding.models import ForwardEvent
from forwarding.services.outbox import deliveries_create, forward_money_text, unix_text
from tracker.models import Click, Conversion, ConversionHistory, ConversionStatus
from tracker.services.pricing import conversion_price


def _click_values(click: Click, campaign: Campaign) -> dict[str, str]:
    return {
        "click_id": click.click_id,
        "campaign_id": str(click.campaign_id),
        "offer_id": campaign.external_offer_id or str(click.campaign_id),
        "affiliate_id": str(click.affiliate_id),
        "sub1": click.sub1,
        "sub2": click.sub2,
        "sub3": click.sub3,
        "sub4": click.sub4,
        "sub5": click.sub5,
    }


def conversion_event_values(
    *, conversion: Conversion, history: ConversionHistory
) -> dict[str, str]:
    """The macro values of one status change (everything but `event_id`), all strings.

    `points` is what the change credited (approved) or took back (leaving approved) for the
    conversion's end user, else 0.
    """
    to_status = history.to_status
    if conversion.user_id and to_status == ConversionStatus.APPROVED:
        points = conversion.points_awarded
    elif conversion.user_id and history.from_status == ConversionStatus.APPROVED:
        points = conversion.payout
    else:
        points = Decimal(0)
    values = _click_values(conversion.click, conversion.campaign)
    values.update(
        transaction_id=conversion.transaction_id,
        conversion_id=str(conversion.pk),
        status=to_status,
        payout=forward_money_text(conversion.payout),
        currency=conversion.currency,
        points=forward_money_text(points),
        user_id=conversion.user_id,
        country=conversion.country,
        timestamp=unix_text(history.created_at),
        event=conversion.event.code,
        event_name=conversion.event.name,
    )
    return values


def forwards_queue_for_change(
    *, conversion: Conversion, history: ConversionHistory, now: dt.datetime
) -> list[int]:
    """Queue the status change `history` of `conversion` to every endpoint that wants it, in the
    caller's transaction; once per (endpoint, history row). The delivery ids."""
    return deliveries_create(
        affiliate_id=conversion.affiliate_id,
        campaign_id=conversion.campaign_id,
        event=history.to_status,
        event_key=f"history:{history.pk}",
        conversion_id=conversion.pk,
        values=conversion_event_values(conversion=conversion, history=history),
        now=now,
        conversion_event=conversion.event.code,
    )


def forwards_queue_for_test_postback(
    *,
    advertiser_id: int,
    click_id: str,
    revenue: Decimal | None,
    event_code: str = "",
    transaction_id: str = "",
    user_id: str = "",
    now: dt.datetime,
) -> list[int]:
    """A partner's `status=test` postback, forwarded to the click's affiliate's endpoints that
    subscribed to test events. Nothing when the click is unknown or not the advertiser's.

    The values are those a real conversion of the event `event_code` (empty: the campaign's
    default event; an unknown code forwards nothing) would carry, priced by the event's own
    terms (a test matches no pricing rule), with `status=test` and no conversion id. Each test
    postback is forwarded (no dedupe).
    """
    click = (
        Click.objects.select_related("campaign")
        .filter(click_id=click_id, campaign__advertiser_id=advertiser_id)
        .first()
        if click_id
        else None
    )
    if click is None:
        return []
    events = ConversionEvent.objects.filter(campaign_id=click.campaign_id)
    event = (
        events.filter(code=event_code) if event_code else events.filter(is_default=True)
    ).first()
    if event is None:
        return []
    payout = conversion_price(event=event, rule=None, revenue=revenue).payout
    end_user = click.user_id or user_id
    values = _click_values(click, click.campaign)
    values.update(
        transaction_id=transaction_id,
        conversion_id="",
        status=ForwardEvent.TEST,
        payout=forward_money_text(payout),
        currency=click.campaign.currency,
        points=forward_money_text(payout if end_user else Decimal(0)),
        user_id=end_user,
        country=click.country,
        timestamp=unix_text(now),
        event=event.code,
        event_name=event.name,
    )
    return deliveries_create(
        affiliate_id=click.affiliate_id,
        campaign_id=click.campaign_id,
        event=ForwardEvent.TEST,
        event_key=f"test:{uuid.uuid4()}",
        conversion_id=None,
        values=values,
        now=now,
        conversion_event=event.code,
    )
