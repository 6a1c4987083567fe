"""JSON Schema of the input documents, generated from the spec models.

Every property carries the description its model field documents (a field
docstring, or ``Field(description=...)``), so editors show it on hover.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from .models import API_VERSION, AlertRoutingSpec, ServiceLevelsSpec, SettingsSpec

SCHEMA_ID = f"urn:sloforge:schema:{API_VERSION}"
# Bounds pydantic leaves under its own names when a constraint sits on a validated type.
_STANDARD_BOUNDS = {
    "gt": "exclusiveMinimum",
    "lt": "exclusiveMaximum",
    "ge": "minimum",
    "le": "maximum",
}


def json_schema() -> dict[str, Any]:
    adapter: TypeAdapter[Any] = TypeAdapter(ServiceLevelsSpec | AlertRoutingSpec | SettingsSpec)
    schema = _standard(adapter.json_schema(by_alias=True))
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = f"{API_VERSION} documents"
    return schema


def _standard(node: Any, in_properties: bool = False) -> Any:
    """Standard keywords for bounds, and descriptions on one line (a docstring wraps)."""
    if isinstance(node, list):
        return [_standard(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if in_properties:  # keys are field names here, not keywords
            out[key] = _standard(value)
        elif key in _STANDARD_BOUNDS and isinstance(value, int | float):
            out[_STANDARD_BOUNDS[key]] = value
        elif key == "description" and isinstance(value, str):
            out[key] = " ".join(value.split())
        else:
            out[key] = _standard(value, key in ("properties", "$defs"))
    return out
