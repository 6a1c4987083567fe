"""Shared test support: which real binaries exist here, and how to start servers on 127.0.0.1.

Tests use Debian's stable tools (on PATH or $PROMTOOL/$AMTOOL…) and, when
`make setup` fetched them, the current releases in tools/current/bin.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CURRENT_BIN = ROOT / "tools" / "current" / "bin"


def binaries(tool: str) -> list[tuple[str, str]]:
    """(label, path) for every copy of ``tool`` here: the stable one first, then the current one."""
    found = []
    env = os.environ.get(tool.upper())
    names = [tool] + (["prometheus-alertmanager"] if tool == "alertmanager" else [])
    stable = env or next((shutil.which(n) for n in names if shutil.which(n)), None)
    if stable:
        found.append(("stable", stable))
    current = CURRENT_BIN / tool
    if current.exists() and os.access(current, os.X_OK):
        found.append(("current", str(current)))
    return found


def require(tool: str) -> str:
    found = binaries(tool)
    if not found:
        pytest.skip(f"{tool} is not installed (run `make setup`)")
    return found[0][1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not become ready within {timeout}s")


@contextlib.contextmanager
def server(args: list[str], ready_path: str, port: int, log_name: str) -> Iterator[str]:
    """Start a server process on 127.0.0.1:``port``, yield its base URL, stop it by pid."""
    log = tempfile.NamedTemporaryFile(prefix=f"{log_name}-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_http(base + ready_path)
        except TimeoutError:
            proc.kill()
            raise RuntimeError(
                f"{log_name} did not start:\n{Path(log.name).read_text()[-3000:]}"
            ) from None
        yield base
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()
        os.unlink(log.name)


@contextlib.contextmanager
def prometheus(
    config: Path, storage: Path, binary: str | None = None, extra: list[str] | None = None
) -> Iterator[str]:
    """A real Prometheus on 127.0.0.1 with ``config`` and TSDB ``storage``."""
    binary = binary or require("prometheus")
    port = free_port()
    args = [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={storage}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--storage.tsdb.retention.time=3650d",
        *(extra or []),
    ]
    with server(args, "/-/ready", port, "prometheus") as url:
        yield url


@contextlib.contextmanager
def alertmanager(config: Path, storage: Path, binary: str | None = None) -> Iterator[str]:
    """A real Alertmanager on 127.0.0.1 with ``config``; clustering off."""
    binary = binary or require("alertmanager")
    port = free_port()
    args = [
        binary,
        f"--config.file={config}",
        f"--storage.path={storage}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]
    with server(args, "/-/ready", port, "alertmanager") as url:
        yield url
