"""A campaign's targeting: who may click it and when (`Campaign.targeting`).

The stored object, every part optional (docs/targeting.md shows it to users):

    {
      "countries":    {"include": ["US", "CA"]}  or  {"exclude": [...]},
      "device_types": {"include": ["mobile", "tablet"]}  or  {"exclude": [...]},
      "os":           {"include": ["Android", "iOS"]}  or  {"exclude": [...]},
      "browsers":     {"include": [...]}  or  {"exclude": [...]},
      "ip_allow":     ["203.0.113.0/24", "2001:db8::/32", ...],
      "ip_deny":      [...],
      "schedule":     {"days": [0, 1, 2, 3, 4], "hours": [8, 9, ..., 19]}
    }

`targeting_clean` validates and normalizes it: an empty list, an empty part or a schedule that
covers every day (or every hour) is no rule and is dropped, so a campaign without rules stores
`{}`, which is what lets its clicks take the one-statement path. Lists are deduplicated and
sorted; country codes upper-case; OS and browser names take the spelling clicks record when they
name a known one; CIDRs are written as networks (`10.1.2.3/24` -> `10.1.2.0/24`, a bare address
-> `/32` or `/128`). Days count from Monday = 0; hour 8 is 08:00-08:59 in the campaign's time
zone.

The campaign's older `allowed_countries` stays a field of its own, checked first and recorded
as `targeting_country`, so existing campaigns and integrations behave exactly as before.
Evaluating a click against these rules is `tracker.targeting`.
"""

import ipaddress
from collections.abc import Callable, Sequence
from typing import Any

from campaigns.terms import Invalid

# tracker.models.DeviceType's values (campaigns may not import tracker; a test keeps them equal).
DEVICE_TYPES = ("desktop", "mobile", "tablet", "bot", "other")
# The names clicks record most often (tracker.devices), offered by the editor; other names a
# click records can be typed in.
COMMON_OSES = ("Android", "iOS", "Windows", "macOS", "Linux", "ChromeOS")
COMMON_BROWSERS = ("Chrome", "Safari", "Firefox", "Edge", "Samsung Internet", "Opera")
LIST_PARTS = ("countries", "device_types", "os", "browsers")
IP_PARTS = ("ip_allow", "ip_deny")
PARTS = (*LIST_PARTS, *IP_PARTS, "schedule")
MODES = ("include", "exclude")
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MAX_LIST_LENGTH = 300
MAX_NETWORKS = 1000
_NAME_LENGTH = 64  # Click.os and Click.browser
_DASH = "\u2013"  # an en dash, in the summary's ranges


def _country(raw: Any) -> str:
    code = raw.strip().upper() if isinstance(raw, str) else ""
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        raise Invalid(f"not a 2-letter country code: {raw!r}")
    return code


def _device_type(raw: Any) -> str:
    value = raw.strip().lower() if isinstance(raw, str) else ""
    if value not in DEVICE_TYPES:
        raise Invalid(f"unknown device type {raw!r}; choose from {', '.join(DEVICE_TYPES)}")
    return value


def _named(known: Sequence[str]) -> Callable[[Any], str]:
    spelled = {name.casefold(): name for name in known}

    def clean(raw: Any) -> str:
        value = " ".join(raw.split()) if isinstance(raw, str) else ""
        if not value or len(value) > _NAME_LENGTH:
            raise Invalid(f"not a name of 1 to {_NAME_LENGTH} characters: {raw!r}")
        return spelled.get(value.casefold(), value)

    return clean


_ITEM_CLEANERS: dict[str, Callable[[Any], str]] = {
    "countries": _country,
    "device_types": _device_type,
    "os": _named(COMMON_OSES),
    "browsers": _named(COMMON_BROWSERS),
}


def _list(raw: Any, path: str, *, limit: int) -> list[Any]:
    if not isinstance(raw, list | tuple):
        raise Invalid(f"{path}: must be a list")
    if len(raw) > limit:
        raise Invalid(f"{path}: at most {limit} entries")
    return list(raw)


def _clean_list_part(raw: Any, part: str) -> dict[str, list[str]] | None:
    path = f"targeting.{part}"
    if not isinstance(raw, dict) or len(raw) != 1 or next(iter(raw)) not in MODES:
        raise Invalid(f'{path}: must be {{"include": [...]}} or {{"exclude": [...]}}')
    ((mode, items),) = raw.items()
    clean = _ITEM_CLEANERS[part]
    values: set[str] = set()
    for item in _list(items, f"{path}.{mode}", limit=MAX_LIST_LENGTH):
        try:
            values.add(clean(item))
        except Invalid as exc:
            raise Invalid(f"{path}.{mode}: {exc}") from exc
    if not values:
        return None
    if part == "device_types":
        return {mode: [value for value in DEVICE_TYPES if value in values]}
    return {mode: sorted(values, key=str.casefold)}


def _clean_networks(raw: Any, part: str) -> list[str]:
    path = f"targeting.{part}"
    networks: set[ipaddress.IPv4Network | ipaddress.IPv6Network] = set()
    for item in _list(raw, path, limit=MAX_NETWORKS):
        try:
            networks.add(ipaddress.ip_network(item.strip(), strict=False))
        except (AttributeError, ValueError) as exc:
            raise Invalid(f"{path}: not an IPv4 or IPv6 address or CIDR range: {item!r}") from exc
    return [str(network) for network in sorted(networks, key=lambda n: (n.version, n))]


def _clean_whole_numbers(raw: Any, path: str, *, top: int) -> list[int]:
    numbers: set[int] = set()
    for item in _list(raw, path, limit=top + 1):
        if isinstance(item, bool) or not isinstance(item, int) or not 0 <= item <= top:
            raise Invalid(f"{path}: whole numbers from 0 to {top} only, got {item!r}")
        numbers.add(item)
    return sorted(numbers)


def _clean_schedule(raw: Any) -> dict[str, list[int]]:
    if not isinstance(raw, dict) or set(raw) - {"days", "hours"}:
        raise Invalid('targeting.schedule: must be {"days": [0-6], "hours": [0-23]}')
    schedule: dict[str, list[int]] = {}
    for key, top in (("days", 6), ("hours", 23)):
        values = _clean_whole_numbers(raw.get(key, []), f"targeting.schedule.{key}", top=top)
        if values and len(values) <= top:  # every day (or hour) is no rule
            schedule[key] = values
    return schedule


def targeting_clean(raw: Any) -> dict[str, Any]:
    """The normalized targeting object, or Invalid naming the part that is wrong
    (`targeting.os.include: ...`). None means no targeting."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise Invalid("targeting: must be an object")
    unknown = sorted(str(key) for key in raw if key not in PARTS)
    if unknown:
        raise Invalid(f"targeting: unknown part(s) {', '.join(unknown)}; known: {', '.join(PARTS)}")
    cleaned: dict[str, Any] = {}
    for part in LIST_PARTS:
        if part in raw and (value := _clean_list_part(raw[part], part)):
            cleaned[part] = value
    for part in IP_PARTS:
        if part in raw and (networks := _clean_networks(raw[part], part)):
            cleaned[part] = networks
    if "schedule" in raw and (schedule := _clean_schedule(raw["schedule"])):
        cleaned["schedule"] = schedule
    return cleaned


# --- the summary line --------------------------------------------------------------------------


def _ranges(numbers: Sequence[int]) -> list[tuple[int, int]]:
    """[1, 2, 3, 5] -> [(1, 3), (5, 5)]"""
    spans: list[tuple[int, int]] = []
    for number in numbers:
        if spans and spans[-1][1] == number - 1:
            spans[-1] = (spans[-1][0], number)
        else:
            spans.append((number, number))
    return spans


def _days_text(days: Sequence[int]) -> str:
    if list(days) == [0, 1, 2, 3, 4]:
        return "weekdays"
    if list(days) == [5, 6]:
        return "weekends"
    return ", ".join(
        DAY_NAMES[first] if first == last else f"{DAY_NAMES[first]}{_DASH}{DAY_NAMES[last]}"
        for first, last in _ranges(days)
    )


def _hours_text(hours: Sequence[int]) -> str:
    return ", ".join(f"{first:02d}{_DASH}{last + 1:02d}" for first, last in _ranges(hours))


def _list_text(rule: dict[str, list[str]], *, exclude_prefix: str, joiner: str = "/") -> str:
    ((mode, values),) = rule.items()
    text = joiner.join(values)
    return text if mode == "include" else f"{exclude_prefix}{text}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def targeting_summary(targeting: dict[str, Any]) -> str:
    """One line for people: `mobile Android/iOS in US, CA; weekdays 08-20 local`
    (with an en dash in ranges).

    Expects a normalized object (`targeting_clean`); hours are shown as ranges whose end is
    exclusive, in the campaign's time zone ("local").
    """
    if not targeting:
        return "everyone, any time"
    who = [
        _list_text(targeting[part], exclude_prefix="non-")
        for part in ("device_types", "os", "browsers")
        if part in targeting
    ]
    if "countries" in targeting:
        ((mode, codes),) = targeting["countries"].items()
        who.append(("in " if mode == "include" else "outside ") + ", ".join(codes))
    segments = [" ".join(who)] if who else []
    schedule = targeting.get("schedule", {})
    if schedule:
        when = [_days_text(schedule["days"])] if "days" in schedule else ["every day"]
        if "hours" in schedule:
            when.append(f"{_hours_text(schedule['hours'])} local")
        segments.append(" ".join(when))
    if "ip_allow" in targeting:
        segments.append(f"IPs in {_plural(len(targeting['ip_allow']), 'range')}")
    if "ip_deny" in targeting:
        segments.append(f"{_plural(len(targeting['ip_deny']), 'range')} denied")
    return "; ".join(segments)
