"""The direct YAML emitter writes exactly what PyYAML's emitter writes for the same data."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sloforge.output import yamlout

ROOT = Path(__file__).resolve().parent.parent

# Characters and words that change how a scalar must be written: indicators,
# blanks, breaks, quotes, non-printable and non-BMP characters, and plain texts
# that would read back as another type.
PIECES = [
    *"ab0Z._/=()$+<>~^",
    *":#-?,[]{}&*!|>'\"%@`",
    " ",
    "  ",
    "\n",
    "\n\n",
    "\t",
    "\r",
    "\x85",
    "\u2028",
    "\ufeff",
    "\x07",
    "é",
    "—",
    "😀",
    "true",
    "No",
    "on",
    "null",
    "~",
    "1",
    "-2",
    "0x1F",
    "0o17",
    "1_000",
    "1e3",
    "3.5",
    ".inf",
    ".NaN",
    "2024-01-31",
    "2024-01-31 10:00:00",
    "=",
    "<<",
    "---",
    "...",
    "- ",
    ": ",
    " #",
    "{{ $labels.instance }}",
    'up{job="api"} == 0',
    "rate(x[5m])",
]
texts = st.lists(st.sampled_from(PIECES), max_size=8).map("".join)
scalars = st.one_of(
    texts,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(texts, st.integers(0, 3)), inner, max_size=4),
    ),
    max_leaves=25,
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_random_documents_are_written_as_pyyaml_writes_them(data: object) -> None:
    assert yamlout.dump(data) == yamlout._pyyaml_dump(data)


def _sharing(parts: tuple[object, object]) -> object:
    """One object at several places and depths, as builders share repeated blocks."""
    shared, other = parts
    return {"a": shared, "b": [shared, other, shared], "c": {"d": shared, "e": [[shared]]}}


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.tuples(documents, documents).map(_sharing))
def test_shared_blocks_are_written_in_full_wherever_they_appear(data: object) -> None:
    assert "&id" not in yamlout._pyyaml_dump(data)
    assert yamlout.dump(data) == yamlout._pyyaml_dump(data)


@pytest.mark.parametrize(
    "value",
    [
        "a" * 5000,  # long enough for PyYAML to fold
        "x: y",
        "line one\nline two",
        "trailing newline\n",
        "kept\n\n",
        " leading space\nsecond",
        "space before break \nnext",
        "'quoted'",
        "",
    ],
    ids=repr,
)
def test_edge_strings_as_keys_values_and_items(value: str) -> None:
    for data in ({"k": value}, [value], {"outer": [{"k": value, "j": [value]}]}, {value: 1}):
        assert yamlout.dump(data) == yamlout._pyyaml_dump(data)


def _committed_documents() -> list[object]:
    paths = [
        path
        for folder in (ROOT / "out", ROOT / "tests" / "golden")
        for path in sorted(folder.rglob("*"))
        if path.suffix in (".yml", ".yaml") and "input" not in path.parts
    ]
    return [doc for p in paths for doc in yaml.safe_load_all(p.read_text(encoding="utf-8")) if doc]


def test_generated_documents_take_the_direct_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every document written for the example takes the direct emitter, byte for byte."""
    documents = _committed_documents()
    expected = [yamlout._pyyaml_dump(doc) for doc in documents]

    def refuse(data: object) -> str:
        raise AssertionError("fell back to PyYAML")

    monkeypatch.setattr(yamlout, "_pyyaml_dump", refuse)
    assert [yamlout.dump(doc) for doc in documents] == expected
    assert len(documents) >= 15
