"""Helpers for tests that compile fixtures and run promtool on the result."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml
from sloforge.compiler import build_outputs, load

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def compile_to(paths: list[Path], out: Path) -> dict[str, bytes]:
    """Compile ``paths`` and write every output file under ``out`` (no atomic swap needed here)."""
    files = build_outputs(load(paths).project)
    for rel, content in files.items():
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return files


def promtool_test(
    promtool: str, test_file: Path, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool, "test", "rules", test_file.name],
        cwd=test_file.parent,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def write_yaml(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
