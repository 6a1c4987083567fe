"""The package map is the pipeline: each stage imports only the stages before it.

    errors                      base: the error hierarchy
    model/                      frozen domain model, conventions, PromQL, windows, burn model
    spec/      -> model         loading, spec models, foreign formats, validation, planning
    build/     -> model         one module per artifact, returning data
    output/    -> model         YAML/JSON emitters and the only writer
    review/    -> spec, build, output, model    lint, diff, check, explain
    tools/     -> output, model promtool/amtool runners and their reports
    live/      -> spec, build, output, model, pipeline   verify/status/gate/report on Prometheus
    migrate/   -> spec, output, model   import trees from Sloth/Pyrra/OpenSLO, migration report
    pipeline   -> everything but cli;   init -> pipeline, spec;   cli -> everything

The check reads every ``import`` in the package, including those inside functions,
so a lazy import cannot hide a back-reference or a cycle. `make lint` runs it.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "generator" / "sloforge"

# What each top-level part of the package may import (besides itself and errors).
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "model": set(),
    "spec": {"model"},
    "build": {"model"},
    "output": {"model"},
    "review": {"model", "spec", "build", "output", "pipeline"},
    "tools": {"model", "output"},
    "pipeline": {"model", "spec", "build", "output"},
    "live": {"model", "spec", "build", "output", "pipeline"},
    "migrate": {"model", "spec", "output"},
    "init": {"pipeline", "spec"},
    "__init__": {"pipeline", "model", "spec", "build", "output", "review", "tools", "live"},
    "cli": {
        "model",
        "spec",
        "build",
        "output",
        "review",
        "tools",
        "pipeline",
        "live",
        "migrate",
        "init",
        "__init__",
    },
}


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(["sloforge", *parts])


def _imports(path: Path, root: Path) -> set[str]:
    """Every sloforge module ``path`` imports, resolved to dotted names."""
    module = _module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "sloforge")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.split(".")[0] == "sloforge":
                target = node.module
            else:
                continue
            found.add(target)
            for alias in node.names:  # `from . import conventions` names a module
                if _exists(f"{target}.{alias.name}", root):
                    found.add(f"{target}.{alias.name}")
    return found


def _exists(module: str, root: Path) -> bool:
    rel = Path(*module.split(".")[1:])
    return (root / rel).with_suffix(".py").is_file() or (root / rel / "__init__.py").is_file()


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def import_graph(root: Path) -> dict[str, set[str]]:
    return {
        _module_name(path, root): {m for m in _imports(path, root) if _exists(m, root)}
        for path in sorted(root.rglob("*.py"))
    }


def boundary_violations(root: Path) -> list[str]:
    """``a imports b`` for every import that crosses the layers the wrong way."""
    found = []
    for module, imported in import_graph(root).items():
        allowed = ALLOWED[_part(module)] | {_part(module), "errors"}
        for target in sorted(imported):
            if _part(target) not in allowed:
                found.append(f"{module} imports {target}")
    return found


def cycles(root: Path) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm)."""
    graph = import_graph(root)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            # A package's __init__ importing its own modules is not a cycle of stages.
            if len(group) > 1:
                groups.append(sorted(group))

    for node in graph:
        if node not in index:
            visit(node)
    return groups


def test_every_module_belongs_to_a_known_layer():
    unknown = {_part(m) for m in import_graph(PACKAGE)} - set(ALLOWED)
    assert unknown == set()


def test_no_stage_imports_a_later_stage():
    assert boundary_violations(PACKAGE) == []


def test_no_import_cycles():
    assert cycles(PACKAGE) == []


@pytest.mark.parametrize(
    ("where", "planted", "expected"),
    [
        (
            "build/rules.py",
            "from ..spec.models import SLOSpec\n",
            "sloforge.build.rules imports sloforge.spec.models",
        ),
        (
            "model/windows.py",
            "def late():\n    from ..build import rules\n",
            "sloforge.model.windows imports sloforge.build.rules",
        ),
        (
            "spec/validate.py",
            "import sloforge.review.lint\n",
            "sloforge.spec.validate imports sloforge.review.lint",
        ),
    ],
    ids=["a builder importing a spec model", "a lazy back-import", "an absolute back-import"],
)
def test_the_check_fails_on_a_planted_back_import(tmp_path, where, planted, expected):
    copy = tmp_path / "sloforge"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / where
    target.write_text(target.read_text(encoding="utf-8") + "\n" + planted, encoding="utf-8")
    assert expected in boundary_violations(copy)


def test_the_check_finds_a_planted_cycle(tmp_path):
    copy = tmp_path / "sloforge"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    durations = copy / "model" / "durations.py"
    durations.write_text(
        durations.read_text(encoding="utf-8") + "\nfrom . import conventions\n", encoding="utf-8"
    )
    assert ["sloforge.model.conventions", "sloforge.model.durations"] in cycles(copy)
