"""JSON Schema of the input documents, generated from the spec models."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from .models import AlertRoutingSpec, ServiceLevelsSpec, SettingsSpec


def json_schema() -> dict[str, Any]:
    adapter: TypeAdapter[Any] = TypeAdapter(ServiceLevelsSpec | AlertRoutingSpec | SettingsSpec)
    schema = adapter.json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "sloforge/v1 documents"
    return schema
