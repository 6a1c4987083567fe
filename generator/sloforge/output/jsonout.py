"""JSON text byte for byte as ``json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)``
writes it, in less than half the time.

Given an indent, Python's json module leaves its C encoder for a pure-Python one built on
nested generators, which spent most of the time ``sloforge generate`` took for dashboards.
This encoder walks the data with plain recursion and leaves each piece of text to the same
function json uses: its C ``encode_basestring`` for strings (keys included), ``int.__repr__``
and ``float.__repr__`` for numbers, in json.encoder's order of checks. Only the assembling
differs, and tests/test_jsonout.py holds the result to json.dumps on awkward values.

A dict or list that appears more than once at the same depth is written once and its text
reused, which a caller can exploit by sharing equal parts (dashboards share each panel look).
"""

from __future__ import annotations

from collections.abc import Callable
from json.encoder import encode_basestring  # the C version whenever _json is built
from typing import Any

INDENT = "  "
_INFINITY = float("inf")

Default = Callable[[Any], Any]
# (id of a dict or list, its depth) -> (it, its text). Holding each value keeps it alive:
# one that `default` made could otherwise be freed and its id reused for another.
Written = dict[tuple[int, int], tuple[Any, str]]


def _unsupported(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def dumps(data: Any, default: Default = _unsupported) -> str:
    """``default`` turns any other value into one JSON can hold, as json.dumps's does."""
    return _value(data, "\n", default, {})


def _value(value: Any, newline: str, default: Default, written: Written) -> str:
    # Exact types first: they are nearly all of a dashboard, and `type(x) is` is the
    # cheapest test; subclasses and everything else go the way json.dumps takes them.
    kind = type(value)
    if kind is str:
        return encode_basestring(value)
    if kind is dict or kind is list:
        return _container(value, newline, default, written)
    return _other(value, newline, default, written)


def _container(value: Any, newline: str, default: Default, written: Written) -> str:
    if not value:
        return "{}" if isinstance(value, dict) else "[]"
    key = (id(value), len(newline))
    if key not in written:
        if isinstance(value, dict):
            written[key] = (value, _object(value, newline, default, written))
        else:
            written[key] = (value, _array(value, newline, default, written))
    return written[key][1]


def _object(obj: dict[Any, Any], newline: str, default: Default, written: Written) -> str:
    inner = newline + INDENT
    members = [
        (encode_basestring(key) if type(key) is str else _key(key))
        + ": "
        + _value(value, inner, default, written)
        for key, value in sorted(obj.items())
    ]
    return "{" + inner + ("," + inner).join(members) + newline + "}"


def _array(
    array: list[Any] | tuple[Any, ...], newline: str, default: Default, written: Written
) -> str:
    inner = newline + INDENT
    items = [_value(item, inner, default, written) for item in array]
    return "[" + inner + ("," + inner).join(items) + newline + "]"


def _key(key: Any) -> str:
    """A key that is not an exact str, named as json.dumps names it (sorted as it was)."""
    if isinstance(key, str):
        return encode_basestring(key)
    if isinstance(key, float):
        return encode_basestring(_float(key))
    if key is True:
        return '"true"'
    if key is False:
        return '"false"'
    if key is None:
        return '"null"'
    if isinstance(key, int):
        return encode_basestring(int.__repr__(key))
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def _other(value: Any, newline: str, default: Default, written: Written) -> str:
    """Anything but an exact str, dict or list: a bool is tested before it can pass for an int."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return encode_basestring(value)
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, (list, tuple, dict)):
        return _container(value, newline, default, written)
    return _value(default(value), newline, default, written)


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == _INFINITY:
        return "Infinity"
    if value == -_INFINITY:
        return "-Infinity"
    return float.__repr__(value)
