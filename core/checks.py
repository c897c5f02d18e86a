"""System checks of settings that would otherwise fail only on the first request that reads them."""

import ipaddress
from typing import Any

from django.conf import settings
from django.core.checks import Error, register


@register()
def legacy_postback_allowed_ips_check(**kwargs: Any) -> list[Error]:
    errors = []
    for entry in settings.LEGACY_POSTBACK_ALLOWED_IPS:
        try:
            ipaddress.ip_network(str(entry).strip(), strict=False)
        except ValueError:
            errors.append(
                Error(
                    f"LEGACY_POSTBACK_ALLOWED_IPS: {entry!r} is not an IP address or CIDR range.",
                    id="clickledger.E001",
                )
            )
    return errors
