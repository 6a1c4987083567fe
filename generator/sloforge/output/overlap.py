"""Inputs and the output directory must never overlap.

``generate`` replaces the whole output directory, so an input inside it (or the
output being an input directory) would be deleted; an output directory inside an
input directory would be read back as input on the next run. Paths are compared
after following symbolic links, so a link cannot hide an overlap.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..errors import OutputError

ADVICE = "choose an output directory outside the inputs, e.g. out beside them"


def refuse_overlap(inputs: Iterable[Path], out: Path) -> None:
    """Raise OutputError when ``out`` and an input share files, before anything is written.

    ``inputs`` are the paths given, every file found under them and the runbooks/
    and templates/ folders beside them, in that order (the first overlap is named).
    """
    target = Path(out).resolve()
    for path in inputs:
        real = path.resolve()
        if path.is_file():
            if _inside(real, target):
                shown = f"{path} (a link to {real})" if path.is_symlink() else str(path)
                raise OutputError(
                    f"{out}: the input {shown} is inside the output directory; generate "
                    f"replaces it, which would delete your files: {ADVICE}"
                )
        elif real == target:
            raise OutputError(
                f"{out}: the output directory is the input directory {path}; generate "
                f"replaces it, which would delete your files: {ADVICE}"
            )
        elif _inside(real, target):
            raise OutputError(
                f"{out}: the input directory {path} is inside the output directory; generate "
                f"replaces it, which would delete your files: {ADVICE}"
            )
        elif _inside(target, real):
            raise OutputError(
                f"{out}: the output directory is inside the input directory {path}; its files "
                f"would be read back as input on the next run: {ADVICE}"
            )


def _inside(path: Path, directory: Path) -> bool:
    return directory in path.parents
