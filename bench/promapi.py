"""Talking to the real Prometheus and promtool: backfill, instant queries with statistics, range queries."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import promql_parser
import yaml

from tests.toolbox import binaries
from tests.toolbox import prometheus as prometheus_server

TIMEOUT = 600


@dataclass(frozen=True)
class Tools:
    prometheus: str
    promtool: str
    label: str  # which copy: "current" (3.x from tools/current/bin) or "stable" (Debian)


def find_tools() -> Tools:
    """Prefers the current 3.x binaries; falls back to Debian's stable ones."""
    proms, promtools = dict(binaries("prometheus")), dict(binaries("promtool"))
    for label in ("current", "stable"):
        if label in proms and label in promtools:
            return Tools(proms[label], promtools[label], label)
    raise RuntimeError("the benchmark needs prometheus and promtool (run `make setup`)")


def version(binary: str) -> str:
    out = subprocess.run(
        [binary, "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    return (out.stdout or out.stderr).splitlines()[0].strip()


def run(args: list[str]) -> None:
    result = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args[:4])} failed:\n{result.stderr[-3000:]}{result.stdout[-2000:]}"
        )


def backfill_openmetrics(tools: Tools, source: Path, storage: Path) -> None:
    # One pass over the input per block: long blocks keep the pass count low.
    run(
        [
            tools.promtool,
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "--max-block-duration=24h",
            "-q",
            str(source),
            str(storage),
        ]
    )


@contextmanager
def serve(tools: Tools, storage: Path) -> Iterator[str]:
    config = storage.parent / "prometheus.yml"
    config.write_text("global: {scrape_interval: 1m, evaluation_interval: 1m}\n", encoding="utf-8")
    extra = ["--query.max-samples=500000000", "--query.timeout=5m", "--web.enable-admin-api"]
    with prometheus_server(config, storage, tools.prometheus, extra) as url:
        yield url


def _get(url: str, path: str, params: dict[str, Any]) -> Any:
    query = urllib.parse.urlencode(params)
    with urllib.request.urlopen(f"{url}{path}?{query}", timeout=TIMEOUT) as resp:
        body = json.load(resp)
    if body.get("status") != "success":
        raise RuntimeError(f"{path} {params}: {body}")
    return body["data"]


@dataclass(frozen=True)
class Measured:
    samples: int
    seconds: float
    result: list[dict[str, Any]]


def instant(url: str, expr: str, at: int) -> Measured:
    data = _get(url, "/api/v1/query", {"query": expr, "time": at, "stats": "all"})
    stats = data["stats"]
    return Measured(
        int(stats["samples"]["totalQueryableSamples"]),
        float(stats["timings"]["evalTotalTime"]),
        data["result"],
    )


def range_query(url: str, expr: str, start: int, end: int, step: int) -> list[dict[str, Any]]:
    return _get(
        url, "/api/v1/query_range", {"query": expr, "start": start, "end": end, "step": step}
    )["result"]


# --- recording-rule dependencies, so recorded history can be backfilled stage by stage ----------


def _selectors(expr: str) -> Iterator[tuple[str, bool]]:
    """(metric name, read over a range) for every selector in ``expr``."""
    stack: list[tuple[Any, bool]] = [(promql_parser.parse(expr), False)]
    while stack:
        node, in_range = stack.pop()
        if isinstance(node, promql_parser.MatrixSelector):
            yield node.vector_selector.name or "", True
        elif isinstance(node, promql_parser.VectorSelector):
            yield node.name or "", in_range
        else:
            inner = in_range or isinstance(node, promql_parser.SubqueryExpr)
            for attr in ("expr", "lhs", "rhs", "param"):
                child = getattr(node, attr, None)
                if child is not None and not isinstance(child, (str, int, float)):
                    stack.append((child, inner))
            stack.extend((arg, inner) for arg in getattr(node, "args", None) or [])


@dataclass(frozen=True)
class Recording:
    group: str
    interval: str | None
    rule: dict[str, Any]


def backfill_plan(rule_files: list[dict[str, Any]]) -> list[list[tuple[Recording, bool]]]:
    """Recording rules in dependency stages; each paired with whether any rule reads it over a range."""
    recordings: list[Recording] = []
    reads: dict[str, set[str]] = {}
    ranged: set[str] = set()
    for doc in rule_files:
        for group in doc["groups"]:
            for rule in group["rules"]:
                found = list(_selectors(rule["expr"]))
                ranged |= {name for name, is_range in found if is_range}
                if "record" in rule:
                    recordings.append(Recording(group["name"], group.get("interval"), rule))
                    reads.setdefault(rule["record"], set()).update(name for name, _ in found)
    recorded = set(reads)
    depth: dict[str, int] = {}

    def stage(record: str, seen: frozenset[str] = frozenset()) -> int:
        if record not in depth:
            inner = [stage(r, seen | {record}) for r in reads[record] & recorded if r not in seen]
            depth[record] = 1 + max(inner, default=0)
        return depth[record]

    stages: dict[int, list[tuple[Recording, bool]]] = {}
    for rec in recordings:
        stages.setdefault(stage(rec.rule["record"]), []).append((rec, rec.rule["record"] in ranged))
    return [stages[k] for k in sorted(stages)]


def backfill_rules(
    tools: Tools, url: str, recordings: list[Recording], start: int, end: int, storage: Path
) -> None:
    """``promtool tsdb create-blocks-from rules`` for ``recordings``, keeping each group's interval."""
    if not recordings:
        return
    groups: dict[str, dict[str, Any]] = {}
    for rec in recordings:
        group = groups.setdefault(rec.group, {"name": rec.group, "rules": []})
        if rec.interval:
            group["interval"] = rec.interval
        group["rules"].append(rec.rule)
    with tempfile.TemporaryDirectory(prefix="sloforge-bench-rules-") as tmp:
        rules = Path(tmp) / "backfill.rules.yml"
        rules.write_text(
            yaml.safe_dump({"groups": list(groups.values())}, sort_keys=False), encoding="utf-8"
        )
        blocks = Path(tmp) / "blocks"
        run(
            [
                tools.promtool,
                "tsdb",
                "create-blocks-from",
                "rules",
                f"--url={url}",
                f"--start={start}",
                f"--end={end}",
                f"--output-dir={blocks}",
                "-q",
                str(rules),
            ]
        )
        for block in blocks.iterdir():
            shutil.move(str(block), storage / block.name)
