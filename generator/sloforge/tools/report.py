"""What ``sloforge test`` reports: one ``Check`` per verification, gathered in a ``Report``.

Every runner (promtool in testing.py, amtool in alertmanager_check.py) returns
``Check`` values, so a new kind of verification adds checks, not a report format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Check:
    suite: str  # the file checked
    name: str  # what was checked
    passed: bool
    details: list[str] = field(default_factory=list)
    seconds: float = 0.0
    skipped: bool = False


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)
    untested: list[str] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)  # tool -> "promtool 2.42.0"

    @property
    def ok(self) -> bool:
        return all(c.passed or c.skipped for c in self.checks)


# Checks of an output directory besides the rule files: (out_dir) -> checks.
CheckProvider = Callable[[Path], list[Check]]
