"""Runbooks: one Markdown page per generated alert, ``runbooks/<service>/<Alert>.md``.

A burn-rate SLO has one alert name for all its tiers, so one page; each plain
alert has its own. A runbook a person keeps under ``<input>/runbooks/`` (see
userfiles.py) is copied unchanged; otherwise a stub is rendered from
``templates/runbooks/*.md.j2`` (a user's ``<input>/templates/`` overrides a file).

Rendering is sandboxed with StrictUndefined. User text is only ever a value in
the template's context, never template source, and every ``{{ value }}`` is
Markdown-escaped unless sloforge built it as code or a link (``Verbatim``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from functools import cache, lru_cache, partial
from importlib import resources
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from ..errors import CompileError
from ..model import baseline as baselines
from ..model import conventions as names
from ..model import links
from ..model import sli as sli_queries
from ..model.artifacts import CopiedFile, Files, TextFile
from ..model.domain import SLO, Alert, Project, Service, Settings
from ..model.durations import format_duration, humanize
from ..model.promql import number
from ..model.windows import base_window, period_record, selector
from .dashboards import PanelIndex, PanelRef, panel_index
from .rules import escalation_description, plain_escalations, slo_escalations

BURN_RATE_TEMPLATE = "runbooks/burn-rate.md.j2"
ALERT_TEMPLATE = "runbooks/alert.md.j2"
_DEFAULTS = (BURN_RATE_TEMPLATE, ALERT_TEMPLATE)

_INLINE_SPECIALS = re.compile(r"([\\`*_\[\]<>|#!])")
_FENCE_LINE = re.compile(r"^ {0,3}(`{3,}|~{3,})")

TIER_ESCALATION = {
    "page": "pages the on-call now; acknowledge, then mitigate before you investigate.",
    "ticket": "opens a ticket for working hours: the budget burns, but too slowly to wake anyone.",
}
SEVERITY_ESCALATION = {
    "critical": "pages the on-call now.",
    "warning": "goes to the team's channel; handle it within working hours.",
    "info": "informational; no action unless it keeps firing.",
}


class Verbatim(str):
    """Text sloforge built as Markdown (code, links): not escaped again."""


def build_runbooks(project: Project) -> Files:
    edited = dict(project.user_files.runbooks)
    env = _environment(dict(project.user_files.templates))
    panels = panel_index(project)
    files: Files = {}
    for service in project.services:
        settings = project.settings
        pages: list[tuple[str, str, Callable[[], dict[str, Any]]]] = [
            (
                s.alert_name,
                BURN_RATE_TEMPLATE,
                partial(_burn_rate_context, service, s, settings, panels),
            )
            for s in service.slos
            if s.tiers
        ]
        escalations = [
            *(e for s in service.slos for e in slo_escalations(s, settings)),
            *plain_escalations(service, settings),
        ]
        escalated = [
            e.as_alert(service.name, escalation_description(e, settings, service.name))
            for e in escalations
        ]
        # An escalation shows the same signal as its source: link the source's panels.
        panels = {
            **panels,
            **{
                (service.name, e.alert): panels.get((service.name, e.source), ())
                for e in escalations
            },
            # An absent-data alert is about its SLO's series: link the SLO's panels.
            **{
                (service.name, s.absent.name): panels.get((service.name, s.alert_name), ())
                for s in service.slos
                if s.absent
            },
        }
        pages += [
            (a.name, ALERT_TEMPLATE, partial(_alert_context, service, a, settings, panels))
            for a in (*service.alerts, *escalated, *(s.absent for s in service.slos if s.absent))
        ]
        for alert_name, template, context in pages:
            path = names.runbook_file(service.name, alert_name)
            key = path.removeprefix("runbooks/")
            files[path] = (
                CopiedFile(edited[key])
                if key in edited
                else TextFile(_render(env, template, context()))
            )
    return files


# --- context: plain data, so templates can reach nothing else ---------------------------------


def _common(
    service: Service, alert: str, settings: Settings, slo: str | None, panels: PanelIndex
) -> dict[str, Any]:
    title = f"{service.name} dashboard"
    refs: tuple[PanelRef, ...] = panels.get((service.name, alert), ())
    return {
        # Only panels the generated dashboards have (tests/test_runbooks.py checks each link).
        "panels": [_link(r.title, links.panel_url(settings, r.uid, r.panel_id)) for r in refs],
        "alert": alert,
        "service": service.name,
        "owner": service.owner or "no owner set (add `owner:` to the service)",
        # Inside an HTML comment: "--" would end it early.
        "generated": Verbatim(
            names.GENERATED_HEADER.format(sources=service.source).replace("--", "- -")
        ),
        "dashboard_link": _link(title, links.dashboard_url(settings, service.name, slo)),
        "overview_link": _link("SLO overview", links.overview_url(settings)),
        "editing": Verbatim(
            "This stub is generated on every run. To keep your own version, copy it to "
            f"`runbooks/{service.name}/{alert}.md` inside the directory you pass to "
            "`sloforge generate` (e.g. `slo/`) and edit it there: sloforge then copies your "
            "file here unchanged instead of this stub."
        ),
    }


def _burn_rate_context(
    service: Service, slo: SLO, settings: Settings, panels: PanelIndex
) -> dict[str, Any]:
    budget = slo.error_budget
    tiers = [
        {
            "kind": t.kind,
            "severity": t.severity,
            "long": format_duration(t.long_window),
            "short": format_duration(t.short_window),
            "burn_rate": number(t.burn_rate),
            "threshold": _percent(t.threshold(budget)),
            "consumed": _percent(t.budget_consumed),
            "exhaustion": humanize(slo.period / t.burn_rate) if t.burn_rate > 0 else "never",
            "detection": humanize(t.detection_seconds(budget)),
        }
        for t in slo.tiers
    ]
    escalation = [
        {
            "kind": kind,
            "severity": severity,
            "response": response_time(settings, severity),
            "text": TIER_ESCALATION.get(kind, "routed on its labels."),
        }
        for kind, severity in dict.fromkeys((t.kind, t.severity) for t in slo.tiers)
    ]
    return {
        **_common(service, slo.alert_name, settings, slo.name, panels),
        "slo": {
            "name": slo.name,
            "description": slo.description,
            "objective": f"{number(slo.objective)}%",
            "window": slo.period_text,
            "error_budget": _percent(budget),
            "budget_time": humanize(budget * slo.period),
            "unit": _UNITS[slo.sli.kind],
            "sli_summary": _sli_summary(slo),
            "group_by": ", ".join(slo.sli.group_by),
            "traffic_guard": number(slo.traffic_guard) if slo.traffic_guard is not None else "",
        },
        "tiers": tiers,
        "escalation": escalation,
        "queries": _slo_queries(slo),
        "diagnosis": slo.runbook,
    }


def _alert_context(
    service: Service, alert: Alert, settings: Settings, panels: PanelIndex
) -> dict[str, Any]:
    labels = dict(alert.labels)
    queries = [{"title": "The alert's expression", "promql": alert.expr}]
    condition = ""
    if alert.threshold is not None:
        metric = alert.threshold.metric.render()
        word = "above" if alert.threshold.op == ">" else "below"
        condition = Verbatim(f"That is: {_code(metric)} is {word} {number(alert.threshold.value)}.")
        queries.insert(0, {"title": "The value it compares", "promql": metric})
    elif alert.baseline is not None:
        b = alert.baseline
        metric = b.metric.render()
        condition = Verbatim(f"That is: {_code(metric)} is {baselines.describe(b)}.")
        bounds = baselines.bounds(alert.service, alert.name, b)
        queries[:0] = [
            {"title": "The value it compares", "promql": metric},
            *(
                {
                    "title": f"The bound it must not go {'below' if op == '<' else 'above'}",
                    "promql": bound,
                }
                for op, bound in bounds.items()
            ),
        ]
    alerts = f'ALERTS{{alertname="{alert.name}", {names.LABEL_SERVICE}="{service.name}"}}'
    queries.append({"title": "When it was pending and firing", "promql": alerts})
    return {
        **_common(service, alert.name, settings, None, panels),
        "severity": alert.severity,
        "response": response_time(settings, alert.severity),
        "summary": alert.summary,
        "description": dict(alert.annotations).get(names.ANNOTATION_DESCRIPTION, ""),
        "for_": format_duration(alert.for_) if alert.for_ else "the first evaluation (no `for`)",
        "labels": sorted((k, v) for k, v in labels.items() if k not in (names.LABEL_SEVERITY,)),
        "expr": alert.expr,
        "condition": condition,
        "queries": queries,
        "escalation": SEVERITY_ESCALATION.get(
            alert.severity, "routed by Alertmanager on its labels."
        ),
        "diagnosis": alert.runbook,
    }


def response_time(settings: Settings, severity: str) -> str:
    """The catalog's response time for ``severity`` (name or label), e.g. "5m (P1)"; "" when
    the catalog gives none."""
    level = settings.severity(severity)
    if level is None or level.response_time is None:
        return ""
    return f"{format_duration(level.response_time)} ({level.name})"


_UNITS = {
    "ratio": "events",
    "latency": "requests",
    "probe": "probes",
    "query": "events",
    "timeslices": "slices",
}
_SLICE_SIDES = {">=": "at least", ">": "above", "<=": "at most", "<": "below"}


def _sli_summary(slo: SLO) -> Verbatim:
    """One table cell, so "|" in a selector (code=~"4..|5..") must not end the cell."""
    sli = slo.sli
    if sli.kind == "ratio" and sli.errors is not None:
        assert sli.total is not None
        return Verbatim(
            f"errors {_cell_code(sli.errors.render())} out of {_cell_code(sli.total.render())}"
        )
    if sli.kind == "ratio":
        assert sli.good is not None and sli.total is not None
        return Verbatim(
            f"good {_cell_code(sli.good.render())} out of {_cell_code(sli.total.render())}"
        )
    if sli.kind == "latency":
        return Verbatim(
            f"requests of {_cell_code(sli.histogram)} faster than {number(sli.threshold)} s"
        )
    if sli.kind == "probe":
        assert sli.probe is not None
        return Verbatim(f"successful probes of {_cell_code(sli.probe.render())}")
    if sli.kind == "timeslices":
        return _slice_summary(slo)
    return Verbatim("errors and total from free PromQL (see below)")


def _slice_summary(slo: SLO) -> Verbatim:
    ts = slo.sli.timeslices
    assert ts is not None
    length = format_duration(ts.slice)
    if ts.ratio is not None:
        measure = f"the good ratio of {_sli_summary(replace(slo, sli=ts.ratio))}"
    else:
        measure = _cell_code(ts.metric)
    if ts.op is None:
        return Verbatim(f"{length} slices, each counting {measure}")
    side = f"{_SLICE_SIDES[ts.op]} {number(ts.threshold)}"
    return Verbatim(f"{length} slices, good when {measure} is {side}")


def _slo_queries(slo: SLO) -> list[dict[str, str]]:
    base = base_window(slo)
    rolling = {base, *slo.windows, *([slo.period] if slo.calendar is None else [])}
    windows = "|".join(format_duration(w) for w in sorted(rolling))
    matchers = ", ".join(f'{k}="{v}"' for k, v in slo.selector_labels)
    prefix = names.error_ratio_record(60).removesuffix("1m")  # the record name without its window
    pattern = f"{prefix}({windows})"
    if slo.calendar is not None:
        pattern += f"|{period_record(slo)}"
    every = f'{{__name__=~"{pattern}", {matchers}}}'
    b = format_duration(base)
    return [
        {
            "title": f"Error ratio over the last {b} (recorded)",
            "promql": selector(names.error_ratio_record(base), slo),
        },
        {
            "title": "Error ratio over every window the tiers read, and the whole period",
            "promql": every,
        },
        {
            "title": "Burn rate now (1 = spending the budget exactly over the period)",
            "promql": selector(names.RECORD_CURRENT_BURN, slo),
        },
        {
            "title": "Error budget left over the period (1 = untouched, below 0 = overspent)",
            "promql": selector(names.RECORD_BUDGET_REMAINING, slo),
        },
        {
            "title": f"Errors per second over {b}, from the raw SLI",
            "promql": sli_queries.error_events(slo.sli, base),
        },
        {
            "title": f"Traffic (events per second) over {b}, from the raw SLI",
            "promql": sli_queries.total_events(slo.sli, base),
        },
        {
            "title": "When this alert was pending and firing",
            "promql": f'ALERTS{{alertname="{slo.alert_name}", {matchers}}}',
        },
    ]


# --- rendering -------------------------------------------------------------------------------


@cache
def default_templates() -> dict[str, str]:
    root = resources.files("sloforge").joinpath("templates")
    return {name: root.joinpath(name).read_text(encoding="utf-8") for name in _DEFAULTS}


def _environment(overrides: dict[str, str]) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=jinja2.DictLoader({**default_templates(), **overrides}),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        finalize=_escape,
    )
    env.filters["fence"] = fence
    env.filters["block"] = block
    env.filters["code"] = _code
    return env


def _render(env: SandboxedEnvironment, name: str, context: dict[str, Any]) -> str:
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateSyntaxError as exc:
        raise CompileError(f"templates/{name}:{exc.lineno}: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise CompileError(f"templates/{name}: {exc}") from None


def _escape(value: Any) -> Any:
    """Every value printed by a template: Markdown-escaped on one line unless built as Markdown."""
    if isinstance(value, Verbatim) or not isinstance(value, str):
        return value
    return _escape_text(value)


@lru_cache(maxsize=65_536)  # pages repeat the same durations, percentages and names
def _escape_text(value: str) -> str:
    return _INLINE_SPECIALS.sub(r"\\\1", " ".join(value.split()))


def _cell_code(text: str) -> Verbatim:
    """Inline code inside a table cell: GFM splits cells at "|" even inside code, unless escaped."""
    return Verbatim(_code(text).replace("|", "\\|"))


def _code(text: str) -> Verbatim:
    """Inline code that survives backticks and newlines inside ``text``."""
    flat = " ".join(str(text).split())
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return Verbatim(f"{ticks}{pad}{flat}{pad}{ticks}")


def fence(text: str, lang: str = "") -> Verbatim:
    """A fenced code block longer than any backtick run inside ``text``."""
    longest = max((len(run) for run in re.findall(r"`+", str(text))), default=0)
    ticks = "`" * max(3, longest + 1)
    return Verbatim(f"{ticks}{lang}\n{str(text).rstrip()}\n{ticks}")


def block(text: str) -> Verbatim:
    """A person's Markdown (diagnosis steps), kept as written; an unclosed code fence is closed
    so it cannot swallow the rest of the page."""
    body = str(text).rstrip()
    open_fence = ""
    for line in body.splitlines():
        match = _FENCE_LINE.match(line)
        if not match:
            continue
        run = match.group(1)
        if not open_fence:
            open_fence = run
        elif (
            run[0] == open_fence[0] and len(run) >= len(open_fence) and not line.strip()[len(run) :]
        ):
            open_fence = ""
    return Verbatim(body + (f"\n{open_fence}" if open_fence else ""))


def _link(title: str, url: str) -> Verbatim:
    label = _escape(title)
    return Verbatim(f"[{label}](<{url}>)")


def _percent(ratio: float) -> str:
    """Three significant digits, as a person reads a share: 2.14%, not 2.142857%; 0.05%."""
    return f"{number(float(f'{ratio * 100:.3g}'))}%"
