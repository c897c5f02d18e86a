"""Payout amounts."""

from config.env import env

# The smallest payout an affiliate may request: a decimal string, quantized by payouts.services.
PAYOUT_MINIMUM_AMOUNT = env.str("PAYOUT_MINIMUM_AMOUNT", default="50.00")

# Exchange rates (payouts.exchange_rates). The network's reporting currency: what reports convert
# money to on request (`GET /api/reports?currency=reporting`). An ISO 4217 code.
REPORTING_CURRENCY = env.str("REPORTING_CURRENCY", default="USD").strip().upper()
# Where the scheduled task loads the day's rates from: a JSON document shaped
# `{"base": "EUR", "date": "2026-12-02", "rates": {"USD": "1.0512", ...}}`. Empty: the task does
# nothing (rates are entered in the console or the API, or imported from CSV).
EXCHANGE_RATES_URL = env.str("EXCHANGE_RATES_URL", default="")
# How many days back a missing day's rate may be taken from (0: only that day's rate). Sources
# such as the ECB publish no rate on weekends and holidays; 3 covers a long weekend.
EXCHANGE_RATE_MAX_AGE_DAYS = env.int("EXCHANGE_RATE_MAX_AGE_DAYS", default=0)

# Days between an invoice's issue and its due date (payouts.invoices).
INVOICE_DUE_DAYS = env.int("INVOICE_DUE_DAYS", default=30)
