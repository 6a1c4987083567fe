"""Grafana dashboards (built with grafanalib) and the provisioning file that loads them.

- ``slo-overview``: every SLO at a glance, fastest-burning first.
- ``<service>``: per SLO a row with the SLI against its objective, the budget
  burn-down, burn rates per alert window with the tier thresholds drawn, event
  rates and alert state; plus the traffic/errors/latency the SLIs measure and
  the signal behind each structured plain alert (CPU, memory, disk, ...).

Every query reads either a series sloforge records (conventions.py) or a raw
series an SLI or alert already names, so a dashboard never shows a metric the
rules do not use. Panels are laid out on Grafana's 24-column grid in order, and
ids are assigned in that order, so the JSON is byte-identical for the same input.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from grafanalib import core as g

from ..errors import CompileError
from ..model import baseline as baselines
from ..model import conventions as names
from ..model import links
from ..model import sli as sli_queries
from ..model.artifacts import Files, JsonFile, YamlFile
from ..model.domain import SLI, SLO, Alert, DashboardRow, Panel, Project, Service, Settings
from ..model.durations import format_duration
from ..model.promql import Matcher, Selector, number
from ..model.windows import base_window, period_record

SCHEMA_VERSION = 39
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
RATE_WINDOW = "5m"
TAGS = ["sloforge", "slo"]
PROVISIONING_PATH = "/etc/grafana/dashboards"  # where out/grafana/dashboards lands (README)

_S = names.LABEL_SERVICE
_L = names.LABEL_SLO
_BY_SLO = f"by ({_S}, {_L})"
_VAR_SERVICE, _VAR_SLO = names.DASHBOARD_SERVICE_VARIABLE, names.DASHBOARD_SLO_VARIABLE

Steps = list[tuple[float | None, str]]  # Grafana threshold steps: (from value, colour)

# Grafana unit ids. A burn rate is a multiple of the sustainable rate; counts of alerts
# or queue messages are plain numbers ("short" scales 12000 to 12 K).
BURN_UNIT = "suffix:x"
COUNT_UNIT = "short"
TEXT_UNIT = "string"  # a table's label columns; its number columns carry their own units
# A dashboard of thousands of panels does not load: past this many SLOs the overview's
# burn-down row stops (each service dashboard has every SLO's burn-down).
BURN_DOWN_PANELS = 60


def build_dashboards(project: Project) -> Files:
    # JSON files (keys sorted, jsonout writes them), then Grafana's provisioning file.
    files: Files = {path: JsonFile(data) for path, data in _built(project).dashboards.items()}
    files[names.GRAFANA_PROVISIONING_FILE] = provisioning(project)
    return files


@dataclass(frozen=True)
class PanelRef:
    """A panel of a generated dashboard, which a link can open alone (``viewPanel``)."""

    uid: str
    panel_id: int
    title: str


PanelIndex = dict[tuple[str, str], tuple[PanelRef, ...]]  # (service, alert) -> its panels


def panel_index(project: Project) -> PanelIndex:
    """The panels that show each alert's signal, for its runbook to link to."""
    return _built(project).index


@dataclass(frozen=True)
class _Built:
    project: Project
    dashboards: dict[str, dict[str, Any]]  # file -> Grafana JSON data
    index: PanelIndex


# The last project built: runbooks link to its panels without laying out every dashboard a
# second time (in one run both builders get the same Project object).
_last: list[_Built] = []


def _built(project: Project) -> _Built:
    if _last and _last[0].project is project:
        return _last[0]
    for reserved in (names.OVERVIEW_DASHBOARD, names.BUSINESS_DASHBOARD):
        if any(s.name == reserved for s in project.services):
            raise CompileError(
                f"service {reserved!r} would overwrite the dashboard "
                f"{names.dashboard_file(reserved)}: rename the service"
            )
    dashboards = {names.dashboard_file(names.OVERVIEW_DASHBOARD): overview(project)}
    index: dict[tuple[str, str], list[PanelRef]] = {}

    def collect(service: str, uid: str, layout: _Layout) -> None:
        for alert, ids in layout.anchors.items():
            refs = index.setdefault((service, alert), [])
            refs += [PanelRef(uid, i, layout.panels[i - 1]["title"]) for i in ids]

    business, business_layouts = _business(project)
    if business is not None:
        dashboards[names.dashboard_file(names.BUSINESS_DASHBOARD)] = business
        for name, layout in business_layouts.items():
            collect(name, links.BUSINESS_UID, layout)
    for service in project.services:
        data, own = _service_layout(service, project.settings)
        dashboards[names.dashboard_file(service.name)] = data
        collect(service.name, links.dashboard_uid(service.name), own)
    built = _Built(project, dashboards, {k: tuple(v) for k, v in index.items()})
    _last[:] = [built]
    return built


def provisioning(project: Project) -> YamlFile:
    doc = {
        "apiVersion": 1,
        "providers": [
            {
                "name": "sloforge",
                "folder": "SLOs",
                "type": "file",
                "disableDeletion": False,
                "allowUiUpdates": False,
                "updateIntervalSeconds": 60,
                "options": {"path": PROVISIONING_PATH, "foldersFromFilesStructure": False},
            }
        ],
    }
    return YamlFile(doc, tuple(_service_sources(project)))


# --- the overview --------------------------------------------------------------------------


def overview(project: Project) -> dict[str, Any]:
    slos = [slo for s in project.services for slo in s.slos]
    layout = _Layout()
    filters = (Matcher(_S, "=~", "$service"), Matcher(_L, "=~", "$slo"))
    if slos:
        layout.add(
            _slo_table("SLOs, fastest-burning first", slos, filters), w=24, h=4 + min(len(slos), 20)
        )
        layout.add(
            _timeseries(
                "Burn rate now (1 = the budget lasts exactly the period)",
                [
                    _target(
                        f"max {_BY_SLO} ({_sel(names.RECORD_CURRENT_BURN, filters)})",
                        "{{slo_service}} / {{slo}}",
                    )
                ],
                unit=BURN_UNIT,
                steps=[(None, "green"), (1.0, "orange")],
            ),
            w=12,
        )
        layout.add(
            _timeseries(
                "Error budget left over the SLO period",
                [
                    _target(
                        f"min {_BY_SLO} ({_sel(names.RECORD_BUDGET_REMAINING, filters)})",
                        "{{slo_service}} / {{slo}}",
                    )
                ],
                unit="percentunit",
                steps=[(None, "red"), (0.0, "orange"), (0.25, "green")],
            ),
            w=12,
        )
    alerts = _sel(
        names.ALERTS_METRIC,
        (Matcher(names.LABEL_ALERTSTATE, "=", "firing"), *filters, Matcher(_L, "!=", "")),
    )
    layout.add(_alert_table("Firing SLO alerts", alerts), w=24, h=8)
    if slos:
        _burn_downs(layout, slos)
    variables = [
        _datasource_variable(),
        _query_variable(_VAR_SERVICE, f"label_values({names.RECORD_OBJECTIVE}, {_S})"),
        _query_variable(
            _VAR_SLO, f'label_values({names.RECORD_OBJECTIVE}{{{_S}=~"$service"}}, {_L})'
        ),
    ]
    return _dashboard(
        "SLO overview",
        links.OVERVIEW_UID,
        layout,
        variables,
        "Every SLO sloforge compiled: objective, SLI over the SLO period, error budget left, "
        "burn rate and firing alerts, fastest-burning first.",
        _service_sources(project),
    )


def _shown_period(slo: SLO) -> str:
    """A panel's time range: the SLO period; a calendar period's longest length, which shows
    the current period and the last reset."""
    return format_duration(slo.calendar.longest if slo.calendar is not None else slo.period)


def _burn_downs(layout: _Layout, slos: list[SLO]) -> None:
    """Per SLO, the error budget left over the whole of its own period (each panel's time
    range is the SLO's period, whatever the dashboard's range)."""
    layout.row("Error budget burn-down, each over its SLO period")
    for slo in slos[:BURN_DOWN_PANELS]:
        own = (Matcher(_S, "=", slo.service), Matcher(_L, "=", slo.name))
        group = "".join(f" {{{{{label}}}}}" for label in slo.sli.group_by)
        panel = _timeseries(
            f"{slo.service} / {slo.name}: {number(slo.objective)}% over {slo.period_text}",
            [_target(_sel(names.RECORD_BUDGET_REMAINING, own), f"budget left{group}")],
            unit="percentunit",
            steps=[(None, "red"), (0.0, "orange"), (0.25, "green")],
            description="Share of the period's error budget not yet spent (1 = untouched, "
            "below 0 = the SLO is missed).",
            time_from=_shown_period(slo),
        )
        layout.add(panel, w=8, h=6)


def _slo_table(title: str, slos: list[SLO], filters: tuple[Matcher, ...]) -> dict[str, Any]:
    objective = f"max {_BY_SLO} ({_sel(names.RECORD_OBJECTIVE, filters)})"
    sli = f"1 - max {_BY_SLO} ({_period_ratios(slos, filters)})"
    remaining = f"min {_BY_SLO} ({_sel(names.RECORD_BUDGET_REMAINING, filters)})"
    burn = f"max {_BY_SLO} ({_sel(names.RECORD_CURRENT_BURN, filters)})"
    firing = _sel(
        names.ALERTS_METRIC,
        (Matcher(names.LABEL_ALERTSTATE, "=", "firing"), *filters, Matcher(_L, "!=", "")),
    )
    alerts = f"count {_BY_SLO} ({firing})\nor\n0 * {objective}"
    budget_steps: Steps = [(None, "red"), (0.0, "orange"), (0.25, "green")]
    burn_steps: Steps = [(None, "green"), (1.0, "orange"), (6.0, "red")]
    columns: list[tuple[str, str, str, Steps]] = [
        ("Objective", objective, "percentunit", []),
        ("SLI over its period", sli, "percentunit", []),
        ("Error budget left", remaining, "percentunit", budget_steps),
        ("Burn rate", burn, BURN_UNIT, burn_steps),
        ("Firing alerts", alerts, COUNT_UNIT, []),
    ]
    targets = [_target(c[1], "", instant=True, ref=_ref(i)) for i, c in enumerate(columns)]
    rename = {f"Value #{_ref(i)}": c[0] for i, c in enumerate(columns)}
    order = {_S: 0, _L: 1, **{c[0]: i + 2 for i, c in enumerate(columns)}}
    overrides = [_override(name, unit, steps) for name, _, unit, steps in columns]
    table = g.Table(
        title=title,
        unit=TEXT_UNIT,
        targets=targets,
        transformations=[
            {"id": "merge", "options": {}},
            {
                "id": "organize",
                "options": {
                    "excludeByName": {"Time": True},
                    "indexByName": order,
                    "renameByName": {**rename, _S: "service", _L: "SLO"},
                },
            },
        ],
        overrides=overrides,
        sortBy=[g.TableSortByField(displayName="Burn rate", desc=True)],
        extraJson={"fieldConfig": {"defaults": {"thresholds": _thresholds([(None, "text")])}}},
    )
    return _current(table)


def _period_ratios(slos: list[SLO], filters: tuple[Matcher, ...]) -> str:
    """The error ratio over each SLO's own period (periods differ: 28d, 30d, 7d...)."""
    groups: dict[tuple[int, str, str], list[str]] = {}
    for slo in slos:
        groups.setdefault((slo.period, period_record(slo), slo.service), []).append(slo.name)
    parts = []
    for (_, record, service), slo_names in sorted(groups.items()):
        matchers = (
            *filters,
            Matcher(_S, "=", service),
            Matcher(_L, "=~", "|".join(sorted(slo_names))),
        )
        parts.append(_sel(record, matchers))
    return "\nor\n".join(parts)


def _alert_table(title: str, expr: str) -> dict[str, Any]:
    table = g.Table(
        title=title,
        unit=TEXT_UNIT,
        targets=[_target(expr, "", instant=True)],
        transformations=[
            {
                "id": "organize",
                "options": {"excludeByName": {"Time": True, "Value": True, "__name__": True}},
            }
        ],
    )
    return _current(table)


# --- one service ---------------------------------------------------------------------------


def service_dashboard(service: Service, settings: Settings) -> dict[str, Any]:
    return _service_layout(service, settings)[0]


def _service_layout(service: Service, settings: Settings) -> tuple[dict[str, Any], _Layout]:
    layout = _Layout()
    own = (Matcher(_S, "=", "$service"),)
    layout.row("Service level objectives" if service.slos else "Alerts")
    if service.slos:
        filters = (*own, Matcher(_L, "=~", "$slo"))
        layout.add(
            _slo_table("SLOs of this service, fastest-burning first", list(service.slos), filters),
            w=24,
            h=4 + len(service.slos),
        )
    alerts = _sel(names.ALERTS_METRIC, (Matcher(names.LABEL_ALERTSTATE, "=", "firing"), *own))
    layout.add(_alert_table("Firing alerts of this service", alerts), w=12, h=8)
    layout.add(_alert_state("Alert state over time", _sel(names.ALERTS_METRIC, own)), w=12, h=8)
    _red(layout, service)
    business = {a.name for a in service.alerts if _is_business(a)}
    _use(layout, [a for a in service.alerts if a.name not in business])
    for slo in service.slos:
        _slo_row(layout, slo, settings)
    _user_rows(layout, [r for r in service.dashboard_rows if not r.business])
    variables = [_datasource_variable(), _constant_variable(_VAR_SERVICE, service.name)]
    if service.slos:
        variables.append(_custom_variable(_VAR_SLO, [s.name for s in service.slos]))
    description = service.description or f"SLOs and alerts of {service.name}."
    dashboard = _dashboard(
        f"SLOs: {service.name}",
        links.dashboard_uid(service.name),
        layout,
        variables,
        description,
        (service.source,),
    )
    return dashboard, layout


def _alert_state(title: str, alerts: str) -> dict[str, Any]:
    return _timeseries(
        title,
        [_target(f"sum by (alertname, alertstate) ({alerts})", "{{alertname}} {{alertstate}}")],
        unit=COUNT_UNIT,
        draw="bars",
        description="Alerts pending and firing, one bar per alert and state (ALERTS).",
    )


# Labels that carry an HTTP or gRPC status code, in the spellings of Prometheus client
# libraries, OpenTelemetry and the common exporters.
STATUS_LABELS = (
    "code",
    "status",
    "status_code",
    "http_status",
    "http_status_code",
    "http_response_status_code",
    "response_code",
    "grpc_code",
    "grpc_status",
)
_NEGATED = {"!=": "=", "!~": "=~"}


def _status_errors(sli: SLI) -> tuple[Selector, str] | None:
    """The error series of a ratio SLI and the label that holds its status code: the
    `errors` selector, or the `good` one with its status matcher negated."""
    if sli.kind != "ratio":
        return None
    if sli.errors is not None:
        for m in sli.errors.matchers:
            if m.label in STATUS_LABELS:
                return sli.errors, m.label
        return None
    assert sli.good is not None
    for i, m in enumerate(sli.good.matchers):
        if m.label in STATUS_LABELS and m.op in _NEGATED:
            matchers = list(sli.good.matchers)
            matchers[i] = Matcher(m.label, _NEGATED[m.op], m.value)
            return Selector(sli.good.metric, tuple(matchers)), m.label
    return None


def _red(layout: _Layout, service: Service) -> None:
    """Rate, errors and duration, read from the raw series the service's SLIs name."""
    traffic: dict[str, str] = {}
    by_status: dict[str, str] = {}
    for slo in service.slos:
        sli = slo.sli
        if sli.kind == "ratio" and sli.total is not None:
            traffic.setdefault(f"sum(rate({sli.total.render()}[{RATE_WINDOW}]))", sli.total.metric)
        elif sli.kind == "latency":
            count = Selector(f"{sli.histogram}_count", sli.matchers)
            traffic.setdefault(f"sum(rate({count.render()}[{RATE_WINDOW}]))", count.metric)
        status = _status_errors(sli)
        if status is not None:
            selector, label = status
            by_status.setdefault(
                f"sum by ({label}) (rate({selector.render()}[{RATE_WINDOW}]))", f"{{{{{label}}}}}"
            )
    ratios = [s for s in service.slos if s.sli.kind in ("ratio", "query")]
    latencies = [s for s in service.slos if s.sli.kind == "latency"]
    if not (traffic or by_status or ratios or latencies):
        return
    layout.row("Requests, errors, duration (RED)")
    if traffic:
        layout.add(
            _timeseries(
                "Requests per second",
                [_target(e, legend) for e, legend in traffic.items()],
                unit="reqps",
            ),
            w=8,
        )
    if by_status:
        layout.add(
            _timeseries(
                "Errors per second by status code",
                [_target(e, legend) for e, legend in by_status.items()],
                unit="reqps",
                description="The error series the SLIs count, per status code.",
            ),
            w=8,
        )
    for slo in ratios:
        budget = slo.error_budget
        window = 300  # RATE_WINDOW
        group = "".join(f" {{{{{label}}}}}" for label in slo.sli.group_by)
        expr = (
            f"(\n{sli_queries.error_events(slo.sli, window)}\n)\n/\n"
            f"(\n{sli_queries.total_events(slo.sli, window)}\n)"
        )
        layout.add(
            _timeseries(
                f"Error ratio ({slo.name}) against its objective",
                [_target(expr, f"errors / total over {RATE_WINDOW}{group}")],
                unit="percentunit",
                steps=[(None, "green"), (budget, "red")],
                description=f"Share of failed events; the line is the error budget "
                f"(100% - {number(slo.objective)}% = {_percent(budget)}). Staying above it "
                f"for the whole {slo.period_text} misses the SLO.",
            ),
            w=8,
            alerts=[slo.alert_name],
        )
    for slo in latencies:
        bucket = Selector(f"{slo.sli.histogram}_bucket", slo.sli.matchers)
        rate = f"sum by (le) (rate({bucket.render()}[{RATE_WINDOW}]))"
        targets = [
            _target(f"histogram_quantile({q}, {rate})", f"p{round(q * 100)}")
            for q in (0.5, 0.95, 0.99)
        ]
        layout.add(
            _timeseries(
                f"Latency ({slo.name}, threshold {number(slo.sli.threshold)} s)",
                targets,
                unit="s",
                steps=[(None, "green"), (slo.sli.threshold, "red")],
                description=f"{number(slo.objective)}% of requests should be faster than "
                f"{number(slo.sli.threshold)} s (the line); p50/p95/p99 from "
                f"{slo.sli.histogram}.",
            ),
            w=8,
            alerts=[slo.alert_name],
        )


def _percent(ratio: float) -> str:
    return f"{number(float(f'{ratio * 100:.3g}'))}%"


def _slo_row(layout: _Layout, slo: SLO, settings: Settings) -> None:
    layout.row(f"SLO {slo.name}: {number(slo.objective)}% over {slo.period_text}")
    own = (Matcher(_S, "=", "$service"), Matcher(_L, "=", slo.name))
    group = "".join(f" {{{{{label}}}}}" for label in slo.sli.group_by)
    base = base_window(slo)
    objective = number(slo.objective_ratio)
    layout.add(
        _timeseries(
            "SLI against its objective",
            [
                _target(
                    f"1 - {_sel(names.error_ratio_record(base), own)}",
                    f"SLI over {format_duration(base)}{group}",
                ),
                _target(
                    f"1 - {_sel(period_record(slo), own)}",
                    f"SLI over {slo.period_text}{group}",
                ),
                _target(_sel(names.RECORD_OBJECTIVE, own), "objective"),
            ],
            unit="percentunit",
            steps=[(None, "red"), (slo.objective_ratio, "green")],
            description=f"Good events as a share of all; the objective is {objective}.",
        ),
        w=8,
        alerts=[slo.alert_name],
    )
    layout.add(
        _timeseries(
            "Error budget left (burn-down)",
            [_target(_sel(names.RECORD_BUDGET_REMAINING, own), f"budget left{group}")],
            unit="percentunit",
            steps=[(None, "red"), (0.0, "orange"), (0.25, "green")],
            description=f"Share of the {slo.period_text} error budget not yet spent; "
            "below 0 the SLO is missed. The panel always shows the whole period.",
            time_from=_shown_period(slo),
        ),
        w=8,
    )
    windows = slo.windows or (base,)
    burn = [
        _target(
            f"{_sel(names.error_ratio_record(w), own)} / {number(slo.error_budget)}",
            f"{format_duration(w)}{group}",
        )
        for w in windows
    ]
    steps: Steps = [(None, "green")]
    for tier in sorted(slo.tiers, key=lambda t: t.burn_rate):
        if all(value != tier.burn_rate for value, _ in steps):
            steps.append((tier.burn_rate, "red" if tier.kind == "page" else "orange"))
    tiers = ", ".join(
        f"{t.kind} {_windows(t.long_window, t.short_window)} at {number(t.burn_rate)}x"
        for t in slo.tiers
    )
    layout.add(
        _timeseries(
            "Burn rate per alert window",
            burn,
            unit=BURN_UNIT,
            steps=steps,
            description="Error ratio / error budget per window. "
            f"Tier thresholds: {tiers or 'no tiers'}. "
            "A tier fires when both its windows are above its line.",
            links=_runbook_links(slo, settings),
        ),
        w=8,
        alerts=[slo.alert_name],
    )
    layout.add(
        _timeseries("Events per second", _event_targets(slo, own, group), unit=event_unit(slo)),
        w=12,
    )
    if slo.tiers:
        alerts = _sel(
            names.ALERTS_METRIC, (Matcher(names.LABEL_ALERTNAME, "=", slo.alert_name), *own)
        )
        layout.add(
            _timeseries(
                f"Alert state: {slo.alert_name}",
                [
                    _target(
                        f"sum by (alertstate, long_window, short_window) ({alerts})",
                        "{{alertstate}} {{long_window}}/{{short_window}}",
                    )
                ],
                unit=COUNT_UNIT,
                draw="bars",
            ),
            w=12,
        )


def _event_targets(slo: SLO, own: tuple[Matcher, ...], group: str) -> list[dict[str, Any]]:
    base = base_window(slo)
    if slo.strategy == "efficient":
        total = _sel(names.total_events_record(base), own)
        errors = _sel(names.error_events_record(base), own)
    else:  # exact: nothing recorded per event, read the SLI itself
        total = sli_queries.total_events(slo.sli, base)
        errors = sli_queries.error_events(slo.sli, base)
    return [_target(total, f"total{group}"), _target(errors, f"errors{group}")]


def event_unit(slo: SLO) -> str:
    """What an SLO's events are per second: requests when its series say so, probes for a
    probe SLI, otherwise events (orders, jobs, messages...)."""
    sli = slo.sli
    if sli.kind == "probe":
        return "suffix: probes/s"
    if sli.kind == "timeslices":
        return "suffix: slices/s"
    if sli.kind == "latency" or (sli.total is not None and "request" in sli.total.metric):
        return "reqps"
    return "suffix: events/s"


# Prometheus' naming conventions put the unit at the end of a metric's name
# (https://prometheus.io/docs/practices/naming/): the first match wins.
_SIGNAL_UNITS = (
    ("bytes_total", "Bps"),  # a counter of bytes is read as a rate
    ("bytes", "bytes"),
    ("seconds_total", "percentunit"),  # CPU seconds per second: a share of one core
    ("seconds", "s"),
    ("ratio", "percentunit"),
    ("utilisation", "percentunit"),
    ("utilization", "percentunit"),
    ("percent", "percent"),
    ("celsius", "celsius"),
    ("success", "bool_yes_no"),
    ("up", "bool_yes_no"),
)


def signal_unit(metric: str) -> str:
    """The Grafana unit of a metric from its name (a recording rule's last two parts, e.g.
    instance:node_memory_utilisation:ratio, or a raw metric's suffix); plain numbers else."""
    parts = [p for p in metric.split(":") if p]
    words = " ".join(parts[-2:]) if len(parts) > 1 else metric
    if "bytes" in words and "rate" in words:
        return "Bps"
    for suffix, unit in _SIGNAL_UNITS:
        if any(
            w == suffix or w.endswith(f"_{suffix}") or w.startswith(f"{suffix}_")
            for w in words.split()
        ):
            return unit
    return COUNT_UNIT


def _runbook_links(slo: SLO, settings: Settings) -> list[dict[str, Any]]:
    if not settings.runbook_base_url:
        return []  # a path inside out/ means nothing to Grafana
    return [
        _link(
            "Runbook",
            links.runbook_url(settings, slo.service, slo.alert_name),
            f"What to do when {slo.alert_name} fires",
        )
    ]


def _link(title: str, url: str, tooltip: str) -> dict[str, Any]:
    """A panel link in the shape Grafana's schema gives every link."""
    return {
        "asDropdown": False,
        "icon": "doc",
        "includeVars": False,
        "keepTime": False,
        "tags": [],
        "targetBlank": True,
        "title": title,
        "tooltip": tooltip,
        "type": "link",
        "url": url,
    }


_SEVERITY_COLOURS = {"critical": "red", "page": "red", "warning": "orange", "info": "yellow"}


def _is_business(alert: Alert) -> bool:
    return dict(alert.labels).get(names.LABEL_CATEGORY) == names.CATEGORY_BUSINESS


def _use(
    layout: _Layout, alerts: list[Alert], title: str = "Saturation and dependencies (USE)"
) -> None:
    """One panel per value structured alerts compare (a metric, or a histogram's percentile),
    every alert's threshold drawn on it (a busy and a saturated CPU alert share a panel)."""
    signals = _signals(alerts)
    watched = [a for a in alerts if a.baseline is not None]
    if not (signals or watched):
        return
    layout.row(title)
    for (expr, op, unit), group in signals.items():
        layout.add(_signal_panel(expr, op, unit, group), w=8, alerts=[a.name for a, _ in group])
    for alert in watched:
        layout.add(baseline_panel(alert), w=8, alerts=[alert.name])


def baseline_panel(alert: Alert) -> dict[str, Any]:
    """A baseline alert's metric between the bound(s) its recordings draw (model/baseline.py)."""
    b = alert.baseline
    assert b is not None
    metric = b.metric.render()
    targets = [_target(metric, "value")]
    for op, bound in baselines.bounds(alert.service, alert.name, b).items():
        targets.append(_target(bound, "lower bound" if op == "<" else "upper bound"))
    hold = format_duration(alert.for_) or "0s"
    return _timeseries(
        f"{alert.name}: against its baseline",
        targets,
        unit=signal_unit(b.metric.metric),
        description=f"{alert.name} ({alert.severity}) fires when {metric} is "
        f"{baselines.describe(b)}, for {hold}.",
    )


Signal = tuple[str, str, str]  # (PromQL of the value, ">" or "<", Grafana unit)


def _signals(alerts: Iterable[Alert]) -> dict[Signal, list[tuple[Alert, float]]]:
    found: dict[Signal, list[tuple[Alert, float]]] = {}
    for alert in alerts:
        if alert.threshold is not None:
            t = alert.threshold
            key = (t.metric.render(), t.op, signal_unit(t.metric.metric))
            found.setdefault(key, []).append((alert, t.value))
        elif alert.percentile is not None:
            p = alert.percentile
            by = ", ".join((names.LABEL_BUCKET, *p.group_by))
            rate = f"rate({p.buckets.render()}[{format_duration(p.window)}])"
            expr = f"histogram_quantile({number(p.quantile)}, sum by ({by}) ({rate}))"
            found.setdefault((expr, ">", signal_unit(p.histogram)), []).append((alert, p.value))
    return found


def _signal_panel(
    expr: str, op: str, unit: str, alerts: list[tuple[Alert, float]]
) -> dict[str, Any]:
    ordered = sorted(alerts, key=lambda pair: pair[1])
    if op == ">":
        steps: Steps = [(None, "green")]
        steps += [(v, _SEVERITY_COLOURS.get(a.severity, "orange")) for a, v in ordered]
    else:  # below: red under the lowest threshold, green above the highest
        steps = [(None, "red")]
        steps += [(v, "orange") for _, v in ordered[:-1]]
        steps += [(v, "green") for _, v in ordered[-1:]]
    word = "above" if op == ">" else "below"
    lines = [
        f"{a.name} ({a.severity}) fires {word} {number(v)} for {format_duration(a.for_) or '0s'}."
        for a, v in ordered
    ]
    summary = next((a.summary for a, _ in ordered if a.summary), "")
    return _timeseries(
        ", ".join(a.name for a, _ in ordered),
        [_target(expr, "")],
        unit=unit,
        steps=_distinct(steps),
        description=" ".join([summary, *lines]).strip(),
    )


def _distinct(steps: Steps) -> Steps:
    """Grafana keeps one colour per value: the first alert at a value names it."""
    seen: set[float | None] = set()
    out: Steps = []
    for value, colour in steps:
        if value not in seen:
            seen.add(value)
            out.append((value, colour))
    return out


def _user_rows(layout: _Layout, rows: Iterable[DashboardRow]) -> None:
    for row in rows:
        layout.row(row.title)
        for panel in row.panels:
            layout.add(_user_panel(panel), w=panel.width, h=panel.height, alerts=panel.alerts)


def _user_panel(panel: Panel) -> dict[str, Any]:
    steps: Steps = [(None, "green"), *panel.thresholds]
    targets = [_target(q.expr, q.legend, instant=panel.kind == "table") for q in panel.queries]
    if panel.kind == "timeseries":
        return _timeseries(
            panel.title,
            targets,
            unit=panel.unit,
            steps=steps if panel.thresholds else None,
            description=panel.description,
        )
    if panel.kind == "table":
        built = g.Table(title=panel.title, unit=panel.unit, targets=[])
    elif panel.kind == "stat":
        built = g.Stat(title=panel.title, format=panel.unit, reduceCalc="lastNotNull")
    else:
        built = g.GaugePanel(title=panel.title, format=panel.unit, calc="lastNotNull")
    data = _current(built)
    data["fieldConfig"] = {
        "defaults": {"thresholds": _thresholds(steps), "unit": panel.unit},
        "overrides": [],
    }
    data.update(
        targets=[{**t, "refId": _ref(i)} for i, t in enumerate(targets)],
        description=panel.description or None,
        links=[],
    )
    return data


def business_dashboard(project: Project) -> dict[str, Any] | None:
    return _business(project)[0]


def _business(project: Project) -> tuple[dict[str, Any] | None, dict[str, _Layout]]:
    """Business metrics of every service: its alerts labelled category=business (their
    metrics with thresholds, their state) and its dashboard rows marked business. Also the
    layout as each service's alerts see it (alert names are unique within a service only)."""
    layout = _Layout()
    sources = []
    anchors: dict[str, _Layout] = {}
    for service in project.services:
        layout.anchors = {}
        alerts = [a for a in service.alerts if _is_business(a)]
        rows = [r for r in service.dashboard_rows if r.business]
        if not (alerts or rows):
            continue
        sources.append(service.source)
        layout.row(f"{service.name}: business alerts" if alerts else service.name)
        if alerts:
            names_re = "|".join(sorted(a.name for a in alerts))
            state = _sel(
                names.ALERTS_METRIC,
                (Matcher(_S, "=", service.name), Matcher(names.LABEL_ALERTNAME, "=~", names_re)),
            )
            layout.add(
                _alert_state(f"{service.name}: business alerts pending and firing", state),
                w=8,
                alerts=[a.name for a in alerts],
            )
            for (expr, op, unit), group in _signals(alerts).items():
                panel = _signal_panel(expr, op, unit, group)
                layout.add(panel, w=8, alerts=[a.name for a, _ in group])
            for alert in (a for a in alerts if a.baseline is not None):
                layout.add(baseline_panel(alert), w=8, alerts=[alert.name])
        _user_rows(layout, rows)
        anchors[service.name] = _Layout(panels=layout.panels, anchors=layout.anchors)
    if not layout.panels:
        return None, {}
    dashboard = _dashboard(
        "Business metrics",
        links.BUSINESS_UID,
        layout,
        [_datasource_variable()],
        "Business metrics of every service: alerts labelled "
        f"{names.LABEL_CATEGORY}={names.CATEGORY_BUSINESS} and dashboard rows marked business.",
        sorted(sources),
    )
    return dashboard, anchors


# --- building blocks -----------------------------------------------------------------------


def _service_sources(project: Project) -> list[str]:
    """The files dashboards come from: routing or settings changes leave them alone."""
    return sorted({s.source for s in project.services})


@dataclass
class _Layout:
    """Places panels left to right on the 24-column grid, wrapping and stacking rows, and
    numbers them in that order from 1 (as grafanalib's Dashboard.auto_panel_ids would)."""

    panels: list[dict[str, Any]] = field(default_factory=list)
    x: int = 0
    y: int = 0
    line_height: int = 0
    # alert name -> ids of the panels its runbook links to
    anchors: dict[str, list[int]] = field(default_factory=dict)

    def add(self, panel: dict[str, Any], w: int, h: int = 8, alerts: Iterable[str] = ()) -> None:
        if self.x + w > 24:
            self._newline()
        self._place(panel, {"h": h, "w": w, "x": self.x, "y": self.y})
        self.x += w
        self.line_height = max(self.line_height, h)
        for alert in alerts:
            self.anchors.setdefault(alert, []).append(len(self.panels))

    def row(self, title: str) -> None:
        if self.x:
            self._newline()
        # grafanalib's RowPanel carries a panel's fields a row does not have (fieldConfig,
        # links, transformations...); Grafana's row is these few.
        row = {"collapsed": False, "panels": [], "title": title, "type": "row"}
        self._place(row, {"h": 1, "w": 24, "x": 0, "y": self.y})
        self.y += 1

    def _place(self, panel: dict[str, Any], position: dict[str, int]) -> None:
        panel["gridPos"] = position
        panel["id"] = len(self.panels) + 1
        self.panels.append(panel)

    def _newline(self) -> None:
        self.y += self.line_height
        self.x, self.line_height = 0, 0


def _windows(long: int, short: int) -> str:
    return f"{format_duration(long)}/{format_duration(short)}"


def _sel(metric: str, matchers: Iterable[Matcher]) -> str:
    return Selector(metric, tuple(matchers)).render()


def _ref(index: int) -> str:
    return chr(ord("A") + index)


def _target(expr: str, legend: str, instant: bool = False, ref: str = "A") -> dict[str, Any]:
    return {
        "datasource": DATASOURCE,
        "expr": expr,
        "format": "table" if instant else "time_series",
        "instant": instant,
        "legendFormat": legend or "__auto",
        "range": not instant,
        "refId": ref,
    }


def _timeseries(
    title: str,
    targets: list[dict[str, Any]],
    unit: str,
    steps: Steps | None = None,
    description: str = "",
    draw: str = "line",
    links: list[dict[str, Any]] | None = None,
    time_from: str | None = None,
) -> dict[str, Any]:
    panel = dict(_look(unit, steps or [], draw))
    if time_from:
        panel["timeFrom"] = time_from  # this panel's range, whatever the dashboard shows
    panel.update(
        title=title,
        description=description or None,
        targets=[{**t, "refId": _ref(i)} for i, t in enumerate(targets)],
        links=links or [],
    )
    return panel


def _look(unit: str, steps: Steps, draw: str) -> dict[str, Any]:
    """A time series panel but for its title, description, queries and links."""
    # == takes 1 for 1.0 and 0.0 for -0.0, which JSON writes differently, so the steps as
    # JSON (C-encoded, quick) join the cache key.
    return _shared_look(json.dumps(steps), unit, tuple(steps), draw)


@functools.lru_cache(maxsize=256)
def _shared_look(
    exact_steps: str, unit: str, steps: tuple[tuple[float | None, str], ...], draw: str
) -> dict[str, Any]:
    """Built by grafanalib once and shared by every panel of this look: building one per panel
    cost more than its queries, and jsonout writes a shared field config and options once
    per dashboard. Shared, so copied before any edit."""
    return _current(
        g.TimeSeries(
            title="",
            unit=unit,
            drawStyle=draw,
            fillOpacity=60 if draw == "bars" else 0,
            thresholdsStyleMode="line" if steps else "off",
            legendDisplayMode="list",
            tooltipMode="multi",
            extraJson={
                "fieldConfig": {
                    "defaults": {"thresholds": _thresholds(list(steps) or [(None, "green")])}
                }
            },
        )
    )


def _thresholds(steps: Steps) -> dict[str, Any]:
    """Values rounded as people write them: 0.999, not 99.9 / 100 = 0.9990000000000001."""
    return {
        "mode": "absolute",
        "steps": [{"color": color, "value": _rounded(value)} for value, color in steps],
    }


def _rounded(value: float | None) -> float | None:
    if value is None or isinstance(value, int):
        return value
    return float(number(value))


def _override(column: str, unit: str, steps: Steps) -> dict[str, Any]:
    properties: list[dict[str, Any]] = [{"id": "unit", "value": unit}]
    if steps:
        properties.append({"id": "thresholds", "value": _thresholds(steps)})
        properties.append({"id": "custom.cellOptions", "value": {"type": "color-background"}})
    return {"matcher": {"id": "byName", "options": column}, "properties": properties}


def _datasource_variable() -> dict[str, Any]:
    return {
        "hide": 0,
        "includeAll": False,
        "label": "Data source",
        "multi": False,
        "name": "datasource",
        "options": [],
        "query": "prometheus",
        "refresh": 1,
        "regex": "",
        "type": "datasource",
    }


def _query_variable(name: str, query: str) -> dict[str, Any]:
    return {
        "allValue": ".*",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "datasource": DATASOURCE,
        "hide": 0,
        "includeAll": True,
        "label": name,
        "multi": True,
        "name": name,
        "options": [],
        "query": {"query": query, "refId": f"{name}-values"},
        "refresh": 2,
        "regex": "",
        "sort": 1,
        "type": "query",
    }


def _constant_variable(name: str, value: str) -> dict[str, Any]:
    return {
        "hide": 2,
        "label": name,
        "name": name,
        "query": value,
        "skipUrlSync": False,
        "type": "constant",
        "current": {"selected": True, "text": value, "value": value},
        "options": [{"selected": True, "text": value, "value": value}],
    }


def _custom_variable(name: str, values: list[str]) -> dict[str, Any]:
    options = [{"selected": True, "text": "All", "value": "$__all"}]
    options += [{"selected": False, "text": v, "value": v} for v in values]
    return {
        "allValue": ".*",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "hide": 0,
        "includeAll": True,
        "label": name,
        "multi": True,
        "name": name,
        "options": options,
        "query": ",".join(values),
        "type": "custom",
    }


def _dashboard(
    title: str,
    uid: str,
    layout: _Layout,
    variables: list[dict[str, Any]],
    description: str,
    sources: Iterable[str],
) -> dict[str, Any]:
    """Grafana's current JSON model (what @grafana/schema's Dashboard type describes)."""
    generated = names.GENERATED_HEADER.format(sources=", ".join(sources) or "sloforge")
    dashboard = g.Dashboard(
        title=title,
        uid=uid,
        description=f"{description} {generated}",
        tags=TAGS,
        panels=[],
        templating=g.Templating(list=[]),
        time=g.Time("now-7d", "now"),
        refresh="1m",
        timezone="browser",
        editable=True,
        graphTooltip=g.GRAPH_TOOLTIP_MODE_SHARED_CROSSHAIR,
        schemaVersion=SCHEMA_VERSION,
    )
    data = _current(dashboard.to_json_data(), _DASHBOARD_KEYS)
    # Of grafanalib's time picker only the refresh choices are current Grafana's;
    # time_options went with the old graph panel.
    data["timepicker"] = {"refresh_intervals": data["timepicker"]["refresh_intervals"]}
    data["panels"] = [_finish(panel) for panel in layout.panels]
    data["templating"] = {"list": variables}
    data["links"] = [
        {
            "asDropdown": True,
            "icon": "external link",
            "includeVars": False,
            "keepTime": True,
            "tags": ["sloforge"],
            "targetBlank": False,
            "title": "SLO dashboards",
            "tooltip": "Every dashboard sloforge generated",
            "type": "dashboards",
        }
    ]
    return data


# What @grafana/schema's Dashboard, Panel and RowPanel types hold. grafanalib still writes
# fields of Grafana's old JSON model (rows, hideControls, sharedCrosshair, a panel's
# editable, span, error, table colours...) that current Grafana ignores and that its
# schema refuses, and writes every unset option as null; only these keys, never null, pass.
_DASHBOARD_KEYS = frozenset(
    {"annotations", "description", "editable", "fiscalYearStartMonth", "graphTooltip", "links",
    "liveNow", "panels", "preload", "refresh", "schemaVersion", "tags", "templating", "time",
    "timepicker", "timezone", "title", "uid", "weekStart"}
)  # fmt: skip
_PANEL_KEYS = frozenset(
    {"datasource", "description", "fieldConfig", "gridPos", "hideTimeOverride", "id", "links",
    "options", "pluginVersion", "targets", "timeFrom", "timeShift", "title", "transformations",
    "transparent", "type"}
)  # fmt: skip
_ROW_KEYS = frozenset(["collapsed", "gridPos", "id", "panels", "title", "type"])


def _current(data: Any, keys: frozenset[str] | None = None) -> Any:
    """grafanalib's output as plain JSON data: objects turned into their JSON, nulls left out
    (Grafana's schema has optional fields, not nullable ones), and at the top level only
    ``keys``. A threshold step's null stays: it is how Grafana writes the base step (-inf)."""
    if hasattr(data, "to_json_data"):
        data = data.to_json_data()
    if isinstance(data, dict):
        return {
            k: _current(v)
            for k, v in data.items()
            if (v is not None or (k == "value" and "color" in data)) and (keys is None or k in keys)
        }
    if isinstance(data, list | tuple):
        return [_current(v) for v in data]
    return data


def _finish(panel: dict[str, Any]) -> dict[str, Any]:
    """A laid-out panel with the datasource variable on it and its queries."""
    if panel["type"] == "row":
        return {k: v for k, v in panel.items() if k in _ROW_KEYS}
    panel = {k: v for k, v in panel.items() if k in _PANEL_KEYS and v is not None}
    panel["datasource"] = DATASOURCE
    panel["targets"] = [{**t, "datasource": DATASOURCE} for t in panel.get("targets", [])]
    return panel


def panel_queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, PromQL) of every query in a dashboard, for tests and reviews."""
    found = []
    for panel in dashboard.get("panels", []):
        for target in panel.get("targets", []):
            found.append((panel.get("title", ""), target["expr"]))
    return found
