"""Prometheus rule groups for one service, as plain data (``{"groups": [...]}``)."""

from __future__ import annotations

from typing import Any

from ..model import baseline as baselines
from ..model import conventions as names
from ..model import links
from ..model.domain import SLO, Alert, Service, Settings, Tier
from ..model.durations import format_duration, humanize
from ..model.escalation import Escalation, escalations
from ..model.promql import number
from ..model.windows import STRATEGIES, base_window, budget_interval, period_record, selector

Rule = dict[str, Any]


def build_rules(service: Service, settings: Settings) -> dict[str, Any]:
    groups: list[dict[str, Any]] = []
    for slo in service.slos:
        # The interval is explicit: efficient recordings count the events since the previous
        # evaluation.
        groups.append(
            {
                "name": names.slo_group_name(slo.service, slo.name),
                "interval": format_duration(slo.evaluation_interval),
                "rules": slo_rules(slo, settings),
            }
        )
        groups.append(
            {
                "name": names.budget_group_name(slo.service, slo.name),
                "interval": format_duration(budget_interval(slo)),
                "rules": budget_rules(slo),
            }
        )
    plain = [_recording(r.record, r.expr, dict(r.labels)) for r in service.recording_rules]
    plain += baseline_recordings(service)
    plain += [plain_alert_rule(a, settings) for a in service.alerts]
    plain += [
        escalation_rule(e, settings, service.name) for e in plain_escalations(service, settings)
    ]
    if plain:
        groups.append({"name": names.service_rules_group_name(service.name), "rules": plain})
    return {"groups": groups}


def slo_rules(slo: SLO, settings: Settings) -> list[Rule]:
    """SLI recordings, then the burn-rate alerts that read them: one group, evaluated in order."""
    strategy = STRATEGIES[slo.strategy]
    labels = dict(slo.labels)
    rules = [_recording(r.record, r.expr, labels) for r in strategy.sli_recordings(slo)]
    current = selector(names.error_ratio_record(base_window(slo)), slo)
    rules.append(
        _recording(names.RECORD_CURRENT_BURN, f"{current} / {number(slo.error_budget)}", labels)
    )
    rules += [burn_rate_alert(slo, tier, settings) for tier in slo.tiers]
    rules += [
        escalation_rule(e, settings, slo.service, slo.name) for e in slo_escalations(slo, settings)
    ]
    rules += absent_alert_rules(slo, settings)
    return rules


def absent_alert_rules(slo: SLO, settings: Settings) -> list[Rule]:
    """The SLO's absent-data alert (none when disabled), after its burn-rate alerts."""
    return [plain_alert_rule(slo.absent, settings)] if slo.absent else []


def budget_rules(slo: SLO) -> list[Rule]:
    strategy = STRATEGIES[slo.strategy]
    labels = dict(slo.labels)
    rules = [
        _recording(r.record, r.expr, {**labels, **dict(r.labels)})
        for r in strategy.period_recordings(slo)
    ]
    period = selector(period_record(slo), slo)
    budget = number(slo.error_budget)
    rules += [
        _recording(names.RECORD_OBJECTIVE, f"vector({number(slo.objective_ratio)})", labels),
        _recording(names.RECORD_ERROR_BUDGET, f"vector({budget})", labels),
        _recording(names.RECORD_BUDGET_REMAINING, f"1 - {period} / {budget}", labels),
    ]
    return rules


def burn_rate_alert(slo: SLO, tier: Tier, settings: Settings) -> Rule:
    threshold = number(tier.threshold(slo.error_budget))
    long_ratio = selector(names.error_ratio_record(tier.long_window), slo)
    short_ratio = selector(names.error_ratio_record(tier.short_window), slo)
    expr = f"{long_ratio} > {threshold}\nand\n{short_ratio} > {threshold}"
    if slo.traffic_guard is not None:
        traffic = STRATEGIES[slo.strategy].traffic(slo, tier.long_window)
        expr += f"\nand {traffic} > {number(slo.traffic_guard)}"
    labels = {
        **dict(slo.labels),
        **dict(slo.alert_labels),
        **dict(tier.labels),
        names.LABEL_SEVERITY: tier.severity,
        names.LABEL_SLO_TIER: tier.kind,
        names.LABEL_LONG_WINDOW: format_duration(tier.long_window),
        names.LABEL_SHORT_WINDOW: format_duration(tier.short_window),
    }
    annotations = {
        names.ANNOTATION_SUMMARY: burn_summary(slo, tier),
        names.ANNOTATION_DESCRIPTION: burn_description(slo, tier),
        **_link_annotations(settings, slo.service, slo.alert_name, slo.name),
        **dict(slo.alert_annotations),
        **dict(tier.annotations),
    }
    return {
        "alert": slo.alert_name,
        "expr": expr,
        "labels": _sorted(labels),
        "annotations": annotations,
    }


def burn_summary(slo: SLO, tier: Tier) -> str:
    windows = f"{format_duration(tier.long_window)}/{format_duration(tier.short_window)}"
    return (
        f"{slo.service} {slo.name} SLO is burning its error budget over "
        f"{number(tier.burn_rate)}x ({windows} windows)."
    )


def burn_description(slo: SLO, tier: Tier) -> str:
    budget = slo.error_budget
    group = "".join(f"{label}={{{{ $labels.{label} }}}} " for label in slo.sli.group_by)
    scope = f"For {group.strip()}, the" if group else "The"
    exhaustion = humanize(slo.period / tier.burn_rate)
    period = format_duration(slo.period) if slo.calendar is None else f"{slo.calendar.kind}'s"
    measured = "error ratio"
    if slo.sli.timeslices is not None:
        measured = f"share of bad {format_duration(slo.sli.timeslices.slice)} slices"
    return (
        f"{scope} {measured} over both the last {format_duration(tier.long_window)} and the last "
        f"{format_duration(tier.short_window)} is above {_percent(tier.threshold(budget))} "
        f"({number(tier.burn_rate)}x the {_percent(budget)} error budget "
        f"of the {number(slo.objective)}% objective). "
        f"At this burn rate the {period} error budget "
        f"is gone in {exhaustion}; "
        f"this tier fires once {_percent(tier.budget_consumed)} of it is spent."
    )


# --- escalation ----------------------------------------------------------------------


def slo_escalations(slo: SLO, settings: Settings) -> list[Escalation]:
    """Escalations of the SLO's burn-rate alert, one per escalating severity of its tiers."""
    return escalations(
        settings, slo.alert_name, [t.severity for t in slo.tiers], dict(slo.selector_labels)
    )


def plain_escalations(service: Service, settings: Settings) -> list[Escalation]:
    scope = {names.LABEL_SERVICE: service.name}
    return [e for a in service.alerts for e in escalations(settings, a.name, [a.severity], scope)]


def escalation_rule(
    escalation: Escalation, settings: Settings, service: str, slo: str | None = None
) -> Rule:
    """Fires once the source has fired for ``after``; routed by the target severity."""
    e = escalation
    return {
        "alert": e.alert,
        "expr": e.expr(),
        "for": format_duration(e.after),
        "labels": _sorted(e.labels()),
        "annotations": {
            names.ANNOTATION_SUMMARY: e.summary(),
            names.ANNOTATION_DESCRIPTION: escalation_description(e, settings, service),
            **_link_annotations(settings, service, e.alert, slo),
        },
    }


def escalation_description(e: Escalation, settings: Settings, service: str) -> str:
    target = settings.severity(e.to_name)
    meaning = f": {target.description}" if target is not None and target.description else "."
    return (
        f"{e.source} ({names.LABEL_SEVERITY}={e.from_label}) is still firing "
        f"{format_duration(e.after)} after it started, so it escalates to {e.to_name} "
        f"({names.LABEL_SEVERITY}={e.to_label}){meaning} "
        f"Its runbook: {links.runbook_url(settings, service, e.source)}"
    )


def baseline_recordings(service: Service) -> list[Rule]:
    """What baseline alerts read (model/baseline.py): after the service's own recordings, which
    their metrics may be, and before the alerts, so each evaluation compares fresh values."""
    return [
        _recording(r.record, r.expr, dict(r.labels))
        for a in service.alerts
        if a.baseline is not None
        for r in baselines.recordings(service.name, a.name, a.baseline)
    ]


def plain_alert_rule(alert: Alert, settings: Settings) -> Rule:
    rule: Rule = {"alert": alert.name, "expr": alert.expr}
    if alert.for_:
        rule["for"] = format_duration(alert.for_)
    rule["labels"] = _sorted(dict(alert.labels))
    annotations = dict(alert.annotations)
    for key, value in _link_annotations(settings, alert.service, alert.name).items():
        annotations.setdefault(key, value)
    rule["annotations"] = annotations
    return rule


def _link_annotations(
    settings: Settings, service: str, alert: str, slo: str | None = None
) -> dict[str, str]:
    out = {names.ANNOTATION_RUNBOOK: links.runbook_url(settings, service, alert)}
    dashboard = links.dashboard_url(settings, service, slo)
    if dashboard:
        out[names.ANNOTATION_DASHBOARD] = dashboard
    return out


def _recording(record: str, expr: str, labels: dict[str, str]) -> Rule:
    rule: Rule = {"record": record, "expr": expr}
    if labels:
        rule["labels"] = _sorted(labels)
    return rule


def _sorted(labels: dict[str, str]) -> dict[str, str]:
    return dict(sorted(labels.items()))


def _percent(ratio: float) -> str:
    return f"{number(round(ratio * 100, 6))}%"
