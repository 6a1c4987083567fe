"""Generated-test cost: `sloforge test --jobs 2` on the synthetic ratio SLOs of the generation benchmark.

Wall time from the clock, CPU time from the kernel (user + system of sloforge
and every promtool/amtool it started), per SLO and per test file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from . import generation, synth

JOBS = 2
SIZES = {"full": [10, 100], "tiny": [2]}

_LINE = re.compile(r"^passed\s+(?P<file>\S+): promtool test rules \((?P<seconds>[\d.]+)s\)$")


def run_size(slo_count: int, workdir: Path) -> dict[str, Any]:
    src, out = workdir / f"test-slo-{slo_count}", workdir / f"test-out-{slo_count}"
    for doc in synth.generation_documents(slo_count):
        synth.write_documents(src / f"{doc['service']}.yaml", [doc])
    sloforge = generation.sloforge_binary()
    generation.measure_in_fresh_process([sloforge, "generate", str(src), "--out", str(out)])
    run = generation.measure_in_fresh_process(
        [sloforge, "test", "--out", str(out), "--jobs", str(JOBS)]
    )
    per_file = [float(m.group("seconds")) for m in map(_LINE.match, run.stdout.splitlines()) if m]
    return {
        "slos": slo_count,
        "jobs": JOBS,
        "test_files": len(per_file),
        "test_seconds": round(run.seconds, 1),
        "test_cpu_seconds": round(run.cpu_seconds, 1),
        "test_cpu_seconds_per_slo": round(run.cpu_seconds / slo_count, 2),
        "test_file_seconds_max": round(max(per_file, default=0.0), 1),
    }


def run(sizes: list[int], workdir: Path) -> list[dict[str, Any]]:
    return [run_size(n, workdir) for n in sizes]
