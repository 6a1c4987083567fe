# ruff: noqa: E501 - whole lines read best on one line each
"""`sloforge test` shows progress on stderr while promtool runs and each result once on stdout."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sloforge.tools.progress import FileProgress
from sloforge.tools.report import Check
from sloforge_testlib import FIXTURES
from toolbox import require


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def check(suite: str) -> list[Check]:
    return [Check(suite, "promtool test rules", True)]


def test_a_terminal_gets_one_live_line_of_files_done_and_time_elapsed_then_it_is_erased() -> None:
    stream, clock = Terminal(), Clock()
    progress = FileProgress(stream, "testing out", clock=clock, tick=None)
    clock.now += 3
    progress(1, 3, check("out/prometheus/rules/a.rules.yml"))
    clock.now += 70
    progress(2, 3, check("out/prometheus/tests/a.test.yml"))
    progress.close()
    assert stream.getvalue() == (
        "\r\033[Ktesting out: 1/3 files, 3s\r\033[Ktesting out: 2/3 files, 1m13s\r\033[K"
    )


def test_a_log_gets_a_plain_line_per_finished_file_and_nothing_for_an_empty_step() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = FileProgress(stream, "testing out", clock=clock)
    clock.now += 2
    progress(1, 3, check("out/prometheus/rules/a.rules.yml"))
    progress(2, 3, [])
    clock.now += 40
    progress(3, 3, check("out/prometheus/tests/a.test.yml"))
    progress.close()
    assert stream.getvalue() == (
        "[1/3 files, 2s] out/prometheus/rules/a.rules.yml\n"
        "[3/3 files, 42s] out/prometheus/tests/a.test.yml\n"
    )


def test_the_ticker_redraws_the_line_while_a_file_is_still_running() -> None:
    stream, clock = Terminal(), Clock()
    progress = FileProgress(stream, "testing out", clock=clock, tick=0.01)
    clock.now += 5
    deadline = 200
    while "5s" not in stream.getvalue() and deadline:
        deadline -= 1
        time.sleep(0.01)
    progress.close()
    assert "\r\033[Ktesting out: starting, 5s" in stream.getvalue()


def _seconds(text: str) -> str:
    return re.sub(r"\d+(\.\d)?s\b", "Ns", re.sub(r"\d+m\d\ds", "Ns", text))


@pytest.mark.slow
def test_sloforge_test_prints_each_result_once_and_names_the_tool_versions(tmp_path: Path) -> None:
    require("promtool")
    require("amtool")
    out = tmp_path / "out"
    cli = [sys.executable, "-m", "sloforge.cli"]
    minimal = FIXTURES / "slo" / "checkout-minimal.yaml"
    subprocess.run([*cli, "generate", str(minimal), "--out", str(out)], check=True, cwd=tmp_path)
    versions = [
        re.search(r"version (\S+)", subprocess.run([tool, "--version"], capture_output=True, text=True, check=True).stdout).group(1)  # type: ignore[union-attr]
        for tool in ("promtool", "amtool")
    ]  # fmt: skip
    done = subprocess.run(
        [*cli, "test", "--out", "out"], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert _seconds(done.stdout) == (
        "passed   out/prometheus/rules/shop.rules.yml: promtool check rules (Ns)\n"
        "passed   out/prometheus/tests/shop.days.test.yml: promtool test rules (Ns)\n"
        "passed   out/prometheus/tests/shop.slow.test.yml: promtool test rules (Ns)\n"
        "passed   out/prometheus/tests/shop.test.yml: promtool test rules (Ns)\n"
        f"4 passed, 0 failed (promtool {versions[0]}, amtool {versions[1]})\n"
    )
    # Not a terminal: one plain progress line per file, counted in the order they finish
    # (the fifth step, Alertmanager's, has no configuration to check here and stays quiet).
    lines = [
        re.fullmatch(r"\[(\d)/5 files, Ns\] (\S+)", line)
        for line in _seconds(done.stderr).splitlines()
    ]
    assert all(lines), done.stderr
    counts = [int(m.group(1)) for m in lines if m]
    assert counts == sorted(counts) and len(set(counts)) == 4, done.stderr
    assert sorted(m.group(2) for m in lines if m) == [
        "out/prometheus/rules/shop.rules.yml",
        "out/prometheus/tests/shop.days.test.yml",
        "out/prometheus/tests/shop.slow.test.yml",
        "out/prometheus/tests/shop.test.yml",
    ]
