"""The CI examples and pre-commit hooks run the commands the README's "Use in CI" section shows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from sloforge.cli import app
from typer.main import get_command

ROOT = Path(__file__).resolve().parent.parent
GITHUB = ROOT / "examples/ci/github-actions.yml"
GITLAB = ROOT / "examples/ci/.gitlab-ci.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"


def readme_commands() -> list[str]:
    """The sloforge commands of the README's "Use in CI" block, comments removed."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Use in CI\n", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]


def github_steps() -> list[str]:
    jobs = yaml.safe_load(GITHUB.read_text())["jobs"]
    return [step.get("run", "") for job in jobs.values() for step in job["steps"]]


def gitlab_scripts() -> list[str]:
    config = yaml.safe_load(GITLAB.read_text())
    return [
        line for job in config.values() if isinstance(job, dict) for line in job.get("script", [])
    ]


def test_the_readme_lists_the_ci_commands() -> None:
    assert [c.split()[1] for c in readme_commands()] == [
        "validate",
        "lint",
        "check",
        "test",
        "diff",
    ]


@pytest.mark.parametrize(
    "example", [GITHUB, GITLAB], ids=["the GitHub workflow", "the GitLab pipeline"]
)
def test_each_example_runs_the_readme_commands(example: Path) -> None:
    lines = github_steps() if example == GITHUB else gitlab_scripts()
    text = "\n".join(lines)
    for command in readme_commands():
        if command.startswith("sloforge diff"):
            # The base branch comes from the CI system's variables.
            assert re.search(r"sloforge diff \"\S+\" HEAD > slo-diff\.md", text), example
        elif command.startswith("sloforge lint") and example == GITLAB:
            assert "sloforge lint slo" in lines  # annotations are GitHub's format
        elif command.startswith("sloforge test") and example == GITLAB:
            # One shell step: the default branch runs every test, other branches what changed.
            assert f"  {command}\n" in text, example
            assert f'  {command} --changed-since "origin/$CI_DEFAULT_BRANCH"\n' in text, example
        else:
            assert command in lines, f"{command!r} not run by {example.name}"


def test_pull_requests_test_only_what_changed_and_main_tests_everything() -> None:
    steps = yaml.safe_load(GITHUB.read_text())["jobs"]["slo"]["steps"]
    tests = [(s.get("if"), s["run"]) for s in steps if s.get("run", "").startswith("sloforge test")]
    assert tests == [
        (
            "github.event_name != 'pull_request'",
            "sloforge test --out out --junit sloforge-junit.xml",
        ),
        (
            "github.event_name == 'pull_request'",
            'sloforge test --out out --junit sloforge-junit.xml --changed-since "$BASE"',
        ),
    ]


def test_the_github_workflow_posts_the_diff_as_a_pull_request_comment() -> None:
    post = next(step for step in github_steps() if "sloforge diff" in step)
    assert 'gh pr comment "$PR" --body-file slo-diff.md' in post


def test_every_command_the_examples_and_hooks_use_exists() -> None:
    known = set(get_command(app).commands)  # type: ignore[attr-defined]
    hooks = yaml.safe_load(HOOKS.read_text())
    used = {h["entry"].split()[1] for h in hooks}
    for text in (GITHUB.read_text(), GITLAB.read_text()):
        used |= set(re.findall(r"^\s*(?:- |run: )?sloforge (\w+)", text, re.MULTILINE))
    assert used == {"validate", "lint", "check", "test", "diff"}
    assert used <= known, used - known


def test_the_pre_commit_hooks_are_the_three_checks_of_the_whole_input() -> None:
    hooks = yaml.safe_load(HOOKS.read_text())
    assert [(h["id"], h["entry"], h["args"]) for h in hooks] == [
        ("sloforge-validate", "sloforge validate", ["slo"]),
        ("sloforge-check", "sloforge check", ["slo", "--out", "out"]),
        ("sloforge-lint", "sloforge lint", ["slo"]),
    ]
    assert all(h["language"] == "python" and h["pass_filenames"] is False for h in hooks)
