"""What the Sloth, Pyrra and OpenSLO converters share: refusals, traced output, small readers.

A converter builds its sloforge/v1 data from ``Node`` mappings that remember the
source path they were made from (and, per field, where a renamed field came
from). ``untrace`` turns the result into plain data and a map of converted path
-> source path, which is how a problem in a converted document is reported at
the field the user wrote.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ...model import promql
from ..loader import Document, PathKey, format_path

API_VERSION = "sloforge/v1"


class Unsupported(ValueError):
    """A foreign document (or a part of it) that sloforge cannot express; ``path`` locates it."""

    def __init__(self, path: PathKey, message: str, document: Document | None = None) -> None:
        self.path = path
        self.document = document  # another document than the one converted (a reference)
        where = format_path(path)
        super().__init__(f"{where}: {message}" if where else message)


def within(document: Document | None, read: Callable[..., Node], *args: Any) -> Node:
    """``read(*args)``, with any refusal located in ``document`` (a referred-to document;
    None: the document being converted), and the result marked as read from it."""
    try:
        node = read(*args)
    except Unsupported as exc:
        if exc.document is None:
            exc.document = document
        raise
    return node.read_from(document)


class Node(dict[str, Any]):
    """A converted mapping made from the source mapping at ``source``.

    ``put(key, value, source)`` records a field that came from elsewhere than
    ``source`` + ``key`` (a renamed or moved field).
    """

    def __init__(self, source: PathKey, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.source = source
        self.fields: dict[str, PathKey] = {}
        # Set when this node was read from another document than the one converted
        # (an OpenSLO SLI or AlertPolicy referred to by name); its children inherit it.
        self.document: Document | None = None

    def read_from(self, document: Document | None) -> Node:
        """Mark this node as read from ``document`` (None: the converted one); a node
        already marked keeps its document, as the innermost reference is where it was read."""
        if self.document is None:
            self.document = document
        return self

    def put(self, key: str, value: Any, source: PathKey | None = None) -> None:
        self[key] = value
        if source is not None:
            self.fields[key] = source


Trace = dict[PathKey, tuple[Document | None, PathKey]]


def untrace(data: Any, root: PathKey = ()) -> tuple[Any, Trace]:
    """Plain data, and converted path -> (source document, source path) for every traced
    node and field; the document is None for the document being converted."""
    trace: Trace = {(): (None, root)}

    def walk(value: Any, path: PathKey, document: Document | None) -> Any:
        if isinstance(value, Node):
            document = value.document or document
            trace[path] = (document, value.source)
            for key, source in value.fields.items():
                trace[(*path, key)] = (document, source)
        if isinstance(value, dict):
            return {k: walk(v, (*path, k), document) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, (*path, i), document) for i, v in enumerate(value)]
        return value

    return walk(data, (), None), trace


# Documents other documents refer to by name: (kind, metadata.name) -> document.
Refs = dict[tuple[str, str], Document]


# --- readers --------------------------------------------------------------------------

WINDOW_TEMPLATE = re.compile(r"\{\{\s*\.window\s*\}\}")


def window_query(text: Any, path: PathKey) -> str:
    """A Sloth-style query: ``{{.window}}`` becomes sloforge's ``$window``."""
    if not isinstance(text, str) or not text.strip():
        raise Unsupported(path, "must be a PromQL query")
    query = WINDOW_TEMPLATE.sub(promql.WINDOW_VARIABLE, text.strip())
    if "{{" in query:
        raise Unsupported(
            path, "uses a Go template other than {{.window}}, which sloforge cannot evaluate"
        )
    if promql.WINDOW_VARIABLE not in query:
        raise Unsupported(
            path, "has no {{.window}} range; sloforge needs one to compute each alert window"
        )
    return query


def mapping(value: Any, path: PathKey) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Unsupported(path, "must be a mapping")
    return value


def only(data: dict[str, Any], allowed: set[str], path: PathKey, tool: str) -> None:
    """Refuse fields this converter does not understand instead of dropping them."""
    for key in data:
        if key not in allowed:
            raise Unsupported(
                (*path, key), f"{tool} field `{key}` is not understood by sloforge's importer"
            )


def labels(value: Any, path: PathKey) -> dict[str, str]:
    return {str(k): text(v) for k, v in mapping(value, path).items()}


def text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def slug(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")


def raw_ratio_sli(query: str, source: PathKey) -> Node:
    """An error-ratio query as a query SLI: the ratio over a constant 1 where the ratio has data.

    ``0 * ratio + 1`` keeps the ratio's labels and its absence when there is no data, so no
    traffic stays no data instead of becoming a zero ratio.
    """
    return Node(source, query=Node(source, errors=f"({query})", total=f"0 * ({query}) + 1"))
