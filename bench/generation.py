"""Generation cost: `sloforge generate` on synthetic repositories, against the YAML floor.

The floor is what any tool must spend on the same job: start Python and import
PyYAML, parse the same input files with the C loader, and dump the same output
(every generated YAML file's data with the C dumper, JSON files with json,
other files written as they are). Both run as fresh processes; wall time comes
from the clock and peak memory from the kernel (``ru_maxrss`` of the child).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import synth

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 3600

FLOOR_SCRIPT = r"""
import json, sys, time
from pathlib import Path
import yaml
src, out, dst = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
outputs = []
for path in sorted(out.rglob("*")):
    if path.is_file():
        text = path.read_text(encoding="utf-8")
        if path.suffix in (".yml", ".yaml"):
            outputs.append((path, "yaml", yaml.load(text, Loader=yaml.CSafeLoader)))
        elif path.suffix == ".json":
            outputs.append((path, "json", json.loads(text)))
        else:
            outputs.append((path, "text", text))
began = time.perf_counter()
for path in sorted(src.rglob("*.yaml")):
    list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader))
for i, (path, kind, data) in enumerate(outputs):
    if kind == "yaml":
        text = yaml.dump(data, Dumper=yaml.CSafeDumper, sort_keys=False, width=10000)
    elif kind == "json":
        text = json.dumps(data, indent=2)
    else:
        text = data
    (dst / f"{i}").write_text(text, encoding="utf-8")
print(time.perf_counter() - began)
"""


@dataclass(frozen=True)
class Run:
    seconds: float
    cpu_seconds: float  # user + system of the process and everything it started
    peak_mib: float  # of the largest single process
    stdout: str


def measure_in_fresh_process(args: list[str], env: dict[str, str] | None = None) -> Run:
    """Wall time, CPU time and peak memory of ``args``, run from a throwaway Python so RUSAGE_CHILDREN holds that one child."""
    helper = (
        "import json, sys, time, subprocess, resource\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "s = time.perf_counter() - t\n"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(json.dumps({'rc': p.returncode, 'seconds': s, 'cpu': u.ru_utime + u.ru_stime, 'peak_kib': u.ru_maxrss,"
        " 'stdout': p.stdout, 'stderr': p.stderr[-3000:]}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", helper, *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        env={**os.environ, **(env or {})},
    )
    data = json.loads(result.stdout)
    if data["rc"] != 0:
        raise RuntimeError(f"{' '.join(args[:3])} failed ({data['rc']}):\n{data['stderr']}")
    return Run(float(data["seconds"]), float(data["cpu"]), data["peak_kib"] / 1024, data["stdout"])


def sloforge_binary() -> str:
    candidate = Path(sys.executable).parent / "sloforge"
    return str(candidate) if candidate.exists() else "sloforge"


def run_size(slo_count: int, workdir: Path) -> dict[str, float]:
    src, out = workdir / f"slo-{slo_count}", workdir / f"out-{slo_count}"
    for doc in synth.generation_documents(slo_count):
        synth.write_documents(src / f"{doc['service']}.yaml", [doc])
    command = [sloforge_binary(), "generate", str(src), "--out", str(out)]
    generate = measure_in_fresh_process(command)
    # The same run held to one process: large projects otherwise use a second core.
    one_process = measure_in_fresh_process(command, {"SLOFORGE_JOBS": "1"})
    startup = measure_in_fresh_process([sys.executable, "-c", "import yaml"])
    with tempfile.TemporaryDirectory(prefix="sloforge-bench-floor-", dir=workdir) as dst:
        floor_run = measure_in_fresh_process(
            [sys.executable, "-c", FLOOR_SCRIPT, str(src), str(out), dst]
        )
    floor = startup.seconds + float(floor_run.stdout.strip())
    files = sum(1 for p in out.rglob("*") if p.is_file())
    out_bytes = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return {
        "slos": slo_count,
        "generate_seconds": round(generate.seconds, 3),
        "floor_seconds": round(floor, 3),
        "floor_ratio": round(generate.seconds / floor, 2),
        "generate_peak_mib": round(generate.peak_mib, 1),
        "generate_cpu_seconds": round(generate.cpu_seconds, 3),
        "generate_one_process_seconds": round(one_process.seconds, 3),
        "one_process_floor_ratio": round(one_process.seconds / floor, 2),
        "output_files": files,
        "output_mib": round(out_bytes / 2**20, 2),
    }


def run(sizes: list[int], workdir: Path) -> list[dict[str, float]]:
    return [run_size(n, workdir) for n in sizes]
