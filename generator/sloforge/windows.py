"""Window strategies: how each SLO's error ratio over a window is computed.

``exact`` computes every window from the raw series. ``efficient`` records error
and total event rates once over a short base window and derives every longer
window from those recordings as a ratio of sums over time, so the cost of a 3d
or 30d window no longer grows with the number of raw series. Averaging the
base-window ratios would weight a quiet minute like a busy one; summing the
event rates keeps the result traffic-weighted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from . import conventions as names
from . import sli as sli_queries
from .durations import format_duration
from .model import SLO
from .promql import Selector, label_matchers, on

BASE_WINDOW = 300


@dataclass(frozen=True)
class Recording:
    record: str
    expr: str


def base_window(slo: SLO) -> int:
    """The shortest window recorded: 5m, or less when a tier reads a shorter one."""
    return min((BASE_WINDOW, *slo.windows))


def selector(record: str, slo: SLO) -> str:
    return Selector(record, label_matchers(dict(slo.selector_labels))).render()


def _ratio_windows(slo: SLO) -> list[int]:
    return sorted({base_window(slo), *slo.windows})


class WindowStrategy(Protocol):
    name: str

    def sli_recordings(self, slo: SLO) -> list[Recording]:
        """Error ratio over every window the alerts read, in evaluation order."""

    def period_recordings(self, slo: SLO) -> list[Recording]:
        """Error ratio over the SLO period (evaluated at a relaxed interval)."""

    def traffic(self, slo: SLO, window: int) -> str:
        """Events/second over ``window``, joinable with the SLO's recorded series by ``and``."""


class Exact:
    name = "exact"

    def sli_recordings(self, slo: SLO) -> list[Recording]:
        return [self._ratio(slo, w) for w in _ratio_windows(slo)]

    def period_recordings(self, slo: SLO) -> list[Recording]:
        if slo.period in _ratio_windows(slo):
            return []
        return [self._ratio(slo, slo.period)]

    def traffic(self, slo: SLO, window: int) -> str:
        return f"{on(slo.sli.group_by)} {sli_queries.total_events(slo.sli, window)}"

    @staticmethod
    def _ratio(slo: SLO, window: int) -> Recording:
        errors = sli_queries.error_events(slo.sli, window)
        total = sli_queries.total_events(slo.sli, window)
        return Recording(names.error_ratio_record(window), f"(\n{_indent(errors)}\n)\n/\n{total}")


class Efficient:
    name = "efficient"

    def sli_recordings(self, slo: SLO) -> list[Recording]:
        base = base_window(slo)
        errors = names.error_events_record(base)
        total = names.total_events_record(base)
        out = [
            Recording(errors, sli_queries.error_events(slo.sli, base)),
            Recording(total, sli_queries.total_events(slo.sli, base)),
            Recording(names.error_ratio_record(base), f"{selector(errors, slo)}\n/\n{selector(total, slo)}"),
        ]
        out += [self._derived(slo, w) for w in _ratio_windows(slo) if w != base]
        return out

    def period_recordings(self, slo: SLO) -> list[Recording]:
        if slo.period in _ratio_windows(slo):
            return []
        return [self._derived(slo, slo.period)]

    def traffic(self, slo: SLO, window: int) -> str:
        total = selector(names.total_events_record(base_window(slo)), slo)
        return f"avg_over_time({total}[{format_duration(window)}])"

    @staticmethod
    def _derived(slo: SLO, window: int) -> Recording:
        base = base_window(slo)
        w = format_duration(window)
        errors = selector(names.error_events_record(base), slo)
        total = selector(names.total_events_record(base), slo)
        expr = f"sum_over_time({errors}[{w}])\n/\nsum_over_time({total}[{w}])"
        return Recording(names.error_ratio_record(window), expr)


def _indent(text: str, by: str = "  ") -> str:
    return "\n".join(by + line for line in text.splitlines())


STRATEGIES: dict[str, WindowStrategy] = {"exact": Exact(), "efficient": Efficient()}
