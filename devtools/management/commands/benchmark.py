"""Load-test the hot endpoints against a real gunicorn and PostgreSQL, with `wrk`.

    python manage.py benchmark [--duration 10s] [--rounds 3] [--connections 16] [--threads 2]
                               [--workers N] [--worker-threads N] [--json PATH]

Steps: (re)create the PostgreSQL database `clickledger_bench` on the server of DATABASE_URL,
migrate it, seed a small fixed data set (one advertiser, affiliates, two campaigns, their links,
a partner key, and pre-created clicks for the postbacks to convert), start gunicorn with the
production settings (safe local values: random secret key, in-memory Celery broker, no SSL
redirect, DEBUG off) on a free loopback port, and drive three endpoints for `--duration` each,
one after the other, `--rounds` times:

- `/bench/trivial`: the cheapest response Django can give, the baseline;
- `/c/<token>`: the click redirect, rotating over the links and varying `sub1`;
- `/postback/<key>?click_id=…&transaction_id=…`: a distinct pre-created click per request.

Then it drives the click redirect once more at half the rate it peaked at (the median of the
rounds; wrk's `delay()` paces each connection), for its latency when the server has headroom.

Rounds: on a shared virtual machine the speed of the whole box drifts by tens of percent within
minutes (seen here: the trivial view at 720 to 2,700 requests/s in one hour). Each ratio is
therefore taken within a round, from runs seconds apart, and the median over the rounds is the
figure; every round is printed too, so the spread is visible. Each round's postbacks convert
their own slice of the pre-created clicks, with their own transaction ids.

It prints requests/s, p50 and p99 (from wrk's `--latency` distribution; per endpoint the median
over the rounds), the click/trivial and postback/trivial ratios, the count of non-2xx/3xx answers,
and checks, from gunicorn's access log, that the clicks written to the database equal the 302
responses answered and the conversions written equal the postbacks answered 200 (each postback
converts a distinct click, so a duplicate or a lost conversion is a mismatch) — wrk's own counts
may be lower by the requests still in flight when it stopped. wrk and gunicorn share the machine's
cores, so the figures are a floor, comparable between runs on one machine.

It also prints where the machine's CPU went during each endpoint's run, in milliseconds per
request answered (`devtools.bench_cpu`, from /proc): gunicorn (master and workers),
PostgreSQL (its processes, when the server runs on this host), wrk, the rest of the machine, and
idle time. A ratio to the trivial view is the ratio of these totals, so the table says which part
of a request's cost keeps it from a target.

The seeding runs in a child `manage.py benchmark --seed-into FILE` with DATABASE_URL pointing at
the bench database, so it uses exactly the settings the server uses, and can never write into the
developer's own database (it refuses any database not named `clickledger_bench`).
"""

import argparse
import contextlib
import datetime as dt
import http.client
import json
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from core.db.servers import conninfo, scratch_database_create
from devtools.bench_cpu import (
    PROC,
    cpu_per_request,
    cpu_snapshot,
    cpu_split,
)

BENCH_DB = "clickledger_bench"
CLICK_LINKS = 8
POSTBACK_CLICKS_PER_SECOND = 2500
MIN_POSTBACK_CLICKS = 10_000
BASE_DIR = Path(settings.BASE_DIR)

_LUA_COMMON = """
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  c2xx = 0; c302 = 0; c3xx = 0; c4xx = 0; c5xx = 0
end

function response(status, headers, body)
  if status == 302 then c302 = c302 + 1
  elseif status >= 200 and status < 300 then c2xx = c2xx + 1
  elseif status >= 300 and status < 400 then c3xx = c3xx + 1
  elseif status >= 400 and status < 500 then c4xx = c4xx + 1
  else c5xx = c5xx + 1 end
end

function done(summary, latency, requests)
  local t = {c2xx = 0, c302 = 0, c3xx = 0, c4xx = 0, c5xx = 0}
  for _, thread in ipairs(threads) do
    for name, _ in pairs(t) do t[name] = t[name] + thread:get(name) end
  end
  io.write(string.format("BENCH_COUNTS %d %d %d %d %d\\n",
    t.c2xx, t.c302, t.c3xx, t.c4xx, t.c5xx))
end
"""

_LUA_CLICKS = """
tokens = {%(tokens)s}
function request()
  local n = counter * %(threads)d + id
  counter = counter + 1
  local token = tokens[(n %% #tokens) + 1]
  return wrk.format("GET", "/c/" .. token .. "?sub1=s" .. n .. "&sub2=bench",
    {["User-Agent"] = "wrk-bench/" .. (n %% 97)})
end
"""

# Paced clicks: each connection waits before its next request, so the server sees a steady rate
# below its peak (wrk's delay() is in whole milliseconds) and the latencies are those of a server
# that is not queueing requests.
_LUA_PACED = """
function delay()
  return %(delay_ms)d
end
"""

# Round r converts the clicks first + 1 .. first + clicks, with transaction ids of its own.
_LUA_POSTBACKS = """
function request()
  local n = counter * %(threads)d + id
  counter = counter + 1
  local click = string.format("bench-%%07d", %(first)d + (n %% %(clicks)d) + 1)
  return wrk.format("GET", "/postback/%(key)s?click_id=" .. click
    .. "&transaction_id=tx-%(round)d-" .. n)
end
"""

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_RATE_UNITS = {"": 1, "k": 1_000, "M": 1_000_000, "G": 1_000_000_000}


def _latency_ms(text: str) -> float:
    match = re.fullmatch(r"([0-9.]+)(us|ms|s|m|h)", text)
    if not match:
        raise ValueError(f"unparsable latency {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]  # not money: wrk latency


def wrk_output_parse(output: str) -> dict[str, Any]:
    """Requests/s, p50/p99 (ms), totals and error counts from `wrk --latency` output."""
    percentiles = {
        int(p): _latency_ms(value)
        for p, value in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", output, re.MULTILINE)
    }
    rps = re.search(r"^Requests/sec:\s+([0-9.]+)", output, re.MULTILINE)
    total = re.search(r"^\s+(\d+) requests in", output, re.MULTILINE)
    non_ok = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    counts = re.search(r"^BENCH_COUNTS (\d+) (\d+) (\d+) (\d+) (\d+)", output, re.MULTILINE)
    if rps is None or total is None or 50 not in percentiles or 99 not in percentiles:
        raise ValueError("wrk output has no summary or latency distribution:\n" + output)
    result: dict[str, Any] = {
        "requests_per_second": float(rps.group(1)),  # not money: wrk rate
        "requests": int(total.group(1)),
        "p50_ms": percentiles[50],
        "p99_ms": percentiles[99],
        "non_2xx_3xx": int(non_ok.group(1)) if non_ok else 0,
        "socket_errors": (
            dict(
                zip(
                    ("connect", "read", "write", "timeout"),
                    map(int, socket_errors.groups()),
                    strict=True,
                )
            )
            if socket_errors
            else {"connect": 0, "read": 0, "write": 0, "timeout": 0}
        ),
    }
    if counts:
        result["status_counts"] = dict(
            zip(("2xx", "302", "other_3xx", "4xx", "5xx"), map(int, counts.groups()), strict=True)
        )
    return result


def rounds_summarize(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Per endpoint the median requests/s, p50 and p99 of the rounds and the summed counts; the
    ratios are the medians of each round's own ratio (taken from runs seconds apart)."""
    summary: dict[str, Any] = {}
    for name in ("trivial", "click", "postback"):
        runs = [round_[name] for round_ in rounds]
        summary[name] = {
            "requests_per_second": statistics.median(run["requests_per_second"] for run in runs),
            "p50_ms": statistics.median(run["p50_ms"] for run in runs),
            "p99_ms": statistics.median(run["p99_ms"] for run in runs),
            "requests": sum(run["requests"] for run in runs),
            "non_2xx_3xx": sum(run["non_2xx_3xx"] for run in runs),
            "socket_errors": {
                kind: sum(run["socket_errors"][kind] for run in runs)
                for kind in ("connect", "read", "write", "timeout")
            },
        }
        if all("cpu_ms_per_request" in run for run in runs):
            summary[name]["cpu_ms_per_request"] = {
                group: round(statistics.median(run["cpu_ms_per_request"][group] for run in runs), 3)
                for group in runs[0]["cpu_ms_per_request"]
            }
        if all("status_counts" in run for run in runs):
            summary[name]["status_counts"] = {
                kind: sum(run["status_counts"][kind] for run in runs)
                for kind in runs[0]["status_counts"]
            }
    summary["ratios"] = {
        name: round(statistics.median(round_["ratios"][name] for round_ in rounds), 3)
        for name in rounds[0]["ratios"]
    }
    return summary


def round_ratios(round_: dict[str, Any]) -> dict[str, float]:
    trivial, click, postback = round_["trivial"], round_["click"], round_["postback"]
    return {
        "click_vs_trivial_rps": round(
            click["requests_per_second"] / trivial["requests_per_second"], 3
        ),
        "postback_vs_trivial_rps": round(
            postback["requests_per_second"] / trivial["requests_per_second"], 3
        ),
        "click_vs_trivial_p50": round(click["p50_ms"] / trivial["p50_ms"], 2),
        "postback_vs_trivial_p50": round(postback["p50_ms"] / trivial["p50_ms"], 2),
    }


_CPU_GROUPS = (
    ("gunicorn", "gunicorn"),
    ("postgresql", "PostgreSQL"),
    ("wrk", "wrk"),
    ("other", "other"),
    ("idle", "idle"),
    ("total", "total"),
)


def _cpu_lines(results: dict[str, Any]) -> list[str]:
    """The CPU split table: milliseconds of CPU per request answered, by group."""
    names = [
        name for name in ("trivial", "click", "postback") if "cpu_ms_per_request" in results[name]
    ]
    if not names:
        return ["", "CPU split per request: not measured (no /proc on this system)."]
    header = f"{'endpoint':<16}" + "".join(f"{label:>12}" for _, label in _CPU_GROUPS)
    rows = [
        f"{name:<16}"
        + "".join(
            f"{results[name]['cpu_ms_per_request'][group]:>12.3f}" for group, _ in _CPU_GROUPS
        )
        for name in names
    ]
    return [
        "",
        "CPU per request answered, ms (median of the rounds; gunicorn = master and workers,",
        "PostgreSQL = its processes on this host, other = the rest of the machine's busy time):",
        header,
        *rows,
    ]


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _duration_seconds(text: str) -> int:
    match = re.fullmatch(r"(\d+)([smh]?)", text.strip())
    if not match or int(match.group(1)) == 0:
        raise argparse.ArgumentTypeError("a positive duration such as 10, 10s, 2m")
    return int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Command(BaseCommand):
    help = "Benchmark /bench/trivial, the click redirect and the postback with gunicorn + wrk."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--duration", type=_duration_seconds, default=10, help="e.g. 10s")
        parser.add_argument(
            "--rounds",
            type=int,
            default=3,
            help="times to drive trivial, click and postback in turn (figures: the median)",
        )
        parser.add_argument("--connections", type=int, default=16)
        parser.add_argument("--threads", type=int, default=2)
        parser.add_argument(
            "--workers", type=int, default=2 * (os.cpu_count() or 1), help="gunicorn workers"
        )
        parser.add_argument(
            "--worker-threads",
            type=int,
            default=1,
            help="threads per gunicorn worker (above 1: the gthread worker class)",
        )
        parser.add_argument("--json", dest="json_path", help="also write the results here")
        parser.add_argument("--seed-into", help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["seed_into"]:
            self._seed(
                Path(options["seed_into"]), duration=options["duration"], rounds=options["rounds"]
            )
            return
        wrk = shutil.which("wrk")
        if wrk is None:
            raise CommandError("wrk is not installed. Install it with: apt-get install -y wrk")
        if options["threads"] < 1 or options["connections"] < options["threads"]:
            raise CommandError("Need --threads >= 1 and --connections >= --threads.")
        if options["rounds"] < 1:
            raise CommandError("Need --rounds >= 1.")
        db = settings.DATABASES["default"]
        if connection.vendor != "postgresql":
            raise CommandError(
                "The benchmark needs PostgreSQL: set DATABASE_URL to a PostgreSQL server "
                "(the database clickledger_bench is created on it)."
            )
        with tempfile.TemporaryDirectory(prefix="clickledger-bench-") as workdir:
            self._run(wrk=wrk, db=db, workdir=Path(workdir), options=options)

    # --- orchestration ----------------------------------------------------------------------

    def _run(self, *, wrk: str, db: dict, workdir: Path, options: dict[str, Any]) -> None:
        duration = options["duration"]
        bench_url = scratch_database_create(db, name=BENCH_DB)
        env = self._server_env(bench_url, workdir=workdir)
        self.stdout.write(f"Database {BENCH_DB} recreated; migrating and seeding ...")
        manage = [sys.executable, str(BASE_DIR / "manage.py")]
        self._check_call([*manage, "migrate", "--noinput", "-v", "0"], env=env)
        seed_file = workdir / "seed.json"
        self._check_call(
            [
                *manage,
                "benchmark",
                "--seed-into",
                str(seed_file),
                "--duration",
                str(duration),
                "--rounds",
                str(options["rounds"]),
            ],
            env=env,
        )
        seed = json.loads(seed_file.read_text())
        port = _free_port()
        access_log = workdir / "access.log"
        server = self._gunicorn_start(
            env=env,
            port=port,
            workers=options["workers"],
            worker_threads=options["worker_threads"],
            workdir=workdir,
            access_log=access_log,
        )
        try:
            self._wait_ready(server=server, port=port, workdir=workdir)
            results = self._drive(
                wrk=wrk,
                port=port,
                server_pid=server.pid,
                seed=seed,
                workdir=workdir,
                options=options,
                db=db,
            )
        finally:
            self._gunicorn_stop(server)
        results["server_302_clicks"] = self._access_log_count(access_log, prefix="/c/", status=302)
        results["server_200_postbacks"] = self._access_log_count(
            access_log, prefix="/postback/", status=200
        )
        results["config"] = {
            "duration_s": duration,
            "rounds": options["rounds"],
            "connections": options["connections"],
            "threads": options["threads"],
            "workers": options["workers"],
            "worker_threads": options["worker_threads"],
            "cpu_count": os.cpu_count(),
            "postback_clicks_seeded": seed["postback_clicks"],
        }
        self._report(results, json_path=options["json_path"])

    @staticmethod
    def _server_env(bench_url: str, *, workdir: Path) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "config.settings.production",
                # Mounts /bench/trivial, which no other server routes.
                "BENCHMARK_ROUTES_ENABLED": "true",
                "DATABASE_URL": bench_url,
                "SECRET_KEY": secrets.token_urlsafe(48),
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                # Process-local and harmless: nothing leaves the machine during a benchmark.
                "CELERY_BROKER_URL": "memory://",
                # The production settings want a cache all workers share; the benchmark's paths
                # never touch it.
                "CACHE_URL": f"filecache://{workdir / 'cache'}",
                "SECURE_SSL_REDIRECT": "false",
                "SECURE_HSTS_SECONDS": "0",
                "DEBUG": "false",
                "LOG_LEVEL": "WARNING",
                "CONN_MAX_AGE": "600",
                "PYTHONUNBUFFERED": "1",
            }
        )
        for name in ("COUNTRY_HEADER", "DEFAULT_FALLBACK_URL", "TRUSTED_PROXY_COUNT"):
            env.pop(name, None)
        return env

    def _check_call(self, command: list[str], *, env: dict[str, str]) -> None:
        completed = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
            command, env=env, cwd=BASE_DIR, capture_output=True, text=True, check=False
        )
        if completed.returncode != 0:
            raise CommandError(
                f"{' '.join(command[1:])} failed:\n{completed.stdout}\n{completed.stderr}"
            )

    def _gunicorn_start(
        self,
        *,
        env: dict[str, str],
        port: int,
        workers: int,
        worker_threads: int,
        workdir: Path,
        access_log: Path,
    ) -> subprocess.Popen:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(BASE_DIR / "gunicorn.conf.py"),
            "config.wsgi",
            "--workers",
            str(workers),
            "--threads",
            str(max(1, worker_threads)),
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            str(access_log),
            "--access-logformat",
            "%(s)s %(U)s",
            "--error-logfile",
            str(workdir / "error.log"),
            "--log-level",
            "warning",
            "--backlog",
            "2048",
        ]
        kind = f"gthread x {worker_threads}" if worker_threads > 1 else "sync"
        self.stdout.write(f"Starting gunicorn: {workers} {kind} workers on 127.0.0.1:{port}")
        return subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command,
            env=env,
            cwd=BASE_DIR,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def _wait_ready(self, *, server: subprocess.Popen, port: int, workdir: Path) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise CommandError(
                    "gunicorn exited:\n" + (workdir / "error.log").read_text(errors="replace")
                )
            with contextlib.suppress(OSError):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            time.sleep(0.2)
        raise CommandError("gunicorn did not answer /healthz within 30 s.")

    def _gunicorn_stop(self, server: subprocess.Popen) -> None:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                # The session holds only the gunicorn we started (master and its workers).
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=5)

    def _wrk(self, *, wrk: str, url: str, script: Path, duration: int, options: dict) -> dict:
        command = [
            wrk,
            "-t",
            str(options["threads"]),
            "-c",
            str(options["connections"]),
            "-d",
            f"{duration}s",
            "--latency",
            "-s",
            str(script),
            url,
        ]
        completed = subprocess.run(  # noqa: S603 - wrk found on PATH, our arguments
            command, capture_output=True, text=True, timeout=duration + 60, check=False
        )
        if completed.returncode != 0:
            raise CommandError(f"wrk failed:\n{completed.stdout}\n{completed.stderr}")
        return wrk_output_parse(completed.stdout)

    def _wrk_measured(self, *, server_pid: int, **wrk_arguments: Any) -> dict:
        """`_wrk`, plus where the machine's CPU went during the run, per request answered
        (`devtools.bench_cpu`; skipped where there is no Linux /proc)."""
        if not (PROC / "stat").exists():
            return self._wrk(**wrk_arguments)
        before = cpu_snapshot()
        children_before = _children_cpu_seconds()
        result = self._wrk(**wrk_arguments)
        # wrk has exited and been waited for: its time is in this process's children's rusage.
        wrk_seconds = _children_cpu_seconds() - children_before
        split = cpu_split(before, cpu_snapshot(), server_pid=server_pid, wrk_seconds=wrk_seconds)
        result["cpu_ms_per_request"] = cpu_per_request(split, result["requests"])
        return result

    def _drive(
        self,
        *,
        wrk: str,
        port: int,
        server_pid: int,
        seed: dict,
        workdir: Path,
        options: dict[str, Any],
        db: dict,
    ) -> dict[str, Any]:
        base = f"http://127.0.0.1:{port}"
        threads = options["threads"]
        duration = options["duration"]
        plain = workdir / "plain.lua"
        plain.write_text(_LUA_COMMON)
        clicks = workdir / "clicks.lua"
        clicks.write_text(
            _LUA_COMMON
            + _LUA_CLICKS
            % {
                "tokens": ", ".join(json.dumps(token) for token in seed["click_tokens"]),
                "threads": threads,
            }
        )
        rounds = options["rounds"]
        clicks_per_round = seed["postback_clicks"] // rounds
        # Warm-up: every worker imports the code and opens its database connection.
        self._wrk(wrk=wrk, url=f"{base}/healthz", script=plain, duration=2, options=options)
        click_url = base + "/c/" + seed["click_tokens"][0]
        round_results: list[dict[str, Any]] = []
        for number in range(1, rounds + 1):
            postbacks = workdir / f"postbacks-{number}.lua"
            postbacks.write_text(
                _LUA_COMMON
                + _LUA_POSTBACKS
                % {
                    "threads": threads,
                    "first": (number - 1) * clicks_per_round,
                    "clicks": clicks_per_round,
                    "key": seed["partner_key"],
                    "round": number,
                }
            )
            round_: dict[str, Any] = {}
            for name, url, script in (
                ("trivial", f"{base}/bench/trivial", plain),
                ("click", click_url, clicks),
                ("postback", f"{base}/postback/{seed['partner_key']}", postbacks),
            ):
                self.stdout.write(f"round {number}/{rounds}, wrk {name}: {duration} s ...")
                round_[name] = self._wrk_measured(
                    server_pid=server_pid,
                    wrk=wrk,
                    url=url,
                    script=script,
                    duration=duration,
                    options=options,
                )
            round_["ratios"] = round_ratios(round_)
            round_results.append(round_)
        results: dict[str, Any] = {"rounds": round_results, **rounds_summarize(round_results)}
        # The click redirect again at half of the rate it peaked at: its latency when the
        # server has headroom (the p99 target), not when requests queue.
        target = results["click"]["requests_per_second"] / 2
        # Each connection sends, waits for the answer (about a millisecond at this load), then
        # waits `delay` ms: connections / (delay + 1 ms) is the rate.
        delay_ms = max(1, round(options["connections"] * 1000 / target) - 1)
        paced = workdir / "clicks_paced.lua"
        paced.write_text(clicks.read_text() + _LUA_PACED % {"delay_ms": delay_ms})
        self.stdout.write(f"wrk click at half its peak (~{target:.0f}/s): {duration} s ...")
        results["click_half_peak"] = self._wrk(
            wrk=wrk, url=click_url, script=paced, duration=duration, options=options
        )
        results["click_half_peak"]["target_requests_per_second"] = round(target, 1)
        results["click_half_peak"]["delay_ms"] = delay_ms
        # Requests wrk abandoned at the deadline may still be finishing in a worker.
        time.sleep(1)
        results.update(self._database_counts(db=db, seed=seed))
        return results

    def _database_counts(self, *, db: dict, seed: dict) -> dict[str, int]:
        import psycopg

        with psycopg.connect(**conninfo(db, dbname=BENCH_DB)) as conn:
            clicks = conn.execute(
                "SELECT count(*) FROM tracker_click WHERE link_id = ANY(%s)",
                (seed["click_link_ids"],),
            ).fetchone()
            conversions = conn.execute("SELECT count(*) FROM tracker_conversion").fetchone()
        if clicks is None or conversions is None:  # a count(*) always answers one row
            raise CommandError("count(*) returned no row")
        return {"database_clicks": clicks[0], "database_conversions": conversions[0]}

    @staticmethod
    def _access_log_count(path: Path, *, prefix: str, status: int) -> int:
        if not path.exists():
            return 0
        wanted = str(status)
        count = 0
        with path.open(errors="replace") as log:
            for line in log:
                code, _, url = line.strip().partition(" ")
                if code == wanted and url.startswith(prefix):
                    count += 1
        return count

    def _report(self, results: dict[str, Any], *, json_path: str | None) -> None:
        trivial, click, postback = results["trivial"], results["click"], results["postback"]
        click_302_wrk = click.get("status_counts", {}).get("302", 0)
        results["clicks_match_302"] = results["database_clicks"] == results["server_302_clicks"]
        results["conversions_match_200"] = (
            results["database_conversions"] == results["server_200_postbacks"]
        )
        header = (
            f"{'endpoint':<16}{'requests/s':>12}{'p50 ms':>10}{'p99 ms':>10}"
            f"{'requests':>11}{'non-2xx/3xx':>13}{'sock err':>10}"
        )

        def row_line(name: str, row: dict[str, Any]) -> str:
            return (
                f"{name:<16}{row['requests_per_second']:>12.1f}{row['p50_ms']:>10.2f}"
                f"{row['p99_ms']:>10.2f}{row['requests']:>11}{row['non_2xx_3xx']:>13}"
                f"{sum(row['socket_errors'].values()):>10}"
            )

        lines = []
        if len(results["rounds"]) > 1:
            for number, round_ in enumerate(results["rounds"], start=1):
                round_ratios_ = round_["ratios"]
                lines += [
                    "",
                    f"round {number}: click / trivial "
                    f"{round_ratios_['click_vs_trivial_rps']:.3f} x, postback / trivial "
                    f"{round_ratios_['postback_vs_trivial_rps']:.3f} x",
                    header,
                    *(row_line(name, round_[name]) for name in ("trivial", "click", "postback")),
                ]
            lines += ["", f"median of {len(results['rounds'])} rounds (requests: the sum):"]
        lines += [
            "",
            header,
            *(
                row_line(name, results[name])
                for name in ("trivial", "click", "postback", "click_half_peak")
            ),
        ]
        ratios = results["ratios"]
        lines += [
            "",
            f"click / trivial:    {ratios['click_vs_trivial_rps']:.3f} x requests/s, "
            f"{ratios['click_vs_trivial_p50']:.2f} x p50",
            f"postback / trivial: {ratios['postback_vs_trivial_rps']:.3f} x requests/s, "
            f"{ratios['postback_vs_trivial_p50']:.2f} x p50",
            f"click at half its peak: {results['click_half_peak']['requests_per_second']:.1f} "
            f"requests/s (aimed at {results['click_half_peak']['target_requests_per_second']:.1f}"
            f"), p99 {results['click_half_peak']['p99_ms']:.2f} ms",
            *_cpu_lines(results),
            "",
            f"clicks in database == 302 responses answered: {results['database_clicks']} == "
            f"{results['server_302_clicks']} (gunicorn) -> "
            + ("OK" if results["clicks_match_302"] else "MISMATCH"),
            f"  302s seen by wrk before its deadline: {click_302_wrk}",
            f"conversions in database == postbacks answered 200: "
            f"{results['database_conversions']} == {results['server_200_postbacks']} (gunicorn) -> "
            + ("OK" if results["conversions_match_200"] else "MISMATCH"),
            f"  postback 2xx seen by wrk before its deadline: "
            f"{postback.get('status_counts', {}).get('2xx', 0)}",
            f"non-2xx/3xx responses: trivial {trivial['non_2xx_3xx']}, click "
            f"{click['non_2xx_3xx']}, postback {postback['non_2xx_3xx']}",
        ]
        self.stdout.write("\n".join(lines))
        if json_path:
            results["finished_at"] = dt.datetime.now(tz=dt.UTC).isoformat()
            Path(json_path).write_text(json.dumps(results, indent=2) + "\n")
            self.stdout.write(f"Results written to {json_path}")
        if not results["clicks_match_302"]:
            raise CommandError("Clicks in the database differ from the 302 responses answered.")
        if not results["conversions_match_200"]:
            raise CommandError(
                "Conversions in the database differ from the postbacks answered 200: a postback "
                "was a duplicate, or a conversion was lost."
            )

    # --- seeding (runs in the child process, against clickledger_bench) --------------------

    def _seed(self, output: Path, *, duration: int, rounds: int) -> None:
        from django.db import transaction
        from django.utils import timezone

        from accounts.models import Advertiser, Affiliate, ApprovalStatus, Role, User
        from campaigns.events import campaign_default_event_sync
        from campaigns.models import (
            AccessStatus,
            Campaign,
            CampaignAccess,
            PartnerKey,
            PayoutType,
            TrackingLink,
        )
        from core import tokens
        from tracker.models import Click

        if connection.settings_dict["NAME"] != BENCH_DB:
            raise CommandError(f"--seed-into only seeds the database {BENCH_DB}.")
        now = timezone.now()
        postback_clicks = max(MIN_POSTBACK_CLICKS, POSTBACK_CLICKS_PER_SECOND * duration) * rounds
        with transaction.atomic():
            owner = User.objects.create_user(
                email="bench-advertiser@clickledger.local", role=Role.ADVERTISER
            )
            advertiser = Advertiser.objects.create(
                user=owner, company="Bench Advertiser", status=ApprovalStatus.APPROVED
            )
            affiliates = []
            for number in range(1, 5):
                user = User.objects.create_user(
                    email=f"bench-affiliate{number}@clickledger.local", role=Role.AFFILIATE
                )
                affiliates.append(
                    Affiliate.objects.create(user=user, status=ApprovalStatus.APPROVED)
                )
            common = {
                "advertiser": advertiser,
                "payout_type": PayoutType.FIXED,
                "payout_amount": "1.5000",
                "default_revenue": "2.0000",
            }
            click_campaigns = [
                Campaign.objects.create(
                    name="Bench clicks A",
                    landing_url="https://advertiser.example/lp?cid={click_id}&aff={affiliate_id}"
                    "&s1={sub1}&s2={sub2}",
                    external_offer_id="BENCH-A",
                    **common,
                ),
                Campaign.objects.create(
                    name="Bench clicks B",
                    landing_url="https://advertiser.example/b/{offer_id}?c={click_id}",
                    **common,
                ),
            ]
            postback_campaign = Campaign.objects.create(
                name="Bench postbacks",
                landing_url="https://advertiser.example/p?c={click_id}",
                external_offer_id="BENCH-P",
                **common,
            )
            for campaign in [*click_campaigns, postback_campaign]:
                campaign_default_event_sync(campaign=campaign)
            links = {}
            for campaign in [*click_campaigns, postback_campaign]:
                for affiliate in affiliates:
                    CampaignAccess.objects.create(
                        campaign=campaign, affiliate=affiliate, status=AccessStatus.APPROVED
                    )
                    links[(campaign.pk, affiliate.pk)] = TrackingLink.objects.create(
                        campaign=campaign, affiliate=affiliate, token=tokens.new_link_token()
                    )
            click_links = [
                link
                for (campaign_id, _), link in links.items()
                if campaign_id != postback_campaign.pk
            ][:CLICK_LINKS]
            key = PartnerKey.objects.create(
                advertiser=advertiser,
                name="Bench partner",
                key=tokens.new_partner_key(),
                signing_secret=tokens.new_signing_secret(),
            )
            postback_links = [links[(postback_campaign.pk, a.pk)] for a in affiliates]
            batch: list[Click] = []
            for number in range(1, postback_clicks + 1):
                link = postback_links[number % len(postback_links)]
                batch.append(
                    Click(
                        click_id=f"bench-{number:07d}",
                        link=link,
                        affiliate_id=link.affiliate_id,
                        campaign_id=link.campaign_id,
                        created_at=now,
                        ip="198.51.100.1",
                        user_agent="bench",
                    )
                )
                if len(batch) == 5000:
                    Click.objects.bulk_create(batch)
                    batch = []
            Click.objects.bulk_create(batch)
        output.write_text(
            json.dumps(
                {
                    "click_tokens": [link.token for link in click_links],
                    "click_link_ids": [link.pk for link in click_links],
                    "partner_key": key.key,
                    "postback_clicks": postback_clicks,
                }
            )
        )
