"""Stage 3: validated specs -> domain model, with defaults filled in and labels merged.

The burn-rate plan is data (``data/tiers.yaml``), read once; every builder reads
the resulting ``Tier`` values instead of recomputing windows.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

from ..model import baseline as baselines
from ..model import calendar, promql
from ..model import conventions as names
from ..model import routing as r
from ..model import sli as sli_promql
from ..model.domain import (
    SLI,
    SLO,
    Alert,
    Baseline,
    DashboardRow,
    Escalation,
    Panel,
    PanelQuery,
    Percentile,
    Project,
    RecordingRule,
    Service,
    Settings,
    SeverityLevel,
    SliceOp,
    Strategy,
    Threshold,
    Tier,
    TierKind,
    Timeslices,
)
from ..model.durations import format_duration, parse_duration
from .models import (
    AlertRoutingSpec,
    AlertSpec,
    DashboardRowSpec,
    PanelSpec,
    RatioSLI,
    RouteTiming,
    ServiceLevelsSpec,
    SettingsSpec,
    SLOSpec,
    TierSpec,
    TimeIntervalSpec,
    TimeslicesSLI,
)
from .routing import effective_version
from .validate import Bundle, settings_or_default


@cache
def default_tier_table() -> tuple[int, tuple[TierSpec, ...]]:
    text = resources.files("sloforge").joinpath("model/data/tiers.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    tiers = tuple(TierSpec.model_validate(t) for t in data["tiers"])
    return parse_duration(data["reference_period"]), tiers


def plan(bundle: Bundle, source_name: Callable[[str], str] = str) -> Project:
    """The domain model; ``source_name`` turns an input file into the name headers show."""
    spec = settings_or_default(bundle)
    settings = Settings(
        strategy=spec.strategy,
        evaluation_interval=parse_duration(spec.evaluation_interval),
        scrape_interval=parse_duration(spec.scrape_interval),
        runbook_base_url=spec.runbook_base_url,
        dashboard_base_url=spec.dashboard_base_url,
        targets=tuple(spec.targets),
        severities=plan_severities(spec),
        absent_alerts=spec.absent_alerts,
    )
    services = tuple(
        sorted(
            (
                plan_service(item.spec, source_name(item.document.file), settings)
                for item in bundle.services
            ),
            key=lambda s: s.name,
        )
    )
    routing = (
        plan_routing(bundle.routing.spec, spec.alertmanager_version) if bundle.routing else None
    )
    return Project(services, settings, routing, tuple(map(source_name, bundle.sources)))


def plan_service(spec: ServiceLevelsSpec, source: str, settings: Settings) -> Service:
    base: dict[str, str] = {names.LABEL_SERVICE: spec.service}
    if spec.owner:
        base[names.LABEL_TEAM] = spec.owner
    base.update(spec.labels)
    slos = tuple(plan_slo(spec, slo, base, settings) for slo in spec.slos)
    rules = tuple(
        RecordingRule(r.record, r.expr.strip(), tuple(sorted(r.labels.items())))
        for r in spec.recording_rules
    )
    alerts = tuple(plan_alert(spec.service, a, base, settings) for a in spec.alerts)
    rows = tuple(plan_dashboard_row(r) for r in spec.dashboard.rows)
    return Service(
        spec.service,
        spec.owner,
        spec.description,
        source,
        tuple(base.items()),
        slos,
        rules,
        alerts,
        rows,
    )


def plan_dashboard_row(spec: DashboardRowSpec) -> DashboardRow:
    return DashboardRow(spec.row, tuple(plan_panel(p) for p in spec.panels), spec.business)


def plan_panel(spec: PanelSpec) -> Panel:
    queries = tuple(PanelQuery(q.expr.strip(), q.legend) for q in spec.queries)
    return Panel(
        title=spec.title,
        kind=spec.kind,
        queries=queries,
        unit=spec.unit,
        thresholds=tuple((float(t.value), t.color) for t in spec.thresholds),
        description=spec.description.strip(),
        width=spec.width,
        height=spec.height,
        alerts=tuple(spec.alerts),
    )


def plan_slo(
    service: ServiceLevelsSpec, spec: SLOSpec, base: dict[str, str], settings: Settings
) -> SLO:
    cal = None
    if spec.window in calendar.KINDS:
        zone = spec.time_zone or "UTC"
        cal = calendar.Calendar(spec.window, zone, calendar.fixed_offset(zone))  # type: ignore[arg-type]
        period = cal.nominal
    else:
        period = parse_duration(spec.window)
    labels = {names.LABEL_SERVICE: service.service, names.LABEL_SLO: spec.name}
    labels.update({k: v for k, v in base.items() if k != names.LABEL_SERVICE})
    labels.update(spec.labels)
    alerting = spec.alerting
    tiers = plan_tiers(spec, period, settings)
    return SLO(
        service=service.service,
        name=spec.name,
        description=spec.description.strip(),
        objective=spec.objective,
        period=period,
        sli=plan_sli(spec),
        alert_name=alerting.name or names.default_alert_name(service.service, spec.name),
        tiers=tiers,
        traffic_guard=alerting.traffic_guard,
        labels=tuple(labels.items()),
        alert_labels=tuple(sorted(alerting.labels.items())),
        alert_annotations=tuple(sorted(alerting.annotations.items())),
        runbook=spec.runbook.strip(),
        strategy=_strategy(spec, settings),
        owner=service.owner,
        custom_tiers=alerting.tiers is not None,
        evaluation_interval=_evaluation_interval(spec, settings),
        calendar=cal,
        absent=plan_absent(service, spec, labels, settings, tiers, period),
    )


def _strategy(spec: SLOSpec, settings: Settings) -> Strategy:
    # Slices are recorded once each and summed: `exact` would re-judge every slice of a
    # window at every evaluation (a subquery), which nothing gains from.
    if spec.sli.timeslices is not None:
        return "efficient"
    return spec.strategy or settings.strategy


def _evaluation_interval(spec: SLOSpec, settings: Settings) -> int:
    """How often the SLO's group runs: once per slice for a timeslices SLI."""
    if spec.sli.timeslices is not None:
        return parse_duration(spec.sli.timeslices.slice)
    return settings.evaluation_interval


def plan_sli(spec: SLOSpec) -> SLI:
    sli = spec.sli
    if sli.ratio is not None:
        return plan_ratio(sli.ratio)
    if sli.timeslices is not None:
        return plan_timeslices(sli.timeslices)
    if sli.latency is not None:
        lat = sli.latency
        return SLI(
            kind="latency",
            histogram=lat.histogram,
            matchers=promql.parse_matchers(lat.matchers),
            threshold=lat.threshold,
            group_by=tuple(lat.group_by),
        )
    if sli.probe is not None:
        return SLI(kind="probe", probe=promql.parse_selector(sli.probe))
    assert sli.query is not None
    return SLI(
        kind="query", query_errors=sli.query.errors.strip(), query_total=sli.query.total.strip()
    )


def plan_ratio(r: RatioSLI) -> SLI:
    return SLI(
        kind="ratio",
        errors=promql.parse_selector(r.errors) if r.errors else None,
        good=promql.parse_selector(r.good) if r.good else None,
        total=promql.parse_selector(r.total),
        group_by=tuple(r.group_by),
    )


SLICE_OPS: dict[str, SliceOp] = {"at_least": ">=", "above": ">", "at_most": "<=", "below": "<"}


def plan_timeslices(t: TimeslicesSLI) -> SLI:
    """A slice SLI: its measure, and the per-slice threshold (none when averaged)."""
    ratio = plan_ratio(t.ratio) if t.ratio is not None else None
    op: SliceOp | None = None
    threshold = 0.0
    for key, symbol in SLICE_OPS.items():
        value = getattr(t, key)
        if value is not None:
            op, threshold = symbol, float(value)
    slices = Timeslices(
        slice=parse_duration(t.slice),
        ratio=ratio,
        metric=(t.metric or "").strip(),
        op=op,
        threshold=threshold,
    )
    group_by = ratio.group_by if ratio is not None else ()
    return SLI(kind="timeslices", group_by=group_by, timeslices=slices)


def plan_tiers(spec: SLOSpec, period: int, settings: Settings | None = None) -> tuple[Tier, ...]:
    settings = settings or Settings()
    alerting = spec.alerting
    if alerting.tiers is not None:
        chosen = tuple(alerting.tiers)
    else:
        _, table = default_tier_table()
        chosen = tuple(t for t in table if parse_duration(t.long_window) <= period)
    budget = round(1 - spec.objective / 100, 12)
    tiers = []
    for t in chosen:
        kind, severity = tier_class_and_severity(t, spec, settings)
        policy = alerting.page if kind == "page" else alerting.ticket
        if policy.disable:
            continue
        long_s, short_s = parse_duration(t.long_window), parse_duration(t.short_window)
        burn, consumed = tier_rates(t, budget, period)
        tiers.append(
            Tier(
                kind=kind,
                severity=severity,
                long_window=long_s,
                short_window=short_s,
                burn_rate=burn,
                budget_consumed=consumed,
                labels=tuple(sorted({**policy.labels, **t.labels}.items())),
                annotations=tuple(sorted({**policy.annotations, **t.annotations}.items())),
            )
        )
    return tuple(sorted(tiers, key=lambda t: (t.kind != "page", t.long_window, -t.burn_rate)))


def tier_rates(t: TierSpec, budget: float, period: int) -> tuple[float, float]:
    """(burn rate, share of the period's budget spent when the tier fires)."""
    long_s = parse_duration(t.long_window)
    if t.burn_rate is not None:
        burn = float(t.burn_rate)
    elif t.error_rate is not None:
        burn = round(float(t.error_rate) / 100 / budget, 6)
    else:
        consumed = float(t.budget_consumed or 0) / 100
        return round(consumed * period / long_s, 6), consumed
    return burn, burn * long_s / period


# --- the severity catalog -------------------------------------------------------------

DEFAULT_SEVERITY: dict[TierKind, str] = {
    "page": names.PAGE_SEVERITY,
    "ticket": names.TICKET_SEVERITY,
}


def plan_severities(spec: SettingsSpec) -> tuple[SeverityLevel, ...]:
    return tuple(
        SeverityLevel(
            name=s.name,
            label=s.label or s.name,
            kind=s.class_,
            description=s.description.strip(),
            response_time=parse_duration(s.response_time) if s.response_time else None,
            repeat_interval=parse_duration(s.repeat_interval) if s.repeat_interval else None,
            receivers=tuple(s.receivers),
            escalate=(
                Escalation(parse_duration(s.escalate.after), s.escalate.to) if s.escalate else None
            ),
        )
        for s in spec.severities
    )


def severity_label(settings: Settings, name: str) -> str:
    """The `severity` label value for what an alert wrote: the catalog's label, or itself."""
    level = settings.severity(name)
    return level.label if level is not None else name


def class_default(settings: Settings, kind: TierKind) -> SeverityLevel | None:
    """The catalog's first severity of this class: what page/ticket tiers get by default."""
    return next((s for s in settings.severities if s.kind == kind), None)


def tier_class_and_severity(t: TierSpec, slo: SLOSpec, settings: Settings) -> tuple[TierKind, str]:
    """A tier's inhibition class and `severity` label (validate.py has refused the rest)."""
    if t.severity in ("page", "ticket"):
        kind: TierKind = "page" if t.severity == "page" else "ticket"
        policy = slo.alerting.page if kind == "page" else slo.alerting.ticket
        if policy.severity:
            return kind, severity_label(settings, policy.severity)
        default = class_default(settings, kind)
        return kind, default.label if default is not None else DEFAULT_SEVERITY[kind]
    level = settings.severity(t.severity)
    chosen = t.class_ or (level.kind if level is not None else None)
    assert chosen is not None, "validate.py refuses a ladder tier without a class"
    return chosen, severity_label(settings, t.severity)


def plan_alert(
    service: str, spec: AlertSpec, base: dict[str, str], settings: Settings | None = None
) -> Alert:
    severity = severity_label(settings or Settings(), spec.severity)
    labels = {names.LABEL_SEVERITY: severity, **base, **spec.labels}
    threshold = None
    percentile = None
    baseline = None
    if spec.expr is not None:
        expr = spec.expr.strip()
    elif spec.histogram is not None:
        percentile = plan_percentile(spec)
        expr = percentile_expr(percentile)
    elif spec.baseline is not None:
        baseline = plan_baseline(spec)
        expr = baselines.alert_expr(service, spec.name, baseline)
    else:
        assert spec.metric is not None
        op: Literal[">", "<"] = ">" if spec.above is not None else "<"
        value = float(spec.above if spec.above is not None else spec.below)  # type: ignore[arg-type]
        threshold = Threshold(promql.parse_selector(spec.metric), op, value)
        expr = f"{spec.metric.strip()} {op} {promql.number(value)}"
    annotations: dict[str, str] = {}
    summary = spec.summary.strip()
    if baseline is not None and not summary:
        summary = f"{spec.metric} is {baselines.describe(baseline)}."
    if summary:
        annotations[names.ANNOTATION_SUMMARY] = summary
    if spec.description:
        annotations[names.ANNOTATION_DESCRIPTION] = spec.description.strip()
    annotations.update(spec.annotations)
    tests: tuple[dict[str, Any], ...] = tuple(
        t.model_dump(by_alias=True, exclude_defaults=False) for t in spec.tests
    )
    return Alert(
        service=service,
        name=spec.name,
        expr=expr,
        for_=parse_duration(spec.for_),
        severity=severity,
        labels=tuple(labels.items()),
        annotations=tuple(annotations.items()),
        runbook=spec.runbook.strip(),
        summary=summary,
        threshold=threshold,
        percentile=percentile,
        baseline=baseline,
        tests=tests,
    )


def plan_routing(spec: AlertRoutingSpec, settings_version: str | None = None) -> r.Routing:
    """The checked AlertRouting document as frozen data, matchers parsed."""
    smtp = None
    if spec.smtp is not None:
        m = spec.smtp
        smtp = r.Smtp(
            m.smarthost, m.from_, m.hello, m.auth_username, m.auth_password_file, m.require_tls
        )
    return r.Routing(
        default_receiver=spec.default_receiver,
        receivers=tuple(
            r.Receiver(x.name, tuple((k, r.plain(v)) for k, v in (x.model_extra or {}).items()))
            for x in spec.receivers
        ),
        routes=tuple(
            r.Route(
                matchers=r.route_matchers(route.matchers),
                receivers=tuple(route.receivers),
                timing=_timing(route),
                active_during=tuple(route.active_during),
                mute_during=tuple(route.mute_during),
                continue_=route.continue_,
            )
            for route in spec.routes
        ),
        defaults=_timing(spec.defaults),
        smtp=smtp,
        time_intervals=tuple(
            (name, tuple(_time_interval(e) for e in entries))
            for name, entries in spec.time_intervals.items()
        ),
        mute_during=tuple(spec.mute_during),
        inhibit=tuple(
            r.Inhibit(
                tuple(r.parse_matcher(m) for m in rule.source_matchers),
                tuple(r.parse_matcher(m) for m in rule.target_matchers),
                tuple(rule.equal),
            )
            for rule in spec.inhibit
        ),
        expect=tuple(
            r.Expectation(tuple(case.labels.items()), tuple(case.receivers)) for case in spec.expect
        ),
        alertmanager_version=effective_version(spec, settings_version),
    )


def _timing(spec: RouteTiming) -> r.Timing:
    return r.Timing(
        tuple(spec.group_by) if spec.group_by is not None else None,
        spec.group_wait,
        spec.group_interval,
        spec.repeat_interval,
    )


def _time_interval(spec: TimeIntervalSpec) -> r.TimeInterval:
    def texts(values: list[str] | None) -> tuple[str, ...] | None:
        return tuple(values) if values is not None else None

    return r.TimeInterval(
        times=tuple(r.TimeRange(t.start_time, t.end_time) for t in spec.times)
        if spec.times is not None
        else None,
        weekdays=texts(spec.weekdays),
        days_of_month=texts(spec.days_of_month),
        months=texts(spec.months),
        years=texts(spec.years),
        location=spec.location,
    )


# --- percentile alerts ----------------------------------------------------------------

DEFAULT_PERCENTILE_WINDOW = "5m"


def plan_percentile(spec: AlertSpec) -> Percentile:
    assert spec.histogram is not None and spec.percentile is not None and spec.above is not None
    return Percentile(
        histogram=spec.histogram,
        matchers=promql.parse_matchers(spec.matchers),
        quantile=round(float(spec.percentile) / 100, 12),
        window=parse_duration(spec.window or DEFAULT_PERCENTILE_WINDOW),
        group_by=tuple(spec.group_by),
        value=float(spec.above),
    )


def percentile_expr(p: Percentile) -> str:
    """histogram_quantile over the rate of the buckets, per ``le`` and the group_by labels."""
    rates = promql.rate(p.buckets.render(), format_duration(p.window))
    buckets = promql.sum_by((*p.group_by, "le"), rates)
    return f"histogram_quantile({promql.number(p.quantile)}, {buckets}) > {promql.number(p.value)}"


# --- baseline alerts --------------------------------------------------------------------


def plan_baseline(spec: AlertSpec) -> Baseline:
    """The alert's baseline; a statistical window ends ``for`` ago (model/baseline.py)."""
    b = spec.baseline
    assert b is not None and spec.metric is not None
    metric = promql.parse_selector(spec.metric)
    minimum = float(b.min) if b.min is not None else None
    if b.seasonal is not None:
        return Baseline(
            metric,
            b.direction,
            minimum,
            weeks=b.seasonal.weeks,
            tolerance=round(float(b.seasonal.tolerance) / 100, 12),
        )
    assert b.statistical is not None
    return Baseline(
        metric,
        b.direction,
        minimum,
        window=parse_duration(b.statistical.window),
        deviations=float(b.statistical.deviations),
        lag=parse_duration(spec.for_),
    )


# --- absent-data alerts -----------------------------------------------------------------

ABSENT_BUDGET_SHARE = 0.02  # the share of the budget a full outage spends before it fires
ABSENT_FOR_BOUNDS = (300, 3600)  # never sooner than 5m (scrape blips), never later than 1h
ABSENT_RUNBOOK = """\
1. Is the target scraped? Look at `up` for its job and at the Prometheus targets page.
2. Target up but the series gone: a renamed metric or label after a deploy, a
   relabelling change, or (latency SLIs) changed histogram buckets.
3. Until the series return, this SLO's burn-rate alerts cannot fire: watch the
   service by other means."""


def absent_for(objective: float, period: int) -> int:
    """The time a full outage (100% errors) takes to spend ABSENT_BUDGET_SHARE of the error
    budget, rounded up to whole minutes and kept within ABSENT_FOR_BOUNDS."""
    budget = 1 - objective / 100
    seconds = period * budget * ABSENT_BUDGET_SHARE
    minutes = -(-round(seconds, 6) // 60)
    low, high = ABSENT_FOR_BOUNDS
    return int(min(max(minutes * 60, low), high))


def plan_absent(
    service: ServiceLevelsSpec,
    spec: SLOSpec,
    labels: dict[str, str],
    settings: Settings,
    tiers: tuple[Tier, ...],
    period: int,
) -> Alert | None:
    absent = spec.alerting.absent
    if absent.disable or not settings.absent_alerts:
        return None
    hold = parse_duration(absent.for_) if absent.for_ else absent_for(spec.objective, period)
    sli = plan_sli(spec)
    window = min((300, *(t.short_window for t in tiers)))
    if absent.severity:
        severity = severity_label(settings, absent.severity)
    else:  # the catalog's first ticket-class severity, like a ticket tier's
        default = class_default(settings, "ticket")
        severity = default.label if default is not None else DEFAULT_SEVERITY["ticket"]
    name = absent.name or names.default_absent_alert_name(service.service, spec.name)
    summary = f"{service.service} {spec.name} SLO has no SLI data."
    description = (
        f"The series the {spec.name} SLI counts have been missing for {format_duration(hold)}: "
        "a broken scrape or a renamed metric, not an outage the SLO can see. "
        "Its burn-rate alerts cannot fire until the series return."
    )
    all_labels = {
        **labels,
        **spec.alerting.labels,
        **absent.labels,
        names.LABEL_SEVERITY: severity,
    }
    annotations = {
        names.ANNOTATION_SUMMARY: summary,
        names.ANNOTATION_DESCRIPTION: description,
        **absent.annotations,
    }
    return Alert(
        service=service.service,
        name=name,
        expr=sli_promql.absent_data(sli, window),
        for_=hold,
        severity=severity,
        labels=tuple(all_labels.items()),
        annotations=tuple(annotations.items()),
        runbook=ABSENT_RUNBOOK,
        summary=summary,
    )
