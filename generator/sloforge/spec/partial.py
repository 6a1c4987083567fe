"""What the cross checks can still read of a document the spec models refused.

A refused document has its errors reported already; without this, its duplicate
names, unknown receivers and reserved labels would only show up in the next run,
after the first wave is fixed. ``salvage`` keeps every field that validates on its
own and every list item that does, so the checks that compare fields can run on
what is left (validate's contract is every problem at once).

A list item that cannot be kept stays in place as ``None``, so indexes, and the
``slos[3].name`` paths built from them, still point at the user's text; checks
walk such lists with ``present``. Salvaged specs are never planned or built: a
run with any error stops after validation.
"""

from __future__ import annotations

import types
from collections.abc import Iterator, Sequence
from functools import cache
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


def present(items: Sequence[T | None] | None) -> Iterator[tuple[int, T]]:
    """``enumerate`` over the items that validated (salvaged lists hold ``None`` gaps)."""
    for i, item in enumerate(items or ()):
        if item is not None:
            yield i, item


def salvage(model: type[M], data: Any) -> M | None:
    """``model`` built from the fields of ``data`` that validate alone; ``None`` when a
    required field is unusable. Model-level rules (e.g. exactly one SLI kind) are not
    applied: the document's errors have been reported, this only feeds further checks."""
    if not isinstance(data, dict):
        return None
    try:
        return model.model_validate(data)
    except ValidationError:
        pass
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key not in data:
            if info.is_required():
                return None
            continue
        kept, ok = _field(info, data[key])
        if ok:
            values[name] = kept
        elif info.is_required():
            if not isinstance(data[key], str | int | float):
                return None
            values[name] = data[key]  # a bad name is still a name to compare
    if model.model_config.get("extra") == "allow":
        known = {info.alias or name for name, info in model.model_fields.items()}
        values.update({k: v for k, v in data.items() if k not in known})
    return model.model_construct(**values)


def _field(info: FieldInfo, raw: Any) -> tuple[Any, bool]:
    """(value, True) when ``raw`` can stand for this field; sub-models are salvaged."""
    sub, in_list = _sub_model(info.annotation)
    if sub is not None and in_list:
        if not isinstance(raw, list):
            return None, False
        return [salvage(sub, item) for item in raw], True
    if sub is not None:
        kept = salvage(sub, raw)
        return kept, kept is not None
    try:
        return _adapter(info).validate_python(raw), True
    except ValidationError:
        return None, False


def _sub_model(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The spec model a field holds, directly or as a list (``X | None`` included)."""
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) in (Union, types.UnionType):
        return _sub_model(args[0]) if len(args) == 1 else (None, False)
    if get_origin(annotation) is list and args:
        inner, _ = _sub_model(args[0])
        return inner, inner is not None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    return None, False


@cache
def _adapter_for(annotation: Any, metadata: tuple[Any, ...]) -> TypeAdapter[Any]:
    return TypeAdapter(Annotated[annotation, *metadata] if metadata else annotation)


def _adapter(info: FieldInfo) -> TypeAdapter[Any]:
    annotation: Any = info.annotation
    return _adapter_for(annotation, tuple(info.metadata))
