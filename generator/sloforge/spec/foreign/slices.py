"""OpenSLO's time-slice budgeting (``Timeslices``, ``RatioTimeslices``) as a timeslices SLI.

As OpenSLO documents them:

- ``Timeslices``: time is cut into slices of ``timeSliceWindow``; a slice is good when
  its ratio of good to total events is at least ``timeSliceTarget``; the objective's
  ``target`` is the share of good slices. For a ``thresholdMetric`` the events are the
  metric's data points, good when ``value op threshold``.
- ``RatioTimeslices``: the objective's ``target`` is the mean of the slices' good
  ratios (no per-slice threshold).

A ``timeSliceWindow`` given as a bare number is minutes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...model import promql
from ...model.durations import format_duration, parse_duration
from ..loader import PathKey
from .common import WINDOW_TEMPLATE, Node, Unsupported, window_query

METHODS = ("Timeslices", "RatioTimeslices")
_OPS = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}


def slice_length(objective: dict[str, Any], path: PathKey) -> str:
    """``timeSliceWindow`` as a sloforge duration (a number is minutes)."""
    where = (*path, "timeSliceWindow")
    value = objective.get("timeSliceWindow")
    if value is None:
        raise Unsupported(path, "time-slice budgeting needs `timeSliceWindow` (e.g. 1m)")
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise Unsupported(where, "must be a number of minutes or a duration such as 1m")
    text = f"{value}m" if isinstance(value, (int, float)) else value.strip()
    try:
        return format_duration(parse_duration(text))
    except ValueError as exc:
        raise Unsupported(where, str(exc)) from None


def slice_target(objective: dict[str, Any], path: PathKey) -> float:
    """``timeSliceTarget``: the good share a slice needs, in (0, 1]."""
    value = objective.get("timeSliceTarget")
    if value is None:
        raise Unsupported(path, "Timeslices budgeting needs `timeSliceTarget` (e.g. 0.99)")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise Unsupported(
            (*path, "timeSliceTarget"), f"must be a number above 0 and at most 1 (got {value!r})"
        )
    return float(value)


def sliced_sli(
    method: str,
    ratio: Node | None,
    threshold_query: str | None,
    queries: dict[str, str],
    objective: dict[str, Any],
    here: PathKey,
    opath: PathKey | None,
) -> Node:
    """The timeslices SLI of one objective.

    ``ratio`` holds counter selectors ({errors|good, total}) when the source gave them;
    ``queries`` holds ``$window`` queries ({good|bad, total}) otherwise; a thresholdMetric
    gives ``threshold_query`` (a series selector).
    """

    # The objective's fields live in the SLO; None when the SLI is another document.
    def source(key: str) -> PathKey | None:
        return None if opath is None else (*opath, key)

    where = opath if opath is not None else here
    node = Node(here)
    node.put("slice", slice_length(objective, where), source("timeSliceWindow"))
    if threshold_query is not None:
        if method == "RatioTimeslices":
            raise Unsupported(
                where, "RatioTimeslices averages ratios: it needs a ratioMetric, not a threshold"
            )
        node.put("metric", _points_query(threshold_query, objective, where), source("op"))
    elif ratio is not None:
        node["ratio"] = ratio
    else:
        node["metric"] = _ratio_query(queries)
    if method == "RatioTimeslices":
        node["average"] = True
    else:
        node.put("at_least", slice_target(objective, where), source("timeSliceTarget"))
    return Node(here, timeslices=node)


def _points_query(selector: str, objective: dict[str, Any], opath: PathKey) -> str:
    """The good share of a slice's data points: ``value op threshold`` at each evaluation."""
    op = objective.get("op")
    if op not in _OPS or "value" not in objective:
        raise Unsupported(opath, "a threshold objective needs `op` (lt, lte, gt, gte) and `value`")
    value = promql.number(float(objective["value"]))
    return f"avg_over_time(({selector} {_OPS[op]} bool {value})[$slice:])"


def _ratio_query(queries: dict[str, str]) -> str:
    """Good over total events within the slice; no sample when the slice has no traffic."""
    total = _per_slice(queries["total"])
    if "good" in queries:
        return f"({_per_slice(queries['good'])}) / (({total}) > 0)"
    return f"1 - ({_per_slice(queries['bad'])}) / (({total}) > 0)"


def _per_slice(query: str) -> str:
    return query.replace(promql.WINDOW_VARIABLE, promql.SLICE_VARIABLE)


def counter_or_query(query: str, path: PathKey) -> tuple[str | None, str]:
    """(the counter selector, or None) and the ``$window`` query for the same events."""
    if WINDOW_TEMPLATE.search(query):
        windowed = window_query(query, path)
        return summed_rate(windowed), windowed
    try:
        selector = promql.parse_selector(query).render()
    except promql.PromQLError:
        raise Unsupported(
            path, "a Prometheus query must be a counter selector or use {{.window}} for the range"
        ) from None
    return selector, f"sum(rate({selector}[$window]))"


def summed_rate(query: str) -> str | None:
    """The counter of ``sum(rate(counter[$window]))`` (or increase), else None: slices then
    count its events exactly, as a ratio measure."""
    selector = promql.summed_rate(query)
    return selector.render() if selector is not None else None


def ratio_node(
    selectors: Mapping[str, str | None], sources: Mapping[str, PathKey | None], here: PathKey
) -> Node | None:
    """{errors|good, total} when every part is a counter selector, else None."""
    out = Node(here)
    for key, value in selectors.items():
        if value is None:
            return None
        out.put("errors" if key == "bad" else key, value, sources[key])
    return out


def refuse_slice_fields(objective: dict[str, Any], path: PathKey, method: str) -> None:
    for key in ("timeSliceTarget", "timeSliceWindow"):
        if key in objective:
            raise Unsupported(
                (*path, key),
                f"applies to Timeslices or RatioTimeslices budgeting only (budgetingMethod is "
                f"{method})",
            )
