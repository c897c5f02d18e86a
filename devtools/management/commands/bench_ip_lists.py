"""Time loading a large IP list and looking addresses up in it.

    python manage.py bench_ip_lists [--cidrs 100000] [--lookups 10000] [--seed 7] [--json PATH]

On the configured database, inside one transaction that is rolled back at the end (nothing
stays, whatever lists the database already holds): loads `--cidrs` random CIDRs (IPv4 /12 to
/32, one in ten IPv6 /32 to /64) as a data-center list with the loader the operator uses
(`ip_list_load`: parse, merge, store, rebuild the kind's union), then times `--lookups` random
addresses through `ip_is_listed`, the same one-probe expression the click path embeds in its
link read, each its own statement and round trip, and as many `SELECT 1` through the same
cursor path (the round trip's own cost, which the click pays anyway: the probe rides in its link
read). On PostgreSQL it also runs every probe inside one statement, which is the probe's cost
in the database alone. Prints the load's time, the ranges after the merge, the lookups' mean /
p50 / p99 / max in microseconds, the same for the bare round trip, the in-database cost per
probe, how many addresses were listed, and PostgreSQL's plan for the probe (it must be a
backward index scan, not a sort). Target: a lookup under 1 ms.
"""

import ipaddress
import json
import random
import statistics
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from core.sql import execute_fetchone
from tracker.ip_lists import ip_is_listed, ip_key, ip_list_load, ip_listed_sql
from tracker.models import IpListKind, IpRange

TARGET_MS = 1.0


def _stats(timings: list[float], name: str) -> dict[str, float]:
    timings = sorted(timings)
    return {
        f"{name}_mean_us": statistics.fmean(timings),
        f"{name}_p50_us": timings[len(timings) // 2],
        f"{name}_p99_us": timings[min(len(timings) - 1, int(len(timings) * 0.99))],
        f"{name}_max_us": timings[-1],
    }


def _random_cidrs(rng: random.Random, count: int) -> list[str]:
    lines = []
    for _ in range(count):
        if rng.random() < 0.1:
            prefix = rng.randint(32, 64)
            v6 = ipaddress.IPv6Address(rng.getrandbits(128))
            lines.append(str(ipaddress.IPv6Network(f"{v6}/{prefix}", strict=False)))
        else:
            prefix = rng.randint(16, 32)
            v4 = ipaddress.IPv4Address(rng.getrandbits(32))
            lines.append(str(ipaddress.IPv4Network(f"{v4}/{prefix}", strict=False)))
    return lines


def _random_addresses(rng: random.Random, count: int) -> list[str]:
    return [
        str(ipaddress.IPv6Address(rng.getrandbits(128)))
        if rng.random() < 0.1
        else str(ipaddress.IPv4Address(rng.getrandbits(32)))
        for _ in range(count)
    ]


class Command(BaseCommand):
    help = "Time loading random CIDRs into an IP list and looking addresses up (rolled back)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cidrs", type=int, default=100_000)
        parser.add_argument("--lookups", type=int, default=10_000)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--json", help="Also write the figures to this file.")

    def handle(self, *args, **options) -> None:
        rng = random.Random(options["seed"])
        cidrs = _random_cidrs(rng, options["cidrs"])
        addresses = _random_addresses(rng, options["lookups"])
        figures: dict = {}
        with transaction.atomic():
            self._measure(cidrs, addresses, figures)
            # Nothing the benchmark loaded stays.
            transaction.set_rollback(True)
        self.stdout.write(
            f"loaded {figures['cidrs']} CIDRs as {figures['ranges']} merged ranges in "
            f"{figures['load_seconds']:.2f} s"
        )
        self.stdout.write(
            f"{figures['lookups']} lookups: mean {figures['lookup_mean_us']:.0f} us, "
            f"p50 {figures['lookup_p50_us']:.0f} us, p99 {figures['lookup_p99_us']:.0f} us, "
            f"max {figures['lookup_max_us']:.0f} us; {figures['listed']} listed"
        )
        if figures.get("plan"):
            self.stdout.write("plan of the probe:\n  " + "\n  ".join(figures["plan"]))
        self.stdout.write(
            f"bare round trips (SELECT 1): mean {figures['round_trip_mean_us']:.0f} us, "
            f"p50 {figures['round_trip_p50_us']:.0f} us, p99 {figures['round_trip_p99_us']:.0f} us"
        )
        if "in_database_us_per_probe" in figures:
            self.stdout.write(
                f"in the database, all probes in one statement: "
                f"{figures['in_database_us_per_probe']:.1f} us per probe"
            )
        verdict = "PASS" if figures["lookup_p50_us"] / 1000 < TARGET_MS else "FAIL"
        self.stdout.write(f"{verdict}: p50 lookup against the {TARGET_MS:.0f} ms target")
        if options["json"]:
            Path(options["json"]).write_text(json.dumps(figures, indent=2))

    def _measure(self, cidrs: list[str], addresses: list[str], figures: dict) -> None:
        started = time.perf_counter()
        result = ip_list_load(kind=IpListKind.DATACENTER, name="__benchmark__", lines=cidrs)
        figures["load_seconds"] = time.perf_counter() - started
        figures["cidrs"] = len(cidrs)
        figures["ranges"] = result.kind_ranges
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {IpRange._meta.db_table}")
                key = ip_key(addresses[0])
                cursor.execute(
                    f"EXPLAIN SELECT {ip_listed_sql(IpListKind.DATACENTER)}",
                    [key, key],
                )
                figures["plan"] = [row[0] for row in cursor.fetchall()]
        for address in addresses[:100]:  # warm-up: the statement prepared, the index cached
            ip_is_listed(kind=IpListKind.DATACENTER, ip=address)
            execute_fetchone("SELECT 1", [])
        timings, bare = [], []
        listed = 0
        for address in addresses:
            started = time.perf_counter()
            listed += ip_is_listed(kind=IpListKind.DATACENTER, ip=address)
            timings.append((time.perf_counter() - started) * 1_000_000)
            started = time.perf_counter()
            execute_fetchone("SELECT 1", [])
            bare.append((time.perf_counter() - started) * 1_000_000)
        figures.update(lookups=len(timings), listed=listed, **_stats(timings, "lookup"))
        figures.update(_stats(bare, "round_trip"))
        if connection.vendor == "postgresql":
            keys = [ip_key(address) for address in addresses]
            with connection.cursor() as cursor:
                started = time.perf_counter()
                cursor.execute(
                    "SELECT count(*) FILTER (WHERE listed) FROM ("  # noqa: S608
                    f"SELECT {ip_listed_sql(IpListKind.DATACENTER).replace('%s', 'k.key')}"
                    " AS listed FROM unnest(%s::bytea[]) AS k(key)) probes",
                    [keys],
                )
                in_database = cursor.fetchone()[0]
                elapsed = time.perf_counter() - started
            figures["in_database_us_per_probe"] = elapsed * 1_000_000 / len(keys)
            if in_database != listed:
                raise CommandError(f"{in_database} listed in one statement, {listed} one by one")
