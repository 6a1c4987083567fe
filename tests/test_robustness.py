# ruff: noqa: E501 - PromQL and YAML samples read best unbroken
"""Crash safety, concurrency, determinism, escaping and external tools that misbehave.

Every run here is the real `sloforge` console script in a subprocess (or the
real CLI in process where a signal is not needed); promtool and amtool are the
real binaries, or small scripts standing in for a broken installation.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import toolbox
from sloforge.cli import app
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
SLOFORGE = str(Path(sys.executable).parent / "sloforge")
runner = CliRunner()


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def synthetic(root: Path, services: int, slos: int, objective: float) -> None:
    """``services`` files of ``slos`` ratio SLOs each; ``objective`` tells two variants apart."""
    inputs = root / "in"
    inputs.mkdir(parents=True)
    for s in range(services):
        lines = [
            "apiVersion: sloforge/v1",
            "kind: ServiceLevels",
            f"service: svc{s}",
            "owner: team",
            "slos:",
        ]
        for i in range(slos):
            selector = f'http_requests_total{{job="svc{s}", route="/r{i}"'
            lines += [
                f"  - name: slo{i}",
                f"    objective: {objective}",
                "    sli:",
                "      ratio:",
                f'        errors: {selector}, code=~"5.."}}',
                f"        total: {selector}}}",
            ]
        (inputs / f"svc{s}.yaml").write_text("\n".join(lines) + "\n")


def generate(cwd: Path, out: Path, *paths: str, env: dict[str, str] | None = None) -> float:
    started = time.monotonic()
    proc = subprocess.run(
        [SLOFORGE, "generate", *(paths or ("in",)), "--out", str(out)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, **(env or {})},
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return time.monotonic() - started


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Two inputs (a/in, b/in) of 32 SLOs in 8 services and the trees they generate (~80 files)."""
    root = tmp_path_factory.mktemp("variants")
    synthetic(root / "a", services=8, slos=4, objective=99.5)
    synthetic(root / "b", services=8, slos=4, objective=99.9)
    generate(root / "a", root / "ref-a")
    seconds, writing = watched_generate(root / "b", root / "ref-b")
    trees = {"a": tree(root / "ref-a"), "b": tree(root / "ref-b")}
    assert trees["a"] != trees["b"] and trees["a"].keys() == trees["b"].keys()
    return {"root": root, "trees": trees, "seconds": seconds, "writing": writing}


def watched_generate(cwd: Path, out: Path) -> tuple[float, float]:
    """Run generate; return its duration and how long it ran after the staging tree appeared."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [SLOFORGE, "generate", "in", "--out", str(out)], cwd=cwd, stdout=subprocess.DEVNULL
    )
    staged = wait_for_staging(proc, out)
    assert proc.wait(timeout=300) == 0
    ended = time.monotonic()
    return ended - started, ended - (staged or ended)


def wait_for_staging(proc: subprocess.Popen[bytes], out: Path) -> float | None:
    """Poll until the run's staging tree appears beside ``out``; when, or None if it never did."""
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline:
        if leftovers(out.parent, out.name):
            return time.monotonic()
        time.sleep(0.002)
    return None


def leftovers(parent: Path, name: str) -> list[str]:
    return sorted(p.name for p in parent.glob(f".{name}.new-*")) + sorted(
        p.name for p in parent.glob(f".{name}.old")
    )


@pytest.mark.slow
def test_a_killed_generate_leaves_the_old_or_the_new_tree_never_a_mix(variants: dict) -> None:
    """SIGKILL at random moments: a third anywhere in the run, the rest while the new tree is
    being staged and swapped in (the only moments a mix could appear)."""
    root: Path = variants["root"]
    old, new = variants["trees"]["a"], variants["trees"]["b"]
    out = root / "killed"
    rng = random.Random(9)
    outcomes = {"old": 0, "new": 0}
    for trial in range(15):
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(root / "ref-a", out)
        proc = subprocess.Popen(
            [SLOFORGE, "generate", "in", "--out", str(out)],
            cwd=root / "b",
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            if trial % 3 == 0:
                time.sleep(rng.uniform(0, variants["seconds"]))
            else:
                wait_for_staging(proc, out)
                time.sleep(rng.uniform(0, 1.2 * variants["writing"]))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        now = tree(out)
        assert now in (old, new), f"trial {trial}: out/ is a mix of the old and the new tree"
        outcomes["old" if now == old else "new"] += 1
    # The kills did land on both sides of the swap, or the test proves little.
    assert outcomes["old"] and outcomes["new"], outcomes

    (root / ".killed.new-stale").mkdir(exist_ok=True)
    (root / ".killed.new-stale" / "junk.yml").write_text("left by a killed run\n")
    generate(root / "b", out)
    assert tree(out) == new
    assert leftovers(root, "killed") == []
    assert not any(p.name.startswith(".") for p in out.iterdir())


def test_two_concurrent_generates_into_one_directory_do_not_interleave(variants: dict) -> None:
    root: Path = variants["root"]
    trees = variants["trees"]
    out = root / "shared"
    procs = [
        subprocess.Popen(
            [SLOFORGE, "generate", "in", "--out", str(out)],
            cwd=root / side,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for side in ("a", "b")
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    assert tree(out) in (trees["a"], trees["b"])
    assert leftovers(root, "shared") == []


def test_output_is_byte_identical_whatever_the_file_order_hash_seed_or_locale(
    tmp_path: Path,
) -> None:
    shutil.copytree(ROOT / "slo", tmp_path / "slo")
    files = sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "slo").glob("*.yaml"))
    runs = [
        (("slo",), {"PYTHONHASHSEED": "1", "LC_ALL": "C.UTF-8"}),
        (tuple(reversed(files)), {"PYTHONHASHSEED": "4242", "LC_ALL": "C"}),
    ]
    trees = []
    for i, (paths, env) in enumerate(runs):
        generate(tmp_path, tmp_path / f"out{i}", *paths, env=env)
        trees.append(tree(tmp_path / f"out{i}"))
    assert trees[0] == trees[1]


# --- escaping and templates ------------------------------------------------------------------

ODD_SERVICE = r"""
apiVersion: sloforge/v1
kind: ServiceLevels
service: odd
owner: odd
slos:
  - name: availability
    description: 'Requests to "/q" on the café\ API | *not* <b>bold</b>'
    objective: 99
    window: 7d
    sli:
      ratio:
        errors: 'http_requests_total{job="odd", route="/say \"hi\"\\now", city="Zürich\n", code="500"}'
        total: 'http_requests_total{job="odd", route="/say \"hi\"\\now", city="Zürich\n"}'
    alerting:
      # One short tier keeps the generated promtool test quick; $value would make it untestable.
      tiers: [{severity: page, long_window: 1h, short_window: 5m, burn_rate: 14.4}]
      page:
        annotations: {where: 'burning for {{ $labels.route }} ({{ $labels.city }})'}
    runbook: |
      Multiply: {{ 7*7 }} and {% if true %}never evaluated{% endif %}.
      ```
      an unclosed fence
alerts:
  - name: OddDown
    metric: 'up{job="odd", route="a\"b\\c"}'
    below: 1
    for: 5m
    severity: warning
    summary: 'Target {{ $labels.instance }} is down'
    description: 'Value {{ $value }}; label "quote" and back\slash'
    runbook: 'Check {{ 7*7 }} then | pipes'
"""


@pytest.fixture(scope="module")
def odd_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("odd")
    (root / "in").mkdir()
    (root / "in" / "odd.yaml").write_text(ODD_SERVICE, encoding="utf-8")
    with contextlib.chdir(root):
        result = runner.invoke(app, ["generate", "in", "--out", "out"])
    assert result.exit_code == 0, result.output
    return root / "out"


@pytest.mark.slow
def test_odd_label_values_survive_promtool_and_match_the_generated_series(odd_output: Path) -> None:
    """The generated promtool tests synthesise series from the selectors: if a quote, backslash,
    newline or non-ASCII character were mangled anywhere, an alert would not fire or not match."""
    toolbox.require("promtool")
    result = runner.invoke(app, ["test", "--out", str(odd_output), "--jobs", "2"])
    assert result.exit_code == 0, result.output
    import yaml

    rules = yaml.safe_load((odd_output / "prometheus" / "rules" / "odd.rules.yml").read_text())
    exprs = [r["expr"] for g in rules["groups"] for r in g["rules"]]
    written = 'job="odd", route="/say \\"hi\\"\\\\now", city="Zürich\\n", code="500"'
    assert any(written in e for e in exprs), exprs[:3]
    tests = (odd_output / "prometheus" / "tests" / "odd.test.yml").read_text(encoding="utf-8")
    assert (
        'series: http_requests_total{city="Zürich\\n", code="500", job="odd", route="/say \\"hi\\"\\\\now"}'
        in tests
    )


def test_prometheus_templates_reach_the_rules_verbatim(odd_output: Path) -> None:
    import yaml

    rules = yaml.safe_load((odd_output / "prometheus" / "rules" / "odd.rules.yml").read_text())
    alerts = {r["alert"]: r for g in rules["groups"] for r in g["rules"] if "alert" in r}
    assert alerts["OddDown"]["annotations"]["summary"] == "Target {{ $labels.instance }} is down"
    assert alerts["OddDown"]["annotations"]["description"] == (
        'Value {{ $value }}; label "quote" and back\\slash'
    )
    # The burn-rate tiers carry the SLO's alerting annotations; its absent-data alert does not.
    page = [r for r in alerts.values() if r["labels"].get("slo_tier")]
    assert page, alerts.keys()
    for rule in page:
        assert (
            rule["annotations"]["where"] == "burning for {{ $labels.route }} ({{ $labels.city }})"
        )


def test_runbook_text_is_never_evaluated_as_jinja_and_cannot_break_the_page(
    odd_output: Path,
) -> None:
    pages = {
        p.name: p.read_text(encoding="utf-8")
        for p in (odd_output / "runbooks" / "odd").glob("*.md")
    }
    burn = next(text for name, text in pages.items() if name.endswith("BudgetBurn.md"))
    assert "{{ 7*7 }}" in burn and "49" not in burn
    assert "{% if true %}never evaluated{% endif %}" in burn
    assert burn.count("```") % 2 == 0, "the unclosed fence must be closed"
    assert "\\*not\\*" in burn and "\\|" in burn  # the description, Markdown-escaped
    assert "{{ 7*7 }}" in pages["OddDown.md"] and "49" not in pages["OddDown.md"]


# --- external tools that are missing, crash or hang ---------------------------------------------


def fake_tool(tmp_path: Path, body: str) -> str:
    script = tmp_path / "promtool"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(0o755)
    return str(script)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("sleep 600", "promtool did not finish within 2s: check rules"),
        ("kill -SEGV $$", "promtool crashed (signal 11) running: check rules"),
    ],
    ids=["a hanging promtool times out", "a crashing promtool is named"],
)
def test_a_broken_promtool_is_a_clear_error_within_the_timeout(
    odd_output: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, message: str
) -> None:
    monkeypatch.setenv("PROMTOOL", fake_tool(tmp_path, body))
    monkeypatch.setenv("SLOFORGE_TOOL_TIMEOUT", "2")
    started = time.monotonic()
    result = runner.invoke(app, ["test", "--out", str(odd_output), "--jobs", "2"])
    assert time.monotonic() - started < 30
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert f"error: {message} {odd_output}/prometheus/rules/odd.rules.yml\n" in result.stderr


@pytest.mark.slow
def test_a_hanging_promtool_leaves_no_process_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sloforge.errors import ToolError
    from sloforge.tools import binaries as tools

    marker = tmp_path / "child.pid"
    monkeypatch.setenv("PROMTOOL", fake_tool(tmp_path, f"sleep 600 & echo $! > {marker}; wait"))
    with pytest.raises(ToolError, match=r"promtool did not finish within 1s: --version"):
        tools.run("promtool", ["--version"], timeout=1)
    pid = int(marker.read_text())
    time.sleep(0.2)
    assert process_state(pid) in ("gone", "Z"), "the tool's child still runs"


def process_state(pid: int) -> str:
    """R, S, Z… from /proc, or "gone" (an orphan may linger as a zombie where PID 1 reaps late)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return "gone"
    return stat.rsplit(")", 1)[1].split()[0]


def test_a_missing_promtool_names_the_variable(
    odd_output: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMTOOL", "/nonexistent/promtool")
    result = runner.invoke(app, ["test", "--out", str(odd_output)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert (
        "error: $PROMTOOL is set to '/nonexistent/promtool', which is not an executable\n"
        in result.stderr
    )


def test_a_promtool_absent_from_path_says_how_to_install_it(
    odd_output: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PROMTOOL", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    result = runner.invoke(app, ["test", "--out", str(odd_output)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "error: promtool not found: install Debian's `prometheus`" in result.stderr
