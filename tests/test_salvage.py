# ruff: noqa: E501 - whole messages read best on one line each
"""A refused document is salvaged for the cross checks (spec/partial.py): whatever shape a
field has, salvage keeps a value of the field's type or drops it, never crashes the checks
and never makes them report something that is not wrong.

Table-driven cases pin what each shape becomes; property tests put every shape (a list
where a mapping belongs, a number where text belongs, None, nested garbage) at any depth
of the example documents and check the typing guarantee (``conforms``) and that
validation still answers with located problems only, none naming a defined receiver, time
interval or alert as unknown.
"""

from __future__ import annotations

import copy
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sloforge.cli import app
from sloforge.errors import SpecError
from sloforge.pipeline import load
from sloforge.spec.models import (
    KINDS,
    AlertRoutingSpec,
    RouteSpec,
    ServiceLevelsSpec,
    SLOSpec,
)
from sloforge.spec.partial import conforms, refused_fields, salvage
from sloforge_testlib import lay_out
from test_fuzz import CAMPAIGN, SEEDS, paths, put
from typer.testing import CliRunner

runner = CliRunner()

# --- what each shape becomes ---------------------------------------------------------------------

SLO = {"name": "availability", "objective": 99.9, "sli": {"probe": 'probe_success{job="x"}'}}
ROUTING = {
    "apiVersion": "sloforge/v1",
    "kind": "AlertRouting",
    "receivers": [{"name": "mail", "email": {"to": "a@example.com"}}],
    "routes": [{"receivers": ["mail"]}],
    "default_receiver": "mail",
    "time_intervals": {"hours": [{"weekdays": ["monday"]}]},
}


def slo(**fields: Any) -> dict[str, Any]:
    return {**SLO, **fields}


def routing(**fields: Any) -> dict[str, Any]:
    return {**copy.deepcopy(ROUTING), **fields}


SALVAGED = [
    (
        "a list where text belongs is dropped to the default",
        SLOSpec,
        slo(description=["a"]),
        "description",
        "",
    ),
    (
        "a mapping where a list belongs is dropped to the default",
        SLOSpec,
        slo(labels=["a"]),
        "labels",
        {},
    ),
    (
        "None where a mapping belongs is dropped to the default",
        SLOSpec,
        slo(labels=None),
        "labels",
        {},
    ),
    (
        "a number where text belongs is kept as text, as the model reads it",
        SLOSpec,
        slo(description=12),
        "description",
        "12",
    ),
    (
        "a boolean where a number belongs is dropped to the default",
        SLOSpec,
        slo(window=True),
        "window",
        "30d",
    ),
    (
        "a required text field the validators refuse keeps the text written",
        SLOSpec,
        slo(name="Not A Name"),
        "name",
        "Not A Name",
    ),
    (
        "a required number its constraints refuse is kept, to compare",
        SLOSpec,
        slo(objective=100),
        "objective",
        100,
    ),
    (
        "a required sub-model that is text drops the whole model",
        SLOSpec,
        slo(sli="ratio"),
        None,
        None,
    ),
    (
        "a required name that is a list drops the whole model",
        SLOSpec,
        slo(name=["availability"]),
        None,
        None,
    ),
    ("a required name that is None drops the whole model", SLOSpec, slo(name=None), None, None),
    ("a required list that is text drops the route", RouteSpec, {"receivers": "mail"}, None, None),
    (
        "nested garbage in a sub-model keeps the sub-model's valid fields",
        SLOSpec,
        slo(alerting={"name": {"a": [1]}, "page": {"disable": True}}),
        "alerting.page.disable",
        True,
    ),
    (
        "a list of models keeps refused items as None gaps",
        AlertRoutingSpec,
        routing(routes=[{"receivers": 5}, {"receivers": ["mail"]}]),
        "routes.0",
        None,
    ),
    (
        "a mapping of models keeps every name, and the fields and items that can be read",
        AlertRoutingSpec,
        routing(
            time_intervals={
                "bad": "monday",
                "hours": [{"weekdays": "monday"}, 5, {"weekdays": ["sunday"]}],
            }
        ),
        "time_intervals",
        {"bad": [], "hours": [{}, None, {"weekdays": ["sunday"]}]},
    ),
    (
        "a mapping of models with a non-text key drops that entry",
        AlertRoutingSpec,
        routing(time_intervals={("a",): [], "hours": []}),
        "time_intervals",
        {"hours": []},
    ),
    (
        "a receiver's integration blocks are kept as written, whatever their shape",
        AlertRoutingSpec,
        routing(receivers=[{"name": "mail", "email": [[None]]}], routes=7),
        "receivers.0.email",
        [[None]],
    ),
]


REFUSED = [
    ("a field of the wrong shape", slo(labels=["a"]), {"labels"}),
    ("a required name its validators refuse", slo(name="Not A Name"), {"name"}),
    ("a required objective its constraints refuse", slo(objective=100), {"objective"}),
    ("a field that validates", slo(description="fine", window="month"), set()),
]


@pytest.mark.parametrize(
    ("data", "fields"), [case[1:] for case in REFUSED], ids=[case[0] for case in REFUSED]
)
def test_salvage_lists_every_field_it_refused_so_checks_skip_them(
    data: dict[str, Any], fields: set[str]
) -> None:
    # The sli names two kinds, so the SLO is refused and salvaged field by field.
    assert refused_fields(salvage(SLOSpec, {**data, "sli": {"probe": "up", "ratio": 1}})) == fields


def pick(value: Any, dotted: str) -> Any:
    """The salvaged value at ``dotted`` (list indexes as numbers), models as plain data."""
    for part in dotted.split("."):
        if isinstance(value, list):
            value = value[int(part)]
        elif isinstance(value, dict):
            value = value[part]
        else:
            value = getattr(value, part)
    return plain(value)


def plain(value: Any) -> Any:
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if hasattr(value, "model_dump"):
        return value.model_dump(exclude_defaults=True)
    return value


@pytest.mark.parametrize(
    ("model", "data", "field", "kept"),
    [case[1:] for case in SALVAGED],
    ids=[case[0] for case in SALVAGED],
)
def test_salvage_keeps_a_value_of_the_fields_type_or_drops_it(
    model: type[Any], data: dict[str, Any], field: str | None, kept: Any
) -> None:
    salvaged = salvage(model, data)
    if field is None:
        assert salvaged is None
        return
    assert salvaged is not None and conforms(model, salvaged)
    assert pick(salvaged, field) == kept


# --- misleading messages, seen before salvage was type-safe -------------------------------------

ROUTING_YAML = """\
apiVersion: sloforge/v1
kind: AlertRouting
receivers:
  - name: mail
    email: {to: a@example.com, smarthost: "smtp.example.com:25", from: am@example.com}
routes:
  - matchers: {severity: critical}
    receivers: mail
  - matchers: {severity: warning}
    receivers: [mail]
    active_during: [business-hours]
default_receiver: mail
time_intervals:
  business-hours:
    - {weekdays: ["monday:friday"]}
  maintenance:
    - {weekdays: friday}
mute_during: [maintenance]
"""

SERVICE_YAML = """\
apiVersion: sloforge/v1
kind: ServiceLevels
service: shop
slos:
  - name: availability
    objective: 99.9
    sli: {probe: 'probe_success{job="shop"}'}
    alerting: {traffic_guard: lots}
  - name: latency
    sli: {probe: 'probe_success{job="shop"}'}
alerts:
  - name: ShopDown
    expr: up{job="shop"} == 0
  - name: ShopSlow
    expr: up{job="shop"} == 0
    severity: warning
dashboard:
  rows:
    - row: Overview
      panels:
        - title: Up
          queries: ['up{job="shop"}']
          alerts: [ShopDown, ShopSlow, ShopGone, ShopLatencyBudgetBurn]
"""


def test_refused_items_are_not_reported_again_as_unknown_references(tmp_path: Path) -> None:
    """A route's receivers written as text, a time interval with a bad entry, an alert with
    no severity and an SLO with no objective are each one mistake: the routes, mute_during
    and panels that name them are not "unknown" (only ShopGone is)."""
    lay_out(tmp_path, {"in/routing.yaml": ROUTING_YAML, "in/shop.yaml": SERVICE_YAML})
    result = runner.invoke(app, ["validate", str(tmp_path / "in")])
    assert (result.exit_code, result.output.replace(f"{tmp_path}/", "")) == (
        1,
        "in/routing.yaml:8:5: routes[0].receivers: must be a list (got 'mail')\n"
        "in/routing.yaml:17:8: time_intervals.maintenance[0].weekdays: must be a list (got 'friday')\n"
        "in/shop.yaml:8:16: slos[0].alerting.traffic_guard: must be a number (got 'lots')\n"
        "in/shop.yaml:9:5: slos[1].objective: missing required field `objective`\n"
        "in/shop.yaml:12:5: alerts[0].severity: missing required field `severity`\n"
        "in/shop.yaml:23:40: dashboard.rows[0].panels[0].alerts[2]: `ShopGone` is not an alert of this service, did you mean `ShopSlow`?\n"
        "6 problems in 2 files\n",
    )


# --- properties ----------------------------------------------------------------------------------

GARBAGE = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=True)
    | st.text(max_size=6)
    | st.sampled_from(["", "5m", "99.9", "mail", "business-hours", "{{ x }}"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=5,
)
# The shapes a tired hand writes: each a wrong kind of value for most fields.
SHAPES = st.one_of(
    st.just(None),
    st.just([]),
    st.just({}),
    st.integers(-5, 10**4),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.text(max_size=8),
    st.lists(st.text(max_size=4), min_size=1, max_size=2),
    st.dictionaries(st.text(max_size=4), st.text(max_size=4), min_size=1, max_size=2),
    GARBAGE,
)


@st.composite
def reshaped(draw: st.DrawFn) -> list[Any]:
    """A document of the example repository (or a small seed) with 1-3 fields, at any depth,
    replaced by another shape."""
    docs: list[Any] = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(docs) - 1))
        candidates = [p for p in paths(docs[i]) if p and p[0] not in ("apiVersion", "kind")]
        if candidates:
            put(docs[i], draw(st.sampled_from(candidates)), draw(SHAPES))
    return docs


# `make fuzz` (SLOFORGE_FUZZ=<examples>) runs these with random seeds too.
PROPERTY = settings(
    max_examples=CAMPAIGN or 150,
    deadline=None,
    derandomize=not CAMPAIGN,
    suppress_health_check=list(HealthCheck),
)


@PROPERTY
@given(reshaped())
def test_whatever_shape_a_field_has_salvage_keeps_its_type_or_drops_it(docs: list[Any]) -> None:
    for doc in docs:
        model = KINDS[doc["kind"]]
        salvaged = salvage(model, doc)
        assert salvaged is None or conforms(model, salvaged), salvaged


UNKNOWN = re.compile(
    r"unknown (?:receiver|time interval) `(?P<a>[^`]*)`|^`(?P<b>[^`]*)` is not an alert of this service"
)


def written_names(docs: list[Any]) -> set[str]:
    """Receiver, time interval and alert names as written, valid or not."""
    found: set[str] = set()
    for doc in docs:
        for key in ("receivers", "alerts"):
            items = doc.get(key)
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict) and isinstance(item.get("name"), str):
                    found.add(item["name"])
        intervals = doc.get("time_intervals")
        found |= (
            {k for k in intervals if isinstance(k, str)} if isinstance(intervals, dict) else set()
        )
    return found


@PROPERTY
@given(reshaped())
def test_whatever_shape_a_field_has_validate_answers_with_located_problems_only(
    docs: list[Any],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "docs.yaml"
        source.write_text(yaml.safe_dump_all(docs, allow_unicode=True), encoding="utf-8")
        try:
            load([source])
        except SpecError as exc:
            problems = exc.problems
        else:
            return
    assert problems
    defined = written_names(docs)
    for problem in problems:
        assert problem.location.file == source.as_posix() and problem.location.line >= 1
        assert problem.message.strip()
        assert not re.search(r"NoneType|object at 0x|<class ", problem.message), problem.message
        unknown = UNKNOWN.search(problem.message)
        if unknown:
            name = unknown.group("a") or unknown.group("b")
            assert name not in defined, f"{problem.path}: {problem.message}"


def test_the_property_reaches_every_kind_of_document() -> None:
    kinds = {doc["kind"] for seed in SEEDS for doc in seed}
    assert kinds == {"ServiceLevels", "AlertRouting", "Settings"}
    assert ServiceLevelsSpec in KINDS.values() and AlertRoutingSpec in KINDS.values()
