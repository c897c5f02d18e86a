"""System checks of the exchange rate settings, which would otherwise fail only when a report or
the scheduled load first reads them."""

from typing import Any

from django.conf import settings
from django.core.checks import Error, register

from core.currencies import CURRENCY_CODES


@register()
def exchange_rate_settings_check(**kwargs: Any) -> list[Error]:
    errors = []
    if settings.REPORTING_CURRENCY not in CURRENCY_CODES:
        errors.append(
            Error(
                f"REPORTING_CURRENCY: {settings.REPORTING_CURRENCY!r} is not an ISO 4217 "
                "currency code.",
                id="clickledger.E020",
            )
        )
    if settings.EXCHANGE_RATE_MAX_AGE_DAYS < 0:
        errors.append(Error("EXCHANGE_RATE_MAX_AGE_DAYS must be 0 or more.", id="clickledger.E021"))
    return errors
