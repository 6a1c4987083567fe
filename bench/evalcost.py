"""Evaluation cost: every rule's expression as an instant query at the end of the history.

Samples come from the query statistics (``samples.totalQueryableSamples``);
time is the engine's ``evalTotalTime`` (median of a few repeats), summed per
group. A group evaluated every 5m costs a fifth per minute of one evaluated
every minute, so totals are per minute of rule evaluation.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from sloforge.model.durations import parse_duration

from . import promapi
from .history import History

DEFAULT_INTERVAL = 60


@dataclass(frozen=True)
class GroupCost:
    name: str
    interval: int
    rules: int
    samples: int  # per evaluation of the group
    seconds: float  # per evaluation of the group

    @property
    def per_minute(self) -> float:
        return 60 / self.interval


@dataclass(frozen=True)
class Cost:
    ruleset: str
    groups: tuple[GroupCost, ...]

    @property
    def samples_per_minute(self) -> float:
        return sum(g.samples * g.per_minute for g in self.groups)

    @property
    def seconds_per_minute(self) -> float:
        return sum(g.seconds * g.per_minute for g in self.groups)

    def summary(self) -> dict[str, Any]:
        return {
            "groups": len(self.groups),
            "rules": sum(g.rules for g in self.groups),
            "samples_per_minute": round(self.samples_per_minute),
            "eval_seconds_per_minute": round(self.seconds_per_minute, 6),
            "groups_detail": [
                {
                    "name": g.name,
                    "interval_seconds": g.interval,
                    "samples": g.samples,
                    "seconds": round(g.seconds, 6),
                }
                for g in self.groups
            ],
        }


def measure(url: str, rules: dict[str, Any], at: int, repeats: int) -> tuple[GroupCost, ...]:
    out = []
    for group in rules["groups"]:
        interval = parse_duration(group["interval"]) if "interval" in group else DEFAULT_INTERVAL
        samples, seconds = 0, 0.0
        for rule in group["rules"]:
            runs = [promapi.instant(url, rule["expr"], at) for _ in range(repeats)]
            samples += runs[0].samples
            seconds += statistics.median(r.seconds for r in runs)
        out.append(GroupCost(group["name"], interval, len(group["rules"]), samples, seconds))
    return tuple(out)


def run(url: str, history: History) -> dict[str, Cost]:
    return {
        name: Cost(name, measure(url, ruleset.rules, history.end, history.size.repeats))
        for name, ruleset in history.load.items()
    }
