"""Golden files: the rule and test output for each case under tests/golden/, reviewed as diffs.

Refresh after an intended change with `make golden` (SLOFORGE_UPDATE_GOLDEN=1).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sloforge.pipeline import build_outputs, load

GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "input").is_dir())
PINNED = ("prometheus/rules/", "prometheus/tests/")


@pytest.mark.parametrize("case", CASES)
def test_rules_and_tests_match_the_golden_files(case: str) -> None:
    root = GOLDEN / case
    files = {
        rel: content
        for rel, content in build_outputs(load([root / "input"]).project).items()
        if rel.startswith(PINNED)
    }
    expected_dir = root / "expected"
    if os.environ.get("SLOFORGE_UPDATE_GOLDEN"):
        for old in expected_dir.rglob("*"):
            if old.is_file():
                old.unlink()
        for rel, content in files.items():
            (expected_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            (expected_dir / rel).write_bytes(content)
    expected = {
        p.relative_to(expected_dir).as_posix(): p.read_bytes()
        for p in expected_dir.rglob("*")
        if p.is_file()
    }
    assert sorted(files) == sorted(expected), (
        "files differ from the golden set (run `make golden` if intended)"
    )
    for rel, content in files.items():
        assert content.decode() == expected[rel].decode(), f"{rel} differs from its golden file"
