"""Is an output directory exactly what ``generate`` would write?"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from ..output.writer import read_tree

MAX_DIFF_LINES = 20


@dataclass
class CheckReport:
    stale: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    diffs: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not (self.stale or self.missing or self.extra)

    def render(self, out: Path) -> str:
        lines = []
        for rel in self.missing:
            lines.append(f"missing: {out / rel} (generate would write it)")
        for rel in self.extra:
            lines.append(f"extra:   {out / rel} (no input produces it any more)")
        for rel in self.stale:
            lines.append(f"stale:   {out / rel}")
            lines.extend("    " + d for d in self.diffs.get(rel, []))
        return "\n".join(lines)


def compare(expected: dict[str, bytes], out: Path) -> CheckReport:
    actual = read_tree(out)
    report = CheckReport()
    report.missing = sorted(set(expected) - set(actual))
    report.extra = sorted(set(actual) - set(expected))
    for rel in sorted(set(expected) & set(actual)):
        if expected[rel] != actual[rel]:
            report.stale.append(rel)
            report.diffs[rel] = _short_diff(actual[rel], expected[rel], rel)
    return report


def _short_diff(old: bytes, new: bytes, rel: str) -> list[str]:
    try:
        a = old.decode("utf-8").splitlines()
        b = new.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return ["(binary content differs)"]
    diff = list(difflib.unified_diff(a, b, f"out/{rel}", f"generated/{rel}", n=1, lineterm=""))
    if len(diff) > MAX_DIFF_LINES:
        diff = [*diff[:MAX_DIFF_LINES], f"... {len(diff) - MAX_DIFF_LINES} more diff lines"]
    return diff
