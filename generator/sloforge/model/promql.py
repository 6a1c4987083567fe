"""PromQL: checked with a real parser, built with small typed helpers (never by text templates)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import promql_parser

from ..errors import excerpt

WINDOW_VARIABLE = "$window"
SLICE_VARIABLE = "$slice"  # a timeslices SLI's metric: the length of one slice
_OPS = {
    "MatchOp.Equal": "=",
    "MatchOp.NotEqual": "!=",
    "MatchOp.Re": "=~",
    "MatchOp.NotRe": "!~",
}


class PromQLError(ValueError):
    """A PromQL expression that does not parse, or is the wrong kind of expression."""


@dataclass(frozen=True)
class Matcher:
    """A label matcher, in a PromQL selector or an Alertmanager route (the same four ops)."""

    label: str
    op: str  # =, !=, =~, !~
    value: str

    def render(self) -> str:
        """As PromQL writes it: ``code=~"5.."``."""
        return f"{self.label}{self.op}{quote(self.value)}"

    def alertmanager(self) -> str:
        """As an Alertmanager ``matchers:`` entry: ``severity="critical"``."""
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'{self.label}{self.op}"{escaped}"'

    def accepts(self, value: str) -> bool:
        """Whether an alert whose label has ``value`` matches (Alertmanager: anchored regex)."""
        if self.op in ("=", "!="):
            return (value == self.value) == (self.op == "=")
        try:
            found = re.fullmatch(self.value, value) is not None
        except re.error:
            return False
        return found == (self.op == "=~")


@dataclass(frozen=True)
class Selector:
    """An instant-vector selector: metric name plus label matchers."""

    metric: str
    matchers: tuple[Matcher, ...] = ()

    def render(self, extra: Iterable[Matcher] = ()) -> str:
        matchers = [*self.matchers, *extra]
        if not self.metric:
            return "{" + ", ".join(m.render() for m in matchers) + "}"
        if not matchers:
            return self.metric
        return self.metric + "{" + ", ".join(m.render() for m in matchers) + "}"

    def with_metric(self, metric: str) -> Selector:
        return Selector(metric, self.matchers)

    def with_matchers(self, extra: Iterable[Matcher]) -> Selector:
        return Selector(self.metric, (*self.matchers, *extra))


def quote(value: str) -> str:
    """A PromQL double-quoted string literal."""
    escaped = (
        value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    )
    return f'"{escaped}"'


def parse(expr: str) -> promql_parser.Expr:
    if not isinstance(expr, str) or not expr.strip():
        raise PromQLError("PromQL expression is empty")
    try:
        parsed = promql_parser.parse(expr)
    except (ValueError, RuntimeError, TypeError) as exc:
        detail = str(exc)
        if detail == "invalid promql query":  # the parser's catch-all: show what it read
            detail = (
                f"cannot parse {excerpt(expr.strip(), 80)} "
                "(a missing operand, operator or bracket?)"
            )
        raise PromQLError(f"invalid PromQL: {detail}") from None
    _check_numbers(expr)
    return parsed


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_NUMBER = re.compile(r"(?<![\w.])(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?(?![\w.])")


_RANGE = re.compile(r"\[[^\]]*\]|\boffset\s+-?[\w.]+|@\s*[\w.()]+")
_DURATION = re.compile(r"(?<![\w.])\d+(\.\d+)?(ms|s|m|h|d|w|y)(?![\w.])")


def _check_numbers(expr: str) -> None:
    """Literals the parser takes but Prometheus refuses (found by fuzzing): 1e309, which the
    parser reads as +Inf, and a bare duration such as ``5m`` outside a range or offset."""
    plain = _STRING.sub('""', expr)
    duration = _DURATION.search(_RANGE.sub("", plain))
    if duration:
        raise PromQLError(
            f"invalid PromQL: unexpected duration {duration.group(0)!r}; durations go in a "
            "range [5m], after offset, or as seconds (300)"
        )
    for match in _NUMBER.finditer(plain):
        number = match.group(0)
        if math.isinf(float(number)):
            shown = number if len(number) <= 20 else number[:12] + "…"
            raise PromQLError(f"invalid PromQL: number {shown} is out of range (write +Inf)")


def check(expr: str) -> None:
    parse(expr)


def check_template(expr: str) -> None:
    """A query with ``$window`` placeholders, checked as if the window were 5m."""
    if WINDOW_VARIABLE not in expr:
        raise PromQLError(
            f"must contain {WINDOW_VARIABLE} where the range of each window goes, "
            "e.g. rate(x[$window])"
        )
    parse(substitute_window(expr, "5m"))


def check_slice_query(expr: str) -> None:
    """A timeslices metric, ``$slice`` optional, checked as if a slice were 1m."""
    parse(substitute_slice(expr, "1m"))


def substitute_slice(expr: str, slice_: str) -> str:
    return expr.replace(SLICE_VARIABLE, slice_)


def substitute_window(expr: str, window: str) -> str:
    return expr.replace(WINDOW_VARIABLE, window)


def parse_selector(text: str) -> Selector:
    """``metric{label="v"}`` -> Selector; anything else is a PromQLError."""
    node = parse(text)
    if not isinstance(node, promql_parser.VectorSelector):
        raise PromQLError(
            'must be a series selector like metric{label="value"}; use sli.query for other PromQL'
        )
    if node.offset is not None or node.at is not None:
        raise PromQLError("a selector here cannot use offset or @")
    metric = node.name or ""
    matchers = []
    for m in node.matchers.matchers:
        if m.name == "__name__" and not metric and str(m.op) == "MatchOp.Equal":
            metric = m.value
            continue
        matchers.append(Matcher(m.name, _OPS[str(m.op)], m.value))
    return Selector(metric, tuple(matchers))


def summed_rate(query: str) -> Selector | None:
    """The counter of ``sum(rate(counter[$window]))`` (or ``increase``) without offset or @,
    else None: the one query shape whose events can be counted exactly from one counter."""
    try:
        node = parse(substitute_window(query, "5m"))
    except PromQLError:
        return None
    while isinstance(node, promql_parser.ParenExpr):
        node = node.expr
    if not (
        isinstance(node, promql_parser.AggregateExpr)
        and str(node.op).lower().endswith("sum")
        and node.modifier is None
        and isinstance(node.expr, promql_parser.Call)
        and node.expr.func.name in ("rate", "increase")
        and isinstance(node.expr.args[0], promql_parser.MatrixSelector)
    ):
        return None
    try:
        return parse_selector(str(node.expr.args[0].vector_selector))
    except PromQLError:  # offset, @, or no plain selector
        return None


def parse_matchers(text: str) -> tuple[Matcher, ...]:
    """``{job="x"}`` (braces optional, may be empty) -> matchers."""
    body = text.strip()
    if not body:
        return ()
    if not body.startswith("{"):
        body = "{" + body + "}"
    if body == "{}":
        return ()
    return parse_selector("__sloforge_probe__" + body).matchers


def number(value: float) -> str:
    """A float as PromQL and YAML readers expect it: 0.0144, not 0.014400000000000001."""
    text = format(value, ".12g")
    if "e" in text:
        text = format(value, ".12f").rstrip("0").rstrip(".")
    return text


def label_matchers(labels: Mapping[str, str]) -> tuple[Matcher, ...]:
    return tuple(Matcher(k, "=", v) for k, v in labels.items())


def by(labels: Iterable[str]) -> str:
    names = list(labels)
    return f" by ({', '.join(names)})" if names else ""


def without(labels: Iterable[str]) -> str:
    return f" without ({', '.join(labels)})"


def on(labels: Iterable[str]) -> str:
    return f"on ({', '.join(labels)})"


def sum_by(labels: Iterable[str], expr: str) -> str:
    grouping = by(labels)
    return f"sum{grouping} ({expr})" if grouping else f"sum({expr})"


def rate(selector: str, window: str) -> str:
    return f"rate({selector}[{window}])"


# --- expression trees -------------------------------------------------------------------
# A small typed tree of the PromQL shapes sloforge reasons about (recording rules it feeds
# raw series through, see build/rulefeed.py). Anything else is a PromQLError naming it.


@dataclass(frozen=True)
class Num:
    value: float


@dataclass(frozen=True)
class Vec:
    """An instant-vector selector."""

    selector: Selector


@dataclass(frozen=True)
class Ranged:
    """A function over a range selector: ``rate(x[5m])``, ``max_over_time(x[10m])``."""

    func: str
    selector: Selector
    range: int  # seconds


@dataclass(frozen=True)
class Func:
    """Any other function call: ``time()``, ``vector(0)``, ``clamp_min(x, 1)``."""

    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Agg:
    """``sum by (job) (x)`` (``without`` False) or ``avg without (cpu) (x)`` (True)."""

    op: str
    expr: Node
    labels: tuple[str, ...] | None  # None: no grouping clause
    without: bool = False


@dataclass(frozen=True)
class Bin:
    """A binary operation; ``on`` None means one-to-one matching on all labels but
    ``ignoring``."""

    op: str
    lhs: Node
    rhs: Node
    on: tuple[str, ...] | None = None
    ignoring: tuple[str, ...] = ()
    bool_: bool = False


@dataclass(frozen=True)
class Neg:
    expr: Node


Node = Num | Vec | Ranged | Func | Agg | Bin | Neg


def tree(expr: str) -> Node:
    """``expr`` as a Node; a PromQLError names the first construct the tree cannot hold."""
    return _node(parse(expr))


def _node(node: Any) -> Node:
    if isinstance(node, promql_parser.ParenExpr):
        return _node(node.expr)
    if isinstance(node, promql_parser.NumberLiteral):
        return Num(float(node.val))
    if isinstance(node, promql_parser.VectorSelector):
        return Vec(_plain_selector(node))
    if isinstance(node, promql_parser.UnaryExpr):
        return Neg(_node(node.expr))
    if isinstance(node, promql_parser.Call):
        return _call(node)
    if isinstance(node, promql_parser.AggregateExpr):
        if node.param is not None:
            raise PromQLError(f"{node.op} with a parameter is not supported here")
        modifier = node.modifier
        labels = None if modifier is None else tuple(modifier.labels)
        without = modifier is not None and str(modifier).startswith("without")
        return Agg(str(node.op).lower(), _node(node.expr), labels, without)
    if isinstance(node, promql_parser.BinaryExpr):
        return _binary(node)
    raise PromQLError(f"{type(node).__name__} {str(node)!r} is not supported here")


def _call(node: Any) -> Node:
    name = node.func.name
    args = list(node.args)
    if args and isinstance(args[0], promql_parser.MatrixSelector):
        if len(args) != 1:
            raise PromQLError(f"{name}() with more than one argument is not supported here")
        return Ranged(
            name, _plain_selector(args[0].vector_selector), int(args[0].range.total_seconds())
        )
    if any(isinstance(a, promql_parser.SubqueryExpr | promql_parser.StringLiteral) for a in args):
        raise PromQLError(f"{name}() over a subquery or string is not supported here")
    return Func(name, tuple(_node(a) for a in args))


def _binary(node: Any) -> Node:
    modifier = node.modifier
    on: tuple[str, ...] | None = None
    ignoring: tuple[str, ...] = ()
    bool_ = False
    if modifier is not None:
        bool_ = bool(modifier.return_bool)
        if str(modifier.card) not in (
            "VectorMatchCardinality.OneToOne",
            "VectorMatchCardinality.ManyToMany",
        ):
            raise PromQLError("group_left/group_right matching is not supported here")
        matching = modifier.matching
        if matching is not None:
            if str(matching).startswith("on"):
                on = tuple(matching.labels)
            else:
                ignoring = tuple(matching.labels)
    return Bin(str(node.op).lower(), _node(node.lhs), _node(node.rhs), on, ignoring, bool_)


def _plain_selector(node: Any) -> Selector:
    if node.offset is not None or node.at is not None:
        raise PromQLError("a selector with offset or @ is not supported here")
    return parse_selector(str(node))
