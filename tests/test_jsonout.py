"""jsonout.dumps writes exactly the text json.dumps does with the options dashboards use."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from grafanalib._gen import DashboardEncoder
from hypothesis import given, settings
from hypothesis import strategies as st
from sloforge.build import dashboards
from sloforge.model.artifacts import JsonFile
from sloforge.output import jsonout
from sloforge.output.serialize import render
from sloforge.pipeline import load

ROOT = Path(__file__).resolve().parent.parent


def _reference(data: Any, **options: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, **options)


AWKWARD = {
    "unicode and emoji": ["é", "日本語", "😀", "\u2028\u2029", "\u00a0", "\ufeff"],
    "escapes": ['"quoted"', "back\\slash", "a\nb\rc\td\b\f", "\x00\x01\x1f\x7f", "</script>"],
    "structural characters inside strings": ["{", "}", "[", "]", ",", ": ", '{"a": [1, 2]}'],
    "floats json prints in exponent form": [1e-05, 1e16, 1.5e300, 5e-324, 2.5e-07],
    "floats with a sign or no fraction": [-0.0, 0.0, 1.0, -1.0, 0.1, 0.25, 99.9, 1 / 3],
    "floats json spells out": [math.inf, -math.inf, math.nan],
    "integers, big and negative": [0, -1, 2**63, -(2**70), 10**30],
    "booleans and null": [True, False, None, [True, False, None]],
    "empty containers, nested": {"a": [], "b": {}, "c": [[]], "d": [{}], "e": {"f": {"g": []}}},
    "deep nesting": {"a": [{"b": [{"c": [[[1, {"d": None}]]]}]}]},
    "keys sorted by code point": {"b": 1, "a": 2, "B": 3, "é": 4, "_": 5, "a b": 6, "": 7},
    "keys that need escaping": {'"': 1, "\n": 2, "ü": 3, "\\": 4},
    "a tuple is an array": {"t": (1, "two", (3,)), "empty": ()},
    "top-level string": "just a string\twith a tab",
    "top-level number": 1e-05,
    "top-level null": None,
    "top-level empty array": [],
}


@pytest.mark.parametrize("data", AWKWARD.values(), ids=AWKWARD.keys())
def test_awkward_values_are_written_as_json_dumps_writes_them(data):
    assert jsonout.dumps(data) == _reference(data)


class _Label(str):
    pass


class _Count(int):
    pass


class _Ratio(float):
    pass


class _Mapping(dict):  # type: ignore[type-arg]
    pass


class _Items(list):  # type: ignore[type-arg]
    pass


def test_subclasses_of_json_types_are_written_as_their_base_type():
    data = _Mapping(
        {_Label("k"): _Items([_Label("v"), _Count(3), _Ratio(0.5), _Mapping(), _Items()])}
    )
    assert jsonout.dumps(data) == _reference(data)


class _Panel:
    def __init__(self, title: str, *inner: _Panel) -> None:
        self.title = title
        self.inner = inner

    def to_json_data(self) -> dict[str, Any]:
        return {"title": self.title, "gridPos": (0, 8), "panels": list(self.inner)}


def test_default_turns_other_objects_into_json_at_their_own_depth():
    data = {"panels": [_Panel("outer", _Panel("inner")), _Panel("")]}

    def default(value: Any) -> Any:
        return value.to_json_data()

    assert jsonout.dumps(data, default=default) == _reference(data, default=default)


def test_a_value_appearing_more_than_once_is_written_right_at_each_depth():
    shared = {"mode": "absolute", "steps": [{"color": "green", "value": None}]}
    data = {"a": shared, "b": shared, "c": [shared, {"deeper": shared}], "d": [shared["steps"]]}
    assert jsonout.dumps(data) == _reference(data)


class _Fresh:
    def __init__(self, n: int) -> None:
        self.n = n

    def to_json_data(self) -> dict[str, Any]:
        return {"n": self.n}


def test_values_default_makes_and_drops_are_not_taken_for_one_another():
    # Each dict `default` makes is dropped once written; CPython hands its memory, and so its
    # id, to the next one, which must not be mistaken for a value written before.
    data = [_Fresh(n) for n in range(50)]

    def default(value: Any) -> Any:
        return value.to_json_data()

    assert jsonout.dumps(data, default=default) == _reference(data, default=default)


def test_an_object_without_default_is_a_type_error_as_in_json():
    with pytest.raises(TypeError, match="Object of type _Panel is not JSON serializable"):
        jsonout.dumps({"panel": _Panel("p")})


KEYS = {
    "integer keys sort as numbers": {10: "ten", 9: "nine", -1: "minus one"},
    "float keys": {0.5: "half", 1e16: "big", -0.0: "minus zero", math.inf: "infinite"},
    "boolean and null keys": {True: 1, False: 0},
    "a null key": {None: "nothing"},
}


@pytest.mark.parametrize("data", KEYS.values(), ids=KEYS.keys())
def test_keys_that_are_not_strings_are_named_as_json_dumps_names_them(data):
    assert jsonout.dumps(data) == _reference(data)


def test_a_key_json_cannot_name_is_the_same_type_error():
    with pytest.raises(TypeError, match="keys must be str, int, float, bool or None, not tuple"):
        jsonout.dumps({(1, 2): "pair"})
    with pytest.raises(TypeError, match="keys must be str, int, float, bool or None, not tuple"):
        _reference({(1, 2): "pair"})


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=6), children, max_size=4)
        | st.dictionaries(st.integers() | st.floats(), children, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(_json_values)
def test_any_json_value_is_written_as_json_dumps_writes_it(data):
    assert jsonout.dumps(data) == _reference(data)


def test_the_example_dashboards_are_written_as_json_dumps_with_grafanalib_writes_them():
    project = load([ROOT / "slo"]).project
    built = [dashboards.overview(project)]
    built += [dashboards.service_dashboard(s, project.settings) for s in project.services]
    for dashboard in built:
        expected = _reference(dashboard, cls=DashboardEncoder) + "\n"
        assert render(JsonFile(dashboard)) == expected.encode("utf-8"), dashboard["title"]


@pytest.mark.parametrize("first, then", [(1, 1.0), (1.0, 1), (0.0, -0.0), (-0.0, 0.0)])
def test_thresholds_equal_in_python_but_not_in_json_do_not_share_a_panel_look(first, then):
    for value in (first, then):
        panel = dashboards._timeseries("t", [], "none", steps=[(None, "green"), (value, "red")])
        steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
        assert json.dumps(steps[1]["value"]) == json.dumps(value)
