"""``sloforge status`` and ``sloforge gate``: each SLO's budget, read from a running Prometheus.

Everything comes from the public recordings sloforge generates (SPEC section 4)
and Prometheus' own ``ALERTS`` series, so status shows what the alerts and the
dashboards see. Event counts come from the SLI's own selectors over the period.
An SLO with ``group_by`` gets one row per group.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from ..model import conventions as names
from ..model.domain import SLO, Project
from ..model.durations import format_duration
from ..model.sli import error_events, total_events
from ..model.windows import period_record
from ..model.windows import selector as record_selector
from .client import Prometheus, Sample

PAGE = "page"


@dataclass
class Firing:
    alert: str
    severity: str
    tier: str  # page | ticket | "" for alerts without an inhibition class
    windows: str  # "1h/5m"


@dataclass
class Row:
    service: str
    slo: str
    group: dict[str, str]
    objective: float  # percent
    period: str
    sli: float | None  # percent good over the period
    budget_remaining: float | None  # fraction of the period's budget; negative when overspent
    time_remaining_seconds: float | None  # of a total outage before the budget is gone
    events_total: float | None
    events_bad: float | None
    events_remaining: float | None  # bad events still allowed this period
    burn: dict[str, float | None] = field(default_factory=dict)  # alert window -> burn rate
    firing: list[Firing] = field(default_factory=list)

    @property
    def name(self) -> str:
        group = ",".join(f"{k}={v}" for k, v in sorted(self.group.items()))
        return f"{self.service}/{self.slo}" + (f"{{{group}}}" if group else "")

    @property
    def budget_spent(self) -> float | None:
        return None if self.budget_remaining is None else 1 - self.budget_remaining

    @property
    def paging(self) -> bool:
        return any(f.tier == PAGE for f in self.firing)


def status(
    project: Project,
    prometheus: Prometheus,
    service: str | None = None,
    progress: Callable[[str], None] = lambda _: None,
    now: float | None = None,
) -> list[Row]:
    now = time.time() if now is None else now
    slos = [slo for s in project.services if service in (None, s.name) for slo in s.slos]
    rows: list[Row] = []
    for i, slo in enumerate(slos, 1):
        progress(f"{slo.service}/{slo.name} ({i}/{len(slos)})")
        rows.extend(_slo_rows(prometheus, slo, now))
    return rows


def period_bounds(slo: SLO, now: float) -> tuple[float, float]:
    """When the SLO's budget period began and how long it is: the rolling window ending
    now, or the calendar month or week running now (a month's own length)."""
    if slo.calendar is None:
        return now - slo.period, float(slo.period)
    start = slo.calendar.start(now)
    return float(start), float(slo.calendar.next_start(now) - start)


def _slo_rows(prom: Prometheus, slo: SLO, now: float) -> list[Row]:
    group_by = slo.sli.group_by
    budget = slo.error_budget
    start, length = period_bounds(slo, now)
    counted = max(60, round(now - start))  # the seconds whose events count so far

    def by_group(expr: str) -> dict[tuple[str, ...], float]:
        return {_key(s, group_by): s.value for s in prom.instant(expr)}

    error_ratio = by_group(record_selector(period_record(slo), slo))
    remaining = by_group(record_selector(names.RECORD_BUDGET_REMAINING, slo))
    total_rate = by_group(total_events(slo.sli, counted))
    bad_rate = by_group(error_events(slo.sli, counted))
    burns = {w: by_group(record_selector(names.error_ratio_record(w), slo)) for w in slo.windows}
    firing: dict[tuple[str, ...], list[Firing]] = {}
    alerts = f'{names.ALERTS_METRIC}{{alertstate="firing", {_labels(slo)}}}'
    for sample in prom.instant(alerts):
        firing.setdefault(_key(sample, group_by), []).append(_firing(sample))
    groups = sorted(set(error_ratio) | set(remaining) | set(total_rate)) or [()]
    rows = []
    for key in groups:
        ratio = _finite(error_ratio.get(key))
        left = _finite(remaining.get(key))
        total = _finite(total_rate.get(key))
        bad = _finite(bad_rate.get(key))
        events_total = None if total is None else total * counted
        events_bad = None if bad is None else bad * counted
        rows.append(
            Row(
                service=slo.service,
                slo=slo.name,
                group=dict(zip(group_by, key, strict=True)),
                objective=slo.objective,
                period=slo.period_text,
                sli=None if ratio is None else 100 * (1 - ratio),
                budget_remaining=left,
                time_remaining_seconds=None if left is None else left * budget * length,
                events_total=events_total,
                events_bad=events_bad,
                events_remaining=None
                if events_total is None or events_bad is None
                else budget * events_total - events_bad,
                burn={
                    format_duration(w): _ratio_to_burn(_finite(v.get(key)), budget)
                    for w, v in burns.items()
                },
                firing=sorted(
                    firing.get(key, []), key=lambda f: (f.tier != PAGE, f.alert, f.windows)
                ),
            )
        )
    return rows


def _labels(slo: SLO) -> str:
    return ", ".join(f'{k}="{v}"' for k, v in slo.selector_labels)


def _key(sample: Sample, group_by: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sample.labels.get(label, "") for label in group_by)


def _firing(sample: Sample) -> Firing:
    labels = sample.labels
    long, short = labels.get(names.LABEL_LONG_WINDOW), labels.get(names.LABEL_SHORT_WINDOW)
    return Firing(
        alert=labels.get("alertname", ""),
        severity=labels.get(names.LABEL_SEVERITY, ""),
        tier=labels.get(names.LABEL_SLO_TIER, ""),
        windows=f"{long}/{short}" if long and short else "",
    )


def _finite(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) or math.isinf(value) else value


def _ratio_to_burn(ratio: float | None, budget: float) -> float | None:
    return None if ratio is None else ratio / budget


# --- the gate ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    row: Row
    passed: bool
    reason: str

    def __str__(self) -> str:
        word = "ok  " if self.passed else "FAIL"
        return f"{word} {self.row.name}: {self.reason}"


def gate(rows: list[Row], min_budget_percent: float) -> list[Verdict]:
    """A deployment may go ahead when every budget is above the floor and nothing pages."""
    verdicts = []
    for row in rows:
        left = row.budget_remaining
        pages = [
            f.alert + (f" {f.windows}" if f.windows else "") for f in row.firing if f.tier == PAGE
        ]
        if pages:
            verdicts.append(Verdict(row, False, f"page firing: {', '.join(pages)}"))
        elif left is None:
            verdicts.append(
                Verdict(
                    row, False, "no budget recorded: are the rules loaded? (`sloforge verify` says)"
                )
            )
        elif 100 * left < min_budget_percent:
            verdicts.append(
                Verdict(
                    row,
                    False,
                    f"budget {_percent(left)} left, below the {min_budget_percent:g}% floor",
                )
            )
        else:
            verdicts.append(
                Verdict(
                    row,
                    True,
                    f"budget {_percent(left)} left (floor {min_budget_percent:g}%), no page firing",
                )
            )
    return verdicts


# --- rendering ---------------------------------------------------------------------------------


def _percent(fraction: float | None, digits: int = 1) -> str:
    return "-" if fraction is None else f"{100 * fraction:.{digits}f}%"


def _sli(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}%"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{sign}{seconds / size:.1f}{unit}"
    return f"{sign}{seconds:.0f}s"


def _count(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _burns(row: Row) -> str:
    return " ".join(f"{w}:{'-' if b is None else f'{b:.2f}'}" for w, b in row.burn.items())


def _alerts(row: Row) -> str:
    return (
        ", ".join(
            f"{f.alert}[{f.severity}{' ' + f.windows if f.windows else ''}]" for f in row.firing
        )
        or "-"
    )


COLUMNS = (
    "SLO",
    "objective",
    "period",
    "SLI",
    "budget left",
    "time left",
    "bad events left",
    "burn (window:rate)",
    "firing",
)


def _cells(row: Row) -> tuple[str, ...]:
    return (
        row.name,
        f"{row.objective:g}%",
        row.period,
        _sli(row.sli),
        _percent(row.budget_remaining),
        _duration(row.time_remaining_seconds),
        _count(row.events_remaining),
        _burns(row),
        _alerts(row),
    )


def render_table(rows: list[Row]) -> str:
    table = [COLUMNS, *(_cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    return (
        "\n".join(
            "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
            for line in table
        )
        + "\n"
    )


def render_markdown(rows: list[Row]) -> str:
    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    out = [line(COLUMNS), "|" + "---|" * len(COLUMNS)]
    out.extend(line(_cells(r)) for r in rows)
    return "\n".join(out) + "\n"


def render_json(rows: list[Row]) -> str:
    items = []
    for row in rows:
        item = asdict(row)
        item["budget_spent"] = row.budget_spent
        items.append(item)
    return json.dumps({"slos": items}, indent=2, sort_keys=True, allow_nan=False) + "\n"


FORMATS = {"table": render_table, "json": render_json, "markdown": render_markdown}
