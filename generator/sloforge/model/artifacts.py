"""What builders return: files as data, not bytes. ``output/serialize.py`` writes them.

A builder returns ``Files`` (output path -> one of the types below); the one
serialize step turns each into bytes (YAML through yamlout, JSON through jsonout,
text as is), so a deployment target can repackage another artifact's data
without parsing text back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

# How the generated-file header is written in a text file's own comment syntax.
HeaderStyle = Literal["none", "hash", "slashes", "go-template"]


@dataclass(frozen=True)
class YamlFile:
    """A YAML document under the generated-file header naming ``sources``."""

    data: Any
    sources: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # comment lines after the header, e.g. "untested: …"
    inlines: bool = False  # holds ``Inline`` values, resolved before dumping


@dataclass(frozen=True)
class JsonFile:
    """JSON (2-space indent, keys sorted unless ``sort_keys`` is off), ending in a newline.

    ``sources`` set: a ``//`` header first, which makes the file Jsonnet, not JSON.
    """

    data: Any
    sources: tuple[str, ...] | None = None
    sort_keys: bool = True


@dataclass(frozen=True)
class TextFile:
    """Text written as is (Markdown, Go templates, Jsonnet), after a header in ``style``."""

    text: str
    sources: tuple[str, ...] = ()
    style: HeaderStyle = "none"


@dataclass(frozen=True)
class CopiedFile:
    """A user's own file (a hand-edited runbook), copied byte for byte."""

    content: bytes


@dataclass(frozen=True)
class Inline:
    """Text as a string value inside a YAML document (a Secret's stringData): a ``TextFile``
    as written on its own, or any other data as a YAML document without a header."""

    content: Any


Artifact = YamlFile | JsonFile | TextFile | CopiedFile
Files = dict[str, Artifact]
