"""Checks of timeslices SLIs that need more than one field: thresholds a ratio can meet,
slices that tile every window, and options that do not apply to slices."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import Problem
from ..model.calendar import NOMINAL
from ..model.durations import format_duration, parse_duration
from .loader import Document, PathKey
from .models import SLOSpec, TimeslicesSLI
from .partial import present, refused_fields

CURRENT_WINDOW = 300  # the current burn rate's window (windows.py): slices must tile it too
DEFAULT_WINDOWS = (300, 1800, 3600, 7200, 21600, 86400, 259200)  # model/data/tiers.yaml


def timeslice_problems(slo: SLOSpec, at: PathKey, doc: Document) -> list[Problem]:
    """Problems of one SLO (at ``at``) whose SLI is timeslices; none for other kinds."""
    ts = getattr(slo.sli, "timeslices", None)
    if not isinstance(ts, TimeslicesSLI):
        return []
    problems: list[Problem] = []

    def problem(path: PathKey, message: str) -> None:
        full = (*at, *path)
        problems.append(Problem(doc.locate(full), doc.show(full), message))

    _threshold_problems(ts, problem)
    _slice_problems(slo, ts, problem)
    if slo.alerting.traffic_guard is not None:
        problem(
            ("alerting", "traffic_guard"),
            "does not apply to a timeslices SLI: a slice without traffic is not counted at all",
        )
    if slo.strategy == "exact":
        problem(("strategy",), "timeslices SLIs record each slice once: only `efficient` applies")
    return problems


def _threshold_problems(ts: TimeslicesSLI, problem: Callable[[PathKey, str], None]) -> None:
    if ts.ratio is None:
        return
    base = ("sli", "timeslices")
    for key in ("at_most", "below"):
        if getattr(ts, key) is not None:
            problem(
                (*base, key),
                "a ratio slice is good when enough of its events are good: use at_least or above",
            )
    if ts.at_least is not None and not 0 < ts.at_least <= 1:
        problem(
            (*base, "at_least"),
            f"is the good share of a slice's events: above 0 and at most 1 (got {ts.at_least:g})",
        )
    if ts.above is not None and not 0 <= ts.above < 1:
        problem(
            (*base, "above"),
            f"is the good share of a slice's events: at least 0 and below 1 (got {ts.above:g})",
        )


def _slice_problems(
    slo: SLOSpec, ts: TimeslicesSLI, problem: Callable[[PathKey, str], None]
) -> None:
    # A salvaged document keeps refused fields at defaults: compare only what was accepted.
    if "slice" in refused_fields(ts):
        return
    length = parse_duration(ts.slice)
    where = ("sli", "timeslices", "slice")
    if length < 60:
        problem(where, f"must be at least 1m: a slice needs scraped samples (got {ts.slice})")
        return
    windows = {CURRENT_WINDOW}
    if "window" not in refused_fields(slo):
        windows.add(NOMINAL.get(slo.window) or parse_duration(slo.window))
    period = max(windows)
    if "tiers" in refused_fields(slo.alerting):
        pass
    elif slo.alerting.tiers is not None:
        for _, tier in present(slo.alerting.tiers):
            for key in ("long_window", "short_window"):
                if key not in refused_fields(tier):
                    windows.add(parse_duration(getattr(tier, key)))
    else:
        windows |= {w for w in DEFAULT_WINDOWS if w <= period}
    untiled = sorted(w for w in windows if w % length)
    if untiled:
        listed = ", ".join(format_duration(w) for w in untiled)
        problem(
            where,
            f"must divide every window the SLO reads, so each holds whole slices: "
            f"{listed} (got {ts.slice})",
        )
