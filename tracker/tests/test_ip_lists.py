"""Loading the operator's IP lists (merge, IPv4 and IPv6, bad lines, replace, remove) and the
one-probe lookup, exact at the ranges' boundaries."""

import io

import pytest
from django.core.management import CommandError, call_command

from core.exceptions import ApplicationError
from core.models import AuditEntry
from tracker.ip_lists import (
    ip_from_key,
    ip_is_listed,
    ip_key,
    ip_list_delete,
    ip_list_load,
    ip_list_parse,
    ranges_merge,
)
from tracker.models import IpList, IpListRange, IpRange

pytestmark = pytest.mark.django_db


def _ranges(kind: str) -> list[tuple[str, str]]:
    return [
        (ip_from_key(start), ip_from_key(end))
        for start, end in IpRange.objects.filter(kind=kind)
        .order_by("start_key")
        .values_list("start_key", "end_key")
    ]


def test_ip_keys_order_like_addresses_and_map_ipv4_into_ipv6():
    addresses = ["0.0.0.0", "9.255.255.255", "10.0.0.0", "255.255.255.255", "::1", "2001:db8::"]

    keys = [ip_key(address) for address in addresses]

    assert ip_key("::ffff:10.0.0.0") == ip_key("10.0.0.0")
    assert keys[4] < keys[0]  # ::1 sorts before the IPv4-mapped block
    assert keys[0] < keys[1] < keys[2] < keys[3] < keys[5]
    assert [len(key) for key in keys] == [16] * 6
    assert (ip_key(""), ip_key(None), ip_key("not an ip")) == (None, None, None)
    assert ip_from_key(ip_key("10.1.2.3")) == "10.1.2.3"


def test_parse_reads_addresses_cidrs_and_ranges_and_names_bad_lines_by_number():
    parsed = ip_list_parse(
        [
            "# comment\n",
            "10.0.0.0/8\n",
            "\n",
            b"192.0.2.7  # one address\n",
            "2001:db8::/32\n",
            "10.0.0.300\n",
            "198.51.100.10 - 198.51.100.20\n",
            "198.51.100.20-198.51.100.10\n",
            "10.0.0.1-2001:db8::1\n",
            "192.168.1.77/24\n",
        ]
    )

    assert len(parsed.ranges) == 5
    assert [(number, text) for number, text, _ in parsed.bad_lines] == [
        (6, "10.0.0.300"),
        (8, "198.51.100.20-198.51.100.10"),
        (9, "10.0.0.1-2001:db8::1"),
    ]


def test_parse_stops_past_the_entry_limit():
    with pytest.raises(ApplicationError) as raised:
        ip_list_parse(["10.0.0.1", "10.0.0.2", "10.0.0.3"], max_entries=2)

    assert raised.value.code == "ip_list_too_large"


def test_merge_joins_overlapping_contained_and_adjacent_ranges_only():
    assert ranges_merge([(10, 20), (5, 12), (21, 30), (32, 40), (33, 35), (50, 50)]) == [
        (5, 30),
        (32, 40),
        (50, 50),
    ]


def test_load_merges_overlaps_ipv4_and_ipv6_and_answers_exactly_at_boundaries():
    result = ip_list_load(
        kind="deny",
        name="abuse",
        lines=[
            "10.0.0.0/25",
            "10.0.0.128/25",  # adjacent: one range with the line above
            "10.0.0.64/26",  # inside
            "192.0.2.5",
            "2001:db8::/48",
            "2001:db8:0:ffff::/64",  # inside the /48
        ],
        source="abuse.txt",
    )

    assert (result.entries, result.ranges, result.kind_ranges, result.bad_lines) == (6, 3, 3, [])
    assert _ranges("deny") == [
        ("10.0.0.0", "10.0.0.255"),
        ("192.0.2.5", "192.0.2.5"),
        ("2001:db8::", "2001:db8:0:ffff:ffff:ffff:ffff:ffff"),
    ]
    listed = {
        ip: ip_is_listed(kind="deny", ip=ip)
        for ip in (
            "9.255.255.255",
            "10.0.0.0",
            "10.0.0.255",
            "10.0.1.0",
            "192.0.2.4",
            "192.0.2.5",
            "192.0.2.6",
            "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff",
            "2001:db8::",
            "2001:db8:0:ffff:ffff:ffff:ffff:ffff",
            "2001:db8:1::",
            "::ffff:10.0.0.7",
            "",
            None,
        )
    }
    assert listed == {
        "9.255.255.255": False,
        "10.0.0.0": True,
        "10.0.0.255": True,
        "10.0.1.0": False,
        "192.0.2.4": False,
        "192.0.2.5": True,
        "192.0.2.6": False,
        "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff": False,
        "2001:db8::": True,
        "2001:db8:0:ffff:ffff:ffff:ffff:ffff": True,
        "2001:db8:1::": False,
        "::ffff:10.0.0.7": True,
        "": False,
        None: False,
    }
    assert ip_is_listed(kind="datacenter", ip="10.0.0.1") is False
    ip_list = IpList.objects.get()
    assert (ip_list.kind, ip_list.name, ip_list.source) == ("deny", "abuse", "abuse.txt")
    assert (ip_list.entry_count, ip_list.range_count) == (6, 3)
    assert AuditEntry.objects.get().action == "load"


def test_two_lists_of_a_kind_are_one_union_and_replacing_one_keeps_the_other():
    ip_list_load(kind="datacenter", name="aws", lines=["10.0.0.0/24", "10.0.2.0/24"])
    ip_list_load(kind="datacenter", name="gcp", lines=["10.0.0.128/25", "10.0.1.0/24"])

    union = _ranges("datacenter")
    ip_list_load(kind="datacenter", name="aws", lines=["172.16.0.0/12"])
    replaced = _ranges("datacenter")

    assert union == [("10.0.0.0", "10.0.2.255")]
    assert replaced == [("10.0.0.128", "10.0.1.255"), ("172.16.0.0", "172.31.255.255")]
    assert IpList.objects.count() == 2
    assert ip_is_listed(kind="datacenter", ip="10.0.2.1") is False


def test_bad_lines_refuse_the_whole_file_and_change_nothing():
    ip_list_load(kind="deny", name="abuse", lines=["10.0.0.0/8"])

    with pytest.raises(ApplicationError) as raised:
        ip_list_load(kind="deny", name="abuse", lines=["192.0.2.0/24", "nonsense", "1.2.3.4/33"])

    assert raised.value.code == "invalid_ip_list"
    assert raised.value.fields == {
        "file": [
            "line 2: 'nonsense': 'nonsense' does not appear to be an IPv4 or IPv6 network",
            "line 3: '1.2.3.4/33': '1.2.3.4/33' does not appear to be an IPv4 or IPv6 network",
        ]
    }
    assert _ranges("deny") == [("10.0.0.0", "10.255.255.255")]


def test_skip_invalid_loads_the_rest_and_reports_the_bad_lines():
    result = ip_list_load(
        kind="deny", name="abuse", lines=["192.0.2.0/24", "nonsense"], skip_invalid=True
    )

    assert [line[:2] for line in result.bad_lines] == [(2, "nonsense")]
    assert _ranges("deny") == [("192.0.2.0", "192.0.2.255")]


@pytest.mark.parametrize(
    ("kind", "name", "code"),
    [("allow", "x", "invalid_ip_list_kind"), ("deny", " ", "invalid_ip_list_name")],
)
def test_load_refuses_an_unknown_kind_or_an_empty_name(kind, name, code):
    with pytest.raises(ApplicationError) as raised:
        ip_list_load(kind=kind, name=name, lines=["10.0.0.1"])

    assert raised.value.code == code
    assert IpList.objects.count() == 0


def test_deleting_a_list_removes_its_addresses_from_the_union():
    aws = ip_list_load(kind="datacenter", name="aws", lines=["10.0.0.0/24"]).ip_list
    ip_list_load(kind="datacenter", name="gcp", lines=["10.0.1.0/24"])

    ip_list_delete(ip_list=aws)

    assert _ranges("datacenter") == [("10.0.1.0", "10.0.1.255")]
    assert IpListRange.objects.count() == 1
    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == [
        "load",
        "load",
        "delete",
    ]


def test_the_command_loads_a_file_with_progress(tmp_path):
    path = tmp_path / "dc.txt"
    path.write_text("# cloud\n203.0.113.0/24\n2001:db8::/32\n")
    out = io.StringIO()

    call_command("load_ip_list", "--kind", "datacenter", "--name", "cloud", str(path), stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0] == "read 2 entries, 0 unusable line(s)"
    assert lines[1] == "merged into 2 ranges"
    assert lines[-1].startswith(
        "Data-center list: cloud: 2 entries in 2 ranges (0 line(s) skipped)"
    )
    assert ip_is_listed(kind="datacenter", ip="203.0.113.200") is True
    assert IpList.objects.get().source == str(path)


def test_the_command_reports_bad_lines_with_their_numbers(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("10.0.0.0/8\n300.1.1.1\n")

    with pytest.raises(CommandError) as raised:
        call_command("load_ip_list", "--kind", "deny", "--name", "x", str(path))

    assert str(raised.value) == (
        "1 unusable line(s); nothing was loaded.\n"
        "line 2: '300.1.1.1': '300.1.1.1' does not appear to be an IPv4 or IPv6 network"
    )
    assert IpList.objects.count() == 0


def test_the_command_skips_bad_lines_when_asked(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("10.0.0.0/8\n300.1.1.1\n")
    err = io.StringIO()

    call_command(
        "load_ip_list", "--kind", "deny", "--name", "x", "--skip-invalid", str(path), stderr=err
    )

    assert err.getvalue() == (
        "skipped line 2: '300.1.1.1': '300.1.1.1' does not appear to be an IPv4 or IPv6 network\n"
    )
    assert _ranges("deny") == [("10.0.0.0", "10.255.255.255")]


def test_the_command_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError) as raised:
        call_command("load_ip_list", "--kind", "deny", "--name", "x", str(tmp_path / "none.txt"))

    assert str(raised.value).startswith("Cannot read ")
