"""The `benchmark` command: wrk's output parsed exactly, and one short real run (gunicorn, wrk,
PostgreSQL) that must account for every click. Figures are not asserted: speed is the command's
business, not the test suite's (see the README's benchmark section)."""

import json
import shutil

import pytest
from django.core.management import call_command

from tracker.management.commands.benchmark import wrk_output_parse

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


@pytest.mark.integration
def test_benchmark_runs_end_to_end_and_loses_no_click(tmp_path, capsys):
    assert shutil.which("wrk"), "wrk is installed by .ci/run (apt-get install -y wrk)"
    results_path = tmp_path / "bench.json"

    call_command("benchmark", "--duration", "1s", "--json", str(results_path))

    results = json.loads(results_path.read_text())
    assert results["clicks_match_302"] is True
    assert results["database_clicks"] == results["server_302_clicks"] > 0
    for name in ("trivial", "click", "postback", "click_half_peak"):
        assert results[name]["non_2xx_3xx"] == 0, name
        assert results[name]["requests"] > 0, name
    assert results["click"]["status_counts"]["5xx"] == 0
    assert results["postback"]["status_counts"]["2xx"] == results["postback"]["requests"]
    assert "click / trivial:" in capsys.readouterr().out
