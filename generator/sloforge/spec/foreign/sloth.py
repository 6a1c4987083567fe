"""Sloth (``prometheus/v1`` files and ``sloth.slok.dev/v1`` PrometheusServiceLevel resources).

The two spellings differ only in their envelope and in field case (snake_case
or camelCase); both become one ServiceLevels document. Sloth's ``{{.window}}``
queries are sloforge's ``$window`` queries; its page and ticket alerts are the
page and ticket tiers, with the ``severity`` label as the tier's severity.
"""

from __future__ import annotations

import re
from typing import Any

from ...model import conventions as names
from ..loader import Document, PathKey
from .common import (
    API_VERSION,
    Node,
    Refs,
    Unsupported,
    labels,
    mapping,
    only,
    raw_ratio_sli,
    text,
    window_query,
)

PROMETHEUS = "prometheus/v1"
KUBERNETES = "sloth.slok.dev/v1"
TOOL = "Sloth"

# Sloth's own rule-generation stages; sloforge already does what they do.
_CORE_PLUGINS = re.compile(
    r"^sloth\.dev/core/(sli_rules|metadata_rules|alert_rules|debug|noop)/v\d+$"
)


def convert(document: Document, refs: Refs) -> list[Node]:
    data = document.data
    if data.get("apiVersion") == KUBERNETES:
        if data.get("kind") != "PrometheusServiceLevel":
            raise Unsupported(
                ("kind",), f"Sloth kind {data.get('kind')!r} is not a PrometheusServiceLevel"
            )
        only(data, {"apiVersion", "kind", "metadata", "spec"}, (), TOOL)
        return [_service(mapping(data.get("spec"), ("spec",)), ("spec",))]
    version = data.get("version")
    if version != PROMETHEUS:
        raise Unsupported(
            ("version",),
            f"unsupported Sloth version {version!r}; sloforge reads {PROMETHEUS} and {KUBERNETES}",
        )
    rest = {k: v for k, v in data.items() if k != "version"}
    return [_service(rest, ())]


def _key(data: dict[str, Any], snake: str) -> str:
    """The key a field is written under: Sloth spells fields in snake_case (prometheus/v1) or
    camelCase (the Kubernetes resource)."""
    return snake if snake in data else _camel_key(snake)


def _pick(data: dict[str, Any], snake: str) -> Any:
    return data.get(_key(data, snake))


def _camel_key(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _both(*snake: str) -> set[str]:
    return {k for s in snake for k in (s, _camel_key(s))}


def _service(spec: dict[str, Any], path: PathKey) -> Node:
    only(spec, {"service", "labels", "slos"} | _both("slo_plugins"), path, TOOL)
    _plugins(_pick(spec, "slo_plugins"), (*path, _key(spec, "slo_plugins")))
    slos = spec.get("slos") or []
    if not isinstance(slos, list) or not slos:
        raise Unsupported((*path, "slos"), "a Sloth service needs at least one SLO")
    out = Node(path, apiVersion=API_VERSION, kind="ServiceLevels")
    out["service"] = text(spec.get("service", ""))
    found = labels(spec.get("labels"), (*path, "labels"))
    # sloforge writes the owner as the `team` label on every rule and alert: the same result.
    team = found.pop(names.LABEL_TEAM, None)
    if team:
        out.put("owner", team, (*path, "labels", names.LABEL_TEAM))
    if found:
        out["labels"] = found
    out["slos"] = [
        _slo(mapping(s, (*path, "slos", i)), (*path, "slos", i)) for i, s in enumerate(slos)
    ]
    return out


def _plugins(value: Any, path: PathKey) -> None:
    chain = mapping(value, path).get("chain") or []
    for i, plugin in enumerate(chain):
        plugin_id = mapping(plugin, (*path, "chain", i)).get("id", "")
        if not _CORE_PLUGINS.match(str(plugin_id)):
            raise Unsupported(
                (*path, "chain", i, "id"),
                f"Sloth SLO plugin {plugin_id!r} changes the generated rules in Go code "
                f"sloforge cannot run",
            )


def _slo(slo: dict[str, Any], path: PathKey) -> Node:
    only(
        slo,
        {"name", "objective", "description", "labels", "sli", "alerting", "plugins"},
        path,
        TOOL,
    )
    _plugins(slo.get("plugins"), (*path, "plugins"))
    out = Node(path, name=text(slo.get("name", "")), objective=slo.get("objective"))
    if slo.get("description"):
        out["description"] = text(slo["description"])
    found = labels(slo.get("labels"), (*path, "labels"))
    if found:
        out["labels"] = found
    out["sli"], exact = _sli(mapping(slo.get("sli"), (*path, "sli")), (*path, "sli"))
    if exact:
        # Sloth computes every window straight from the query; a raw ratio cannot be summed.
        out.put("strategy", "exact", (*path, "sli", "raw"))
    alerting = _alerting(mapping(slo.get("alerting"), (*path, "alerting")), (*path, "alerting"))
    if alerting:
        out["alerting"] = alerting
    return out


def _sli(sli: dict[str, Any], path: PathKey) -> tuple[Node, bool]:
    if "plugin" in sli:
        plugin_id = mapping(sli["plugin"], (*path, "plugin")).get("id", "")
        raise Unsupported(
            (*path, "plugin"),
            f"Sloth SLI plugin {plugin_id!r} is Go code sloforge cannot run; write "
            f"its queries as `events`",
        )
    only(sli, {"events", "raw"}, path, TOOL)
    if "events" in sli:
        here = (*path, "events")
        events = mapping(sli["events"], here)
        only(events, _both("error_query", "total_query"), here, TOOL)
        query = Node(here)
        for ours, theirs in (("errors", "error_query"), ("total", "total_query")):
            source = (*here, _key(events, theirs))
            query.put(ours, window_query(_pick(events, theirs), source), source)
        return Node(here, query=query), False
    if "raw" in sli:
        here = (*path, "raw")
        raw = mapping(sli["raw"], here)
        only(raw, _both("error_ratio_query"), here, TOOL)
        source = (*here, _key(raw, "error_ratio_query"))
        return raw_ratio_sli(window_query(_pick(raw, "error_ratio_query"), source), source), True
    raise Unsupported(path, "a Sloth SLI needs `events` or `raw`")


def _alerting(alerting: dict[str, Any], path: PathKey) -> Node:
    only(
        alerting,
        {"name", "labels", "annotations"} | _both("page_alert", "ticket_alert"),
        path,
        TOOL,
    )
    out = Node(path)
    if "name" in alerting and not alerting["name"]:
        raise Unsupported((*path, "name"), "is empty; give the alert a name or leave the field out")
    if alerting.get("name"):
        out["name"] = text(alerting["name"])
    shared = labels(alerting.get("labels"), (*path, "labels"))
    # Sloth puts alerting.labels on both alerts, so a `severity` there is both tiers'
    # severity unless a page or ticket alert sets its own; sloforge owns that label.
    severity = shared.pop(names.LABEL_SEVERITY, None)
    if shared:
        out["labels"] = shared
    annotations = labels(alerting.get("annotations"), (*path, "annotations"))
    if annotations:
        out["annotations"] = annotations
    for sloth_key, ours in (("page_alert", "page"), ("ticket_alert", "ticket")):
        here = (*path, _key(alerting, sloth_key))
        policy = _policy(mapping(_pick(alerting, sloth_key), here), here)
        if severity is not None and "severity" not in policy:
            policy.put("severity", severity, (*path, "labels", names.LABEL_SEVERITY))
        if policy:
            out[ours] = policy
    return out


def _policy(policy: dict[str, Any], path: PathKey) -> Node:
    only(policy, {"disable", "labels", "annotations"}, path, TOOL)
    out = Node(path)
    found = labels(policy.get("labels"), (*path, "labels"))
    # Sloth users route on a `severity` label; sloforge owns that label and takes it as
    # the tier's severity.
    severity = found.pop(names.LABEL_SEVERITY, None)
    if severity:
        out.put("severity", severity, (*path, "labels", names.LABEL_SEVERITY))
    if found:
        out["labels"] = found
    annotations = labels(policy.get("annotations"), (*path, "annotations"))
    if annotations:
        out["annotations"] = annotations
    if policy.get("disable"):
        out["disable"] = True
    return out
