"""The Alertmanager configuration, its notification templates and routing tests, as data.

A pure function of the ``Project``: ``build_alertmanager(project)`` returns
the files of ``out/alertmanager/`` as data (model/artifacts.py). The AlertRouting document was
checked by ``routing.py``; here it is only translated:

- each route with several receivers becomes one sibling route per receiver,
  all but the last with ``continue: true`` (fan-out);
- ``mute_during`` at the top applies to every route (Alertmanager forbids mute
  intervals on its root route, so the default receiver is never muted);
- two inhibit rules are always present: a page silences the tickets of the same
  SLO, and a critical alert silences the warnings of the same alert and service;
- ``templates:`` names ``templates/*.tmpl`` relative to the configuration file,
  which is how Alertmanager resolves relative template paths: deploy the
  ``alertmanager/`` directory as a whole.
"""

from __future__ import annotations

import dataclasses
from importlib import resources
from typing import Any

from ..model import conventions as names
from ..model.artifacts import Files, TextFile, YamlFile
from ..model.domain import Project, SeverityLevel
from ..model.durations import format_duration
from ..model.promql import Matcher
from ..model.receivers import render_receiver
from ..model.routing import Route, Routing, TimeInterval, Timing

TEMPLATE_SUFFIX = ".tmpl"
TEMPLATE_KEY_PREFIX = "alertmanager/"  # under templates/, in the package and in a user's override
OBJECTIVES_TEMPLATE = "sloforge-objectives.tmpl"
SEVERITIES_TEMPLATE = "sloforge-severities.tmpl"
PAGERDUTY_SEVERITIES = ("critical", "error", "warning", "info")
# Catalog labels whose meaning is plain, and the PagerDuty severity that says the same.
PAGERDUTY_WORDS = {
    **{s: s for s in PAGERDUTY_SEVERITIES},
    "high": "error",
    "medium": "warning",
    "moderate": "warning",
    "low": "info",
}
DEFAULT_GROUP_BY = [names.LABEL_ALERTNAME, names.LABEL_SERVICE, names.LABEL_SLO]


def build_alertmanager(project: Project) -> Files:
    spec = project.routing
    if spec is None:
        return {}
    sources = tuple(project.sources)
    templates = notification_templates(project)
    config_dir = names.ALERTMANAGER_CONFIG.rsplit("/", 1)[0]
    config = build_config(spec, project.settings.severities)
    files: Files = {names.ALERTMANAGER_CONFIG: YamlFile(config, sources)}
    for name, text in templates.items():
        path = f"{config_dir}/{names.ALERTMANAGER_TEMPLATES}/{name}"
        files[path] = TextFile(text, sources, "go-template")
    files[names.ALERTMANAGER_ROUTING_TESTS] = YamlFile(routing_tests(spec), sources)
    return files


def build_config(spec: Routing, severities: tuple[SeverityLevel, ...] = ()) -> dict[str, Any]:
    config: dict[str, Any] = {}
    if spec.smtp is not None:
        config["global"] = _smtp(spec)
    config["templates"] = [f"{names.ALERTMANAGER_TEMPLATES}/*{TEMPLATE_SUFFIX}"]
    config["route"] = root_route(spec, severities)
    config["inhibit_rules"] = inhibit_rules(spec)
    config["receivers"] = [render_receiver(r.data()) for r in spec.receivers]
    if spec.time_intervals:
        config["time_intervals"] = [
            {"name": name, "time_intervals": [_time_interval(e) for e in entries]}
            for name, entries in spec.time_intervals
        ]
    return config


def _smtp(spec: Routing) -> dict[str, Any]:
    smtp = spec.smtp
    assert smtp is not None
    fields = {
        "smtp_smarthost": smtp.smarthost,
        "smtp_from": smtp.from_,
        "smtp_hello": smtp.hello,
        "smtp_auth_username": smtp.auth_username,
        "smtp_auth_password_file": smtp.auth_password_file,
        "smtp_require_tls": smtp.require_tls,
    }
    return {k: v for k, v in fields.items() if v is not None}


def root_route(spec: Routing, severities: tuple[SeverityLevel, ...] = ()) -> dict[str, Any]:
    route: dict[str, Any] = {"receiver": spec.default_receiver}
    timing = _timing(spec.defaults)
    timing.setdefault("group_by", list(DEFAULT_GROUP_BY))
    route.update(timing)
    children = [
        child
        for r in spec.routes
        for child in fan_out(with_catalog_timing(r, severities), spec.mute_during)
    ]
    children += [
        child for r in catalog_routes(severities) for child in fan_out(r, spec.mute_during)
    ]
    if children:
        route["routes"] = children
    return route


def fan_out(route: Route, mute_everywhere: tuple[str, ...]) -> list[dict[str, Any]]:
    """One Alertmanager route per receiver; all but the last continue to the next.

    Each copy gets lists of its own, so no YAML anchors are ever needed."""
    mutes = list(dict.fromkeys([*route.mute_during, *mute_everywhere]))
    out = []
    last = len(route.receivers) - 1
    for index, receiver in enumerate(route.receivers):
        child: dict[str, Any] = {"receiver": receiver}
        if route.matchers:
            child["matchers"] = [m.alertmanager() for m in route.matchers]
        if index < last or route.continue_:
            child["continue"] = True
        child.update(_timing(route.timing))
        if route.active_during:
            child["active_time_intervals"] = list(route.active_during)
        if mutes:
            child["mute_time_intervals"] = list(mutes)
        out.append(child)
    return out


# --- the severity catalog's routes ------------------------------------------------------


def catalog_routes(severities: tuple[SeverityLevel, ...]) -> list[Route]:
    """One route per catalog severity with default receivers, after the AlertRouting routes."""
    return [
        Route(
            matchers=(Matcher(names.LABEL_SEVERITY, "=", level.label),),
            receivers=level.receivers,
            timing=Timing(repeat_interval=_repeat(level)),
        )
        for level in severities
        if level.receivers
    ]


def with_catalog_timing(route: Route, severities: tuple[SeverityLevel, ...]) -> Route:
    """A route that matches one catalog severity only repeats as that severity says,
    unless the route sets its own repeat_interval."""
    if route.timing.repeat_interval is not None:
        return route
    matchers = [m for m in route.matchers if m.label == names.LABEL_SEVERITY]
    accepted = [s for s in severities if matchers and all(m.accepts(s.label) for m in matchers)]
    if len(accepted) != 1 or accepted[0].repeat_interval is None:
        return route
    timing = dataclasses.replace(route.timing, repeat_interval=_repeat(accepted[0]))
    return dataclasses.replace(route, timing=timing)


def _repeat(level: SeverityLevel) -> str | None:
    return format_duration(level.repeat_interval) if level.repeat_interval else None


def _timing(timing: Timing) -> dict[str, Any]:
    fields = ("group_by", "group_wait", "group_interval", "repeat_interval")
    found = {f: getattr(timing, f) for f in fields if getattr(timing, f) is not None}
    if "group_by" in found:
        found["group_by"] = list(found["group_by"])
    return found


def _time_interval(entry: TimeInterval) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if entry.times is not None:
        out["times"] = [{"start_time": t.start_time, "end_time": t.end_time} for t in entry.times]
    for key in ("weekdays", "days_of_month", "months", "years"):
        value = getattr(entry, key)
        if value is not None:
            out[key] = list(value)
    if entry.location is not None:
        out["location"] = entry.location
    return out


def inhibit_rules(spec: Routing) -> list[dict[str, Any]]:
    def rule(
        source: tuple[Matcher, ...], target: tuple[Matcher, ...], equal: list[str]
    ) -> dict[str, Any]:
        return {
            "source_matchers": [m.alertmanager() for m in source],
            "target_matchers": [m.alertmanager() for m in target],
            "equal": equal,
        }

    built_in = [
        # A page already has someone looking: the ticket of the same SLO adds nothing.
        rule(
            (Matcher(names.LABEL_SLO_TIER, "=", "page"),),
            (Matcher(names.LABEL_SLO_TIER, "=", "ticket"),),
            [names.LABEL_SERVICE, names.LABEL_SLO],
        ),
        rule(
            (Matcher(names.LABEL_SEVERITY, "=", names.PAGE_SEVERITY),),
            (Matcher(names.LABEL_SEVERITY, "=", names.TICKET_SEVERITY),),
            [names.LABEL_ALERTNAME, names.LABEL_SERVICE],
        ),
    ]
    extra = [rule(r.source, r.target, list(r.equal)) for r in spec.inhibit]
    return built_in + extra


def routing_tests(spec: Routing) -> dict[str, Any]:
    """The `expect:` cases, for `sloforge test` to replay with `amtool config routes test`."""
    return {
        "config": names.ALERTMANAGER_CONFIG.rsplit("/", 1)[1],
        "tests": [{"labels": dict(c.labels), "receivers": list(c.receivers)} for c in spec.expect],
    }


# --- notification templates ------------------------------------------------------------


def default_templates() -> dict[str, str]:
    root = (
        resources.files("sloforge").joinpath("templates").joinpath(TEMPLATE_KEY_PREFIX.rstrip("/"))
    )
    return {
        entry.name: entry.read_text(encoding="utf-8")
        for entry in sorted(root.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(TEMPLATE_SUFFIX)
    }


def notification_templates(project: Project) -> dict[str, str]:
    """Packaged templates; a user's ``templates/alertmanager/<name>`` replaces one."""
    found = default_templates()
    for key, text in project.user_files.templates:
        if key.startswith(TEMPLATE_KEY_PREFIX) and key.endswith(TEMPLATE_SUFFIX):
            found[key.removeprefix(TEMPLATE_KEY_PREFIX)] = text
    found[OBJECTIVES_TEMPLATE] = objectives_template(project)
    found[SEVERITIES_TEMPLATE] = severities_template(project.settings.severities)
    return dict(sorted(found.items()))


def pagerduty_severities(levels: tuple[SeverityLevel, ...]) -> dict[str, str]:
    """PagerDuty's severity (critical, error, warning, info) for each severity label.

    In order: a label or name that is a PagerDuty severity, or high/medium/moderate/low,
    keeps that meaning; an escalation target is critical; then by class in catalog order,
    the first page entry is critical and later pages error, the first ticket entry warning
    and later tickets info; an entry with no class is warning. Without a catalog:
    critical and warning as they are, anything else info.
    """
    if not levels:
        return {"critical": "critical", "warning": "warning"}
    targets = {lv.escalate.to for lv in levels if lv.escalate is not None}
    found: dict[str, str] = {}
    seen: set[str] = set()
    for level in levels:
        word = PAGERDUTY_WORDS.get(level.label.lower()) or PAGERDUTY_WORDS.get(level.name.lower())
        if word is None and level.name in targets:
            word = "critical"
        if word is None and level.kind is not None:
            first = level.kind not in seen
            word = {"page": ("error", "critical"), "ticket": ("info", "warning")}[level.kind][first]
        found[level.label] = word or "warning"
        if level.kind is not None:
            seen.add(level.kind)
    return found


def severities_template(levels: tuple[SeverityLevel, ...]) -> str:
    """``sloforge.pagerduty.severity``: the catalog's severities mapped to PagerDuty's."""
    lines = ['{{ define "sloforge.pagerduty.severity" -}}']
    for index, (label, severity) in enumerate(pagerduty_severities(levels).items()):
        keyword = "if" if index == 0 else "else if"
        condition = f"eq .CommonLabels.severity {_go_string(label)}"
        lines.append(f"{{{{- {keyword} {condition} -}}}}{severity}")
    lines.append("{{- else -}}info{{- end -}}")
    lines.append("{{- end }}")
    return "\n".join(lines) + "\n"


def objectives_template(project: Project) -> str:
    """``sloforge.objective``: an alert's SLO objective, known at compile time, not from labels."""
    branches = []
    for service in project.services:
        for slo in service.slos:
            condition = (
                f"and (eq .Labels.{names.LABEL_SERVICE} {_go_string(slo.service)}) "
                f"(eq .Labels.{names.LABEL_SLO} {_go_string(slo.name)})"
            )
            objective = f"{slo.objective:g}% over {slo.period_text}"
            branches.append((condition, objective))
    lines = ['{{ define "sloforge.objective" -}}']
    for index, (condition, objective) in enumerate(branches):
        keyword = "if" if index == 0 else "else if"
        lines.append(f"{{{{- {keyword} {condition} -}}}}{objective}")
    if branches:
        lines.append("{{- else -}}unknown{{- end -}}")
    else:
        lines.append("unknown")
    lines.append("{{- end }}")
    return "\n".join(lines) + "\n"


def _go_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
