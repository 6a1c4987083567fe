"""The expected behaviour of burn-rate alerts, from SPEC section 3, as a small timeline model.

A scenario starts every series at instant 0 and injects a constant error ratio
between two instants on steady traffic. The error ratio over a window is the
injected ratio times the share of the window's data (from instant 0 on) that
falls inside the error period. A tier fires while both its windows exceed its
threshold (and traffic exceeds the guard). Generated promtool tests compare the
real rules against this model at instants chosen at least one evaluation
interval away from every modelled transition.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .domain import SLO, Tier
from .windows import efficient_lag

Interval = tuple[float, float]


@dataclass(frozen=True)
class Scenario:
    error_ratio: float
    start: int  # errors begin (seconds after the first sample)
    stop: float  # errors end; math.inf when they never do
    end: int  # last sample
    traffic: float = 1e6 / 60  # events per second: a million a minute keeps every count integral


@dataclass(frozen=True)
class Alerting:
    """All the model reads from an SLO: SLOs equal here alert alike, whatever their series.

    Names, labels and selectors play no part, so the scenarios chosen for one
    SLO's tests hold for every SLO with the same tiers, objective and strategy.
    """

    tiers: tuple[Tier, ...]
    error_budget: float
    traffic_guard: float | None
    strategy: str
    lags: tuple[tuple[int, float], ...]  # (window, windows.efficient_lag) for every window

    @classmethod
    def of(cls, slo: SLO) -> Alerting:
        lags = tuple((window, efficient_lag(slo, window)) for window in slo.windows)
        return cls(slo.tiers, slo.error_budget, slo.traffic_guard, slo.strategy, lags)

    def lag(self, window: int) -> float:
        return dict(self.lags)[window]


def window_above(
    alerting: Alerting, scenario: Scenario, window: int, level: float
) -> list[Interval]:
    """When the error ratio over ``window`` exceeds ``level``.

    ratio(t) = e * overlap(t) / min(t, window): both parts are piecewise linear
    in t, so e * overlap(t) - level * min(t, window) changes sign at most once
    between consecutive breakpoints, where it is solved exactly.
    """
    e = scenario.error_ratio
    if e <= level:
        return []
    lag = alerting.lag(window)
    a, b, w = scenario.start + lag, scenario.stop + lag, window

    def g(t: float) -> float:
        overlap = max(0.0, min(t, b) - max(t - w, a, 0.0))
        return e * overlap - level * min(t, w)

    horizon = scenario.end + 1.0
    points = sorted({p for p in (0.0, w, a, a + w, b, b + w, horizon) if 0 <= p <= horizon})
    found: list[Interval] = []
    for p, q in zip(points, points[1:], strict=False):
        gp, gq = g(p), g(q)
        if gp <= 0 and gq <= 0:
            continue
        lo = p if gp > 0 else p + (q - p) * (-gp) / (gq - gp)
        hi = q if gq > 0 else p + (q - p) * gp / (gp - gq)
        if found and abs(found[-1][1] - lo) < 1e-9:
            found[-1] = (found[-1][0], hi)
        else:
            found.append((lo, hi))
    if found and found[-1][1] >= horizon and math.isinf(b):
        found[-1] = (found[-1][0], math.inf)
    return found


def traffic_above_guard(alerting: Alerting, tier: Tier, scenario: Scenario) -> list[Interval]:
    """When the traffic guard lets the tier fire.

    ``efficient`` averages recorded traffic over the data it has; ``exact``
    takes rate() over the whole long window, which reads low until the window
    is full of data: traffic * min(t, window) / window.
    """
    guard = alerting.traffic_guard
    if guard is None:
        return [(0.0, math.inf)]
    if scenario.traffic <= guard:
        return []
    if alerting.strategy == "efficient":
        return [(0.0, math.inf)]
    return [(guard * tier.long_window / scenario.traffic, math.inf)]


def _intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    out = []
    for lo1, hi1 in a:
        for lo2, hi2 in b:
            lo, hi = max(lo1, lo2), min(hi1, hi2)
            if lo < hi:
                out.append((lo, hi))
    return sorted(out)


def firing_intervals(alerting: Alerting, tier: Tier, scenario: Scenario) -> list[Interval]:
    threshold = tier.threshold(alerting.error_budget)
    long = window_above(alerting, scenario, tier.long_window, threshold)
    short = window_above(alerting, scenario, tier.short_window, threshold)
    guard = traffic_above_guard(alerting, tier, scenario)
    return _intersect(_intersect(long, short), guard)


@dataclass(frozen=True)
class Timeline:
    """When each tier of an SLO fires in one scenario, modelled once and then queried freely."""

    scenario: Scenario
    firing: tuple[tuple[Tier, tuple[Interval, ...]], ...]  # per tier, in the SLO's order

    def tiers_firing_at(self, t: float) -> list[Tier]:
        return [tier for tier, intervals in self.firing if any(lo < t < hi for lo, hi in intervals)]

    def transitions(self) -> list[tuple[float, Tier, bool]]:
        """(instant, tier, now firing) for every change of state in the scenario."""
        out = []
        for tier, intervals in self.firing:
            for lo, hi in intervals:
                out.append((lo, tier, True))
                if hi <= self.scenario.end:
                    out.append((hi, tier, False))
        return sorted(out, key=lambda x: x[0])


def timeline(alerting: Alerting, scenario: Scenario) -> Timeline:
    firing = tuple(
        (tier, tuple(firing_intervals(alerting, tier, scenario))) for tier in alerting.tiers
    )
    return Timeline(scenario, firing)


def clean(instant: float, changes: list[tuple[float, Tier, bool]], margin: float) -> bool:
    return all(abs(instant - t) >= margin for t, _, _ in changes)


def grid(t: float, step: int, up: bool) -> int:
    return int(math.ceil(t / step) * step if up else math.floor(t / step) * step)
