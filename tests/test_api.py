"""The public API: sloforge.load, validate, compile, write (what the CLI itself calls)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sloforge
from sloforge.errors import OutputError, SpecError

ROOT = Path(__file__).resolve().parent.parent
BAD = """apiVersion: sloforge/v1
kind: ServiceLevels
service: shop
slos:
  - name: availability
    objective: 100
    sli:
      ratio:
        errors: http_requests_total{code=~"5.."}
        total: http_requests_total
"""


def test_the_api_is_four_functions_and_the_version() -> None:
    assert sorted(sloforge.__all__) == ["__version__", "compile", "load", "validate", "write"]


def test_compile_then_write_gives_what_generate_writes(tmp_path: Path) -> None:
    slo = tmp_path / "slo"
    shutil.copytree(ROOT / "slo", slo)
    loaded = sloforge.load([slo], out=tmp_path / "out")
    files = sloforge.compile(loaded.project)
    sloforge.write(files, tmp_path / "out")
    written = {
        p.relative_to(tmp_path / "out").as_posix(): p.read_bytes()
        for p in (tmp_path / "out").rglob("*")
        if p.is_file()
    }
    committed = {
        p.relative_to(ROOT / "out").as_posix(): p.read_bytes()
        for p in (ROOT / "out").rglob("*")
        if p.is_file()
    }
    assert written == committed


def test_validate_returns_problems_instead_of_raising(tmp_path: Path) -> None:
    (tmp_path / "shop.yaml").write_text(BAD)
    problems = sloforge.validate([tmp_path])
    assert [str(p) for p in problems] == [
        f"{(tmp_path / 'shop.yaml').as_posix()}:6:5: slos[0].objective: "
        "must be less than 100 (got 100)"
    ]
    with pytest.raises(SpecError):
        sloforge.load([tmp_path])


def test_load_refuses_an_output_directory_inside_the_inputs_before_reading(tmp_path: Path) -> None:
    (tmp_path / "shop.yaml").write_text(BAD)
    with pytest.raises(OutputError):
        sloforge.load([tmp_path], out=tmp_path / "out")
