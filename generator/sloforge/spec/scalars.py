"""Text fields keep the text as written, whatever YAML 1.1 would have made of it.

YAML 1.1 reads a plain ``012`` as the number 10, ``0x1F`` as 31, ``1_000`` as 1000,
``12:30`` as 750 and ``on``/``yes`` as true. In a field meant as text (a label value,
a severity, an owner, an annotation) that silently changes the value, or refuses
some spellings and not others. The loader records the text of every such scalar
(``Document.written``); before the models see a document, every field whose type
is text gets that text back. Numbers, durations and booleans are left as YAML read
them, so ``objective: 99.9`` stays a number.
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, BeforeValidator

from ..model.receivers import block_as_written
from .loader import PathKey


def as_written(model: type[BaseModel], data: Any, written: dict[PathKey, str]) -> Any:
    """``data`` with the written text put back in every text field of ``model``."""
    if not written:
        return data
    return _model(model, data, (), written)


def _model(model: type[BaseModel], data: Any, path: PathKey, written: dict[PathKey, str]) -> Any:
    if not isinstance(data, dict):
        return data
    out = dict(data)
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key in out:
            annotation = (
                Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
            )
            out[key] = _value(annotation, out[key], (*path, key), written)
    if model.model_config.get("extra") == "allow":  # a receiver: its integration blocks
        known = {info.alias or name for name, info in model.model_fields.items()}
        for key in set(out) - known:
            out[key] = block_as_written(key, out[key], (*path, key), written)
    return out


def _value(annotation: Any, value: Any, path: PathKey, written: dict[PathKey, str]) -> Any:
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is Annotated:
        if any(isinstance(m, BeforeValidator) for m in args[1:]):
            return value  # durations and numbers parse their own input
        return _value(args[0], value, path, written)
    if origin in (Union, types.UnionType):
        return _union(args, value, path, written)
    if annotation is str:
        return written.get(path, value) if not isinstance(value, str) else value
    if origin is dict and isinstance(value, dict):
        return {k: _value(args[1], v, (*path, k), written) for k, v in value.items()}
    if origin is list and isinstance(value, list):
        return [_value(args[0], v, (*path, i), written) for i, v in enumerate(value)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _model(annotation, value, path, written)
    return value


def _union(args: tuple[Any, ...], value: Any, path: PathKey, written: dict[PathKey, str]) -> Any:
    """Text only when every alternative that could hold a scalar is text (``str | None``);
    containers follow the alternative of their own shape."""
    options = [a for a in args if a is not type(None)]
    if isinstance(value, dict | list):
        shape = dict if isinstance(value, dict) else list
        for option in options:
            if get_origin(option) is shape or _is_model(option) and shape is dict:
                return _value(option, value, path, written)
        return value
    scalars = [a for a in options if get_origin(a) not in (dict, list) and not _is_model(a)]
    if len(scalars) == 1:
        return _value(scalars[0], value, path, written)
    return value


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)
