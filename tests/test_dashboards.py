"""Dashboards: well-formed for current Grafana, and every panel query returns data from a real
Prometheus running the generated rules over backfilled synthetic history."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import toolbox
import yaml
from sloforge.build.dashboards import build_dashboards as _build_dashboards
from sloforge.build.dashboards import panel_queries, signal_unit
from sloforge.errors import SpecError
from sloforge.model import conventions as names
from sloforge.model.domain import Project
from sloforge.output.serialize import serialize
from sloforge.pipeline import load
from sloforge.pipeline import prometheus_rules as _prometheus_rules


def build_dashboards(project: Project) -> dict[str, bytes]:
    """What the builder's files hold once written."""
    return serialize(_build_dashboards(project))


def prometheus_rules(project: Project) -> dict[str, bytes]:
    """What the builder's files hold once written."""
    return serialize(_prometheus_rules(project))


ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "dashboards"
HISTORY_MINUTES = 180
ERROR_SHARE = 0.2  # above every page threshold of the fixture, so every alert fires


def _dashboards(path: Path) -> dict[str, dict[str, Any]]:
    files = build_dashboards(load([path]).project)
    return {k: json.loads(v) for k, v in files.items() if k.endswith(".json")}


def _substitute(expr: str, dashboard_path: str) -> str:
    """What Grafana sends with the defaults: a service dashboard's own service (a constant),
    every service on the overview and every SLO ("All" is ".*")."""
    name = Path(dashboard_path).stem
    service = ".*" if name == names.OVERVIEW_DASHBOARD else name
    return expr.replace("$service", service).replace("$slo", ".*")


@pytest.fixture(scope="module")
def example() -> dict[str, dict[str, Any]]:
    return _dashboards(ROOT / "slo")


def test_the_example_gets_an_overview_and_one_dashboard_per_service(example):
    services = [s.name for s in load([ROOT / "slo"]).project.services]
    overviews = [names.OVERVIEW_DASHBOARD, names.BUSINESS_DASHBOARD]
    expected = {names.dashboard_file(n) for n in [*overviews, *services]}
    assert set(example) == expected


def test_dashboards_use_a_current_schema_and_the_datasource_variable(example):
    for path, dashboard in example.items():
        assert dashboard["schemaVersion"] >= 36, path
        assert "rows" not in dashboard, path
        variables = {v["name"]: v for v in dashboard["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource", path
        for panel in dashboard["panels"]:
            if panel["type"] == "row":
                continue
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel[
                "title"
            ]
            for target in panel["targets"]:
                assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}


def test_panel_ids_are_unique_and_panels_fit_the_grid(example):
    for path, dashboard in example.items():
        ids = [p["id"] for p in dashboard["panels"]]
        assert len(ids) == len(set(ids)), path
        for panel in dashboard["panels"]:
            pos = panel["gridPos"]
            assert pos["x"] >= 0 and pos["w"] > 0 and pos["x"] + pos["w"] <= 24, (
                path,
                panel["title"],
            )


def test_every_query_of_the_example_parses(example):
    count = 0
    for path, dashboard in example.items():
        for _, expr in panel_queries(dashboard):
            promql_parser.parse(_substitute(expr, path))
            count += 1
    assert count > 100


def test_the_service_dashboards_have_a_row_per_slo(example):
    for service in load([ROOT / "slo"]).project.services:
        rows = [
            p["title"]
            for p in example[names.dashboard_file(service.name)]["panels"]
            if p["type"] == "row"
        ]
        for slo in service.slos:
            assert any(r.startswith(f"SLO {slo.name}:") for r in rows), (
                service.name,
                slo.name,
                rows,
            )


def test_the_overview_table_sorts_by_burn_rate(example):
    table = example[names.dashboard_file(names.OVERVIEW_DASHBOARD)]["panels"][0]
    assert table["type"] == "table"
    assert table["options"]["sortBy"] == [{"desc": True, "displayName": "Burn rate"}]
    renamed = table["transformations"][1]["options"]["renameByName"]
    assert "Burn rate" in renamed.values()


def test_dashboards_are_byte_identical_across_runs():
    project = load([ROOT / "slo"]).project
    assert build_dashboards(project) == build_dashboards(project)


def test_the_provisioning_file_points_grafana_at_the_dashboards():
    files = build_dashboards(load([FIXTURE]).project)
    doc = yaml.safe_load(files[names.GRAFANA_PROVISIONING_FILE])
    assert doc["apiVersion"] == 1
    assert doc["providers"][0]["type"] == "file"
    assert doc["providers"][0]["options"]["path"].endswith("/dashboards")


# --- a real Prometheus ------------------------------------------------------------------------


def _openmetrics(end: int) -> str:
    """HISTORY_MINUTES of 1-minute samples ending at ``end``, 20% bad in every SLI."""
    series: dict[str, list[tuple[int, float]]] = {}

    def add(name: str, value: float, ts: int) -> None:
        series.setdefault(name, []).append((ts, value))

    per_minute = 60
    bad = per_minute * ERROR_SHARE
    for i in range(HISTORY_MINUTES + 1):
        ts = end - (HISTORY_MINUTES - i) * 60
        for route in ("/buy", "/cart"):
            add(
                f'http_requests_total{{job="shop",route="{route}",code="200"}}',
                i * (per_minute - bad),
                ts,
            )
            add(f'http_requests_total{{job="shop",route="{route}",code="500"}}', i * bad, ts)
        for le, share in (("0.25", 0.5), ("0.5", 1 - ERROR_SHARE), ("+Inf", 1.0)):
            add(
                f'http_request_duration_seconds_bucket{{job="shop",le="{le}"}}',
                i * per_minute * share,
                ts,
            )
        add('http_request_duration_seconds_count{job="shop"}', i * per_minute, ts)
        add(
            'probe_success{job="blackbox",instance="https://shop.example.com"}',
            0 if i % 5 == 0 else 1,
            ts,
        )
        add('orders_total{job="shop"}', i * per_minute, ts)
        add('orders_failed_total{job="shop"}', i * bad, ts)
        add('node_cpu_utilisation_ratio{job="node",instance="node-1"}', 0.7, ts)
    lines = [f"{name} {value:g} {ts}" for name, samples in series.items() for ts, value in samples]
    return "\n".join(lines) + "\n# EOF\n"


def _query(base: str, expr: str) -> list[Any]:
    url = f"{base}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
    with urllib.request.urlopen(url, timeout=10) as resp:
        body = json.load(resp)
    assert body["status"] == "success", (expr, body)
    return body["data"]["result"]


@pytest.fixture(scope="module", params=["stable", "current"])
def prometheus_with_history(request, tmp_path_factory):
    promtool, prometheus = toolbox.release(request.param)
    tmp = tmp_path_factory.mktemp("dashboards")
    project = load([FIXTURE]).project
    docs = [
        (Path(rel).name, yaml.safe_load(content))
        for rel, content in prometheus_rules(project).items()
    ]
    rule_files = toolbox.every_second(docs, tmp)
    storage = tmp / "data"
    toolbox.backfill(promtool, _openmetrics(int(time.time()) - 5), storage)
    config = tmp / "prometheus.yml"
    config.write_text(
        yaml.safe_dump({"global": {"evaluation_interval": "1s"}, "rule_files": rule_files})
    )
    with toolbox.prometheus(config, storage, binary=prometheus) as base:
        deadline = time.monotonic() + 60
        while not (toolbox.rules_evaluated(base) and _query(base, names.ALERTS_METRIC)):
            assert time.monotonic() < deadline, "rules were not evaluated within 60 s"
            time.sleep(1)
        time.sleep(2)  # one more round, so the alert groups saw the period recordings too
        yield base, project


@pytest.mark.slow
def test_every_panel_query_returns_data(prometheus_with_history):
    base, project = prometheus_with_history
    files = build_dashboards(project)
    empty = []
    checked = 0
    for path, content in sorted(files.items()):
        if not path.endswith(".json"):
            continue
        for title, expr in panel_queries(json.loads(content)):
            checked += 1
            if not _query(base, _substitute(expr, path)):
                empty.append(f"{path}: {title}: {expr}")
    assert checked > 30
    assert not empty, "queries without data:\n" + "\n".join(empty)


@pytest.mark.slow
def test_the_30d_budget_has_a_value_after_a_few_hours_of_history(prometheus_with_history):
    base, _ = prometheus_with_history
    result = _query(
        base, 'slo:period_error_budget_remaining:ratio{slo_service="shop", slo="availability"}'
    )
    assert len(result) == 1
    # 20% errors against a 1% budget: the budget is overspent 20 times.
    assert float(result[0]["value"][1]) == pytest.approx(1 - ERROR_SHARE / 0.01, rel=0.05)


# --- units and numbers people read -----------------------------------------------------------


def test_every_panel_shows_a_unit(example):
    missing = []
    for path, dashboard in example.items():
        for panel in dashboard["panels"]:
            if panel["type"] == "row":
                continue
            if panel["fieldConfig"]["defaults"].get("unit") in (None, "", "none"):
                missing.append(f"{path}: {panel['title']}")
    assert missing == []


@pytest.mark.parametrize(
    ("metric", "unit"),
    [
        pytest.param(
            "instance:node_memory_utilisation:ratio", "percentunit", id="a ratio is a share"
        ),
        pytest.param(
            "instance:node_cpu_utilisation:rate5m", "percentunit", id="utilisation is a share"
        ),
        pytest.param(
            "instance:node_network_transmit_bytes_excluding_lo:rate5m",
            "Bps",
            id="a rate of bytes is bytes per second",
        ),
        pytest.param("node_filesystem_avail_bytes", "bytes", id="bytes are bytes"),
        pytest.param("pg_replication_lag_seconds", "s", id="seconds are a duration"),
        pytest.param("redis_up", "bool_yes_no", id="an up gauge reads yes or no"),
        pytest.param(
            "rabbitmq_queue_messages_ready", "short", id="anything else is a plain number"
        ),
    ],
)
def test_a_signal_panel_takes_its_unit_from_the_metric_name(metric, unit):
    assert signal_unit(metric) == unit


@pytest.mark.parametrize(
    ("fragment", "unit"),
    [
        pytest.param('probe: probe_success{job="b"}', "suffix: probes/s", id="probes are probes"),
        pytest.param(
            "ratio: {errors: 'http_requests_total{code=\"500\"}', total: http_requests_total}",
            "reqps",
            id="http requests are requests",
        ),
        pytest.param(
            "ratio: {errors: orders_failed_total, total: orders_total}",
            "suffix: events/s",
            id="orders are events",
        ),
    ],
)
def test_event_panels_name_what_is_counted(tmp_path, fragment, unit):
    (tmp_path / "s.yaml").write_text(
        "apiVersion: sloforge/v1\nkind: ServiceLevels\nservice: s\n"
        f"slos:\n  - name: a\n    objective: 99.9\n    sli:\n      {fragment}\n"
    )
    dashboard = _dashboards(tmp_path)[names.dashboard_file("s")]
    events = [p for p in dashboard["panels"] if p.get("title") == "Events per second"]
    assert [p["fieldConfig"]["defaults"]["unit"] for p in events] == [unit]
    sli = next(p for p in dashboard["panels"] if p.get("title") == "SLI against its objective")
    # 99.9 / 100 is 0.9990000000000001 in floating point; people wrote 0.999.
    assert sli["fieldConfig"]["defaults"]["thresholds"]["steps"][1] == {
        "color": "green",
        "value": 0.999,
    }


# --- panels of your own ------------------------------------------------------------------------

SERVICE = """\
apiVersion: sloforge/v1
kind: ServiceLevels
service: shop
slos:
  - name: availability
    objective: 99.9
    sli:
      ratio:
        errors: http_requests_total{job="shop", code=~"5.."}
        total: http_requests_total{job="shop"}
dashboard:
  rows:
    - row: Mine
      panels:
"""


@pytest.mark.parametrize(
    ("panel", "message"),
    [
        pytest.param(
            "        - {title: A, queries: ['sum(rate(x[5m])']}\n",
            "s.yaml:15:32: dashboard.rows[0].panels[0].queries[0]: "
            "invalid PromQL: unclosed left parenthesis",
            id="a query that is not PromQL is located",
        ),
        pytest.param(
            "        - {title: A, queries: [x], kind: graph}\n",
            "s.yaml:15:36: dashboard.rows[0].panels[0].kind: "
            "must be 'timeseries', 'stat', 'gauge' or 'table' (got 'graph')",
            id="an unknown panel kind lists the kinds",
        ),
        pytest.param(
            "        - {title: A, queries: [x], thresholds: [{value: 2}, {value: 1}]}\n",
            "s.yaml:15:11: dashboard.rows[0].panels[0]: "
            "`thresholds` values must be ascending and distinct",
            id="thresholds out of order",
        ),
        pytest.param(
            "        - {title: A, queries: [x], alerts: [ShopAvailabilityBudgetBrun]}\n",
            "s.yaml:15:45: dashboard.rows[0].panels[0].alerts[0]: "
            "`ShopAvailabilityBudgetBrun` is not an alert of this service, "
            "did you mean `ShopAvailabilityBudgetBurn`?",
            id="a panel naming an alert the service does not have",
        ),
    ],
)
def test_a_bad_panel_is_a_located_error(tmp_path, panel, message):
    (tmp_path / "s.yaml").write_text(SERVICE + panel)
    with pytest.raises(SpecError) as err:
        load([tmp_path])
    assert str(err.value).splitlines() == [f"{(tmp_path / 's.yaml').as_posix()}:{message[7:]}"]


def test_panels_of_your_own_follow_the_generated_rows(tmp_path):
    (tmp_path / "s.yaml").write_text(
        SERVICE
        + "        - title: Errors by route\n"
        + "          queries: [{expr: 'sum by (route) (rate(x[5m]))', legend: '{{route}}'}]\n"
        + "          unit: reqps\n"
        + "          thresholds: [{value: 1.5, color: orange}]\n"
        + "          width: 12\n"
        + "        - {title: Now, kind: stat, queries: [y], unit: percentunit}\n"
    )
    panels = _dashboards(tmp_path)[names.dashboard_file("shop")]["panels"]
    row = next(i for i, p in enumerate(panels) if p["title"] == "Mine")
    assert row > 1 and panels[row]["type"] == "row"
    graph, stat = panels[row + 1], panels[row + 2]
    assert (graph["type"], graph["gridPos"]["w"], stat["type"]) == ("timeseries", 12, "stat")
    assert graph["targets"][0]["legendFormat"] == "{{route}}"
    assert graph["fieldConfig"]["defaults"]["unit"] == "reqps"
    assert graph["fieldConfig"]["defaults"]["thresholds"]["steps"] == [
        {"color": "green", "value": None},
        {"color": "orange", "value": 1.5},
    ]
    assert stat["fieldConfig"]["defaults"]["unit"] == "percentunit"
    assert stat["targets"][0]["expr"] == "y"


def test_business_alerts_and_rows_make_the_business_dashboard():
    dashboards = _dashboards(FIXTURE)
    business = dashboards[names.dashboard_file(names.BUSINESS_DASHBOARD)]
    titles = [p["title"] for p in business["panels"]]
    assert titles == [
        "shop: business alerts",
        "shop: business alerts pending and firing",
        "ShopOrdersFailing",
        "Orders",
        "Orders per second",
    ]
    shop = [p["title"] for p in dashboards[names.dashboard_file("shop")]["panels"]]
    assert "ShopOrdersFailing" not in shop and "ShopCpuHigh" in shop


def test_no_business_dashboard_without_business_metrics(example):
    assert names.dashboard_file(names.BUSINESS_DASHBOARD) in example
    assert names.dashboard_file(names.BUSINESS_DASHBOARD) not in _dashboards(
        ROOT / "slo" / "platform-saturation.yaml"
    )


def test_alerts_on_one_metric_share_a_panel_with_each_threshold_drawn(example):
    platform = example[names.dashboard_file("platform")]["panels"]
    cpu = next(p for p in platform if p["title"] == "NodeCpuBusy, NodeCpuSaturated")
    assert cpu["fieldConfig"]["defaults"]["thresholds"]["steps"] == [
        {"color": "green", "value": None},
        {"color": "yellow", "value": 0.8},
        {"color": "orange", "value": 0.9},
    ]
    assert cpu["fieldConfig"]["defaults"]["unit"] == "percentunit"


def test_errors_are_shown_by_status_code_and_as_a_ratio_against_the_budget():
    shop = _dashboards(FIXTURE)[names.dashboard_file("shop")]["panels"]
    by_code = next(p for p in shop if p["title"] == "Errors per second by status code")
    assert [t["expr"] for t in by_code["targets"]] == [
        'sum by (code) (rate(http_requests_total{job="shop", code=~"5.."}[5m]))'
    ]
    ratio = next(
        p for p in shop if p["title"] == "Error ratio (availability) against its objective"
    )
    assert ratio["fieldConfig"]["defaults"]["thresholds"]["steps"][1] == {
        "color": "red",
        "value": 0.01,
    }


def test_the_overview_burns_down_each_budget_over_its_own_period():
    overview = _dashboards(FIXTURE)[names.dashboard_file(names.OVERVIEW_DASHBOARD)]["panels"]
    burn = {p["title"]: p for p in overview if p.get("timeFrom")}
    assert {t: p["timeFrom"] for t, p in burn.items()} == {
        "shop / availability: 99% over 30d": "30d",
        "shop / route-availability: 99% over 30d": "30d",
        "shop / latency: 99% over 7d": "7d",
        "shop / probe: 99.5% over 30d": "30d",
        "shop / orders: 99% over 28d": "28d",
    }
    assert burn["shop / latency: 99% over 7d"]["targets"][0]["expr"] == (
        'slo:period_error_budget_remaining:ratio{slo_service="shop", slo="latency"}'
    )


def test_a_baseline_alert_draws_its_metric_between_its_recorded_bounds(example):
    business = example[names.dashboard_file(names.BUSINESS_DASHBOARD)]["panels"]
    panel = next(
        p for p in business if p["title"] == "PaymentsSuccessRatioAnomalous: against its baseline"
    )
    scope = '{baseline="PaymentsSuccessRatioAnomalous", slo_service="payments-api"}'
    assert [(t["legendFormat"], t["expr"]) for t in panel["targets"]] == [
        ("value", 'job:payments_transactions_success:ratio_rate15m{job="payments-api"}'),
        (
            "lower bound",
            f"(baseline:mean:1d{scope} - 3 * baseline:stddev:1d{scope})",
        ),
    ]
    assert panel["fieldConfig"]["defaults"]["unit"] == "percentunit"
