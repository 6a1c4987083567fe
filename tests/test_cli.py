"""The command line as users and CI see it: messages, exit codes, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from sloforge_testlib import FIXTURES
from toolbox import require

FIVE_MISTAKES = """\
apiVersion: sloforge/v1
kind: ServiceLevels
service: Payments API
slos:
  - name: availability
    objectve: 99.9
    sli:
      ratio:
        errors: http_requests_total{code=~"5.."
        total: http_requests_total
  - name: latency
    objective: 100
    window: 30x
    sli:
      latency: {histogram: http_server_request_duration_seconds, threshold: 0.5}
"""


def sloforge(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sloforge.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=900,
        check=False,
    )


def test_validate_reports_five_mistakes_with_locations(tmp_path: Path) -> None:
    (tmp_path / "payments.yaml").write_text(FIVE_MISTAKES)
    result = sloforge("validate", "payments.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        "payments.yaml:3:1: service: must be lower-case letters, digits and dashes, "
        "starting with a letter "
        "or digit, because it names output files (got 'Payments API'), e.g. 'payments-api'",
        "payments.yaml:6:5: slos[0].objectve: unknown field `objectve`, did you mean `objective`?",
        "payments.yaml:9:9: slos[0].sli.ratio.errors: "
        "invalid PromQL: unexpected end of input inside braces",
        "payments.yaml:12:5: slos[1].objective: must be less than 100 (got 100)",
        "payments.yaml:13:5: slos[1].window: "
        "invalid duration '30x': use a Prometheus duration like 5m, 1h or 30d, "
        "or month or week for a calendar period",
        "5 problems in 1 file",
    ]


def test_validate_accepts_the_example_repository() -> None:
    root = Path(__file__).resolve().parent.parent
    result = sloforge("validate", "slo", cwd=root)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: ")


def test_a_usage_error_exits_2() -> None:
    assert sloforge("generate", "--no-such-option").returncode == 2


def test_schema_is_json_schema_of_every_document_kind() -> None:
    result = sloforge("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert {"ServiceLevelsSpec", "AlertRoutingSpec", "SettingsSpec"} <= set(schema["$defs"])
    assert schema["$defs"]["SLOSpec"]["additionalProperties"] is False


def test_explain_prints_each_tier_with_detection_and_reset_times() -> None:
    result = sloforge("explain", str(FIXTURES / "slo" / "checkout-minimal.yaml"))
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()[3:]]
    # tier, severity, long, short, burn, threshold, budget spent, detection, reset
    assert rows == [
        ["page", "critical", "1h", "5m", "14.4x", "1.44%", "2%", "52s", "4.9m"],
        ["page", "critical", "6h", "30m", "6x", "0.6%", "5%", "2.2m", "29.8m"],
        ["ticket", "warning", "1d", "2h", "3x", "0.3%", "10%", "4.3m", "2h"],
        ["ticket", "warning", "3d", "6h", "1x", "0.1%", "10%", "4.3m", "6h"],
    ]


def test_generate_then_test_reports_every_check_and_writes_junit(tmp_path: Path) -> None:
    require("promtool")
    out = tmp_path / "out"
    generated = sloforge(
        "generate", str(FIXTURES / "slo" / "grouped-latency.yaml"), "--out", str(out)
    )
    assert generated.returncode == 0, generated.stderr
    junit = tmp_path / "report.xml"
    result = sloforge("test", "--out", str(out), "--junit", str(junit))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed   out/prometheus/tests/search.test.yml: promtool test rules" in result.stdout
    assert result.stdout.splitlines()[-1].startswith("4 passed, 0 failed (promtool ")
    suites = ET.parse(junit).getroot()
    cases = suites.findall(".//testcase")
    assert {c.get("name") for c in cases} >= {"promtool check rules", "promtool test rules"}
    assert not suites.findall(".//failure")


def _generate_minimal(out: Path) -> None:
    """The one-SLO checkout fixture, generated into ``out``."""
    minimal = FIXTURES / "slo" / "checkout-minimal.yaml"
    assert sloforge("generate", str(minimal), "--out", str(out)).returncode == 0


def test_test_names_the_failing_alert_and_time(tmp_path: Path) -> None:
    require("promtool")
    out = tmp_path / "out"
    _generate_minimal(out)
    rules = out / "prometheus" / "rules" / "shop.rules.yml"
    rules.write_text(rules.read_text().replace("> 0.0144", "> 0.0288"))
    junit = tmp_path / "report.xml"
    result = sloforge("test", "--out", str(out), "--junit", str(junit))
    assert result.returncode == 1
    assert "FAILED   out/prometheus/tests/shop.test.yml: promtool test rules" in result.stdout
    assert "- alert ShopAvailabilityBudgetBurn at " in result.stdout
    assert ET.parse(junit).getroot().findall(".//failure")


def test_a_missing_promtool_says_how_to_install_it(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _generate_minimal(out)
    result = sloforge(
        "test", "--out", str(out), env={"PROMTOOL": str(tmp_path / "nowhere" / "promtool")}
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "PROMTOOL" in result.stdout + result.stderr


@pytest.mark.parametrize(
    "command", [["validate"], ["generate", "--out", "o"], ["explain"], ["check", "--out", "o"]]
)
def test_a_missing_input_path_is_a_clean_error(tmp_path: Path, command: list[str]) -> None:
    result = sloforge(command[0], "nope.yaml", *command[1:], cwd=tmp_path)
    assert result.returncode == 1
    assert "nope.yaml: no such file or directory" in result.stderr
    assert "Traceback" not in result.stderr


def test_version_prints_without_a_command() -> None:
    result = sloforge("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("sloforge ")
