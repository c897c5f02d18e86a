"""Client IP and country of an incoming request, from trusted proxy settings only."""

import functools
import ipaddress
from collections.abc import Iterable

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, or the address the N-th trusted proxy saw when TRUSTED_PROXY_COUNT = N."""
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            remote = forwarded[-proxies]
    if remote is None:
        return None
    try:
        return str(ipaddress.ip_address(remote))
    except ValueError:
        return None


def client_country(request: HttpRequest) -> str:
    header = settings.COUNTRY_HEADER
    if not header:
        return ""
    meta_key = "HTTP_" + header.upper().replace("-", "_")
    value = request.META.get(meta_key, "").strip().upper()
    return value if len(value) == 2 and value.isalpha() else ""


@functools.lru_cache(maxsize=256)
def _network(entry: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(entry.strip(), strict=False)


def address_in_networks(address: str | None, networks: Iterable[str]) -> bool:
    """True when `address` (an IP as text; None or garbage: False) is inside any of `networks`
    (addresses or CIDR ranges, already validated where they were saved or configured)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in _network(entry) for entry in networks)
