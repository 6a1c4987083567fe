"""promtool and amtool: found on PATH or through $PROMTOOL/$AMTOOL, run with a timeout."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import ToolError

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
        if shutil.which(configured) or (
            os.path.isfile(configured) and os.access(configured, os.X_OK)
        ):
            return configured
        raise ToolError(f"${var} is set to {configured!r}, which is not an executable")
    candidates = [tool] + (["prometheus-alertmanager"] if tool == "alertmanager" else [])
    for name in candidates:
        found = shutil.which(name)
        if found:
            return found
    raise ToolError(f"{tool} not found: " + INSTALL_HINT.format(var=var))


def run(
    tool: str, args: Sequence[str], timeout: float = DEFAULT_TIMEOUT, cwd: str | None = None
) -> Result:
    binary = find(tool)
    timeout = min(timeout, _timeout_cap())
    try:
        # A session of its own, so a timeout ends the tool and anything it started.
        proc = subprocess.Popen(
            [binary, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        raise ToolError(f"{tool} could not be started ({binary}): {exc.strerror}") from None
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise ToolError(f"{tool} did not finish within {timeout:g}s: {' '.join(args)}") from None
    if proc.returncode < 0:
        raise ToolError(f"{tool} crashed (signal {-proc.returncode}) running: {' '.join(args)}")
    return Result(proc.returncode, stdout, stderr)


def _timeout_cap() -> float:
    """$SLOFORGE_TOOL_TIMEOUT (seconds) caps every tool run, e.g. to fail a CI job fast."""
    raw = os.environ.get("SLOFORGE_TOOL_TIMEOUT", "")
    try:
        return float(raw) if raw else float("inf")
    except ValueError:
        message = f"$SLOFORGE_TOOL_TIMEOUT must be a number of seconds (got {raw!r})"
        raise ToolError(message) from None


def version(tool: str) -> str:
    result = run(tool, ["--version"], timeout=30)
    first = (result.stdout or result.stderr).strip().splitlines()
    return first[0] if first else "unknown"
