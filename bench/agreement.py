"""Agreement of `efficient` with `exact` on burn scenarios, from the same backfilled history.

Each window's error ratio is the recording rule's own expression run as a range
query stepped at the evaluation interval and aligned with the rule evaluations
that produced the recorded series, so every point is what the rule would have
recorded then. A tier fires at a step when both its windows exceed its
threshold, exactly as the alert expression decides; the firing and resolving
instants of the two strategies are then compared tier by tier.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sloforge.model import conventions as names
from sloforge.model.domain import SLO
from sloforge.model.durations import format_duration
from sloforge.model.windows import selector, tile_window

from . import promapi
from .history import History

WARMUP = 3600  # the first hour has no full short windows yet
STEP = 60
SPAN_MATCHED_BELOW = 86400  # longer windows' spans differ by less than 0.07%: not worth the queries


@dataclass(frozen=True)
class TierAgreement:
    scenario: str
    tier: str
    exact: tuple[tuple[int, bool], ...]  # (instant, firing from then on)
    efficient: tuple[tuple[int, bool], ...]

    @property
    def max_diff(self) -> float:
        if len(self.exact) != len(self.efficient):
            return math.inf
        diffs = [
            abs(a[0] - b[0])
            for a, b in zip(self.exact, self.efficient, strict=True)
            if a[1] == b[1]
        ]
        return float(max(diffs, default=0)) if len(diffs) == len(self.exact) else math.inf


def _ratio_expr(rules: dict[str, Any], slo: SLO, window: int) -> str:
    record = names.error_ratio_record(window)
    for group in rules["groups"]:
        for rule in group["rules"]:
            if (
                rule.get("record") == record
                and rule.get("labels", {}).get(names.LABEL_SLO) == slo.name
            ):
                return str(rule["expr"])
    raise KeyError(f"{record} for {slo.name}")


def _widened(expr: str, window: int, scrape: int) -> str:
    """``exact``'s expression with every rate() range one scrape interval longer.

    rate() over ``window`` measures the increase between the first and the
    last sample inside it, ``window`` minus one scrape interval, and scales it
    up; the ratio of two such rates is the error ratio over that shorter span.
    ``efficient``'s tiles span the whole window. Widening the ranges by one
    scrape interval makes both measure the same span, so what remains of the
    difference is the strategies' arithmetic, not their spans.
    """
    old, new = f"[{format_duration(window)}]", f"[{format_duration(window + scrape)}]"
    if old not in expr:
        raise KeyError(f"no {old} range in {expr!r}")
    return expr.replace(old, new)


def _series(url: str, expr: str, start: float, end: float) -> dict[int, float]:
    """Values keyed by milliseconds."""
    result = promapi.range_query(url, expr, start, end, STEP)
    if len(result) > 1:
        raise RuntimeError(f"expected one series from {expr!r}, got {len(result)}")
    return {round(float(t) * 1000): float(v) for t, v in (result[0]["values"] if result else [])}


def _last_evaluation(url: str, slo: SLO, at: int) -> float:
    """When the SLO's group last ran: rule groups run at a phase of their own within each interval."""
    record = names.error_events_record(tile_window(slo))
    found = promapi.instant(url, f"timestamp({selector(record, slo)})", at).result
    if not found:
        raise RuntimeError(f"no recorded {record} for {slo.name} at the end of the history")
    return float(found[0]["value"][1])


def _transitions(
    long: dict[int, float], short: dict[int, float], threshold: float, steps: list[int]
) -> tuple[tuple[int, bool], ...]:
    out, state = [], False
    for t in steps:
        now = long.get(t, math.nan) > threshold and short.get(t, math.nan) > threshold
        if now != state:
            out.append((t // 1000, now))
            state = now
    return tuple(out)


def _pairs(exact: dict[int, float], efficient: dict[int, float]) -> list[tuple[float, float]]:
    """(exact, efficient) error ratios at every instant both strategies have a value for."""
    return [(x, efficient[t]) for t, x in exact.items() if t in efficient and not math.isnan(x)]


def error_ratio_rel_diff(pairs: list[tuple[float, float]]) -> list[float]:
    return [0.0 if x == e else abs(e - x) / abs(x) if x else math.inf for x, e in pairs]


def sli_rel_diff(pairs: list[tuple[float, float]]) -> list[float]:
    """The SLI is the good ratio, 1 - error ratio."""
    return [
        0.0 if e == x else abs(e - x) / (1 - x) if x < 1 else math.inf
        for x, e in pairs
        if not math.isnan(e)
    ]


def run(url: str, history: History) -> dict[str, Any]:
    exact_set, efficient_set = history.scenarios["exact"], history.scenarios["efficient"]
    tiers: list[TierAgreement] = []
    pairs: dict[str, list[tuple[float, float]]] = {}
    span_matched: dict[str, list[tuple[float, float]]] = {}
    for slo_x, slo_e in zip(exact_set.slos, efficient_set.slos, strict=True):
        end = _last_evaluation(url, slo_e, history.end)
        start = end - STEP * ((end - history.start - WARMUP) // STEP)
        steps = [round((start + i * STEP) * 1000) for i in range(int((end - start) // STEP) + 1)]
        windows = sorted({*slo_x.windows, slo_x.period})
        values = {}
        for w in windows:
            exact_expr = _ratio_expr(exact_set.rules, slo_x, w)
            x = _series(url, exact_expr, start, end)
            e = _series(url, _ratio_expr(efficient_set.rules, slo_e, w), start, end)
            values[w] = (x, e)
            pairs.setdefault(format_duration(w), []).extend(_pairs(x, e))
            if w < SPAN_MATCHED_BELOW:
                scrape = history.size.scrape_seconds
                matched = _series(url, _widened(exact_expr, w, scrape), start, end)
                span_matched.setdefault(format_duration(w), []).extend(_pairs(matched, e))
        for tier in slo_x.tiers:
            threshold = tier.threshold(slo_x.error_budget)
            long, short = values[tier.long_window], values[tier.short_window]
            tiers.append(
                TierAgreement(
                    history.scenario_names[slo_x.name],
                    f"{tier.kind} {format_duration(tier.long_window)}/{format_duration(tier.short_window)}",
                    _transitions(long[0], short[0], threshold, steps),
                    _transitions(long[1], short[1], threshold, steps),
                )
            )
    return {"tiers": tiers, "pairs": pairs, "span_matched_pairs": span_matched}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
