"""Timeslices SLIs: the budget counts bad slices, not bad events.

The rules judge each slice once (1 good, 0 bad), the burn-rate windows count slices,
and the generated promtool tests check both sides of the per-slice threshold and each
tier firing and quiet, on promtool 2.x and 3.x.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sloforge_testlib import FIXTURES, compile_to, promtool_test, sloforge
from toolbox import binaries

FIXTURE = FIXTURES / "slo" / "timeslices.yaml"
PROMTOOLS = binaries("promtool")

HEAD = """\
apiVersion: sloforge/v1
kind: ServiceLevels
service: shop
slos:
  - name: minutes
    objective: 99
"""
RATIO = """\
    sli:
      timeslices:
        slice: {slice}
        ratio:
          errors: http_requests_total{{job="shop", code=~"5.."}}
          total: http_requests_total{{job="shop"}}
        {threshold}
"""

BAD = [
    (
        "a slice that does not divide the windows is refused with each window it breaks",
        HEAD + RATIO.format(slice="7m", threshold="at_least: 0.99"),
        "shop.yaml:9:9: slos[0].sli.timeslices.slice: must divide every window the SLO reads, "
        "so each holds whole slices: 5m, 30m, 1h, 2h, 6h, 1d, 3d, 30d (got 7m)",
    ),
    (
        "a slice shorter than a minute is refused",
        HEAD + RATIO.format(slice="30s", threshold="at_least: 0.99"),
        "shop.yaml:9:9: slos[0].sli.timeslices.slice: must be at least 1m: a slice needs "
        "scraped samples (got 30s)",
    ),
    (
        "a ratio threshold written in percent is refused",
        HEAD + RATIO.format(slice="1m", threshold="at_least: 99"),
        "shop.yaml:13:9: slos[0].sli.timeslices.at_least: is the good share of a slice's "
        "events: above 0 and at most 1 (got 99)",
    ),
    (
        "a ratio judged from below is refused",
        HEAD + RATIO.format(slice="1m", threshold="below: 0.5"),
        "shop.yaml:13:9: slos[0].sli.timeslices.below: a ratio slice is good when enough of "
        "its events are good: use at_least or above",
    ),
    (
        "a slice without a threshold is refused",
        HEAD + "    sli:\n      timeslices:\n        slice: 1m\n        metric: up\n",
        "shop.yaml:8:7: slos[0].sli.timeslices: exactly one per-slice threshold is required: "
        "at_least, above, at_most or below, or `average: true` (got none)",
    ),
    (
        "an average and a threshold together are refused",
        HEAD + RATIO.format(slice="1m", threshold="at_least: 0.99\n        average: true"),
        "shop.yaml:8:7: slos[0].sli.timeslices: `average` counts each slice's ratio: drop "
        "`at_least`",
    ),
    (
        "a traffic guard is refused, since slices without traffic do not count",
        HEAD
        + RATIO.format(slice="1m", threshold="at_least: 0.99")
        + "    alerting:\n      traffic_guard: 0.5\n",
        "shop.yaml:15:7: slos[0].alerting.traffic_guard: does not apply to a timeslices SLI: "
        "a slice without traffic is not counted at all",
    ),
]


@pytest.mark.parametrize(("why", "text", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_timeslices_get_a_located_error(
    tmp_path: Path, why: str, text: str, message: str
) -> None:
    (tmp_path / "shop.yaml").write_text(text)
    result = sloforge("validate", "shop.yaml", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.splitlines()[:-1] == [message], result.stderr


def _rules(tmp_path: Path) -> dict[str, dict[str, object]]:
    compile_to([FIXTURE], tmp_path / "out")
    doc = yaml.safe_load((tmp_path / "out/prometheus/rules/uptime.rules.yml").read_text())
    return {group["name"]: group for group in doc["groups"]}


def test_each_slice_is_judged_once_per_slice_and_counted_as_one_event(tmp_path: Path) -> None:
    groups = _rules(tmp_path)
    group = groups["sloforge-uptime-slo-good-minutes"]
    assert group["interval"] == "1m"
    rules = group["rules"]
    assert isinstance(rules, list)
    judged, total, errors = rules[:3]
    assert judged["record"] == "slo:sli_timeslice:good1m"
    assert judged["expr"].endswith(") >= bool 0.99")
    sel = 'slo:sli_timeslice:good1m{slo_service="uptime", slo="good-minutes"}'
    assert total == {**total, "record": "slo:sli_total_events:rate1m"}
    assert total["expr"] == f"(0 * {sel} + 1) / 60"
    assert errors["expr"] == f"(1 - {sel}) / 60"


def test_a_metric_slice_is_good_only_when_every_series_is(tmp_path: Path) -> None:
    rules = _rules(tmp_path)["sloforge-uptime-slo-queue-minutes"]["rules"]
    assert isinstance(rules, list)
    assert rules[0]["expr"] == 'min((max_over_time(queue_depth{job="edge"}[1m])) < bool 100)'


# (fixture, its service, the generated test files): 1m slices, and 5m slices of a calendar
# month with one budget per route.
GENERATED = [
    (FIXTURE, "uptime", ["uptime.slow.test.yml", "uptime.test.yml"]),
    (
        FIXTURES / "slo" / "timeslices-calendar.yaml",
        "sla",
        ["sla.calendar.test.yml", "sla.slow.test.yml", "sla.test.yml"],
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize("promtool", [p for _, p in PROMTOOLS], ids=[n for n, _ in PROMTOOLS])
@pytest.mark.parametrize(
    ("fixture", "service", "files"), GENERATED, ids=[f"{g[1]} slices" for g in GENERATED]
)
def test_generated_slice_tests_pass(
    tmp_path: Path, promtool: str, fixture: Path, service: str, files: list[str]
) -> None:
    out = tmp_path / "out"
    compile_to([fixture], out)
    tests = sorted((out / "prometheus" / "tests").glob(f"{service}*.test.yml"))
    assert [t.name for t in tests] == files
    for test in tests:
        assert "# untested" not in test.read_text()
        result = promtool_test(promtool, test)
        assert result.returncode == 0, result.stdout + result.stderr


def test_a_calendar_month_counts_the_slices_judged_in_it(tmp_path: Path) -> None:
    compile_to([FIXTURES / "slo" / "timeslices-calendar.yaml"], tmp_path / "out")
    doc = yaml.safe_load((tmp_path / "out/prometheus/rules/sla.rules.yml").read_text())
    budget = next(
        g for g in doc["groups"] if g["name"] == "sloforge-sla-slo-monthly-minutes-budget"
    )
    total, errors = budget["rules"][:2]
    judged = 'slo:sli_timeslice:good5m{slo_service="sla", slo="monthly-minutes"}[5m]'
    assert total["expr"] == f"count_over_time({judged})"
    assert errors["expr"] == f"count_over_time({judged}) - sum_over_time({judged})"
    tests = yaml.safe_load((tmp_path / "out/prometheus/tests/sla.calendar.test.yml").read_text())
    assert tests["group_eval_order"] == [
        "sloforge-sla-slo-monthly-minutes",
        "sloforge-sla-slo-monthly-minutes-budget",
    ]


def test_verify_looks_for_each_series_a_slice_reads_where_it_is_written() -> None:
    from sloforge.live.locations import Locator
    from sloforge.live.verify import _service_selectors
    from sloforge.pipeline import load

    (service,) = load([FIXTURE]).project.services
    found = [
        (str(c.location).split("/")[-1], c.selector.render(), c.counter)
        for c in _service_selectors(service, Locator([FIXTURE]))
        if c.location is not None
    ]
    # Each at the field that wrote it: errors (line 14), total (15), the metric (23).
    assert found == [
        ("timeslices.yaml:14:11", 'http_requests_total{job="edge", code=~"5.."}', True),
        ("timeslices.yaml:15:11", 'http_requests_total{job="edge"}', True),
        ("timeslices.yaml:23:9", 'queue_depth{job="edge"}', False),
    ]


def test_explain_counts_the_budget_in_slices() -> None:
    result = sloforge("explain", str(FIXTURE), "--slo", "good-minutes")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        "uptime/good-minutes: 99% over 30d (error budget 1% = 432 bad 1m slices), "
        "alert UptimeGoodMinutesBudgetBurn, efficient windows"
    )
