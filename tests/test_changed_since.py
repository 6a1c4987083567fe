# ruff: noqa: E501 - whole lines read best on one line each
"""`sloforge test --changed-since REF`: only the test files whose rules or tests changed since a git
commit (or a base output directory) run; the others are reported skipped-unchanged."""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sloforge.cli import app
from sloforge_testlib import FIXTURES
from toolbox import require
from typer.testing import CliRunner

CLI = [sys.executable, "-m", "sloforge.cli"]


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        check=True,
        capture_output=True,
    )


def sloforge(repo: Path, *args: str) -> tuple[int, str, str]:
    """In a fresh process, as a CI job runs it (promtool's runs included)."""
    done = subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=repo, check=False)
    return done.returncode, _seconds(done.stdout), done.stderr


def quick(repo: Path, *args: str) -> tuple[int, str, str]:
    """In this process, for the cases that start no promtool."""
    with contextlib.chdir(repo):
        result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _seconds(text: str) -> str:
    return re.sub(
        r"\(\d+\.\ds\)", "(Ns)", re.sub(r" \((promtool|amtool) [^)]*\)$", "", text, flags=re.M)
    )


@pytest.fixture(scope="module")
def committed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository with two services' inputs and their committed output (not to edit)."""
    repo = tmp_path_factory.mktemp("committed")
    shutil.copytree(FIXTURES / "changed", repo / "slo")
    assert quick(repo, "generate", "slo", "--out", "out")[0] == 0
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    return repo


@pytest.fixture
def repo(committed: Path, tmp_path: Path) -> Path:
    """A copy of ``committed`` to edit."""
    shutil.copytree(committed, tmp_path / "repo")
    return tmp_path / "repo"


@pytest.mark.slow
def test_a_changed_objective_runs_only_that_services_tests_and_names_the_others_skipped_unchanged(
    repo: Path,
) -> None:
    require("promtool")
    require("amtool")
    # cart (first by name) holds the timing tests of the 99.9% profile the two share; shop's
    # new objective is a profile of its own, so its timing tests join shop's files.
    shop = repo / "slo" / "shop.yaml"
    shop.write_text(shop.read_text().replace("objective: 99.9", "objective: 99.5"))
    assert quick(repo, "generate", "slo", "--out", "out")[0] == 0
    code, out, err = sloforge(repo, "test", "--out", "out", "--changed-since", "main")
    assert (code, err.count("cart.test.yml")) == (0, 0), out + err
    assert out == (
        "passed   out/prometheus/rules/cart.rules.yml: promtool check rules (Ns)\n"
        "passed   out/prometheus/rules/shop.rules.yml: promtool check rules (Ns)\n"
        "skipped-unchanged  out/prometheus/tests/cart.days.test.yml: promtool test rules (Ns)\n"
        "         - unchanged since main\n"
        "skipped-unchanged  out/prometheus/tests/cart.slow.test.yml: promtool test rules (Ns)\n"
        "         - unchanged since main\n"
        "skipped-unchanged  out/prometheus/tests/cart.test.yml: promtool test rules (Ns)\n"
        "         - unchanged since main\n"
        "passed   out/prometheus/tests/shop.days.test.yml: promtool test rules (Ns)\n"
        "passed   out/prometheus/tests/shop.slow.test.yml: promtool test rules (Ns)\n"
        "passed   out/prometheus/tests/shop.test.yml: promtool test rules (Ns)\n"
        "5 passed, 0 failed, 3 skipped-unchanged\n"
    )


@pytest.mark.slow
def test_a_rule_file_changed_by_hand_reruns_the_tests_that_load_it(repo: Path) -> None:
    require("promtool")
    require("amtool")
    rules = repo / "out" / "prometheus" / "rules" / "shop.rules.yml"
    rules.write_text(rules.read_text() + "# reviewed\n")
    code, out, _ = sloforge(repo, "test", "--out", "out", "--changed-since", "HEAD")
    assert code == 0, out
    assert [line.split()[0:2] for line in out.splitlines() if "promtool test rules" in line] == [
        ["skipped-unchanged", "out/prometheus/tests/cart.days.test.yml:"],
        ["skipped-unchanged", "out/prometheus/tests/cart.slow.test.yml:"],
        ["skipped-unchanged", "out/prometheus/tests/cart.test.yml:"],
        ["passed", "out/prometheus/tests/shop.test.yml:"],
    ]


def test_nothing_changed_says_so_and_exits_0_without_running_promtool(committed: Path) -> None:
    assert quick(committed, "test", "--out", "out", "--changed-since", "main") == (
        0,
        "nothing changed in out since main: no tests to run\n",
        "",
    )


def test_a_base_output_directory_works_like_a_commit(committed: Path, tmp_path: Path) -> None:
    base = tmp_path / "out"
    shutil.copytree(committed / "out", base)
    assert quick(committed, "test", "--out", "out", "--changed-since", str(base)) == (
        0,
        f"nothing changed in out since {base}: no tests to run\n",
        "",
    )


def test_a_ref_that_is_not_a_commit_is_an_error(committed: Path) -> None:
    assert quick(committed, "test", "--out", "out", "--changed-since", "no-such-ref") == (
        1,
        "",
        f"error: no-such-ref: neither an output directory nor a git commit in {committed}\n",
    )


def test_an_output_directory_outside_any_git_repository_is_an_error(
    committed: Path, tmp_path: Path
) -> None:
    shutil.copytree(committed / "out", tmp_path / "out")
    assert quick(tmp_path, "test", "--out", "out", "--changed-since", "main") == (
        1,
        "",
        "error: --changed-since main: out is not inside a git repository (give a base output directory instead)\n",
    )


def test_a_missing_output_directory_is_an_error(committed: Path) -> None:
    assert quick(committed, "test", "--out", "nowhere", "--changed-since", "main") == (
        1,
        "",
        "error: nowhere: no such output directory; run `sloforge generate … --out nowhere` first\n",
    )
