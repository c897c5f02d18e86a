"""The operator's IP lists (deny, data-center): loading CIDR files and asking whether an address
is listed.

Addresses are stored as 16 big-endian bytes, IPv4 mapped into IPv6 (`::ffff:a.b.c.d`): bytes of
one length compare like the addresses they encode, on PostgreSQL (bytea) as on SQLite (blob), so
one ordinary index serves both. Each list keeps its own merged ranges (`IpListRange`); every load
or removal of a list rebuilds its kind's union (`IpRange`): non-overlapping ranges, so "is this
address listed" is one index probe, the last range starting at or before the address, then a
look at its end (`ip_listed_sql`). The click path runs that probe inside its link read
(`tracker.sql.clicks`), not as a query of its own.
"""

import datetime as dt
import ipaddress
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.audit import audit_record, audit_snapshot
from core.exceptions import ApplicationError
from core.models import AuditSource
from core.sql import execute_fetchone
from tracker.models import IpList, IpListKind, IpListRange, IpRange

_V4_MAPPED = 0xFFFF << 32
_BATCH = 5_000
_AUDITED = ["kind", "name", "source", "loaded_at", "entry_count", "range_count"]
# Lines quoted back in a refusal: enough to fix a file, not a megabyte of error text.
BAD_LINES_SHOWN = 20
MAX_LINE_LENGTH = 200


def ip_listed_sql(kind: IpListKind) -> str:
    """A scalar SQL expression: true when the address (bound twice, as `ip_key`) is in a range
    of `kind`, NULL or false when not (NULL: no range starts at or before it, or no address).
    One backward probe of the (kind, start_key) index; to embed in a SELECT."""
    return (
        f"(SELECT r.end_key FROM {IpRange._meta.db_table} r"  # noqa: S608 - our table and kind
        f" WHERE r.kind = '{kind.value}' AND r.start_key <= %s"
        " ORDER BY r.start_key DESC LIMIT 1) >= %s"
    )


def _as_int(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> int:
    if isinstance(address, ipaddress.IPv4Address):
        return _V4_MAPPED | int(address)
    return int(address)


def _as_key(value: int) -> bytes:
    return value.to_bytes(16, "big")


def ip_key(ip: str | None) -> bytes | None:
    """The stored form of one address, None when `ip` is empty or not an address."""
    if not ip:
        return None
    try:
        return _as_key(_as_int(ipaddress.ip_address(ip.strip())))
    except ValueError:
        return None


def ip_from_key(key: bytes) -> str:
    """The address a stored key encodes, IPv4 as dotted quad."""
    address = ipaddress.IPv6Address(bytes(key))
    mapped = address.ipv4_mapped
    return str(mapped if mapped is not None else address)


def _parse_entry(text: str) -> tuple[int, int]:
    """(first, last) of one line: an address, a CIDR (host bits allowed) or `first-last`."""
    if "-" in text:
        first_text, _, last_text = text.partition("-")
        first = ipaddress.ip_address(first_text.strip())
        last = ipaddress.ip_address(last_text.strip())
        if first.version != last.version:
            raise ValueError("a range's two ends must be both IPv4 or both IPv6")
        if last < first:  # type: ignore[operator]  # same version, checked above
            raise ValueError("a range's end comes before its start")
        return _as_int(first), _as_int(last)
    network = ipaddress.ip_network(text, strict=False)
    return _as_int(network.network_address), _as_int(network.broadcast_address)


@dataclass
class ParsedList:
    """A file's entries as (first, last) integer pairs, and its unusable lines (number, text,
    why)."""

    ranges: list[tuple[int, int]] = field(default_factory=list)
    bad_lines: list[tuple[int, str, str]] = field(default_factory=list)


def ip_list_parse(lines: Iterable[str | bytes], *, max_entries: int | None = None) -> ParsedList:
    """Read one entry per line (an address, a CIDR or `first-last`); `#` starts a comment,
    blank lines are skipped. Stops with 400 `ip_list_too_large` past `max_entries`
    (IP_LIST_MAX_ENTRIES)."""
    limit = settings.IP_LIST_MAX_ENTRIES if max_entries is None else max_entries
    parsed = ParsedList()
    for number, raw in enumerate(lines, start=1):
        line = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        if len(text) > MAX_LINE_LENGTH:
            parsed.bad_lines.append((number, text[:60] + "...", "line too long"))
            continue
        try:
            parsed.ranges.append(_parse_entry(text))
        except ValueError as exc:
            parsed.bad_lines.append((number, text, str(exc)))
            continue
        if len(parsed.ranges) > limit:
            raise ApplicationError(
                f"More than {limit} entries (line {number}); split the list or raise "
                "IP_LIST_MAX_ENTRIES.",
                code="ip_list_too_large",
            )
    return parsed


def ranges_merge(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping ranges covering exactly the same addresses (adjacent ranges are
    joined: 10.0.0.0/25 and 10.0.0.128/25 become one)."""
    merged: list[tuple[int, int]] = []
    for first, last in sorted(ranges):
        if merged and first <= merged[-1][1] + 1:
            if last > merged[-1][1]:
                merged[-1] = (merged[-1][0], last)
        else:
            merged.append((first, last))
    return merged


def _union_rebuild(kind: str) -> int:
    """Rebuild the kind's `IpRange` union from its lists' ranges; how many ranges it has."""
    IpRange.objects.filter(kind=kind).delete()
    pairs = (
        IpListRange.objects.filter(ip_list__kind=kind)
        .order_by("start_key")
        .values_list("start_key", "end_key")
    )
    merged = ranges_merge(
        (int.from_bytes(first, "big"), int.from_bytes(last, "big"))
        for first, last in pairs.iterator(chunk_size=_BATCH)
    )
    for batch in _batches(merged):
        IpRange.objects.bulk_create(
            [
                IpRange(kind=kind, start_key=_as_key(first), end_key=_as_key(last))
                for first, last in batch
            ]
        )
    return len(merged)


def _batches(items: list[tuple[int, int]]) -> Iterator[list[tuple[int, int]]]:
    for at in range(0, len(items), _BATCH):
        yield items[at : at + _BATCH]


def _lock_kind(kind: str) -> None:
    """Serialize the loads of one kind: their union rebuilds must not interleave."""
    list(IpList.objects.select_for_update().filter(kind=kind).order_by("id").values("id"))


def _check_kind(kind: str) -> None:
    if kind not in IpListKind.values:
        raise ApplicationError(
            f"Unknown list kind {kind!r}.",
            code="invalid_ip_list_kind",
            fields={"kind": [f"Choose one of: {', '.join(IpListKind.values)}."]},
        )


def _bad_lines_error(bad_lines: list[tuple[int, str, str]]) -> ApplicationError:
    shown = [f"line {number}: {text!r}: {why}" for number, text, why in bad_lines[:BAD_LINES_SHOWN]]
    more = len(bad_lines) - len(shown)
    return ApplicationError(
        f"{len(bad_lines)} unusable line(s); nothing was loaded.",
        code="invalid_ip_list",
        fields={"file": shown + ([f"... and {more} more"] if more else [])},
    )


@dataclass(frozen=True)
class IpListLoadResult:
    ip_list: IpList
    entries: int
    ranges: int
    kind_ranges: int  # the kind's union, every list together
    bad_lines: list[tuple[int, str, str]]


def ip_list_load(
    *,
    kind: str,
    name: str,
    lines: Iterable[str | bytes],
    source: str = "",
    skip_invalid: bool = False,
    actor: Any = None,
    audit_source: str = AuditSource.SYSTEM,
    progress: Callable[[str], None] | None = None,
    now: dt.datetime | None = None,
) -> IpListLoadResult:
    """Replace the list (`kind`, `name`) with the entries of `lines`, creating it if new.

    One transaction: the list's ranges and its kind's union change together, and a click never
    sees a half-loaded list. Unusable lines refuse the whole file (400 `invalid_ip_list`, naming
    the lines) unless `skip_invalid`, which loads the rest and returns them in `bad_lines`.
    Written to the audit log (`actor`, `audit_source`); `progress` hears each step.
    """
    say = progress or (lambda message: None)
    _check_kind(kind)
    name = name.strip()
    if not name or len(name) > 100:
        raise ApplicationError(
            "A list needs a name of 1 to 100 characters.",
            code="invalid_ip_list_name",
            fields={"name": ["1 to 100 characters."]},
        )
    parsed = ip_list_parse(lines)
    say(f"read {len(parsed.ranges)} entries, {len(parsed.bad_lines)} unusable line(s)")
    if parsed.bad_lines and not skip_invalid:
        raise _bad_lines_error(parsed.bad_lines)
    merged = ranges_merge(parsed.ranges)
    say(f"merged into {len(merged)} ranges")
    now = now or timezone.now()
    with transaction.atomic():
        _lock_kind(kind)
        previous = IpList.objects.filter(kind=kind, name=name).first()
        before = audit_snapshot(previous, _AUDITED) if previous is not None else {}
        ip_list, _ = IpList.objects.update_or_create(
            kind=kind,
            name=name,
            defaults={
                "source": source[:500],
                "loaded_at": now,
                "entry_count": len(parsed.ranges),
                "range_count": len(merged),
            },
        )
        IpListRange.objects.filter(ip_list=ip_list).delete()
        for batch in _batches(merged):
            IpListRange.objects.bulk_create(
                [
                    IpListRange(ip_list=ip_list, start_key=_as_key(first), end_key=_as_key(last))
                    for first, last in batch
                ]
            )
        say(f"stored the list's ranges; rebuilding every {kind} list's union")
        kind_ranges = _union_rebuild(kind)
        audit_record(
            actor=actor,
            source=audit_source,
            action="load",
            obj_type=IpList,
            obj_id=ip_list.pk,
            obj_repr=str(ip_list),
            before=before,
            after=audit_snapshot(ip_list, _AUDITED),
            now=now,
        )
    say(f"{kind} lists now hold {kind_ranges} ranges in all")
    return IpListLoadResult(
        ip_list=ip_list,
        entries=len(parsed.ranges),
        ranges=len(merged),
        kind_ranges=kind_ranges,
        bad_lines=parsed.bad_lines,
    )


def ip_list_delete(
    *, ip_list: IpList, actor: Any = None, audit_source: str = AuditSource.SYSTEM
) -> None:
    """Remove a list and its addresses from its kind's union, in one transaction (audited)."""
    with transaction.atomic():
        _lock_kind(ip_list.kind)
        kind, pk, label = ip_list.kind, ip_list.pk, str(ip_list)
        before = audit_snapshot(ip_list, _AUDITED)
        ip_list.delete()
        _union_rebuild(kind)
        audit_record(
            actor=actor,
            source=audit_source,
            action="delete",
            obj_type=IpList,
            obj_id=pk,
            obj_repr=label,
            before=before,
        )


def ip_list_load_file(
    *,
    kind: str,
    name: str,
    file: IO[bytes],
    source: str,
    skip_invalid: bool = False,
    actor: Any = None,
    audit_source: str = AuditSource.SYSTEM,
    progress: Callable[[str], None] | None = None,
) -> IpListLoadResult:
    """`ip_list_load` from a binary file, refusing one larger than IP_LIST_MAX_BYTES (400
    `ip_list_too_large`) before reading it."""
    size = getattr(file, "size", None)
    if size is not None and size > settings.IP_LIST_MAX_BYTES:
        raise ApplicationError(
            f"The file is {size} bytes; at most {settings.IP_LIST_MAX_BYTES}.",
            code="ip_list_too_large",
        )
    return ip_list_load(
        kind=kind,
        name=name,
        lines=file,
        source=source,
        skip_invalid=skip_invalid,
        actor=actor,
        audit_source=audit_source,
        progress=progress,
    )


def ip_is_listed(*, kind: str, ip: str | None) -> bool:
    """Whether `ip` is in a list of `kind`: the click path's probe (`ip_listed_sql`), alone."""
    key = ip_key(ip)
    if key is None:
        return False
    row = execute_fetchone(f"SELECT {ip_listed_sql(IpListKind(kind))}", [key, key])
    return bool(row and row[0])
