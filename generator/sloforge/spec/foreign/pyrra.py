"""Pyrra (``pyrra.dev/v1alpha1`` ServiceLevelObjective resources).

One resource is one SLO of the service named by ``metadata.name``. Pyrra's
indicators map to sloforge SLIs (a ratio, a classic-histogram latency, or a
probe-style boolean gauge); its default multi-window alerts become explicit
tiers scaled to the SLO's window, as Pyrra scales them.
"""

from __future__ import annotations

import re
from typing import Any

from ...model import promql
from ...model.durations import format_duration, parse_duration
from ..loader import Document, PathKey
from .common import API_VERSION, Node, Refs, Unsupported, mapping, only, text

API = "pyrra.dev/v1alpha1"
TOOL = "Pyrra"

# Pyrra's default multi-window table for a 28-day window: (severity, long, short, factor).
# For other windows Pyrra scales both windows by window / 28d and keeps the factors.
_REFERENCE = 28 * 86400
_TIERS = (
    ("page", 3600, 300, 14),
    ("page", 6 * 3600, 1800, 7),
    ("ticket", 86400, 2 * 3600, 2),
    ("ticket", 4 * 86400, 6 * 3600, 1),
)
_TEAM_LABEL = "pyrra.dev/team"


def convert(document: Document, refs: Refs) -> list[Node]:
    data = document.data
    if data.get("kind") != "ServiceLevelObjective":
        raise Unsupported(
            ("kind",), f"Pyrra kind {data.get('kind')!r} is not a ServiceLevelObjective"
        )
    if data.get("apiVersion") != API:
        raise Unsupported(
            ("apiVersion",),
            f"unsupported Pyrra version {data.get('apiVersion')!r}; sloforge reads {API}",
        )
    # `status` is what a cluster wrote back (kubectl get … -o yaml): state, not intent.
    only(data, {"apiVersion", "kind", "metadata", "spec", "status"}, (), TOOL)
    metadata = mapping(data.get("metadata"), ("metadata",))
    spec = mapping(data.get("spec"), ("spec",))
    only(
        spec,
        {"target", "window", "description", "indicator", "alerting", "partial_response_strategy"},
        ("spec",),
        TOOL,
    )
    name = text(metadata.get("name", ""))
    if "window" not in spec:
        raise Unsupported(("spec", "window"), "Pyrra SLOs need a window (e.g. 4w)")
    window = text(spec["window"])
    sli, kind = _indicator(
        mapping(spec.get("indicator"), ("spec", "indicator")), ("spec", "indicator")
    )
    try:
        target = float(text(spec.get("target")))
    except ValueError:
        raise Unsupported(
            ("spec", "target"), f"must be a percentage like '99.5' (got {spec.get('target')!r})"
        ) from None
    objective = int(target) if target.is_integer() else target
    slo = Node(("spec",))
    slo.put("name", kind, ("spec", "indicator"))
    slo.put("objective", objective, ("spec", "target"))
    slo.put("window", _window(window), ("spec", "window"))
    if spec.get("description"):
        slo["description"] = text(spec["description"])
    slo["sli"] = sli
    slo["alerting"] = _alerting(mapping(spec.get("alerting"), ("spec", "alerting")), window)
    out = Node((), apiVersion=API_VERSION, kind="ServiceLevels")
    out.put("service", name, ("metadata", "name"))
    team = mapping(metadata.get("labels"), ("metadata", "labels")).get(_TEAM_LABEL)
    if team:
        out.put("owner", text(team), ("metadata", "labels", _TEAM_LABEL))
    out.put("slos", [slo], ("spec",))
    return [out]


def _window(window: str) -> str:
    try:
        return format_duration(parse_duration(window))
    except ValueError as exc:
        raise Unsupported(("spec", "window"), str(exc)) from None


_OFFSET = re.compile(r"^(?P<selector>.*\S)\s+offset\s+(?P<offset>\S+)$", re.DOTALL)


def _offset_ratio(body: dict[str, Any], grouping: list[str], path: PathKey) -> Node | None:
    """Pyrra reads a ratio's metrics ``offset`` by a duration (for late-arriving data): as a
    query SLI with the same offset on every window, or None when no metric has one."""
    found = {}
    for key in ("errors", "total"):
        metric = text(mapping(body.get(key), (*path, key)).get("metric", "")).strip()
        match = _OFFSET.match(metric)
        found[key] = (match["selector"], match["offset"]) if match else (metric, None)
    offsets = {offset for _, offset in found.values()}
    if offsets == {None}:
        return None
    if len(offsets) != 1:
        raise Unsupported(path, "errors and total must use the same offset")
    offset = offsets.pop()
    query = Node(path)
    for key, (metric, _) in found.items():
        selector = _selector({"metric": metric}, (*path, key)).render()
        rate = f"rate({selector}[$window] offset {offset})"
        query.put(key, promql.sum_by(grouping, rate), (*path, key, "metric"))
    return Node(path, query=query)


def _selector(value: Any, path: PathKey) -> promql.Selector:
    metric = mapping(value, path).get("metric")
    try:
        return promql.parse_selector(text(metric))
    except promql.PromQLError as exc:
        raise Unsupported((*path, "metric"), str(exc)) from None


def _indicator(indicator: dict[str, Any], path: PathKey) -> tuple[Node, str]:
    if len(indicator) != 1:
        raise Unsupported(
            path, "a Pyrra indicator needs exactly one of ratio, latency or bool_gauge"
        )
    kind, body = next(iter(indicator.items()))
    here = (*path, kind)
    body = mapping(body, here)
    grouping = [str(g) for g in body.get("grouping") or []]
    if kind == "ratio":
        only(body, {"errors", "total", "grouping"}, here, TOOL)
        shifted = _offset_ratio(body, grouping, here)
        if shifted is not None:
            return shifted, "availability"
        ratio = Node(here)
        for key in ("errors", "total"):
            ratio.put(key, _selector(body.get(key), (*here, key)).render(), (*here, key, "metric"))
        if grouping:
            ratio.put("group_by", grouping, (*here, "grouping"))
        return Node(path, ratio=ratio), "availability"
    if kind == "latency":
        only(body, {"success", "total", "grouping"}, here, TOOL)
        success = _selector(body.get("success"), (*here, "success"))
        total = _selector(body.get("total"), (*here, "total"))
        return _latency(success, total, grouping, here), "latency"
    if kind == "bool_gauge":
        only(body, {"metric", "grouping"}, here, TOOL)
        return _bool_gauge(_selector(body, here), grouping, here), "probe"
    if kind == "latencyNative":
        raise Unsupported(
            here,
            "native-histogram latency SLOs are not supported; use a classic histogram (`latency`)",
        )
    raise Unsupported(
        here, f"Pyrra indicator `{kind}` is not supported (ratio, latency and bool_gauge are)"
    )


def _latency(
    success: promql.Selector, total: promql.Selector, grouping: list[str], path: PathKey
) -> Node:
    """A classic-histogram latency SLI when the bucket and count series match, else good/total."""
    le = [m for m in success.matchers if m.label == "le"]
    rest = {m for m in success.matchers if m.label != "le"}
    base = success.metric.removesuffix("_bucket")
    if (
        len(le) == 1
        and le[0].op == "="
        and success.metric.endswith("_bucket")
        and total.metric == f"{base}_count"
        and rest == set(total.matchers)
    ):
        latency = Node(path)
        latency.put("histogram", base, (*path, "success", "metric"))
        matchers = promql.Selector("", total.matchers).render() if total.matchers else ""
        latency.put("matchers", matchers, (*path, "total", "metric"))
        latency.put("threshold", float(le[0].value), (*path, "success", "metric"))
        if grouping:
            latency.put("group_by", grouping, (*path, "grouping"))
        return Node(path, latency=latency)
    ratio = Node(path)
    ratio.put("good", success.render(), (*path, "success", "metric"))
    ratio.put("total", total.render(), (*path, "total", "metric"))
    if grouping:
        ratio.put("group_by", grouping, (*path, "grouping"))
    return Node(path, ratio=ratio)


def _bool_gauge(metric: promql.Selector, grouping: list[str], path: PathKey) -> Node:
    if not grouping:
        probe = Node(path)
        probe.put("probe", metric.render(), (*path, "metric"))
        return probe
    sel, by = metric.render(), promql.by(grouping)
    query = Node(
        (*path, "metric"),
        errors=f"sum{by} (count_over_time({sel}[$window]) - sum_over_time({sel}[$window]))",
        total=f"sum{by} (count_over_time({sel}[$window]))",
    )
    return Node(path, query=query)


def _alerting(alerting: dict[str, Any], window: str) -> Node:
    path: PathKey = ("spec", "alerting")
    only(alerting, {"name", "disabled", "burnrates", "absent"}, path, TOOL)
    out = Node(path)
    if alerting.get("name"):
        out["name"] = text(alerting["name"])
    if alerting.get("disabled") or alerting.get("burnrates") is False:
        out["page"] = {"disable": True}
        out["ticket"] = {"disable": True}
        return out
    scale = parse_duration(window) / _REFERENCE
    tiers = [
        {
            "severity": severity,
            "long_window": format_duration(max(60, round(long * scale))),
            "short_window": format_duration(max(60, round(short * scale))),
            "burn_rate": factor,
        }
        for severity, long, short, factor in _TIERS
    ]
    out.put("tiers", tiers, ("spec", "window"))  # scaled from the window
    return out
