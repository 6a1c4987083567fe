"""Deterministic YAML for generated files: block style, literal multi-line strings, a header.

The output is exactly what PyYAML's libyaml emitter writes for the same data
(``_pyyaml_dump``), but produced by a direct emitter: PyYAML's Python
representer costs more than everything else sloforge does when it writes tens
of thousands of SLOs. The direct emitter covers what generated files contain
(mappings with string keys, lists, strings, numbers, booleans, null); a
document holding anything else (a very long or unusual string, a non-string
key) is written by PyYAML instead, so the bytes never depend on which path ran.
Neither writes YAML anchors and aliases: a block used twice is written twice.
tests/test_yamlout.py compares both on random and on real documents.
"""

from __future__ import annotations

import re
from typing import Any, cast

import yaml

from ..model import conventions as names

_Dumper: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class Dumper(_Dumper):  # type: ignore[misc, valid-type]
    def ignore_aliases(self, data: Any) -> bool:
        return True  # a block used twice is written twice: people read these files, not parsers


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


Dumper.add_representer(str, _str)


def _pyyaml_dump(data: Any) -> str:
    return yaml.dump(
        data,
        Dumper=Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=10_000,
        default_flow_style=False,
    )


def dump(data: Any) -> str:
    if isinstance(data, (dict, list)) and data:
        out: list[str] = []
        try:
            if type(data) is dict:
                _emit_mapping(data, 0, out, {})
            elif type(data) is list:
                _emit_sequence(data, 0, out, {})
            else:
                raise _Unsupported
        except _Unsupported:
            return _pyyaml_dump(data)
        return "".join(out)
    return _pyyaml_dump(data)


def header(sources: list[str] | tuple[str, ...]) -> str:
    text = names.GENERATED_HEADER.format(sources=", ".join(sources) or "sloforge")
    return "".join(f"# {line}\n" for line in text.splitlines())


def document(data: Any, sources: list[str] | tuple[str, ...]) -> bytes:
    return (header(sources) + dump(data)).encode("utf-8")


# --- the direct emitter -------------------------------------------------------


class _Unsupported(Exception):
    """The document holds something only PyYAML's emitter is trusted to write."""


_Memo = dict[int, list[Any]]  # id of a collection -> [indent, start, end in out, text or None]


def _emit_mapping(data: dict[Any, Any], indent: int, out: list[str], memo: _Memo) -> None:
    """Writes a non-empty block mapping whose first key's line prefix is already written."""
    pad = " " * indent
    write = out.append
    for i, (key, value) in enumerate(data.items()):
        if i:
            write(pad)
        write(_KEYS.get(key) or _key(key))
        if type(value) is str:  # most values: one cached piece of text
            text = _VALUES.get(value) or _value(value)
            write(text if text is not _LITERAL else _literal(value, indent + 2))
        elif type(value) is list and value:  # a list under a key is not indented further
            write("\n" + pad)
            _emit_shared(value, indent, out, memo)
        else:
            _emit_node(value, indent + 2, out, memo, "\n" + pad + "  ")


def _emit_sequence(data: list[Any], indent: int, out: list[str], memo: _Memo) -> None:
    """Writes a non-empty block sequence whose first dash's line prefix is already written."""
    pad = " " * indent
    write = out.append
    for i, item in enumerate(data):
        write("-" if not i else pad + "-")
        if type(item) is str:
            text = _VALUES.get(item) or _value(item)
            write(text if text is not _LITERAL else _literal(item, indent + 2))
        else:  # a collection in a list starts on the dash's line
            _emit_node(item, indent + 2, out, memo, " ")


def _emit_node(value: Any, indent: int, out: list[str], memo: _Memo, lead: str) -> None:
    """Any value but a string after ``key:`` or ``-``; ``lead`` starts a nested collection."""
    if type(value) is dict or type(value) is list:
        if value:
            out.append(lead)
            _emit_shared(value, indent, out, memo)
        else:
            out.append(" {}\n" if type(value) is dict else " []\n")
    elif type(value) is str:
        text = _VALUES.get(value) or _value(value)
        out.append(text if text is not _LITERAL else _literal(value, indent))
    else:
        out.append(" " + _other(value) + "\n")


def _emit_shared(
    value: dict[Any, Any] | list[Any], indent: int, out: list[str], memo: _Memo
) -> None:
    """Writes a collection, or repeats its text if this dump already wrote it at this indent.

    Builders share one object wherever a file repeats the same block (a test
    expects the same alerts at many instants); it is written in full each time,
    never as a YAML alias, but built as text only once.
    """
    seen = memo.get(id(value))
    if seen is not None and seen[0] == indent:
        if seen[3] is None:
            seen[3] = "".join(out[seen[1] : seen[2]])
        out.append(seen[3])
        return
    start = len(out)
    if type(value) is dict:
        _emit_mapping(value, indent, out, memo)
    else:
        # mypy narrows the union only for isinstance(), not for `type(value) is dict`
        _emit_sequence(cast(list[Any], value), indent, out, memo)
    if seen is None:
        memo[id(value)] = [indent, start, len(out), None]


def _other(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if type(value) is int:
        return str(value)
    if type(value) is float:
        if value != value or value in (float("inf"), float("-inf")):
            raise _Unsupported
        text = repr(value).lower()
        if "." not in text and "e" in text:
            text = text.replace("e", ".0e", 1)
        return text
    raise _Unsupported


_LITERAL = "literal"  # _value's answer (compared by identity) for strings written as blocks
_VALUES: dict[str, str] = {}  # value -> " text\n" as written after "key:" or "-"
_KEYS: dict[str, str] = {}  # key -> "text:"
_MAX_CACHED = 200_000
_MAX_LENGTH = 4_000  # longer strings may be folded at width 10,000: PyYAML's business
_RESOLVER = yaml.resolver.Resolver()
_STR_TAG = "tag:yaml.org,2002:str"


def _key(key: Any) -> str:
    if type(key) is not str:
        raise _Unsupported
    analysis = _analyse(key)
    if analysis.multiline or len(key) > 120:  # PyYAML writes those as complex keys
        raise _Unsupported
    text = _quote(key, analysis, simple_key=True) + ":"
    if len(_KEYS) < _MAX_CACHED:
        _KEYS[key] = text
    return text


def _value(value: str) -> str:
    analysis = _analyse(value)
    if analysis.multiline:
        if not analysis.block_allowed or analysis.literal_keeps or analysis.leading_blank:
            raise _Unsupported  # double-quoted, or block headers PyYAML adorns
        text = _LITERAL
    else:
        text = " " + _quote(value, analysis, simple_key=False) + "\n"
    if len(_VALUES) < _MAX_CACHED:
        _VALUES[value] = text
    return text


def _quote(value: str, analysis: _Analysis, simple_key: bool) -> str:
    """Plain when the emitter allows it and the text reads back as a string, else single-quoted."""
    plain_reads_as_str = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False)) == _STR_TAG
    if analysis.block_plain and plain_reads_as_str and not (simple_key and not value):
        return value
    if analysis.single_quoted:
        return "'" + value.replace("'", "''") + "'"
    raise _Unsupported  # double-quoted: escapes PyYAML's emitter decides


def _literal(value: str, indent: int) -> str:
    pad = " " * indent
    body = value[:-1] if value.endswith("\n") else value
    lines = "".join(pad + line + "\n" if line else "\n" for line in body.split("\n"))
    return (" |\n" if value.endswith("\n") else " |-\n") + lines


# Characters the emitter treats as printable (with allow_unicode), less the
# Unicode line and paragraph separators, which it treats as line breaks.
_PRINTABLE = re.compile("[\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]*")
_INDICATOR_FIRST = frozenset("#,[]{}&*!|>'\"%@`")
_INDICATOR_INSIDE = re.compile(r":(?:[ \n]|$)|[ \n]#")


class _Analysis:
    __slots__ = (
        "block_allowed",
        "block_plain",
        "leading_blank",
        "literal_keeps",
        "multiline",
        "single_quoted",
    )

    def __init__(self, value: str) -> None:
        self.multiline = "\n" in value
        self.leading_blank = value[:1] in (" ", "\n")
        trailing_blank = value[-1:] in (" ", "\n")
        space_then_break, break_then_space = " \n" in value, "\n " in value
        self.block_plain = not (
            self.multiline
            or self.leading_blank
            or trailing_blank
            or break_then_space
            or space_then_break
            or _has_indicator(value)
        )
        self.single_quoted = not (break_then_space or space_then_break)
        self.block_allowed = bool(value) and not (value.endswith(" ") or space_then_break)
        self.literal_keeps = value.endswith("\n\n") or value == "\n"


def _has_indicator(value: str) -> bool:
    """Would a plain scalar read as YAML syntax (libyaml's rules for block context)?"""
    if not value:
        return False
    first = value[0]
    if first in _INDICATOR_FIRST or value.startswith(("---", "...")):
        return True
    if first in "?:-" and value[1:2] in ("", " ", "\n"):
        return True
    return _INDICATOR_INSIDE.search(value) is not None


def _analyse(value: str) -> _Analysis:
    if len(value) > _MAX_LENGTH or not _PRINTABLE.fullmatch(value):
        raise _Unsupported
    return _Analysis(value)
