"""`sloforge diff`: a reviewer's Markdown summary of two output trees or two git commits."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml
from sloforge.cli import app
from sloforge.review.diff import Side, diff
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def sloforge(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def generate(repo: Path, out: str = "out") -> Path:
    with contextlib.chdir(repo):
        code, _, err = sloforge("generate", "slo", "--out", out)
    assert code == 0, err
    return repo / out


def edit(repo: Path, file: str, old: str, new: str) -> None:
    path = repo / "slo" / file
    text = path.read_text()
    assert old in text, f"{old!r} not in {file}"
    path.write_text(text.replace(old, new, 1))


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("base")
    shutil.copytree(ROOT / "slo", repo / "slo")
    generate(repo)
    return repo


@pytest.fixture
def changed(base: Path, tmp_path: Path) -> Path:
    """A copy of the base inputs to edit; generate() it after editing."""
    shutil.copytree(base / "slo", tmp_path / "slo")
    return tmp_path


def markdown(old: Path, new: Path) -> str:
    code, out, err = sloforge("diff", str(old), str(new))
    assert (code, err) == (0, "")
    return out


def section(text: str, title: str) -> list[str]:
    """The lines of one ``### title`` section."""
    lines = text.split(f"### {title}\n", 1)[1].split("\n### ", 1)[0]
    return [line for line in lines.splitlines() if line]


def test_identical_trees_have_no_changes(base: Path) -> None:
    out = base / "out"
    assert markdown(out, out) == (
        f"## sloforge diff: `{out}` → `{out}`\n\nNo changes in the generated output.\n"
    )


def test_a_changed_objective_shows_the_budget_in_minutes_before_and_after(
    base: Path, changed: Path
) -> None:
    edit(changed, "payments-api.yaml", "objective: 99.9 ", "objective: 99.5 ")
    text = markdown(base / "out", generate(changed))
    assert section(text, "SLOs") == [
        "- **changed** `payments-api` / `availability`: objective 99.9% → 99.5%: "
        "budget 43.2 → 216 minutes per calendar month (30d) "
        "(4 recording rules follow the new budget)"
    ]
    alerts = section(text, "Alerts")
    assert alerts[:3] == [
        "- **changed** `payments-api` **PaymentsApiAvailabilityBudgetBurn** (page, 1h/5m)",
        "  - threshold > 0.0144 → > 0.072",
        "  - annotations changed: description",
    ]
    assert len([line for line in alerts if line.startswith("- ")]) == 4  # one per tier
    assert "### Recording rules" not in text  # the budget recordings are told on the SLO line


def test_a_changed_window_shows_both_budgets_with_their_windows(base: Path, changed: Path) -> None:
    edit(changed, "checkout.yaml", "window: 28d", "window: 30d")
    text = markdown(base / "out", generate(changed))
    assert section(text, "SLOs")[0] == (
        "- **changed** `checkout` / `availability`: window 28d → 30d: "
        "budget 201.6 minutes per 28d → 216 minutes per 30d"
    )


def test_a_rolling_window_made_a_calendar_month_shows_the_new_period(
    base: Path, changed: Path
) -> None:
    edit(changed, "checkout.yaml", "window: 28d", "window: month")
    text = markdown(base / "out", generate(changed))
    assert section(text, "SLOs")[0] == (
        "- **changed** `checkout` / `availability`: window 28d → calendar month: "
        "budget 201.6 minutes per 28d → 216 minutes per calendar month (30d)"
    )


def test_plain_alert_threshold_for_and_severity_changes_are_listed(
    base: Path, changed: Path
) -> None:
    edit(
        changed,
        "checkout.yaml",
        "above: 0.05\n    for: 2m\n    severity: critical",
        "above: 0.08\n    for: 5m\n    severity: warning",
    )
    text = markdown(base / "out", generate(changed))
    assert section(text, "Alerts") == [
        "- **changed** `checkout` **CheckoutGatewayErrorRateHigh**",
        "  - threshold > 0.05 → > 0.08",
        "  - for 2m → 5m",
        "  - severity critical → warning",
        # A warning does not escalate: the P1 escalation of the alert goes.
        "- **removed** `checkout` **CheckoutGatewayErrorRateHighEscalated**: escalated, for 5m",
    ]
    assert "### SLOs" not in text  # nothing listed that did not change


def test_a_changed_rule_expression_is_shown_as_a_small_diff(base: Path, changed: Path) -> None:
    edit(
        changed,
        "payments-api.yaml",
        'expr: sum by (job) (rate(app_exceptions_total{job="payments-api"}[5m]))',
        'expr: sum by (job) (rate(app_exceptions_total{job="payments-api", handled="false"}[5m]))',
    )
    text = markdown(base / "out", generate(changed))
    assert section(text, "Recording rules") == [
        "- **changed** `payments-api` `job:payments_app_exceptions:rate5m`",
        "  ```diff",
        '  -sum by (job) (rate(app_exceptions_total{job="payments-api"}[5m]))',
        '  +sum by (job) (rate(app_exceptions_total{job="payments-api", handled="false"}[5m]))',
        "  ```",
    ]


def test_added_and_removed_slos_and_alerts_are_listed_in_a_stable_order(
    base: Path, changed: Path
) -> None:
    edit(changed, "payments-api.yaml", "  - name: external-probe", "  - name: public-probe")
    edit(changed, "platform-saturation.yaml", "name: NodeCpuBusy", "name: NodeCpuHot")
    text = markdown(base / "out", generate(changed))
    # Sorted by service and name, so the order never depends on the files' order.
    # The rule counts belong to the rule builder; this test pins the line's shape.
    slos = [line.split(" recording rules)")[0].rsplit(", ", 1)[0] for line in section(text, "SLOs")]
    assert slos == [
        "- **removed** `payments-api` / `external-probe`: objective 99.5%: "
        "budget 216 minutes per 30d (6 alert rules",
        "- **added** `payments-api` / `public-probe`: objective 99.5%: "
        "budget 216 minutes per 30d (6 alert rules",
    ]
    alerts = [line for line in section(text, "Alerts") if line.startswith("- ")]
    assert alerts == [
        "- **removed** `platform` **NodeCpuBusy**: info, for 30m",
        "- **added** `platform` **NodeCpuHot**: info, for 30m",
    ]
    assert "  ```promql" in section(text, "Alerts")  # an added alert shows its expression
    assert markdown(base / "out", changed / "out") == text  # byte-identical on a rerun


AM_OLD = """\
    route:
      receiver: noc-email
      routes:
        - {receiver: oncall-pager, matchers: ['severity="critical"'], continue: true}
        - {receiver: payments-slack, matchers: ['severity="critical"']}
        - {receiver: payments-slack, matchers: ['severity="warning"'], repeat_interval: 4h}
    receivers:
      - {name: noc-email, email_configs: [{to: noc@example.com}]}
      - {name: oncall-pager, pagerduty_configs: [{routing_key_file: /secrets/pd}]}
      - name: payments-slack
        slack_configs: [{channel: '#payments-alerts', api_url_file: /secrets/slack}]
"""


def am_tree(root: Path, config: str | None) -> Path:
    if config is not None:
        (root / "alertmanager").mkdir(parents=True)
        (root / "alertmanager/alertmanager.yml").write_text(textwrap.dedent(config))
    else:
        root.mkdir(parents=True)
    return root


def test_routing_changes_name_receivers_and_routes(tmp_path: Path) -> None:
    new = (
        AM_OLD.replace("#payments-alerts", "#payments-oncall")
        .replace(
            "{receiver: payments-slack, matchers: ['severity=\"critical\"']}",
            "{receiver: sre-slack, matchers: ['severity=\"critical\"']}",
        )
        .replace("repeat_interval: 4h", "repeat_interval: 12h")
    )
    text = markdown(am_tree(tmp_path / "a", AM_OLD), am_tree(tmp_path / "b", new))
    assert section(text, "Routing (alertmanager.yml)") == [
        "- **changed** receiver `payments-slack`: `slack_configs[0].channel` "
        "#payments-alerts → #payments-oncall",
        '- **changed** route `severity="critical"`: `receivers` [oncall-pager, payments-slack] '
        "→ [oncall-pager, sre-slack]",
        '- **changed** route `severity="warning"`: `repeat_interval` 4h → 12h',
    ]


def test_a_missing_alertmanager_configuration_is_handled(tmp_path: Path) -> None:
    none = am_tree(tmp_path / "none", None)
    some = am_tree(tmp_path / "some", AM_OLD)
    assert "Routing" not in markdown(none, am_tree(tmp_path / "none2", None))
    assert section(markdown(none, some), "Routing (alertmanager.yml)") == [
        "- **added** `alertmanager/alertmanager.yml`"
    ]


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        check=True,
        capture_output=True,
        timeout=60,
    )


def test_two_git_commits_compare_their_committed_output(base: Path, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(base / "slo", repo / "slo")
    shutil.copytree(base / "out", repo / "out")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    edit(repo, "payments-api.yaml", "objective: 99.9 ", "objective: 99.5 ")
    generate(repo)
    git(repo, "commit", "-qam", "looser objective")

    code, out, err = sloforge("diff", "HEAD~1", "HEAD", "--repo", str(repo))

    assert (code, err) == (0, "")
    assert out.startswith("## sloforge diff: `HEAD~1` → `HEAD`\n")
    assert "objective 99.9% → 99.5%: budget 43.2 → 216 minutes per calendar month (30d)" in out


def test_a_commit_without_committed_output_is_noted(base: Path, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(base / "slo", repo / "slo")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "inputs only")
    shutil.copytree(base / "out", repo / "out")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "output")

    code, out, _ = sloforge("diff", "HEAD~1", "HEAD", "--repo", str(repo))

    assert code == 0
    assert "> `HEAD~1` has no committed `out/`" in out.splitlines()
    assert "- **added** `payments-api` / `availability`" in out


def test_an_argument_that_is_neither_a_directory_nor_a_commit_is_an_error(tmp_path: Path) -> None:
    code, _, err = sloforge("diff", str(tmp_path), "no-such-ref", "--repo", str(tmp_path))
    assert code == 1
    assert (
        err == f"error: no-such-ref: neither an output directory nor a git commit in {tmp_path}\n"
    )


def test_the_library_call_needs_no_cli(base: Path) -> None:
    files = {"runbooks/x/Y.md": b"# Y\n"}
    report = diff(Side("old", {"runbooks/x/Z.md": b"# Z\n"}), Side("new", files))
    assert report.summary() == "1 other file added, 1 other file removed"


def test_a_huge_diff_is_cut_to_fit_a_pull_request_comment_with_its_blocks_closed() -> None:
    files = {f"runbooks/svc/Alert{i:05d}.md": b"# runbook\n" for i in range(5000)}
    text = diff(Side("old", {}), Side("new", files)).markdown()
    assert len(text) <= 60_000
    assert text.endswith(
        "\n\n</details>\n\n… truncated; run `sloforge diff` locally for the rest.\n"
    )


def test_many_alerts_with_the_same_change_are_listed_once(base: Path, tmp_path: Path) -> None:
    new = tmp_path / "out"
    shutil.copytree(base / "out", new)
    rules = new / "prometheus/rules/platform.rules.yml"
    rules.write_text(rules.read_text().replace("    labels:\n", "    labels:\n      env: prod\n"))
    text = markdown(base / "out", new)
    lines = section(text, "Alerts")
    # 13 alerts and the 4 escalations of its P1 (critical) alerts.
    assert lines[:2] == ["- **changed** 17 alert rules alike", "  - labels +`env=prod`"]
    assert lines[2].startswith(
        "  <details><summary>which</summary>platform ContainerRestartingOften, "
    )
    assert len(lines) == 3
    assert text.splitlines()[2] == "**17 alert rules changed**"


def test_a_label_on_every_rule_of_a_service_is_one_line_per_kind(base: Path, changed: Path) -> None:
    edit(changed, "checkout.yaml", 'labels: {tier: "2"}', 'labels: {tier: "3"}')
    text = markdown(base / "out", generate(changed))
    rules = yaml.safe_load((base / "out/prometheus/rules/checkout.rules.yml").read_text())
    tiered = [r for g in rules["groups"] for r in g["rules"] if "tier" in r.get("labels", {})]
    n_alerts = sum(1 for r in tiered if "alert" in r)
    alerts, records = section(text, "Alerts"), section(text, "Recording rules")
    assert alerts[:2] == [f"- **changed** {n_alerts} alert rules alike", "  - labels `tier` 2 → 3"]
    assert records[:2] == [
        f"- **changed** {len(tiered) - n_alerts} recording rules alike",
        "  - labels `tier` 2 → 3",
    ]
    assert len(alerts) == len(records) == 3


FAN_OUT = [
    pytest.param(
        "{receiver: payments-slack, matchers: ['severity=\"critical\"']}",
        "{receiver: payments-slack, matchers: ['severity=\"critical\"'], continue: true}\n"
        "        - {receiver: sre-slack, matchers: ['severity=\"critical\"']}",
        '- **changed** route `severity="critical"`: `receivers` [oncall-pager, payments-slack] '
        "→ [oncall-pager, payments-slack, sre-slack]",
        id="a receiver added to a fan-out reads as a change of that route",
    ),
    pytest.param(
        "{receiver: oncall-pager, matchers: ['severity=\"critical\"'], continue: true}\n"
        "        - {receiver: payments-slack, matchers: ['severity=\"critical\"']}",
        "{receiver: oncall-pager, matchers: ['severity=\"critical\"']}",
        '- **changed** route `severity="critical"`: `receivers` [oncall-pager, payments-slack] '
        "→ [oncall-pager]",
        id="a receiver removed from a fan-out reads as a change, not a removal",
    ),
    pytest.param(
        "repeat_interval: 4h}",
        "repeat_interval: 4h, continue: true}",
        '- **changed** route `severity="warning"`: +`continue=true`',
        id="a continue flag reads as YAML writes it, never as a Python repr",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), FAN_OUT)
def test_fan_out_and_flag_changes_read_as_route_changes(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert old in AM_OLD
    after = AM_OLD.replace(old, new, 1)
    text = markdown(am_tree(tmp_path / "a", AM_OLD), am_tree(tmp_path / "b", after))
    assert text == (
        f"## sloforge diff: `{tmp_path / 'a'}` → `{tmp_path / 'b'}`\n\n"
        "**1 routing change**\n\n"
        "### Routing (alertmanager.yml)\n\n"
        f"{expected}\n"
    )


def test_a_changed_latency_threshold_is_an_slo_change_in_the_summary(
    base: Path, changed: Path
) -> None:
    edit(changed, "checkout.yaml", "threshold: 2.5", "threshold: 1")
    text = markdown(generate(base), generate(changed))
    assert text.split("### Other generated files")[0] == (
        f"## sloforge diff: `{base / 'out'}` → `{changed / 'out'}`\n\n"
        "**1 SLO changed, 7 other files changed**\n\n"
        "### SLOs\n\n"
        "- **changed** `checkout` / `latency`: latency threshold 2.5s → 1s "
        "(1 recording rule follows the new SLI)\n\n"
    )


def test_a_changed_sli_query_is_an_slo_change(base: Path, changed: Path) -> None:
    edit(changed, "checkout.yaml", 'http_route="/api/orders"', 'http_route="/api/v2/orders"')
    text = markdown(generate(base), generate(changed))
    assert section(text, "SLOs")[0].startswith(
        "- **changed** `checkout` / `latency`: SLI `http_route` /api/orders → /api/v2/orders"
    )
    assert text.splitlines()[2].startswith("**1 SLO changed")
