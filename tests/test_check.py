"""`sloforge check`: passes on fresh output, names every stale, missing or extra file."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from pathlib import Path

import pytest
from sloforge.cli import app
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the example repository with freshly generated output in out/."""
    root = tmp_path_factory.mktemp("check")
    shutil.copytree(ROOT / "slo", root / "slo")
    with contextlib.chdir(root):  # relative paths, as in a repository: headers name slo/...
        result = runner.invoke(app, ["generate", "slo", "--out", "out"])
    assert result.exit_code == 0, result.output
    return root


def check(repo: Path, out: Path | None = None) -> tuple[int, str, str]:
    with contextlib.chdir(repo):
        result = runner.invoke(app, ["check", "slo", "--out", str(out or "out")])
    return result.exit_code, result.stdout, result.stderr


def copy_out(repo: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(repo / "out", out)
    return out


def test_check_passes_on_fresh_output(repo: Path) -> None:
    code, out, err = check(repo)
    assert (code, err) == (0, "")
    assert out == "ok: out is up to date\n"


def test_check_fails_after_an_edit_to_the_inputs_and_names_the_stale_file(
    repo: Path, tmp_path: Path
) -> None:
    edited = tmp_path / "edited"
    shutil.copytree(repo / "slo", edited / "slo")
    shutil.copytree(repo / "out", edited / "out")
    source = edited / "slo" / "payments-api.yaml"
    text = source.read_text()
    assert "objective: 99.9 " in text
    source.write_text(text.replace("objective: 99.9 ", "objective: 99.5 ", 1))

    code, _, err = check(edited)

    assert code == 1
    lines = err.splitlines()
    assert "stale:   out/prometheus/rules/payments-api.rules.yml" in lines
    # Only files that read payments-api.yaml are named.
    assert "stale:   out/prometheus/rules/checkout.rules.yml" not in lines
    # The short diff shows the budget the objective change brings.
    burn = 'slo:sli_error:ratio_rate5m{slo_service="payments-api", slo="availability"}'
    assert f"    -    expr: {burn} / 0.001" in lines
    assert f"    +    expr: {burn} / 0.005" in lines
    assert lines[-1] == "out is out of date: run `sloforge generate slo --out out`"


def test_check_names_missing_and_extra_files(repo: Path, tmp_path: Path) -> None:
    out = copy_out(repo, tmp_path)
    (out / "prometheus/rules/checkout.rules.yml").unlink()
    (out / "prometheus/rules/retired.rules.yml").write_text("groups: []\n")

    code, _, err = check(repo, out)

    assert code == 1
    lines = err.splitlines()
    assert (
        f"missing: {out / 'prometheus/rules/checkout.rules.yml'} (generate would write it)" in lines
    )
    assert (
        f"extra:   {out / 'prometheus/rules/retired.rules.yml'} (no input produces it any more)"
        in lines
    )


def test_check_fails_on_a_hand_edit_to_the_output(repo: Path, tmp_path: Path) -> None:
    out = copy_out(repo, tmp_path)
    rules = out / "prometheus/rules/checkout.rules.yml"
    rules.write_text(rules.read_text().replace("for: 2m", "for: 20m", 1))

    code, _, err = check(repo, out)

    assert code == 1
    assert f"stale:   {rules}" in err.splitlines()


SPELLINGS = [
    pytest.param(".", "slo", "out", id="the input written relatively"),
    pytest.param(".", "./slo", "out", id="the input written with a leading ./"),
    pytest.param(".", "{repo}/slo", "{repo}/out", id="the input written absolutely as CI does"),
    pytest.param("elsewhere", "../slo", "../out", id="run from a sibling folder"),
]
# Inside a git repository, sources are named from its root, wherever the command runs.
ANYWHERE = [
    pytest.param("slo", ".", "../out", id="run inside the input folder of a git repository"),
    pytest.param("/", "{repo}/slo", "{repo}/out", id="run from / on a git repository"),
]


@pytest.fixture(scope="module")
def git_repo(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated example inside a git repository, as CI checks it out."""
    root = tmp_path_factory.mktemp("git") / "project"
    shutil.copytree(repo, root)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def check_from(root: Path, workdir: str, inputs: str, out: str) -> None:
    (root / "elsewhere").mkdir(exist_ok=True)
    with contextlib.chdir(root / workdir):
        result = runner.invoke(
            app, ["check", inputs.format(repo=root), "--out", out.format(repo=root)]
        )
    assert (result.exit_code, result.stderr) == (0, ""), result.stderr
    assert result.stdout == f"ok: {out.format(repo=root)} is up to date\n"


@pytest.mark.parametrize(("workdir", "inputs", "out"), SPELLINGS)
def test_check_passes_however_the_input_path_is_written(
    repo: Path, workdir: str, inputs: str, out: str
) -> None:
    check_from(repo, workdir, inputs, out)


@pytest.mark.parametrize(("workdir", "inputs", "out"), SPELLINGS + ANYWHERE)
def test_check_passes_in_a_git_repository_from_any_folder(
    git_repo: Path, workdir: str, inputs: str, out: str
) -> None:
    check_from(git_repo, workdir, inputs, out)


def test_generated_headers_name_sources_from_the_input_folder_not_the_typed_path(
    repo: Path,
) -> None:
    header = (repo / "out/prometheus/rules/checkout.rules.yml").read_text().splitlines()[0]
    assert header == (
        "# Generated by sloforge from slo/checkout.yaml. "
        "DO NOT EDIT: change the sources and run `sloforge generate`."
    )
