"""``sloforge verify``: does the running Prometheus hold what the SLOs read and what sloforge wrote?

An SLO whose selector matches nothing never alerts: it looks perfectly healthy
forever. For every selector an SLI or alert reads, verify asks Prometheus for
matching series and, when there are none, says why (the metric is unknown, a
label value is absent, with the closest values seen, no bucket at a latency
threshold, a gauge where a counter is needed). Then it checks that the
generated rule groups are loaded, evaluate without errors and record samples.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import promql_parser

from ..build.rules import build_rules
from ..errors import Location
from ..model import conventions as names
from ..model.domain import SLO, Alert, Project, Service
from ..model.durations import format_duration
from ..model.promql import (
    Matcher,
    Selector,
    parse_selector,
    quote,
    substitute_slice,
    substitute_window,
)
from ..model.sli import bucket_bounds
from ..model.windows import period_record
from ..model.windows import selector as record_selector
from .client import Prometheus
from .locations import Locator

UNEVALUATED = "0001-01-01"  # Prometheus' zero time: a group that has never run


@dataclass(frozen=True)
class Finding:
    location: Location
    subject: str  # what was checked: a selector, a rule group, a record
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.subject}: {self.message}"


@dataclass(frozen=True)
class Checked:
    """One selector or rule an SLO or alert reads, and where the user wrote it."""

    location: Location
    selector: Selector
    counter: bool = False  # read through rate(): must be a counter
    threshold: float | None = None  # latency SLI: a bucket must exist at this bound
    threshold_location: Location | None = None


@dataclass
class Verification:
    findings: list[Finding]
    selectors: int
    groups: int
    records: int

    @property
    def ok(self) -> bool:
        return not self.findings


def verify(
    project: Project,
    paths: Iterable[str | os.PathLike[str]],
    prometheus: Prometheus,
    progress: Callable[[str], None] = lambda _: None,
) -> Verification:
    locator = Locator(paths)
    checks = [c for service in project.services for c in _service_selectors(service, locator)]
    findings: list[Finding] = []
    known_records = _records(project)
    for i, check in enumerate(checks, 1):
        progress(f"selectors {i}/{len(checks)}")
        findings.extend(_check_selector(prometheus, check, known_records))
    groups, records = 0, 0
    loaded = {g["name"]: g for g in prometheus.rule_groups()}
    for service in project.services:
        progress(f"rules of {service.name}")
        where = locator.service(service)
        for group in build_rules(service, project.settings)["groups"]:
            groups += 1
            findings.extend(_check_group(group, loaded.get(group["name"]), where))
        for slo in service.slos:
            records += 1
            findings.extend(_check_records(prometheus, slo, locator.slo(service, slo)))
    return Verification(findings, len(checks), groups, records)


# --- what each SLO and alert reads -------------------------------------------------------------


def _service_selectors(service: Service, locator: Locator) -> Iterator[Checked]:
    for slo in service.slos:
        yield from _slo_selectors(slo, locator, service)
    for alert in service.alerts:
        yield from _alert_selectors(alert, locator, service)


def _slo_selectors(slo: SLO, locator: Locator, service: Service) -> Iterator[Checked]:
    sli = slo.sli
    at = locator.slo_field
    if sli.kind == "ratio":
        for role in ("errors", "good", "total"):
            chosen: Selector | None = getattr(sli, role)
            if chosen is not None:
                yield Checked(at(service, slo, ("ratio", role)), chosen, counter=True)
    elif sli.kind == "latency":
        yield Checked(
            at(service, slo, ("latency", "histogram")),
            Selector(f"{sli.histogram}_count", sli.matchers),
            counter=True,
            threshold=sli.threshold,
            threshold_location=at(service, slo, ("latency", "threshold")),
        )
    elif sli.kind == "probe":
        assert sli.probe is not None
        yield Checked(at(service, slo, ("probe",)), sli.probe)
    elif sli.kind == "timeslices":
        yield from _slice_selectors(slo, locator, service)
    else:
        for role, expr in (("errors", sli.query_errors), ("total", sli.query_total)):
            for found in expression_selectors(substitute_window(expr, "5m")):
                yield Checked(at(service, slo, ("query", role)), found)


def _slice_selectors(slo: SLO, locator: Locator, service: Service) -> Iterator[Checked]:
    """A timeslices SLI's ratio counters, or every selector its metric reads."""
    slices = slo.sli.timeslices
    assert slices is not None
    at = locator.slo_field
    if slices.ratio is not None:
        for role in ("errors", "good", "total"):
            chosen: Selector | None = getattr(slices.ratio, role)
            if chosen is not None:
                where = at(service, slo, ("timeslices", "ratio", role))
                yield Checked(where, chosen, counter=True)
        return
    metric = substitute_slice(slices.metric, format_duration(slices.slice))
    for found in expression_selectors(metric):
        yield Checked(at(service, slo, ("timeslices", "metric")), found)


def _alert_selectors(alert: Alert, locator: Locator, service: Service) -> Iterator[Checked]:
    if alert.threshold is not None:
        yield Checked(locator.alert_field(service, alert, "metric"), alert.threshold.metric)
        return
    if alert.baseline is not None:  # its recordings need history before they have series
        yield Checked(locator.alert_field(service, alert, "metric"), alert.baseline.metric)
        return
    for found in expression_selectors(alert.expr):
        yield Checked(locator.alert_field(service, alert, "expr"), found)


def expression_selectors(expr: str) -> list[Selector]:
    """Every series selector in ``expr`` (plain ones, and those inside ranges and functions)."""
    found: list[Selector] = []

    def walk(node: object) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            text = str(node).split(" offset ")[0].split(" @ ")[0]
            found.append(parse_selector(text))
            return
        for attr in ("expr", "lhs", "rhs", "vector_selector", "param"):
            child = getattr(node, attr, None)
            if child is not None and not isinstance(child, str | int | float):
                walk(child)
        for child in getattr(node, "args", None) or []:
            walk(child)

    walk(promql_parser.parse(expr))
    return found


def _records(project: Project) -> set[str]:
    """Every series name the project's own rules record (generated and the user's)."""
    found: set[str] = set()
    for service in project.services:
        for group in build_rules(service, project.settings)["groups"]:
            found.update(rule["record"] for rule in group["rules"] if "record" in rule)
    return found


# --- one selector ----------------------------------------------------------------------------


def _check_selector(prom: Prometheus, check: Checked, records: set[str]) -> list[Finding]:
    sel = check.selector
    text = sel.render()
    if _count(prom, text):
        problems = []
        if check.threshold is not None:
            problems.extend(_check_bucket(prom, check))
        if check.counter:
            problems.extend(_check_counter(prom, check))
        return problems
    if sel.metric in records:
        return [
            Finding(
                check.location,
                text,
                "recorded by a rule of this repository, but has "
                "no samples yet: are the generated rules loaded?",
            )
        ]
    return [Finding(check.location, text, _why_empty(prom, sel))]


def _why_empty(prom: Prometheus, sel: Selector) -> str:
    if sel.metric and not _count(prom, Selector(sel.metric).render()):
        close = difflib.get_close_matches(sel.metric, prom.label_values("__name__"), n=3)
        hint = f"; similar names: {', '.join(close)}" if close else ""
        return f"no series: the metric {sel.metric} is unknown to Prometheus{hint}"
    for matcher in sel.matchers:
        if _count(prom, Selector(sel.metric, (matcher,)).render()):
            continue
        seen = prom.label_values(
            matcher.label, Selector(sel.metric).render() if sel.metric else None
        )
        if not seen:
            return f"no series: no {sel.metric or 'series'} has the label {matcher.label}"
        close = difflib.get_close_matches(matcher.value, seen, n=3, cutoff=0.4) or sorted(seen)[:3]
        values = ", ".join(quote(v) for v in close)
        return (
            f"no series: no {sel.metric or 'series'} has {matcher.render()} "
            f"(closest values seen: {values})"
        )
    return "no series match all of these matchers together, though each matches some"


def _check_bucket(prom: Prometheus, check: Checked) -> list[Finding]:
    """A latency SLI counts the requests in the bucket at its threshold: it must exist."""
    assert check.threshold is not None and check.threshold_location is not None
    bounds = bucket_bounds(check.threshold)
    buckets = check.selector.with_metric(check.selector.metric.removesuffix("_count") + "_bucket")
    le = Matcher("le", "=~", "|".join(b.replace(".", "\\.") for b in bounds))
    if _count(prom, buckets.with_matchers([le]).render()):
        return []
    seen = prom.label_values("le", buckets.render())
    finite = sorted((v for v in seen if v != "+Inf"), key=float)
    return [
        Finding(
            check.threshold_location,
            buckets.render(),
            f"no bucket at the threshold: le={' or le='.join(quote(b) for b in bounds)} not found "
            f"(buckets seen: {', '.join(finite) or 'none'}); choose a threshold that is a bucket "
            f"boundary",
        )
    ]


def _check_counter(prom: Prometheus, check: Checked) -> list[Finding]:
    metric = check.selector.metric
    family = metric.removesuffix("_bucket").removesuffix("_count")
    kinds = {m.get("type") for name in {metric, family} for m in prom.metadata(name)}
    if "gauge" in kinds and "counter" not in kinds and "histogram" not in kinds:
        return [
            Finding(
                check.location,
                check.selector.render(),
                f"{metric} is a gauge (per Prometheus' metadata), but this SLI reads it with "
                f"rate(), which needs a counter",
            )
        ]
    return []


def _count(prom: Prometheus, selector: str) -> float:
    found = prom.instant(f"count({selector})")
    return found[0].value if found else 0.0


# --- the generated rules ---------------------------------------------------------------------


def _check_group(expected: dict, loaded: dict | None, where: Location) -> list[Finding]:
    name = expected["name"]
    subject = f"rule group {name}"
    if loaded is None:
        return [
            Finding(
                where,
                subject,
                "not loaded: add the generated rule file to Prometheus' rule_files and reload",
            )
        ]
    findings = []
    want = [r.get("record") or r.get("alert") for r in expected["rules"]]
    have = [r.get("name") for r in loaded.get("rules", [])]
    if want != have:
        findings.append(
            Finding(
                where,
                subject,
                "differs from the generated rules: reload "
                "Prometheus after deploying the current output",
            )
        )
    if str(loaded.get("lastEvaluation", "")).startswith(UNEVALUATED):
        findings.append(Finding(where, subject, "loaded but not evaluated yet"))
    for rule in loaded.get("rules", []):
        if rule.get("health") == "err" or rule.get("lastError"):
            findings.append(
                Finding(
                    where,
                    f"{subject}: {rule.get('name')}",
                    f"evaluation fails: {rule.get('lastError') or 'unhealthy'}",
                )
            )
    return findings


def _check_records(prom: Prometheus, slo: SLO, where: Location) -> list[Finding]:
    findings = []
    for record in (period_record(slo), names.RECORD_BUDGET_REMAINING):
        text = record_selector(record, slo)
        if not _count(prom, text):
            findings.append(Finding(where, text, "the generated recording has no samples"))
    return findings
