"""Deterministic YAML for generated files: block style, literal multi-line strings, a header."""

from __future__ import annotations

from typing import Any

import yaml

from . import conventions as names

_Dumper: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class Dumper(_Dumper):  # type: ignore[misc, valid-type]
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


Dumper.add_representer(str, _str)


def dump(data: Any) -> str:
    return yaml.dump(
        data, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=10_000, default_flow_style=False
    )


def header(sources: list[str] | tuple[str, ...]) -> str:
    text = names.GENERATED_HEADER.format(sources=", ".join(sources) or "sloforge")
    return "".join(f"# {line}\n" for line in text.splitlines())


def document(data: Any, sources: list[str] | tuple[str, ...]) -> bytes:
    return (header(sources) + dump(data)).encode("utf-8")
