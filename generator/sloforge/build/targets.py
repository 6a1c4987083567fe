"""Deployment targets: the same rules and routing, packaged for what each team deploys through.

One table, ``TARGETS``: a target is a pure function from the project and the
base artifacts already built, as data (rule files, dashboards, the Alertmanager
configuration), to more files under ``out/<target>/``. Targets transform that
data; they never parse generated text. Adding a target is one entry here, not
a branch in every builder.

``prometheus`` is the plain rule files every other output is tested against,
so it is always written; naming it in ``targets`` is allowed and adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..errors import CompileError
from ..model import conventions as names
from ..model.artifacts import Files, Inline, JsonFile, TextFile, YamlFile
from ..model.domain import Project
from ..model.routing import parse_matcher

TargetBuilder = Callable[[Project, Files], Files]

OPERATOR_RULES_API = "monitoring.coreos.com/v1"
OPERATOR_ALERTMANAGER_API = "monitoring.coreos.com/v1alpha1"
MANAGED_BY = {"app.kubernetes.io/managed-by": "sloforge"}
# The Operator mounts every key of the configuration Secret in this directory.
OPERATOR_CONFIG_DIR = "/etc/alertmanager/config"
THANOS_PARTIAL_RESPONSE = "abort"  # an SLO alert must not evaluate on partial data


def _groups(project: Project, base: Files) -> dict[str, list[dict[str, Any]]]:
    """Each service's rule groups: the data of its Prometheus rule file."""
    return {s.name: _yaml(base, names.rules_file(s.name))["groups"] for s in project.services}


def _yaml(base: Files, path: str) -> Any:
    file = base[path]
    assert isinstance(file, YamlFile), path
    return file.data


def _sources(project: Project) -> tuple[str, ...]:
    return tuple(project.sources)


def _service_sources(project: Project, service: str) -> tuple[str, ...]:
    """A per-service file names the one source it comes from, like its Prometheus rule file."""
    return tuple(s.source for s in project.services if s.name == service)


# --- Prometheus Operator ----------------------------------------------------------


def prometheus_operator(project: Project, base: Files) -> Files:
    files: Files = {}
    for service, groups in _groups(project, base).items():
        resource = {
            "apiVersion": OPERATOR_RULES_API,
            "kind": "PrometheusRule",
            "metadata": {"name": names.operator_resource_name(service), "labels": dict(MANAGED_BY)},
            "spec": {"groups": groups},
        }
        files[names.operator_rule_file(service)] = YamlFile(
            resource, _service_sources(project, service)
        )
    if names.ALERTMANAGER_CONFIG in base:
        config = _yaml(base, names.ALERTMANAGER_CONFIG)
        files[names.OPERATOR_ALERTMANAGER_SECRET] = YamlFile(
            _config_secret(config, base), _sources(project), inlines=True
        )
        body: YamlFile | TextFile
        try:
            body = YamlFile(alertmanager_config(config), _sources(project))
        except CompileError as exc:
            # Visible in the tree and in review, instead of failing the rule targets too.
            body = TextFile(f"# No AlertmanagerConfig: {exc}\n", _sources(project), "hash")
        files[names.OPERATOR_ALERTMANAGER_CONFIG] = body
    return files


def _config_secret(config: dict[str, Any], base: Files) -> dict[str, Any]:
    """The whole configuration as the Secret an ``Alertmanager`` names in ``configSecret``."""
    mounted = {**config, "templates": [f"{OPERATOR_CONFIG_DIR}/*.tmpl"]}
    prefix = names.ALERTMANAGER_CONFIG.rsplit("/", 1)[0] + f"/{names.ALERTMANAGER_TEMPLATES}/"
    string_data: dict[str, Any] = {"alertmanager.yaml": Inline(mounted)}
    for path, file in sorted(base.items()):
        if path.startswith(prefix):
            assert isinstance(file, TextFile), path
            string_data[path.removeprefix(prefix)] = Inline(file)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": names.OPERATOR_SECRET_NAME, "labels": dict(MANAGED_BY)},
        "type": "Opaque",
        "stringData": string_data,
    }


def alertmanager_config(config: dict[str, Any]) -> dict[str, Any]:
    """The routing as an ``AlertmanagerConfig`` resource (the Operator's camelCase API).

    Secrets read from files become references to keys of one Kubernetes Secret
    named ``names.OPERATOR_SECRET_NAME``, keyed by the file's base name.
    """
    spec: dict[str, Any] = {"route": _route(config["route"])}
    smtp = {
        k.removeprefix("smtp_"): v
        for k, v in config.get("global", {}).items()
        if k.startswith("smtp_")
    }
    spec["receivers"] = [_receiver(r, smtp) for r in config.get("receivers", [])]
    if config.get("inhibit_rules"):
        spec["inhibitRules"] = [_inhibit(r) for r in config["inhibit_rules"]]
    if config.get("time_intervals"):
        spec["muteTimeIntervals"] = [_time_interval(t) for t in config["time_intervals"]]
    return {
        "apiVersion": OPERATOR_ALERTMANAGER_API,
        "kind": "AlertmanagerConfig",
        "metadata": {"name": names.OPERATOR_SECRET_NAME, "labels": dict(MANAGED_BY)},
        "spec": spec,
    }


_ROUTE_KEYS = {
    "receiver": "receiver",
    "group_by": "groupBy",
    "group_wait": "groupWait",
    "group_interval": "groupInterval",
    "repeat_interval": "repeatInterval",
    "continue": "continue",
    "mute_time_intervals": "muteTimeIntervals",
    "active_time_intervals": "activeTimeIntervals",
}


def _route(route: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in route.items():
        if key == "matchers":
            out["matchers"] = [_matcher(m) for m in value]
        elif key == "routes":
            out["routes"] = [_route(r) for r in value]
        elif key in _ROUTE_KEYS:
            out[_ROUTE_KEYS[key]] = value
        else:
            raise CompileError(f"AlertmanagerConfig cannot express the route field `{key}`")
    return out


def _matcher(text: str) -> dict[str, str]:
    m = parse_matcher(text)
    return {"name": m.label, "value": m.value, "matchType": m.op}


def _inhibit(rule: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "sourceMatch": [_matcher(m) for m in rule.get("source_matchers", [])],
        "targetMatch": [_matcher(m) for m in rule.get("target_matchers", [])],
    }
    if rule.get("equal"):
        out["equal"] = rule["equal"]
    return out


def _time_interval(interval: dict[str, Any]) -> dict[str, Any]:
    periods = []
    for period in interval["time_intervals"]:
        if "location" in period:
            raise CompileError(
                f"time interval `{interval['name']}` uses location {period['location']!r}, which "
                "AlertmanagerConfig cannot express (prometheus-operator issue 5512); deploy the "
                f"configuration Secret {names.OPERATOR_ALERTMANAGER_SECRET} instead"
            )
        out: dict[str, Any] = {}
        for key, value in period.items():
            if key == "times":
                out["times"] = [
                    {"startTime": t["start_time"], "endTime": t["end_time"]} for t in value
                ]
            elif key == "days_of_month":
                out["daysOfMonth"] = [_day_range(d) for d in value]
            else:
                out[key] = value
        periods.append(out)
    return {"name": interval["name"], "timeIntervals": periods}


def _day_range(text: str) -> dict[str, int]:
    start, _, end = str(text).partition(":")
    return {"start": int(start), "end": int(end or start)}


def _receiver(receiver: dict[str, Any], smtp: dict[str, Any]) -> dict[str, Any]:
    """One receiver; e-mail configs carry the global SMTP settings, which the resource cannot."""
    out: dict[str, Any] = {"name": receiver["name"]}
    for key, configs in receiver.items():
        if key == "name":
            continue
        if key == "email_configs":
            configs = [{**smtp, **c} for c in configs]
        out[_camel(key)] = [_integration(c) for c in configs]
    return out


_SPECIAL = {"api_url": "apiURL", "url": "url", "http_config": "httpConfig"}
# Free-form maps in Alertmanager that the resource spells as [{key, value}] lists.
_KEY_VALUE_LISTS = {"headers", "details"}


def _integration(config: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in config.items():
        if key.endswith("_file"):
            field = key.removesuffix("_file")
            ref = {"name": names.OPERATOR_SECRET_NAME, "key": str(value).rsplit("/", 1)[-1]}
            out[_SPECIAL.get(field, _camel(field)) if field != "url" else "urlSecret"] = ref
        elif key in _KEY_VALUE_LISTS and isinstance(value, dict):
            out[key] = [{"key": k, "value": v} for k, v in value.items()]
        elif isinstance(value, dict):
            out[_SPECIAL.get(key, _camel(key))] = _integration(value)
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            out[_camel(key)] = [_integration(v) for v in value]
        else:
            out[_SPECIAL.get(key, _camel(key))] = value
    return out


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


# --- Mimir / Cortex ruler and Thanos Ruler ----------------------------------------


def mimir(project: Project, base: Files) -> Files:
    """One ruler namespace per service, in the file format ``mimirtool rules load`` reads."""
    return {
        names.mimir_rules_file(service): YamlFile(
            {"namespace": service, "groups": groups}, _service_sources(project, service)
        )
        for service, groups in _groups(project, base).items()
    }


def thanos(project: Project, base: Files) -> Files:
    files: Files = {}
    for service, groups in _groups(project, base).items():
        tagged = [{**g, "partial_response_strategy": THANOS_PARTIAL_RESPONSE} for g in groups]
        files[names.thanos_rules_file(service)] = YamlFile(
            {"groups": tagged}, _service_sources(project, service)
        )
    return files


# --- monitoring mixin -------------------------------------------------------------


def mixin(project: Project, base: Files) -> Files:
    """A monitoring-mixin: groups with alerts go to prometheusAlerts, the rest to prometheusRules.

    Groups are kept whole, so the recordings an alert reads are evaluated in the same group first.
    """
    groups = [g for service_groups in _groups(project, base).values() for g in service_groups]
    alerts = [g for g in groups if any("alert" in r for r in g["rules"])]
    rules = [g for g in groups if not any("alert" in r for r in g["rules"])]
    prefix = names.dashboard_file("x").rsplit("/", 1)[0] + "/"
    dashboards = {}
    for path, file in sorted(base.items()):
        if path.startswith(prefix) and path.endswith(".json"):
            assert isinstance(file, JsonFile), path
            dashboards[path.removeprefix(prefix)] = file.data
    sources = _sources(project)
    return {
        names.MIXIN_RULES: JsonFile({"groups": rules}, sources, sort_keys=False),
        names.MIXIN_ALERTS: JsonFile({"groups": alerts}, sources, sort_keys=False),
        # Sorted like the dashboard files themselves.
        names.MIXIN_DASHBOARDS: JsonFile(dashboards, sources, sort_keys=True),
        names.MIXIN_MAIN: TextFile(_MIXIN_MAIN, sources, "slashes"),
    }


_MIXIN_MAIN = """{
  prometheusRules+:: {
    groups+: (import 'rules.libsonnet').groups,
  },
  prometheusAlerts+:: {
    groups+: (import 'alerts.libsonnet').groups,
  },
  grafanaDashboards+:: import 'dashboards.libsonnet',
}
"""


# --- the table --------------------------------------------------------------------


def prometheus(project: Project, base: Files) -> Files:
    return {}  # the base rule files themselves


TARGETS: dict[str, TargetBuilder] = {
    "prometheus": prometheus,
    "prometheus-operator": prometheus_operator,
    "mimir": mimir,
    "thanos": thanos,
    "mixin": mixin,
}


def check_targets(targets: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(targets))
    unknown = [t for t in chosen if t not in TARGETS]
    if unknown:
        raise CompileError(f"unknown target {unknown[0]!r}; choose from {', '.join(TARGETS)}")
    return chosen


def build_targets(project: Project, base: Files, targets: Iterable[str] | None = None) -> Files:
    """Files of every chosen target (``targets`` overrides the Settings document's list)."""
    files: Files = {}
    for target in check_targets(project.settings.targets if targets is None else targets):
        files.update(TARGETS[target](project, base))
    return files
