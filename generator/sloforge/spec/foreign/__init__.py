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
from .common import Node, Refs, Unsupported, untrace

Converter = Callable[[Document, Refs], list[Node]]

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
    if _is_list(data):  # `kubectl get … -o yaml`: the key its items share
        keys = {format_key(item) for item in data["items"]}
        return keys.pop() if len(keys) == 1 else None
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
    refs = references(documents)
    for docs in by_file.values():
        converted, errs = convert_documents(docs, refs=refs)
        out += converted
        problems += errs
    return out, problems


def references(documents: list[Document]) -> Refs:
    """Documents that SLOs may name instead of inlining (OpenSLO's SLI, AlertPolicy…)."""
    found: Refs = {}
    for document in (d for doc in documents for d in expand(doc)):
        data = document.data
        if not isinstance(data, dict) or format_key(data) != "openslo":
            continue
        kind = data.get("kind")
        name = (
            data.get("metadata", {}).get("name") if isinstance(data.get("metadata"), dict) else None
        )
        if kind in openslo.PARTS and isinstance(name, str):
            found.setdefault((kind, name), document)
    return found


def convert_documents(
    documents: list[Document], tool: str | None = None, refs: Refs | None = None
) -> tuple[list[Document], list[Problem]]:
    """Convert foreign documents (only ``tool``'s formats when given); ``refs`` are the
    documents they may refer to by name (by default, those among ``documents``)."""
    refs = references(documents) if refs is None else refs
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
            converted += [(node, document) for node in converter(document, refs)]
        except Unsupported as exc:
            where = (exc.document or document).locate(exc.path)
            problems.append(Problem(where, "", f"cannot convert {name} document: {exc}"))
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
    return data, {path: (doc or source, origin) for path, (doc, origin) in trace.items()}


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
    """A YAML list of documents (OpenSLO's SDK writes them so), or a Kubernetes ``List``
    (``kubectl get … -o yaml``), as separate documents."""
    data = document.data
    if isinstance(data, list):
        prefix: tuple[str | int, ...] = ()
        items = data
    elif isinstance(data, dict) and _is_list(data):
        prefix, items = ("items",), data["items"]
    else:
        return [document]
    out = []
    for i, item in enumerate(items):
        key = (*prefix, i)
        positions = {
            path[len(key) :]: pos
            for path, pos in document.positions.items()
            if path[: len(key)] == key
        }
        positions.setdefault((), document.positions.get(key, (1, 1)))
        out.append(Document(document.file, document.index, item, positions))
    return out


def _is_list(data: dict[str, Any]) -> bool:
    return (
        data.get("kind") == "List" and isinstance(data.get("items"), list) and bool(data["items"])
    )
