"""Shared test support: which real binaries exist here, and how to start servers on 127.0.0.1.

Tests use Debian's stable tools (on PATH or $PROMTOOL/$AMTOOL…) and, when
`make setup` fetched them, the current releases in tools/current/bin.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

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


def release(label: str) -> tuple[str, str]:
    """promtool and prometheus of one release ("stable" or "current"), or a skip naming
    what is missing."""
    found = {tool: dict(binaries(tool)).get(label) for tool in ("promtool", "prometheus")}
    missing = [tool for tool, path in found.items() if not path]
    if missing:
        pytest.skip(f"no {label} {' and '.join(missing)} here (run `make setup`)")
    return found["promtool"], found["prometheus"]  # type: ignore[return-value]


def every_second(rule_docs: Iterable[tuple[str, dict[str, Any]]], folder: Path) -> list[str]:
    """Rule files (name, {"groups": …}) written to ``folder`` with their groups evaluated
    every second: a 1m or 5m group interval would keep a test waiting for its first round."""
    paths = []
    for name, doc in rule_docs:
        for group in doc["groups"]:
            group.pop("interval", None)
        path = folder / name
        path.write_text(yaml.safe_dump(doc))
        paths.append(str(path))
    return paths


def backfill(promtool: str, openmetrics: str, storage: Path) -> None:
    """Write ``openmetrics`` history into TSDB blocks under ``storage``."""
    history = storage.parent / f"{storage.name}.om"
    history.write_text(openmetrics)
    subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", str(history), str(storage)],
        check=True,
        capture_output=True,
        timeout=120,
    )


def rules_evaluated(base: str) -> bool:
    """Has every rule group of the Prometheus at ``base`` run at least once?"""
    with urllib.request.urlopen(f"{base}/api/v1/rules", timeout=10) as resp:
        groups = json.load(resp)["data"]["groups"]
    return bool(groups) and all(not g["lastEvaluation"].startswith("0001") for g in groups)
