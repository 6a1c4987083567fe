"""The benchmark's code paths at a toy size, so `make bench` cannot rot. No timing is asserted."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from toolbox import ROOT, binaries

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import baseline, promapi, run, synth  # noqa: E402

KEYS = (
    "eval_samples_ratio_efficient_vs_exact",
    "eval_samples_ratio_efficient_vs_baseline",
    "eval_time_ratio_efficient_vs_exact",
    "alert_time_max_diff_seconds",
    "sli_max_rel_diff",
    "generate_seconds",
    "generate_floor_ratio",
    "generate_peak_mib",
    "test_seconds",
    "test_cpu_seconds_per_slo",
    "test_cpu_ratio_vs_baseline",
    "mutation_kill_rate",
)


def test_backfill_plan_orders_recordings_after_what_they_read() -> None:
    rules = {
        "groups": [
            {
                "name": "g",
                "rules": [
                    {"record": "b", "expr": "sum_over_time(a[1h])"},
                    {"record": "a", "expr": "rate(raw[5m])"},
                    {"record": "c", "expr": "b / 2"},
                    {"alert": "A", "expr": "c > 1"},
                ],
            }
        ]
    }
    stages = promapi.backfill_plan([rules])
    assert [[(r.rule["record"], ranged) for r, ranged in stage] for stage in stages] == [
        [("a", True)],
        [("b", False)],
        [("c", False)],
    ]


def test_baseline_reads_every_window_from_raw_series() -> None:
    groups = baseline.rules(["s001"])["groups"]
    sli = groups[0]["rules"]
    assert [r["record"] for r in sli][:7] == [
        f"baseline:sli_error:ratio_rate{w}" for w in baseline.WINDOWS
    ]
    assert all(f"{synth.METRIC}_total" in r["expr"] for r in sli[:7])


def test_openmetrics_history_is_cumulative_per_series() -> None:
    family = synth.Family("s000", 5)
    text = "".join(synth.openmetrics([family], 0, 600, 60, 10.0))
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert len(lines) == 5 * 11
    first = [float(line.split()[1]) for line in lines[:11]]
    assert first == sorted(first)


@pytest.mark.slow
@pytest.mark.skipif(
    not (binaries("prometheus") and binaries("promtool")),
    reason="prometheus/promtool not installed",
)
def test_tiny_benchmark_writes_every_result(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    assert run.main(["--size", "tiny", "--results", str(results)]) == 0
    data = json.loads(results.read_text())
    for key in KEYS:
        assert key in data, key
    assert (
        data["eval"]["efficient"]["samples_per_minute"]
        < data["eval"]["exact"]["samples_per_minute"]
    )
    assert len(data["alerts"]) == 6 * 4  # every scenario, every default tier
    assert set(data["generate_seconds"]) == {"10"}
    # `sloforge test` ran and passed every file: the SLOs' wiring, and their alerting
    # profile's timing at 5m (.slow) and 30m (.days) steps
    assert data["test"][0]["test_files"] == 3
    assert data["test_baseline"][0]["test_files"] == 2  # the old layout, side by side
    assert data["mutation_kill_rate"] == 1.0, data["mutation_survivors"]
    assert set(data["test_cpu_seconds_per_slo"]) == {"2"}
