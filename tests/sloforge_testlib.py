"""Helpers for tests that compile fixtures and run promtool on the result."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from sloforge.pipeline import build_outputs, load

FIXTURES = Path(__file__).resolve().parent / "fixtures"

# One service with one availability SLO: the smallest input most tests start from.
SHOP_SERVICE = """\
apiVersion: sloforge/v1
kind: ServiceLevels
service: shop
owner: shop
slos:
  - name: availability
    objective: 99.9
    sli:
      ratio:
        errors: http_requests_total{job="shop", code=~"5.."}
        total: http_requests_total{job="shop"}
"""


def lay_out(root: Path, files: dict[str, str]) -> None:
    """Write ``files`` (path -> content) under ``root``; "-> target" makes a symbolic link."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content.startswith("-> "):
            path.symlink_to(content[3:])
        else:
            path.write_text(content)


def hashes(root: Path) -> dict[str, str]:
    """Every path under ``root``: a file's SHA-256, a link's target, or "dir" (compare a tree
    before and after a command to show it changed nothing)."""
    found = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[rel] = "-> " + os.readlink(path)
        elif path.is_file():
            found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            found[rel] = "dir"
    return found


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


def sloforge(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it: a separate process, output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "sloforge.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=cwd,
    )
