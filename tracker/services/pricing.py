"""What a conversion is worth: the revenue the partner pays and the affiliate's payout.

Decimal only, 4 places, ROUND_HALF_UP, applied here before anything is saved.
"""

from decimal import Decimal

from campaigns.models import Campaign, PayoutType
from core.money import quantize_money, revshare_payout


def conversion_money(*, campaign: Campaign, revenue: Decimal | None) -> tuple[Decimal, Decimal]:
    """(revenue, affiliate payout): the postback's payout else the campaign's default revenue;
    fixed campaigns pay their fixed amount whatever the revenue, revshare ones a percentage."""
    revenue = quantize_money(campaign.default_revenue if revenue is None else revenue)
    if campaign.payout_type == PayoutType.REVSHARE:
        return revenue, revshare_payout(revenue=revenue, percent=campaign.revshare_percent)
    return revenue, quantize_money(campaign.payout_amount)
