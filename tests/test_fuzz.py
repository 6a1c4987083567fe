"""Property-based fuzzing: whatever the input, a clean refusal or output the real tools accept.

Two generators: mutations of valid documents (the example repository in slo/
and small inline ones: fields deleted, duplicated, retyped, swapped, renamed,
odd strings injected) and random documents built from sloforge's own field
names. For each input the only acceptable outcomes are

- a SpecError or another SloforgeError, with a located, non-empty message, or
- output whose every path stays inside the output directory, whose rule files
  `promtool check rules` accepts and whose alertmanager.yml `amtool
  check-config` accepts (checked on a subset in the default run).

`make fuzz` runs the same properties with thousands of examples
(SLOFORGE_FUZZ=<examples>) and writes the figures to bench/fuzz-results.json.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import toolbox
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sloforge.errors import SloforgeError, SpecError
from sloforge.pipeline import build_outputs, load
from sloforge.spec.models import AlertRoutingSpec, ServiceLevelsSpec
from sloforge.spec.validate import _field_names
from sloforge.tools import binaries as tools

ROOT = Path(__file__).resolve().parent.parent
CAMPAIGN = int(os.environ.get("SLOFORGE_FUZZ", "0") or 0)

settings.register_profile(
    "suite",
    max_examples=60,
    deadline=None,
    derandomize=True,  # the same examples every run: `make test` must not flake
    suppress_health_check=list(HealthCheck),
)
settings.register_profile(
    "campaign",
    max_examples=max(CAMPAIGN, 1),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
PROFILE = "campaign" if CAMPAIGN else "suite"
# In the default run only the first few accepted outputs go through promtool/amtool.
TOOL_CHECKS = 10**9 if CAMPAIGN else 12

SMALL_SEEDS: list[list[dict[str, Any]]] = [
    [
        {
            "apiVersion": "sloforge/v1",
            "kind": "ServiceLevels",
            "service": "shop",
            "owner": "shop",
            "labels": {"tier": "1"},
            "slos": [
                {
                    "name": "availability",
                    "description": "Requests served without a server error.",
                    "objective": 99.9,
                    "sli": {
                        "ratio": {
                            "errors": 'http_requests_total{job="shop", code=~"5.."}',
                            "total": 'http_requests_total{job="shop"}',
                            "group_by": ["route"],
                        }
                    },
                    "alerting": {"page": {"annotations": {"hint": "{{ $labels.route }}"}}},
                },
                {
                    "name": "latency",
                    "objective": 99,
                    "window": "7d",
                    "sli": {
                        "latency": {
                            "histogram": "http_request_duration_seconds",
                            "matchers": '{job="shop"}',
                            "threshold": 0.5,
                        }
                    },
                },
                {"name": "probe", "objective": 99.5, "sli": {"probe": 'probe_success{job="bb"}'}},
                {
                    "name": "query",
                    "objective": 95,
                    "sli": {
                        "query": {
                            "errors": "sum(rate(errors_total[$window]))",
                            "total": "sum(rate(requests_total[$window]))",
                        }
                    },
                },
            ],
            "alerts": [
                {
                    "name": "ShopDown",
                    "metric": 'up{job="shop"}',
                    "below": 1,
                    "for": "5m",
                    "severity": "critical",
                    "summary": "Shop target {{ $labels.instance }} is down",
                    "runbook": "Check the pods.",
                },
                {
                    "name": "ShopErrors",
                    "expr": "sum(rate(errors_total[5m])) > 1",
                    "severity": "warning",
                    "description": "{{ $value }} errors/s",
                },
            ],
            "recording_rules": [{"record": "job:up:sum", "expr": "sum by (job) (up)"}],
        },
        {
            "apiVersion": "sloforge/v1",
            "kind": "AlertRouting",
            "smtp": {"smarthost": "smtp.example.com:587", "from": "am@example.com"},
            "receivers": [
                {"name": "mail", "email": {"to": "team@example.com"}},
                {"name": "hook", "webhook": {"url": "http://hooks.internal/am"}},
            ],
            "routes": [{"matchers": {"severity": "critical"}, "receivers": ["hook", "mail"]}],
            "default_receiver": "mail",
            "time_intervals": {"office": [{"weekdays": ["monday:friday"]}]},
            "expect": [{"labels": {"severity": "critical"}, "receivers": ["hook", "mail"]}],
        },
    ]
]


def repository_seeds() -> list[list[dict[str, Any]]]:
    """Each document of the example repository alone (its routing with nothing else)."""
    seeds = []
    for path in sorted((ROOT / "slo").glob("*.yaml")):
        seeds += [[doc] for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
    return seeds


SEEDS = SMALL_SEEDS + repository_seeds()

ODD_STRINGS = [
    "",
    " ",
    "..",
    "../../etc/passwd",
    "a/b",
    "UPPER",
    "with space",
    'quo"te',
    "back\\slash",
    "new\nline",
    "tab\tchar",
    "{{ 7*7 }}",
    "{% for x in y %}",
    "$window",
    "Zürich",
    "💥",
    "\u202e",
    "NaN",
    "1e309",
    "-1",
    "5m",
    "99.9",
    "x" * 300,
    "}{",
    "[",
    "`",
    "|",
    "<!-- -->",
    "#",
    "*",
    "up == 0",
    'up{job="x"}',
    "sum(rate(x[$window]))",
]

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(ODD_STRINGS),
    st.text(max_size=20),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)

Path_ = tuple[str | int, ...]


def paths(node: Any, prefix: Path_ = ()) -> Iterator[Path_]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from paths(value, (*prefix, i))


def get(node: Any, path: Path_) -> Any:
    for part in path:
        node = node[part]
    return node


def put(node: Any, path: Path_, value: Any) -> None:
    get(node, path[:-1])[path[-1]] = value


@st.composite
def mutated(draw: st.DrawFn) -> list[Any]:
    docs: list[Any] = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(docs) - 1))
        candidates = [p for p in paths(docs[i]) if p]
        if not candidates:
            docs[i] = draw(VALUES)
            continue
        path = draw(st.sampled_from(candidates))
        parent, last = get(docs[i], path[:-1]), path[-1]
        op = draw(st.sampled_from(["delete", "duplicate", "retype", "swap", "inject", "rename"]))
        if op == "delete":
            del parent[last]
        elif op == "duplicate" and isinstance(parent, list):
            parent.insert(int(last), copy.deepcopy(parent[int(last)]))
        elif op == "duplicate":
            parent[f"{last}_copy"] = copy.deepcopy(parent[last])
        elif op == "retype":
            parent[last] = draw(VALUES)
        elif op == "swap":
            other = draw(st.sampled_from(candidates))
            with_other = copy.deepcopy(get(docs[i], other))
            mine = copy.deepcopy(parent[last])
            try:
                put(docs[i], other, mine)
                put(docs[i], path, with_other)
            except (KeyError, IndexError, TypeError):
                pass  # one path lies inside the other and vanished with the first swap
        elif op == "inject":
            odd = draw(st.sampled_from(ODD_STRINGS))
            old = parent[last]
            parent[last] = (old + odd) if isinstance(old, str) and draw(st.booleans()) else odd
        elif op == "rename" and isinstance(parent, dict) and isinstance(last, str) and last:
            cut = draw(st.integers(0, len(last) - 1))
            parent[last[:cut] + last[cut + 1 :]] = parent.pop(last)
    return docs


@st.composite
def odd_text(draw: st.DrawFn) -> list[Any]:
    """Valid structure, odd strings in text leaves: reaches the builders and the escaping."""
    docs: list[Any] = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(docs) - 1))
        leaves = [p for p in paths(docs[i]) if p and isinstance(get(docs[i], p), str)]
        if leaves:
            path = draw(st.sampled_from(leaves))
            odd = draw(st.sampled_from(ODD_STRINGS) | st.text(max_size=12))
            put(docs[i], path, get(docs[i], path) + odd if draw(st.booleans()) else odd)
    return docs


VOCABULARY = sorted(_field_names(ServiceLevelsSpec) | _field_names(AlertRoutingSpec))


@st.composite
def random_documents(draw: st.DrawFn) -> list[Any]:
    fields = st.dictionaries(st.sampled_from(VOCABULARY) | st.text(max_size=6), VALUES, max_size=6)
    doc = draw(fields)
    doc["apiVersion"] = draw(st.sampled_from(["sloforge/v1", "sloforge/v1", "prometheus/v1", "x"]))
    doc["kind"] = draw(st.sampled_from(["ServiceLevels", "AlertRouting", "Settings", "Nope"]))
    if draw(st.booleans()):
        doc["service"] = draw(st.sampled_from(["svc", "Svc", "a/b", ""]))
        doc["slos"] = draw(
            st.lists(st.dictionaries(st.sampled_from(VOCABULARY), VALUES, max_size=5), max_size=3)
        )
    return [doc]


# --- the property ---------------------------------------------------------------------------------

STATS: Counter[str] = Counter()


def check_input(docs: list[Any]) -> None:
    STATS["examples"] += 1
    with tempfile.TemporaryDirectory(prefix="sloforge-fuzz-") as tmp:
        source = Path(tmp) / "in" / "fuzz.yaml"
        source.parent.mkdir()
        source.write_text(
            yaml.safe_dump_all(docs, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
        try:
            files = build_outputs(load([source.parent]).project)
        except SpecError as exc:
            assert exc.problems, "a SpecError without problems"
            for problem in exc.problems:
                assert problem.location.file == source.parent.joinpath("fuzz.yaml").as_posix()
                assert problem.message.strip()
            STATS["refused: spec error"] += 1
            return
        except SloforgeError as exc:
            assert str(exc).strip()
            STATS[f"refused: {type(exc).__name__}"] += 1
            return
        STATS["accepted"] += 1
        for rel in files:
            assert not rel.startswith("/") and ".." not in Path(rel).parts, rel
        if STATS["tool checked"] < TOOL_CHECKS:
            STATS["tool checked"] += 1
            check_with_tools(Path(tmp) / "out", files)


def check_with_tools(out: Path, files: dict[str, bytes]) -> None:
    for rel, content in files.items():
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    for rules in sorted((out / "prometheus" / "rules").glob("*.yml")):
        result = tools.run("promtool", ["check", "rules", str(rules)], timeout=120)
        assert result.returncode == 0, f"promtool rejected {rules.name}:\n{result.output}"
        STATS["promtool check rules"] += 1
    config = out / "alertmanager" / "alertmanager.yml"
    if config.exists():
        result = tools.run("amtool", ["check-config", str(config)], timeout=120)
        assert result.returncode == 0, f"amtool rejected alertmanager.yml:\n{result.output}"
        STATS["amtool check-config"] += 1


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    toolbox.require("promtool")
    toolbox.require("amtool")
    started = time.monotonic()
    yield
    figures = dict(
        sorted(STATS.items()), seconds=round(time.monotonic() - started, 1), profile=PROFILE
    )
    print("\nfuzz:", json.dumps(figures))
    if CAMPAIGN:
        results = ROOT / "bench" / "fuzz-results.json"
        results.parent.mkdir(exist_ok=True)
        results.write_text(json.dumps(figures, indent=2) + "\n")


@pytest.mark.slow
@settings(settings.get_profile(PROFILE))
@given(mutated())
def test_mutated_documents_are_refused_cleanly_or_compile_to_valid_output(docs: list[Any]) -> None:
    check_input(docs)


@pytest.mark.slow
@settings(settings.get_profile(PROFILE))
@given(odd_text())
def test_odd_text_in_any_field_is_refused_cleanly_or_compiles_to_valid_output(
    docs: list[Any],
) -> None:
    check_input(docs)


@settings(settings.get_profile(PROFILE))
@given(random_documents())
def test_random_documents_are_refused_cleanly_or_compile_to_valid_output(docs: list[Any]) -> None:
    check_input(docs)


def test_the_seeds_themselves_compile() -> None:
    """Mutations start from valid documents, or most would only test the first check."""
    for seed in SEEDS:
        load_documents(seed)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("requre_tls", True, "unknown email field `requre_tls`, did you mean `require_tls`?"),
        ("to_copy", "team@example.com", "unknown email field `to_copy`"),
        ("to", [], "must be text (got a list)"),
        ("require_tls", "yes please", "must be true or false (got 'yes please')"),
        (
            "threading",
            {"enabled": True},
            "`threading` needs Alertmanager 0.30 or newer; this configuration targets 0.25 "
            "(raise `alertmanager_version` if your Alertmanager is newer)",
        ),
    ],
    ids=[
        "a misspelt field",
        "an unknown field",
        "a list where text belongs",
        "text where a boolean belongs",
        "a field newer than the targeted Alertmanager",
    ],
)
def test_a_bad_field_in_an_integration_block_is_refused_before_amtool(
    field: str, value: Any, message: str
) -> None:
    routing = copy.deepcopy(SMALL_SEEDS[0][1])
    routing["receivers"][0]["email"][field] = value
    with pytest.raises(SpecError) as refused:
        load_documents([SMALL_SEEDS[0][0], routing])
    assert [(p.path, p.message) for p in refused.value.problems] == [
        (f"receivers[0].email.{field}", message)
    ]


def test_a_broken_go_template_in_a_label_is_refused_before_promtool() -> None:
    service = copy.deepcopy(SMALL_SEEDS[0][0])
    service["alerts"][0]["severity"] = "{{ 7*7 }}"
    with pytest.raises(SpecError) as refused:
        load_documents([service])
    assert [(p.path, p.message) for p in refused.value.problems] == [
        (
            "alerts[0].severity",
            "Prometheus cannot parse this template: bad character U+002A '*'",
        )
    ]


def load_documents(docs: list[Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "docs.yaml"
        path.write_text(yaml.safe_dump_all(docs, allow_unicode=True), encoding="utf-8")
        load([path])


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "",
            "is not a valid annotation name: use letters, digits and underscores, not starting "
            "with a digit (got '')",
        ),
        (
            "runbook-url",
            "is not a valid annotation name: use letters, digits and underscores, not starting "
            "with a digit (got 'runbook-url'), e.g. 'runbook_url'",
        ),
    ],
    ids=["an empty annotation name", "an annotation name with a dash"],
)
def test_an_annotation_name_promtool_refuses_is_refused_before_promtool(
    name: str, message: str
) -> None:
    """Found by the fuzzer: promtool refused the rules with "invalid annotation name"."""
    service = copy.deepcopy(SMALL_SEEDS[0][0])
    service["slos"][0]["alerting"]["page"]["annotations"][name] = "x"
    with pytest.raises(SpecError) as refused:
        load_documents([service])
    assert [(p.path, p.message) for p in refused.value.problems] == [
        (f"slos[0].alerting.page.annotations.{name}", message)
    ]
