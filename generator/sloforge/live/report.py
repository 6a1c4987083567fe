"""``sloforge report``: a static HTML report of every SLO, readable without a server.

One ``index.html`` across services and one page per SLO with three charts:
the error budget left over the SLO's period, the error ratio over each alert
window against its tiers' thresholds, and an alert timeline. The pages hold
their charts as inline SVG and their style inline: no scripts, no fonts or
libraries from a CDN, so the report opens from a CI artifact or an email.

History comes from the SLI's own series (the same selectors the rules read),
so the charts cover the time before the generated rules were deployed. The
timeline shows when each tier's condition held, computed the same way, and
the alerts Prometheus actually fired (its ``ALERTS`` series) where it has them.
"""

from __future__ import annotations

import html
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import LiveError
from ..model import conventions as names
from ..model.domain import SLO, Project
from ..model.durations import format_duration
from ..model.promql import number
from ..model.sli import error_events, total_events
from ..output.writer import write_tree
from . import svg
from .client import Prometheus
from .status import Row, period_bounds, render_markdown, status

POINTS = 240  # samples per chart


@dataclass(frozen=True)
class Page:
    path: str
    title: str
    body: str


def report(
    project: Project,
    prometheus: Prometheus,
    out: Path,
    now: float | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> list[str]:
    """Write the report under ``out``; returns the files written."""
    _check_out(out)
    now = time.time() if now is None else now
    rows = status(project, prometheus, progress=progress)
    pages = [_index(project, rows, now)]
    slos = [slo for service in project.services for slo in service.slos]
    for i, slo in enumerate(slos, 1):
        progress(f"charts of {slo.service}/{slo.name} ({i}/{len(slos)})")
        pages.append(_slo_page(prometheus, slo, [r for r in rows if _owns(r, slo)], now))
    files = {page.path: _html(page).encode("utf-8") for page in pages}
    write_tree(out, files)
    return sorted(files)


MARKER = '<meta name="generator" content="sloforge report">'


def _check_out(out: Path) -> None:
    """The report replaces ``out`` whole: only an empty directory or an earlier report."""
    if not out.is_dir() or not any(out.iterdir()):
        return
    index = out / "index.html"
    try:
        earlier = index.is_file() and MARKER in index.read_text(encoding="utf-8", errors="replace")
    except OSError:
        earlier = False
    if not earlier:
        raise LiveError(
            f"{out} holds files that are not a sloforge report; the report replaces its "
            f"directory whole: choose an empty or new --out"
        )


def slo_page_path(slo: SLO) -> str:
    return f"{slo.service}/{slo.name}.html"


def _owns(row: Row, slo: SLO) -> bool:
    return (row.service, row.slo) == (slo.service, slo.name)


def _index(project: Project, rows: list[Row], now: float) -> Page:
    body = [f"<p>Generated {_when(now)} from {len(project.services)} services.</p>"]
    for service in project.services:
        body.append(
            f"<h2>{_e(service.name)}</h2><table><thead><tr><th>SLO</th><th>objective"
            "</th><th>SLI</th><th>budget left</th><th>firing</th></tr></thead><tbody>"
        )
        for slo in service.slos:
            for row in (r for r in rows if _owns(r, slo)):
                firing = ", ".join(f.alert for f in row.firing) or "–"
                body.append(
                    f'<tr><td><a href="{_e(slo_page_path(slo))}">{_e(row.name)}</a></td>'
                    f"<td>{row.objective:g}%</td><td>{_pct(row.sli, 3)}</td>"
                    f'<td class="{_health(row)}">{_frac(row.budget_remaining)}</td>'
                    f"<td>{_e(firing)}</td></tr>"
                )
        body.append("</tbody></table>")
    return Page("index.html", "SLO report", "".join(body))


def _slo_page(prom: Prometheus, slo: SLO, rows: list[Row], now: float) -> Page:
    start, _ = period_bounds(slo, now)
    end = now
    step = max((end - start) / POINTS, 60.0)
    budget = slo.error_budget
    if slo.calendar is None:
        ratio_over_period = _ratio_expr(slo, slo.period)
        expr = f"100 * (1 - ({ratio_over_period}) / {number(budget)})"
        remaining = [
            svg.Line(_group_label(s.labels, slo) or "budget left", s.points)
            for s in prom.range(expr, start, end, step)
        ]
        title = f"Error budget left over the last {format_duration(slo.period)}"
    else:
        remaining = _since_start(prom, slo, start, end, step)
        title = f"Error budget left this {slo.calendar.kind}, since it began"
    charts = [
        svg.line_chart(
            title,
            remaining,
            start,
            end,
            unit="%",
            rules=[svg.Rule("budget exhausted", 0.0)],
        )
    ]
    for window in slo.windows:
        series = prom.range(f"100 * ({_ratio_expr(slo, window)})", start, end, step)
        thresholds = sorted(
            {
                100 * t.threshold(budget)
                for t in slo.tiers
                if window in (t.long_window, t.short_window)
            }
        )
        charts.append(
            svg.line_chart(
                f"Error ratio over {format_duration(window)}",
                [svg.Line(_group_label(s.labels, slo) or "error ratio", s.points) for s in series],
                start,
                end,
                unit="%",
                rules=[svg.Rule(f"threshold {number(round(t, 6))}%", t) for t in thresholds],
            )
        )
    charts.append(svg.timeline("Alerts", _lanes(prom, slo, start, end, step), start, end))
    summary = render_markdown(rows) if rows else ""
    body = (
        f'<p><a href="../index.html">← all SLOs</a></p>'
        f"<p>{_e(slo.description)}</p>"
        f"<p>Objective {slo.objective:g}% over {format_duration(slo.period)}; "
        f"error budget {number(round(100 * budget, 6))}%.</p>"
        + _status_table(rows)
        + "".join(f"<figure>{chart}</figure>" for chart in charts)
        + f"<details><summary>As Markdown</summary><pre>{_e(summary)}</pre></details>"
    )
    return Page(slo_page_path(slo), f"{slo.service} / {slo.name}", body)


def _since_start(
    prom: Prometheus, slo: SLO, start: float, end: float, step: float
) -> list[svg.Line]:
    """A calendar period's budget left at each step: the events of consecutive steps, each
    counted over its own step and summed from the period's start (one range query cannot
    widen its range as time goes on)."""
    window = max(60, round(step))
    group = slo.sli.group_by

    def events(expr: str) -> dict[tuple[str, ...], list[tuple[float, float]]]:
        found = prom.range(f"({expr}) * {window}", start + window, end, window)
        return {tuple(s.labels.get(k, "") for k in group): s.points for s in found}

    bad_by_group = events(error_events(slo.sli, window))
    lines = []
    for key, points in events(total_events(slo.sli, window)).items():
        bad_at = dict(bad_by_group.get(key, []))
        bad = total = 0.0
        left = []
        for t, count in points:
            total += count
            bad += bad_at.get(t, 0.0)
            left.append((t, 100 * (1 - bad / total / slo.error_budget) if total else math.nan))
        label = ", ".join(f"{k}={v}" for k, v in zip(group, key, strict=True))
        lines.append(svg.Line(label or "budget left", left))
    return lines


def _title(chart: str) -> str:
    return html.unescape(chart.split("<title>", 1)[1].split("</title>", 1)[0])


def _lanes(prom: Prometheus, slo: SLO, start: float, end: float, step: float) -> list[svg.Lane]:
    lanes = []
    for tier in slo.tiers:
        threshold = number(tier.threshold(slo.error_budget))
        condition = (
            f"({_ratio_expr(slo, tier.long_window)}) > {threshold} and "
            f"({_ratio_expr(slo, tier.short_window)}) > {threshold}"
        )
        held = [p for s in prom.range(condition, start, end, step) for p in s.points]
        label = (
            f"{tier.kind} {format_duration(tier.long_window)}/"
            f"{format_duration(tier.short_window)} (computed)"
        )
        lanes.append(svg.Lane(label, svg.intervals(sorted(held), step)))
    selector = ", ".join(f'{k}="{v}"' for k, v in slo.selector_labels)
    firing = prom.range(
        f'{names.ALERTS_METRIC}{{alertstate="firing", {selector}}}', start, end, step
    )
    for series in firing:
        label = series.labels.get("alertname", "alert")
        long = series.labels.get(names.LABEL_LONG_WINDOW)
        if long:
            label += f" {long}/{series.labels.get(names.LABEL_SHORT_WINDOW)}"
        lanes.append(svg.Lane(f"{label} (fired)", svg.intervals(series.points, step)))
    return lanes


def _ratio_expr(slo: SLO, window: int) -> str:
    return f"({error_events(slo.sli, window)})\n/\n({total_events(slo.sli, window)})"


def _status_table(rows: list[Row]) -> str:
    if not rows:
        return "<p>No status: the SLO has no recorded budget.</p>"
    out = [
        "<table><thead><tr><th>group</th><th>SLI</th><th>budget left</th>"
        "<th>bad events left</th><th>burn</th><th>firing</th></tr></thead><tbody>"
    ]
    for row in rows:
        group = ", ".join(f"{k}={v}" for k, v in sorted(row.group.items())) or "–"
        burns = " ".join(f"{w}: {'–' if b is None else f'{b:.2f}'}" for w, b in row.burn.items())
        firing = ", ".join(f.alert for f in row.firing) or "–"
        left = "–" if row.events_remaining is None else f"{row.events_remaining:,.0f}"
        out.append(
            f"<tr><td>{_e(group)}</td><td>{_pct(row.sli, 3)}</td>"
            f'<td class="{_health(row)}">{_frac(row.budget_remaining)}</td><td>{left}</td>'
            f"<td>{_e(burns)}</td><td>{_e(firing)}</td></tr>"
        )
    out.append("</tbody></table>")
    return "".join(out)


def _group_label(labels: dict[str, str], slo: SLO) -> str:
    return ", ".join(f"{k}={labels.get(k, '')}" for k in slo.sli.group_by)


def _health(row: Row) -> str:
    left = row.budget_remaining
    if left is None:
        return "unknown"
    return "bad" if left < 0 or row.paging else ("warn" if left < 0.25 else "good")


def _pct(value: float | None, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}%"


def _frac(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _when(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(t))


def _e(text: str) -> str:
    return html.escape(text, quote=True)


STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:800px;color:#1f2328}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;width:100%;margin:8px 0}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #d0d7de}
.good{color:#1a7f37}.warn{color:#9a6700}.bad{color:#cf222e;font-weight:600}.unknown{color:#6e7781}
figure{margin:18px 0}figcaption{font-weight:600;margin-bottom:4px}
svg.chart{max-width:100%;height:auto;font-size:11px;fill:#57606a}
svg .grid{stroke:#eaeef2}svg .lane{fill:#f6f8fa}pre{white-space:pre-wrap}
"""


def _html(page: Page) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"{MARKER}<title>{_e(page.title)}</title><style>{STYLE}</style></head>"
        f"<body><h1>{_e(page.title)}</h1>{page.body}</body></html>\n"
    )
