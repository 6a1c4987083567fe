"""What a converted SLO will do differently than it did under the source tool.

Each difference is stated per SLO, with the reason, for the migration report
(``MIGRATION.md``) and the header of each converted file. They come from the
source tools' documented behaviour, not from guessing at a particular version's
output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..spec.foreign import FORMATS, format_key
from ..spec.loader import Document


@dataclass(frozen=True)
class Difference:
    slo: str
    summary: str
    detail: str


def differences(converted: dict[str, Any], source: Document) -> list[Difference]:
    key = format_key(source.data)
    tool = FORMATS[key][0] if key else ""
    found = []
    for slo in converted.get("slos", []):
        for check in _CHECKS.get(tool, ()):
            found.extend(check(slo, source.data))
    return found


def _name(slo: dict[str, Any]) -> str:
    return str(slo.get("name"))


def _has_sloth_labels(slo: dict[str, Any]) -> bool:
    return "sloth_service" in slo.get("labels", {})


def _sloth_period_sli(slo: dict[str, Any], _: dict[str, Any]) -> list[Difference]:
    return [
        Difference(
            _name(slo),
            "the SLI over the period weighs every event equally",
            "Sloth's period SLI is the plain mean of its 5-minute error ratios, so a quiet "
            "hour with a few errors counts as much as a busy one; sloforge divides the "
            "period's bad events by all its events. Budgets differ where traffic varies.",
        )
    ]


def _sloth_alerts(slo: dict[str, Any], _: dict[str, Any]) -> list[Difference]:
    alerting = slo.get("alerting", {})
    if alerting.get("page", {}).get("disable") and alerting.get("ticket", {}).get("disable"):
        return []
    return [
        Difference(
            _name(slo),
            "one alert rule per window pair instead of one per severity",
            "Sloth writes a page alert (1h/5m or 6h/30m) and a ticket alert (1d/2h or "
            "3d/6h); sloforge writes one rule per pair under the same alert name, labelled "
            "long_window and short_window, so a fast burn can fire twice. Alertmanager's "
            "grouping by alertname, slo_service and slo still sends one notification.",
        )
    ]


def _sloth_labels(slo: dict[str, Any], _: dict[str, Any]) -> list[Difference]:
    if _has_sloth_labels(slo):
        return []
    return [
        Difference(
            _name(slo),
            "sloth_service, sloth_slo, sloth_id and sloth_severity labels are gone",
            "Routes, silences and dashboards selecting on them stop matching: translate "
            "them (docs/migration.md) or import with --keep-labels.",
        )
    ]


def _sloth_severity(slo: dict[str, Any], source: dict[str, Any]) -> list[Difference]:
    alerting = slo.get("alerting", {})
    added = [t for t in ("page", "ticket") if "severity" not in alerting.get(t, {})]
    if not added:
        return []
    return [
        Difference(
            _name(slo),
            f"{' and '.join(added)} alerts gain a severity label (critical, warning)",
            "Sloth sets no severity label of its own; sloforge labels page tiers "
            "severity=critical and ticket tiers severity=warning unless told otherwise.",
        )
    ]


def _pyrra_for(slo: dict[str, Any], _: dict[str, Any]) -> list[Difference]:
    return [
        Difference(
            _name(slo),
            "burn-rate alerts fire without waiting for a `for:` duration",
            "Pyrra holds each of its four alerts for a while before firing; sloforge's fire "
            "as soon as both windows exceed the threshold (the short window already "
            "filters blips), so pages arrive a few minutes sooner.",
        )
    ]


def _pyrra_labels(slo: dict[str, Any], source: dict[str, Any]) -> list[Difference]:
    name = source.get("metadata", {}).get("name")
    if slo.get("name") == name:
        return []
    return [
        Difference(
            _name(slo),
            f"rules are labelled slo_service={name}, slo={slo.get('name')}",
            f'Pyrra labels its rules slo="{name}", and its alerts long and short; sloforge '
            "uses slo_service, slo, long_window and short_window. Translate routes "
            "(docs/migration.md) or import with --keep-labels.",
        )
    ]


def _openslo_after(slo: dict[str, Any], _: dict[str, Any]) -> list[Difference]:
    if not slo.get("alerting", {}).get("tiers"):
        return []
    return [
        Difference(
            _name(slo),
            "alertAfter is read as the short window of each condition",
            "OpenSLO says how long a condition must hold (alertAfter) over its lookback "
            "window; sloforge requires the burn over both the lookback window and an "
            "alertAfter-long window, which fires at about the same time and resets sooner.",
        )
    ]


def _openslo_slices(slo: dict[str, Any], source: dict[str, Any]) -> list[Difference]:
    slices = slo.get("sli", {}).get("timeslices")
    if not slices:
        return []
    found = [
        Difference(
            _name(slo),
            "a slice without data is not counted",
            "OpenSLO does not say what a time slice without data counts as; sloforge counts "
            "it as neither good nor bad, so quiet slices neither spend nor earn budget (a "
            "tool that counts them as good reports a higher SLI during quiet hours).",
        ),
        Difference(
            _name(slo),
            f"slices are the {slices['slice']} between rule evaluations",
            "Each slice ends at an evaluation of the SLO's rule group (its interval is the "
            "slice), not on the clock's minute, and Prometheus 2 counts one slice more per "
            "window than Prometheus 3 (both ends of a range): the SLI may differ from the "
            "source tool's by a slice per window.",
        ),
    ]
    if "[$slice:]" in str(slices.get("metric", "")):
        found.append(
            Difference(
                _name(slo),
                "a slice's data points are the metric at each rule evaluation",
                "The good share of a slice's points is computed over a subquery at the "
                "global evaluation interval (1m by default), not over every raw sample the "
                "source tool would read.",
            )
        )
    if slices.get("average"):
        found.append(
            Difference(
                _name(slo),
                "the SLI is the plain mean of the slices' good ratios",
                "As OpenSLO's RatioTimeslices: a slice with few requests weighs as much as a "
                "busy one; slices without traffic are skipped rather than counted as 100%.",
            )
        )
    return found


_CHECKS = {
    "Sloth": (_sloth_period_sli, _sloth_alerts, _sloth_labels, _sloth_severity),
    "Pyrra": (_pyrra_for, _pyrra_labels),
    "OpenSLO": (_openslo_after, _openslo_slices),
}
