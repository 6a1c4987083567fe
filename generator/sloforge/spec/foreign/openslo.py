"""OpenSLO (``openslo/v1``, and the ``openslo/v1alpha`` shape Sloth reads).

An SLO document becomes a ServiceLevels document with one SLO per objective;
the documents of one service in one file are merged afterwards (see
``__init__.merge_services``). Only Prometheus metric sources, rolling windows,
Occurrences and time-slice budgeting (slices.py) and burn-rate alert policies can be
expressed;
everything else is refused at its field. Service, SLI, AlertPolicy… documents
are read only when an SLO inlines them.
"""

from __future__ import annotations

import functools
from typing import Any

from ...model import promql
from ...model.durations import format_duration, parse_duration
from ..loader import Document, PathKey
from .common import (
    API_VERSION,
    WINDOW_TEMPLATE,
    Node,
    Refs,
    Unsupported,
    mapping,
    only,
    raw_ratio_sli,
    slug,
    text,
    window_query,
    within,
)
from .slices import (
    METHODS,
    counter_or_query,
    ratio_node,
    refuse_slice_fields,
    sliced_sli,
    summed_rate,
)

V1 = "openslo/v1"
V1ALPHA = "openslo/v1alpha"
TOOL = "OpenSLO"

PARTS = {"Service", "SLI", "AlertPolicy", "AlertCondition", "AlertNotificationTarget", "DataSource"}
_PAGE_SEVERITIES = {"page", "critical", "high"}
_UNITS = {"minute": "m", "hour": "h", "day": "d", "week": "w"}
_NEGATED = {"lt": ">=", "lte": ">", "gt": "<=", "gte": "<"}


def convert(document: Document, refs: Refs) -> list[Node]:
    data = document.data
    version, kind = data.get("apiVersion"), data.get("kind")
    if version not in (V1, V1ALPHA):
        raise Unsupported(
            ("apiVersion",), f"unsupported OpenSLO version {version!r}; sloforge reads {V1}"
        )
    if kind in PARTS:
        # Only ever read through an SLO that inlines it; alone it compiles to nothing.
        return []
    if kind != "SLO":
        raise Unsupported(("kind",), f"OpenSLO kind {kind!r} is not supported")
    metadata = mapping(data.get("metadata"), ("metadata",))
    spec = mapping(data.get("spec"), ("spec",))
    if version == V1ALPHA:
        return [_v1alpha(metadata, spec)]
    return [_v1(metadata, spec, refs)]


def _budgeting(spec: dict[str, Any]) -> str:
    method = spec.get("budgetingMethod", "Occurrences")
    if method != "Occurrences" and method not in METHODS:
        raise Unsupported(
            ("spec", "budgetingMethod"),
            f"{method!r} budgeting is not supported; sloforge budgets Occurrences, "
            f"Timeslices and RatioTimeslices",
        )
    return str(method)


def _service(spec: dict[str, Any], metadata: dict[str, Any], slos: list[Node]) -> Node:
    out = Node((), apiVersion=API_VERSION, kind="ServiceLevels")
    where = ("spec", "service") if spec.get("service") else ("metadata", "name")
    out.put("service", text(spec.get("service") or metadata.get("name", "")), where)
    out.put("slos", slos, ("spec", "objectives"))
    return out


def _referred(refs: Refs, kind: str, name: Any, path: PathKey) -> Document:
    """The ``kind`` document named ``name`` among the documents converted with this one."""
    found = refs.get((kind, name)) if isinstance(name, str) else None
    if found is None:
        known = sorted(n for k, n in refs if k == kind)
        hint = f" (known: {', '.join(known)})" if known else ""
        raise Unsupported(
            path,
            f"refers to {kind} {name!r}, which no document in the same file or directories "
            f"defines{hint}",
        )
    return found


def _v1(metadata: dict[str, Any], spec: dict[str, Any], refs: Refs) -> Node:
    only(
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
        TOOL,
    )
    window = _window(spec.get("timeWindow"), ("spec", "timeWindow"))
    method = _budgeting(spec)
    sli_document: Document | None = None
    if "indicatorRef" in spec:
        sli_document = _referred(refs, "SLI", spec["indicatorRef"], ("spec", "indicatorRef"))
        indicator_path: PathKey = ("spec",)
        indicator = mapping(sli_document.data.get("spec"), indicator_path)
    else:
        indicator_path = ("spec", "indicator", "spec")
        indicator = mapping(
            mapping(spec.get("indicator"), ("spec", "indicator")).get("spec"), indicator_path
        )
    objectives = spec.get("objectives") or []
    if not isinstance(objectives, list) or not objectives:
        raise Unsupported(("spec", "objectives"), "an SLO needs at least one objective")
    alerting = _alerting(spec.get("alertPolicies"), ("spec", "alertPolicies"), refs)
    name = text(metadata.get("name", ""))
    slos = []
    for i, objective in enumerate(objectives):
        path: PathKey = ("spec", "objectives", i)
        objective = mapping(objective, path)
        slo = Node(path)
        slo.put(
            "name",
            _objective_name(name, objective, i, len(objectives)),
            _name_source(objective, path),
        )
        slo.put("objective", _target(objective, path), _target_source(objective, path))
        for key, value in window.items():
            slo.put(key, value, ("spec", "timeWindow", 0, "duration"))
        if method == "Occurrences":
            refuse_slice_fields(objective, path, method)
            read = _indicator
        else:
            read = functools.partial(_sliced_indicator, method)
        slo["sli"] = within(
            sli_document, read, indicator, objective, indicator_path, path, bool(sli_document)
        )
        if spec.get("description"):
            slo.put("description", text(spec["description"]), ("spec", "description"))
        if alerting:
            slo.put("alerting", alerting, ("spec", "alertPolicies"))
        slos.append(slo)
    return _service(spec, metadata, slos)


def _name_source(objective: dict[str, Any], path: PathKey) -> PathKey:
    for key in ("name", "displayName"):
        if objective.get(key):
            return (*path, key)
    return ("metadata", "name")


def _objective_name(name: str, objective: dict[str, Any], index: int, count: int) -> str:
    if count == 1:
        return name
    label = slug(text(objective.get("name") or objective.get("displayName") or "")) or str(
        index + 1
    )
    return f"{name}-{label}"


def _target_source(objective: dict[str, Any], path: PathKey) -> PathKey:
    return (*path, "targetPercent" if "targetPercent" in objective else "target")


def _target(objective: dict[str, Any], path: PathKey) -> float:
    if "targetPercent" in objective:
        return float(objective["targetPercent"])
    if "target" not in objective:
        raise Unsupported(path, "an objective needs `target` (a ratio such as 0.999)")
    return round(float(objective["target"]) * 100, 10)


_CALENDAR = {"1M": "month", "1w": "week", "7d": "week"}


def _window(value: Any, path: PathKey) -> dict[str, str]:
    """``window`` (and ``time_zone``) of the SLOs: a rolling duration, or a calendar month or
    week (OpenSLO's ``isRolling: false`` with a ``calendar``)."""
    windows = value if isinstance(value, list) else []
    if len(windows) != 1:
        raise Unsupported(path, "exactly one time window is required")
    window = mapping(windows[0], (*path, 0))
    duration = text(window.get("duration", ""))
    if not window.get("isRolling", False):
        if duration not in _CALENDAR:
            raise Unsupported(
                (*path, 0, "duration"),
                f"a calendar window of {duration!r} is not supported; sloforge's calendar "
                f"periods are a month (1M) or a week (1w)",
            )
        out = {"window": _CALENDAR[duration]}
        calendar = mapping(window.get("calendar"), (*path, 0, "calendar"))
        zone = calendar.get("timeZone")
        if zone and zone != "UTC":
            out["time_zone"] = text(zone)
        return out
    try:
        return {"window": format_duration(parse_duration(duration))}
    except ValueError as exc:
        raise Unsupported((*path, 0, "duration"), str(exc)) from None


def _query_path(path: PathKey) -> PathKey:
    return (*path, "metricSource", "spec", "query")


def _prometheus_query(source: Any, path: PathKey) -> str:
    """The PromQL of a metricSource; refuses non-Prometheus sources."""
    metric_source = mapping(mapping(source, path).get("metricSource"), (*path, "metricSource"))
    kind = text(metric_source.get("type", ""))
    if kind.lower() != "prometheus":
        raise Unsupported(
            (*path, "metricSource", "type"), f"metric source {kind!r} is not Prometheus"
        )
    query = mapping(metric_source.get("spec"), (*path, "metricSource", "spec")).get("query")
    if not isinstance(query, str) or not query.strip():
        raise Unsupported(_query_path(path), "needs a PromQL query")
    return query.strip()


def _counter_or_window(query: str, path: PathKey) -> str:
    """A counter selector becomes a rate; a ``{{.window}}`` query is kept as is."""
    if WINDOW_TEMPLATE.search(query):
        return window_query(query, path)
    try:
        selector = promql.parse_selector(query)
    except promql.PromQLError:
        raise Unsupported(
            path, "a Prometheus query must be a counter selector or use {{.window}} for the range"
        ) from None
    return f"sum(rate({selector.render()}[$window]))"


def _indicator(
    indicator: dict[str, Any],
    objective: dict[str, Any],
    path: PathKey,
    opath: PathKey,
    referred: bool = False,
) -> Node:
    if "ratioMetric" in indicator:
        here = (*path, "ratioMetric")
        ratio = mapping(indicator["ratioMetric"], here)
        only(ratio, {"counter", "good", "bad", "total", "raw", "rawType"}, here, TOOL)
        if "raw" in ratio:
            query = window_query(_prometheus_query(ratio["raw"], (*here, "raw")), (*here, "raw"))
            if ratio.get("rawType", "failure") == "success":
                query = f"1 - ({query})"
            return raw_ratio_sli(query, _query_path((*here, "raw")))
        if ratio.get("counter") is False:
            raise Unsupported(
                (*here, "counter"), "gauge ratio metrics (counter: false) are not supported"
            )

        def counter(key: str) -> str:
            return _counter_or_window(_prometheus_query(ratio.get(key), (*here, key)), (*here, key))

        query_node = Node(here)
        total = counter("total")
        if "bad" in ratio:
            query_node.put("errors", counter("bad"), _query_path((*here, "bad")))
        elif "good" in ratio:
            good = counter("good")
            query_node.put("errors", f"({total}) - ({good})", _query_path((*here, "good")))
        else:
            raise Unsupported(here, "a ratio metric needs `good` or `bad`")
        query_node.put("total", total, _query_path((*here, "total")))
        return Node(here, query=query_node)
    if "thresholdMetric" in indicator:
        return _threshold(
            indicator["thresholdMetric"], objective, (*path, "thresholdMetric"), opath, referred
        )
    raise Unsupported(path, "an indicator needs `ratioMetric` or `thresholdMetric`")


def _sliced_indicator(
    method: str,
    indicator: dict[str, Any],
    objective: dict[str, Any],
    path: PathKey,
    opath: PathKey,
    referred: bool = False,
) -> Node:
    """A timeslices SLI (Timeslices or RatioTimeslices budgeting, see slices.py)."""
    objective_path = None if referred else opath
    if "ratioMetric" in indicator:
        here = (*path, "ratioMetric")
        ratio = mapping(indicator["ratioMetric"], here)
        only(ratio, {"counter", "good", "bad", "total", "raw", "rawType"}, here, TOOL)
        if "raw" in ratio:
            raise Unsupported(
                (*here, "raw"),
                "a precomputed ratio cannot be cut into time slices: give "
                "`good` or `bad`, and `total`",
            )
        if ratio.get("counter") is False:
            raise Unsupported(
                (*here, "counter"), "gauge ratio metrics (counter: false) are not supported"
            )
        part = "bad" if "bad" in ratio else "good"
        if part not in ratio:
            raise Unsupported(here, "a ratio metric needs `good` or `bad`")
        selectors: dict[str, str | None] = {}
        queries: dict[str, str] = {}
        sources: dict[str, PathKey | None] = {}
        for key in (part, "total"):
            source = _query_path((*here, key))
            query = _prometheus_query(ratio.get(key), (*here, key))
            selectors[key], queries[key] = counter_or_query(query, source)
            sources[key] = source
        counters = ratio_node(selectors, sources, here)
        return sliced_sli(method, counters, None, queries, objective, here, objective_path)
    if "thresholdMetric" in indicator:
        here = (*path, "thresholdMetric")
        query = _prometheus_query(indicator["thresholdMetric"], here)
        try:
            selector = promql.parse_selector(query).render()
        except promql.PromQLError:
            raise Unsupported(
                _query_path(here), "a threshold metric must be a series selector"
            ) from None
        return sliced_sli(method, None, selector, {}, objective, here, objective_path)
    raise Unsupported(path, "an indicator needs `ratioMetric` or `thresholdMetric`")


def _threshold(
    metric: Any, objective: dict[str, Any], path: PathKey, opath: PathKey, referred: bool
) -> Node:
    """Good samples are those where ``metric op value``; the SLI counts samples that are not."""
    query = _prometheus_query(metric, path)
    op = objective.get("op")
    if op not in _NEGATED or "value" not in objective:
        raise Unsupported(opath, "a threshold objective needs `op` (lt, lte, gt, gte) and `value`")
    try:
        selector = promql.parse_selector(query).render()
    except promql.PromQLError:
        raise Unsupported(
            _query_path(path), "a threshold metric must be a series selector"
        ) from None
    bad = f"{selector} {_NEGATED[op]} {promql.number(float(objective['value']))}"
    node = Node(_query_path(path))
    errors = f"sum(count_over_time(({bad})[$window:])) or vector(0)"
    # The objective's value is in the SLO; a referred SLI's node reads another document.
    node.put("errors", errors, None if referred else (*opath, "value"))
    node["total"] = f"sum(count_over_time({selector}[$window]))"
    return Node(path, query=node)


def _alerting(value: Any, path: PathKey, refs: Refs) -> Node:
    """Burn-rate alert policies, inline or referred to by name, become tiers.

    lookbackWindow is the long window, alertAfter the short one.
    """
    policies = value if isinstance(value, list) else []
    tiers = []
    for i, policy in enumerate(policies):
        here: PathKey = (*path, i)
        source: Document | None = None
        if isinstance(policy, dict) and "alertPolicyRef" in policy:
            source = _referred(
                refs, "AlertPolicy", policy["alertPolicyRef"], (*here, "alertPolicyRef")
            )
            policy, here = source.data, ()
        if not isinstance(policy, dict) or "spec" not in policy:
            raise Unsupported(here, "an alert policy needs a `spec` with `conditions`")
        conditions = mapping(policy.get("spec"), (*here, "spec")).get("conditions") or []
        for j, condition in enumerate(conditions):
            where: PathKey = (*here, "spec", "conditions", j)
            tiers.append(within(source, _tier, condition, where, refs))
    out = Node(path)
    if tiers:
        out["tiers"] = tiers
    return out


def _tier(condition: Any, path: PathKey, refs: Refs) -> Node:
    if isinstance(condition, dict) and "conditionRef" in condition:
        source = _referred(
            refs, "AlertCondition", condition["conditionRef"], (*path, "conditionRef")
        )
        return within(source, _tier, source.data, (), refs)
    if not isinstance(condition, dict) or "spec" not in condition:
        raise Unsupported(path, "an alert condition needs a `spec` with a `condition`")
    spec = mapping(condition["spec"], (*path, "spec"))
    here = (*path, "spec", "condition")
    rule = mapping(spec.get("condition"), here)
    if rule.get("kind") != "burnrate":
        raise Unsupported(
            (*here, "kind"), f"condition kind {rule.get('kind')!r} is not supported (burnrate is)"
        )
    if rule.get("op") not in ("gt", "gte"):
        raise Unsupported(
            (*here, "op"), "a burn-rate condition must fire above its threshold (op gt or gte)"
        )
    try:
        long = parse_duration(text(rule.get("lookbackWindow", "")))
        short = parse_duration(text(rule["alertAfter"])) if rule.get("alertAfter") else long // 12
    except ValueError as exc:
        raise Unsupported(here, str(exc)) from None
    if short >= long:
        raise Unsupported((*here, "alertAfter"), "must be shorter than lookbackWindow")
    severity = text(spec.get("severity", "page")).lower()
    out = Node(here)
    out.put(
        "severity",
        "page" if severity in _PAGE_SEVERITIES else "ticket",
        (*path, "spec", "severity"),
    )
    out.put("long_window", format_duration(long), (*here, "lookbackWindow"))
    out.put("short_window", format_duration(short), (*here, "alertAfter"))
    out.put("burn_rate", float(rule.get("threshold", 0)), (*here, "threshold"))
    return out


def _v1alpha(metadata: dict[str, Any], spec: dict[str, Any]) -> Node:
    """The v1alpha shape Sloth reads: objectives with ratioMetrics and ``{{.window}}`` queries."""
    only(
        spec,
        {"service", "description", "budgetingMethod", "objectives", "timeWindows"},
        ("spec",),
        TOOL,
    )
    method = _budgeting(spec)
    windows = spec.get("timeWindows") or [{"count": 30, "unit": "Day"}]
    first = mapping(windows[0], ("spec", "timeWindows", 0))
    unit = _UNITS.get(text(first.get("unit", "")).lower())
    if len(windows) != 1 or unit is None or first.get("isRolling") is False:
        raise Unsupported(
            ("spec", "timeWindows"),
            "exactly one rolling window in minutes, hours, days or weeks is required",
        )
    window = format_duration(parse_duration(f"{first.get('count')}{unit}"))
    name = text(metadata.get("name", ""))
    objectives = spec.get("objectives") or []
    slos = []
    for i, objective in enumerate(objectives):
        path: PathKey = ("spec", "objectives", i)
        objective = mapping(objective, path)
        here = (*path, "ratioMetrics")
        ratio = mapping(objective.get("ratioMetrics"), here)
        if not ratio:
            raise Unsupported(path, "only ratioMetrics objectives are supported")
        good = window_query(
            mapping(ratio.get("good"), (*here, "good")).get("query"), (*here, "good")
        )
        total = window_query(
            mapping(ratio.get("total"), (*here, "total")).get("query"), (*here, "total")
        )
        slo = Node(path)
        slo.put("name", f"{name}-{i}", ("metadata", "name"))  # as Sloth names them
        slo.put("objective", round(float(objective.get("target", 0)) * 100, 10), (*path, "target"))
        slo.put("window", window, ("spec", "timeWindows", 0))
        if method == "Occurrences":
            refuse_slice_fields(objective, path, method)
            query = Node(here)
            query.put("errors", f"({total}) - ({good})", (*here, "good", "query"))
            query.put("total", total, (*here, "total", "query"))
            slo["sli"] = Node(here, query=query)
        else:
            queries = {"good": good, "total": total}
            sources = {"good": (*here, "good", "query"), "total": (*here, "total", "query")}
            selectors = {key: summed_rate(query) for key, query in queries.items()}
            counters = ratio_node(selectors, sources, here)
            slo["sli"] = sliced_sli(method, counters, None, queries, objective, here, path)
        if spec.get("description"):
            slo.put("description", text(spec["description"]), ("spec", "description"))
        slos.append(slo)
    if not slos:
        raise Unsupported(("spec", "objectives"), "an SLO needs at least one objective")
    return _service(spec, metadata, slos)
