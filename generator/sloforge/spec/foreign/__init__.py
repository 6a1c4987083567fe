"""Step 1b of the pipeline: Sloth, Pyrra and OpenSLO documents in, sloforge/v1 documents out.

``convert_foreign(documents)`` runs between loading and validation: every
foreign document is converted (one module per format), the documents of one
service in one file are merged, and each result is a ``Document`` whose
``origin`` points every field at the file, line and field it came from. The
validator then checks converted documents like hand-written ones and never
knows a converter exists.

Whatever a converter cannot express faithfully is an ``Unsupported`` error
naming the field and the reason; nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...errors import Problem
from ..loader import Document, Origin, PathKey
from . import openslo, pyrra, sloth
from .common import Node, Unsupported, untrace

Converter = Callable[[Document], list[Node]]

# A document is recognised by its version value, or by its apiVersion's group.
FORMATS: dict[str, tuple[str, Converter]] = {
    sloth.PROMETHEUS: (sloth.TOOL, sloth.convert),
    sloth.KUBERNETES: (sloth.TOOL, sloth.convert),
    "prometheus": (sloth.TOOL, sloth.convert),  # other Sloth versions, refused by name
    "pyrra.dev": (pyrra.TOOL, pyrra.convert),
    "openslo": (openslo.TOOL, openslo.convert),
}

# `sloforge import TOOL FILE`: which keys each tool name accepts.
TOOLS: dict[str, tuple[str, ...]] = {
    "sloth": (sloth.PROMETHEUS, sloth.KUBERNETES, "prometheus"),
    "pyrra": ("pyrra.dev",),
    "openslo": ("openslo",),
}


def format_key(data: Any) -> str | None:
    """The FORMATS key of a document, or None when it is not a foreign format."""
    if not isinstance(data, dict):
        return None
    for value in (data.get("apiVersion"), data.get("version")):
        if isinstance(value, str):
            if value in FORMATS:
                return value
            if value.split("/")[0] in FORMATS:
                return value.split("/")[0]
    return None


def is_foreign(document: Document) -> bool:
    items = document.data if isinstance(document.data, list) else [document.data]
    return bool(items) and all(format_key(item) for item in items)


def convert_foreign(documents: list[Document]) -> tuple[list[Document], list[Problem]]:
    """Every document, foreign ones converted (file by file, one service's SLOs merged)."""
    out = [d for d in documents if not is_foreign(d)]
    problems: list[Problem] = []
    by_file: dict[str, list[Document]] = {}
    for doc in documents:
        if is_foreign(doc):
            by_file.setdefault(doc.file, []).append(doc)
    for docs in by_file.values():
        converted, errs = convert_documents(docs)
        out += converted
        problems += errs
    return out, problems


def convert_documents(
    documents: list[Document], tool: str | None = None
) -> tuple[list[Document], list[Problem]]:
    """Convert foreign documents (only ``tool``'s formats when given)."""
    converted: list[tuple[Node, Document]] = []
    problems: list[Problem] = []
    for document in (d for doc in documents for d in expand(doc)):
        key = format_key(document.data)
        if key is None or (tool is not None and key not in TOOLS[tool]):
            expected = " or ".join(TOOLS[tool]) if tool else "a Sloth, Pyrra or OpenSLO version"
            found = (
                document.data.get("apiVersion", document.data.get("version"))
                if isinstance(document.data, dict)
                else None
            )
            problems.append(
                Problem(
                    document.locate(()),
                    "",
                    f"not a {tool or 'foreign'} document: found {found!r}, expected {expected}",
                )
            )
            continue
        name, converter = FORMATS[key]
        try:
            converted += [(node, document) for node in converter(document)]
        except Unsupported as exc:
            problems.append(
                Problem(document.locate(exc.path), "", f"cannot convert {name} document: {exc}")
            )
    if not problems:
        try:
            return merge_services(converted), []
        except Unsupported as exc:
            problems.append(Problem(documents[0].locate(()), "", str(exc)))
    # Still checked one by one, so a run reports every problem at once.
    return [_document(*_traced(node, source)) for node, source in converted], problems


def _traced(
    node: Node, source: Document
) -> tuple[dict[str, Any], dict[PathKey, tuple[Document, PathKey]]]:
    data, trace = untrace(node)
    return data, {path: (source, origin) for path, origin in trace.items()}


def _document(data: dict[str, Any], fields: dict[PathKey, tuple[Document, PathKey]]) -> Document:
    root = fields[()][0]
    return Document(root.file, root.index, data, origin=Origin(fields))


def merge_services(converted: list[tuple[Node, Document]]) -> list[Document]:
    """One ServiceLevels document per service: OpenSLO writes one document per SLO."""
    merged: dict[str, tuple[dict[str, Any], dict[PathKey, tuple[Document, PathKey]]]] = {}
    for node, source in converted:
        data, fields = _traced(node, source)
        service = str(data.get("service"))
        if service not in merged:
            merged[service] = (data, fields)
            continue
        first, first_fields = merged[service]
        for key in ("owner", "labels"):
            if data.get(key) != first.get(key):
                raise Unsupported(
                    (),
                    f"documents of service {service!r} disagree on `{key}`; sloforge keeps "
                    f"one per service",
                )
        offset = len(first.get("slos", []))
        first["slos"] = [*first.get("slos", []), *data.get("slos", [])]
        for path, origin in fields.items():
            if path[:1] == ("slos",) and len(path) > 1 and isinstance(path[1], int):
                first_fields[("slos", path[1] + offset, *path[2:])] = origin
    return [_document(data, fields) for data, fields in merged.values()]


def expand(document: Document) -> list[Document]:
    """A YAML list of documents (OpenSLO's SDK writes them so) as separate documents."""
    if not isinstance(document.data, list):
        return [document]
    out = []
    for i, item in enumerate(document.data):
        positions = {key[1:]: pos for key, pos in document.positions.items() if key[:1] == (i,)}
        out.append(Document(document.file, document.index, item, positions))
    return out
