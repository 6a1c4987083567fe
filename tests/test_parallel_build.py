"""Large projects build artifacts in two processes: same bytes, same errors, as one process."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sloforge import pipeline
from sloforge.errors import CompileError
from sloforge.pipeline import build_outputs, load

ROOT = Path(__file__).resolve().parent.parent


def test_two_processes_write_the_same_bytes_as_one(monkeypatch: pytest.MonkeyPatch) -> None:
    project = load([ROOT / "slo"]).project
    monkeypatch.setenv("SLOFORGE_JOBS", "1")
    alone = build_outputs(project)
    monkeypatch.setenv("SLOFORGE_JOBS", "2")
    assert pipeline._jobs(project) == 2
    assert build_outputs(project) == alone


def test_an_error_in_the_worker_is_raised_as_in_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slo = tmp_path / "slo"
    shutil.copytree(ROOT / "slo", slo)
    (slo / "templates" / "runbooks").mkdir(parents=True, exist_ok=True)
    (slo / "templates" / "runbooks" / "burn-rate.md.j2").write_text("{{ nope }}\n")
    project = load([slo]).project
    monkeypatch.setenv("SLOFORGE_JOBS", "2")
    with pytest.raises(CompileError) as err:
        build_outputs(project)
    assert str(err.value) == "templates/runbooks/burn-rate.md.j2: 'nope' is undefined"


def test_large_projects_use_a_second_core_small_ones_do_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SLOFORGE_JOBS", raising=False)
    project = load([ROOT / "slo"]).project
    assert pipeline._jobs(project) == 1
    monkeypatch.setattr(pipeline, "PARALLEL_FROM_SLOS", 1)
    assert pipeline._jobs(project) == min(2, len(__import__("os").sched_getaffinity(0)))


@pytest.mark.parametrize("raw", ["0", "two", "-1", "1.5"])
def test_a_bad_jobs_setting_is_a_clear_error(raw: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLOFORGE_JOBS", raw)
    project = load([ROOT / "slo"]).project
    with pytest.raises(CompileError) as err:
        build_outputs(project)
    assert (
        str(err.value) == f"$SLOFORGE_JOBS must be a number of processes, 1 or more (got {raw!r})"
    )
