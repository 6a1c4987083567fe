"""``sloforge test``: run promtool and amtool on an output tree and summarise the results.

Every check is a ``Check`` (report.py; one line in the summary, one JUnit test
case), so new kinds of verification (routing expectations, targets) add checks,
not new report formats.
"""

from __future__ import annotations

import os
import posixpath
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

import yaml

from ..errors import ToolError
from ..model import conventions as names
from ..output.writer import read_tree
from . import binaries as tools
from .alertmanager_check import testing_checks as alertmanager_checks
from .report import Check, CheckProvider, Report

TEST_TIMEOUT = 1800.0  # multi-day scenarios of a large service take minutes

# Checks beyond promtool's, run beside the rule files.
EXTRA_CHECKS: list[CheckProvider] = [alertmanager_checks]


# Called as each file's checks finish: (files done, files in all, that file's checks).
Progress = Callable[[int, int, list[Check]], None]


@dataclass(frozen=True)
class Selection:
    """Which test files to run: ``run`` (paths relative to the output directory); the
    others are reported as skipped with ``reason``."""

    run: frozenset[str]
    reason: str


def run_all(
    out: Path,
    progress: Progress | None = None,
    jobs: int | None = None,
    selection: Selection | None = None,
) -> Report:
    out = Path(out)
    if not out.is_dir():
        raise ToolError(
            f"{out}: no such output directory; run `sloforge generate … --out {out}` first"
        )
    report = Report()
    rule_files = sorted((out / "prometheus" / "rules").glob("*.yml"))
    all_tests = sorted((out / "prometheus" / "tests").glob("*.yml"))
    test_files = [
        f for f in all_tests if selection is None or f.relative_to(out).as_posix() in selection.run
    ]
    skipped = [
        Check(_rel(f, out), "promtool test rules", True, [selection.reason], skipped=True)
        for f in all_tests
        if selection is not None and f not in test_files
    ]

    def one(check: Callable[[Path, Path], Check], path: Path) -> Callable[[], list[Check]]:
        return lambda: [check(path, out)]

    def extra(provider: CheckProvider) -> Callable[[], list[Check]]:
        return lambda: provider(out)

    steps: list[Callable[[], list[Check]]] = []
    steps += [one(check_rules, f) for f in rule_files]
    # Longest first, so the slow multi-day scenarios start while quick files fill the gaps.
    by_size = sorted(test_files, key=lambda f: -f.stat().st_size)
    steps += [one(test_rules, f) for f in by_size]
    steps += [extra(p) for p in EXTRA_CHECKS]
    workers = max(1, jobs or os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(step) for step in steps]
        for done, future in enumerate(as_completed(futures), 1):
            if progress:
                progress(done, len(futures), future.result())
    results = [check for future in futures for check in future.result()] + skipped
    report.checks = sorted(results, key=lambda c: (c.suite, c.name))
    report.untested = untested_alerts(rule_files, all_tests, out)
    report.versions = {tool: tool_version(tool) for tool in ("promtool", "amtool")}
    return report


def changed_tests(out: Path, base: Mapping[str, bytes]) -> frozenset[str]:
    """Test files of ``out`` (relative paths) that differ from ``base`` (the same tree at
    another commit, relative path -> bytes) or load a rule file that does; new files count
    as changed."""
    out = Path(out)
    current = read_tree(out)
    changed = {rel for rel, data in current.items() if base.get(rel) != data}
    selected = set()
    for rel in sorted(current):
        if not (rel.startswith("prometheus/tests/") and rel.endswith(".yml")):
            continue
        if rel in changed:
            selected.add(rel)
            continue
        doc = yaml.safe_load(current[rel]) or {}
        folder = posixpath.dirname(rel)
        for pattern in doc.get("rule_files") or []:
            target = posixpath.normpath(posixpath.join(folder, str(pattern)))
            # A rule file outside the output tree can't be compared: run the test.
            if target.startswith("../") or any(fnmatchcase(c, target) for c in changed):
                selected.add(rel)
                break
    return frozenset(selected)


def tool_version(tool: str) -> str:
    """``promtool 2.42.0`` from the tool's --version banner; says so when it is absent."""
    try:
        banner = tools.version(tool)
    except ToolError:
        return f"{tool} not found"
    found = re.search(r"version (\S+)", banner)
    return f"{tool} {found.group(1)}" if found else banner


def check_rules(path: Path, out: Path) -> Check:
    started = time.monotonic()
    result = tools.run("promtool", ["check", "rules", str(path)])
    details = [] if result.returncode == 0 else _tail(result.output)
    return Check(
        _rel(path, out),
        "promtool check rules",
        result.returncode == 0,
        details,
        time.monotonic() - started,
    )


def test_rules(path: Path, out: Path) -> Check:
    started = time.monotonic()
    try:
        result = tools.run(
            "promtool", ["test", "rules", path.name], cwd=str(path.parent), timeout=TEST_TIMEOUT
        )
    except ToolError as exc:
        return Check(
            _rel(path, out), "promtool test rules", False, [str(exc)], time.monotonic() - started
        )
    passed = result.returncode == 0
    details = [] if passed else failures(result.output)
    return Check(
        _rel(path, out), "promtool test rules", passed, details, time.monotonic() - started
    )


_FAIL_HEAD = re.compile(
    r"^\s*(alertname: (?P<alert>\S+), time: (?P<time>[^,]+),"
    r"|expr: (?P<expr>.+), time: (?P<etime>[^,]+),)"
)


def failures(output: str) -> list[str]:
    """promtool's failure output condensed to 'alert X at 54m: expected …, got …' lines."""
    lines = output.splitlines()
    heads = [i for i, line in enumerate(lines) if _FAIL_HEAD.match(line)]
    found = []
    for n, i in enumerate(heads):
        match = _FAIL_HEAD.match(lines[i])
        assert match is not None
        end = heads[n + 1] if n + 1 < len(heads) else len(lines)
        block = " ".join(x.strip() for x in lines[i + 1 : end] if x.strip())
        block = block.split("FAILED:")[0].split("Unit Testing:")[0]
        if match.group("alert"):
            head = f"alert {match.group('alert')} at {match.group('time')}"
            found.append(f"{head}: {_alert_difference(block)}")
        else:
            head = f"expr {match.group('expr')} at {match.group('etime')}"
            found.append(f"{head}: {_squash(block)}")
    return found or _tail(output)


def _alert_difference(block: str) -> str:
    """'missing …; unexpected …' between promtool's expected and actual alert lists."""
    exp_part, _, got_part = block.partition("got:")
    expected, got = _alert_sets(exp_part), _alert_sets(got_part)
    if expected == got:
        return "labels match but annotations differ: " + _squash(block, 400)
    parts = []
    if expected - got:
        parts.append("expected but not firing: " + "; ".join(sorted(expected - got)))
    if got - expected:
        parts.append("firing but not expected: " + "; ".join(sorted(got - expected)))
    return ", ".join(parts)


def _alert_sets(text: str) -> set[str]:
    found = set()
    for labels in re.findall(r"Labels:\{(.*?)\}", text):
        pairs = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', labels))
        pairs.pop(names.LABEL_ALERTNAME, None)
        if names.LABEL_LONG_WINDOW in pairs:
            found.add(
                f"{pairs.get(names.LABEL_SEVERITY, '?')} "
                f"{pairs[names.LABEL_LONG_WINDOW]}/{pairs.get(names.LABEL_SHORT_WINDOW, '?')}"
            )
        else:
            found.add("{" + ", ".join(f"{k}={v}" for k, v in sorted(pairs.items())) + "}")
    return found


def _squash(text: str, limit: int = 600) -> str:
    text = re.sub(r"\s+", " ", text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _tail(output: str, count: int = 15) -> list[str]:
    return [line for line in output.strip().splitlines() if line.strip()][-count:]


def _rel(path: Path, out: Path) -> str:
    try:
        return path.relative_to(out.parent).as_posix()
    except ValueError:
        return path.as_posix()


def untested_alerts(rule_files: Iterable[Path], test_files: Iterable[Path], out: Path) -> list[str]:
    """Alerts in the rule files that no alert_rule_test of any test file names."""
    tested: set[str] = set()
    for path in test_files:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for group in doc.get("tests") or []:
            for case in group.get("alert_rule_test") or []:
                if case.get("exp_alerts"):
                    tested.add(case.get("alertname", ""))
    missing = []
    for path in rule_files:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for group in doc.get("groups") or []:
            for rule in group.get("rules") or []:
                name = rule.get("alert")
                if name and name not in tested and f"{_rel(path, out)}: {name}" not in missing:
                    missing.append(f"{_rel(path, out)}: {name}")
    return missing


UNCHANGED = "unchanged since"


def _unchanged(check: Check) -> bool:
    return check.skipped and bool(check.details) and check.details[0].startswith(UNCHANGED)


def summary(report: Report) -> str:
    lines = []
    for check in report.checks:
        state = "skipped" if check.skipped else ("passed" if check.passed else "FAILED")
        if _unchanged(check):
            state = "skipped-unchanged"
        lines.append(f"{state:7}  {check.suite}: {check.name} ({check.seconds:.1f}s)")
        lines.extend(f"         - {d}" for d in check.details)
    if report.untested:
        lines.append(
            f"untested: {len(report.untested)} alert(s) have no test that expects them to fire:"
        )
        lines.extend(f"         - {name}" for name in report.untested)
    passed = sum(1 for c in report.checks if c.passed and not c.skipped)
    failed = sum(1 for c in report.checks if not c.passed and not c.skipped)
    unchanged = sum(1 for c in report.checks if _unchanged(c))
    skipped = sum(1 for c in report.checks if c.skipped) - unchanged
    tail = f"{passed} passed, {failed} failed"
    if skipped:
        tail += f", {skipped} skipped"
    if unchanged:
        tail += f", {unchanged} skipped-unchanged"
    if report.versions:
        tail += f" ({', '.join(report.versions.values())})"
    lines.append(tail)
    return "\n".join(lines)


def junit(report: Report) -> bytes:
    suites = ET.Element("testsuites", name="sloforge test")
    by_suite: dict[str, list[Check]] = {}
    for check in report.checks:
        by_suite.setdefault(check.suite, []).append(check)
    for name, checks in by_suite.items():
        failed = sum(1 for c in checks if not c.passed and not c.skipped)
        skipped = sum(1 for c in checks if c.skipped)
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=name,
            tests=str(len(checks)),
            failures=str(failed),
            skipped=str(skipped),
            time=f"{sum(c.seconds for c in checks):.3f}",
        )
        for check in checks:
            case = ET.SubElement(
                suite, "testcase", classname=name, name=check.name, time=f"{check.seconds:.3f}"
            )
            if check.skipped:
                ET.SubElement(case, "skipped", message="; ".join(check.details))
            elif not check.passed:
                failure = ET.SubElement(
                    case, "failure", message=check.details[0] if check.details else "failed"
                )
                failure.text = "\n".join(check.details)
    if report.untested:
        suite = ET.SubElement(
            suites,
            "testsuite",
            name="untested alerts",
            tests=str(len(report.untested)),
            skipped=str(len(report.untested)),
        )
        for name in report.untested:
            case = ET.SubElement(suite, "testcase", classname="untested", name=name)
            ET.SubElement(case, "skipped", message="no test expects this alert to fire")
    ET.indent(suites)
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True) + b"\n"
