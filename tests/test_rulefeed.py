"""Generated tests feed raw series through the user's recording rules.

A structured alert over a recorded series is tested by feeding the rule's own inputs, so
promtool runs the user's PromQL: the generated tests pass on the rules they were generated
from and fail, on promtool 2.x and 3.x, when a rule reads another metric, loses or changes a
label, or inverts its ratio. Shapes the tests cannot invert are injected and say so.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from sloforge.build import promtests, rulefeed
from sloforge.model.domain import Alert, RecordingRule, Service, Settings, Threshold
from sloforge.model.promql import parse_selector
from sloforge_testlib import FIXTURES, compile_to, promtool_test, sloforge
from toolbox import binaries

FIXTURE = FIXTURES / "slo" / "recorded-alerts.yaml"


def _service(rules: dict[str, str], metric: str, above: float = 1.0) -> Service:
    alert = Alert(
        service="svc",
        name="SvcAlert",
        expr=f"{metric} > {above}",
        for_=300,
        severity="warning",
        labels=(("severity", "warning"),),
        annotations=(("summary", "s"),),
        runbook="",
        summary="s",
        threshold=Threshold(parse_selector(metric), ">", above),
    )
    return Service(
        name="svc",
        owner=None,
        description="",
        source="svc.yaml",
        labels=(),
        recording_rules=tuple(RecordingRule(r, e) for r, e in rules.items()),
        alerts=(alert,),
    )


# (id, rules, the alert's metric, the reason its test injects instead of feeding)
INJECTED = [
    (
        "a histogram_quantile rule is not modelled",
        {"job:p95": 'histogram_quantile(0.95, sum by (le) (rate(d_bucket{job="a"}[5m])))'},
        "job:p95",
        "histogram_quantile() is not modelled",
    ),
    (
        "group_left matching is not supported",
        {"job:r": "a / on (job) group_left (x) b"},
        "job:r",
        "job:r: group_left/group_right matching is not supported here",
    ),
    (
        "a selector with offset is not supported",
        {"job:r": "sum(rate(a[5m] offset 1h))"},
        "job:r",
        "job:r: a selector with offset or @ is not supported here",
    ),
    (
        "a rule that reads a record listed after it sees it one evaluation late",
        {"job:r": "job:base * 2", "job:base": "sum(a)"},
        "job:r",
        "job:base is read by a rule listed before it, which sees it one evaluation late",
    ),
    (
        "a rate over a recorded series is not modelled",
        {"job:base": "sum(a)", "job:r": "sum(rate(job:base[5m]))"},
        "job:r",
        "rate() over the recorded series job:base",
    ),
    (
        "a rate over one sample interval is not modelled",
        {"job:r": "sum(rate(a[1m]))"},
        "job:r",
        "rate() over a range shorter than 2m",
    ),
    (
        "a rule no input value can push over the threshold",
        {"job:r": "count(a)"},
        "job:r",
        "no values of its inputs make it record 1.1",
    ),
]


@pytest.mark.parametrize(
    ("rules", "metric", "reason"), [c[1:] for c in INJECTED], ids=[c[0] for c in INJECTED]
)
def test_shapes_that_cannot_be_inverted_are_injected_with_the_reason(
    rules: dict[str, str], metric: str, reason: str
) -> None:
    service = _service(rules, metric)
    feeder = rulefeed.summary(service, Settings())
    assert feeder.injected == {"SvcAlert": reason}
    docs, notes = promtests.test_documents(service, Settings())
    assert f"injected, not fed: SvcAlert: {reason}" in notes
    (doc,) = docs.values()
    injected = [g for g in doc["tests"] if "alert_rule_test" in g]
    assert {s["series"].split("{")[0] for g in injected for s in g["input_series"]} == {metric}


# (id, rules, the alert's metric and threshold, the raw series its fed test writes)
FED = [
    (
        "errors among all requests of one counter get a series of their own and the rest",
        {
            "job:e": 'sum by (job) (rate(r{job="a", code=~"5.."}[5m]))'
            ' / sum by (job) (rate(r{job="a"}[5m]))'
        },
        'job:e{job="a"}',
        0.05,
        ['r{code="500", job="a"}', 'r{job="a"}'],
    ),
    (
        "an empty alternative in the errors' regex still leaves the total a series of its own",
        {
            "job:e": 'sum by (job) (rate(r{job="a", code=~"5..|"}[5m]))'
            ' / sum by (job) (rate(r{job="a"}[5m]))'
        },
        'job:e{job="a"}',
        0.05,
        ['r{code="500", job="a"}', 'r{code="example", job="a"}'],
    ),
    (
        "a chain of records is followed to its raw inputs",
        {"job:a": "sum by (job) (rate(a[5m]))", "job:b": "job:a * 2"},
        "job:b",
        100,
        ["a"],
    ),
    (
        "the age of a timestamp is fed as a clock",
        {"job:age": "time() - ts"},
        "job:age",
        3600,
        ["ts"],
    ),
]


@pytest.mark.parametrize(
    ("rules", "metric", "above", "series"), [c[1:] for c in FED], ids=[c[0] for c in FED]
)
def test_supported_shapes_are_fed_from_raw_series(
    rules: dict[str, str], metric: str, above: float, series: list[str]
) -> None:
    service = _service(rules, metric, above)
    feeder = rulefeed.Feeder(service)
    groups = feeder.alert_groups(service.alerts[0], Settings())
    assert groups is not None, feeder.injected
    assert [s["series"] for s in groups[0]["input_series"]] == series
    assert feeder.counts() == (len(rules), len(rules))


def test_the_fixture_header_counts_fed_rules_and_names_what_is_injected() -> None:
    header = (FIXTURE.parent / "recorded-alerts.yaml").read_text()
    assert "recording_rules" in header
    result = sloforge("explain", str(FIXTURE))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "recorded: generated tests feed 10 of 11 recording rules from raw series",
        "  injected, not fed: RecordedCheckoutSlow: histogram_quantile() is not modelled",
        "  not fed: recording rule job:checkout_latency:p95: histogram_quantile() is not modelled",
    ]


# (id, record, what is broken, (old, new) in its expression)
BROKEN = [
    (
        "ratio reads another metric",
        "job:gateway_requests_errors:ratio_rate5m",
        ('gateway_requests_total{job="shop", result', 'gateway_request_total{job="shop", result'),
    ),
    (
        "ratio loses its job label",
        "job:gateway_requests_errors:ratio_rate5m",
        ("sum by (job)", "sum by (instance)"),
    ),
    ("ratio inverted", "job:gateway_requests_errors:ratio_rate5m", None),
    (
        "chain's base rate reads another metric",
        "job:orders:rate5m",
        ("orders_total", "order_total"),
    ),
    ("chain's ratio inverted", "job:orders_failed:ratio_rate5m", None),
    (
        "gauge ratio reads another job",
        "instance:db_connections:utilisation_ratio",
        ('(db_connections{job="db"})', '(db_connections{job="database"})'),
    ),
    (
        "hit ratio counts misses",
        "job:cache_hits:ratio_rate10m",
        ("rate(cache_hits_total", "rate(cache_misses_total"),
    ),
    (
        "cpu utilisation reads the user mode",
        "instance:cpu_utilisation:rate5m",
        ('mode=~"idle|iowait"', 'mode="user"'),
    ),
    (
        "network rate keeps the loopback device only",
        "instance:network_transmit_bytes:rate5m",
        ('device!="lo"', 'device="lo"'),
    ),
    (
        "age reads another timestamp",
        "job:export_age:seconds",
        ("export_last_success", "export_last_start"),
    ),
    ("a rule no alert reads reads another job", "job:queue_depth:min", ('job="queue"', 'job="q"')),
]


def _inverted(expr: str) -> str:
    top, _, bottom = expr.strip().partition("\n/ ")
    if not bottom:
        top, _, bottom = expr.partition(" / ")
    return f"{bottom.strip()} / ({top.strip()})"


@pytest.mark.slow
@pytest.mark.parametrize("promtool", [p for _, p in binaries("promtool")] or ["promtool"])
def test_generated_tests_fail_when_a_recording_rule_is_broken(
    tmp_path: Path, promtool: str
) -> None:
    out = tmp_path / "out"
    compile_to([FIXTURE], out)
    rules_path = out / "prometheus" / "rules" / "recorded.rules.yml"
    test_file = out / "prometheus" / "tests" / "recorded.test.yml"
    passed = promtool_test(promtool, test_file)
    assert passed.returncode == 0, passed.stdout + passed.stderr

    original = yaml.safe_load(rules_path.read_text())
    survivors = []
    for name, record, change in BROKEN:
        mutated = yaml.safe_load(rules_path.read_text())
        rule = next(r for g in mutated["groups"] for r in g["rules"] if r.get("record") == record)
        before = rule["expr"]
        rule["expr"] = _inverted(before) if change is None else before.replace(*change)
        assert rule["expr"] != before, name
        copy = tmp_path / name.replace(" ", "-").replace("'", "")
        shutil.copytree(out, copy)
        (copy / rules_path.relative_to(out)).write_text(yaml.safe_dump(mutated, sort_keys=False))
        result = promtool_test(promtool, copy / test_file.relative_to(out))
        if result.returncode == 0:
            survivors.append(name)
        else:
            # the check of the broken record names it, with the value it should hold
            assert f"round({record} * " in result.stdout + result.stderr, name
    assert original == yaml.safe_load(rules_path.read_text())
    assert not survivors, f"the generated tests passed with a broken rule: {survivors}"
