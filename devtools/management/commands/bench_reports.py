"""Report latency at growing click volumes: 10 k, 1 M and 10 M demo clicks by default.

    python manage.py bench_reports [--scales 10000,1000000,10000000] [--requests 200]
                                   [--json PATH]

Steps: (re)create the PostgreSQL database `clickledger_reports_bench` on the server of
DATABASE_URL and migrate it; then, in a child `manage.py bench_reports --measure-into FILE` whose
DATABASE_URL points at that database (it refuses any other), for each scale:

1. add demo traffic up to the scale with seed_demo's generator (COPY in 10,000-click
   transactions, progress bar; clicks spread over the last 30 days, ~3 % converting);
2. bring the rollups up to date with `stats_refresh` (the Celery task's service), timed, then
   VACUUM ANALYZE and CHECKPOINT (the steady state of a database autovacuum has seen);
3. time `--requests` requests (after 10 warm-up ones) of each endpoint through Django's full
   request stack in-process (middleware, authentication, view, serialization; no network, no
   WSGI server): the campaign dashboard (`/api/analytics/campaign/<id>`, default 30 days, as
   its advertiser), the 30-day report by day (`/api/reports?group_by=day`, admin), by day and
   campaign, and by sub1 (the widest breakdown);
4. check that none of those requests' SQL reads the click table (`tracker_click`);
5. measure the memory of one more request of each, plus the widest 30-day report (by hour,
   campaign, affiliate and sub1) exported as a streamed CSV (`format=csv`, read to the last
   byte): the peak of Python allocations during the request (tracemalloc) and the growth of the
   process's peak resident set over its resident set before the request (Linux: VmHWM reset
   through /proc/self/clear_refs; it also sees libpq's C allocations, which tracemalloc does
   not).

It prints p50/p95/max and both memory figures per endpoint and scale, and the p95 ratio of the
largest scale to the smallest (target: <= 50 ms and <= 1.5 x at 10 M). A report that loaded raw
rows into Python would show its memory growing with the scale; the issue's target is that it
stays flat.
"""

import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import ProgrammingError, connection
from django.test.utils import CaptureQueriesContext

from core.db.servers import scratch_database_create

BENCH_DB = "clickledger_reports_bench"
BASE_DIR = Path(settings.BASE_DIR)
WARMUP = 10
TARGET_P95_MS = 50.0
TARGET_RATIO = 1.5
CSV_LABEL = "CSV hour,campaign,aff,sub1"


def _status_kib(field: str) -> int | None:
    """A `VmRSS`/`VmHWM` figure of this process in KiB (None where /proc is not Linux's)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _rss_peak_reset() -> bool:
    """Make VmHWM restart from the current resident set (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def _percentile(samples: list[float], percent: float) -> float:
    ordered = sorted(samples)
    index = max(0, min(len(ordered) - 1, round(percent / 100 * len(ordered)) - 1))
    return ordered[index]


class Command(BaseCommand):
    help = "Report and dashboard latency at 10 k, 1 M and 10 M clicks (own bench database)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scales",
            default="10000,1000000,10000000",
            help="Comma-separated click totals, ascending (default 10000,1000000,10000000).",
        )
        parser.add_argument("--requests", type=int, default=200, help="Timed requests each.")
        parser.add_argument("--json", dest="json_path", help="Also write the results here.")
        parser.add_argument("--measure-into", help=("(internal) run the measurement here."))

    def handle(self, *args: Any, **options: Any) -> None:
        scales = [int(part) for part in options["scales"].split(",") if part.strip()]
        if not scales or scales != sorted(scales) or scales[0] < 1:
            raise CommandError("--scales must be positive and ascending.")
        if options["measure_into"]:
            self._measure(scales=scales, requests=options["requests"], out=options["measure_into"])
            return
        db = settings.DATABASES["default"]
        if connection.vendor != "postgresql":
            raise CommandError("bench_reports needs PostgreSQL (DATABASE_URL).")
        bench_url = scratch_database_create(db, name=BENCH_DB)
        env = {**os.environ, "DATABASE_URL": bench_url, "DEBUG": "false", "LOG_LEVEL": "WARNING"}
        self.stdout.write(f"Database {BENCH_DB} recreated; migrating ...")
        self._check_call([sys.executable, "manage.py", "migrate", "-v0", "--skip-checks"], env=env)
        with tempfile.TemporaryDirectory() as workdir:
            out = Path(workdir) / "results.json"
            command = [
                sys.executable,
                "manage.py",
                "bench_reports",
                "--skip-checks",
                "--scales",
                options["scales"],
                "--requests",
                str(options["requests"]),
                "--measure-into",
                str(out),
            ]
            # The child's progress bars and lines go straight to this terminal.
            completed = subprocess.run(command, env=env, cwd=BASE_DIR, check=False)  # noqa: S603
            if completed.returncode != 0:
                raise CommandError("The measurement failed (see above).")
            results = json.loads(out.read_text())
        self._report(results, json_path=options["json_path"])

    # --- parent ---------------------------------------------------------------------------------

    def _check_call(self, command: list[str], *, env: dict[str, str]) -> None:
        completed = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
            command, env=env, cwd=BASE_DIR, capture_output=True, text=True, check=False
        )
        if completed.returncode != 0:
            raise CommandError(f"{' '.join(command[1:])} failed:\n{completed.stderr}")

    def _report(self, results: dict, *, json_path: str | None) -> None:
        lines = [
            "",
            f"{'endpoint':<28}{'clicks':>12}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"
            f"{'py peak KiB':>13}{'RSS growth KiB':>16}",
        ]

        def memory_columns(memory: dict) -> str:
            rss = memory["rss_growth_kib"]
            return f"{memory['python_peak_kib']:>13,}{'n/a' if rss is None else f'{rss:,}':>16}"

        for scale in results["scales"]:
            for name, figures in scale["endpoints"].items():
                lines.append(
                    f"{name:<28}{scale['clicks']:>12,}{figures['p50_ms']:>9.2f}"
                    f"{figures['p95_ms']:>9.2f}{figures['max_ms']:>9.2f}"
                    + memory_columns(figures["memory"])
                )
            csv = scale["csv_export"]
            lines.append(
                f"{CSV_LABEL:<28}{scale['clicks']:>12,}{'':>27}"
                + memory_columns(csv)
                + f"  ({csv['bytes']:,} bytes, {csv['rows']:,} rows)"
            )
        first, last = results["scales"][0], results["scales"][-1]
        lines.append("")
        for name in last["endpoints"]:
            p95 = last["endpoints"][name]["p95_ms"]
            ratio = p95 / first["endpoints"][name]["p95_ms"]
            verdict = "ok" if p95 <= TARGET_P95_MS and ratio <= TARGET_RATIO else "OVER TARGET"
            lines.append(
                f"{name:<28}p95 {p95:.2f} ms at {last['clicks']:,} clicks, "
                f"{ratio:.2f} x its p95 at {first['clicks']:,}: {verdict}"
            )
        first_csv, last_csv = first["csv_export"], last["csv_export"]
        lines.append(
            f"{CSV_LABEL:<28}Python peak {last_csv['python_peak_kib']:,} KiB at "
            f"{last['clicks']:,} clicks ({last_csv['rows']:,} rows) against "
            f"{first_csv['python_peak_kib']:,} KiB at {first['clicks']:,} "
            f"({first_csv['rows']:,} rows)"
        )
        for scale in results["scales"]:
            lines.append(
                f"{scale['clicks']:>12,} clicks: generated in {scale['generate_s']:.1f} s, "
                f"rollups refreshed in {scale['refresh_s']:.1f} s; rows: {scale['rows']}; "
                f"report queries reading tracker_click: {scale['raw_click_queries']}"
            )
        self.stdout.write("\n".join(lines))
        if json_path:
            Path(json_path).write_text(json.dumps(results, indent=2))

    # --- child ----------------------------------------------------------------------------------

    def _measure(self, *, scales: list[int], requests: int, out: str) -> None:
        from django.test import Client
        from django.utils import timezone
        from tqdm import tqdm

        from devtools.management.commands.seed_demo import (
            demo_network_ensure,
            demo_traffic_generate,
        )
        from reporting.models import HourlyDimStat, HourlyStat
        from reporting.services.rollups import stats_refresh
        from tracker.models import Click

        if connection.settings_dict["NAME"] != BENCH_DB:
            raise CommandError(
                f"Refusing to write demo traffic into {connection.settings_dict['NAME']!r}."
            )
        settings.DEBUG = False  # no query log in memory while timing
        now = timezone.now()
        network = demo_network_ensure(now=now)
        campaign = network.campaigns["c1"]
        today = now.date()
        period = f"date_from={today - dt.timedelta(days=29)}&date_to={today}"
        endpoints = {
            "campaign dashboard": (
                network.advertiser.user,
                f"/api/analytics/campaign/{campaign.pk}",
            ),
            "report 30 d by day": (network.admin, f"/api/reports?group_by=day&{period}"),
            "report 30 d day,campaign": (
                network.admin,
                f"/api/reports?group_by=day,campaign&{period}&page_size=500",
            ),
            "report 30 d by sub1": (network.admin, f"/api/reports?group_by=sub1&{period}"),
        }
        clients = {}
        for user, _path in endpoints.values():
            if user.pk not in clients:
                client = Client(HTTP_HOST="localhost")
                client.force_login(user)
                clients[user.pk] = client
        results: dict[str, Any] = {"requests": requests, "scales": []}
        have = 0
        for scale in scales:
            started = time.perf_counter()
            demo_traffic_generate(
                network=network, clicks=scale - have, seed=scale, now=now, progress=True
            )
            generated = time.perf_counter() - started
            have = scale
            with tqdm(unit="hour", desc="rollups", file=sys.stderr) as bar:
                started = time.perf_counter()
                stats_refresh(progress=bar.update)
                refreshed = time.perf_counter() - started
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
                # The bulk load's dirty pages (GBs at 10 M clicks) are written now rather than by
                # the checkpointer while requests are timed: without it the 10 M figures measured
                # the disk flush (p50 10.7 ms there against 7.8 ms once it had finished).
                try:
                    cursor.execute("CHECKPOINT")
                except ProgrammingError:  # needs superuser or pg_checkpoint: measure anyway
                    self.stderr.write("CHECKPOINT refused (no privilege); figures may be noisier.")
            figures: dict[str, dict[str, Any]] = {}
            raw_click_queries = 0
            for name, (user, path) in endpoints.items():
                client = clients[user.pk]
                for _ in range(WARMUP):
                    self._get(client, path)
                samples = []
                for _ in range(requests):
                    began = time.perf_counter()
                    self._get(client, path)
                    samples.append((time.perf_counter() - began) * 1000)
                with CaptureQueriesContext(connection) as queries:
                    self._get(client, path)
                raw_click_queries += sum(
                    "tracker_click" in query["sql"] for query in queries.captured_queries
                )
                figures[name] = {
                    "p50_ms": statistics.median(samples),
                    "p95_ms": _percentile(samples, 95),
                    "max_ms": max(samples),
                    "memory": self._memory_of(client, path),
                }
            admin_client = clients[network.admin.pk]
            csv_export = self._memory_of(
                admin_client,
                f"/api/reports?group_by=hour,campaign,affiliate,sub1&{period}&format=csv",
            )
            scale_result = {
                "clicks": Click.objects.count(),
                "generate_s": generated,
                "refresh_s": refreshed,
                "rows": {
                    "hourly": HourlyStat.objects.count(),
                    "hourly_dim": HourlyDimStat.objects.count(),
                },
                "raw_click_queries": raw_click_queries,
                "endpoints": figures,
                "csv_export": csv_export,
            }
            results["scales"].append(scale_result)
            self.stdout.write(json.dumps(scale_result))
        Path(out).write_text(json.dumps(results))

    @staticmethod
    def _memory_of(client, path: str) -> dict[str, Any]:
        """One request's peak memory, its body read chunk by chunk (module docstring, step 5)."""
        rss_before = _status_kib("VmRSS")
        can_reset = rss_before is not None and _rss_peak_reset()
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            response = client.get(path)
            if response.status_code != 200:
                raise CommandError(f"GET {path} answered {response.status_code}")
            size = rows = 0
            chunks = response.streaming_content if response.streaming else [response.content]
            for chunk in chunks:
                size += len(chunk)
                rows += chunk.count(b"\n")
            python_peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        rss_peak = _status_kib("VmHWM") if can_reset else None
        return {
            "python_peak_kib": python_peak // 1024,
            "rss_growth_kib": (
                None if rss_peak is None or rss_before is None else max(0, rss_peak - rss_before)
            ),
            "bytes": size,
            # Streamed CSV: its data rows, the header line excluded (0 for a JSON body).
            "rows": max(0, rows - 1) if response.streaming else 0,
        }

    @staticmethod
    def _get(client, path: str) -> None:
        response = client.get(path)
        if response.status_code != 200:
            raise CommandError(f"GET {path} answered {response.status_code}: {response.content!r}")
