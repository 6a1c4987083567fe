"""`make bench`: evaluation cost, strategy agreement and generation cost; prints a table, writes bench/results.json.

.venv/bin/python bench/run.py                 # the full benchmark (a few minutes)
.venv/bin/python bench/run.py --size tiny     # every code path at a toy size
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/run.py` puts bench/ first, not the project root
    sys.path.insert(0, str(ROOT))

from sloforge.model.durations import format_duration  # noqa: E402

from bench import agreement, evalcost, generation, history, mutations, promapi, testcost  # noqa: E402

GENERATE_SIZES = {"full": [100, 1000, 10000], "tiny": [10]}


def evaluate(tools: promapi.Tools, size: history.Size, workdir: Path) -> dict[str, Any]:
    hist = history.build(tools, size, workdir)
    with promapi.serve(tools, hist.storage) as url:
        costs = evalcost.run(url, hist)
        agree = agreement.run(url, hist)
    exact, efficient, base = costs["exact"], costs["efficient"], costs["baseline"]
    tiers = agree["tiers"]
    pairs = agree["pairs"]
    alert_diff = max((t.max_diff for t in tiers), default=0.0)
    sli = {w: agreement.sli_rel_diff(p) for w, p in pairs.items()}
    errors = {w: agreement.error_ratio_rel_diff(p) for w, p in pairs.items()}
    span_matched = {w: agreement.sli_rel_diff(p) for w, p in agree["span_matched_pairs"].items()}
    periods = {format_duration(slo.period) for slo in hist.scenarios["exact"].slos}
    return {
        "history": {
            "slos": size.load_slos,
            "raw_series_per_slo": size.series_per_slo,
            "scenario_slos": len(hist.scenario_names),
            "days": round(size.history_seconds / 86400, 2),
            "scrape_interval_seconds": size.scrape_seconds,
            "raw_samples": hist.raw_samples,
            "build_seconds": round(hist.build_seconds, 1),
        },
        "eval_samples_ratio_efficient_vs_exact": efficient.samples_per_minute
        / exact.samples_per_minute,
        "eval_samples_ratio_efficient_vs_baseline": efficient.samples_per_minute
        / base.samples_per_minute,
        "eval_time_ratio_efficient_vs_exact": efficient.seconds_per_minute
        / exact.seconds_per_minute,
        "eval_time_ratio_efficient_vs_baseline": efficient.seconds_per_minute
        / base.seconds_per_minute,
        "eval": {name: cost.summary() for name, cost in costs.items()},
        "alert_time_max_diff_seconds": alert_diff,
        "alerts": [
            {
                "scenario": t.scenario,
                "tier": t.tier,
                "exact": [[ts - hist.start, on] for ts, on in t.exact],
                "efficient": [[ts - hist.start, on] for ts, on in t.efficient],
                "max_diff_seconds": t.max_diff,
            }
            for t in tiers
        ],
        # The SLI an SLO reports: good events over all events across its period.
        "sli_max_rel_diff": max((max(sli[p], default=0.0) for p in periods), default=0.0),
        # Every window the alerts read, as 1 - that window's error ratio.
        "sli_max_rel_diff_by_window": {w: max(v, default=0.0) for w, v in sli.items()},
        # The same, with exact's rate() ranges one scrape interval longer (see agreement._widened).
        "sli_max_rel_diff_span_matched_by_window": {
            w: max(v, default=0.0) for w, v in span_matched.items()
        },
        "error_ratio_rel_diff_by_window": {
            w: {
                q: agreement.percentile(v, p)
                for q, p in (("p50", 0.5), ("p99", 0.99), ("max", 1.0))
            }
            for w, v in errors.items()
        },
    }


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isinf(value) or math.isnan(value) else round(value, 6)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=["full", "tiny"], default="full")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument("--skip-generate", action="store_true", help="only the Prometheus parts")
    parser.add_argument("--skip-eval", action="store_true", help="only the generation part")
    parser.add_argument("--skip-tests", action="store_true", help="without `sloforge test`")
    parser.add_argument(
        "--tests-only",
        action="store_true",
        help="only `sloforge test` (10 and 100 SLOs, ~20 min); its figures replace theirs "
        "in the existing results file",
    )
    args = parser.parse_args(argv)
    if args.tests_only:
        return tests_only(args.size, args.results)
    size = history.FULL if args.size == "full" else history.TINY
    began = time.monotonic()
    results: dict[str, Any] = {
        "command": "make bench",
        "size": args.size,
        "machine": platform.machine(),
    }
    with tempfile.TemporaryDirectory(prefix="sloforge-bench-") as tmp:
        work = Path(tmp)
        if not args.skip_eval:
            tools = promapi.find_tools()
            results["prometheus"] = {
                "binary": tools.prometheus,
                "copy": tools.label,
                "version": promapi.version(tools.prometheus),
            }
            results.update(evaluate(tools, size, work))
        if not args.skip_generate:
            runs = generation.run(GENERATE_SIZES[args.size], work)
            results["generate"] = runs
            results["generate_seconds"] = {str(r["slos"]): r["generate_seconds"] for r in runs}
            results["generate_floor_ratio"] = {str(r["slos"]): r["floor_ratio"] for r in runs}
            results["generate_peak_mib"] = {str(r["slos"]): r["generate_peak_mib"] for r in runs}
        if not args.skip_tests:
            results.update(test_results(args.size, work))
    results["bench_seconds"] = round(time.monotonic() - began, 1)
    results = _finite(results)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(table(results))
    print(f"\nwrote {args.results}")
    return 0


def test_results(size: str, work: Path) -> dict[str, Any]:
    """`sloforge test` on the synthetic set generated now and by the baseline commit, side by
    side in this run, and the mutation kill rate of the tests generated now."""
    runs = testcost.run(testcost.SIZES[size], work)
    current, baseline = runs["current"], runs["baseline"]
    results: dict[str, Any] = {
        "test": current,
        "test_baseline": baseline,
        "test_baseline_commit": testcost.BASELINE_COMMIT,
        "test_seconds": {str(r["slos"]): r["test_seconds"] for r in current},
        "test_cpu_seconds_per_slo": {
            str(r["slos"]): r["test_cpu_seconds_per_slo"] for r in current
        },
        "test_cpu_seconds_per_slo_baseline": {
            str(r["slos"]): r["test_cpu_seconds_per_slo"] for r in baseline
        },
        "test_cpu_ratio_vs_baseline": {
            str(new["slos"]): round(new["test_cpu_seconds"] / old["test_cpu_seconds"], 3)
            for new, old in zip(current, baseline, strict=True)
        },
    }
    results.update(mutations.kill_rate(work))
    return results


def tests_only(size: str, path: Path) -> int:
    """`sloforge test`'s figures measured alone, written into the results of the last full run."""
    began = time.monotonic()
    results: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    with tempfile.TemporaryDirectory(prefix="sloforge-bench-") as tmp:
        results.update(test_results(size, Path(tmp)))
    results["test_bench_seconds"] = round(time.monotonic() - began, 1)
    path.write_text(json.dumps(_finite(results), indent=2) + "\n", encoding="utf-8")
    print(table(results))
    print(f"\nwrote {path}")
    return 0


def table(results: dict[str, Any]) -> str:
    rows = []
    if "eval" in results:
        prom = results["prometheus"]
        hist = results["history"]
        rows.append(f"Prometheus: {prom['version']} ({prom['copy']}: {prom['binary']})")
        rows.append(
            f"History: {hist['slos']} SLOs x {hist['raw_series_per_slo']} raw series, {hist['days']} days at "
            f"{hist['scrape_interval_seconds']}s scrape ({hist['raw_samples']:,} samples)"
        )
        rows.append("")
        rows.append(
            f"{'rule set':<10} {'groups':>6} {'rules':>6} {'samples/min':>14} {'eval ms/min':>12}"
        )
        for name, cost in results["eval"].items():
            rows.append(
                f"{name:<10} {cost['groups']:>6} {cost['rules']:>6} {cost['samples_per_minute']:>14,} "
                f"{cost['eval_seconds_per_minute'] * 1000:>12.1f}"
            )
        rows.append("")
    keys = [
        k
        for k in results
        if k.startswith(("eval_", "alert_time", "sli_max")) and not k.endswith("_by_window")
    ]
    for key in keys:
        rows.append(f"{key:<45} {results[key]}")
    if "generate" in results:
        rows.append("")
        rows.append(
            f"{'SLOs':>6} {'generate s':>11} {'cpu s':>7} {'1 process s':>12} {'floor s':>8} "
            f"{'ratio':>6} {'peak MiB':>9} {'files':>7}"
        )
        for r in results["generate"]:
            rows.append(
                f"{r['slos']:>6} {r['generate_seconds']:>11} {r['generate_cpu_seconds']:>7} "
                f"{r['generate_one_process_seconds']:>12} {r['floor_seconds']:>8} {r['floor_ratio']:>6} "
                f"{r['generate_peak_mib']:>9} {r['output_files']:>7}"
            )
    if "test" in results:
        rows.append("")
        rows.append(
            f"{'tests':<9} {'SLOs':>6} {'test files':>10} {'test s':>7} {'cpu s':>7} {'cpu s/SLO':>10}"
        )
        for label, key in (("current", "test"), ("baseline", "test_baseline")):
            for r in results.get(key, []):
                rows.append(
                    f"{label:<9} {r['slos']:>6} {r['test_files']:>10} {r['test_seconds']:>7} "
                    f"{r['test_cpu_seconds']:>7} {r['test_cpu_seconds_per_slo']:>10}"
                )
        for key in ("test_cpu_ratio_vs_baseline", "mutation_kill_rate", "mutation_survivors"):
            if key in results:
                rows.append(f"{key:<45} {results[key]}")
    return "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main())
