"""`sloforge check`: passes on fresh output, names every stale, missing or extra file."""

from __future__ import annotations

import contextlib
import shutil
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
