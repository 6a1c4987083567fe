"""Where a generated test file's promtool time goes: steps x rules loaded x input series.

.venv/bin/python bench/testprofile.py OUT/prometheus/tests/FILE.test.yml [--group N]

For one test group of the file, runs promtool on variants written beside it and
prints wall and CPU seconds of each (the CPU of the promtool child, from the kernel):

- ``all rules``: the group as generated (every rule group of the service's rule file);
- ``one SLO's rules``: the rule file cut to the rule groups of the first SLO the
  group's series belong to, series unchanged;
- ``one SLO's rules and series``: also only that SLO's input series and tests;
- ``one SLO's series``: every rule, only that SLO's series and tests;
- ``first-half checks``: all rules, only the checks in the first half of the
  scenario (promtool evaluates up to the latest eval_time left).

Evaluation steps are the scenario's length over the file's evaluation_interval:
promtool evaluates every rule group at every step, whatever the group's own interval.
"""

from __future__ import annotations

import argparse
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sloforge.model.durations import parse_duration  # noqa: E402


def _seconds(text: str) -> float:
    return float(parse_duration(text))


def _samples(values: str) -> int:
    count = 0
    for part in values.split():
        match = re.fullmatch(r".*x(\d+)", part)
        count += int(match.group(1)) + 1 if match else 1
    return count


def _checks(group: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (kind, c) for kind in ("alert_rule_test", "promql_expr_test") for c in group.get(kind) or []
    ]


def describe(
    test_file: dict[str, Any], group: dict[str, Any], rules: dict[str, Any]
) -> dict[str, Any]:
    interval = _seconds(test_file.get("evaluation_interval", "1m"))
    last = max(_seconds(c["eval_time"]) for _, c in _checks(group))
    return {
        "rule_groups": len(rules["groups"]),
        "rules": sum(len(g["rules"]) for g in rules["groups"]),
        "input_series": len(group.get("input_series") or []),
        "samples_per_series": max(_samples(s["values"]) for s in group["input_series"]),
        "evaluation_interval_seconds": interval,
        "last_eval_seconds": last,
        "steps": int(last // interval) + 1,
        "checks": len(_checks(group)),
    }


def timed(
    workdir: Path, test: dict[str, Any], rules: dict[str, Any], promtool: str
) -> tuple[float, float]:
    (workdir / "rules.yml").write_text(yaml.safe_dump(rules, sort_keys=False), encoding="utf-8")
    test = {**test, "rule_files": ["rules.yml"]}
    (workdir / "test.yml").write_text(yaml.safe_dump(test, sort_keys=False), encoding="utf-8")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    subprocess.run(
        [promtool, "test", "rules", "test.yml"], cwd=workdir, capture_output=True, check=False
    )
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _slo_of(series: str) -> str | None:
    match = re.search(r'slo_id="([^"]+)"', series)
    return match.group(1) if match else None


def variants(
    test_file: dict[str, Any], index: int, rules: dict[str, Any]
) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    group = test_file["tests"][index]
    first = _slo_of(group["input_series"][0]["series"])
    one_rules = {"groups": [g for g in rules["groups"] if re.search(rf"-{first}(-|$)", g["name"])]}
    one_names = {r.get("alert") or r.get("record") for g in one_rules["groups"] for r in g["rules"]}
    one_group = {
        **group,
        "input_series": [s for s in group["input_series"] if _slo_of(s["series"]) == first],
    }
    for kind in ("alert_rule_test", "promql_expr_test"):
        if group.get(kind):
            one_group[kind] = [
                c
                for c in group[kind]
                if (c.get("alertname") in one_names) or (first in str(c.get("expr", "")))
            ]
    half = max(_seconds(c["eval_time"]) for _, c in _checks(group)) / 2
    half_group = dict(group)
    for kind in ("alert_rule_test", "promql_expr_test"):
        if group.get(kind):
            half_group[kind] = [c for c in group[kind] if _seconds(c["eval_time"]) <= half]
    base = {k: v for k, v in test_file.items() if k != "tests"}
    return {
        "all rules": ({**base, "tests": [group]}, rules),
        "one SLO's rules": ({**base, "tests": [group]}, one_rules),
        "one SLO's rules and series": ({**base, "tests": [one_group]}, one_rules),
        "one SLO's series": ({**base, "tests": [one_group]}, rules),
        "first-half checks": ({**base, "tests": [half_group]}, rules),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("test_file", type=Path)
    parser.add_argument("--group", type=int, default=0, help="index of the test group")
    parser.add_argument("--promtool", default=shutil.which("promtool") or "promtool")
    args = parser.parse_args(argv)
    test_file = yaml.safe_load(args.test_file.read_text(encoding="utf-8"))
    rules_path = (args.test_file.parent / test_file["rule_files"][0]).resolve()
    rules = yaml.safe_load(rules_path.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="sloforge-testprofile-") as tmp:
        for name, (test, rule_doc) in variants(test_file, args.group, rules).items():
            shape = describe(test, test["tests"][0], rule_doc)
            wall, cpu = timed(Path(tmp), test, rule_doc, args.promtool)
            print(f"{name:<28} wall {wall:6.1f}s cpu {cpu:6.1f}s  {shape}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
