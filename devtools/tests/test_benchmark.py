"""The `benchmark` command: wrk's output parsed exactly, and one short real run (gunicorn, wrk,
PostgreSQL) that must account for every click. Figures are not asserted: speed is the command's
business, not the test suite's (see docs/performance.md)."""

import json
import shutil

import pytest
from django.core.management import call_command

from devtools.management.commands.benchmark import Command as BenchmarkCommand
from devtools.management.commands.benchmark import round_ratios, rounds_summarize, wrk_output_parse

WRK_OUTPUT = """Running 8s test @ http://127.0.0.1:45763/c/tok
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    16.71ms    4.02ms  40.11ms   73.21%
    Req/Sec   479.90     52.60   590.00     71.88%
  Latency Distribution
     50%   16.29ms
     75%   18.95ms
     90%   21.62ms
     99%   26.75ms
  7649 requests in 8.01s, 2.06MB read
  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 4
Requests/sec:    954.70
Transfer/sec:    263.18KB
BENCH_COUNTS 0 7645 0 4 0
"""


def test_wrk_output_parse_reads_every_figure():
    assert wrk_output_parse(WRK_OUTPUT) == {
        "requests_per_second": 954.7,
        "requests": 7649,
        "p50_ms": 16.29,
        "p99_ms": 26.75,
        "non_2xx_3xx": 4,
        "socket_errors": {"connect": 0, "read": 3, "write": 0, "timeout": 2},
        "status_counts": {"2xx": 0, "302": 7645, "other_3xx": 0, "4xx": 4, "5xx": 0},
    }


def test_wrk_output_parse_converts_microseconds_and_seconds():
    output = WRK_OUTPUT.replace("16.29ms", "880.00us").replace("26.75ms", "1.20s")

    parsed = wrk_output_parse(output)

    assert (parsed["p50_ms"], parsed["p99_ms"]) == (0.88, 1200.0)


def test_wrk_output_parse_refuses_output_without_a_summary():
    with pytest.raises(ValueError, match="no summary"):
        wrk_output_parse("unable to connect to 127.0.0.1:1 Connection refused\n")


def _run(rps: float, p50: float, p99: float, requests: int, ok: int) -> dict:
    return {
        "requests_per_second": rps,
        "requests": requests,
        "p50_ms": p50,
        "p99_ms": p99,
        "non_2xx_3xx": requests - ok,
        "socket_errors": {"connect": 0, "read": 1, "write": 0, "timeout": 0},
        "status_counts": {"2xx": ok, "302": 0, "other_3xx": 0, "4xx": requests - ok, "5xx": 0},
    }


def _round(trivial_rps: float, click_rps: float, postback_rps: float) -> dict:
    round_ = {
        "trivial": _run(trivial_rps, 5.0, 10.0, 100, 100),
        "click": _run(click_rps, 10.0, 20.0, 50, 49),
        "postback": _run(postback_rps, 40.0, 80.0, 10, 10),
    }
    round_["ratios"] = round_ratios(round_)
    return round_


def test_round_ratios_divide_within_the_round():
    assert round_ratios(_round(2000.0, 1000.0, 300.0)) == {
        "click_vs_trivial_rps": 0.5,
        "postback_vs_trivial_rps": 0.15,
        "click_vs_trivial_p50": 2.0,
        "postback_vs_trivial_p50": 8.0,
    }


def test_rounds_summarize_takes_medians_of_figures_and_of_each_rounds_ratio():
    # The machine slowed down in round 2: its ratios still count, its speed does not skew them.
    rounds = [
        _round(2000.0, 1000.0, 300.0),
        _round(1000.0, 450.0, 170.0),
        _round(3000.0, 1620.0, 480.0),
    ]

    summary = rounds_summarize(rounds)

    assert summary["trivial"]["requests_per_second"] == 2000.0
    assert summary["click"]["requests_per_second"] == 1000.0
    assert summary["postback"]["requests_per_second"] == 300.0
    assert summary["ratios"] == {
        "click_vs_trivial_rps": 0.5,  # rounds: 0.5, 0.45, 0.54
        "postback_vs_trivial_rps": 0.16,  # rounds: 0.15, 0.17, 0.16
        "click_vs_trivial_p50": 2.0,
        "postback_vs_trivial_p50": 8.0,
    }
    assert summary["click"]["requests"] == 150
    assert summary["click"]["non_2xx_3xx"] == 3
    assert summary["click"]["socket_errors"] == {
        "connect": 0,
        "read": 3,
        "write": 0,
        "timeout": 0,
    }
    assert summary["click"]["status_counts"] == {
        "2xx": 147,
        "302": 0,
        "other_3xx": 0,
        "4xx": 3,
        "5xx": 0,
    }
    assert (summary["postback"]["p50_ms"], summary["postback"]["p99_ms"]) == (40.0, 80.0)


@pytest.mark.integration
def test_benchmark_runs_end_to_end_and_loses_no_click(tmp_path, capsys):
    assert shutil.which("wrk"), "wrk is installed by .ci/run (apt-get install -y wrk)"
    results_path = tmp_path / "bench.json"

    call_command("benchmark", "--duration", "1s", "--rounds", "2", "--json", str(results_path))

    results = json.loads(results_path.read_text())
    assert results["clicks_match_302"] is True
    assert results["database_clicks"] == results["server_302_clicks"] > 0
    # Each round converts its own clicks: every postback answered 200 wrote one conversion.
    assert results["conversions_match_200"] is True
    assert results["database_conversions"] == results["server_200_postbacks"] > 0
    assert len(results["rounds"]) == 2
    assert results["postback"]["requests"] == sum(
        round_["postback"]["requests"] for round_ in results["rounds"]
    )
    for name in ("trivial", "click", "postback", "click_half_peak"):
        assert results[name]["non_2xx_3xx"] == 0, name
        assert results[name]["requests"] > 0, name
    assert results["click"]["status_counts"]["5xx"] == 0
    assert results["postback"]["status_counts"]["2xx"] == results["postback"]["requests"]
    groups = ("gunicorn", "postgresql", "wrk", "other", "idle")
    for name in ("trivial", "click", "postback"):
        cpu = results[name]["cpu_ms_per_request"]
        assert set(cpu) == {*groups, "total"}, name
        assert cpu["gunicorn"] > 0, name
        assert cpu["wrk"] > 0, name
        assert min(cpu.values()) >= 0, name
        for round_ in results["rounds"]:
            per_round = round_[name]["cpu_ms_per_request"]
            # Each figure is rounded to 3 decimals on its own.
            assert per_round["total"] == pytest.approx(
                sum(per_round[group] for group in groups), abs=0.003
            ), name
    # The trivial view sends nothing to PostgreSQL; a postback sends ten statements.
    assert (
        results["postback"]["cpu_ms_per_request"]["postgresql"]
        > results["trivial"]["cpu_ms_per_request"]["postgresql"]
    )
    output = capsys.readouterr().out
    assert "click / trivial:" in output
    assert "CPU per request answered, ms" in output


def test_rounds_summarize_takes_the_median_of_each_cpu_group():
    rounds = [_round(2000.0, 1000.0, 300.0) for _ in range(3)]
    for round_, (gunicorn, postgres) in zip(
        rounds, [(0.5, 0.0), (0.75, 0.25), (0.625, 0.125)], strict=True
    ):
        for name in ("trivial", "click", "postback"):
            round_[name]["cpu_ms_per_request"] = {
                "gunicorn": gunicorn,
                "postgresql": postgres,
                "total": gunicorn + postgres,
            }

    summary = rounds_summarize(rounds)

    assert summary["click"]["cpu_ms_per_request"] == {
        "gunicorn": 0.625,
        "postgresql": 0.125,
        "total": 0.75,
    }


def test_rounds_summarize_leaves_out_the_cpu_split_when_a_round_lacks_it():
    rounds = [_round(2000.0, 1000.0, 300.0), _round(2000.0, 1000.0, 300.0)]
    rounds[0]["click"]["cpu_ms_per_request"] = {"gunicorn": 1.0, "total": 1.0}

    summary = rounds_summarize(rounds)

    assert "cpu_ms_per_request" not in summary["click"]


def test_the_benchmark_turns_its_route_on_for_its_own_server(tmp_path):
    env = BenchmarkCommand._server_env("postgres://x@127.0.0.1/db", workdir=tmp_path)

    assert env["BENCHMARK_ROUTES_ENABLED"] == "true"
    assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    assert env["CACHE_URL"] == f"filecache://{tmp_path / 'cache'}"
