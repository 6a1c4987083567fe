"""sloforge: SLO rules-as-code compiler.

The public API is four functions; everything else is internal and may change::

    import sloforge

    problems = sloforge.validate(["slo"])          # every problem and warning, nothing raised
    loaded = sloforge.load(["slo"], out="out")     # or SpecError listing every problem
    files = sloforge.compile(loaded.project)       # {"prometheus/rules/x.rules.yml": b"...", ...}
    sloforge.write(files, "out")                   # replaces out/ atomically

The pipeline behind them is ``load -> convert -> validate -> plan -> build ->
serialize -> write`` (docs/architecture.md); the CLI is a thin layer over it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .errors import Problem
    from .model.domain import Project
    from .pipeline import Loaded

__version__ = "0.1.0"
__all__ = ["__version__", "compile", "load", "validate", "write"]

Paths = Iterable[str | os.PathLike[str]]


def load(paths: Paths, out: str | os.PathLike[str] | None = None) -> Loaded:
    """Read the documents under ``paths``: the planned ``project`` and any ``warnings``.

    Raises ``sloforge.errors.SpecError`` listing every problem found. With ``out``, first
    refuses an output directory that overlaps the inputs (it would replace them, or be
    read back as input), before anything is read.
    """
    from .pipeline import load as _load
    from .pipeline import separate

    paths = list(paths)
    if out is not None:
        separate(paths, out)
    return _load(paths)


def validate(paths: Paths) -> list[Problem]:
    """Every problem under ``paths``, warnings included (``Problem.warning``), in file order."""
    from .errors import Problem, SpecError
    from .pipeline import load as _load

    try:
        warnings = list(_load(paths).warnings)
    except SpecError as exc:
        return exc.problems
    return sorted(warnings, key=Problem.sort_key)


def compile(project: Project, targets: Iterable[str] | None = None) -> dict[str, bytes]:  # noqa: A001
    """Every output file (path relative to the output directory -> bytes); ``targets``
    overrides the Settings document's deployment targets."""
    from .pipeline import build_outputs

    return build_outputs(project, targets)


def write(files: Mapping[str, bytes], out: str | os.PathLike[str]) -> None:
    """Replace ``out`` with exactly ``files``, atomically: a failed run leaves the old tree.
    An existing ``out`` holding anything an output tree never holds is refused, not replaced."""
    from pathlib import Path

    from .output.writer import write_tree
    from .pipeline import output_folders

    write_tree(Path(out), files, owned=output_folders())
