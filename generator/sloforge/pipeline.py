"""The library entry points: the whole pipeline, usable without the CLI."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from .build.alertmanager import build_alertmanager
from .build.dashboards import build_dashboards
from .build.promtests import test_documents, timing_hosts
from .build.rules import build_rules
from .build.runbooks import build_runbooks
from .build.targets import build_targets
from .errors import CompileError, Location, Problem, SpecError
from .model import conventions as names
from .model.artifacts import Files, YamlFile
from .model.domain import Project
from .output import yamlout
from .output.overlap import refuse_overlap
from .output.serialize import serialize
from .output.writer import write_tree
from .spec.bundle import Bundle
from .spec.foreign import TOOLS, convert_documents, convert_foreign, expand, format_key
from .spec.loader import Document, discover, is_stdin, load_file, load_paths, source_namer
from .spec.plan import plan
from .spec.userfiles import (
    RUNBOOKS_DIR,
    TEMPLATES_DIR,
    input_roots,
    load_user_files,
    orphan_runbooks,
)
from .spec.validate import validate_document, validate_documents

Artifact = Callable[[Project], Files]


@dataclass(frozen=True)
class Loaded:
    project: Project
    warnings: tuple[Problem, ...]


def read(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[Document], Bundle, list[Problem]]:
    """Load, convert foreign documents, validate: the documents read, the checked specs and
    every problem found (nothing raised)."""
    documents, problems = load_paths(paths)
    converted, errors = convert_foreign(documents)
    bundle, invalid = validate_documents(converted)
    return documents, bundle, [*problems, *errors, *invalid]


def load(paths: Iterable[str | os.PathLike[str]]) -> Loaded:
    """Load, convert, validate and plan; raises SpecError listing every problem found."""
    paths = list(paths)
    _, bundle, problems = read(paths)
    if problems:
        raise SpecError(problems)
    project = replace(plan(bundle, source_namer(paths)), user_files=load_user_files(paths))
    return Loaded(project, (*bundle.warnings, *orphan_runbooks(project)))


def prometheus_rules(project: Project) -> Files:
    return {
        names.rules_file(s.name): YamlFile(build_rules(s, project.settings), (s.source,))
        for s in project.services
    }


def promtool_tests(project: Project) -> Files:
    files: Files = {}
    hosts = timing_hosts(project.services)
    for service in project.services:
        docs, header = test_documents(service, project.settings, hosts)
        notes = tuple(header)
        for path, doc in docs.items():
            files[path] = YamlFile(doc, (service.source,), notes)
    return files


def _artifacts() -> list[Artifact]:
    """Every artifact builder, in the order they are listed in the output tree."""
    return [prometheus_rules, promtool_tests, build_dashboards, build_runbooks, build_alertmanager]


def build_outputs(project: Project, targets: Iterable[str] | None = None) -> dict[str, bytes]:
    """Every artifact, then each deployment target's files (``targets`` overrides the settings),
    serialized: build -> serialize, the two steps before writing."""
    files: dict[str, bytes] = {}
    for built in _build_artifacts(project, targets):
        files.update(built)
    return dict(sorted(files.items()))


# Below this many SLOs a second process costs more than it saves.
PARALLEL_FROM_SLOS = 500
_forked_project: Project | None = None  # what a forked worker builds from


def _build_artifacts(project: Project, targets: Iterable[str] | None) -> list[dict[str, bytes]]:
    """Each artifact's files; large projects build the promtool tests (the biggest
    artifact) here while a forked worker builds the others on a second core."""
    chosen = None if targets is None else list(targets)
    if _jobs(project) < 2:
        return [serialize(promtool_tests(project)), _the_rest(project, chosen)]
    global _forked_project
    _forked_project = project
    try:
        with multiprocessing.get_context("fork").Pool(1) as pool:
            pending = pool.apply_async(_build_in_worker, (chosen,))
            here = serialize(promtool_tests(project))
            built = pending.get()
    finally:
        _forked_project = None
    if built is None:  # the worker failed: build here, so the error surfaces as it would
        built = _the_rest(project, chosen)
    return [here, built]


def _the_rest(project: Project, targets: list[str] | None) -> dict[str, bytes]:
    """Every artifact but the promtool tests, and the deployment targets made from their data."""
    files: Files = {}
    for artifact in _artifacts():
        if artifact is not promtool_tests:
            files.update(artifact(project))
    files.update(build_targets(project, files, targets))
    return serialize(files)


def _build_in_worker(targets: list[str] | None) -> dict[str, bytes] | None:
    assert _forked_project is not None
    try:
        return _the_rest(_forked_project, targets)
    except Exception:  # errors need not pickle; the parent rebuilds and raises them
        return None


def _jobs(project: Project) -> int:
    """$SLOFORGE_JOBS (1: one process; more: two), else 2 for a large project on 2+ cores."""
    raw = os.environ.get("SLOFORGE_JOBS", "")
    if raw:
        if not raw.isdigit() or int(raw) < 1:
            message = f"$SLOFORGE_JOBS must be a number of processes, 1 or more (got {raw!r})"
            raise CompileError(message)
        return int(raw)
    slos = sum(len(service.slos) for service in project.services)
    if slos < PARALLEL_FROM_SLOS or not hasattr(os, "fork"):
        return 1
    return min(2, len(os.sched_getaffinity(0)))


def generate(
    paths: Iterable[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    targets: Iterable[str] | None = None,
) -> tuple[Loaded, dict[str, bytes]]:
    paths = list(paths)
    separate(paths, out)
    loaded = load(paths)
    files = build_outputs(loaded.project, targets)
    write_tree(Path(out), files, owned=output_folders())
    return loaded, files


def output_folders() -> set[str]:
    """Every top-level name an output tree may hold: the artifacts' folders and every target's."""
    from .build.targets import TARGETS

    return {*names.OUTPUT_FOLDERS, *TARGETS}


def _detected_tool(documents: list[Document]) -> str | None:
    """The one foreign tool whose documents these are (None: unknown or mixed)."""
    keys = {format_key(d.data) for doc in documents for d in expand(doc)}
    tools = {t for t, accepted in TOOLS.items() for key in keys if key in accepted}
    return tools.pop() if len(tools) == 1 and None not in keys else None


def separate(paths: Iterable[str | os.PathLike[str]], out: str | os.PathLike[str]) -> None:
    """Refuse an output directory that overlaps the inputs (see output/overlap.py)."""
    given = [Path(p) for p in paths if not is_stdin(p)]
    beside = [root / d for root in input_roots(given) for d in (RUNBOOKS_DIR, TEMPLATES_DIR)]
    refuse_overlap([*given, *discover(given), *beside], Path(out))


def import_file(tool: str | None, path: str) -> str:
    """``sloforge import [TOOL] FILE``: the equivalent sloforge/v1 YAML, validated first.
    Without ``tool`` the format is read from the documents' version fields."""
    if tool is not None and tool not in TOOLS:
        raise CompileError(f"unknown format {tool!r}; choose from {', '.join(TOOLS)}")
    documents, problems = load_file(Path(path))
    if problems:
        raise SpecError(problems)
    tool = tool or _detected_tool(documents)
    converted, problems = convert_documents(documents, tool)
    if not problems and not converted:
        problems.append(
            Problem(
                Location(path),
                "",
                f"holds no {tool or 'foreign'} SLO to convert (OpenSLO SLI, AlertPolicy… are read "
                f"only inlined in an SLO)",
            )
        )
    for document in converted:
        problems += validate_document(document)[1]
    if problems:
        raise SpecError(problems)
    command = f"sloforge import {tool}" if tool else "sloforge import"
    header = f"# Converted by `{command}` from {path}. Review, then commit it as your source.\n"
    return header + "---\n".join(yamlout.dump(document.data) for document in converted)
