"""What the cross checks can still read of a document the spec models refused.

A refused document has its errors reported already; without this, its duplicate
names, unknown receivers and reserved labels would only show up in the next run,
after the first wave is fixed. ``salvage`` keeps every field that validates on its
own and every list item that does, so the checks that compare fields can run on
what is left (validate's contract is every problem at once).

The result is type-safe whatever the document holds: each field is either a value
its own validators accept (under the model's configuration, so ``5`` is text where
the model reads numbers as text) or left at its default, and a model whose required
field cannot be kept is dropped, so a check never meets a list where it expects a
name. A required field of the right type that its validators refuse (a badly spelt
name, an objective of 100) is kept as written, because it is still a name to compare.
Every field refused is listed in ``refused_fields``: a default or a kept value there is
not what the user wrote or not valid, and a check that parses or compares it skips it.
``conforms`` states the typing guarantee and the property tests (tests/test_salvage.py)
check it.

A list item that cannot be kept stays in place as ``None``, so indexes, and the
``slos[3].name`` paths built from them, still point at the user's text; checks
walk such lists with ``present``. Salvaged specs are never planned or built: a
run with any error stops after validation.
"""

from __future__ import annotations

import types
from collections.abc import Iterator, Sequence
from functools import cache
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
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
    refused: set[str] = set()
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key not in data:
            if info.is_required():
                return None
            continue
        kept, ok = _field(model, info, data[key])
        if ok:
            values[name] = kept
        elif info.is_required() and not conforms(info.annotation, data[key]):
            return None
        elif info.is_required():
            # Of the right type but refused by its validators (a badly spelt name, an
            # objective of 100): kept as written, to compare with others, and marked.
            values[name] = data[key]
            refused.add(name)
        else:
            refused.add(name)
    if model.model_config.get("extra") == "allow":
        known = {info.alias or name for name, info in model.model_fields.items()}
        values.update({k: v for k, v in data.items() if k not in known and isinstance(k, str)})
    built = model.model_construct(**values)
    if refused and hasattr(built, "_refused"):
        built._refused = frozenset(refused)
    return built


def refused_fields(spec: BaseModel | None) -> frozenset[str]:
    """Fields of a salvaged ``spec`` that were written but refused (holding defaults now): a
    check comparing fields skips what the user did write, or its message would mislead."""
    return frozenset(getattr(spec, "_refused", frozenset()))


def _field(model: type[BaseModel], info: FieldInfo, raw: Any) -> tuple[Any, bool]:
    """(value, True) when ``raw`` can stand for this field; sub-models are salvaged."""
    if _holds_model(info.annotation):
        return _part(_optional(info.annotation), raw)
    try:
        return _adapter(model, info).validate_python(raw), True
    except ValidationError:
        return None, False


def _part(annotation: Any, raw: Any) -> tuple[Any, bool]:
    """A value holding spec models, salvaged piece by piece: a model, a list of them (refused
    items stay as ``None`` gaps) or a mapping of them (by valid text keys)."""
    origin, args = get_origin(annotation), get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        kept = salvage(annotation, raw)
        return kept, kept is not None
    if origin is list and isinstance(raw, list):
        return [_part(args[0], item)[0] for item in raw], True
    if origin is dict and isinstance(raw, dict):
        kept_items = {}
        for key, value in raw.items():
            item, ok = _part(args[1], value)
            if isinstance(key, str) and ok:
                kept_items[key] = item
            elif isinstance(key, str) and get_origin(args[1]) is list:
                kept_items[key] = []  # the name stays defined: references to it are not unknown
        return kept_items, True
    return None, False


def _holds_model(annotation: Any) -> bool:
    """A model, or a list or mapping of models (``| None`` aside): salvaged piece by piece.
    Unions of a model with other shapes are validated whole instead."""
    annotation = _optional(annotation)
    if get_origin(annotation) in (Union, types.UnionType):
        return False
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    if get_origin(annotation) is list:
        return _holds_model(get_args(annotation)[0])
    if get_origin(annotation) is dict:
        key, value = get_args(annotation)
        return key is str and _holds_model(value)
    return False


def _optional(annotation: Any) -> Any:
    """``X`` of ``X | None``; anything else as it is."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


@cache
def _adapter_for(
    annotation: Any, metadata: tuple[Any, ...], numbers_as_text: bool
) -> TypeAdapter[Any]:
    config = ConfigDict(coerce_numbers_to_str=numbers_as_text)
    return TypeAdapter(Annotated[annotation, *metadata] if metadata else annotation, config=config)


def _adapter(model: type[BaseModel], info: FieldInfo) -> TypeAdapter[Any]:
    """The field's type and validators under the model's coercions (numbers as text…)."""
    numbers_as_text = bool(model.model_config.get("coerce_numbers_to_str"))
    annotation: Any = info.annotation
    return _adapter_for(annotation, tuple(info.metadata), numbers_as_text)


def conforms(annotation: Any, value: Any) -> bool:
    """Whether ``value`` has the shape ``annotation`` describes: the guarantee of ``salvage``
    (lists of models may hold ``None`` gaps; ``extra="allow"`` fields may hold anything)."""
    origin, args = get_origin(annotation), get_args(annotation)
    if annotation is Any:
        return True
    if annotation is None or annotation is type(None):
        return value is None
    if origin is Annotated:
        return conforms(args[0], value)
    if origin in (Union, types.UnionType):
        return any(conforms(a, value) for a in args)
    if origin is Literal:
        return value in args
    if origin is list:
        inner = args[0] if args else Any
        gaps = _holds_model(inner)
        return isinstance(value, list) and all(
            (gaps and item is None) or conforms(inner, item) for item in value
        )
    if origin is dict:
        key, item = args if args else (Any, Any)
        return isinstance(value, dict) and all(
            conforms(key, k) and conforms(item, v) for k, v in value.items()
        )
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return isinstance(value, annotation) and all(
            conforms(info.annotation, getattr(value, name))
            for name, info in annotation.model_fields.items()
        )
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(annotation, type):
        return isinstance(value, annotation)
    return True
