"""Whether a click passes its campaign's targeting (`Campaign.targeting`, see
`campaigns.targeting` for the object and its validation).

A pure function of the click's facts and the campaign's rules, run on the click path only for
campaigns that have rules (the others store `{}` and never get here).
"""

import datetime as dt
import functools
import ipaddress
from typing import Any
from zoneinfo import ZoneInfo

_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=4096)
def _network(cidr: str) -> _IPNetwork:
    return ipaddress.ip_network(cidr, strict=False)


def _address(ip: str | None) -> _IPAddress | None:
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    # A dual-stack server may see an IPv4 visitor as ::ffff:a.b.c.d.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _in_any(address: _IPAddress, cidrs: list[str]) -> bool:
    return any(address in _network(cidr) for cidr in cidrs)


def _fails_list(rule: dict[str, list[str]] | None, value: str) -> bool:
    if not rule:
        return False
    ((mode, values),) = rule.items()
    listed = value.casefold() in {item.casefold() for item in values} if value else False
    return not listed if mode == "include" else listed


def targeting_block_reason(
    targeting: dict[str, Any],
    *,
    country: str,
    device_type: str,
    os: str,
    browser: str,
    ip: str | None,
    now: dt.datetime,
    timezone: str,
) -> str | None:
    """The first rule the click fails (`countries`, `device_types`, `os`, `browsers`,
    `ip_allow`, `ip_deny` or `schedule`), or None when it passes every rule.

    An unknown value (no country, no OS, no IP) is on no include list, so an include rule blocks
    it and an exclude rule lets it through. `now` is aware; the schedule is read in the
    campaign's `timezone`.
    """
    for part, value in (
        ("countries", country),
        ("device_types", device_type),
        ("os", os),
        ("browsers", browser),
    ):
        if _fails_list(targeting.get(part), value):
            return part
    allow, deny = targeting.get("ip_allow"), targeting.get("ip_deny")
    if allow or deny:
        address = _address(ip)
        if allow and (address is None or not _in_any(address, allow)):
            return "ip_allow"
        if deny and address is not None and _in_any(address, deny):
            return "ip_deny"
    schedule = targeting.get("schedule")
    if schedule:
        local = now.astimezone(ZoneInfo(timezone))
        days, hours = schedule.get("days"), schedule.get("hours")
        if (days and local.weekday() not in days) or (hours and local.hour not in hours):
            return "schedule"
    return None
