"""The baseline: rules shaped the way Sloth generates them, every window computed from raw series.

Per SLO: a group of error-ratio recordings, each window read straight from the
raw counters (the period window averages the 5m ratios), a group of metadata
recordings, and a group with one alert per severity whose conditions are OR-ed
tiers. Written here from the published shape of Sloth's output, for comparison
only; sloforge never emits these.
"""

from __future__ import annotations

from typing import Any

from . import synth

WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
PERIOD = "30d"
PAGE = (("1h", "5m", 14.4), ("6h", "30m", 6.0))
TICKET = (("1d", "2h", 3.0), ("3d", "6h", 1.0))
LABEL = "baseline_slo"
RECORD = "baseline:sli_error:ratio_rate{window}"


def _ratio(sid: str, window: str) -> str:
    errors = f'{synth.METRIC}_total{{slo_id="{sid}", code=~"5.."}}'
    total = f'{synth.METRIC}_total{{slo_id="{sid}"}}'
    return f"(sum(rate({errors}[{window}])))\n/\n(sum(rate({total}[{window}])))"


def _sel(record: str, sid: str) -> str:
    return f'{record}{{{LABEL}="{sid}"}}'


def _alert(sid: str, severity: str, tiers: tuple[tuple[str, str, float], ...]) -> dict[str, Any]:
    terms = []
    for long, short, burn in tiers:
        threshold = f"({burn} * {synth.BUDGET:.6g})"
        terms.append(
            f"({_sel(RECORD.format(window=long), sid)} > {threshold}"
            f" and ignoring ({LABEL}_window) {_sel(RECORD.format(window=short), sid)} > {threshold})"
        )
    return {
        "alert": f"Baseline{sid.capitalize()}Burn",
        "expr": "\nor ignoring (baseline_slo_window)\n".join(terms),
        "labels": {"severity": severity, LABEL: sid},
    }


def rules(slo_ids: list[str]) -> dict[str, Any]:
    groups = []
    for sid in slo_ids:
        labels = {LABEL: sid}
        sli = [
            {
                "record": RECORD.format(window=w),
                "expr": _ratio(sid, w),
                "labels": {**labels, f"{LABEL}_window": w},
            }
            for w in WINDOWS
        ]
        five = _sel(RECORD.format(window="5m"), sid)
        sli.append(
            {
                "record": RECORD.format(window=PERIOD),
                "expr": f"sum_over_time({five}[{PERIOD}])\n/ ignoring ({LABEL}_window)\ncount_over_time({five}[{PERIOD}])",
                "labels": {**labels, f"{LABEL}_window": PERIOD},
            }
        )
        budget = f"{synth.BUDGET:.6g}"
        meta = [
            {
                "record": "baseline:objective:ratio",
                "expr": f"vector({synth.OBJECTIVE / 100})",
                "labels": labels,
            },
            {
                "record": "baseline:error_budget:ratio",
                "expr": f"vector({budget})",
                "labels": labels,
            },
            {
                "record": "baseline:current_burn_rate:ratio",
                "expr": f"{five} / {budget}",
                "labels": labels,
            },
            {
                "record": "baseline:period_burn_rate:ratio",
                "expr": f"{_sel(RECORD.format(window=PERIOD), sid)} / {budget}",
                "labels": labels,
            },
            {
                "record": "baseline:period_error_budget_remaining:ratio",
                "expr": f"1 - {_sel('baseline:period_burn_rate:ratio', sid)}",
                "labels": labels,
            },
        ]
        alerts = [_alert(sid, "critical", PAGE), _alert(sid, "warning", TICKET)]
        groups += [
            {"name": f"baseline-sli-{sid}", "rules": sli},
            {"name": f"baseline-meta-{sid}", "rules": meta},
            {"name": f"baseline-alerts-{sid}", "rules": alerts},
        ]
    return {"groups": groups}
