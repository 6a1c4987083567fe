"""What each SLO's burn-rate tiers mean, as a table people can read; and what each baseline
alert compares."""

from __future__ import annotations

from ..build import rulefeed
from ..model import baseline as baselines
from ..model import conventions as names
from ..model.calendar import offset_text
from ..model.domain import SLO, Alert, Project, Service, Settings, Tier
from ..model.durations import format_duration, humanize
from ..model.promql import number
from ..model.windows import budget_interval, period_record

COLUMNS = (
    "tier",
    "severity",
    "long",
    "short",
    "burn rate",
    "threshold",
    "budget spent",
    "detects 100% errors in",
    "resets after",
)


def explain(project: Project, slo_name: str | None = None) -> str:
    blocks = []
    for service in project.services:
        for slo in service.slos:
            if slo_name and slo_name not in (slo.name, f"{service.name}/{slo.name}"):
                continue
            blocks.append(explain_slo(slo, project.settings))
        for alert in service.alerts:
            if alert.baseline is None:
                continue
            if slo_name and slo_name not in (alert.name, f"{service.name}/{alert.name}"):
                continue
            blocks.append(explain_baseline(service.name, alert))
        if not slo_name and service.recording_rules:
            blocks.append(explain_recorded(service, project.settings))
    return "\n\n".join(blocks)


def explain_baseline(service: str, alert: Alert) -> str:
    """The baseline, the bound(s) it compares with, and the history it needs."""
    b = alert.baseline
    assert b is not None
    hold = f"for {format_duration(alert.for_)}" if alert.for_ else "no for"
    lines = [
        f"{service}/{alert.name} (baseline alert, severity {alert.severity}, {hold})",
        f"  fires when {b.metric.render()} is {baselines.describe(b)}",
    ]
    for op, bound in baselines.bounds(service, alert.name, b).items():
        lines.append(f"  {'below' if op == '<' else 'above'}: {bound}")
    records = ", ".join(r.record for r in baselines.recordings(service, alert.name, b))
    history = format_duration(b.weeks * baselines.WEEK if b.seasonal else b.window + b.lag)
    lines.append(f"  records {records}; needs {history} of the metric's history")
    return "\n".join(lines)


def explain_recorded(service: Service, settings: Settings) -> str:
    """How many of the service's recording rules its generated tests feed from raw series,
    and which recorded series they inject instead, with the reason."""
    feeder = rulefeed.summary(service, settings)
    fed, total = feeder.counts()
    head = f"{service.name}: generated tests feed {fed} of {total} recording rules from raw series"
    return "\n".join([head, *(f"  {line}" for line in feeder.notes()[1:])])


def _timings(tier: Tier, budget: float) -> tuple[str, str]:
    """Detection and reset time at 100% errors. validate refuses a tier that needs an error
    ratio of 100% or more; should one reach here it reads "never", not a negative time."""
    if not 0 < tier.threshold(budget) < 1:
        return "never", "n/a"
    return _span(tier.detection_seconds(budget)), _span(tier.reset_seconds(budget))


def _span(seconds: float) -> str:
    return humanize(seconds) if seconds >= 1 else "under 1s"


def explain_slo(slo: SLO, settings: Settings | None = None) -> str:
    budget = slo.error_budget
    period = format_duration(slo.period)
    outage = f"{humanize(budget * slo.period)} of full outage"
    if slo.sli.timeslices is not None:  # the budget is slices: say how many
        length = slo.sli.timeslices.slice
        outage = (
            f"{number(round(budget * slo.period / length, 1))} bad {format_duration(length)} slices"
        )
    if slo.calendar is not None:
        outage += f" per {period}"
    head = (
        f"{slo.service}/{slo.name}: {number(slo.objective)}% over {slo.period_text} "
        f"(error budget {number(budget * 100)}% = {outage}), "
        f"alert {slo.alert_name}, {slo.strategy} windows"
    )
    rows = [COLUMNS]
    for tier in slo.tiers:
        rows.append(
            (
                tier.kind,
                tier.severity,
                format_duration(tier.long_window),
                format_duration(tier.short_window),
                f"{number(tier.burn_rate)}x",
                f"{number(round(tier.threshold(budget) * 100, 6))}%",
                f"{number(round(tier.budget_consumed * 100, 3))}%",
                *_timings(tier, budget),
            )
        )
    if len(rows) == 1:
        return head + "\n  (no burn-rate alerts: every tier is disabled)"
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = [
        "  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
        for r in rows
    ]
    lines.insert(1, "  " + "  ".join("-" * w for w in widths))
    notes = []
    responses = _responses(slo, settings or Settings())
    if responses:
        notes.append(f"  respond within (severity catalog): {responses}")
    if slo.traffic_guard is not None:
        notes.append(
            f"  traffic guard: a tier fires only above {number(slo.traffic_guard)} events/s "
            "over its long window"
        )
    if slo.calendar is not None:
        notes.append(calendar_note(slo))
    if slo.period != 30 * 86400 and not slo.custom_tiers:
        notes.append(
            "  windows and burn rates are the 30d defaults; "
            f"on a {period} period a tier fires after "
            "burn rate x long window / period of the budget is spent"
        )
    return "\n".join([head, *lines, *notes])


def _responses(slo: SLO, settings: Settings) -> str:
    """The catalog's response time of each severity the tiers use, as "P1 5m, P3 1h"."""
    found = []
    for severity in dict.fromkeys(t.severity for t in slo.tiers):
        level = settings.severity(severity)
        if level is not None and level.response_time is not None:
            found.append(f"{level.name} {format_duration(level.response_time)}")
    return ", ".join(dict.fromkeys(found))


def calendar_note(slo: SLO) -> str:
    cal = slo.calendar
    assert cal is not None
    start = "the 1st of the month" if cal.kind == "month" else "Monday"
    zone = "UTC" if cal.time_zone == "UTC" else f"{cal.time_zone} ({offset_text(cal)})"
    return (
        f"  budget: spent since {start} 00:00 {zone}, in full again at each boundary "
        f"({period_record(slo)}, {names.RECORD_BUDGET_REMAINING}; counted in "
        f"{format_duration(budget_interval(slo))} tiles); burn-rate tiers are planned on "
        f"{format_duration(slo.period)} and read the rolling windows above"
    )
