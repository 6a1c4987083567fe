"""`sloforge init DIR` writes a repository that passes every command as generated."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from toolbox import ROOT

SLOFORGE = str(Path(sys.executable).parent / "sloforge")
STARTER_FILES = [
    ".github/workflows/slo.yml",
    ".gitignore",
    ".gitlab-ci.yml",
    ".pre-commit-config.yaml",
    ".vscode/extensions.json",
    ".vscode/settings.json",
    "Makefile",
    "README.md",
    "slo/example-api.yaml",
    "slo/routing.yaml",
    "slo/settings.yaml",
    "sloforge.schema.json",
]
PLACEHOLDER = "sloforge @ git+https://github.com/<your-org>/sloforge@<tag-or-commit>"


def sloforge(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SLOFORGE, *args], cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("init") / "slos"
    result = sloforge("init", str(where))
    assert result.returncode == 0, result.stderr
    return where


def test_init_writes_the_starter_files_and_their_generated_output(repo: Path) -> None:
    written = files_under(repo)
    assert [f for f in written if not f.startswith("out/")] == STARTER_FILES
    assert "out/prometheus/rules/example-api.rules.yml" in written
    assert "out/alertmanager/alertmanager.yml" in written


def test_init_says_what_it_made_and_what_to_do_next(tmp_path: Path) -> None:
    result = sloforge("init", "new", cwd=tmp_path)
    assert result.returncode == 0
    generated = len(files_under(tmp_path / "new" / "out"))
    assert result.stdout == (
        f"created new: {len(STARTER_FILES)} files, and {generated} generated in new/out\n"
        "next: cd new && make && make test\n"
    )


@pytest.mark.parametrize(
    "command",
    [
        ["validate", "slo"],
        ["lint", "slo"],
        ["check", "slo", "--out", "out"],
        ["explain", "slo"],
    ],
    ids=["it validates", "it lints clean", "its out is up to date", "it explains"],
)
def test_the_new_repository_passes(repo: Path, command: list[str]) -> None:
    result = sloforge(*command, cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""  # no warnings either


def test_init_refuses_a_directory_that_is_not_empty_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine\n")
    result = sloforge("init", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr == (
        f"error: {tmp_path} is not empty; choose a new directory, or pass --force to add the "
        "starter files (existing files are kept, out/ is regenerated)\n"
    )
    assert files_under(tmp_path) == ["notes.txt"]


def test_init_refuses_a_file(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("")
    result = sloforge("init", str(tmp_path / "taken"))
    assert (result.returncode, result.stderr) == (
        1,
        f"error: {tmp_path / 'taken'}: exists and is not a directory\n",
    )


def test_force_adds_to_a_directory_and_keeps_what_is_there(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("ours\n")
    result = sloforge("init", "--force", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert f"kept existing {tmp_path / 'README.md'}\n" in result.stderr
    assert (tmp_path / "README.md").read_text() == "ours\n"
    assert (tmp_path / "slo" / "example-api.yaml").is_file()


def test_the_ci_files_install_the_sloforge_named_by_install(tmp_path: Path) -> None:
    pinned = "sloforge @ git+https://git.example.com/sre/sloforge@0123abcd"
    result = sloforge("init", "--install", pinned, str(tmp_path / "r"))
    assert result.returncode == 0, result.stderr
    github = yaml.safe_load((tmp_path / "r/.github/workflows/slo.yml").read_text())
    gitlab = yaml.safe_load((tmp_path / "r/.gitlab-ci.yml").read_text())
    assert github["env"]["SLOFORGE_INSTALL"] == pinned
    assert gitlab["variables"]["SLOFORGE_INSTALL"] == pinned
    assert "note: set SLOFORGE_INSTALL" not in result.stderr


def test_without_install_the_ci_files_keep_a_placeholder_and_init_says_so(repo: Path) -> None:
    # This test venv's sloforge is an editable install, not one from a git URL.
    github = yaml.safe_load((repo / ".github/workflows/slo.yml").read_text())
    assert github["env"]["SLOFORGE_INSTALL"] == PLACEHOLDER


def test_the_ci_files_are_the_published_examples(repo: Path) -> None:
    """examples/ci is what init writes, so the README's CI section shows one set of files."""
    assert (repo / ".github/workflows/slo.yml").read_text() == (
        ROOT / "examples/ci/github-actions.yml"
    ).read_text()
    assert (repo / ".gitlab-ci.yml").read_text() == (
        ROOT / "examples/ci/.gitlab-ci.yml"
    ).read_text()


def test_editors_find_the_schema(repo: Path) -> None:
    schema = sloforge("schema")
    assert (repo / "sloforge.schema.json").read_text() == schema.stdout
    settings = json.loads((repo / ".vscode/settings.json").read_text())
    assert settings["yaml.schemas"] == {"./sloforge.schema.json": ["slo/**/*.yaml", "slo/**/*.yml"]}
    for source in sorted((repo / "slo").glob("*.yaml")):
        first = source.read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=../sloforge.schema.json", source.name


def test_the_pre_commit_hooks_run_the_checks_on_the_whole_input(repo: Path) -> None:
    (local,) = yaml.safe_load((repo / ".pre-commit-config.yaml").read_text())["repos"]
    assert [h["entry"] for h in local["hooks"]] == [
        "sloforge validate slo",
        "sloforge lint slo",
        "sloforge check slo --out out",
    ]
    assert all(h["pass_filenames"] is False for h in local["hooks"])


@pytest.mark.slow
def test_every_make_target_of_the_new_repository_passes_with_real_promtool_and_amtool(
    tmp_path: Path,
) -> None:
    created = sloforge("init", "slos", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    repo = tmp_path / "slos"
    env = {**os.environ, "PATH": f"{Path(SLOFORGE).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        ["make", "validate", "lint", "generate", "check", "test"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "7 passed, 0 failed" in result.stdout
    diff = sloforge("diff", "out", "out", cwd=repo)
    assert diff.returncode == 0, diff.stderr


class _Installed:
    def __init__(self, direct_url: str | None) -> None:
        self.direct_url = direct_url

    def read_text(self, name: str) -> str | None:
        assert name == "direct_url.json"
        return self.direct_url


@pytest.mark.parametrize(
    ("direct_url", "pinned"),
    [
        (
            '{"url": "https://github.com/acme/sloforge.git", '
            '"vcs_info": {"vcs": "git", "commit_id": "75e8d08", "requested_revision": "v1"}}',
            "sloforge @ git+https://github.com/acme/sloforge.git@75e8d08",
        ),
        ('{"url": "file:///home/me/sloforge", "dir_info": {"editable": true}}', None),
        ('{"url": "file:///tmp/sloforge-0.1.0-py3-none-any.whl", "archive_info": {}}', None),
        (None, None),
    ],
    ids=[
        "a pipx install from git pins its URL and commit",
        "an editable install pins nothing",
        "a wheel pins nothing",
        "an install without PEP 610 data pins nothing",
    ],
)
def test_the_ci_files_pin_the_git_commit_sloforge_was_installed_from(
    monkeypatch: pytest.MonkeyPatch, direct_url: str | None, pinned: str | None
) -> None:
    from sloforge import init

    monkeypatch.setattr(init.metadata, "distribution", lambda name: _Installed(direct_url))
    assert init.installed_from() == pinned
