"""The `bench_reports` command end to end on a small scale: its own database, the rollups, every
endpoint timed, and the memory of each request measured. Figures are not asserted (speed and
memory are the command's business); what the figures rest on is."""

import json

import pytest
from django.core.management import call_command

ENDPOINTS = {
    "campaign dashboard",
    "report 30 d by day",
    "report 30 d day,campaign",
    "report 30 d by sub1",
}


@pytest.mark.integration
def test_bench_reports_measures_time_and_memory_at_each_scale_without_raw_clicks(tmp_path):
    results_path = tmp_path / "reports.json"

    call_command(
        "bench_reports", "--scales", "300,900", "--requests", "2", "--json", str(results_path)
    )

    results = json.loads(results_path.read_text())
    assert [scale["clicks"] for scale in results["scales"]] == [300, 900]
    for scale in results["scales"]:
        assert scale["raw_click_queries"] == 0
        assert set(scale["endpoints"]) == ENDPOINTS
        for figures in scale["endpoints"].values():
            assert figures["p50_ms"] <= figures["p95_ms"] <= figures["max_ms"]
            assert figures["memory"]["python_peak_kib"] > 0
            assert isinstance(figures["memory"]["rss_growth_kib"], int)  # Linux: /proc works
        csv_export = scale["csv_export"]
        # The CSV was read to its end: a header line and one line per grouped row.
        assert csv_export["rows"] > 0
        assert csv_export["bytes"] > csv_export["rows"]
    # More traffic spread over the same hours, campaigns, affiliates and sub1 values: more rows.
    assert results["scales"][1]["csv_export"]["rows"] >= results["scales"][0]["csv_export"]["rows"]
