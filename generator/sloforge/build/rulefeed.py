"""Generated tests that feed raw series through the user's recording rules.

A structured alert often reads a series that one of the service's own recording rules
writes (``job:errors:ratio_rate5m > 0.05``). Injecting that recorded series would leave
the rule's PromQL unexecuted, so a wrong rule (another metric, a lost label, an inverted
ratio) would pass every test. Instead, the rule's expression is read as a tree
(``model.promql.tree``), one raw series is chosen per selector it reads (following chains
of recording rules), and their values are solved so that the rule records the value the
alert test needs: counters under ``rate``/``increase``/``irate`` get a constant slope,
gauges a constant level, ``time() - x`` a timestamp that keeps pace with the clock.

A small evaluator of the same tree predicts, at every evaluation step, what promtool will
record: a rate over a counter that starts at the first sample grows as ``slope ×
elapsed/window`` until the window is covered, in Prometheus 2 and 3 alike (a counter
starting at 0 is never extrapolated before its first sample). From it come the instant the
alert's condition starts to hold (so ``for:`` is checked around it), the labels and value
the alert carries, and ``promql_expr_test`` checks of every recording rule in the chain,
whose failure names the rule and the value it should have recorded.

Shapes the evaluator does not model (``histogram_quantile``, ``group_left``, ``topk``,
subqueries, ``offset``…) raise ``NotFed``: the test then injects the recorded series as
before, and says so in the test file's header and in ``sloforge explain``.
"""

from __future__ import annotations

import contextlib
import math
import operator
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..model.domain import Alert, Service, Settings
from ..model.durations import format_duration
from ..model.promql import (
    Agg,
    Bin,
    Func,
    Neg,
    Node,
    Num,
    PromQLError,
    Ranged,
    Selector,
    Vec,
    number,
    quote,
    tree,
)
from . import promtemplate, seriesgen
from .rules import plain_alert_rule
from .seriesgen import Unsatisfiable

STEP = 60  # sample spacing and evaluation interval of the fed groups (<service>.test.yml's)
STEADY = 10**7  # an instant long after every window is covered
COUNTER_FUNCS = ("rate", "increase", "irate")
GAUGE_RANGE_FUNCS = ("avg_over_time", "min_over_time", "max_over_time", "last_over_time")
MARGIN = 1e-6  # relative distance a modelled value keeps from the threshold

Labels = tuple[tuple[str, str], ...]
Vector = dict[Labels, float]
Value = float | Vector
Group = dict[str, Any]


class NotFed(ValueError):
    """Why a recorded series is injected instead of fed through its rule."""


@dataclass(frozen=True)
class Raw:
    """One synthetic raw series: a counter (``param`` = slope per second), a gauge (level) or
    a clock (a timestamp ``param`` seconds old at every instant)."""

    metric: str
    labels: Labels
    kind: str  # counter | gauge | clock

    def text(self) -> str:
        return seriesgen.series_text(self.metric, dict(self.labels))

    def values(self, param: float, samples: int) -> str:
        if self.kind == "counter":
            return f"0+{number(param * STEP)}x{samples}"
        if self.kind == "clock":
            return f"{number(-param)}+{STEP}x{samples}"
        return f"{number(param)}+0x{samples}"

    def at(self, param: float, t: int) -> float:
        return {"counter": param * t, "clock": t - param}.get(self.kind, param)


@dataclass(frozen=True)
class _Definition:
    index: int  # position among the service's recording rules
    record: str
    expr: str
    node: Node | None
    labels: Labels
    problem: str = ""


@dataclass
class Feed:
    """Raw series, their values, and what the rules record from them."""

    series: dict[Raw, float]
    records: tuple[str, ...]  # the chain of records read, the one read first first
    window: int  # the longest range in the chain


class _Rules:
    """The service's recording rules, by record name, as trees."""

    def __init__(self, service: Service) -> None:
        self.by_record: dict[str, list[_Definition]] = {}
        for index, rule in enumerate(service.recording_rules):
            try:
                node: Node | None = tree(rule.expr)
                problem = ""
            except PromQLError as exc:
                node, problem = None, str(exc).removeprefix("invalid PromQL: ")
            definition = _Definition(
                index, rule.record, rule.expr, node, tuple(sorted(rule.labels)), problem
            )
            self.by_record.setdefault(rule.record, []).append(definition)
        self.count = len(service.recording_rules)

    def read(self, metric: str, reader: int) -> list[_Definition]:
        """The definitions of ``metric`` a rule at position ``reader`` reads (none: raw)."""
        found = self.by_record.get(metric, [])
        for d in found:
            if d.node is None:
                raise NotFed(f"{d.record}: {d.problem}")
            if d.index >= reader:
                raise NotFed(
                    f"{d.record} is read by a rule listed before it, which sees it one "
                    "evaluation late"
                )
        return found


# --- evaluation -------------------------------------------------------------------------


def _labels(items: dict[str, str]) -> Labels:
    return tuple(sorted(items.items()))


def _matches(sel: Selector, labels: Labels) -> bool:
    got = dict(labels)
    return all(seriesgen.matches(m, got.get(m.label, "")) for m in sel.matchers)


_ARITH: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": lambda a, b: a / b if b else (math.copysign(math.inf, a) if a else math.nan),
    "^": lambda a, b: float(a**b),
}
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
    ">=": operator.ge,
    "<=": operator.le,
}
_AGG: dict[str, Callable[[list[float]], float]] = {
    "sum": math.fsum,
    "avg": lambda v: math.fsum(v) / len(v),
    "max": max,
    "min": min,
    "count": lambda v: float(len(v)),
}


class _Evaluator:
    """What promtool computes at instant ``t`` from ``series`` through the rules."""

    def __init__(self, rules: _Rules, series: dict[Raw, float], t: int) -> None:
        self.rules, self.series, self.t = rules, series, t

    def vector(self, node: Node, reader: int) -> Vector:
        value = self.eval(node, reader)
        return {(): value} if isinstance(value, float) else value

    def record(self, selector: Selector, reader: int) -> Vector:
        """The recorded series ``selector`` picks, labels without ``__name__``."""
        out: Vector = {}
        for d in self.rules.read(selector.metric, reader):
            assert d.node is not None
            for labels, v in self.vector(d.node, d.index).items():
                merged = _labels({**dict(labels), **dict(d.labels)})
                if _matches(selector, merged):
                    if merged in out:
                        raise NotFed(f"{d.record} records two series with the labels {merged}")
                    out[merged] = v
        return out

    def eval(self, node: Node, reader: int) -> Value:
        if isinstance(node, Num):
            return node.value
        if isinstance(node, Neg):
            return self._map(self.eval(node.expr, reader), operator.neg)
        if isinstance(node, Vec):
            if self.rules.read(node.selector.metric, reader):
                return self.record(node.selector, reader)
            return {
                raw.labels: raw.at(p, self.t)
                for raw, p in self.series.items()
                if raw.metric == node.selector.metric and _matches(node.selector, raw.labels)
            }
        if isinstance(node, Ranged):
            return self._ranged(node, reader)
        if isinstance(node, Agg):
            return self._agg(node, reader)
        if isinstance(node, Func):
            return self._func(node, reader)
        return self._binary(node, reader)

    @staticmethod
    def _map(value: Value, fn: Callable[[float], float]) -> Value:
        if isinstance(value, float):
            return fn(value)
        return {k: fn(v) for k, v in value.items()}

    def _ranged(self, node: Ranged, reader: int) -> Vector:
        if self.rules.by_record.get(node.selector.metric):
            raise NotFed(f"{node.func}() over the recorded series {node.selector.metric}")
        if node.range < 2 * STEP:
            raise NotFed(f"{node.func}() over a range shorter than {format_duration(2 * STEP)}")
        out: Vector = {}
        for raw, p in self.series.items():
            if raw.metric != node.selector.metric or not _matches(node.selector, raw.labels):
                continue
            if node.func in COUNTER_FUNCS:
                if self.t < STEP:  # one sample: no rate yet
                    continue
                covered = min(self.t, node.range)
                out[raw.labels] = {
                    "rate": p * covered / node.range,
                    "increase": p * covered,
                    "irate": p,
                }[node.func]
            else:
                out[raw.labels] = raw.at(p, self.t)
        return out

    def _agg(self, node: Agg, reader: int) -> Vector:
        if node.op not in _AGG:
            raise NotFed(f"{node.op}() is not modelled")
        groups: dict[Labels, list[float]] = {}
        for labels, v in self.vector(node.expr, reader).items():
            if node.labels is None:
                key: Labels = ()
            elif node.without:
                key = tuple((k, x) for k, x in labels if k not in node.labels)
            else:
                key = tuple((k, x) for k, x in labels if k in node.labels)
            groups.setdefault(key, []).append(v)
        return {k: _AGG[node.op](vs) for k, vs in groups.items()}

    def _func(self, node: Func, reader: int) -> Value:
        if node.name == "time" and not node.args:
            return float(self.t)
        args = [self.eval(a, reader) for a in node.args]
        if node.name == "vector" and isinstance(args[0], float):
            return {(): args[0]}
        if node.name == "abs" and len(args) == 1:
            return self._map(args[0], abs)
        if node.name in ("clamp_min", "clamp_max") and isinstance(args[1], float):
            bound = args[1]
            pick = max if node.name == "clamp_min" else min
            return self._map(args[0], lambda v: pick(v, bound))
        raise NotFed(f"{node.name}() is not modelled")

    def _binary(self, node: Bin, reader: int) -> Value:
        lhs, rhs = self.eval(node.lhs, reader), self.eval(node.rhs, reader)
        if node.op in ("and", "or", "unless"):
            assert isinstance(lhs, dict) and isinstance(rhs, dict)
            return self._set(node, lhs, rhs)
        if node.op in _COMPARE:
            compare = _COMPARE[node.op]

            def apply(a: float, b: float) -> float | None:
                if node.bool_:
                    return 1.0 if compare(a, b) else 0.0
                return a if compare(a, b) else None
        elif node.op in _ARITH:
            arith = _ARITH[node.op]

            def apply(a: float, b: float) -> float | None:
                return arith(a, b)
        else:
            raise NotFed(f"operator {node.op} is not modelled")
        if isinstance(lhs, float) and isinstance(rhs, float):
            result = apply(lhs, rhs)
            return 0.0 if result is None else result
        if isinstance(rhs, float):
            assert isinstance(lhs, dict)
            return _kept({k: apply(v, rhs) for k, v in lhs.items()})
        if isinstance(lhs, float):
            # scalar op vector: a filter keeps the vector's value
            def flipped(v: float) -> float | None:
                kept = apply(lhs, v)
                return v if kept is not None and not node.bool_ and node.op in _COMPARE else kept

            return _kept({k: flipped(v) for k, v in rhs.items()})
        right = self._by_signature(node, rhs)
        out: dict[Labels, float | None] = {}
        for labels, v in lhs.items():
            sig = self._signature(node, labels)
            if sig in right:
                out[labels] = apply(v, right[sig])
        if len({self._signature(node, k) for k in lhs}) != len(lhs):
            raise NotFed("many-to-many matching is not modelled")
        return _kept(out)

    @staticmethod
    def _signature(node: Bin, labels: Labels) -> Labels:
        if node.on is not None:
            return tuple((k, v) for k, v in labels if k in node.on)
        return tuple((k, v) for k, v in labels if k not in node.ignoring)

    def _by_signature(self, node: Bin, vector: Vector) -> dict[Labels, float]:
        out: dict[Labels, float] = {}
        for labels, v in vector.items():
            sig = self._signature(node, labels)
            if sig in out:
                raise NotFed("many-to-one matching is not modelled")
            out[sig] = v
        return out

    def _set(self, node: Bin, lhs: Vector, rhs: Vector) -> Vector:
        right = {self._signature(node, k) for k in rhs}
        left = {self._signature(node, k) for k in lhs}
        if node.op == "and":
            return {k: v for k, v in lhs.items() if self._signature(node, k) in right}
        if node.op == "unless":
            return {k: v for k, v in lhs.items() if self._signature(node, k) not in right}
        extra = {k: v for k, v in rhs.items() if self._signature(node, k) not in left}
        return {**lhs, **extra}


def _kept(values: dict[Labels, float | None]) -> Vector:
    return {k: v for k, v in values.items() if v is not None}


# --- choosing the raw series ------------------------------------------------------------


@dataclass
class _Leaf:
    selector: Selector
    kind: str
    wanted: dict[str, str] = field(default_factory=dict)


def _leaves(rules: _Rules, node: Node, wanted: dict[str, str], reader: int) -> Iterator[_Leaf]:
    """Every raw selector under ``node``, following recorded series, with the labels the
    output should carry pushed down through aggregations."""
    if isinstance(node, Vec):
        definitions = rules.read(node.selector.metric, reader)
        if not definitions:
            yield _Leaf(node.selector, "gauge", wanted)
        for d in definitions:
            assert d.node is not None
            inner = _compatible(node.selector, wanted)
            inner = {k: v for k, v in inner.items() if k not in dict(d.labels)}
            yield from _leaves(rules, d.node, inner, d.index)
    elif isinstance(node, Ranged):
        kind = "counter" if node.func in COUNTER_FUNCS else "gauge"
        if node.func not in COUNTER_FUNCS + GAUGE_RANGE_FUNCS:
            raise NotFed(f"{node.func}() is not modelled")
        yield _Leaf(node.selector, kind, wanted)
    elif isinstance(node, Agg):
        if node.labels is None:
            inner = {}
        elif node.without:
            inner = {k: v for k, v in wanted.items() if k not in node.labels}
        else:
            inner = {k: v for k, v in wanted.items() if k in node.labels}
        yield from _leaves(rules, node.expr, inner, reader)
    elif isinstance(node, Bin):
        if (
            node.op == "-"
            and isinstance(node.lhs, Func)
            and node.lhs.name == "time"
            and isinstance(node.rhs, Vec)
            and not rules.by_record.get(node.rhs.selector.metric)
        ):
            yield _Leaf(node.rhs.selector, "clock", wanted)
            return
        yield from _leaves(rules, node.lhs, wanted, reader)
        yield from _leaves(rules, node.rhs, wanted, reader)
    elif isinstance(node, Func):
        for arg in node.args:
            yield from _leaves(rules, arg, wanted, reader)
    elif isinstance(node, Neg):
        yield from _leaves(rules, node.expr, wanted, reader)


def _compatible(selector: Selector, wanted: dict[str, str]) -> dict[str, str]:
    """``wanted`` without the labels ``selector`` refuses, plus what its matchers require."""
    kept = {
        k: v
        for k, v in wanted.items()
        if all(seriesgen.matches(m, v) for m in selector.matchers if m.label == k)
    }
    return seriesgen.label_set([selector], kept)


def _choose(leaves: Sequence[_Leaf]) -> list[Raw]:
    """One raw series per distinct selector; a selector whose series another selector of the
    same metric already took gets one that only it matches (the rest of a total)."""
    chosen: list[tuple[Selector, Raw]] = []
    for leaf in leaves:
        if leaf.selector.metric == "":
            raise NotFed(f"selector {leaf.selector.render()} has no metric name")
        if any(sel == leaf.selector and raw.kind == leaf.kind for sel, raw in chosen):
            continue
        try:
            labels = _compatible(leaf.selector, leaf.wanted)
        except Unsatisfiable as exc:
            raise NotFed(str(exc)) from None
        for sel, _ in chosen:
            if sel.metric == leaf.selector.metric and _matches(sel, _labels(labels)):
                # When none exists, this one counts a part of the other's series (errors
                # among all requests), which is what the rule means.
                with contextlib.suppress(Unsatisfiable):
                    labels = seriesgen.label_set_excluded(leaf.selector, sel, leaf.wanted)
        chosen.append((leaf.selector, Raw(leaf.selector.metric, _labels(labels), leaf.kind)))
    series = list(dict.fromkeys(raw for _, raw in chosen))
    for leaf in leaves:
        for raw in series:
            picked = raw.metric == leaf.selector.metric and _matches(leaf.selector, raw.labels)
            if picked and raw.kind != leaf.kind:
                raise NotFed(
                    f"{raw.text()} would be read both as a {raw.kind} and as a {leaf.kind}"
                )
    return series


def _records(rules: _Rules, node: Node, reader: int) -> list[str]:
    """Records read under ``node``, outermost first, each once."""
    found: list[str] = []
    for sub in _walk(node):
        if isinstance(sub, Vec):
            for d in rules.read(sub.selector.metric, reader):
                assert d.node is not None
                found += [d.record, *_records(rules, d.node, d.index)]
    return list(dict.fromkeys(found))


def _walk(node: Node) -> Iterator[Node]:
    yield node
    children: tuple[Node, ...] = ()
    if isinstance(node, Bin):
        children = (node.lhs, node.rhs)
    elif isinstance(node, Agg | Neg):
        children = (node.expr,)
    elif isinstance(node, Func):
        children = node.args
    for child in children:
        yield from _walk(child)


def _longest_range(rules: _Rules, records: Sequence[str]) -> int:
    ranges = [0]
    for record in records:
        for d in rules.by_record.get(record, []):
            assert d.node is not None
            ranges += [n.range for n in _walk(d.node) if isinstance(n, Ranged)]
    return max(ranges)


def _base(series: Sequence[Raw]) -> dict[Raw, float]:
    """Distinct, readable starting values, so a swapped or inverted term changes the result."""
    start = {"counter": 10.0, "gauge": 100.0, "clock": float(STEP)}
    return {raw: start[raw.kind] * (i + 1) for i, raw in enumerate(series)}


# --- solving ----------------------------------------------------------------------------

_GRID = sorted(
    {0.0}
    | {m * 10.0**e for e in range(-6, 10) for m in (1.0, 2.0, 5.0)}
    | {-m * 10.0**e for e in range(-6, 10) for m in (1.0, 2.0, 5.0)}
)


def _solve(
    series: dict[Raw, float],
    value_of: Callable[[dict[Raw, float]], float | None],
    target: float,
    tolerance: float,
) -> dict[Raw, float]:
    """Values with ``value_of(values)`` within ``tolerance`` of ``target``, varying one series
    at a time, rounded to as few digits as the tolerance allows (readable input series)."""
    for raw in series:
        grid = [x for x in _GRID if x >= 0] if raw.kind != "gauge" else _GRID

        def error(x: float, raw: Raw = raw) -> float | None:
            got = value_of({**series, raw: x})
            return None if got is None or not math.isfinite(got) else got - target

        points = [(x, error(x)) for x in grid]
        for (a, ea), (b, eb) in zip(points, points[1:], strict=False):
            if ea is None or eb is None or (ea > 0) == (eb > 0):
                continue
            for _ in range(200):
                mid = (a + b) / 2
                em = error(mid)
                if em is None:
                    break
                if (em > 0) == (ea > 0):
                    a, ea = mid, em
                else:
                    b = mid
            for candidate in _roundings(raw, a):
                off = error(candidate)
                if off is not None and abs(off) <= tolerance:
                    return {**series, raw: candidate}
    raise NotFed(f"no values of its inputs make it record {number(target)}")


def _roundings(raw: Raw, x: float) -> Iterator[float]:
    """``x`` with 1 to 6 significant digits (per sample, for counters); a clock's age in
    whole seconds and a half, so humanizeDuration cannot round it either way."""
    if raw.kind == "clock":
        yield math.floor(x) + 0.5
    scale = STEP if raw.kind == "counter" else 1
    for digits in range(1, 7):
        yield float(f"{x * scale:.{digits}g}") / scale


# --- the fed tests of a threshold alert -------------------------------------------------


class Feeder:
    """Fed tests for one service: threshold alerts over recorded series, then a check of
    every recording rule no alert test fed."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.rules = _Rules(service)
        self.fed: set[str] = set()  # records some generated test feeds
        self.injected: dict[str, str] = {}  # alert -> why it injects its recorded series
        self.unfed: dict[str, str] = {}  # record -> why no test feeds it

    def reads_recorded(self, alert: Alert) -> bool:
        return alert.threshold is not None and alert.threshold.metric.metric in self.rules.by_record

    def alert_groups(self, alert: Alert, settings: Settings) -> list[Group] | None:
        """Fed groups for a threshold alert over a recorded series; None when it reads a raw
        series or cannot be fed (then ``injected`` says why)."""
        if not self.reads_recorded(alert):
            return None
        try:
            groups, records = _AlertFeed(self, alert, settings).groups()
        except (NotFed, promtemplate.Unsupported, Unsatisfiable) as exc:
            self.injected[alert.name] = str(exc)
            return None
        self.fed.update(records)
        return groups

    def note_injected(self, owner: str, selectors: Sequence[Selector]) -> None:
        """An SLI or histogram that reads a recorded series gets it injected as its raw input:
        burn-rate and percentile tests are not fed through recording rules (yet), say so."""
        for sel in selectors:
            if sel.metric in self.rules.by_record:
                self.injected[owner] = (
                    f"reads the recorded series {sel.metric}, which its tests inject as raw input"
                )

    def record_checks(self) -> list[Group]:
        """A fed check of each recording rule that no alert test reached (last rules first:
        they usually read the earlier ones)."""
        groups = []
        for record in reversed(list(self.rules.by_record)):
            if record in self.fed:
                continue
            try:
                group, records = self._record_check(record)
            except (NotFed, Unsatisfiable) as exc:
                self.unfed[record] = str(exc)
                continue
            self.fed.update(records)
            groups.append(group)
        return groups

    def _record_check(self, record: str) -> tuple[Group, list[str]]:
        node = Vec(Selector(record))
        reader = self.rules.count
        leaves = list(_leaves(self.rules, node, {}, reader))
        series = _base(_choose(leaves))
        records = _records(self.rules, node, reader)
        at = _longest_range(self.rules, records) + STEP
        checks = _expr_checks(self.rules, records, series, at, reader)
        if not checks[0]["exp_samples"]:
            raise NotFed(f"{record} records nothing from series its selectors match")
        group = {
            "interval": format_duration(STEP),
            "input_series": _inputs(series, at // STEP),
            "promql_expr_test": checks,
        }
        return group, records

    def counts(self) -> tuple[int, int]:
        """(recording rules some generated test feeds, recording rules)."""
        fed = sum(len(self.rules.by_record[r]) for r in self.fed)
        return fed, sum(len(d) for d in self.rules.by_record.values())

    def notes(self) -> list[str]:
        """Header lines of the test file: what is injected rather than fed, and why."""
        fed, total = self.counts()
        lines = []
        if total:
            lines.append(f"recording rules fed from raw series: {fed} of {total}")
        lines += [f"injected, not fed: {what}: {why}" for what, why in self.injected.items()]
        lines += [f"not fed: recording rule {what}: {why}" for what, why in self.unfed.items()]
        return lines


@dataclass
class _AlertFeed:
    feeder: Feeder
    alert: Alert
    settings: Settings

    def __post_init__(self) -> None:
        threshold = self.alert.threshold
        assert threshold is not None
        self.threshold = threshold
        self.rules = self.feeder.rules
        self.reader = self.rules.count
        self.node: Node = Vec(threshold.metric)
        self.rule = plain_alert_rule(self.alert, self.settings)

    def groups(self) -> tuple[list[Group], list[str]]:
        t = self.threshold
        shown = {
            label: "example"
            for text in self.rule["annotations"].values()
            for label in promtemplate.referenced_labels(text)
        }
        wanted = _compatible(t.metric, shown)
        series = _base(_choose(list(_leaves(self.rules, self.node, wanted, self.reader))))
        records = _records(self.rules, self.node, self.reader)
        step = abs(t.value) * 0.1 or 0.1
        direction = 1 if t.op == ">" else -1
        tolerance = step * 0.1
        fire = _solve(series, self._steady, t.value + direction * step, tolerance)
        quiet = _solve(series, self._steady, t.value - direction * step, tolerance)
        window = _longest_range(self.rules, records)
        return [
            self._fire_group(fire, window, records),
            self._quiet_group(quiet, window, records),
        ], records

    def _steady(self, series: dict[Raw, float]) -> float | None:
        got = _Evaluator(self.rules, series, STEADY).record(self.threshold.metric, self.reader)
        return next(iter(got.values())) if len(got) == 1 else None

    def _timeline(self, series: dict[Raw, float], last: int) -> list[Vector]:
        return [
            _Evaluator(self.rules, series, k * STEP).record(self.threshold.metric, self.reader)
            for k in range(last + 1)
        ]

    def _holds(self, vector: Vector) -> bool:
        t = self.threshold
        if len(vector) > 1:
            raise NotFed("the rule records more than one series for the test's labels")
        for v in vector.values():
            if abs(v - t.value) <= MARGIN * max(abs(t.value), 1e-12):
                raise NotFed(f"the recorded value passes within rounding of {number(t.value)}")
            return v > t.value if t.op == ">" else v < t.value
        return False

    def _steps(self, window: int) -> int:
        return (window + self.alert.for_) // STEP + 14

    def _fire_group(self, series: dict[Raw, float], window: int, records: list[str]) -> Group:
        hold = self.alert.for_
        last = self._steps(window)
        timeline = self._timeline(series, last)
        holds = [self._holds(v) for v in timeline]
        if not holds[-1]:
            raise NotFed("the solved inputs do not reach the threshold")
        start = (
            len(holds) - next(i for i, h in enumerate(reversed(holds)) if not h)
            if not all(holds)
            else 0
        )
        fired = start * STEP + hold + STEP
        end = start * STEP + hold + 10 * STEP
        if end // STEP > last:
            raise NotFed("the recorded value settles too late")
        ((labels, value),) = timeline[fired // STEP].items()
        checks = []
        if hold >= 2 * STEP:
            checks.append(_no_alert(self.alert, start * STEP + hold - STEP))
        exp_labels = dict(sorted({**dict(labels), **self.rule["labels"]}.items()))
        annotations = promtemplate.render_stable(self.rule["annotations"], value, dict(labels))
        checks.append(
            {
                "eval_time": format_duration(fired),
                "alertname": self.alert.name,
                "exp_alerts": [{"exp_labels": exp_labels, "exp_annotations": annotations}],
            }
        )
        settled = _settled(timeline)
        return {
            "interval": format_duration(STEP),
            "input_series": _inputs(series, end // STEP),
            "alert_rule_test": checks,
            "promql_expr_test": _expr_checks(self.rules, records, series, settled, self.reader),
        }

    def _quiet_group(self, series: dict[Raw, float], window: int, records: list[str]) -> Group:
        hold = self.alert.for_
        last = self._steps(window)
        timeline = self._timeline(series, last)
        settled = _settled(timeline)
        if any(self._holds(v) for v in timeline[settled // STEP :]):
            raise NotFed("the solved quiet inputs cross the threshold")
        end = settled + hold + 10 * STEP
        checks = [_no_alert(self.alert, t) for t in (settled + hold + STEP, end)]
        return {
            "interval": format_duration(STEP),
            "input_series": _inputs(series, end // STEP),
            "alert_rule_test": checks,
            "promql_expr_test": _expr_checks(self.rules, records, series, settled, self.reader),
        }


def _settled(timeline: Sequence[Vector]) -> int:
    """The first instant from which the recorded value no longer changes."""
    final = timeline[-1]
    k = len(timeline) - 1
    while k > 0 and _same(timeline[k - 1], final):
        k -= 1
    return max(k, 1) * STEP


def _same(a: Vector, b: Vector) -> bool:
    return a.keys() == b.keys() and all(
        math.isclose(a[k], b[k], rel_tol=1e-12, abs_tol=1e-15) for k in a
    )


def _no_alert(alert: Alert, t: int) -> dict[str, Any]:
    return {"eval_time": format_duration(t), "alertname": alert.name, "exp_alerts": []}


def _inputs(series: dict[Raw, float], samples: int) -> list[dict[str, str]]:
    return [{"series": raw.text(), "values": raw.values(p, samples)} for raw, p in series.items()]


def _expr_checks(
    rules: _Rules, records: Sequence[str], series: dict[Raw, float], t: int, reader: int
) -> list[dict[str, Any]]:
    """What each record in the chain holds at ``t``: a wrong rule fails here, by name."""
    checks = []
    for record in records:
        got = _Evaluator(rules, series, t).record(Selector(record), reader)
        scale = _scale(got.values())
        samples = [
            {
                "labels": "{" + ", ".join(f"{k}={quote(v)}" for k, v in labels) + "}",
                "value": round(v * scale),
            }
            for labels, v in sorted(got.items())
        ]
        checks.append(
            {
                "expr": f"round({record} * {number(scale)})",
                "eval_time": format_duration(t),
                "exp_samples": samples,
            }
        )
    return checks


def _scale(values: Iterator[float] | Any) -> float:
    """A power of ten keeping seven significant digits of the largest value, and away from a
    rounding tie."""
    values = list(values)
    largest = max((abs(v) for v in values if math.isfinite(v)), default=1.0) or 1.0
    exponent = 6 - math.floor(math.log10(largest))
    for extra in range(4):
        scale = 10.0 ** (exponent + extra)
        if all(abs((v * scale) % 1 - 0.5) > 0.01 for v in values):
            return scale
    return 10.0**exponent


def summary(service: Service, settings: Settings) -> Feeder:
    """What the generated tests of ``service`` feed and inject (for ``sloforge explain``)."""
    feeder = Feeder(service)
    for alert in service.alerts:
        feeder.alert_groups(alert, settings)
    feeder.record_checks()
    return feeder
