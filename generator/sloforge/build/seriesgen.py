"""Synthetic promtool input series: label sets that a selector matches (or not), and values.

Generated tests need concrete series for selectors such as
``http_requests_total{job="payments", code=~"5.."}``: these helpers find label
values that satisfy (or violate) each matcher, using Prometheus' fully anchored
regex semantics, and write counter histories in promtool's expanding notation.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import cast

try:
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python < 3.11
    import sre_parse  # type: ignore[no-redef]

from ..model.promql import Matcher, Selector, quote

GENERIC_VALUES = ("example", "200", "ok", "0", "1", "x", "a", "test", "none")


class Unsatisfiable(ValueError):
    """No label set could be found for a selector."""


def matches(matcher: Matcher, value: str) -> bool:
    if matcher.op == "=":
        return value == matcher.value
    if matcher.op == "!=":
        return value != matcher.value
    try:
        hit = re.fullmatch(f"(?:{matcher.value})", value, re.S) is not None
    except re.error:
        return False
    return hit if matcher.op == "=~" else not hit


def regex_examples(pattern: str, limit: int = 8) -> list[str]:
    """A few strings the regex fully matches (best effort; verified by the caller)."""
    return list(_regex_examples(pattern, limit))


# SLOs tend to share their regexes (code=~"5.."): each is expanded once.
@functools.lru_cache(maxsize=1024)
def _regex_examples(pattern: str, limit: int) -> tuple[str, ...]:
    try:
        parsed = sre_parse.parse(pattern)
    except (re.error, RecursionError):
        return ()
    try:
        out = _expand(list(parsed), limit)
    except (_Give, RecursionError):
        return ()
    return tuple(s for s in out if re.fullmatch(f"(?:{pattern})", s, re.S))[:limit]


class _Give(Exception):
    pass


def _expand(items: Sequence[tuple[object, object]], limit: int) -> list[str]:
    results = [""]
    for op, arg in items:
        options = _expand_one(op, arg, limit)
        results = [a + b for a, b in itertools.product(results, options)][:limit]
    return results


def _expand_one(op: object, arg: object, limit: int) -> list[str]:
    name = str(op)
    if name == "LITERAL":
        return [chr(arg)]  # type: ignore[arg-type]
    if name == "NOT_LITERAL":
        return ["x" if chr(arg) != "x" else "y"]  # type: ignore[arg-type]
    if name == "ANY":
        return ["0", "x"]
    if name == "IN":
        return _expand_in(arg)  # type: ignore[arg-type]
    if name == "BRANCH":
        # the re parser is untyped: BRANCH carries (None, [alternative, ...])
        _, branches = cast("tuple[object, list[Iterable[tuple[object, object]]]]", arg)
        out: list[str] = []
        for branch in branches:
            out.extend(_expand(list(branch), limit))
        return out[:limit]
    if name == "SUBPATTERN":
        return _expand(list(arg[-1]), limit)  # type: ignore[index]
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        # the re parser is untyped: repeats carry (min, max, body)
        low, high, body = cast("tuple[int, int | None, Iterable[tuple[object, object]]]", arg)
        inner = _expand(list(body), limit)
        counts = [low] if low else [0, 1]
        if high is not None and high != sre_parse.MAXREPEAT:
            counts = [c for c in counts if c <= high]
        return [i * c for c in counts for i in inner][:limit] or [""]
    if name in ("AT", "ASSERT", "ASSERT_NOT"):
        return [""]
    if name == "CATEGORY":
        return {"CATEGORY_DIGIT": ["0"], "CATEGORY_WORD": ["a"], "CATEGORY_SPACE": [" "]}.get(
            str(arg), ["x"]
        )
    raise _Give


def _expand_in(items: Sequence[tuple[object, object]]) -> list[str]:
    if items and str(items[0][0]) == "NEGATE":
        banned = set()
        for op, arg in items[1:]:
            if str(op) == "LITERAL":
                banned.add(chr(arg))  # type: ignore[arg-type]
        return [next(c for c in "xyz0a" if c not in banned)]
    out = []
    for op, arg in items:
        if str(op) == "LITERAL":
            out.append(chr(arg))  # type: ignore[arg-type]
        elif str(op) == "RANGE":
            out.append(chr(arg[0]))  # type: ignore[index]
        elif str(op) == "CATEGORY":
            out.extend(_expand_one(op, arg, 2))
    return out[:2] or ["x"]


def _candidates(matchers: Iterable[Matcher]) -> list[str]:
    found: list[str] = []
    for m in matchers:  # what a matcher names is what it accepts, or (negated) refuses
        if m.op in ("=", "!="):
            found.append(m.value)
        else:
            found.extend(regex_examples(m.value))
    found.extend(GENERIC_VALUES)
    found.append("")
    return list(dict.fromkeys(found))


def satisfy(label: str, matchers: Sequence[Matcher], avoid: Sequence[Matcher] = ()) -> str:
    """A value (``""`` = label absent) matching every matcher, and failing one of ``avoid``."""
    for value in _candidates([*matchers, *avoid]):
        if all(matches(m, value) for m in matchers) and (
            not avoid or not all(matches(m, value) for m in avoid)
        ):
            return value
    raise Unsatisfiable(
        f"no value of label {label!r} satisfies {', '.join(m.render() for m in matchers)}"
    )


def label_set(
    selectors: Sequence[Selector], fixed: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Labels of one series that every selector in ``selectors`` matches."""
    fixed = dict(fixed or {})
    by_label: dict[str, list[Matcher]] = {}
    for sel in selectors:
        for m in sel.matchers:
            by_label.setdefault(m.label, []).append(m)
    labels: dict[str, str] = {}
    for label in sorted(set(by_label) | set(fixed)):
        if label in fixed:
            value = fixed[label]
            if not all(matches(m, value) for m in by_label.get(label, [])):
                raise Unsatisfiable(f"label {label}={value!r} does not satisfy the selectors")
        else:
            value = satisfy(label, by_label[label])
        if value:
            labels[label] = value
    return labels


def label_set_excluded(
    base: Selector, excluded: Selector, fixed: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Labels that ``base`` matches but ``excluded`` does not (e.g. good requests vs errors)."""
    start = label_set([base], fixed)
    for m in excluded.matchers:
        if m.label in (fixed or {}):
            continue
        own = [x for x in base.matchers if x.label == m.label]
        try:
            value = satisfy(m.label, own, avoid=[m])
        except Unsatisfiable:
            continue
        candidate = (
            {**start, m.label: value} if value else {k: v for k, v in start.items() if k != m.label}
        )
        if not all(_series_matches(base, candidate)) or all(_series_matches(excluded, candidate)):
            continue
        return candidate
    raise Unsatisfiable(
        f"no series matches {base.render()} without also matching {excluded.render()}"
    )


def _series_matches(sel: Selector, labels: Mapping[str, str]) -> list[bool]:
    return [matches(m, labels.get(m.label, "")) for m in sel.matchers]


def series_text(metric: str, labels: Mapping[str, str]) -> str:
    body = ", ".join(f"{k}={quote(v)}" for k, v in sorted(labels.items()))
    return f"{metric}{{{body}}}" if body else metric


@dataclass(frozen=True)
class Counter:
    """One synthetic counter: ``share`` of the traffic that is good, bad or all."""

    metric: str
    labels: dict[str, str]
    share: str  # "bad" | "good" | "all"


@dataclass(frozen=True)
class Phase:
    """``steps`` samples, each adding ``increment`` (counters) or holding ``value`` (gauges)."""

    steps: int
    increment: float = 0.0


def counter_values(phases: Sequence[Phase]) -> str:
    """promtool expanding notation for a counter starting at 0 and growing phase by phase."""
    parts = []
    value = 0.0
    first = True
    for phase in phases:
        if phase.steps <= 0:
            continue
        if first:
            parts.append(f"{_num(value)}+{_num(phase.increment)}x{phase.steps}")
            value += phase.increment * phase.steps
            first = False
        else:
            start = value + phase.increment
            parts.append(f"{_num(start)}+{_num(phase.increment)}x{phase.steps - 1}")
            value = start + phase.increment * (phase.steps - 1)
    return " ".join(parts)


def gauge_values(segments: Sequence[tuple[int, float]]) -> str:
    """promtool notation for a gauge: each (samples, value) segment holds its value."""
    return " ".join(f"{_num(value)}+0x{count - 1}" for count, value in segments if count > 0)


def _num(value: float) -> str:
    text = format(round(value, 9), ".12g")
    return text
