"""The documentation's examples run: every ```console block of README.md and docs/*.md.

How a page is run (write examples to this):

- Each page runs in its own temporary copy of the repository (tracked and new
  files, without .venv, tools/ or tests/golden), with this virtual environment's
  ``sloforge`` first on PATH. Its blocks run in order and share that copy, so a
  page can build on what an earlier block did; ``cd`` carries over too.
- In a ```console block, a line starting with ``$ `` is a command (a line ending
  in ``\\`` continues on the next); the lines up to the next command are its
  output, stdout and stderr together, compared exactly.
- In expected output, a line that is only ``…`` stands for any number of lines,
  and ``…`` inside a line for any text (timings, say).
- A ```yaml block whose info string names a file (```yaml file=slo/checkout.yaml)
  is written to that path, relative to the current directory, when the page
  reaches it: a tutorial's files are the ones its commands then read.

Commands shown without output (installing, `make test`, anything needing a
network or a running server) go in ```sh blocks, which are not run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from toolbox import ROOT

BIN = Path(sys.executable).parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
ELLIPSIS = "…"
SKIP_COPY = {".venv", "tools", ".git", "dist", "build", ".mypy_cache", ".ruff_cache"}


@dataclass
class Command:
    line: int
    text: str
    expected: list[str] = field(default_factory=list)


@dataclass
class Step:
    """A console command to run, or a file to write."""

    line: int
    command: Command | None = None
    path: str | None = None
    content: str = ""


def steps(page: Path) -> list[Step]:
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Step] = []
    i = 0
    while i < len(lines):
        info = lines[i][3:].split() if lines[i].startswith("```") else []
        if not info or info[0] not in ("console", "yaml"):
            i += 1
            continue
        start = i + 1
        end = next(j for j in range(start, len(lines)) if lines[j].startswith("```"))
        body = lines[start:end]
        if info[0] == "console":
            found += _console(body, start + 1)
        else:
            names = [w.removeprefix("file=") for w in info[1:] if w.startswith("file=")]
            if names:
                found.append(Step(start, path=names[0], content="\n".join(body) + "\n"))
        i = end + 1
    return found


def _console(body: list[str], first_line: int) -> list[Step]:
    commands: list[Command] = []
    k = 0
    while k < len(body):
        line = body[k]
        if line.startswith("$ "):
            text, line_no = line[2:], first_line + k
            while text.endswith("\\") and k + 1 < len(body):
                k += 1
                text = text[:-1] + "\n" + body[k]
            commands.append(Command(line_no, text))
        elif commands:
            commands[-1].expected.append(line)
        else:
            raise AssertionError(f"line {first_line + k}: output before any `$ ` command")
        k += 1
    return [Step(c.line, command=c) for c in commands]


def matches(expected: list[str], actual: list[str]) -> bool:
    """Exact comparison, where a `…` line is any lines and `…` in a line any text."""
    pattern = "".join(
        r"(?:.*\n)*?" if line == ELLIPSIS else re.escape(line).replace(ELLIPSIS, ".*?") + r"\n"
        for line in expected
    )
    return re.fullmatch(pattern, "".join(a + "\n" for a in actual)) is not None


def sandbox(tmp: Path) -> Path:
    copy = tmp / "sloforge"

    def ignore(directory: str, names: list[str]) -> set[str]:
        here = Path(directory)
        skip = {n for n in names if n in SKIP_COPY or n == "__pycache__" or n.endswith(".egg-info")}
        if here == ROOT / "tests":
            skip.add("golden")
        return skip

    shutil.copytree(ROOT, copy, ignore=ignore, symlinks=True)
    return copy


def run_page(page: Path, tmp: Path) -> list[str]:
    """Run every step of ``page``; a description of each mismatch."""
    cwd = sandbox(tmp)
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "PYTHONUNBUFFERED": "1",
        "COLUMNS": "100",
        "NO_COLOR": "1",
    }
    env.pop("SLOFORGE_FAST", None)
    state = tmp / "cwd"
    problems = []
    for step in steps(page):
        if step.path is not None:
            target = cwd / step.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(step.content, encoding="utf-8")
            continue
        assert step.command is not None
        script = f"{step.command.text}\npwd > {state}"
        result = subprocess.run(
            ["bash", "-c", script],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=900,
            check=False,
        )
        if state.exists():
            cwd = Path(state.read_text().strip())
        actual = result.stdout.splitlines()
        if not matches(step.command.expected, actual):
            problems.append(
                f"{page.relative_to(ROOT)}:{step.line}: $ {step.command.text}\n"
                + "--- documented\n"
                + "\n".join(step.command.expected)
                + "\n--- printed\n"
                + "\n".join(actual)
            )
    return problems


def _needs_tools(page: Path) -> bool:
    """Pages whose commands start promtool or amtool are slow tests."""
    return any(
        s.command and re.search(r"\bsloforge test\b|\bmake test\b", s.command.text)
        for s in steps(page)
    )


@pytest.mark.parametrize(
    "page",
    [pytest.param(p, marks=[pytest.mark.slow] if _needs_tools(p) else []) for p in PAGES],
    ids=[f"{p.relative_to(ROOT)} shows what its commands print" for p in PAGES],
)
def test_every_console_block_prints_what_the_page_shows(page: Path, tmp_path: Path) -> None:
    problems = run_page(page, tmp_path)
    assert not problems, "\n\n".join(problems)


def test_every_page_is_checked() -> None:
    assert [p.name for p in PAGES if steps(p)] != []
    assert sum(1 for p in PAGES for s in steps(p) if s.command) >= 20


# --- the matcher itself -------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "actual", "result"),
    [
        (["ok: 3 files"], ["ok: 3 files"], True),
        (["ok: 4 files"], ["ok: 5 files"], False),
        (["a", "…", "z"], ["a", "b", "c", "z"], True),
        (["a", "…", "z"], ["a", "z"], True),
        (["a", "…", "z"], ["a", "b"], False),
        (["passed x (…s)"], ["passed x (12.5s)"], True),
        (["passed x (…s)"], ["passed y (12.5s)"], False),
        (["a"], ["a", "extra"], False),
        ([], [], True),
    ],
    ids=[
        "the same output matches",
        "a changed count does not",
        "an ellipsis line stands for lines",
        "an ellipsis line may stand for none",
        "the lines after an ellipsis must still come",
        "an ellipsis in a line stands for text",
        "the rest of that line must still match",
        "an extra line does not match",
        "no output matches no output",
    ],
)
def test_documented_output_matching(expected: list[str], actual: list[str], result: bool) -> None:
    assert matches(expected, actual) is result


def test_the_readme_starts_with_a_complete_example(tmp_path: Path) -> None:
    """The README's first YAML example is a whole file: it validates and lints clean."""
    from sloforge.init import init

    first = next(s for s in steps(ROOT / "README.md") if s.path is not None)
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.index("```yaml file=") == text.index("```yaml"), "the first yaml block is a file"
    repo = tmp_path / "repo"
    init(repo)
    (repo / "slo" / Path(first.path or "").name).write_text(first.content, encoding="utf-8")
    for command in (["validate", "slo"], ["lint", "slo"]):
        result = subprocess.run(
            [str(BIN / "sloforge"), *command], cwd=repo, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0 and result.stderr == "", result.stdout + result.stderr


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.DOTALL)
    return {_slug(h) for h in re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE)}


@pytest.mark.parametrize("page", PAGES, ids=[f"{p.relative_to(ROOT)} links" for p in PAGES])
def test_every_link_between_pages_resolves(page: Path) -> None:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.DOTALL)
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists() or (
            anchor and linked.suffix == ".md" and anchor not in _anchors(linked)
        ):
            broken.append(target)
    assert broken == []
