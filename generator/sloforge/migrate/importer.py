"""``sloforge import``: Sloth, Pyrra and OpenSLO files and trees in, sloforge/v1 YAML out.

Every file under the given paths is read; its foreign documents are converted
(formats detected, or only the named tool's), with OpenSLO references resolved
across every file given. What a file yields is validated before anything is
printed or written: a file with any problem is refused whole, with its
problems located in the original file. One file prints to standard output; a
tree (or ``--out``) writes one converted file per source file, mirroring the
tree, plus ``MIGRATION.md``: what will fire differently than under the source
tool, per SLO.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import CompileError, Location, Problem
from ..output import yamlout
from ..output.overlap import refuse_overlap
from ..output.writer import write_tree
from ..spec.foreign import TOOLS, convert_documents, format_key, is_foreign, references
from ..spec.loader import Document, discover, load_file
from ..spec.validate import validate_documents
from . import compat
from .differences import Difference, differences

REPORT_FILE = "MIGRATION.md"


@dataclass
class Imported:
    """What one source file became."""

    source: Path
    target: str  # path under --out, mirroring the source tree
    tool: str = ""  # Sloth, Pyrra or OpenSLO
    documents: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    skipped: str = ""  # why a file with nothing to convert was passed over
    not_foreign: list[Problem] = field(default_factory=list)

    @property
    def slos(self) -> int:
        return sum(len(d.get("slos", [])) for d in self.documents)

    @property
    def converted(self) -> bool:
        return bool(self.documents) and not self.problems


def import_paths(
    paths: Iterable[str | os.PathLike[str]], tool: str | None = None, keep_labels: bool = False
) -> list[Imported]:
    """Convert every file under ``paths``; nothing is written."""
    if tool is not None and tool not in TOOLS:
        raise CompileError(f"unknown format {tool!r}; choose from {', '.join(TOOLS)}")
    given = [Path(p) for p in paths]
    files = discover(given)
    loaded: dict[Path, tuple[list[Document], list[Problem]]] = {f: load_file(f) for f in files}
    refs = references([d for docs, _ in loaded.values() for d in docs])
    results = []
    for path in files:
        documents, problems = loaded[path]
        result = Imported(path, _target(path, given))
        if problems:
            result.problems = problems
        else:
            _convert(result, documents, tool, refs, keep_labels)
        results.append(result)
    _refuse_duplicate_services(results)
    _refuse_same_targets(results)
    return results


def _refuse_same_targets(results: list[Imported]) -> None:
    first: dict[str, Path] = {}
    for result in results:
        if result.target in first:
            result.problems.append(
                Problem(
                    Location(result.source.as_posix()),
                    "",
                    f"would be written to {result.target} like {first[result.target]}: "
                    f"convert the two separately",
                )
            )
        first.setdefault(result.target, result.source)


def _target(path: Path, given: list[Path]) -> str:
    """The converted file's path under --out: its path under the directory given (under
    that directory's name when several paths are given, so two trees cannot collide)."""
    for root in given:
        if root.is_dir() and path.resolve().is_relative_to(root.resolve()):
            rel = path.resolve().relative_to(root.resolve())
            if len(given) > 1:
                rel = Path(root.resolve().name) / rel
            return rel.with_suffix(".yaml").as_posix()
    return Path(path.name).with_suffix(".yaml").as_posix()


def _convert(
    result: Imported,
    documents: list[Document],
    tool: str | None,
    refs: dict[Any, Document],
    keep_labels: bool,
) -> None:
    foreign = [d for d in documents if is_foreign(d)]
    if not foreign:
        result.skipped = "no Sloth, Pyrra or OpenSLO document"
        # Said as a located error when this file alone was asked for.
        result.not_foreign = convert_documents(documents[:1], tool, refs)[1]
        return
    converted, problems = convert_documents(foreign, tool, refs)
    result.tool = _tool_name(foreign[0])
    if not problems and not converted:
        result.skipped = (
            "only OpenSLO parts (SLI, AlertPolicy…), read through the SLOs that name them"
        )
        return
    if keep_labels:
        converted = [compat.keep_labels(d, _tool_name(_source(d))) for d in converted]
    _, errors = validate_documents(converted)
    result.problems = [*problems, *(e for e in errors if not e.warning)]
    result.documents = [d.data for d in converted]
    if not result.problems:
        result.differences = [found for d in converted for found in differences(d.data, _source(d))]


def _source(document: Document) -> Document:
    """The foreign document a converted one was made from (its root's origin)."""
    if document.origin is None:
        return document
    return document.origin.source(())[0]


def _tool_name(document: Document) -> str:
    from ..spec.foreign import FORMATS

    key = format_key(document.data)
    return FORMATS[key][0] if key else ""


def _refuse_duplicate_services(results: list[Imported]) -> None:
    """Two files converting to the same service would overwrite each other's rules."""
    seen: dict[str, Path] = {}
    for result in results:
        if not result.converted:
            continue
        for document in result.documents:
            service = str(document.get("service"))
            if service in seen and seen[service] != result.source:
                result.problems.append(
                    Problem(
                        Location(result.source.as_posix()),
                        "service",
                        f"service `{service}` is also converted from {seen[service]}; "
                        f"sloforge keeps one definition per service",
                    )
                )
            seen.setdefault(service, result.source)


# --- output ----------------------------------------------------------------------------


def render(result: Imported) -> str:
    """One converted file: a header naming its source and what will fire differently."""
    command = f"sloforge import {result.tool.lower()}"
    lines = [
        f"# Converted by `{command}` from {result.source.as_posix()}. "
        "Review, then commit it as your source."
    ]
    for difference in result.differences:
        lines.append(f"# differs from {result.tool}: {difference.slo}: {difference.summary}")
    documents = "---\n".join(yamlout.dump(d) for d in result.documents)
    return "\n".join(lines) + "\n" + documents


def write(results: list[Imported], out: Path, inputs: list[Path]) -> int:
    """Write every converted file and MIGRATION.md under ``out``; returns files written."""
    refuse_overlap([*inputs, *(r.source for r in results)], out)
    files = {r.target: render(r).encode("utf-8") for r in results if r.converted}
    files[REPORT_FILE] = migration_report(results).encode("utf-8")
    write_tree(out, files)
    return len(files)


def summary(results: list[Imported]) -> list[str]:
    lines = []
    for r in results:
        source = r.source.as_posix()
        if r.converted:
            extra = f", {len(r.differences)} behaviour differences" if r.differences else ""
            lines.append(f"converted  {source} -> {r.target} ({r.tool}, {r.slos} SLOs{extra})")
        elif r.problems:
            lines.append(f"refused    {source}:")
            lines.extend(f"  {p}" for p in r.problems)
        else:
            lines.append(f"skipped    {source}: {r.skipped}")
    counts = [
        sum(1 for r in results if r.converted),
        sum(1 for r in results if r.problems),
        sum(1 for r in results if not r.converted and not r.problems),
    ]
    lines.append(f"{counts[0]} converted, {counts[1]} refused, {counts[2]} skipped")
    return lines


def migration_report(results: list[Imported]) -> str:
    """Markdown for the pull request that brings the converted files in."""
    out = ["# Migration to sloforge", ""]
    converted = [r for r in results if r.converted]
    out.append(
        f"{len(converted)} files converted ({sum(r.slos for r in converted)} SLOs), "
        f"{sum(1 for r in results if r.problems)} refused, "
        f"{sum(1 for r in results if not r.converted and not r.problems)} skipped."
    )
    for r in converted:
        out += ["", f"## {r.target} (from {r.tool}: `{r.source.as_posix()}`)", ""]
        if not r.differences:
            out.append("Fires as under the source tool.")
            continue
        out += ["| SLO | what changes | why |", "|---|---|---|"]
        out += [f"| {d.slo} | {_cell(d.summary)} | {_cell(d.detail)} |" for d in r.differences]
    refused = [r for r in results if r.problems]
    if refused:
        out += ["", "## Refused", ""]
        for r in refused:
            out += [f"- `{p}`" for p in r.problems]
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
