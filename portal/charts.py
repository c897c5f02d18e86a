"""Line charts drawn as SVG on the server: axes, tick labels, a legend, no JavaScript.

Each series gets a colour and a dash pattern, so the lines stay apart in grey scale too; the
chart carries a <title> and <desc> for screen readers, and pages show the numbers in a table.
"""

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from core.formatting import format_money, format_number

WIDTH = 720
HEIGHT = 280
MARGIN_LEFT = 56
MARGIN_RIGHT = 16
MARGIN_TOP = 36
MARGIN_BOTTOM = 40
PALETTE = (("#2457c5", ""), ("#d0571b", "6 4"), ("#1f8a4c", "2 3"), ("#7a3fb8", "8 3 2 3"))


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[int | Decimal]


def nice_ceiling(value: float, *, integer: bool = False) -> tuple[float, float]:
    """(axis maximum, tick step): the smallest 1/2/5 x 10^k step giving at most 5 ticks.

    `integer` is for counts: the step is a whole number (at least 1, never 2.5), so no tick
    reads 0.25 clicks, and the axis ends at the first tick at or above the value, so a peak of
    1 still reaches the top of the plot.
    """
    if value <= 0:
        return 4.0, 1.0
    raw_step = value / 4
    magnitude = 10 ** math.floor(math.log10(raw_step))
    if integer:
        magnitude = max(magnitude, 1)
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if integer and step != int(step):
            continue
        if step * 4 >= value:
            break
    if magnitude >= 1 and step < 1:
        step = 1.0
    if integer:
        return float(step * math.ceil(value / step)), float(step)  # not money: axis ticks
    return step * 4, step


def _coordinate(value: Decimal | int) -> float:
    """A value as a drawing position on the SVG canvas (display geometry, never money)."""
    return float(value)  # not money: SVG drawing coordinates


def _label(value: Decimal | int | float, currency: str | None) -> str:
    """A tick, total or point value for people, in the viewer's locale: money in its currency
    (`$1,250.00`), a count or other quantity with at most 2 decimals (`1,250`, `0.25`)."""
    # Ticks are floats from the axis arithmetic; their shortest repr is the decimal meant.
    amount = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if currency:
        return format_money(amount, currency)
    return format_number(amount, max_places=2)


def line_chart(
    *,
    chart_id: str,
    title: str,
    days: Sequence[dt.date],
    series: Sequence[Series],
    y_label: str,
    integer_ticks: bool = False,
    currency: str | None = None,
) -> SafeString:
    """`integer_ticks` for series of counts (see `nice_ceiling`); `currency` for series of
    money, whose ticks, totals and point titles then read as amounts of that currency."""
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    peak = max((_coordinate(v) for s in series for v in s.values), default=0.0)
    y_max, step = nice_ceiling(peak, integer=integer_ticks)
    count = len(days)

    def x_at(index: int) -> float:
        return MARGIN_LEFT + (plot_w * index / (count - 1) if count > 1 else plot_w / 2)

    def y_at(value: float) -> float:
        return MARGIN_TOP + plot_h - plot_h * value / y_max

    totals = ", ".join(f"{s.label}: {_label(sum(s.values, Decimal(0)), currency)}" for s in series)
    first = days[0].isoformat() if days else ""
    last = days[-1].isoformat() if days else ""
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="chart-title-{chart_id}" preserveAspectRatio="xMidYMid meet" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-title-{chart_id}">{escape(title)}</title>',
        f"<desc>{escape(f'{first} to {last}. Totals: {totals}.')}</desc>",
    ]
    # Horizontal grid lines with their value labels.
    ticks = round(y_max / step)
    for tick in range(ticks + 1):
        value = step * tick
        y = y_at(value)
        parts.append(
            f'<line class="grid" x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" '
            f'y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{MARGIN_LEFT - 8}" y="{y + 4:.1f}" '
            f'text-anchor="end">{escape(_label(value, currency))}</text>'
        )
    # Axes.
    bottom = MARGIN_TOP + plot_h
    parts.append(
        f'<line class="axis" x1="{MARGIN_LEFT}" x2="{MARGIN_LEFT}" y1="{MARGIN_TOP}" '
        f'y2="{bottom}"/><line class="axis" x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" '
        f'y1="{bottom}" y2="{bottom}"/>'
    )
    parts.append(
        f'<text class="axis-label" x="14" y="{MARGIN_TOP + plot_h / 2:.1f}" '
        f'transform="rotate(-90 14 {MARGIN_TOP + plot_h / 2:.1f})" '
        f'text-anchor="middle">{escape(y_label)}</text>'
    )
    # Date labels: at most 8, evenly spaced, always the first and the last day.
    if count:
        every = max(1, math.ceil(count / 8))
        shown = sorted({*range(0, count, every), count - 1})
        if len(shown) > 1 and shown[-1] - shown[-2] < every / 2:
            shown.pop(-2)
        for index in shown:
            anchor = "middle"
            if count > 1 and index == 0:
                anchor = "start"
            elif count > 1 and index == count - 1:
                anchor = "end"
            parts.append(
                f'<text class="tick" x="{x_at(index):.1f}" y="{bottom + 18}" '
                f'text-anchor="{anchor}">{days[index].strftime("%b %d")}</text>'
            )
    # Legend, top left, one entry per series.
    legend_x = MARGIN_LEFT
    for position, item in enumerate(series):
        colour, dash = PALETTE[position % len(PALETTE)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<line x1="{legend_x}" x2="{legend_x + 24}" y1="14" y2="14" stroke="{colour}" '
            f'stroke-width="3"{dash_attr}/>'
            f'<text class="legend" x="{legend_x + 30}" y="18">{escape(item.label)}</text>'
        )
        legend_x += 40 + 8 * len(item.label)
    # The lines, with a dot per day.
    for position, item in enumerate(series):
        colour, dash = PALETTE[position % len(PALETTE)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        points = " ".join(
            f"{x_at(i):.1f},{y_at(_coordinate(v)):.1f}" for i, v in enumerate(item.values)
        )
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2.5"{dash_attr} '
            f'stroke-linejoin="round" points="{points}"/>'
        )
        if count <= 45:
            parts.extend(
                f'<circle cx="{x_at(i):.1f}" cy="{y_at(_coordinate(v)):.1f}" r="2.5" '
                f'fill="{colour}">'
                f"<title>{days[i].isoformat()}: {escape(item.label)} "
                f"{escape(_label(v, currency))}</title>"
                "</circle>"
                for i, v in enumerate(item.values)
            )
    parts.append("</svg>")
    # Every interpolated text is escaped above.
    return mark_safe("".join(parts))


def traffic_charts(daily: Sequence) -> list[SafeString]:
    """The two dashboard charts (clicks and conversions per day) of a daily traffic series."""
    days = [row.day for row in daily]
    return [
        line_chart(
            chart_id="clicks",
            title="Clicks per day",
            days=days,
            series=[
                Series("Clicks", [row.clicks for row in daily]),
                Series("Unique clicks", [row.unique_clicks for row in daily]),
            ],
            y_label="Clicks",
            integer_ticks=True,
        ),
        line_chart(
            chart_id="conversions",
            title="Conversions per day",
            days=days,
            series=[
                Series("Conversions", [row.conversions for row in daily]),
                Series("Approved", [row.approved for row in daily]),
            ],
            y_label="Conversions",
            integer_ticks=True,
        ),
    ]
