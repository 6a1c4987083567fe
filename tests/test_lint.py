# ruff: noqa: E501 - whole messages read best on one line each
"""`sloforge lint`: each problem class flagged once in the fixture, none in the example."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest
from sloforge.cli import app
from sloforge.review.lint import CHECKS, lint
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path("tests/fixtures/lint")  # relative, as users pass it: findings name files this way

runner = CliRunner()


@pytest.fixture(autouse=True)
def _repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def sloforge(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout


EXPECTED = [
    ("short-range", "tests/fixtures/lint/shop.yaml:17:5", "error"),
    ("record-name", "tests/fixtures/lint/shop.yaml:19:5", "warning"),
    ("rate-on-non-counter", "tests/fixtures/lint/shop.yaml:23:5", "warning"),
    ("duplicate-record", "tests/fixtures/lint/shop.yaml:25:5", "error"),
    ("for-duration", "tests/fixtures/lint/shop.yaml:29:5", "warning"),
    ("missing-annotation", "tests/fixtures/lint/shop.yaml:37:5", "warning"),
    ("untested-alert", "tests/fixtures/lint/shop.yaml:46:5", "warning"),
    ("unknown-severity", "tests/fixtures/lint/shop.yaml:57:5", "error"),
    ("relative-link", "tests/fixtures/lint/shop.yaml:62:19", "warning"),
    ("late-tier", "tests/fixtures/lint/stock.yaml:17:11", "warning"),
]


def test_the_fixture_covers_every_check_exactly_once() -> None:
    assert sorted(rule for rule, _, _ in EXPECTED) == sorted(CHECKS)
    report = lint([FIXTURE])
    assert [f.rule for f in report.findings] == [rule for rule, _, _ in EXPECTED]


@pytest.mark.parametrize(
    ("rule", "where", "severity"), EXPECTED, ids=[f"flags {r} at its line" for r, _, _ in EXPECTED]
)
def test_each_problem_class_is_flagged_once_where_it_is(
    rule: str, where: str, severity: str
) -> None:
    found = [f for f in lint([FIXTURE]).findings if f.rule == rule]
    assert len(found) == 1
    assert str(found[0].location) == where
    assert found[0].severity == severity


def test_text_output_gives_the_whole_message_with_its_location() -> None:
    code, out = sloforge("lint", str(FIXTURE))
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == (
        "tests/fixtures/lint/shop.yaml:17:5: error: recording_rules[0].expr: range [1m] is "
        "shorter than 2x the 1m scrape interval (2m), so it often holds fewer than two samples "
        "and rate() returns nothing [short-range]"
    )
    assert (
        "tests/fixtures/lint/shop.yaml:57:5: error: alerts[3].severity: alert `ShopRefundsHigh` "
        "has severity `audit`, which no route of the AlertRouting document matches; it would "
        "only reach the default receiver [unknown-severity]"
    ) in lines
    assert lines[-1] == "3 errors, 7 warnings"


def test_the_example_repository_has_no_findings() -> None:
    code, out = sloforge("lint", "slo")
    assert code == 0, out
    assert out.startswith("ok: no findings in ")


def test_json_output_lists_every_finding_with_its_position() -> None:
    code, out = sloforge("lint", str(FIXTURE), "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert (data["errors"], data["warnings"]) == (3, 7)
    first = data["findings"][0]
    assert first == {
        "file": "tests/fixtures/lint/shop.yaml",
        "line": 17,
        "column": 5,
        "severity": "error",
        "rule": "short-range",
        "path": "recording_rules[0].expr",
        "message": first["message"],
    }


def test_github_output_is_one_workflow_annotation_per_finding() -> None:
    code, out = sloforge("lint", str(FIXTURE), "--format", "github")
    assert code == 1
    annotations = [line for line in out.splitlines() if line.startswith("::")]
    assert len(annotations) == len(EXPECTED)
    assert annotations[5] == (
        "::warning file=tests/fixtures/lint/shop.yaml,line=37,col=5,"
        "title=sloforge lint (missing-annotation)::"
        "alerts[1]: alert `ShopQueueDeep` has no description: add `description:`"
    )
    assert annotations[1].startswith("::warning file=tests/fixtures/lint/shop.yaml,line=19,col=5,")


def write(tmp_path: Path, body: str) -> Path:
    (tmp_path / "svc.yaml").write_text(textwrap.dedent(body))
    return tmp_path


WARNING_ONLY = """\
    apiVersion: sloforge/v1
    kind: ServiceLevels
    service: svc
    alerts:
      - name: SvcDown
        expr: up{job="svc"} == 0
        for: 5m
        severity: critical
        summary: Down.
        description: Down.
        runbook: Restart it.
"""


def test_warnings_pass_unless_strict(tmp_path: Path) -> None:
    repo = write(tmp_path, WARNING_ONLY)
    code, out = sloforge("lint", str(repo))
    assert code == 0
    assert out.endswith("0 errors, 3 warnings\n")
    code, _ = sloforge("lint", str(repo), "--strict")
    assert code == 1


def test_invalid_input_is_reported_as_a_located_finding_in_every_format(tmp_path: Path) -> None:
    repo = write(tmp_path, WARNING_ONLY.replace("for: 5m", "for: soon"))
    code, out = sloforge("lint", str(repo), "--format", "github")
    assert code == 1
    assert out.splitlines()[0].startswith(f"::error file={repo}/svc.yaml,line=7,col=")
    assert "invalid duration 'soon'" in out


CASES = {
    "an alert without summary": (
        "summary: Down.",
        "",
        "alert `SvcDown` has no summary: add `summary:`",
    ),
    "an alert without a runbook": ("runbook: Restart it.", "", "alert `SvcDown` has no runbook"),
    "a for: longer than a day": ("for: 5m", "for: 2d", "waits 2d before firing"),
    "a record in the reserved slo: level": (
        "alerts:",
        "recording_rules:\n  - record: slo:objective:ratio\n    expr: vector(1)\nalerts:",
        "`slo:objective:ratio` uses the `slo:` level",
    ),
    "rate() on a gauge given by __name__": (
        'up{job="svc"} == 0',
        'rate({__name__="svc_temperature_celsius"}[5m]) > 1',
        "rate() on `svc_temperature_celsius`",
    ),
    "a custom tier window shorter than two scrapes": (
        "alerts:",
        textwrap.dedent("""\
            slos:
              - name: up
                objective: 99
                runbook: Look.
                sli: {probe: 'probe_success{job="b"}'}
                alerting:
                  tiers: [{severity: page, long_window: 5m, short_window: 30s, burn_rate: 10}]
            alerts:"""),
        "short window 30s is shorter than 2x the 30s scrape interval (1m)",
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=[f"flags {c}" for c in CASES])
def test_single_problems(tmp_path: Path, case: str) -> None:
    old, new, message = CASES[case]
    repo = write(tmp_path, textwrap.dedent(WARNING_ONLY).replace(old, new))
    advice = ("untested-alert", "relative-link")  # every WARNING_ONLY run has these
    messages = [f.message for f in lint([repo]).findings if f.rule not in advice]
    assert len(messages) == 1, messages
    assert message in messages[0]


def test_an_slo_without_runbook_text_is_a_warning_so_lint_passes(tmp_path: Path) -> None:
    repo = write(
        tmp_path,
        """\
        apiVersion: sloforge/v1
        kind: ServiceLevels
        service: svc
        slos:
          - name: up
            objective: 99
            sli: {probe: 'probe_success{job="b"}'}
        """,
    )
    code, out = sloforge("lint", str(repo))
    assert (code, out) == (
        0,
        f"{repo}/svc.yaml:1:1: warning: Settings `dashboard_base_url` is not set, so every "
        "alert's dashboard link is a relative path that Slack, PagerDuty and email show as a "
        "dead link: set `dashboard_base_url: https://…` in kind: Settings [relative-link]\n"
        f"{repo}/svc.yaml:1:1: warning: Settings `runbook_base_url` is not set, so every "
        "generated alert's runbook_url is a relative path that Slack, PagerDuty and email show "
        "as a dead link: set `runbook_base_url: https://…` in kind: Settings [relative-link]\n"
        f"{repo}/svc.yaml:5:5: warning: slos[0]: alert `SvcUpBudgetBurn` has no runbook: its "
        "runbook_url would point at an empty stub; add `runbook:` with diagnosis steps or an "
        "annotations.runbook_url [missing-annotation]\n"
        "0 errors, 3 warnings\n",
    )


def test_severities_are_not_checked_without_an_alert_routing_document(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / FIXTURE, repo)
    (repo / "routing.yaml").unlink()
    assert "unknown-severity" not in {f.rule for f in lint([repo]).findings}


def test_default_slo_severities_must_be_routed_too(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / FIXTURE, repo)
    routing = repo / "routing.yaml"
    routing.write_text(
        routing.read_text().replace('severity=~"warning|info"', 'severity=~"info|audit"')
    )
    found = [str(f) for f in lint([repo]).findings if f.rule == "unknown-severity"]
    assert [f.split(": ")[3].split(",")[0] for f in found] == [
        "alert `ShopAvailabilityBudgetBurn (ticket)` has severity `warning`",
        "alert `ShopQueueDeep` has severity `warning`",
        "alert `ShopNoOrders` has severity `warning`",
    ]


def test_an_unrouted_page_and_ticket_of_one_slo_are_each_flagged_once(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / FIXTURE, repo)
    routing = repo / "routing.yaml"
    text = routing.read_text().replace("{severity: critical}", "{severity: audit}")
    routing.write_text(text.replace('severity=~"warning|info"', 'severity="info"'))
    found = [f.message for f in lint([repo]).findings if f.rule == "unknown-severity"]
    slo = [m.split(",")[0] for m in found if "BudgetBurn" in m]
    assert slo == [
        "alert `ShopAvailabilityBudgetBurn (page)` has severity `critical`",
        "alert `ShopAvailabilityBudgetBurn (ticket)` has severity `warning`",
    ]


SETTINGS = """\
---
apiVersion: sloforge/v1
kind: Settings
runbook_base_url: https://git.example.com/slo/runbooks
dashboard_base_url: https://grafana.example.com
"""


UNTESTED = (
    "svc.yaml:6:5: warning: alerts[0].expr: free-form alert `SvcDown` has no `tests:`; add a "
    "promtool case that makes it fire and one that keeps it quiet (metric/above alerts get "
    "generated tests) [untested-alert]\n"
)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param("", "", (0, UNTESTED + "0 errors, 1 warning\n"), id="nothing disabled reports the finding"),
        pytest.param("== 0", "== 0  # sloforge-lint: disable=untested-alert", (0, "ok: no findings in 1 file\n"), id="a comment on the finding's line silences that rule there"),
        pytest.param("    expr:", "    # sloforge-lint: disable=for-duration, untested-alert\n    expr:", (0, "ok: no findings in 1 file\n"), id="a comment alone on the line above silences the rules it lists"),
        pytest.param("== 0", "== 0  # sloforge-lint: disable=for-duration", (0, UNTESTED + "0 errors, 1 warning\n"), id="a comment naming another rule silences nothing"),
        pytest.param("dashboard_base_url", "lint: {disable: [untested-alert]}\ndashboard_base_url", (0, "ok: no findings in 1 file\n"), id="Settings lint.disable silences a rule in the whole repository"),
        pytest.param(
            "dashboard_base_url",
            "lint: {disable: [untested-alerts]}\ndashboard_base_url",
            (
                1,
                UNTESTED + "svc.yaml:16:18: error: lint.disable[0]: unknown lint rule "
                "`untested-alerts`; choose from missing-annotation, unknown-severity, for-duration, "
                "short-range, rate-on-non-counter, duplicate-record, record-name, untested-alert, "
                "late-tier, relative-link [lint-settings]\n1 error, 1 warning\n",
            ),
            id="an unknown rule id in Settings is an error",
        ),
    ],
)  # fmt: skip
def test_a_rule_can_be_disabled_inline_or_in_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, old: str, new: str, expected: tuple[int, str]
) -> None:
    text = textwrap.dedent(WARNING_ONLY) + SETTINGS
    (tmp_path / "svc.yaml").write_text(text.replace(old, new, 1) if old else text)
    monkeypatch.chdir(tmp_path)
    assert sloforge("lint", "svc.yaml") == expected


def test_strict_fails_on_the_warnings_a_default_run_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "svc.yaml").write_text(textwrap.dedent(WARNING_ONLY) + SETTINGS)
    monkeypatch.chdir(tmp_path)
    assert sloforge("lint", "svc.yaml", "--strict") == (1, UNTESTED + "0 errors, 1 warning\n")


def test_a_baseline_alert_needs_no_summary_because_sloforge_writes_one(tmp_path: Path) -> None:
    body = WARNING_ONLY.replace(
        '        expr: up{job="svc"} == 0\n',
        "        metric: svc:orders:increase1h\n        baseline: {seasonal: {tolerance: 50}}\n",
    )
    without = body.replace("        summary: Down.\n", "")
    code, out = sloforge("lint", str(write(tmp_path, without)))
    assert (code, "has no summary" in out) == (0, False), out
    plain = WARNING_ONLY.replace("        summary: Down.\n", "")
    code, out = sloforge("lint", str(write(tmp_path, plain)))
    assert (code, "alert `SvcDown` has no summary" in out) == (0, True), out
