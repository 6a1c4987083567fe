"""Hand-maintained files beside the input documents: edited runbooks and template overrides.

For every input path, its directory (or, for a file, the directory holding it)
may contain:

- ``runbooks/<service>/<Alert>.md``: a runbook a person maintains. It is copied
  to ``out/runbooks/<service>/<Alert>.md`` unchanged instead of the generated
  stub, so regenerating never overwrites it (the output tree itself is replaced
  on every run).
- ``templates/<name>``: replaces the default template of the same name (e.g.
  ``templates/runbooks/burn-rate.md.j2``), file by file.

They are read here, in the load stage, so that builders stay pure functions of
the ``Project``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import jinja2

from ..errors import Location, Problem, SpecError
from ..model import conventions as names
from ..model import gotemplate
from ..model.domain import Project, UserFiles
from .loader import dangling, is_stdin

RUNBOOKS_DIR = "runbooks"
TEMPLATES_DIR = "templates"
MAX_FILE_BYTES = 1024 * 1024


def input_roots(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The directories holding the input: each directory given, or a file's own directory."""
    roots: list[Path] = []
    for raw in paths:
        if is_stdin(raw):  # a document on standard input has no folder of its own
            continue
        path = Path(raw)
        root = path if path.is_dir() else path.parent
        if all(root.resolve() != seen.resolve() for seen in roots):
            roots.append(root)
    return roots


def load_user_files(paths: Iterable[str | os.PathLike[str]]) -> UserFiles:
    """Every runbook and template override under the input roots; conflicts are errors."""
    runbooks: dict[str, bytes] = {}
    templates: dict[str, str] = {}
    origins: dict[str, str] = {}  # "runbooks/<key>" or "templates/<key>" -> file
    problems: list[Problem] = []
    roots = input_roots(paths)
    real_roots = [root.resolve() for root in roots]
    for root in roots:
        for key, file in _files(root / RUNBOOKS_DIR, "*.md"):
            if _refused(file, real_roots, problems):
                continue
            _add(runbooks, origins, problems, key, f"{RUNBOOKS_DIR}/{key}", file, file.read_bytes())
        for key, file in _files(root / TEMPLATES_DIR, "*"):
            if _refused(file, real_roots, problems):
                continue
            data = file.read_bytes()
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                problems.append(
                    Problem(Location(file.as_posix()), "", "template is not valid UTF-8 text")
                )
                continue
            broken = template_problem(file, text)
            if broken is not None:
                problems.append(broken)
                continue
            _add(templates, origins, problems, key, f"{TEMPLATES_DIR}/{key}", file, text)
    if problems:
        raise SpecError(problems)
    return UserFiles(
        runbooks=tuple(sorted(runbooks.items())),
        templates=tuple(sorted(templates.items())),
        origins=tuple(sorted(origins.items())),
    )


def template_problem(file: Path, text: str) -> Problem | None:
    """A template override that would not parse where it is used: Alertmanager's Go templates
    (``*.tmpl``; amtool check-config refuses them) and runbook Jinja2 templates (``*.j2``)."""
    where = file.as_posix()
    if file.suffix == ".tmpl":
        try:
            gotemplate.check(text, gotemplate.ALERTMANAGER_FUNCTIONS)
        except gotemplate.TemplateError as exc:
            return Problem(Location(where), "", f"Alertmanager cannot parse this template: {exc}")
    elif file.suffix == ".j2":
        try:
            jinja2.Environment().parse(text)
        except jinja2.TemplateSyntaxError as exc:
            return Problem(
                Location(where, exc.lineno, 1), "", f"Jinja2 syntax error: {exc.message}"
            )
    return None


def _refused(file: Path, real_roots: list[Path], problems: list[Problem]) -> bool:
    """A kept file that is a link (or lies in a linked folder) leading outside every input root
    is refused: it would copy a file from elsewhere on the machine into the output."""
    if file.is_symlink() and not file.exists():
        problems.append(dangling(file))
        return True
    real = file.resolve()
    if any(root == real or root in real.parents for root in real_roots):
        return False
    message = "is a link leading outside the input directories; keep the file itself here"
    problems.append(Problem(Location(file.as_posix()), "", message))
    return True


def _files(directory: Path, pattern: str) -> list[tuple[str, Path]]:
    if not directory.is_dir():
        return []
    found = []
    for file in sorted(directory.rglob(pattern)):
        if file.is_symlink() and not file.exists():
            found.append((file.relative_to(directory).as_posix(), file))  # _leaves refuses it
        elif file.is_file() and not file.name.startswith("."):
            found.append((file.relative_to(directory).as_posix(), file))
    return found


def _add(
    into: dict,  # type: ignore[type-arg]
    origins: dict[str, str],
    problems: list[Problem],
    key: str,
    origin_key: str,
    file: Path,
    content: bytes | str,
) -> None:
    where = file.as_posix()
    if file.stat().st_size > MAX_FILE_BYTES:
        problems.append(
            Problem(Location(where), "", f"file is larger than {MAX_FILE_BYTES // 1024} KiB")
        )
        return
    if key in into and into[key] != content:
        problems.append(
            Problem(Location(where), "", f"conflicts with {origins[origin_key]}: keep one of them")
        )
        return
    into[key] = content
    origins.setdefault(origin_key, where)


def orphan_runbooks(project: Project) -> list[Problem]:
    """Warnings for hand-maintained runbooks that no alert uses any more (they are not copied)."""
    wanted = {names.runbook_file(service, alert) for service, alert in alert_names(project)}
    origins = dict(project.user_files.origins)
    return [
        Problem(
            Location(origins.get(f"{RUNBOOKS_DIR}/{key}", key)),
            "",
            "no alert uses this runbook (was its alert renamed or removed?); it is not copied",
            warning=True,
        )
        for key, _ in project.user_files.runbooks
        if f"{RUNBOOKS_DIR}/{key}" not in wanted
    ]


def alert_names(project: Project) -> list[tuple[str, str]]:
    """(service, alert) of every generated alert: one per burn-rate SLO, one per plain alert."""
    found: list[tuple[str, str]] = []
    for service in project.services:
        found += [(service.name, slo.alert_name) for slo in service.slos if slo.tiers]
        found += [(service.name, alert.name) for alert in service.alerts]
        found += [(service.name, slo.absent.name) for slo in service.slos if slo.absent]
    return sorted(set(found))
