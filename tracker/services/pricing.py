"""What a conversion is worth: the revenue the partner pays and the affiliate's payout.

The event's terms, or those of the pricing rule that won for the conversion. Revenue: the
postback's `payout`, else the rule's `revenue_amount` when it has one, else the event's default
revenue. Payout: `fixed` pays the fixed amount whatever the revenue, `revshare` a percentage of
it. Decimal only, 4 places, ROUND_HALF_UP, applied here before anything is saved.
"""

from dataclasses import dataclass
from decimal import Decimal

from campaigns.models import ConversionEvent, PayoutType, PricingRule
from core.money import quantize_money, revshare_payout


@dataclass(frozen=True)
class Price:
    revenue: Decimal
    payout: Decimal


def conversion_price(
    *, event: ConversionEvent, rule: PricingRule | None, revenue: Decimal | None
) -> Price:
    """The conversion's revenue and payout from the partner's amount (None: not sent)."""
    if revenue is None:
        if rule is not None and rule.revenue_amount is not None:
            revenue = rule.revenue_amount
        else:
            revenue = event.default_revenue
    revenue = quantize_money(revenue)
    terms: ConversionEvent | PricingRule = event if rule is None else rule
    if terms.payout_type == PayoutType.REVSHARE:
        return Price(revenue, revshare_payout(revenue=revenue, percent=terms.revshare_percent))
    return Price(revenue, quantize_money(terms.payout_amount))
