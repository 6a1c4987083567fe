"""promtool and amtool: found on PATH or through $PROMTOOL/$AMTOOL, run with a timeout."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import ToolError

INSTALL_HINT = (
    "install Debian's `prometheus` and `prometheus-alertmanager` packages "
    "(`make setup` does it), or point ${var} at the binary"
)
DEFAULT_TIMEOUT = 300.0


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return (self.stdout + ("\n" if self.stdout and self.stderr else "") + self.stderr).strip()


def find(tool: str) -> str:
    """The binary for ``tool`` (promtool, amtool, prometheus, alertmanager)."""
    var = tool.upper()
    configured = os.environ.get(var)
    if configured:
        if shutil.which(configured) or (os.path.isfile(configured) and os.access(configured, os.X_OK)):
            return configured
        raise ToolError(f"${var} is set to {configured!r}, which is not an executable")
    candidates = [tool] + (["prometheus-alertmanager"] if tool == "alertmanager" else [])
    for name in candidates:
        found = shutil.which(name)
        if found:
            return found
    raise ToolError(f"{tool} not found: " + INSTALL_HINT.format(var=var))


def run(tool: str, args: Sequence[str], timeout: float = DEFAULT_TIMEOUT, cwd: str | None = None) -> Result:
    binary = find(tool)
    try:
        proc = subprocess.run(
            [binary, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ToolError(f"{tool} did not finish within {timeout:.0f}s: {' '.join(args)}") from None
    except OSError as exc:
        raise ToolError(f"{tool} could not be started ({binary}): {exc.strerror}") from None
    if proc.returncode < 0:
        raise ToolError(f"{tool} crashed (signal {-proc.returncode}) running: {' '.join(args)}")
    return Result(proc.returncode, proc.stdout, proc.stderr)


def version(tool: str) -> str:
    result = run(tool, ["--version"], timeout=30)
    first = (result.stdout or result.stderr).strip().splitlines()
    return first[0] if first else "unknown"
