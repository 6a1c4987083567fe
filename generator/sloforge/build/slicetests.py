"""Generated promtool tests of timeslices SLIs: the budget counts slices, not events.

Checks per SLO:

- the slice recording on both sides of the per-slice threshold: a slice whose
  measure is just on the good side records 1, just on the bad side 0 (averaged
  slices record their good ratio);
- a ratio without traffic: no slice is recorded and nothing fires;
- per burn-rate tier, a run of bad slices: quiet until the bad share of the
  long window passes the tier's threshold, firing from the next slices, quiet
  again once the short window holds no bad slice;
- per tier, a shorter run whose bad share of the long window peaks just under
  the threshold: that tier never fires.

Whether each tier fires at a checked instant is computed slice by slice (``_Model``)
for both ways Prometheus bounds a range: ``(t - w, t]`` (3.x) and ``[t - w, t]``
(2.x, one more slice); a metric slice spanning a change of the gauge may go
either way. Checks are only placed where every tier's state is the same under
all of these, so one file passes on both promtool versions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

import promql_parser

from ..model import conventions as names
from ..model.domain import SLO, Service, Settings, Tier, Timeslices
from ..model.durations import format_duration
from ..model.promql import Selector, parse_selector, substitute_slice
from ..model.windows import selector
from . import seriesgen
from .seriesgen import Phase

SAMPLE = 60  # spacing of the synthetic input samples, as in promtests
FAST_STEP = 60
SLOW_STEP = 300
SLOW_WINDOW = 86400
TRAFFIC = 100_000  # events per sample: error shares near the threshold stay whole numbers
MIN_DETECTION_SLICES = 8  # slices a tier needs before it fires: room for a ×0.7 threshold
NO_TRAFFIC = 3900  # how long the no-traffic test runs: past the shortest tiers' long window

Group = dict[str, object]


class SliceUntestable(ValueError):
    """Why a timeslices SLO's tests cannot be generated (reported, never hidden)."""


def step_for(slo: SLO, tier: Tier | None) -> int:
    """Slices of 1m are checked every minute (day-long tiers every 5m); 5m slices every 5m."""
    ts = _slices(slo)
    if ts.slice == SLOW_STEP or (tier is not None and tier.long_window >= SLOW_WINDOW):
        return SLOW_STEP
    return FAST_STEP


def slo_tests(
    slo: SLO, settings: Settings, expected: Callable[[int, tuple[Tier, ...]], Group]
) -> tuple[list[Group], list[Group]]:
    """(groups for the 1m-step file, groups for the 5m-step file); ``expected(t, firing)``
    is the alert check that exactly ``firing`` tiers fire at ``t``."""
    ts = _slices(slo)
    if ts.slice not in (FAST_STEP, SLOW_STEP):
        raise SliceUntestable(
            f"slices of {format_duration(ts.slice)} are not tested yet (only 1m and 5m)"
        )
    writer = _Writer.for_slo(slo)
    fast: list[Group] = []
    slow: list[Group] = []
    first = slow if step_for(slo, None) == SLOW_STEP else fast
    first.append(threshold_test(slo, writer))
    if writer.gauge is None:
        first.append(no_traffic_test(slo, writer, step_for(slo, None), expected))
    for tier in slo.tiers:
        step = step_for(slo, tier)
        target = slow if step == SLOW_STEP else fast
        model = _Model(slo, step, uncertain_edges=writer.gauge is not None)
        target.append(fires_test(slo, tier, model, writer, expected))
        quiet = quiet_test(slo, tier, model, writer, expected)
        if quiet is not None:  # None: a single bad slice already passes the threshold
            target.append(quiet)
    return fast, slow


def _slices(slo: SLO) -> Timeslices:
    assert slo.sli.timeslices is not None
    return slo.sli.timeslices


# --- the per-slice threshold -------------------------------------------------------------


def threshold_test(slo: SLO, writer: _Writer) -> Group:
    """One slice just on the good side of the threshold, then one just on the bad side.

    Each lasts three slices, so the middle one is judged on its own samples only.
    """
    ts = _slices(slo)
    step = step_for(slo, None)
    unit = ts.slice // SAMPLE
    good, bad = writer.sides(ts)
    runs = [(3 * unit, good), (3 * unit, bad)]
    samples = _Samples(runs, lead=2 * unit)
    record = selector(names.timeslice_record(ts.slice), slo)
    checks = []
    for index, measure in ((2 * unit + 2 * unit, good), (2 * unit + 5 * unit, bad)):
        t = index * SAMPLE
        t -= t % step
        value = writer.recorded(ts, measure)
        checks.append(_record_check(slo, record, t, value))
    group = writer.group(slo, samples)
    group["promql_expr_test"] = checks
    return group


def no_traffic_test(
    slo: SLO, writer: _Writer, step: int, expected: Callable[[int, tuple[Tier, ...]], Group]
) -> Group:
    """Counters that stop growing: no slice is recorded, so nothing is bad and nothing fires."""
    last = _grid(NO_TRAFFIC, step)
    samples = _Samples([], lead=last // SAMPLE)
    group = writer.group(slo, samples, traffic=0)
    record = selector(names.timeslice_record(_slices(slo).slice), slo)
    group["promql_expr_test"] = [
        {"expr": record, "eval_time": format_duration(last), "exp_samples": []}
    ]
    group["alert_rule_test"] = [expected(t, ()) for t in (_grid(last // 2, step), last)]
    return group


def _record_check(slo: SLO, record: str, t: int, value: float, healthy: float = 1.0) -> Group:
    """``record`` holds ``value`` for the burning group (and ``healthy`` for the other one,
    whose slices are all good, when the SLO has group_by labels)."""
    expected = [(_burning(slo), value)]
    if slo.sli.group_by:
        expected.append((_healthy(slo), healthy))
    samples = []
    for group, number in expected:
        labels = {**dict(slo.labels), **group}
        body = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        samples.append({"labels": "{" + body + "}", "value": round(number * 1_000_000)})
    return {
        "expr": f"round({record} * 1000000)",
        "eval_time": format_duration(t),
        "exp_samples": samples,
    }


def _burning(slo: SLO) -> dict[str, str]:
    return {label: "burning" for label in slo.sli.group_by}


def _healthy(slo: SLO) -> dict[str, str]:
    return {label: "healthy" for label in slo.sli.group_by}


# --- calendar periods -----------------------------------------------------------------------

CALENDAR_STEP = 3600  # the calendar test file's evaluation interval, as in promtests


def calendar_test(slo: SLO) -> Group:
    """Bad slices before a period boundary count in that period only; the next starts clean.

    Evaluated hourly, each hour's evaluation judges one slice (the one ending then) and
    files it, so the period's share of bad slices is exactly the share of bad hours
    sampled. Every slice is bad from ``start`` until the first boundary at least six hours
    in, for about half the error budget; checked just before it and just after.
    """
    cal = slo.calendar
    assert cal is not None
    boundary = cal.next_start(6 * CALENDAR_STEP)
    before = (boundary - 1) // CALENDAR_STEP * CALENDAR_STEP
    after = before + 2 * CALENDAR_STEP
    writer = _Writer.for_slo(slo)
    # Hours 1..before (a ratio's first slice needs a sample a slice back; a metric's not).
    judged = before // CALENDAR_STEP + (1 if writer.gauge is not None else 0)
    bad_hours = max(1, round(judged * slo.error_budget / 2))
    start = before - (bad_hours - 1) * CALENDAR_STEP - CALENDAR_STEP // 2
    runs = [((boundary - start) // SAMPLE, "bad")]
    group = writer.group(slo, _Samples(runs, lead=start // SAMPLE, tail=after + CALENDAR_STEP))
    ratio = bad_hours / judged
    checks = []
    for t, burning in ((before, ratio), (after, 0.0)):
        checks.append(_record_check(slo, _period_record(slo), t, burning, 0.0))
        remaining = 1 - burning / slo.error_budget
        checks.append(_record_check(slo, names.RECORD_BUDGET_REMAINING, t, remaining))
    group["promql_expr_test"] = checks
    return group


def calendar_eval_order(service: Service) -> dict[str, list[str]]:
    """``group_eval_order`` for the calendar test file: each timeslices SLO's group before
    its budget group, whose tiles count the slice judged at the same instant (promtool
    evaluates groups in random order unless told; unlisted groups go first)."""
    sliced = [s for s in service.slos if s.calendar is not None and s.sli.kind == "timeslices"]
    if not sliced:
        return {}
    order = [names.slo_group_name(s.service, s.name) for s in sliced]
    order += [names.budget_group_name(s.service, s.name) for s in sliced]
    return {"group_eval_order": order}


def _period_record(slo: SLO) -> str:
    assert slo.calendar is not None
    return selector(names.calendar_ratio_record(slo.calendar.kind), slo)


# --- the tiers ---------------------------------------------------------------------------


def fires_test(
    slo: SLO,
    tier: Tier,
    model: _Model,
    writer: _Writer,
    expected: Callable[[int, tuple[Tier, ...]], Group],
) -> Group:
    """Bad slices from ``start`` on: quiet just before the tier's threshold is passed,
    firing just after; the run stops and the alert resolves once the short window is clean."""
    step = model.step
    threshold = tier.threshold(slo.error_budget)
    if threshold >= 1:
        raise SliceUntestable(
            f"the {_name(tier)} tier needs more than every slice bad (threshold "
            f"{threshold:.6g}): it can never fire"
        )
    start = _grid(min(tier.long_window, math.ceil(MIN_DETECTION_SLICES / threshold) * step), step)
    horizon = start + tier.long_window + 2 * step
    burst = _Samples([(horizon // SAMPLE, "bad")], lead=start // SAMPLE)
    fire = model.first(burst, tier, True, start, horizon)
    if fire is None:
        raise SliceUntestable(f"a run of bad slices never certainly fires the {_name(tier)} tier")
    before = model.last_certain(burst, start, fire)
    stop = _grid(fire + max(tier.short_window, 2 * step), step)
    end = stop + tier.short_window + 4 * step
    samples = _Samples([((stop - start) // SAMPLE, "bad")], lead=start // SAMPLE, tail=end)
    after = model.first(samples, tier, False, stop, end)
    if after is None:
        raise SliceUntestable(f"the {_name(tier)} tier does not certainly resolve")
    last_firing = model.last_certain(samples, stop, after)
    instants = [t for t in (before, fire, last_firing, after) if t is not None]
    group = writer.group(slo, samples)
    group["alert_rule_test"] = [
        expected(t, model.firing(samples, t)) for t in sorted(set(instants))
    ]
    return group


def quiet_test(
    slo: SLO,
    tier: Tier,
    model: _Model,
    writer: _Writer,
    expected: Callable[[int, tuple[Tier, ...]], Group],
) -> Group | None:
    """The longest run of bad slices that keeps the long window's bad share at or under
    the threshold: the tier stays quiet at the run's end, where the share peaks. None when
    even one bad slice passes the threshold (a long window of few slices)."""
    step = model.step
    threshold = tier.threshold(slo.error_budget)
    start = _grid(min(tier.long_window, math.ceil(MIN_DETECTION_SLICES / threshold) * step), step)
    best: tuple[_Samples, int] | None = None
    for bad in range(1, tier.long_window // step + 1):
        stop = start + bad * step
        samples = _Samples([(bad * step // SAMPLE, "bad")], lead=start // SAMPLE, tail=stop)
        if model.state(samples, tier, stop) is not False:
            break
        best = (samples, stop)
    if best is None:
        return None
    samples, stop = best
    check = stop if model.certain(samples, stop) else model.last_certain(samples, start, stop)
    if check is None:
        raise SliceUntestable(f"no instant of the {_name(tier)} quiet run is unambiguous")
    group = writer.group(slo, samples)
    group["alert_rule_test"] = [expected(check, model.firing(samples, check))]
    return group


def _name(tier: Tier) -> str:
    return f"{tier.kind} {format_duration(tier.long_window)}/{format_duration(tier.short_window)}"


def _grid(t: int, step: int) -> int:
    return -(-t // step) * step


# --- the slice-by-slice model -------------------------------------------------------------


@dataclass(frozen=True)
class _Samples:
    """Input samples 0, 1, 2…: ``lead`` good ones, then runs of (count, "good"|"bad"), then
    good ones up to ``tail`` seconds (a run's good side may be a measure, see _Writer)."""

    runs: Sequence[tuple[int, object]]
    lead: int = 0
    tail: int = 0

    def state(self, index: int) -> object:
        """What sample ``index`` holds: "good", "bad", or a run's own value."""
        at = self.lead
        if index <= at:
            return "good"
        for count, value in self.runs:
            if index <= at + count:
                return value
            at += count
        return "good"

    @property
    def length(self) -> int:
        """Samples written after the first."""
        run = self.lead + sum(count for count, _ in self.runs)
        return max(run, self.tail // SAMPLE)


class _Model:
    """Which tiers fire at an instant, counted slice by slice, and whether that is certain."""

    def __init__(self, slo: SLO, step: int, uncertain_edges: bool) -> None:
        self.slo = slo
        self.step = step
        self.slice = _slices(slo).slice
        self.uncertain_edges = uncertain_edges

    def slice_state(self, samples: _Samples, tau: int) -> bool | None:
        """The slice recorded at ``tau``: True bad, False good, None either, or no slice."""
        last = tau // SAMPLE
        width = self.slice // SAMPLE
        first = last - width + 1
        if not self.uncertain_edges and first - 1 < 0:
            return None  # a ratio's first slice needs a sample a slice earlier
        covered = range(max(first - (1 if self.uncertain_edges else 0), 0), last + 1)
        states = {samples.state(i) == "bad" for i in covered}
        return states.pop() if len(states) == 1 else None

    def _counted(self, samples: _Samples, tau: int) -> bool:
        last = tau // SAMPLE
        return self.uncertain_edges or last - self.slice // SAMPLE >= 0

    def share(self, samples: _Samples, t: int, window: int, closed: bool) -> tuple[float, float]:
        """(lowest, highest) bad share of the slices recorded in the window ending at ``t``."""
        low = self.step * (-(-(t - window) // self.step))
        if not closed and low == t - window:
            low += self.step
        bad = either = counted = 0
        for tau in range(max(low, 0), t + 1, self.step):
            if not self._counted(samples, tau):
                continue
            counted += 1
            state = self.slice_state(samples, tau)
            bad += state is True
            either += state is None
        if not counted:
            return math.nan, math.nan
        return bad / counted, (bad + either) / counted

    def state(self, samples: _Samples, tier: Tier, t: int) -> bool | None:
        """True: fires under every reading; False: quiet under every one; None: it depends."""
        threshold = tier.threshold(self.slo.error_budget)
        outcomes: set[bool | None] = set()
        for closed in (False, True):
            long_low, long_high = self.share(samples, t, tier.long_window, closed)
            short_low, short_high = self.share(samples, t, tier.short_window, closed)
            if math.isnan(long_low) or math.isnan(short_low):
                outcomes.add(False)
                continue
            sure = _above(long_low, threshold) and _above(short_low, threshold)
            maybe = not (_at_most(long_high, threshold) or _at_most(short_high, threshold))
            outcomes.add(True if sure else (False if not maybe else None))
        return outcomes.pop() if len(outcomes) == 1 else None

    def certain(self, samples: _Samples, t: int) -> bool:
        return all(self.state(samples, tier, t) is not None for tier in self.slo.tiers)

    def firing(self, samples: _Samples, t: int) -> tuple[Tier, ...]:
        return tuple(tier for tier in self.slo.tiers if self.state(samples, tier, t))

    def first(self, samples: _Samples, tier: Tier, on: bool, lo: int, hi: int) -> int | None:
        """The first instant in [lo, hi] where ``tier`` certainly fires (``on``) or is quiet,
        and every tier's state is certain."""
        for t in range(lo, hi + 1, self.step):
            if self.state(samples, tier, t) is on and self.certain(samples, t):
                return t
        return None

    def last_certain(self, samples: _Samples, lo: int, before: int) -> int | None:
        """The last instant in [lo, before) where every tier's state is certain."""
        for t in range(before - self.step, lo - 1, -self.step):
            if self.certain(samples, t):
                return t
        return None


def _above(share: float, threshold: float) -> bool:
    return share > threshold + 1e-9


def _at_most(share: float, threshold: float) -> bool:
    return share < threshold - 1e-9


# --- synthetic series ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Writer:
    """Writes samples as the SLI's raw series: counters of a ratio, or the metric's gauge."""

    counters: tuple[seriesgen.Counter, ...] = ()
    gauge: tuple[str, dict[str, str]] | None = None
    good_value: float = 0.0  # the gauge outside bad runs
    bad_value: float = 0.0
    points: bool = False  # the metric counts points on the good side of a value

    @classmethod
    def for_slo(cls, slo: SLO) -> _Writer:
        ts = _slices(slo)
        if ts.ratio is not None:
            sli = ts.ratio
            assert sli.total is not None
            part = sli.errors or sli.good
            assert part is not None
            share = "bad" if sli.errors is not None else "good"
            return cls(counters=_split(part, sli.total, share))
        sel, good, bad = metric_gauge(ts)
        return cls(
            gauge=(sel.metric, seriesgen.label_set([sel])),
            good_value=good,
            bad_value=bad,
            points=_counts_points(ts),
        )

    def sides(self, ts: Timeslices) -> tuple[object, object]:
        """Measures just on the good and the bad side of the per-slice threshold."""
        if self._holds_ratio(ts):  # averaged: any two ratios; the record holds each
            return 0.75, 0.25
        if self.gauge is not None:
            return self.good_value, self.bad_value
        allowed = 1 - ts.threshold  # the error share a slice may have
        good = 1 - allowed * 0.9 if ts.op == ">=" else 1 - allowed * 0.5
        bad = 1 - min(allowed * 1.1, 1.0) if allowed > 0 else 0.9
        return round(good, 6), round(bad, 6)

    def recorded(self, ts: Timeslices, measure: object) -> float:
        """What the slice record holds for a slice of ``measure``."""
        if self._holds_ratio(ts):
            assert isinstance(measure, float)
            return measure
        if self.gauge is not None:
            return 1.0 if measure == self.good_value else 0.0
        assert isinstance(measure, float) and ts.op is not None
        return 1.0 if _holds(measure, ts.op, ts.threshold) else 0.0

    def _holds_ratio(self, ts: Timeslices) -> bool:
        """Averaged slices whose gauge (or counters) give the recorded ratio itself."""
        return ts.op is None and (self.gauge is None or not self.points)

    def group(self, slo: SLO, samples: _Samples, traffic: int = TRAFFIC) -> Group:
        series = self._series(samples, _burning(slo), True, traffic)
        if slo.sli.group_by:
            series += self._series(samples, _healthy(slo), False, traffic)
        return {"interval": format_duration(SAMPLE), "input_series": series}

    def _series(
        self, samples: _Samples, group: dict[str, str], bad: bool, traffic: int
    ) -> list[dict[str, str]]:
        segments = _segments(samples, bad)
        if self.gauge is not None:
            metric, labels = self.gauge
            values = [(n, self._gauge(state)) for n, state in segments]
            values[0] = (values[0][0] + 1, values[0][1])  # sample 0 holds the first value
            return [
                {
                    "series": seriesgen.series_text(metric, {**labels, **group}),
                    "values": seriesgen.gauge_values(values),
                }
            ]
        out = []
        for counter in self.counters:
            phases = [Phase(n, _increment(counter.share, state, traffic)) for n, state in segments]
            out.append(
                {
                    "series": seriesgen.series_text(counter.metric, {**counter.labels, **group}),
                    "values": seriesgen.counter_values(phases),
                }
            )
        return out

    def _gauge(self, state: object) -> float:
        if state == "good":
            return self.good_value
        if state == "bad":
            return self.bad_value
        assert isinstance(state, float)
        return state


def _segments(samples: _Samples, bad: bool) -> list[tuple[int, object]]:
    """(count, state) runs of samples 1…length; ``bad`` False writes every sample good."""
    out: list[tuple[int, object]] = []
    for index in range(1, samples.length + 1):
        state = samples.state(index) if bad else "good"
        if out and out[-1][1] == state:
            out[-1] = (out[-1][0] + 1, state)
        else:
            out.append((1, state))
    return out


def _increment(share: str, state: object, traffic: int) -> float:
    """Events a sample adds to a counter of ``share`` when the sample is ``state``."""
    if state == "good":
        good_ratio = 1.0
    elif state == "bad":
        good_ratio = 0.0
    else:
        assert isinstance(state, float)
        good_ratio = state
    bad_events = round((1 - good_ratio) * traffic)
    return {"bad": bad_events, "good": traffic - bad_events, "all": traffic}[share]


def _split(part: Selector, total: Selector, share: str) -> tuple[seriesgen.Counter, ...]:
    """``part`` counts the ``share`` events among ``total`` (one metric told apart by a label,
    or two metrics)."""
    for sel in (part, total):
        if not sel.metric:
            raise SliceUntestable(f"selector {sel.render()} has no metric name")
    if part.metric == total.metric:
        other = "good" if share == "bad" else "bad"
        return (
            seriesgen.Counter(part.metric, seriesgen.label_set([part, total]), share),
            seriesgen.Counter(total.metric, seriesgen.label_set_excluded(total, part), other),
        )
    return (
        seriesgen.Counter(part.metric, seriesgen.label_set([part]), share),
        seriesgen.Counter(total.metric, seriesgen.label_set([total]), "all"),
    )


def _holds(value: float, op: str, threshold: float) -> bool:
    return {
        ">=": value >= threshold,
        ">": value > threshold,
        "<=": value <= threshold,
        "<": value < threshold,
    }[op]


# --- metrics the tests can synthesise ------------------------------------------------------

_OVER_TIME = {"avg_over_time", "max_over_time", "min_over_time", "last_over_time"}
_AGGREGATIONS = {"sum", "max", "min", "avg"}


def metric_selector(ts: Timeslices) -> Selector:
    """The one gauge a metric reads (see ``metric_gauge``)."""
    return metric_gauge(ts)[0]


def metric_gauge(ts: Timeslices) -> tuple[Selector, float, float]:
    """The gauge a metric reads, and its values for a good and a bad slice.

    Synthesised shapes, where a gauge held constant gives the metric its own value:
    a selector, ``avg|max|min|last_over_time(selector[$slice])``, either inside
    sum/max/min/avg; and the share of points on the good side of a value,
    ``avg_over_time((selector op bool value)[$slice:])`` (1 or 0 for a constant gauge).
    """
    node = _unwrap(promql_parser.parse(substitute_slice(ts.metric, format_duration(ts.slice))))
    if isinstance(node, promql_parser.AggregateExpr) and str(node.op).split(".")[-1].lower() in (
        _AGGREGATIONS
    ):
        node = _unwrap(node.expr)
    if isinstance(node, promql_parser.Call) and node.func.name in _OVER_TIME:
        inner = node.args[0]
        if isinstance(inner, promql_parser.SubqueryExpr) and _seconds(inner.range) <= ts.slice:
            return _points_gauge(ts, _unwrap(inner.expr))
        if isinstance(inner, promql_parser.MatrixSelector) and _seconds(inner.range) <= ts.slice:
            node = inner.vector_selector
    sel = _plain_selector(node)
    if sel is None:
        raise SliceUntestable(
            "timeslices metrics are tested only as a selector, avg/max/min/last_over_time("
            "selector[$slice]) (optionally inside sum/max/min/avg), or "
            "avg_over_time((selector op bool value)[$slice:])"
        )
    if ts.op is None:  # averaged: the gauge is the slice's good ratio
        return sel, 1.0, 0.0
    return (sel, *_metric_sides(ts.op, ts.threshold))


def _points_gauge(ts: Timeslices, node: object) -> tuple[Selector, float, float]:
    """``(selector op bool value)``: a gauge on the good side gives 1, else 0."""
    if not (
        isinstance(node, promql_parser.BinaryExpr)
        and node.modifier is not None
        and node.modifier.return_bool
        and isinstance(node.rhs, promql_parser.NumberLiteral)
    ):
        raise SliceUntestable("a subquery is synthesised only as (selector op bool value)")
    sel = _plain_selector(_unwrap(node.lhs))
    op = str(node.op)
    if sel is None or op not in (">=", ">", "<=", "<"):
        raise SliceUntestable("a subquery is synthesised only as (selector op bool value)")
    if ts.op is not None and not (
        _holds(1.0, ts.op, ts.threshold) and not _holds(0.0, ts.op, ts.threshold)
    ):
        raise SliceUntestable("every point good must make a good slice, and none a bad one")
    return (sel, *_metric_sides(op, float(node.rhs.val)))


def _counts_points(ts: Timeslices) -> bool:
    node = _unwrap(promql_parser.parse(substitute_slice(ts.metric, format_duration(ts.slice))))
    if isinstance(node, promql_parser.AggregateExpr):
        node = _unwrap(node.expr)
    return isinstance(node, promql_parser.Call) and any(
        isinstance(arg, promql_parser.SubqueryExpr) for arg in node.args
    )


def _seconds(span: timedelta | None) -> int:
    return int(span.total_seconds()) if span is not None else 0


def _unwrap(node: object) -> object:
    while isinstance(node, promql_parser.ParenExpr):
        node = node.expr
    return node


def _plain_selector(node: object) -> Selector | None:
    if isinstance(node, promql_parser.VectorSelector) and node.offset is None and node.at is None:
        sel = parse_selector(str(node))
        return sel if sel.metric else None
    return None


def absent_onset(ts: Timeslices, last: int, lookback: int, step: int) -> tuple[int, int]:
    """When absent() of the metric turns true after the gauge's ``last`` sample: not before
    the first instant, surely by the second (Prometheus 3 bounds ranges and the lookback
    open at the start, Prometheus 2 closed, so it sees a sample one step longer)."""
    node = promql_parser.parse(substitute_slice(ts.metric, format_duration(ts.slice)))
    reach = _reach(node)
    if reach is None:  # a bare selector: the lookback
        return last + lookback, last + lookback + step
    seconds, subquery = reach
    if subquery:  # each inner evaluation looks back too; its first point is a step in
        return last + seconds + lookback - step, last + seconds + lookback + step
    return last + seconds, last + seconds + step


def _reach(node: object) -> tuple[int, bool] | None:
    """(range seconds, whether a subquery) of the first range the expression reads."""
    if isinstance(node, promql_parser.MatrixSelector):
        return _seconds(node.range), False
    if isinstance(node, promql_parser.SubqueryExpr):
        return _seconds(node.range), True
    for child in ("expr", "args", "lhs", "rhs"):
        inner = getattr(node, child, None)
        for item in inner if isinstance(inner, list) else [inner]:
            if item is not None and not isinstance(item, (str, int, float)):
                found = _reach(item)
                if found is not None:
                    return found
    return None


def _metric_sides(op: str, threshold: float) -> tuple[float, float]:
    """Gauge values 10% inside and 10% outside a threshold."""
    size = abs(threshold) * 0.1 or 1.0
    inside = threshold - size if op in ("<", "<=") else threshold + size
    outside = threshold + size if op in ("<", "<=") else threshold - size
    return round(inside, 9), round(outside, 9)


def sli_selectors(slo: SLO) -> tuple[Selector, ...]:
    """Every raw selector a timeslices SLO's rules read."""
    ts = _slices(slo)
    if ts.ratio is not None:
        return tuple(s for s in (ts.ratio.errors, ts.ratio.good, ts.ratio.total) if s is not None)
    try:
        return (metric_selector(ts),)
    except SliceUntestable:
        return ()


def measure_slo(slo: SLO) -> SLO:
    """The SLO as its measure alone (a ratio SLI), for tests that only need its series."""
    ts = _slices(slo)
    assert ts.ratio is not None
    return replace(slo, sli=ts.ratio)
