"""The SVG line charts: axes, labels, legend and escaped text; tick steps, whole ones for counts."""

import datetime as dt
import re
from types import SimpleNamespace

import pytest

from portal.charts import Series, line_chart, nice_ceiling, traffic_charts


def test_line_chart_has_axes_labels_legend_and_escapes_text():
    days = [dt.date(2026, 3, 1) + dt.timedelta(days=offset) for offset in range(3)]

    svg = line_chart(
        chart_id="t",
        title="Clicks <per> day",
        days=days,
        series=[Series("Clicks & co", [0, 7, 3]), Series("Unique", [0, 5, 2])],
        y_label="Clicks",
    )

    assert svg.startswith('<svg class="chart" viewBox="0 0 720 280" role="img"')
    assert '<title id="chart-title-t">Clicks &lt;per&gt; day</title>' in svg
    assert "<desc>2026-03-01 to 2026-03-03. Totals: Clicks &amp; co: 10, Unique: 7.</desc>" in svg
    assert svg.count('class="axis"') == 2
    assert ">Clicks</text>" in svg  # the y axis label
    assert ">Mar 01</text>" in svg
    assert ">Mar 03</text>" in svg
    assert 'class="legend" x="86" y="18">Clicks &amp; co</text>' in svg
    assert svg.count("<polyline") == 2
    assert [f">{tick}</text>" in svg for tick in ("0", "2", "4", "6", "8")] == [True] * 5


@pytest.mark.parametrize(
    ("peak", "expected"),
    [(0, (4.0, 1.0)), (7, (8.0, 2.0)), (100, (100.0, 25.0)), (1973, (2000.0, 500.0))],
)
def test_nice_ceiling(peak, expected):
    assert nice_ceiling(peak) == expected


@pytest.mark.parametrize(
    ("peak", "expected"),
    [
        (0, (4.0, 1.0)),
        (1, (1.0, 1.0)),
        (2, (2.0, 1.0)),
        (3, (3.0, 1.0)),
        (5, (6.0, 2.0)),
        (7, (8.0, 2.0)),
        (10, (10.0, 5.0)),
        (11, (15.0, 5.0)),
        (100, (100.0, 25.0)),
        (1973, (2000.0, 500.0)),
    ],
)
def test_nice_ceiling_for_counts_steps_by_whole_numbers(peak, expected):
    assert nice_ceiling(peak, integer=True) == expected


def _tick_labels(svg: str) -> list[str]:
    return re.findall(r'<text class="tick" x="48" y="[\d.]+" text-anchor="end">([^<]*)</text>', svg)


def test_count_charts_label_whole_ticks_and_a_single_count_reaches_the_top():
    days = [dt.date(2026, 3, 1) + dt.timedelta(days=offset) for offset in range(2)]
    series = [Series("Clicks", [0, 1])]

    counts = line_chart(
        chart_id="c", title="t", days=days, series=series, y_label="Clicks", integer_ticks=True
    )
    amounts = line_chart(chart_id="a", title="t", days=days, series=series, y_label="USD")

    assert _tick_labels(counts) == ["0", "1"]
    assert _tick_labels(amounts) == ["0", "0.25", "0.5", "0.75", "1"]
    assert '<circle cx="704.0" cy="36.0" r="2.5"' in counts


def test_dashboard_charts_use_whole_ticks():
    day = dt.date(2026, 3, 1)
    row = SimpleNamespace(day=day, clicks=1, unique_clicks=1, conversions=1, approved=1)

    charts = traffic_charts([row])

    assert [_tick_labels(chart) for chart in charts] == [["0", "1"], ["0", "1"]]
