"""Review checks beyond promtool, run on the inputs so every finding has a file, line and column.

promtool proves the rules parse and the tests pass; these checks catch what a
reviewer would ask about in a pull request: alerts nobody can act on, severities
no route knows, windows too short for the scrape interval, rate() on gauges,
names that break conventions and free-form alerts with no test.

Each check is one entry in ``CHECKS``: a function from the linted inputs to
findings. Adding a check is a new entry, not a new branch.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import promql_parser

from ..errors import Location, Problem
from ..model import conventions as names
from ..model import promql
from ..model.calendar import period_seconds
from ..model.domain import Project
from ..model.durations import format_duration, parse_duration
from ..model.promql import Matcher
from ..model.routing import route_matchers
from ..pipeline import read
from ..spec.bundle import Located
from ..spec.loader import Document, PathKey
from ..spec.models import AlertRoutingSpec, ServiceLevelsSpec, TierSpec
from ..spec.plan import default_tier_table, plan, tier_rates

Severity = Literal["error", "warning"]

COUNTER_SUFFIXES = ("_total", "_count", "_sum", "_bucket")
COUNTER_FUNCTIONS = frozenset({"rate", "irate", "increase"})
MAX_FOR_SECONDS = 86400
# A window must hold at least two scrapes for rate() and friends to see two samples.
MIN_SCRAPES_PER_WINDOW = 2
# Any real window will do: lint checks the literal ranges around $window, not $window itself.
_WINDOW_PLACEHOLDER = "1h"


class Format(StrEnum):
    text = "text"
    json = "json"
    github = "github"


@dataclass(frozen=True)
class Finding:
    location: Location
    path: str
    rule: str
    severity: Severity
    message: str

    def sort_key(self) -> tuple[str, int, int, str, str]:
        loc = self.location
        return (loc.file, loc.line, loc.column, self.rule, self.message)

    def __str__(self) -> str:
        field = f"{self.path}: " if self.path else ""
        return f"{self.location}: {self.severity}: {field}{self.message} [{self.rule}]"


@dataclass(frozen=True)
class LintReport:
    findings: tuple[Finding, ...]
    files: int

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == "warning")

    def failed(self, strict: bool = False) -> bool:
        return self.errors > 0 or (strict and self.warnings > 0)


@dataclass(frozen=True)
class Inputs:
    """What every check reads: the validated specs with their documents, and the planned project."""

    services: tuple[Located, ...]
    routing: Located | None
    project: Project
    settings: Located | None = None

    def service_items(self) -> Iterator[tuple[ServiceLevelsSpec, Document]]:
        for item in self.services:
            yield item.spec, item.document


Check = Callable[[Inputs], Iterable[Finding]]


def _finding(doc: Document, path: PathKey, rule: str, severity: Severity, message: str) -> Finding:
    return Finding(doc.locate(path), doc.show(path), rule, severity, message)


# --- checks -------------------------------------------------------------------------


def check_annotations(inputs: Inputs) -> Iterator[Finding]:
    """Every alert needs a summary, a description and a runbook someone wrote."""
    rule = "missing-annotation"
    for spec, doc in inputs.service_items():
        for i, alert in enumerate(spec.alerts):
            where = ("alerts", i)
            for field in (names.ANNOTATION_SUMMARY, names.ANNOTATION_DESCRIPTION):
                if field == names.ANNOTATION_SUMMARY and alert.baseline is not None:
                    continue  # sloforge writes one from the baseline (model/baseline.py)
                if not (getattr(alert, field) or alert.annotations.get(field, "")).strip():
                    yield _finding(
                        doc,
                        where,
                        rule,
                        "warning",
                        f"alert `{alert.name}` has no {field}: add `{field}:`",
                    )
            if not (alert.runbook.strip() or alert.annotations.get(names.ANNOTATION_RUNBOOK)):
                yield _finding(doc, where, rule, "warning", _no_runbook(alert.name))
        for i, slo in enumerate(spec.slos):
            alerting = slo.alerting
            explicit = all(
                names.ANNOTATION_RUNBOOK in {**alerting.annotations, **policy.annotations}
                for policy in (alerting.page, alerting.ticket)
            )
            if not (slo.runbook.strip() or explicit):
                name = alerting.name or names.default_alert_name(spec.service, slo.name)
                yield _finding(doc, ("slos", i), rule, "warning", _no_runbook(name))


def _no_runbook(alert: str) -> str:
    return (
        f"alert `{alert}` has no runbook: its runbook_url would point at an empty stub; "
        "add `runbook:` with diagnosis steps or an annotations.runbook_url"
    )


def check_severities(inputs: Inputs) -> Iterator[Finding]:
    """An alert whose severity no route matches falls through to the default receiver."""
    if inputs.routing is None:
        return
    known = _severity_conditions(inputs.routing.spec)
    # A catalog severity with receivers has a route of its own.
    known += [
        _accepts_all([Matcher(names.LABEL_SEVERITY, "=", level.label)])
        for level in inputs.project.settings.severities
        if level.receivers
    ]
    if not known:
        return  # the routing does not route on severity at all
    slos = {(s.name, slo.name): slo for s in inputs.project.services for slo in s.slos}
    for spec, doc in inputs.service_items():
        for i, alert in enumerate(spec.alerts):
            level = inputs.project.settings.severity(alert.severity)
            label = level.label if level is not None else alert.severity
            if not any(accepts(label) for accepts in known):
                yield _unrouted(doc, ("alerts", i, "severity"), alert.name, label)
        for i, slo_spec in enumerate(spec.slos):
            slo = slos[(spec.service, slo_spec.name)]
            reported: set[str] = set()  # each severity once, not once per tier
            for tier in slo.tiers:
                if tier.severity in reported or any(accepts(tier.severity) for accepts in known):
                    continue
                reported.add(tier.severity)
                policy = getattr(slo_spec.alerting, tier.kind)
                path: PathKey = (
                    ("slos", i, "alerting", tier.kind, "severity")
                    if policy.severity
                    else ("slos", i)
                )
                yield _unrouted(doc, path, f"{slo.alert_name} ({tier.kind})", tier.severity)


def _unrouted(doc: Document, path: PathKey, alert: str, severity: str) -> Finding:
    return _finding(
        doc,
        path,
        "unknown-severity",
        "error",
        f"alert `{alert}` has severity `{severity}`, which no route of the AlertRouting "
        "document matches; it would only reach the default receiver",
    )


def _severity_conditions(routing: AlertRoutingSpec) -> list[Callable[[str], bool]]:
    """Per route that looks at the severity label: do all its severity matchers accept?"""
    conditions: list[Callable[[str], bool]] = []
    for route in routing.routes:
        on_severity = [m for m in route_matchers(route.matchers) if m.label == names.LABEL_SEVERITY]
        if on_severity:
            conditions.append(_accepts_all(on_severity))
    return conditions


def _accepts_all(matchers: list[Matcher]) -> Callable[[str], bool]:
    return lambda value: all(m.accepts(value) for m in matchers)


def check_for_durations(inputs: Inputs) -> Iterator[Finding]:
    rule = "for-duration"
    for spec, doc in inputs.service_items():
        for i, alert in enumerate(spec.alerts):
            seconds = parse_duration(alert.for_)
            path: PathKey = ("alerts", i, "for")
            if seconds == 0:
                yield _finding(
                    doc,
                    ("alerts", i),
                    rule,
                    "warning",
                    f"alert `{alert.name}` has no `for:`: it fires on a single evaluation, "
                    "so one scrape blip notifies someone; hold it a few minutes (e.g. for: 5m)",
                )
            elif seconds > MAX_FOR_SECONDS:
                yield _finding(
                    doc,
                    path,
                    rule,
                    "warning",
                    f"alert `{alert.name}` waits {format_duration(seconds)} before firing, "
                    f"longer than {format_duration(MAX_FOR_SECONDS)}: any restart of Prometheus "
                    "resets the wait; alert on a longer range window instead",
                )


def _expressions(spec: ServiceLevelsSpec) -> Iterator[tuple[PathKey, str]]:
    """Every PromQL expression a user wrote, with its field path; $window filled in."""
    for i, record in enumerate(spec.recording_rules):
        yield ("recording_rules", i, "expr"), record.expr
    for i, alert in enumerate(spec.alerts):
        if alert.expr is not None:
            yield ("alerts", i, "expr"), alert.expr
    for i, slo in enumerate(spec.slos):
        if slo.sli.query is not None:
            for field in ("errors", "total"):
                text = getattr(slo.sli.query, field)
                yield (
                    ("slos", i, "sli", "query", field),
                    promql.substitute_window(text, _WINDOW_PLACEHOLDER),
                )


def _nodes(expr: str) -> list[Any]:
    found: list[Any] = []
    promql_parser.walk(promql.parse(expr), pre_visit=found.append)
    return found


def check_range_windows(inputs: Inputs) -> Iterator[Finding]:
    rule = "short-range"
    scrape = inputs.project.settings.scrape_interval
    shortest = MIN_SCRAPES_PER_WINDOW * scrape
    why = (
        f"shorter than {MIN_SCRAPES_PER_WINDOW}x the {format_duration(scrape)} scrape interval "
        f"({format_duration(shortest)}), so it often holds fewer than two samples "
        "and rate() returns nothing"
    )
    for spec, doc in inputs.service_items():
        for path, expr in _expressions(spec):
            for node in _nodes(expr):
                if isinstance(node, promql_parser.MatrixSelector):
                    seconds = int(node.range.total_seconds())
                    if seconds < shortest:
                        yield _finding(
                            doc, path, rule, "error", f"range [{format_duration(seconds)}] is {why}"
                        )
        for i, slo in enumerate(spec.slos):
            for j, tier in enumerate(slo.alerting.tiers or ()):
                if parse_duration(tier.short_window) < shortest:
                    path = ("slos", i, "alerting", "tiers", j, "short_window")
                    yield _finding(
                        doc, path, rule, "error", f"short window {tier.short_window} is {why}"
                    )


def _counter_name(name: str) -> bool:
    return name.endswith(COUNTER_SUFFIXES)


def _metric_name(selector: Any) -> str:
    if selector.name:
        return str(selector.name)
    for matcher in selector.matchers.matchers:
        if matcher.name == "__name__" and str(matcher.op) == "MatchOp.Equal":
            return str(matcher.value)
    return ""


def check_counter_functions(inputs: Inputs) -> Iterator[Finding]:
    rule = "rate-on-non-counter"
    for spec, doc in inputs.service_items():
        for path, expr in _expressions(spec):
            for node in _nodes(expr):
                if not (
                    isinstance(node, promql_parser.Call) and node.func.name in COUNTER_FUNCTIONS
                ):
                    continue
                arg = node.args[0] if node.args else None
                if not isinstance(arg, promql_parser.MatrixSelector):
                    continue
                metric = _metric_name(arg.vector_selector)
                if metric and not _counter_name(metric):
                    yield _finding(
                        doc, path, rule, "warning", _not_counter(f"{node.func.name}()", metric)
                    )
        for i, slo in enumerate(spec.slos):
            ratio = slo.sli.ratio
            if ratio is None:
                continue
            for field in ("errors", "good", "total"):
                text = getattr(ratio, field)
                metric = promql.parse_selector(text).metric if text else ""
                if metric and not _counter_name(metric):
                    path = ("slos", i, "sli", "ratio", field)
                    yield _finding(
                        doc,
                        path,
                        rule,
                        "warning",
                        _not_counter("a ratio SLI (read with rate())", metric),
                    )


def _not_counter(what: str, metric: str) -> str:
    suffixes = ", ".join(COUNTER_SUFFIXES)
    return (
        f"{what} on `{metric}`, which is not a counter by its name ({suffixes}); "
        "use deriv() or delta() for gauges, or rename the metric if it is a counter"
    )


def check_duplicate_records(inputs: Inputs) -> Iterator[Finding]:
    """The same record and labels in two services: two groups write the same series."""
    seen: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[str, Location]] = {}
    for spec, doc in sorted(inputs.service_items(), key=lambda x: (x[1].file, x[1].index)):
        for i, record in enumerate(spec.recording_rules):
            key = (record.record, tuple(sorted(record.labels.items())))
            path = ("recording_rules", i, "record")
            if key in seen:
                service, first = seen[key]
                yield _finding(
                    doc,
                    path,
                    "duplicate-record",
                    "error",
                    f"recording rule `{record.record}` is also defined by service `{service}` "
                    f"at {first}: both groups would write the same series",
                )
            else:
                seen[key] = (spec.service, doc.locate(path))


_RESERVED_LEVEL = names.RECORD_OBJECTIVE.split(":", 1)[0]


def check_record_names(inputs: Inputs) -> Iterator[Finding]:
    rule = "record-name"
    for spec, doc in inputs.service_items():
        for i, record in enumerate(spec.recording_rules):
            parts = record.record.split(":")
            path = ("recording_rules", i, "record")
            if parts[0] == _RESERVED_LEVEL:
                yield _finding(
                    doc,
                    path,
                    rule,
                    "error",
                    f"`{record.record}` uses the `{_RESERVED_LEVEL}:` level, which sloforge "
                    "reserves for its own SLO recordings; dashboards would mix the two",
                )
            elif len(parts) != 3 or not all(parts):
                yield _finding(
                    doc,
                    path,
                    rule,
                    "warning",
                    f"`{record.record}` does not follow level:metric:operations "
                    "(e.g. job:http_requests:rate5m)",
                )


def check_untested_alerts(inputs: Inputs) -> Iterator[Finding]:
    for spec, doc in inputs.service_items():
        for i, alert in enumerate(spec.alerts):
            if alert.expr is not None and not alert.tests:
                yield _finding(
                    doc,
                    ("alerts", i, "expr"),
                    "untested-alert",
                    "warning",
                    f"free-form alert `{alert.name}` has no `tests:`; add a promtool case that "
                    "makes it fire and one that keeps it quiet (metric/above alerts get generated "
                    "tests)",
                )


def check_late_tiers(inputs: Inputs) -> Iterator[Finding]:
    """A tier that fires only after the whole budget is spent warns nobody in time."""
    for spec, doc in inputs.service_items():
        for i, slo in enumerate(spec.slos):
            period = period_seconds(slo.window)
            budget = round(1 - slo.objective / 100, 12)
            tiers: list[tuple[PathKey, TierSpec]]
            if slo.alerting.tiers is not None:
                tiers = [
                    (("slos", i, "alerting", "tiers", j), t)
                    for j, t in enumerate(slo.alerting.tiers)
                ]
            else:
                _, table = default_tier_table()
                tiers = [
                    (("slos", i, "window"), t)
                    for t in table
                    if parse_duration(t.long_window) <= period
                ]
            for path, tier in tiers:
                burn, consumed = tier_rates(tier, budget, period)
                if consumed <= 1:
                    continue
                yield _finding(
                    doc,
                    path,
                    "late-tier",
                    "warning",
                    f"the {tier.long_window}/{tier.short_window} tier (burn rate {burn:g}) fires "
                    f"only after {consumed * 100:.4g}% of the {slo.window} error budget is spent; "
                    "lower its burn rate or shorten its long window",
                )


_LINK_ANNOTATIONS = (names.ANNOTATION_RUNBOOK, names.ANNOTATION_DASHBOARD)


def check_relative_links(inputs: Inputs) -> Iterator[Finding]:
    """Slack, PagerDuty and email show a link as written: a relative one goes nowhere."""
    rule = "relative-link"
    for item in (*inputs.services, *([inputs.settings] if inputs.settings else [])):
        for path, link in _link_annotations(item.document.data, ()):
            yield _finding(
                item.document,
                path,
                rule,
                "warning",
                f"`{path[-1]}` is the relative link {link!r}; notifications show it as a dead "
                "link: write an absolute URL (https://…)",
            )
    settings = inputs.project.settings
    where = inputs.settings.document if inputs.settings else None
    for field, base, makes in (
        ("runbook_base_url", settings.runbook_base_url, "every generated alert's runbook_url"),
        ("dashboard_base_url", settings.dashboard_base_url, "every alert's dashboard link"),
    ):
        doc = where or (inputs.services[0].document if inputs.services else None)
        if base or doc is None:  # validate holds a given base URL to http(s)://
            continue
        yield _finding(
            doc,
            (),
            rule,
            "warning",
            f"Settings `{field}` is not set, so {makes} is a relative path that Slack, "
            f"PagerDuty and email show as a dead link: set `{field}: https://…` in kind: Settings",
        )


def _link_annotations(data: Any, path: PathKey) -> Iterator[tuple[PathKey, str]]:
    """(path, value) of every runbook_url/dashboard_url inside an `annotations` mapping."""
    if isinstance(data, dict):
        for key, value in data.items():
            here = (*path, key)
            inside = bool(path) and path[-1] == "annotations"
            if inside and key in _LINK_ANNOTATIONS and isinstance(value, str):
                if not _absolute(value) and "{{" not in value:
                    yield here, value
            else:
                yield from _link_annotations(value, here)
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _link_annotations(value, (*path, i))


def _absolute(url: str) -> bool:
    return url.startswith(("https://", "http://"))


CHECKS: dict[str, Check] = {
    "missing-annotation": check_annotations,
    "unknown-severity": check_severities,
    "for-duration": check_for_durations,
    "short-range": check_range_windows,
    "rate-on-non-counter": check_counter_functions,
    "duplicate-record": check_duplicate_records,
    "record-name": check_record_names,
    "untested-alert": check_untested_alerts,
    "late-tier": check_late_tiers,
    "relative-link": check_relative_links,
}
INLINE_DISABLE = re.compile(r"#\s*sloforge-lint:\s*disable=([\w,\s-]+)")


# --- running and reporting ----------------------------------------------------------


def lint(paths: Iterable[str | Path]) -> LintReport:
    """Lint the inputs under ``paths``; invalid documents are reported as `spec` findings.

    Validation warnings are left to ``sloforge validate`` (CI runs both), so a
    problem both stages see is reported once, by lint, at the line to change.
    """
    documents, bundle, problems = read(paths)
    files = len({d.file for d in documents} | {p.location.file for p in problems})
    if problems:
        return LintReport(_spec_findings(problems), files)
    inputs = Inputs(tuple(bundle.services), bundle.routing, plan(bundle), bundle.settings)
    disabled, findings = _disabled_in_settings(bundle.settings)
    for rule, check in CHECKS.items():
        if rule not in disabled:
            findings.extend(check(inputs))
    sources: dict[str, list[str]] = {}
    kept = [f for f in set(findings) if not _disabled_inline(f, sources)]
    return LintReport(tuple(sorted(kept, key=Finding.sort_key)), files)


def _disabled_in_settings(settings: Located | None) -> tuple[set[str], list[Finding]]:
    """Rule ids in Settings `lint.disable`; an unknown id is a finding, not a silent no-op."""
    if settings is None:
        return set(), []
    unknown = []
    for i, rule in enumerate(settings.spec.lint.disable):
        if rule not in CHECKS:
            unknown.append(
                _finding(
                    settings.document,
                    ("lint", "disable", i),
                    "lint-settings",
                    "error",
                    f"unknown lint rule `{rule}`; choose from {', '.join(CHECKS)}",
                )
            )
    return set(settings.spec.lint.disable), unknown


def _disabled_inline(finding: Finding, sources: dict[str, list[str]]) -> bool:
    """A `# sloforge-lint: disable=rule-id` comment on the finding's line, or alone on the
    line above it, silences that rule there. ``sources`` holds each file's lines once."""
    file = finding.location.file
    if file not in sources:
        sources[file] = _source_lines(file)
    lines = sources[file]
    line = finding.location.line
    candidates = lines[line - 1 : line] if 0 < line <= len(lines) else []
    if 1 < line <= len(lines) + 1 and lines[line - 2].lstrip().startswith("#"):
        candidates.append(lines[line - 2])
    for text in candidates:
        found = INLINE_DISABLE.search(text)
        if found and finding.rule in {r.strip() for r in found.group(1).split(",")}:
            return True
    return False


def _source_lines(file: str) -> list[str]:
    try:
        return Path(file).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):  # <stdin>, or Jsonnet output: nothing to read
        return []


def _spec_findings(problems: Iterable[Problem]) -> tuple[Finding, ...]:
    return tuple(
        Finding(p.location, p.path, "spec", "warning" if p.warning else "error", p.message)
        for p in sorted(problems, key=Problem.sort_key)
    )


def render(report: LintReport, fmt: Format) -> str:
    return _RENDERERS[fmt](report)


def render_text(report: LintReport) -> str:
    if not report.findings:
        return f"ok: no findings in {report.files} file{'s' if report.files != 1 else ''}"
    lines = [str(f) for f in report.findings]
    lines.append(f"{_count(report.errors, 'error')}, {_count(report.warnings, 'warning')}")
    return "\n".join(lines)


def render_json(report: LintReport) -> str:
    data = {
        "findings": [
            {
                "file": f.location.file,
                "line": f.location.line,
                "column": f.location.column,
                "severity": f.severity,
                "rule": f.rule,
                "path": f.path,
                "message": f.message,
            }
            for f in report.findings
        ],
        "errors": report.errors,
        "warnings": report.warnings,
        "files": report.files,
    }
    return json.dumps(data, indent=2)


def render_github(report: LintReport) -> str:
    """GitHub Actions workflow commands: each finding becomes an annotation on the PR's diff."""
    lines = []
    for f in report.findings:
        loc = f.location
        props = [f"file={_gh_property(loc.file)}"]
        if loc.line:
            props += [f"line={loc.line}", f"col={loc.column}"]
        props.append(f"title={_gh_property(f'sloforge lint ({f.rule})')}")
        field = f"{f.path}: " if f.path else ""
        lines.append(f"::{f.severity} {','.join(props)}::{_gh_data(field + f.message)}")
    lines.append(
        f"sloforge lint: {_count(report.errors, 'error')}, {_count(report.warnings, 'warning')}"
    )
    return "\n".join(lines)


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


_RENDERERS: dict[Format, Callable[[LintReport], str]] = {
    Format.text: render_text,
    Format.json: render_json,
    Format.github: render_github,
}
