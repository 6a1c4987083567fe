"""Generated promtool tests of baseline alerts (model/baseline.py), in <service>.baseline.test.yml.

A baseline needs weeks of history, and promtool evaluates every rule of the service's
file at every step, so these tests run at one evaluation an hour (``STEP``) and every
case of an alert is one series of a single test group, told apart by the
``baseline_case`` label; alerts on different metrics share a group too.

Per direction, on a history the alert reads as its baseline (seasonal: busy at the hours
of the week the checks fall on, half as busy at the others, so that only the same hour
of past weeks gives that baseline):

- a departure just beyond the bound (BEYOND x the tolerance, or a little more than k)
  fires once ``for`` has passed, with exact labels and annotations, and not one step
  earlier;
- a departure just inside it (INSIDE x, or a little less than k) never fires;
- with a minimum: a deeper departure from a baseline at half the minimum never fires.

A tolerance (or k) scaled by 0.7 fires the inside case, one scaled by 1.5 misses the
beyond case, and so does a seasonal mean over every hour: tests/test_mutations.py proves
it on promtool 2.x and 3.x. The statistical
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
from ..model.promql import Selector, number, parse_selector
from . import promtemplate, seriesgen
from .rules import plain_alert_rule
from .seriesgen import Unsatisfiable

STEP = 3600  # evaluation interval of <service>.baseline.test.yml
WEEK = baselines.WEEK
CASE_LABEL = "baseline_case"
BEYOND = 1.1  # a seasonal departure that fires, as a multiple of the tolerance
INSIDE = 0.9  # one that stays quiet
# Statistical cases: the anomaly itself enters the window once ``for`` has passed (at most
# an evaluation's worth), widening the band a little, so the model tries further out.
BEYOND_K = (1.1, 1.2, 1.3, 1.4, 1.45)
INSIDE_K = (0.9, 0.95, 0.85, 0.8)
MUTANTS = (0.7, 1.5)
DAY = 86400  # the scaled tolerances the tests must tell apart

Group = dict[str, Any]


class Untestable(ValueError):
    """Why a baseline alert gets no generated test (reported by ``sloforge test``)."""


@dataclass(frozen=True)
class _Case:
    name: str
    values: tuple[float, ...]  # one sample per ``interval``, from time 0
    fires: bool


def baseline_groups(
    service: Service, settings: Settings, fine_step: int
) -> tuple[dict[int, list[Group]], list[str]]:
    """{evaluation step: the merged groups to run at it}, and the alerts left untested (why).

    Most groups run at STEP; a statistical window shorter than a day runs at ``fine_step``
    (the slow test file's), since an hour's steps would let too much of the departure into
    the window before ``for`` has passed."""
    built: dict[int, list[tuple[Alert, Group]]] = {}
    untested: list[str] = []
    for alert in service.alerts:
        if alert.baseline is None:
            continue
        step = STEP if alert.baseline.seasonal or alert.baseline.window >= DAY else fine_step
        try:
            built.setdefault(step, []).append((alert, alert_group(alert, settings, step)))
        except (Untestable, Unsatisfiable, promtemplate.Unsupported) as exc:
            untested.append(f"{alert.name}: {exc}")
    return {step: merge(groups) for step, groups in built.items()}, untested


def alert_group(alert: Alert, settings: Settings, step: int = STEP) -> Group:
    """Every case of one alert, checked one step before the departure, one step before
    ``for`` has passed and once it has."""
    b = alert.baseline
    assert b is not None
    if not b.metric.metric:
        raise Untestable(f"selector {b.metric.render()} has no metric name to synthesise")
    if b.seasonal:
        onset, cases = _seasonal(b, alert.for_, step)
    else:
        onset, cases = _statistical(b, alert.for_, step)
    fired = onset + math.ceil(alert.for_ / step) * step
    rule = plain_alert_rule(alert, settings)
    # Labels the annotations print get an example value, so the test shows them rendered.
    shown = {
        label: "example"
        for text in rule["annotations"].values()
        for label in promtemplate.referenced_labels(text)
        if label != CASE_LABEL and not any(m.label == label for m in b.metric.matchers)
    }
    labels = seriesgen.label_set([b.metric], shown)
    series = []
    expected = []
    for case in cases:
        case_labels = {**labels, CASE_LABEL: case.name}
        values = case.values[: fired // step + 1]
        text = seriesgen.series_text(b.metric.metric, case_labels)
        series.append({"series": text, "values": _notation(values)})
        if case.fires:
            annotations = {
                k: promtemplate.render(v, values[-1], case_labels)
                for k, v in rule["annotations"].items()
            }
            labelled = dict(sorted({**case_labels, **rule["labels"]}.items()))
            expected.append({"exp_labels": labelled, "exp_annotations": annotations})
    checks = [_check(alert, onset - step, [])]
    if fired > onset:
        checks.append(_check(alert, fired - step, []))
    checks.append(_check(alert, fired, expected))
    return {"interval": format_duration(step), "input_series": series, "alert_rule_test": checks}


def _check(alert: Alert, t: int, alerts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"eval_time": format_duration(t), "alertname": alert.name, "exp_alerts": alerts}


def _level(b: Baseline) -> float:
    """The normal level of the synthetic metric: 100, or twice the minimum when that is more."""
    return max(100.0, 2 * b.minimum) if b.minimum is not None else 100.0


def _sides(b: Baseline) -> list[int]:
    """-1 for drops, +1 for rises."""
    return {"below": [-1], "above": [1], "both": [-1, 1]}[b.direction]


def _names(side: int) -> tuple[str, str]:
    """(the case beyond the bound, the case inside it) on this side."""
    return ("drop", "dip") if side < 0 else ("rise", "bump")


# --- seasonal ------------------------------------------------------------------------


def _seasonal(b: Baseline, hold: int, step: int) -> tuple[int, list[_Case]]:
    """``weeks`` weeks of history, then the departures.

    In every past week the hours the checks fall on are busy (the normal level) and all
    others run at half of it, so only the same hours of past weeks give the baseline the
    cases are measured against: BEYOND and INSIDE times the tolerance from the busy level
    (a drop beyond 100% is a drop to 0). A mean over all hours would be near half.
    """
    onset = b.weeks * WEEK + 2 * step
    tail = _tail(hold, step)
    level = _level(b)
    busy = range(onset % WEEK, onset % WEEK + tail * step)
    history = tuple(level if i * step % WEEK in busy else level / 2 for i in range(onset // step))
    cases = []
    for side in _sides(b):
        beyond, inside = _names(side)
        for name, share, fires in ((beyond, BEYOND, True), (inside, INSIDE, False)):
            value = _round(max(0.0, level * (1 + side * share * b.tolerance)))
            cases.append(_Case(name, history + (value,) * tail, fires))
    if b.minimum:
        low = _round(b.minimum / 2)
        value = _round(max(0.0, low * (1 + _sides(b)[0] * 2 * BEYOND * b.tolerance)))
        cases.append(_Case("quiet-night", _steps(onset, step, tail, low, value), False))
    return onset, cases


def _tail(hold: int, step: int) -> int:
    """Samples of the departure: up to the last check, once ``for`` has passed."""
    return math.ceil(hold / step) + 1


def _steps(onset: int, step: int, tail: int, before: float, after: float) -> tuple[float, ...]:
    return (before,) * (onset // step) + (after,) * tail


# --- statistical ---------------------------------------------------------------------


def _statistical(b: Baseline, hold: int, step: int) -> tuple[int, list[_Case]]:
    """A history alternating one standard deviation above and below the level, then the
    departures; each case's value is the first that the model of both Prometheus versions
    says fires (or stays quiet) with the real k, and not with k scaled by MUTANTS."""
    onset = math.ceil((b.window + b.lag + step) / step) * step + step
    level = _level(b)
    sigma = level / 20
    history = tuple(_round(level + sigma * (1 if i % 2 else -1)) for i in range(onset // step))
    tail = _tail(hold, step)
    model = _Model(b, hold, step, history)
    cases = []
    for side in _sides(b):
        beyond, inside = _names(side)
        cases.append(_Case(beyond, model.pick(level, sigma, side, True), True))
        cases.append(_Case(inside, model.pick(level, sigma, side, False), False))
    if b.minimum:
        scale = b.minimum / 2 / level
        deep = _round((level + _sides(b)[0] * 2 * BEYOND * b.deviations * sigma) * scale)
        night = tuple(_round(v * scale) for v in history)
        cases.append(_Case("quiet-night", night + (max(deep, 0.0),) * tail, False))
    return onset, cases


@dataclass(frozen=True)
class _Model:
    """When the statistical alert fires on a series, evaluated every ``step`` from 0."""

    b: Baseline
    hold: int
    step: int
    history: tuple[float, ...]

    def pick(self, level: float, sigma: float, side: int, fires: bool) -> tuple[float, ...]:
        onset = len(self.history) * self.step
        fired = onset + math.ceil(self.hold / self.step) * self.step
        before = sorted({onset - self.step, fired - self.step} - {fired})
        # The real k: quiet before ``for`` has passed, then as the case says. The mutant it
        # must catch: k x 1.5 misses a firing case, k x 0.7 fires a quiet one.
        wanted = [(1.0, t, False) for t in before] + [(1.0, fired, fires)]
        wanted.append((MUTANTS[1], fired, False) if fires else (MUTANTS[0], fired, True))
        for share in BEYOND_K if fires else INSIDE_K:
            value = _round(level + side * share * self.b.deviations * sigma)
            values = self.history + (value,) * _tail(self.hold, self.step)
            if all(
                self.firing(values, factor, t, left_open) is expect
                for factor, t, expect in wanted
                for left_open in (False, True)
            ):
                return values
        word = "beyond" if fires else "inside"
        raise Untestable(
            f"no departure just {word} {number(self.b.deviations)} standard deviations gives "
            "an unambiguous test"
        )

    def firing(
        self, values: Sequence[float], factor: float, at: int, left_open: bool
    ) -> bool | None:
        """Whether the alert (k scaled by ``factor``) fires at ``at``; None: too close to call.

        It fires when the condition held at every evaluation from the last one at least
        ``for`` before ``at`` (where it became active, at the latest) up to ``at``."""
        start = at - math.ceil(self.hold / self.step) * self.step
        if start < 0:
            return False
        for t in range(at, start - 1, -self.step):
            holds = self.condition(values, factor, t, left_open)
            if holds is not True:
                return holds
        return True

    def condition(
        self, values: Sequence[float], factor: float, t: int, left_open: bool
    ) -> bool | None:
        """The alert's expression at ``t``: Prometheus 2 selects the range [t - window, t],
        Prometheus 3 (t - window, t]; here the range also ends ``lag`` earlier."""
        b = self.b
        now = values[t // self.step]
        end = t - b.lag
        start = end - b.window
        window = [
            v
            for i, v in enumerate(values)
            if (start < i * self.step if left_open else start <= i * self.step)
            and i * self.step <= end
        ]
        if not window:
            return False
        mean = sum(window) / len(window)
        stddev = math.sqrt(sum((v - mean) ** 2 for v in window) / len(window))
        if b.minimum is not None and mean < b.minimum:
            return False
        margin = 1e-6 * max(1.0, abs(mean))
        result = False
        for side in _sides(b):
            gap = (now - (mean + side * b.deviations * factor * stddev)) * side
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
