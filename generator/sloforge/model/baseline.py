"""Baseline alerts: a metric judged against its own history, through recording rules.

Two methods (docs/alerts.md):

- seasonal: the mean of the metric at the same time 1, 2, ... N weeks ago (``offset 1w`` ...),
  recorded as ``baseline:seasonal_mean:<N>w``; the alert fires when the metric is more than
  ``tolerance`` away from it, as a factor (``* 0.7`` for 30% below);
- statistical: ``avg_over_time`` and ``stddev_over_time`` of the metric over a window ending
  ``lag`` (the alert's ``for``) ago, recorded as ``baseline:mean:<window>`` and
  ``baseline:stddev:<window>``; the alert fires beyond mean plus or minus k standard deviations.

Each recording keeps the metric's labels and adds ``baseline`` (the alert's name) and
``slo_service``, so two alerts on one metric never write the same series; the alert's
comparisons ignore those two labels. With a minimum, the alert only fires while the recorded
mean is at or above it. Plain PromQL of Prometheus 2.x and 3.x: offsets, ``*_over_time``,
``ignoring``.
"""

from __future__ import annotations

from . import conventions as names
from .domain import Baseline, RecordingRule
from .durations import format_duration
from .promql import Matcher, number

WEEK = 7 * 86400


def scope(service: str, alert: str) -> tuple[tuple[str, str], ...]:
    """The labels the baseline's recordings add to the metric's."""
    return ((names.LABEL_BASELINE, alert), (names.LABEL_SERVICE, service))


def _ignoring() -> str:
    return f"ignoring ({names.LABEL_BASELINE}, {names.LABEL_SERVICE})"


def _recorded(record: str, service: str, alert: str) -> str:
    matchers = ", ".join(Matcher(k, "=", v).render() for k, v in scope(service, alert))
    return f"{record}{{{matchers}}}"


def mean_record(b: Baseline) -> str:
    """The record holding the expected value: the seasonal mean, or the window's mean."""
    if b.seasonal:
        return names.seasonal_mean_record(b.weeks)
    return names.baseline_mean_record(b.window)


def recordings(service: str, alert: str, b: Baseline) -> tuple[RecordingRule, ...]:
    """The recording rules the alert reads, labelled with ``scope``."""
    labels = scope(service, alert)
    metric = b.metric.render()
    if b.seasonal:
        past = [f"{metric} offset {w}w" for w in range(1, b.weeks + 1)]
        expr = past[0] if b.weeks == 1 else f"({' + '.join(past)}) / {b.weeks}"
        return (RecordingRule(names.seasonal_mean_record(b.weeks), expr, labels),)
    offset = f" offset {format_duration(b.lag)}" if b.lag else ""
    window = f"[{format_duration(b.window)}]{offset}"
    return (
        RecordingRule(
            names.baseline_mean_record(b.window), f"avg_over_time({metric}{window})", labels
        ),
        RecordingRule(
            names.baseline_stddev_record(b.window), f"stddev_over_time({metric}{window})", labels
        ),
    )


def bounds(service: str, alert: str, b: Baseline) -> dict[str, str]:
    """{"<" or ">": the PromQL of the bound the metric is compared with}, per direction."""
    mean = _recorded(mean_record(b), service, alert)
    wanted = {"below": ("<",), "above": (">",), "both": ("<", ">")}[b.direction]
    out = {}
    for op in wanted:
        if b.seasonal:
            factor = 1 - b.tolerance if op == "<" else 1 + b.tolerance
            out[op] = f"{mean} * {number(round(factor, 12))}"
        else:
            stddev = _recorded(names.baseline_stddev_record(b.window), service, alert)
            sign = "-" if op == "<" else "+"
            out[op] = f"({mean} {sign} {number(b.deviations)} * {stddev})"
    return out


def alert_expr(service: str, alert: str, b: Baseline) -> str:
    """The metric beyond its bound(s), while the baseline is at least the minimum."""
    metric = b.metric.render()
    sides = [
        f"{metric} {op} {_ignoring()} {bound}" for op, bound in bounds(service, alert, b).items()
    ]
    expr = sides[0] if len(sides) == 1 else "(\n  " + "\nor\n  ".join(sides) + "\n)"
    if b.minimum is not None:
        mean = _recorded(mean_record(b), service, alert)
        expr += f"\nand {_ignoring()} {mean} >= {number(b.minimum)}"
    return expr


def describe(b: Baseline) -> str:
    """The baseline in words, for summaries, runbooks and dashboards."""
    word = {"below": "below", "above": "above", "both": "away from"}[b.direction]
    if b.seasonal:
        weeks = "week" if b.weeks == 1 else f"{b.weeks} weeks"
        what = f"more than {number(round(b.tolerance * 100, 6))}% {word} its mean at this hour "
        what += f"over the past {weeks}"
    else:
        what = (
            f"more than {number(b.deviations)} standard deviations {word} its mean over "
            f"{format_duration(b.window)}"
        )
        if b.lag:
            what += f" (ending {format_duration(b.lag)} ago)"
    if b.minimum is not None:
        what += f", while that mean is at least {number(b.minimum)}"
    return what
