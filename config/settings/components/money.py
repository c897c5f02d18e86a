"""Payout amounts."""

from config.env import env

# The smallest payout an affiliate may request: a decimal string, quantized by payouts.services.
PAYOUT_MINIMUM_AMOUNT = env.str("PAYOUT_MINIMUM_AMOUNT", default="50.00")
