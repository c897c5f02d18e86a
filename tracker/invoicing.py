"""How conversions appear on advertiser invoices: one revenue line per campaign and event.

The payouts app builds invoices from ledger entries, which reference conversions by id only
(payouts cannot import the tracker); this module, registered in `TrackerConfig.ready`, names them.
"""

from payouts.invoices import LineLabel
from tracker.models import Conversion


def conversion_invoice_labels(conversion_ids: list[int]) -> dict[int, LineLabel]:
    """conversion id -> its campaign and event, as an invoice line names them."""
    rows = Conversion.objects.filter(pk__in=conversion_ids).values_list(
        "pk", "campaign_id", "campaign__name", "event_id", "event__name"
    )
    return {
        pk: LineLabel(
            description=f"{campaign_name} — {event_name}",
            campaign_id=campaign_id,
            event_id=event_id,
        )
        for pk, campaign_id, campaign_name, event_id, event_name in rows.iterator(chunk_size=2000)
    }
