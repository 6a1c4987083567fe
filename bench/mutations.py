"""Mutation kill rate of the generated tests on the benchmark's synthetic SLOs.

Two SLOs of the 10-SLO set are mutated: one of the service that holds the
profile's timing tests (``gen-00000``) and one of a service that holds only its
wiring tests (``gen-00001``, generated in a 20-SLO set). For each, every
burn-rate tier's expression gets its numbers scaled by 0.7 and by 1.5, or never
fires, and the absent-data alert's ``for`` is halved, doubled, or it never
fires. A mutant is killed when the service's test files, cut to the groups that
check the mutated alert, fail on that promtool; each promtool found
(Debian's 2.42 on ``PATH``, tools/current/bin's 3.x) counts separately.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from sloforge.model.durations import format_duration, parse_duration

from . import generation, synth

ROOT = Path(__file__).resolve().parent.parent
NUMBER = re.compile(r"(?<![\w:.])(\d+(?:\.\d+)?(?:e[-+]?\d+)?)(?![\w.])")
NEVER = "vector(0) > 1"
Mutation = Callable[[dict[str, Any]], None]


def _scaled(factor: float) -> Mutation:
    def apply(rule: dict[str, Any]) -> None:
        parts = re.split(r"(\{[^}]*\})", rule["expr"])
        rule["expr"] = "".join(
            p if p.startswith("{") else NUMBER.sub(lambda m: repr(float(m[1]) * factor), p)
            for p in parts
        )

    return apply


def _for(factor: float) -> Mutation:
    def apply(rule: dict[str, Any]) -> None:
        rule["for"] = format_duration(int(parse_duration(rule["for"]) * factor))

    return apply


def _never(rule: dict[str, Any]) -> None:
    rule["expr"] = NEVER


BURN = {"numbers x0.7": _scaled(0.7), "numbers x1.5": _scaled(1.5), "never fires": _never}
ABSENT = {"for halved": _for(0.5), "for doubled": _for(2), "never fires": _never}


def promtools() -> list[tuple[str, str]]:
    found = []
    stable = shutil.which("promtool")
    if stable:
        found.append(("2.x (PATH)", stable))
    current = ROOT / "tools" / "current" / "bin" / "promtool"
    if current.exists():
        found.append(("3.x (tools/current)", str(current)))
    return found


def _trimmed(out: Path, service: str, alerts: set[str]) -> list[Path]:
    files = []
    for path in sorted((out / "prometheus" / "tests").glob(f"{service}.*test.yml")):
        doc = yaml.safe_load(path.read_text())
        doc["tests"] = [
            g
            for g in doc["tests"]
            if any(c.get("alertname") in alerts for c in g.get("alert_rule_test") or [])
        ]
        if doc["tests"]:
            trimmed = path.with_name(f"mutation-{path.name}")
            trimmed.write_text(yaml.safe_dump(doc, sort_keys=False))
            files.append(trimmed)
    return files


def _passes(promtool: str, files: list[Path]) -> bool:
    return all(
        subprocess.run(
            [promtool, "test", "rules", f.name], cwd=f.parent, capture_output=True, check=False
        ).returncode
        == 0
        for f in files
    )


def _mutants(
    rules: dict[str, Any], alert: str
) -> list[tuple[str, Callable[[dict[str, Any]], bool], Mutation]]:
    """(name, which rule, mutation) for every mutant of ``alert``'s SLO."""
    out = []
    for group in rules["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") == alert:
                window = rule["labels"]["long_window"]

                def pick(r: dict[str, Any], w: str = window) -> bool:
                    return r.get("alert") == alert and r["labels"].get("long_window") == w

                out += [(f"{window} tier {m}", pick, f) for m, f in BURN.items()]
    absent = alert.replace("BudgetBurn", "DataAbsent")
    out += [(f"absent-data {m}", lambda r: r.get("alert") == absent, f) for m, f in ABSENT.items()]
    return out


def kill_rate(workdir: Path) -> dict[str, Any]:
    src, out = workdir / "mutation-slo", workdir / "mutation-out"
    for doc in synth.generation_documents(20):
        synth.write_documents(src / f"{doc['service']}.yaml", [doc])
    subprocess.run(
        [generation.sloforge_binary(), "generate", str(src), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    tools = promtools()
    mutants = killed = 0
    survivors: list[str] = []
    for service in ("gen-00000", "gen-00001"):
        rules_path = out / "prometheus" / "rules" / f"{service}.rules.yml"
        original = rules_path.read_text()
        rules = yaml.safe_load(original)
        alert = next(r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r)
        files = _trimmed(out, service, {alert, alert.replace("BudgetBurn", "DataAbsent")})
        for label, promtool in tools:
            if not _passes(promtool, files):
                raise RuntimeError(f"{service}'s generated tests fail on promtool {label}")
        for name, pick, mutate in _mutants(rules, alert):
            mutated = yaml.safe_load(original)
            (rule,) = [r for g in mutated["groups"] for r in g["rules"] if pick(r)]
            mutate(rule)
            rules_path.write_text(yaml.safe_dump(mutated, sort_keys=False))
            for label, promtool in tools:
                mutants += 1
                if _passes(promtool, files):
                    survivors.append(f"{service} {name} on promtool {label}")
                else:
                    killed += 1
        rules_path.write_text(original)
    return {
        "mutation_promtools": [label for label, _ in tools],
        "mutants": mutants,
        "mutants_killed": killed,
        "mutation_kill_rate": round(killed / mutants, 4) if mutants else None,
        "mutation_survivors": survivors,
    }
