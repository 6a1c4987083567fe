"""The generated promtool tests of the golden cases pass on every promtool this machine has.

The golden cases cover every SLI kind (errors and good ratios, grouped, latency
with an integer bucket bound, probe, query), a traffic guard, custom tiers,
7d/28d/90d periods, both window strategies and structured and free-form alerts.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sloforge_testlib import promtool_test
from toolbox import binaries

pytestmark = pytest.mark.slow  # runs promtool, amtool or the servers

GOLDEN = Path(__file__).resolve().parent / "golden"
FILES = sorted(GOLDEN.glob("*/expected/prometheus/tests/*.test.yml"))
PROMTOOLS = binaries("promtool")


@pytest.mark.parametrize(
    "label_and_path", PROMTOOLS or [("missing", "promtool")], ids=lambda lp: lp[0]
)
@pytest.mark.parametrize("test_file", FILES, ids=lambda p: f"{p.parts[-5]}/{p.name}")
def test_generated_tests_pass(test_file: Path, label_and_path: tuple[str, str]) -> None:
    if not PROMTOOLS:
        pytest.skip("promtool is not installed (run `make setup`)")
    result = promtool_test(label_and_path[1], test_file, timeout=1200)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
