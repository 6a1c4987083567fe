"""One error hierarchy, so the CLI can map every failure to a clear message and exit code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

EXCERPT_CHARS = 40


def excerpt(value: Any, limit: int = EXCERPT_CHARS) -> str:
    """``repr(value)`` cut to ``limit`` characters: a message shows which value it means,
    escaped (no newline or control character reaches the terminal), never a file's content."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, order=True)
class Location:
    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column}"
        return self.file


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as precisely as the loader allows."""

    location: Location
    path: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        where = f"{self.location}: "
        field = f"{self.path}: " if self.path else ""
        kind = "warning: " if self.warning else ""
        return f"{where}{kind}{field}{self.message}"

    def sort_key(self) -> tuple[str, int, int, str, str]:
        loc = self.location
        return (loc.file, loc.line, loc.column, self.path, self.message)


class SloforgeError(Exception):
    """Base of every error sloforge reports without a traceback."""


class SpecError(SloforgeError):
    """The input documents are invalid; carries every problem found in the run."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=Problem.sort_key)
        super().__init__("\n".join(str(p) for p in self.problems))


class CompileError(SloforgeError):
    """Valid documents that cannot be compiled (e.g. a target cannot express a feature)."""


class OutputError(SloforgeError):
    """The output directory cannot be written."""


class ToolError(SloforgeError):
    """An external tool (promtool, amtool) is missing, crashed or hung."""


class LiveError(SloforgeError):
    """A running Prometheus cannot be asked (unreachable, refused, or answered something else)."""
