"""Foreign SLO documents in: Sloth, Pyrra and OpenSLO converted to sloforge/v1 data.

Each converter takes one loaded document and returns plain sloforge/v1 dicts,
which the validator then checks like any hand-written document. Whatever a
converter cannot express faithfully is an ``Unsupported`` error naming the field
and the reason; nothing is dropped silently.

Facts about the source formats (field names, defaults) come from their public
documentation; tests/fixtures/foreign holds small documents of each format.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..model import conventions as names
from ..model import promql
from ..model.durations import format_duration, parse_duration
from .loader import Document, PathKey, format_path

SLOTH_PROMETHEUS = "prometheus/v1"
SLOTH_KUBERNETES = "sloth.slok.dev/v1"
PYRRA = "pyrra.dev/v1alpha1"
OPENSLO_V1 = "openslo/v1"
OPENSLO_V1ALPHA = "openslo/v1alpha"

Converted = list[dict[str, Any]]


class Unsupported(ValueError):
    """A foreign document (or a part of it) that sloforge cannot express; ``path`` locates it."""

    def __init__(self, path: PathKey, message: str) -> None:
        self.path = path
        where = format_path(path)
        super().__init__(f"{where}: {message}" if where else message)


# --- shared helpers -----------------------------------------------------------------

_WINDOW_TEMPLATE = re.compile(r"\{\{\s*\.window\s*\}\}")


def _window_query(text: Any, path: PathKey) -> str:
    """A Sloth-style query: ``{{.window}}`` becomes sloforge's ``$window``."""
    if not isinstance(text, str) or not text.strip():
        raise Unsupported(path, "must be a PromQL query")
    query = _WINDOW_TEMPLATE.sub(promql.WINDOW_VARIABLE, text.strip())
    if "{{" in query:
        raise Unsupported(
            path, "uses a Go template other than {{.window}}, which sloforge cannot evaluate"
        )
    if promql.WINDOW_VARIABLE not in query:
        raise Unsupported(
            path, "has no {{.window}} range; sloforge needs one to compute each alert window"
        )
    return query


def _mapping(value: Any, path: PathKey) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Unsupported(path, "must be a mapping")
    return value


def _only(data: dict[str, Any], allowed: set[str], path: PathKey, tool: str) -> None:
    """Refuse fields this converter does not understand instead of dropping them."""
    for key in data:
        if key not in allowed:
            raise Unsupported(
                (*path, key), f"{tool} field `{key}` is not understood by sloforge's importer"
            )


def _labels(value: Any, path: PathKey) -> dict[str, str]:
    return {str(k): _text(v) for k, v in _mapping(value, path).items()}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _pick(data: dict[str, Any], snake: str) -> Any:
    """Sloth spells fields in snake_case (prometheus/v1) or camelCase (Kubernetes CRD)."""
    if snake in data:
        return data[snake]
    return data.get(_camel_key(snake))


def _camel_key(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _both(*snake: str) -> set[str]:
    return {k for s in snake for k in (s, _camel_key(s))}


def _raw_ratio_sli(query: str) -> dict[str, Any]:
    """An error-ratio query as a query SLI: the ratio over a constant 1 where the ratio has data.

    ``0 * ratio + 1`` keeps the ratio's labels and its absence when there is no data, so no
    traffic stays no data instead of becoming a zero ratio.
    """
    return {"query": {"errors": f"({query})", "total": f"0 * ({query}) + 1"}}


# --- Sloth ------------------------------------------------------------------------

# Sloth's own rule-generation stages; sloforge already does what they do.
_SLOTH_CORE_PLUGINS = re.compile(
    r"^sloth\.dev/core/(sli_rules|metadata_rules|alert_rules|debug|noop)/v\d+$"
)


def from_sloth(document: Document) -> Converted:
    data = document.data
    if data.get("apiVersion") == SLOTH_KUBERNETES:
        if data.get("kind") != "PrometheusServiceLevel":
            raise Unsupported(
                ("kind",), f"Sloth kind {data.get('kind')!r} is not a PrometheusServiceLevel"
            )
        _only(data, {"apiVersion", "kind", "metadata", "spec"}, (), "Sloth")
        return [_sloth_service(_mapping(data.get("spec"), ("spec",)), ("spec",))]
    version = data.get("version")
    if version != SLOTH_PROMETHEUS:
        raise Unsupported(
            ("version",),
            f"unsupported Sloth version {version!r}; sloforge reads "
            f"{SLOTH_PROMETHEUS} and {SLOTH_KUBERNETES}",
        )
    rest = {k: v for k, v in data.items() if k != "version"}
    return [_sloth_service(rest, ())]


def _sloth_service(spec: dict[str, Any], path: PathKey) -> dict[str, Any]:
    _only(spec, {"service", "labels", "slos"} | _both("slo_plugins"), path, "Sloth")
    _sloth_plugins(_pick(spec, "slo_plugins"), (*path, "slo_plugins"))
    slos = spec.get("slos") or []
    if not isinstance(slos, list) or not slos:
        raise Unsupported((*path, "slos"), "a Sloth service needs at least one SLO")
    out: dict[str, Any] = {
        "apiVersion": "sloforge/v1",
        "kind": "ServiceLevels",
        "service": _text(spec.get("service", "")),
    }
    labels = _labels(spec.get("labels"), (*path, "labels"))
    # sloforge writes the owner as the `team` label on every rule and alert: the same result.
    team = labels.pop(names.LABEL_TEAM, None)
    if team:
        out["owner"] = team
    if labels:
        out["labels"] = labels
    out["slos"] = [
        _sloth_slo(_mapping(s, (*path, "slos", i)), (*path, "slos", i)) for i, s in enumerate(slos)
    ]
    return out


def _sloth_plugins(value: Any, path: PathKey) -> None:
    chain = _mapping(value, path).get("chain") or []
    for i, plugin in enumerate(chain):
        plugin_id = _mapping(plugin, (*path, "chain", i)).get("id", "")
        if not _SLOTH_CORE_PLUGINS.match(str(plugin_id)):
            raise Unsupported(
                (*path, "chain", i, "id"),
                f"Sloth SLO plugin {plugin_id!r} changes the generated rules in Go code "
                f"sloforge cannot run",
            )


def _sloth_slo(slo: dict[str, Any], path: PathKey) -> dict[str, Any]:
    _only(
        slo,
        {"name", "objective", "description", "labels", "sli", "alerting", "plugins"},
        path,
        "Sloth",
    )
    _sloth_plugins(slo.get("plugins"), (*path, "plugins"))
    out: dict[str, Any] = {"name": _text(slo.get("name", "")), "objective": slo.get("objective")}
    if slo.get("description"):
        out["description"] = _text(slo["description"])
    labels = _labels(slo.get("labels"), (*path, "labels"))
    if labels:
        out["labels"] = labels
    out["sli"], exact = _sloth_sli(_mapping(slo.get("sli"), (*path, "sli")), (*path, "sli"))
    if exact:
        # Sloth computes every window straight from the query; a raw ratio cannot be summed.
        out["strategy"] = "exact"
    alerting = _sloth_alerting(
        _mapping(slo.get("alerting"), (*path, "alerting")), (*path, "alerting")
    )
    if alerting:
        out["alerting"] = alerting
    return out


def _sloth_sli(sli: dict[str, Any], path: PathKey) -> tuple[dict[str, Any], bool]:
    if "plugin" in sli:
        plugin_id = _mapping(sli["plugin"], (*path, "plugin")).get("id", "")
        raise Unsupported(
            (*path, "plugin"),
            f"Sloth SLI plugin {plugin_id!r} is Go code sloforge cannot run; write "
            f"its queries as `events`",
        )
    _only(sli, {"events", "raw"}, path, "Sloth")
    if "events" in sli:
        events = _mapping(sli["events"], (*path, "events"))
        _only(events, _both("error_query", "total_query"), (*path, "events"), "Sloth")
        errors = _window_query(_pick(events, "error_query"), (*path, "events", "error_query"))
        total = _window_query(_pick(events, "total_query"), (*path, "events", "total_query"))
        return {"query": {"errors": errors, "total": total}}, False
    if "raw" in sli:
        raw = _mapping(sli["raw"], (*path, "raw"))
        _only(raw, _both("error_ratio_query"), (*path, "raw"), "Sloth")
        query = _window_query(_pick(raw, "error_ratio_query"), (*path, "raw", "error_ratio_query"))
        return _raw_ratio_sli(query), True
    raise Unsupported(path, "a Sloth SLI needs `events` or `raw`")


def _sloth_alerting(alerting: dict[str, Any], path: PathKey) -> dict[str, Any]:
    _only(
        alerting,
        {"name", "labels", "annotations"} | _both("page_alert", "ticket_alert"),
        path,
        "Sloth",
    )
    out: dict[str, Any] = {}
    if "name" in alerting and not alerting["name"]:
        raise Unsupported((*path, "name"), "is empty; give the alert a name or leave the field out")
    if alerting.get("name"):
        out["name"] = _text(alerting["name"])
    for key in ("labels", "annotations"):
        values = _labels(alerting.get(key), (*path, key))
        if values:
            out[key] = values
    for sloth_key, ours in (("page_alert", "page"), ("ticket_alert", "ticket")):
        policy = _sloth_policy(
            _mapping(_pick(alerting, sloth_key), (*path, sloth_key)), (*path, sloth_key)
        )
        if policy:
            out[ours] = policy
    return out


def _sloth_policy(policy: dict[str, Any], path: PathKey) -> dict[str, Any]:
    _only(policy, {"disable", "labels", "annotations"}, path, "Sloth")
    out: dict[str, Any] = {}
    labels = _labels(policy.get("labels"), (*path, "labels"))
    # Sloth users route on a `severity` label; sloforge owns that label and takes it as
    # the tier's severity.
    severity = labels.pop(names.LABEL_SEVERITY, None)
    if severity:
        out["severity"] = severity
    if labels:
        out["labels"] = labels
    annotations = _labels(policy.get("annotations"), (*path, "annotations"))
    if annotations:
        out["annotations"] = annotations
    if policy.get("disable"):
        out["disable"] = True
    return out


# --- Pyrra ------------------------------------------------------------------------

# Pyrra's default multi-window table for a 28-day window: (severity, long, short, factor).
# For other windows Pyrra scales both windows by window / 28d and keeps the factors.
_PYRRA_REFERENCE = 28 * 86400
_PYRRA_TIERS = (
    ("page", 3600, 300, 14),
    ("page", 6 * 3600, 1800, 7),
    ("ticket", 86400, 2 * 3600, 2),
    ("ticket", 4 * 86400, 6 * 3600, 1),
)
_PYRRA_TEAM_LABEL = "pyrra.dev/team"


def from_pyrra(document: Document) -> Converted:
    data = document.data
    if data.get("kind") != "ServiceLevelObjective":
        raise Unsupported(
            ("kind",), f"Pyrra kind {data.get('kind')!r} is not a ServiceLevelObjective"
        )
    if data.get("apiVersion") != PYRRA:
        raise Unsupported(
            ("apiVersion",),
            f"unsupported Pyrra version {data.get('apiVersion')!r}; sloforge reads {PYRRA}",
        )
    _only(data, {"apiVersion", "kind", "metadata", "spec"}, (), "Pyrra")
    metadata = _mapping(data.get("metadata"), ("metadata",))
    spec = _mapping(data.get("spec"), ("spec",))
    _only(
        spec,
        {"target", "window", "description", "indicator", "alerting", "partial_response_strategy"},
        ("spec",),
        "Pyrra",
    )
    name = _text(metadata.get("name", ""))
    if "window" not in spec:
        raise Unsupported(("spec", "window"), "Pyrra SLOs need a window (e.g. 4w)")
    window = _text(spec["window"])
    sli, kind = _pyrra_indicator(
        _mapping(spec.get("indicator"), ("spec", "indicator")), ("spec", "indicator")
    )
    try:
        target = float(_text(spec.get("target")))
    except ValueError:
        raise Unsupported(
            ("spec", "target"), f"must be a percentage like '99.5' (got {spec.get('target')!r})"
        ) from None
    objective = int(target) if target.is_integer() else target
    slo: dict[str, Any] = {"name": kind, "objective": objective, "window": _pyrra_window(window)}
    if spec.get("description"):
        slo["description"] = _text(spec["description"])
    slo["sli"] = sli
    slo["alerting"] = _pyrra_alerting(_mapping(spec.get("alerting"), ("spec", "alerting")), window)
    out: dict[str, Any] = {"apiVersion": "sloforge/v1", "kind": "ServiceLevels", "service": name}
    team = _mapping(metadata.get("labels"), ("metadata", "labels")).get(_PYRRA_TEAM_LABEL)
    if team:
        out["owner"] = _text(team)
    out["slos"] = [slo]
    return [out]


def _pyrra_window(window: str) -> str:
    try:
        return format_duration(parse_duration(window))
    except ValueError as exc:
        raise Unsupported(("spec", "window"), str(exc)) from None


def _selector(value: Any, path: PathKey) -> promql.Selector:
    metric = _mapping(value, path).get("metric")
    try:
        return promql.parse_selector(_text(metric))
    except promql.PromQLError as exc:
        raise Unsupported((*path, "metric"), str(exc)) from None


def _pyrra_indicator(indicator: dict[str, Any], path: PathKey) -> tuple[dict[str, Any], str]:
    if len(indicator) != 1:
        raise Unsupported(
            path, "a Pyrra indicator needs exactly one of ratio, latency or bool_gauge"
        )
    kind, body = next(iter(indicator.items()))
    body = _mapping(body, (*path, kind))
    here = (*path, kind)
    grouping = [str(g) for g in body.get("grouping") or []]
    if kind == "ratio":
        _only(body, {"errors", "total", "grouping"}, here, "Pyrra")
        ratio: dict[str, Any] = {
            "errors": _selector(body.get("errors"), (*here, "errors")).render(),
            "total": _selector(body.get("total"), (*here, "total")).render(),
        }
        if grouping:
            ratio["group_by"] = grouping
        return {"ratio": ratio}, "availability"
    if kind == "latency":
        _only(body, {"success", "total", "grouping"}, here, "Pyrra")
        success = _selector(body.get("success"), (*here, "success"))
        total = _selector(body.get("total"), (*here, "total"))
        return _pyrra_latency(success, total, grouping), "latency"
    if kind == "bool_gauge":
        _only(body, {"metric", "grouping"}, here, "Pyrra")
        return _pyrra_bool_gauge(_selector(body, here), grouping), "probe"
    if kind == "latencyNative":
        raise Unsupported(
            here,
            "native-histogram latency SLOs are not supported; use a classic histogram (`latency`)",
        )
    raise Unsupported(
        here, f"Pyrra indicator `{kind}` is not supported (ratio, latency and bool_gauge are)"
    )


def _pyrra_latency(
    success: promql.Selector, total: promql.Selector, grouping: list[str]
) -> dict[str, Any]:
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
        latency: dict[str, Any] = {
            "histogram": base,
            "matchers": promql.Selector("", total.matchers).render() if total.matchers else "",
            "threshold": float(le[0].value),
        }
        if grouping:
            latency["group_by"] = grouping
        return {"latency": latency}
    ratio: dict[str, Any] = {"good": success.render(), "total": total.render()}
    if grouping:
        ratio["group_by"] = grouping
    return {"ratio": ratio}


def _pyrra_bool_gauge(metric: promql.Selector, grouping: list[str]) -> dict[str, Any]:
    if not grouping:
        return {"probe": metric.render()}
    sel, by = metric.render(), promql.by(grouping)
    return {
        "query": {
            "errors": f"sum{by} (count_over_time({sel}[$window]) - sum_over_time({sel}[$window]))",
            "total": f"sum{by} (count_over_time({sel}[$window]))",
        }
    }


def _pyrra_alerting(alerting: dict[str, Any], window: str) -> dict[str, Any]:
    _only(alerting, {"name", "disabled", "burnrates", "absent"}, ("spec", "alerting"), "Pyrra")
    out: dict[str, Any] = {}
    if alerting.get("name"):
        out["name"] = _text(alerting["name"])
    if alerting.get("disabled") or alerting.get("burnrates") is False:
        out["page"] = {"disable": True}
        out["ticket"] = {"disable": True}
        return out
    scale = parse_duration(window) / _PYRRA_REFERENCE
    out["tiers"] = [
        {
            "severity": severity,
            "long_window": format_duration(max(60, round(long * scale))),
            "short_window": format_duration(max(60, round(short * scale))),
            "burn_rate": factor,
        }
        for severity, long, short, factor in _PYRRA_TIERS
    ]
    return out


# --- OpenSLO ----------------------------------------------------------------------

_OPENSLO_PARTS = {
    "Service",
    "SLI",
    "AlertPolicy",
    "AlertCondition",
    "AlertNotificationTarget",
    "DataSource",
}
_PAGE_SEVERITIES = {"page", "critical", "high"}
_UNITS = {"minute": "m", "hour": "h", "day": "d", "week": "w"}


def from_openslo(document: Document) -> Converted:
    data = document.data
    version, kind = data.get("apiVersion"), data.get("kind")
    if version not in (OPENSLO_V1, OPENSLO_V1ALPHA):
        raise Unsupported(
            ("apiVersion",), f"unsupported OpenSLO version {version!r}; sloforge reads {OPENSLO_V1}"
        )
    if kind in _OPENSLO_PARTS:
        # Only ever read through an SLO that inlines it; alone it compiles to nothing.
        return []
    if kind != "SLO":
        raise Unsupported(("kind",), f"OpenSLO kind {kind!r} is not supported")
    metadata = _mapping(data.get("metadata"), ("metadata",))
    spec = _mapping(data.get("spec"), ("spec",))
    if version == OPENSLO_V1ALPHA:
        return [_openslo_v1alpha(metadata, spec)]
    return [_openslo_v1(metadata, spec)]


def openslo_is_part(document: Document) -> bool:
    """An OpenSLO document that holds no SLO of its own (Service, SLI, AlertPolicy…)."""
    return isinstance(document.data, dict) and document.data.get("kind") in _OPENSLO_PARTS


def _openslo_budgeting(spec: dict[str, Any]) -> None:
    method = spec.get("budgetingMethod", "Occurrences")
    if method != "Occurrences":
        raise Unsupported(
            ("spec", "budgetingMethod"),
            f"{method} budgeting is not supported; sloforge budgets Occurrences "
            f"(good events over all events)",
        )


def _openslo_service(
    spec: dict[str, Any], metadata: dict[str, Any], slos: list[dict[str, Any]]
) -> dict[str, Any]:
    service = _text(spec.get("service") or metadata.get("name", ""))
    return {"apiVersion": "sloforge/v1", "kind": "ServiceLevels", "service": service, "slos": slos}


def _openslo_v1(metadata: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    _only(
        spec,
        {
            "description",
            "service",
            "indicator",
            "indicatorRef",
            "timeWindow",
            "budgetingMethod",
            "objectives",
            "alertPolicies",
        },
        ("spec",),
        "OpenSLO",
    )
    if "indicatorRef" in spec:
        raise Unsupported(
            ("spec", "indicatorRef"), "refers to an SLI document; inline the SLI as `indicator`"
        )
    window = _openslo_window(spec.get("timeWindow"), ("spec", "timeWindow"))
    _openslo_budgeting(spec)
    indicator = _mapping(
        _mapping(spec.get("indicator"), ("spec", "indicator")).get("spec"),
        ("spec", "indicator", "spec"),
    )
    objectives = spec.get("objectives") or []
    if not isinstance(objectives, list) or not objectives:
        raise Unsupported(("spec", "objectives"), "an SLO needs at least one objective")
    alerting = _openslo_alerting(spec.get("alertPolicies"), ("spec", "alertPolicies"))
    name = _text(metadata.get("name", ""))
    slos = []
    for i, objective in enumerate(objectives):
        path: PathKey = ("spec", "objectives", i)
        objective = _mapping(objective, path)
        slo: dict[str, Any] = {
            "name": _objective_name(name, objective, i, len(objectives)),
            "objective": _openslo_target(objective, path),
            "window": window,
            "sli": _openslo_indicator(indicator, objective, ("spec", "indicator", "spec"), path),
        }
        if spec.get("description"):
            slo["description"] = _text(spec["description"])
        if alerting:
            slo["alerting"] = alerting
        slos.append(slo)
    return _openslo_service(spec, metadata, slos)


def _objective_name(name: str, objective: dict[str, Any], index: int, count: int) -> str:
    if count == 1:
        return name
    label = _slug(_text(objective.get("name") or objective.get("displayName") or "")) or str(
        index + 1
    )
    return f"{name}-{label}"


def _openslo_target(objective: dict[str, Any], path: PathKey) -> float:
    if "targetPercent" in objective:
        return float(objective["targetPercent"])
    if "target" not in objective:
        raise Unsupported(path, "an objective needs `target` (a ratio such as 0.999)")
    for key in ("timeSliceTarget", "timeSliceWindow"):
        if key in objective:
            raise Unsupported((*path, key), "timeslice objectives are not supported")
    return round(float(objective["target"]) * 100, 10)


def _openslo_window(value: Any, path: PathKey) -> str:
    windows = value if isinstance(value, list) else []
    if len(windows) != 1:
        raise Unsupported(path, "exactly one time window is required")
    window = _mapping(windows[0], (*path, 0))
    if not window.get("isRolling", False):
        raise Unsupported(
            (*path, 0, "isRolling"),
            "calendar-aligned windows are not supported; use a rolling window",
        )
    try:
        return format_duration(parse_duration(_text(window.get("duration", ""))))
    except ValueError as exc:
        raise Unsupported((*path, 0, "duration"), str(exc)) from None


def _prometheus_query(source: Any, path: PathKey) -> str:
    """The PromQL of a metricSource; refuses non-Prometheus sources."""
    metric_source = _mapping(_mapping(source, path).get("metricSource"), (*path, "metricSource"))
    kind = _text(metric_source.get("type", ""))
    if kind.lower() != "prometheus":
        raise Unsupported(
            (*path, "metricSource", "type"), f"metric source {kind!r} is not Prometheus"
        )
    query = _mapping(metric_source.get("spec"), (*path, "metricSource", "spec")).get("query")
    if not isinstance(query, str) or not query.strip():
        raise Unsupported((*path, "metricSource", "spec", "query"), "needs a PromQL query")
    return query.strip()


def _counter_or_window(query: str, path: PathKey) -> str:
    """A counter selector becomes a rate; a ``{{.window}}`` query is kept as is."""
    if _WINDOW_TEMPLATE.search(query):
        return _window_query(query, path)
    try:
        selector = promql.parse_selector(query)
    except promql.PromQLError:
        raise Unsupported(
            path, "a Prometheus query must be a counter selector or use {{.window}} for the range"
        ) from None
    return f"sum(rate({selector.render()}[$window]))"


def _openslo_indicator(
    indicator: dict[str, Any], objective: dict[str, Any], path: PathKey, opath: PathKey
) -> dict[str, Any]:
    if "ratioMetric" in indicator:
        ratio = _mapping(indicator["ratioMetric"], (*path, "ratioMetric"))
        here = (*path, "ratioMetric")
        _only(ratio, {"counter", "good", "bad", "total", "raw", "rawType"}, here, "OpenSLO")
        if "raw" in ratio:
            query = _window_query(_prometheus_query(ratio["raw"], (*here, "raw")), (*here, "raw"))
            if ratio.get("rawType", "failure") == "success":
                query = f"1 - ({query})"
            return _raw_ratio_sli(query)
        if ratio.get("counter") is False:
            raise Unsupported(
                (*here, "counter"), "gauge ratio metrics (counter: false) are not supported"
            )
        total = _counter_or_window(
            _prometheus_query(ratio.get("total"), (*here, "total")), (*here, "total")
        )
        if "bad" in ratio:
            errors = _counter_or_window(
                _prometheus_query(ratio["bad"], (*here, "bad")), (*here, "bad")
            )
        elif "good" in ratio:
            good = _counter_or_window(
                _prometheus_query(ratio["good"], (*here, "good")), (*here, "good")
            )
            errors = f"({total}) - ({good})"
        else:
            raise Unsupported(here, "a ratio metric needs `good` or `bad`")
        return {"query": {"errors": errors, "total": total}}
    if "thresholdMetric" in indicator:
        return _openslo_threshold(
            indicator["thresholdMetric"], objective, (*path, "thresholdMetric"), opath
        )
    raise Unsupported(path, "an indicator needs `ratioMetric` or `thresholdMetric`")


_NEGATED = {"lt": ">=", "lte": ">", "gt": "<=", "gte": "<"}


def _openslo_threshold(
    metric: Any, objective: dict[str, Any], path: PathKey, opath: PathKey
) -> dict[str, Any]:
    """Good samples are those where ``metric op value``; the SLI counts samples that are not."""
    query = _prometheus_query(metric, path)
    op = objective.get("op")
    if op not in _NEGATED or "value" not in objective:
        raise Unsupported(opath, "a threshold objective needs `op` (lt, lte, gt, gte) and `value`")
    try:
        selector = promql.parse_selector(query).render()
    except promql.PromQLError:
        raise Unsupported(
            (*path, "metricSource", "spec", "query"), "a threshold metric must be a series selector"
        ) from None
    bad = f"{selector} {_NEGATED[op]} {promql.number(float(objective['value']))}"
    return {
        "query": {
            "errors": f"sum(count_over_time(({bad})[$window:])) or vector(0)",
            "total": f"sum(count_over_time({selector}[$window]))",
        }
    }


def _openslo_alerting(value: Any, path: PathKey) -> dict[str, Any]:
    """Inline burn-rate alert policies become tiers.

    lookbackWindow is the long window, alertAfter the short one.
    """
    policies = value if isinstance(value, list) else []
    tiers = []
    for i, policy in enumerate(policies):
        here = (*path, i)
        if not isinstance(policy, dict) or "alertPolicyRef" in policy or "kind" not in policy:
            raise Unsupported(
                here, "refers to an AlertPolicy document; inline the policy in the SLO"
            )
        conditions = _mapping(policy.get("spec"), (*here, "spec")).get("conditions") or []
        for j, condition in enumerate(conditions):
            tiers.append(_openslo_tier(condition, (*here, "spec", "conditions", j)))
    if not tiers:
        return {}
    return {"tiers": tiers}


def _openslo_tier(condition: Any, path: PathKey) -> dict[str, Any]:
    if not isinstance(condition, dict) or "conditionRef" in condition or "spec" not in condition:
        raise Unsupported(path, "refers to an AlertCondition document; inline the condition")
    spec = _mapping(condition["spec"], (*path, "spec"))
    rule = _mapping(spec.get("condition"), (*path, "spec", "condition"))
    here = (*path, "spec", "condition")
    if rule.get("kind") != "burnrate":
        raise Unsupported(
            (*here, "kind"), f"condition kind {rule.get('kind')!r} is not supported (burnrate is)"
        )
    if rule.get("op") not in ("gt", "gte"):
        raise Unsupported(
            (*here, "op"), "a burn-rate condition must fire above its threshold (op gt or gte)"
        )
    try:
        long = parse_duration(_text(rule.get("lookbackWindow", "")))
        short = parse_duration(_text(rule["alertAfter"])) if rule.get("alertAfter") else long // 12
    except ValueError as exc:
        raise Unsupported(here, str(exc)) from None
    if short >= long:
        raise Unsupported((*here, "alertAfter"), "must be shorter than lookbackWindow")
    severity = _text(spec.get("severity", "page")).lower()
    return {
        "severity": "page" if severity in _PAGE_SEVERITIES else "ticket",
        "long_window": format_duration(long),
        "short_window": format_duration(short),
        "burn_rate": float(rule.get("threshold", 0)),
    }


def _openslo_v1alpha(metadata: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """The v1alpha shape Sloth reads: objectives with ratioMetrics and ``{{.window}}`` queries."""
    _only(
        spec,
        {"service", "description", "budgetingMethod", "objectives", "timeWindows"},
        ("spec",),
        "OpenSLO",
    )
    _openslo_budgeting(spec)
    windows = spec.get("timeWindows") or [{"count": 30, "unit": "Day"}]
    first = _mapping(windows[0], ("spec", "timeWindows", 0))
    unit = _UNITS.get(_text(first.get("unit", "")).lower())
    if len(windows) != 1 or unit is None or first.get("isRolling") is False:
        raise Unsupported(
            ("spec", "timeWindows"),
            "exactly one rolling window in minutes, hours, days or weeks is required",
        )
    window = format_duration(parse_duration(f"{first.get('count')}{unit}"))
    name = _text(metadata.get("name", ""))
    objectives = spec.get("objectives") or []
    slos = []
    for i, objective in enumerate(objectives):
        path: PathKey = ("spec", "objectives", i)
        objective = _mapping(objective, path)
        ratio = _mapping(objective.get("ratioMetrics"), (*path, "ratioMetrics"))
        if not ratio:
            raise Unsupported(path, "only ratioMetrics objectives are supported")
        good = _window_query(
            _mapping(ratio.get("good"), (*path, "ratioMetrics", "good")).get("query"),
            (*path, "ratioMetrics", "good"),
        )
        total = _window_query(
            _mapping(ratio.get("total"), (*path, "ratioMetrics", "total")).get("query"),
            (*path, "ratioMetrics", "total"),
        )
        slo = {
            "name": f"{name}-{i}",  # as Sloth names them, so its rules and ours line up
            "objective": round(float(objective.get("target", 0)) * 100, 10),
            "window": window,
            "sli": {"query": {"errors": f"({total}) - ({good})", "total": total}},
        }
        if spec.get("description"):
            slo["description"] = _text(spec["description"])
        slos.append(slo)
    if not slos:
        raise Unsupported(("spec", "objectives"), "an SLO needs at least one objective")
    return _openslo_service(spec, metadata, slos)


# --- registration -----------------------------------------------------------------

Converter = Callable[[Document], Converted]

# Keyed as validate.FOREIGN_FORMATS expects: a version value, or an apiVersion's group.
CONVERTERS: dict[str, tuple[str, Converter]] = {
    SLOTH_PROMETHEUS: ("Sloth", from_sloth),
    SLOTH_KUBERNETES: ("Sloth", from_sloth),
    "prometheus": ("Sloth", from_sloth),  # other Sloth versions, refused by name
    "pyrra.dev": ("Pyrra", from_pyrra),
    "openslo": ("OpenSLO", from_openslo),
}

# `sloforge import TOOL FILE`: which keys each tool name accepts.
TOOLS: dict[str, tuple[str, ...]] = {
    "sloth": (SLOTH_PROMETHEUS, SLOTH_KUBERNETES, "prometheus"),
    "pyrra": ("pyrra.dev",),
    "openslo": ("openslo",),
}


def format_key(data: Any) -> str | None:
    """The CONVERTERS key of a document, or None when it is not a foreign format."""
    if not isinstance(data, dict):
        return None
    for value in (data.get("apiVersion"), data.get("version")):
        if isinstance(value, str):
            if value in CONVERTERS:
                return value
            if value.split("/")[0] in CONVERTERS:
                return value.split("/")[0]
    return None


# --- merging and the `import` command ---------------------------------------------


def merge_services(converted: Converted) -> Converted:
    """One ServiceLevels document per service: OpenSLO writes one document per SLO."""
    merged: dict[str, dict[str, Any]] = {}
    for item in converted:
        service = str(item.get("service"))
        if service not in merged:
            merged[service] = {**item, "slos": list(item.get("slos", []))}
            continue
        first = merged[service]
        for key in ("owner", "labels"):
            if item.get(key) != first.get(key):
                raise Unsupported(
                    (),
                    f"documents of service {service!r} disagree on `{key}`; sloforge keeps "
                    f"one per service",
                )
        first["slos"] += item.get("slos", [])
    return list(merged.values())


def expand(document: Document) -> list[Document]:
    """A YAML list of documents (OpenSLO's SDK writes them so) as separate documents."""
    if not isinstance(document.data, list):
        return [document]
    out = []
    for i, item in enumerate(document.data):
        positions = {key[1:]: pos for key, pos in document.positions.items() if key[:1] == (i,)}
        out.append(Document(document.file, document.index, item, positions))
    return out


def source_positions(document: Document) -> dict[PathKey, tuple[int, int]]:
    """Positions for a converted document: a field keeps the line of the same path in the source.

    Converted paths mostly mirror the source (``slos[1].objective``); a Kubernetes resource's
    ``spec.`` prefix is dropped. Renamed fields fall back to their nearest located parent.
    """
    positions = dict(document.positions)
    positions.update(
        {key[1:]: pos for key, pos in document.positions.items() if key[:1] == ("spec",)}
    )
    positions[()] = document.positions.get((), (1, 1))
    return positions


def convert_documents(
    documents: list[Document], tool: str | None = None
) -> tuple[Converted, list[Any]]:
    """Convert foreign documents (only ``tool``'s formats when given): data and problems."""
    from ..errors import Problem

    converted: Converted = []
    problems: list[Problem] = []
    for document in (d for doc in documents for d in expand(doc)):
        key = format_key(document.data)
        if key is None or (tool is not None and key not in TOOLS[tool]):
            expected = " or ".join(TOOLS[tool]) if tool else "a Sloth, Pyrra or OpenSLO version"
            found = (
                document.data.get("apiVersion", document.data.get("version"))
                if isinstance(document.data, dict)
                else None
            )
            problems.append(
                Problem(
                    document.locate(()),
                    "",
                    f"not a {tool or 'foreign'} document: found {found!r}, expected {expected}",
                )
            )
            continue
        name, converter = CONVERTERS[key]
        try:
            converted += converter(document)
        except Unsupported as exc:
            problems.append(
                Problem(document.locate(exc.path), "", f"cannot convert {name} document: {exc}")
            )
    if not problems:
        try:
            converted = merge_services(converted)
        except Unsupported as exc:
            problems.append(Problem(documents[0].locate(()), "", str(exc)))
    return converted, problems


def import_file(tool: str, path: str) -> str:
    """``sloforge import TOOL FILE``: the equivalent sloforge/v1 YAML, validated first."""
    from pathlib import Path

    from ..errors import Location, Problem, SpecError
    from ..output import yamlout
    from .loader import load_file
    from .validate import validate_document

    documents, problems = load_file(Path(path))
    if problems:
        raise SpecError(problems)
    converted, problems = convert_documents(documents, tool)
    if not problems and not converted:
        problems.append(
            Problem(
                Location(path),
                "",
                f"holds no {tool} SLO to convert (OpenSLO SLI, AlertPolicy… are read "
                f"only inlined in an SLO)",
            )
        )
    for item in converted:
        _, errors = validate_document(Document(path, 0, item, {(): (1, 1)}))
        problems += errors
    if problems:
        raise SpecError(problems)
    header = (
        f"# Converted by `sloforge import {tool}` from {path}. "
        "Review, then commit it as your source.\n"
    )
    return header + "---\n".join(yamlout.dump(item) for item in converted)
