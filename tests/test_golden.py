"""Golden files: every artifact for each case under tests/golden/, reviewed as diffs.

Each case is built with every deployment target, so the golden set holds the
rule files, promtool tests, dashboards and Grafana provisioning, runbooks, the
Alertmanager configuration with its templates and routing tests (when the case
has an AlertRouting document), and each target's files. Refresh after an
intended change with `make golden` (SLOFORGE_UPDATE_GOLDEN=1) and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sloforge.model import conventions as names
from sloforge.pipeline import build_outputs, load

GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "input").is_dir())
# Where each artifact's files go: a case must produce at least one of each it pins.
ARTIFACTS = {
    "rules": "prometheus/rules/",
    "tests": "prometheus/tests/",
    "dashboards": "grafana/",
    "runbooks": "runbooks/",
    **{target: f"{target}/" for target in names.TARGETS if target != "prometheus"},
}


def _built(case: str) -> dict[str, bytes]:
    return build_outputs(load([GOLDEN / case / "input"]).project, targets=names.TARGETS)


@pytest.mark.parametrize("case", CASES)
def test_every_artifact_matches_the_golden_files(case: str) -> None:
    files = _built(case)
    expected_dir = GOLDEN / case / "expected"
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


def test_the_cases_pin_every_artifact_and_target() -> None:
    pinned = {
        rel.relative_to(GOLDEN / case / "expected").as_posix()
        for case in CASES
        for rel in (GOLDEN / case / "expected").rglob("*")
        if rel.is_file()
    }
    missing = [
        a for a, prefix in ARTIFACTS.items() if not any(p.startswith(prefix) for p in pinned)
    ]
    assert missing == []
    assert names.ALERTMANAGER_CONFIG in pinned
    assert names.ALERTMANAGER_ROUTING_TESTS in pinned
    assert any(p.endswith(".tmpl") for p in pinned), "no Alertmanager notification template"
