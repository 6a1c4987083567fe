"""Stage 5: the one step that turns built data (model/artifacts.py) into bytes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..model import conventions as names
from ..model.artifacts import Artifact, CopiedFile, Inline, JsonFile, TextFile, YamlFile
from . import jsonout, yamlout


def serialize(files: Mapping[str, Artifact]) -> dict[str, bytes]:
    return {path: render(artifact) for path, artifact in files.items()}


def render(artifact: Artifact) -> bytes:
    if type(artifact) is YamlFile:
        return _yaml(artifact).encode("utf-8")
    if type(artifact) is JsonFile:
        return _json(artifact).encode("utf-8")
    if type(artifact) is TextFile:
        return _text(artifact).encode("utf-8")
    if type(artifact) is CopiedFile:
        return artifact.content
    raise TypeError(f"not an artifact: {type(artifact).__name__}")


def _yaml(file: YamlFile) -> str:
    notes = "".join(f"# {note}\n" for note in file.notes)
    data = _inlined(file.data) if file.inlines else file.data
    return yamlout.header(file.sources) + notes + yamlout.dump(data)


def _json(file: JsonFile) -> str:
    if file.sort_keys:
        body = jsonout.dumps(file.data)
    else:
        body = json.dumps(file.data, indent=2, ensure_ascii=False)
    return ("" if file.sources is None else header(file.sources, "slashes")) + body + "\n"


def _text(file: TextFile) -> str:
    return header(file.sources, file.style) + file.text


def header(sources: tuple[str, ...], style: str) -> str:
    """The generated-file header in a file type's own comment syntax."""
    if style == "none":
        return ""
    if style == "hash":
        return yamlout.header(sources)
    text = names.GENERATED_HEADER.format(sources=", ".join(sources) or "sloforge")
    if style == "slashes":
        return "".join(f"// {line}\n" for line in text.splitlines())
    if style == "go-template":
        return "{{/* " + text.replace("*/", "* /") + " */}}\n"
    raise ValueError(f"unknown header style {style!r}")


def _inlined(data: Any) -> Any:
    """Inline values (another file's text inside this one) as strings; others untouched."""
    if type(data) is Inline:
        content = data.content
        return _text(content) if type(content) is TextFile else yamlout.dump(content)
    if type(data) is dict:
        return {k: _inlined(v) for k, v in data.items()}
    if type(data) is list:
        return [_inlined(v) for v in data]
    return data
