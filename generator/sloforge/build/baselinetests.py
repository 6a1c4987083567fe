"""Generated promtool tests of baseline alerts (model/baseline.py), in <service>.baseline.test.yml.

A baseline needs weeks of history, and promtool evaluates every rule of the service's
file at every step, so these tests run at one evaluation an hour (``STEP``) and every
case of an alert is one series of a single test group, told apart by the
``baseline_case`` label; alerts on different metrics share a group too.

Per direction, on a history the alert reads as its baseline:

- a departure just beyond the bound (``BEYOND`` x the tolerance, or x k) fires once ``for``
  has passed, with exact labels and annotations, and not one step earlier;
- a departure just inside it (``INSIDE`` x) never fires;
- with a minimum: the same departure from a baseline at half the minimum never fires.

A tolerance (or k) scaled by 0.7 fires the inside case, one scaled by 1.5 misses the
beyond case: tests/test_mutations.py proves both on promtool 2.x and 3.x. The statistical
cases are checked against a model of Prometheus' range selection (closed on the left in
2.x, open in 3.x), since the anomaly enters the window the alert reads.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..model import baseline as baselines
from ..model.domain import Alert, Baseline, Service, Settings
from ..model.durations import format_duration, parse_duration
from ..model.promql import Selector, parse_selector
from . import promtemplate, seriesgen
from .rules import plain_alert_rule
from .seriesgen import Unsatisfiable

STEP = 3600  # evaluation interval of <service>.baseline.test.yml
WEEK = baselines.WEEK
CASE_LABEL = "baseline_case"
BEYOND = (1.1, 1.2, 1.3, 1.15, 1.25)  # departures that fire, as multiples of the tolerance / k
INSIDE = (0.9, 0.85, 0.8, 0.95)  # departures that stay quiet
# Statistical cases: the anomaly itself enters the window once ``for`` has passed (at most
# an evaluation's worth), widening the band a little, so the model tries further out.
BEYOND_K = (1.1, 1.2, 1.3, 1.4, 1.45)
INSIDE_K = (0.9, 0.95, 0.85, 0.8)
MUTANTS = (0.7, 1.5)  # the scaled tolerances the tests must tell apart

Group = dict[str, Any]


class Untestable(ValueError):
    """Why a baseline alert gets no generated test (reported by ``sloforge test``)."""


@dataclass(frozen=True)
class _Case:
    name: str
    values: tuple[float, ...]  # one sample per ``interval``, from time 0
    fires: bool


def baseline_groups(service: Service, settings: Settings) -> tuple[list[Group], list[str]]:
    """The baseline test groups of a service (merged), and the alerts left untested (why)."""
    built: list[tuple[Alert, Group]] = []
    untested: list[str] = []
    for alert in service.alerts:
        if alert.baseline is None:
            continue
        try:
            built.append((alert, alert_group(alert, settings)))
        except (Untestable, Unsatisfiable, promtemplate.Unsupported) as exc:
            untested.append(f"{alert.name}: {exc}")
    return merge(built), untested


def alert_group(alert: Alert, settings: Settings) -> Group:
    b = alert.baseline
    assert b is not None
    if not b.metric.metric:
        raise Untestable(f"selector {b.metric.render()} has no metric name to synthesise")
    interval, onset, cases = _seasonal(b) if b.seasonal else _statistical(b, alert.for_)
    fired = onset + math.ceil(alert.for_ / STEP) * STEP
    rule = plain_alert_rule(alert, settings)
    shown = {
        label: "example"
        for text in rule["annotations"].values()
        for label in promtemplate.referenced_labels(text)
        if label != CASE_LABEL
    }
    labels = seriesgen.label_set([b.metric], shown)
    series = []
    expected = []
    samples = fired // interval + 1
    for case in cases:
        case_labels = {**labels, CASE_LABEL: case.name}
        values = case.values[:samples]
        series.append(
            {
                "series": seriesgen.series_text(b.metric.metric, case_labels),
                "values": _notation(values),
            }
        )
        if case.fires:
            value = values[fired // interval]
            annotations = {
                k: promtemplate.render(v, value, case_labels)
                for k, v in rule["annotations"].items()
            }
            expected.append(
                {
                    "exp_labels": dict(sorted({**case_labels, **rule["labels"]}.items())),
                    "exp_annotations": annotations,
                }
            )
    checks = [_check(alert, onset - STEP, [])]
    if fired > onset:
        checks.append(_check(alert, fired - STEP, []))
    checks.append(_check(alert, fired, expected))
    return {
        "interval": format_duration(interval),
        "input_series": series,
        "alert_rule_test": checks,
    }


def _check(alert: Alert, t: int, alerts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"eval_time": format_duration(t), "alertname": alert.name, "exp_alerts": alerts}


def _level(b: Baseline) -> float:
    """The normal level of the synthetic metric: 100, or twice the minimum when that is more."""
    return max(100.0, 2 * b.minimum) if b.minimum is not None else 100.0


def _sides(b: Baseline) -> list[int]:
    """-1 for drops, +1 for rises."""
    return {"below": [-1], "above": [1], "both": [-1, 1]}[b.direction]


# --- seasonal ------------------------------------------------------------------------


def _seasonal(b: Baseline) -> tuple[int, int, list[_Case]]:
    """A flat history at the normal level for ``weeks`` weeks, then the departures.

    The seasonal mean at every check is exactly the history's level, so the cases sit at
    BEYOND[0] and INSIDE[0] times the tolerance; a drop beyond 100% is a drop to 0.
    """
    onset = b.weeks * WEEK + 2 * STEP
    total = onset // STEP + math.ceil(12 * 3600 / STEP)
    level = _level(b)
    cases = []
    for side in _sides(b):
        word = ("drop", "dip") if side < 0 else ("rise", "bump")
        for name, share, fires in ((word[0], BEYOND[0], True), (word[1], INSIDE[0], False)):
            value = _round(max(0.0, level * (1 + side * share * b.tolerance)))
            cases.append(_Case(name, _steps(onset, total, level, value), fires))
    if b.minimum:
        low = _round(b.minimum / 2)
        side = _sides(b)[0]
        value = _round(max(0.0, low * (1 + side * BEYOND[0] * b.tolerance * 2)))
        cases.append(_Case("quiet-night", _steps(onset, total, low, value), False))
    return STEP, onset, cases


def _steps(onset: int, total: int, before: float, after: float) -> tuple[float, ...]:
    return (before,) * (onset // STEP) + (after,) * (total - onset // STEP)


# --- statistical ---------------------------------------------------------------------


def _statistical(b: Baseline, hold: int) -> tuple[int, int, list[_Case]]:
    """A history alternating one standard deviation above and below the level, then the
    departures; each case's value is the first that the model of both Prometheus versions
    says fires (or stays quiet) with the real k and not with k scaled by MUTANTS."""
    interval = STEP if b.window >= 86400 else 300
    onset = math.ceil((b.window + b.lag + STEP) / STEP) * STEP + STEP
    fired = onset + math.ceil(hold / STEP) * STEP
    level = _level(b)
    sigma = level / 20
    samples = fired // interval + 1
    history = [level + sigma * (1 if i % 2 else -1) for i in range(onset // interval)]
    cases = []
    for side in _sides(b):
        word = ("drop", "dip") if side < 0 else ("rise", "bump")
        fire = _pick(b, hold, interval, history, samples, level, sigma, side, BEYOND_K, True)
        quiet = _pick(b, hold, interval, history, samples, level, sigma, side, INSIDE_K, False)
        cases += [_Case(word[0], fire, True), _Case(word[1], quiet, False)]
    if b.minimum:
        low = b.minimum / 2
        night = [v * low / level for v in history]
        value = _round(low + _sides(b)[0] * 2 * BEYOND[0] * b.deviations * sigma * low / level)
        values = tuple(_round(v) for v in night) + (max(value, 0.0),) * (samples - len(night))
        cases.append(_Case("quiet-night", values, False))
    return interval, onset, cases


def _pick(
    b: Baseline,
    hold: int,
    interval: int,
    history: Sequence[float],
    samples: int,
    level: float,
    sigma: float,
    side: int,
    shares: Sequence[float],
    fires: bool,
) -> tuple[float, ...]:
    onset = len(history) * interval
    fired = onset + math.ceil(hold / STEP) * STEP
    before = sorted({onset - STEP, fired - STEP} - {fired})
    for share in shares:
        value = _round(level + side * share * b.deviations * sigma)
        values = tuple(_round(v) for v in history) + (value,) * (samples - len(history))
        # The real k: quiet before ``for`` has passed, then as the case says. The mutant it
        # must catch: k x 1.5 misses a firing case, k x 0.7 fires a quiet one.
        wanted = [(1.0, t, False) for t in before] + [(1.0, fired, fires)]
        wanted.append((MUTANTS[1], fired, False) if fires else (MUTANTS[0], fired, True))
        if all(
            _firing(b, factor, hold, interval, values, t, left_open) is expect
            for factor, t, expect in wanted
            for left_open in (False, True)
        ):
            return values
    raise Untestable(
        "no departure just beyond (or inside) the deviation bound gives an unambiguous test"
    )


def _firing(
    b: Baseline,
    factor: float,
    hold: int,
    interval: int,
    values: Sequence[float],
    at: int,
    left_open: bool,
) -> bool | None:
    """Whether the alert fires at ``at``, with k scaled by ``factor`` (None: too close to call).

    Prometheus evaluates every STEP from 0; the alert is active from the first evaluation
    where the condition holds and fires once it has held for ``hold``."""
    active_since: int | None = None
    state: bool | None = False
    for t in range(0, at + 1, STEP):
        holds = _condition(b, factor, interval, values, t, left_open)
        if holds is None:
            return None
        if not holds:
            active_since = None
        elif active_since is None:
            active_since = t
        state = active_since is not None and t - active_since >= hold
    return state


def _condition(
    b: Baseline, factor: float, interval: int, values: Sequence[float], t: int, left_open: bool
) -> bool | None:
    now = values[t // interval] if t // interval < len(values) else None
    if now is None:
        return False
    end = t - b.lag
    start = end - b.window
    window = [
        v
        for i, v in enumerate(values)
        if (start < i * interval if left_open else start <= i * interval) and i * interval <= end
    ]
    if not window:
        return False
    mean = sum(window) / len(window)
    stddev = math.sqrt(max(sum((v - mean) ** 2 for v in window) / len(window), 0.0))
    if b.minimum is not None and mean < b.minimum:
        return False
    k = b.deviations * factor
    margin = 1e-6 * max(1.0, abs(mean))
    result = False
    for side in _sides(b):
        bound = mean + side * k * stddev
        gap = (now - bound) * side
        if abs(gap) <= margin:
            return None
        result = result or gap > 0
    return result


# --- shared ----------------------------------------------------------------------------


def _round(value: float) -> float:
    return round(value, 6)


def _notation(values: Sequence[float]) -> str:
    """promtool values: runs of one value as ``v+0xN``, everything else one by one."""
    out: list[str] = []
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1] == values[i]:
            j += 1
        text = seriesgen.gauge_values([(j - i + 1, values[i])])
        out.append(text if j > i else text.removesuffix("+0x0"))
        i = j + 1
    return " ".join(out)


def merge(built: Sequence[tuple[Alert, Group]]) -> list[Group]:
    """One group for all alerts with the same sample interval whose metrics cannot select
    each other's series (an alert must see only its own cases): promtool's cost is its
    steps times the rules of the file, and the longest alert sets the steps anyway."""
    merged: list[tuple[Group, list[Selector]]] = []
    for alert, group in sorted(built, key=lambda pair: -_end(pair[1])):
        assert alert.baseline is not None
        mine = alert.baseline.metric
        for target, selectors in merged:
            if target["interval"] != group["interval"] or any(
                _reads(mine, target) or _reads(other, group) for other in selectors
            ):
                continue
            target["input_series"] += group["input_series"]
            target["alert_rule_test"] += group["alert_rule_test"]
            selectors.append(mine)
            break
        else:
            copy = {**group, **{k: list(group[k]) for k in ("input_series", "alert_rule_test")}}
            merged.append((copy, [mine]))
    return [group for group, _ in merged]


def _end(group: Group) -> int:
    return max(parse_duration(c["eval_time"]) for c in group["alert_rule_test"])


def _reads(selector: Selector, group: Group) -> bool:
    """Whether ``selector`` selects any input series of ``group``."""
    for item in group["input_series"]:
        series = parse_selector(item["series"])
        labels = {m.label: m.value for m in series.matchers}
        if series.metric == selector.metric and all(
            seriesgen.matches(m, labels.get(m.label, "")) for m in selector.matchers
        ):
            return True
    return False


def tests_document(service: Service, settings: Settings) -> tuple[dict[str, Any] | None, list[str]]:
    """The <service>.baseline.test.yml document (None without baseline alerts)."""
    groups, untested = baseline_groups(service, settings)
    if not groups:
        return None, untested
    return (
        {
            "rule_files": [f"../rules/{service.name}.rules.yml"],
            "evaluation_interval": format_duration(STEP),
            "tests": groups,
        },
        untested,
    )
