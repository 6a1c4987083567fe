"""Small inline SVG charts for the static report: no scripts, no external resources.

Every value is escaped; coordinates are rounded so the files stay small and
identical for the same data.
"""

from __future__ import annotations

import html
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 760, 220
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 14, 28
COLORS = ("#1f6feb", "#d29922", "#8957e5", "#2da44e", "#cf222e", "#6e7781")
THRESHOLD_COLOR = "#cf222e"


@dataclass(frozen=True)
class Line:
    label: str
    points: Sequence[tuple[float, float]]  # (unix time, value); NaN values leave a gap


@dataclass(frozen=True)
class Rule:
    """A horizontal reference line: an objective or an alert threshold."""

    label: str
    value: float


@dataclass(frozen=True)
class Lane:
    """One row of a timeline: the intervals during which something held."""

    label: str
    intervals: Sequence[tuple[float, float]]


def line_chart(
    title: str,
    lines: Sequence[Line],
    start: float,
    end: float,
    unit: str = "",
    rules: Sequence[Rule] = (),
) -> str:
    values = [v for line in lines for _, v in line.points if math.isfinite(v)]
    values += [r.value for r in rules]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if high == low:
        low, high = low - 1, high + 1
    pad = (high - low) * 0.08
    low, high = low - pad, high + pad

    def x(t: float) -> float:
        return LEFT + (t - start) / max(end - start, 1) * (WIDTH - LEFT - RIGHT)

    def y(v: float) -> float:
        return TOP + (high - v) / (high - low) * (HEIGHT - TOP - BOTTOM)

    parts = [_frame(title)]
    for tick in _ticks(low, high):
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'class="grid"/><text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">'
            f"{_e(_format(tick, unit))}</text>"
        )
    parts.append(_time_axis(start, end, x))
    for rule in rules:
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(rule.value):.1f}" '
            f'y2="{y(rule.value):.1f}" stroke="{THRESHOLD_COLOR}" stroke-dasharray="5 4"/>'
            f'<text x="{WIDTH - RIGHT - 4}" y="{y(rule.value) - 4:.1f}" text-anchor="end" '
            f'fill="{THRESHOLD_COLOR}">{_e(rule.label)}</text>'
        )
    for i, line in enumerate(lines):
        color = COLORS[i % len(COLORS)]
        for segment in _segments(line.points):
            path = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in segment)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="1.6"/>'
            )
    parts.append(_legend([(line.label, COLORS[i % len(COLORS)]) for i, line in enumerate(lines)]))
    if not values:
        parts.append(f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">no data</text>')
    return _svg(title, parts)


def timeline(title: str, lanes: Sequence[Lane], start: float, end: float) -> str:
    lane_height = 22
    height = TOP + BOTTOM + lane_height * max(len(lanes), 1)
    label_width = 200

    def x(t: float) -> float:
        return label_width + (t - start) / max(end - start, 1) * (WIDTH - label_width - RIGHT)

    parts = [_frame(title)]
    for i, lane in enumerate(lanes):
        top = TOP + i * lane_height
        parts.append(
            f'<text x="{label_width - 6}" y="{top + 15}" text-anchor="end">{_e(lane.label)}</text>'
            f'<rect x="{label_width}" y="{top + 3}" width="{WIDTH - label_width - RIGHT}" '
            f'height="{lane_height - 6}" class="lane"/>'
        )
        for begin, finish in lane.intervals:
            left, right = x(max(begin, start)), x(min(finish, end))
            parts.append(
                f'<rect x="{left:.1f}" y="{top + 3}" width="{max(right - left, 1.5):.1f}" '
                f'height="{lane_height - 6}" fill="{THRESHOLD_COLOR}"/>'
            )
    if not lanes:
        parts.append(f'<text x="{WIDTH / 2}" y="{TOP + 15}" text-anchor="middle">nothing</text>')
    parts.append(_time_axis(start, end, x, height))
    return _svg(title, parts, height)


def intervals(points: Sequence[tuple[float, float]], step: float) -> list[tuple[float, float]]:
    """The spans during which a range query returned a sample (an alert held)."""
    spans: list[tuple[float, float]] = []
    for t, _ in points:
        if spans and t - spans[-1][1] <= step * 1.5:
            spans[-1] = (spans[-1][0], t)
        else:
            spans.append((t, t))
    return [(a, b + step) for a, b in spans]


def _svg(title: str, parts: list[str], height: int = HEIGHT) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" aria-label="{_e(title)}" class="chart">'
        + "".join(parts)
        + "</svg>"
    )


def _frame(title: str) -> str:
    return f"<title>{_e(title)}</title>"


def _legend(items: list[tuple[str, str]]) -> str:
    out, cursor = [], LEFT
    for label, color in items:
        out.append(
            f'<rect x="{cursor}" y="{HEIGHT - 12}" width="10" height="3" fill="{color}"/>'
            f'<text x="{cursor + 14}" y="{HEIGHT - 8}">{_e(label)}</text>'
        )
        cursor += 24 + 7 * len(label)
    return "".join(out)


def _time_axis(start: float, end: float, x, height: int = HEIGHT) -> str:  # type: ignore[no-untyped-def]
    span = end - start
    fmt = "%H:%M" if span <= 2 * 86400 else "%m-%d"
    out = []
    for i in range(5):
        t = start + span * i / 4
        anchor = ("start", "middle", "middle", "middle", "end")[i]
        out.append(
            f'<text x="{x(t):.1f}" y="{height - 16}" text-anchor="{anchor}">'
            f"{time.strftime(fmt, time.gmtime(t))}</text>"
        )
    return "".join(out)


def _segments(points: Sequence[tuple[float, float]]) -> list[list[tuple[float, float]]]:
    segments: list[list[tuple[float, float]]] = [[]]
    for t, v in points:
        if math.isfinite(v):
            segments[-1].append((t, v))
        elif segments[-1]:
            segments.append([])
    return [s for s in segments if s]


def _ticks(low: float, high: float, count: int = 4) -> list[float]:
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(count + 2) if first + i * step <= high]


def _format(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value:.3g}%"
    return f"{value:.3g}{unit}"


def _e(text: str) -> str:
    return html.escape(text, quote=True)
