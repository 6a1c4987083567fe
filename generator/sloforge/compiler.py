"""The library entry points: the whole pipeline, usable without the CLI."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from . import conventions as names
from . import yamlout
from .alertmanager import build_alertmanager
from .dashboards import build_dashboards
from .errors import Problem, SpecError
from .loader import load_paths
from .model import Project
from .plan import plan
from .promtests import test_documents
from .rules import build_rules
from .runbooks import build_runbooks
from .userfiles import load_user_files, orphan_runbooks
from .validate import validate_documents
from .writer import write_tree

Artifact = Callable[[Project], dict[str, bytes]]


@dataclass(frozen=True)
class Loaded:
    project: Project
    warnings: tuple[Problem, ...]


def load(paths: Iterable[str | os.PathLike[str]]) -> Loaded:
    """Load, validate and plan; raises SpecError listing every problem found."""
    paths = list(paths)
    documents, problems = load_paths(paths)
    bundle, errors = validate_documents(documents)
    problems += errors
    if problems:
        raise SpecError(problems)
    project = replace(plan(bundle), user_files=load_user_files(paths))
    return Loaded(project, (*bundle.warnings, *orphan_runbooks(project)))


def prometheus_rules(project: Project) -> dict[str, bytes]:
    return {
        names.rules_file(s.name): yamlout.document(build_rules(s, project.settings), [s.source])
        for s in project.services
    }


def promtool_tests(project: Project) -> dict[str, bytes]:
    files = {}
    for service in project.services:
        docs, untested = test_documents(service, project.settings)
        notes = "".join(f"# untested: {reason}\n" for reason in untested)
        for path, doc in docs.items():
            files[path] = (yamlout.header([service.source]) + notes + yamlout.dump(doc)).encode("utf-8")
    return files


def _artifacts() -> list[Artifact]:
    """Every artifact builder, in the order they are listed in the output tree."""
    return [prometheus_rules, promtool_tests, build_dashboards, build_runbooks, build_alertmanager]


def build_outputs(project: Project, targets: Iterable[str] | None = None) -> dict[str, bytes]:
    """Every artifact, then each deployment target's files (``targets`` overrides the settings)."""
    from .targets import build_targets

    files: dict[str, bytes] = {}
    for artifact in _artifacts():
        files.update(artifact(project))
    files.update(build_targets(project, files, targets))
    return dict(sorted(files.items()))


def generate(
    paths: Iterable[str | os.PathLike[str]], out: str | os.PathLike[str], targets: Iterable[str] | None = None
) -> tuple[Loaded, dict[str, bytes]]:
    loaded = load(paths)
    files = build_outputs(loaded.project, targets)
    write_tree(Path(out), files)
    return loaded, files
