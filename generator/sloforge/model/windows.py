"""Window strategies: how each SLO's error ratio over a window is computed.

``exact`` computes every window from the raw series. ``efficient`` records,
every evaluation, the error and total events of the SLO since the previous
evaluation (read from the counters' values at both ends, aggregated to the
SLO's labels): these tiles cover time exactly once, so every longer window is
a ratio of sums of tiles over time, traffic-weighted (never an average of
ratios), with no lag behind ``exact``, and its cost no longer grows with the
number of raw series. The period-long window sums coarser tiles recorded by
the relaxed budget group. Free-form ``query`` SLIs only give rates: they record
a 5m rate every evaluation instead, and their longer windows lag ``exact`` by
about half of that (see README, "Window strategies").
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Protocol

from . import conventions as names
from . import sli as sli_queries
from .domain import SLO
from .durations import format_duration
from .promql import Selector, label_matchers, on, sum_by, without

CURRENT_WINDOW = 300  # the window of slo:current_burn_rate:ratio
BUDGET_INTERVAL = 300  # the period-long recordings change slowly: evaluated every 5m


BRIDGE = 3600  # calendar tiles count across gaps in the data up to this long


@dataclass(frozen=True)
class Recording:
    record: str
    expr: str
    labels: tuple[tuple[str, str], ...] = ()


def base_window(slo: SLO) -> int:
    """The shortest error-ratio window recorded (the current burn rate reads it): 5m or less."""
    return min((CURRENT_WINDOW, *slo.windows))


def budget_interval(slo: SLO) -> int:
    return max(BUDGET_INTERVAL, slo.evaluation_interval)


def tile_window(slo: SLO) -> int:
    """What one efficient event recording covers: an evaluation interval (queries: a 5m rate;
    timeslices: one slice, which is their evaluation interval)."""
    if slo.sli.kind == "query":
        return base_window(slo)
    return slo.evaluation_interval


def efficient_lag(slo: SLO, window: int) -> float:
    """About how much later than ``exact`` an ``efficient`` window sees an error step (seconds).

    Tiles cover time exactly once, so only rates (free-form queries) lag: a sum
    of overlapping 5m rates weighs the newest minutes less.
    """
    tile = tile_window(slo)
    if slo.strategy != "efficient" or slo.sli.kind != "query" or window == tile:
        return 0.0
    return tile / 2


def selector(record: str, slo: SLO) -> str:
    return record + _slo_matchers(slo.selector_labels)


# Every recording and alert of an SLO selects its records by the same labels.
@functools.lru_cache(maxsize=4096)
def _slo_matchers(labels: tuple[tuple[str, str], ...]) -> str:
    """``{slo_service="…", slo="…"}``, or nothing without labels."""
    return Selector("", label_matchers(dict(labels))).render() if labels else ""


def _ratio_windows(slo: SLO) -> list[int]:
    return sorted({base_window(slo), *slo.windows})


class WindowStrategy(Protocol):
    name: str

    def sli_recordings(self, slo: SLO) -> list[Recording]:
        """Error ratio over every window the alerts read, in evaluation order."""

    def period_recordings(self, slo: SLO) -> list[Recording]:
        """The relaxed budget group's recordings, ending with the error ratio over the period."""

    def traffic(self, slo: SLO, window: int) -> str:
        """Events/second over ``window``, joinable with the SLO's recorded series by ``and``."""


class Exact:
    name = "exact"

    def sli_recordings(self, slo: SLO) -> list[Recording]:
        return [self._ratio(slo, w) for w in _ratio_windows(slo)]

    def period_recordings(self, slo: SLO) -> list[Recording]:
        if slo.calendar is not None:
            return calendar_recordings(slo)
        if slo.period in _ratio_windows(slo):
            return []
        return [self._ratio(slo, slo.period)]

    def traffic(self, slo: SLO, window: int) -> str:
        return f"{on(slo.sli.group_by)} {sli_queries.total_events(slo.sli, window)}"

    @staticmethod
    def _ratio(slo: SLO, window: int) -> Recording:
        errors = sli_queries.error_events(slo.sli, window)
        total = sli_queries.total_events(slo.sli, window)
        if " / " in total:  # e.g. a probe's sample count per second: keep the division whole
            total = f"({total})"
        return Recording(names.error_ratio_record(window), f"(\n{_indent(errors)}\n)\n/\n{total}")


class Efficient:
    name = "efficient"

    def sli_recordings(self, slo: SLO) -> list[Recording]:
        base = tile_window(slo)
        total = names.total_events_record(base)
        errors = names.error_events_record(base)
        total_expr = sli_queries.total_tile(slo.sli, base)
        if slo.sli.kind == "timeslices":
            out = slice_recordings(slo)
        elif total_expr is None:  # a free-form query: rates over the base window
            out = [
                Recording(total, sli_queries.total_events(slo.sli, base)),
                Recording(errors, sli_queries.error_events(slo.sli, base)),
            ]
        else:
            grouped = sum_by(slo.sli.group_by, selector(total, slo))
            error_expr = sli_queries.error_tile(slo.sli, base, grouped)
            assert error_expr is not None
            out = [Recording(total, total_expr), Recording(errors, error_expr)]
        for window in _ratio_windows(slo):
            if window == base:
                out.append(
                    Recording(
                        names.error_ratio_record(base),
                        f"{selector(errors, slo)}\n/\n{selector(total, slo)}",
                    )
                )
            else:
                out.append(_sum_ratio(slo, base, window))
        return out

    def period_recordings(self, slo: SLO) -> list[Recording]:
        if slo.calendar is not None:
            return calendar_recordings(slo)
        if slo.period in _ratio_windows(slo):
            return []
        tile = budget_interval(slo)
        base = tile_window(slo)
        if tile <= base:  # the base recordings are already as coarse as the budget group
            return [_sum_ratio(slo, base, slo.period)]
        tiles = [
            Recording(
                record(tile),
                f"avg_over_time({selector(record(base), slo)}[{format_duration(tile)}])",
            )
            for record in (names.total_events_record, names.error_events_record)
        ]
        return [*tiles, _sum_ratio(slo, tile, slo.period)]

    def traffic(self, slo: SLO, window: int) -> str:
        total = selector(names.total_events_record(tile_window(slo)), slo)
        return f"avg_over_time({total}[{format_duration(window)}])"


def slice_recordings(slo: SLO) -> list[Recording]:
    """Each slice judged once, then counted as one event: bad or good, per second of slice.

    The SLO's group runs once per slice, so these tiles cover time exactly once like
    event tiles, and every window's error ratio (bad slices over counted slices) is the
    efficient strategy's ratio of sums. A slice without a value records nothing: it
    is not counted at all.
    """
    assert slo.sli.timeslices is not None
    length = slo.sli.timeslices.slice
    good = names.timeslice_record(length)
    judged = selector(good, slo)
    return [
        Recording(good, sli_queries.slice_good(slo.sli)),
        Recording(names.total_events_record(length), f"(0 * {judged} + 1) / {length}"),
        Recording(names.error_events_record(length), f"(1 - {judged}) / {length}"),
    ]


def period_record(slo: SLO) -> str:
    """The error ratio over the SLO period: ``…_rate30d``, or ``…_month`` since the month began."""
    if slo.calendar is not None:
        return names.calendar_ratio_record(slo.calendar.kind)
    return names.error_ratio_record(slo.period)


def calendar_recordings(slo: SLO) -> list[Recording]:
    """Tiles of the budget interval's events, filed by period slot, and the period's ratio.

    Both strategies count a calendar period alike (see calendar.py): each tile
    is filed under the slot of the period holding its midpoint, and the ratio
    reads the slot of the period holding the same instant, so the two agree
    at every evaluation and a period's first tile is where its budget starts.
    """
    cal = slo.calendar
    assert cal is not None
    tile = budget_interval(slo)
    half = tile // 2
    total, errors = names.total_tile_record(tile), names.error_tile_record(tile)
    grouped = sum_by(slo.sli.group_by, selector(total, slo))
    if slo.sli.kind == "timeslices":
        out = _slice_counts(slo, tile)
    else:
        out = [
            Recording(total, sli_queries.total_count(slo.sli, tile, BRIDGE)),
            Recording(errors, sli_queries.error_count(slo.sli, tile, BRIDGE, grouped)),
        ]
    slot_now = cal.slot_expr(half)
    by_slot = (names.period_errors_record(tile), names.period_total_record(tile))
    for record, tile_record in zip(by_slot, (errors, total), strict=True):
        for slot in range(cal.slots):
            out.append(
                Recording(
                    record,
                    f"{selector(tile_record, slo)}\nand on () {slot_now} == {slot}",
                    ((names.LABEL_PERIOD_SLOT, str(slot)),),
                )
            )
    longest = format_duration(cal.longest)
    branches = []
    for slot in range(cal.slots):
        errors_k, total_k = (_slot_selector(record, slo, slot) for record in by_slot)
        branches.append(
            f"  sum_over_time({errors_k}[{longest}])\n  /\n"
            f"  sum_over_time({total_k}[{longest}])\n"
            f"  and on () {slot_now} == {slot}"
        )
    body = "\nor\n".join(branches)
    ratio = f"sum{without([names.LABEL_PERIOD_SLOT])} (\n{body}\n)"
    return [*out, Recording(period_record(slo), ratio)]


def _slice_counts(slo: SLO, tile: int) -> list[Recording]:
    """Slices counted (total) and bad slices of the last ``tile``, read from the judged ones."""
    assert slo.sli.timeslices is not None
    record = selector(names.timeslice_record(slo.sli.timeslices.slice), slo)
    judged = f"{record}[{format_duration(tile)}]"
    return [
        Recording(names.total_tile_record(tile), f"count_over_time({judged})"),
        Recording(
            names.error_tile_record(tile),
            f"count_over_time({judged}) - sum_over_time({judged})",
        ),
    ]


def _slot_selector(record: str, slo: SLO, slot: int) -> str:
    labels = {**dict(slo.selector_labels), names.LABEL_PERIOD_SLOT: str(slot)}
    return Selector(record, label_matchers(labels)).render()


def _sum_ratio(slo: SLO, tile: int, window: int) -> Recording:
    """Errors over total in ``window``, both summed from event recordings over ``tile``."""
    w = format_duration(window)
    errors = selector(names.error_events_record(tile), slo)
    total = selector(names.total_events_record(tile), slo)
    expr = f"sum_over_time({errors}[{w}])\n/\nsum_over_time({total}[{w}])"
    return Recording(names.error_ratio_record(window), expr)


def _indent(text: str, by: str = "  ") -> str:
    return "\n".join(by + line for line in text.splitlines())


STRATEGIES: dict[str, WindowStrategy] = {"exact": Exact(), "efficient": Efficient()}
