"""Every Sloth, Pyrra and OpenSLO document in tests/fixtures/foreign imports, validates and
generates rules promtool accepts, or fails with the whole message listed below.

``sloforge import`` is checked to print a document that compiles to exactly the
rules the foreign file compiles to directly.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from sloforge.errors import SpecError
from sloforge.migrate.importer import Imported, import_paths, render
from sloforge.pipeline import build_outputs, import_file, load
from toolbox import ROOT, require

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "import"
FOREIGN = Path(__file__).resolve().parent / "fixtures" / "foreign"

NOTHING = "NOTHING"  # parts of an OpenSLO SLO: load to no service, import says so
_SLOTH = "cannot convert Sloth document"
_OPENSLO = "cannot convert OpenSLO document"

# File (or folder, loaded as a whole) -> None when it must import and generate, else the
# whole error: "{file}" stands for its path, "{here}" for the folder of the corpus.
EXPECTED: dict[str, str | None] = {
    "sloth/http-events.yml": None,
    "sloth/k8s-events.yaml": None,
    "sloth/two-services.yml": None,
    "sloth/raw-ratio.yml": None,
    "sloth/no-alerts.yml": None,
    "sloth/openslo-v1alpha.yml": None,
    # only the sloth.dev/core/debug plugin, which changes nothing
    "sloth/debug-plugin.yml": None,
    "sloth/alerting-severity.yml": None,
    "sloth/trailing-separator.yml": None,
    "sloth/sli-plugin.yml": (
        f"{{file}}:8:7: {_SLOTH}: slos[0].sli.plugin: Sloth SLI plugin "
        "'sloth-common/kubernetes/apiserver/availability' is Go code sloforge cannot run; "
        "write its queries as `events`"
    ),
    "sloth/slo-plugin.yml": (
        f"{{file}}:9:11: {_SLOTH}: slos[0].plugins.chain[0].id: Sloth SLO plugin "
        "'sloth.dev/contrib/denominator_corrected_rules/v1' changes the generated rules in Go "
        "code sloforge cannot run"
    ),
    "sloth/bad-version.yml": (
        f"{{file}}:1:1: {_SLOTH}: version: unsupported Sloth version 'prometheus/v999'; "
        "sloforge reads prometheus/v1 and sloth.slok.dev/v1"
    ),
    "sloth/bad-objective.yml": "{file}:11:5: slos[1].objective: must be less than 100 (got 101)",
    # `spec.service: ""` is on line 7 of the Kubernetes resource, named as written there.
    "sloth/bad-empty-service.yaml": (
        "{file}:7:3: spec.service: must be lower-case letters, digits and dashes, starting with a "
        "letter or digit, because it names output files (got '')"
    ),
    "sloth/bad-no-sli-kind.yml": (
        f"{{file}}:6:5: {_SLOTH}: slos[0].sli: a Sloth SLI needs `events` or `raw`"
    ),
    "sloth/bad-empty-alert-name.yml": (
        f"{{file}}:11:7: {_SLOTH}: slos[0].alerting.name: is empty; give the alert a name or "
        "leave the field out"
    ),
    "sloth/bad-duplicate-slo.yml": (
        "{file}:10:5: slos[1].name: duplicate SLO name `availability` (first at {file}:4:5)"
    ),
    "sloth/duplicate-service": (
        "{file}/b.yml:2:1: service: service `storefront` is already defined at {file}/a.yml:2:1"
    ),
    "pyrra/ratio-grouped.yaml": None,
    "pyrra/window-14d.yaml": None,
    "pyrra/latency-histogram.yaml": None,
    "pyrra/latency-and-errors.yaml": None,
    "pyrra/probe-grouped.yaml": None,
    "pyrra/kubectl-list.yaml": None,
    "pyrra/native-latency.yaml": (
        "{file}:11:5: cannot convert Pyrra document: spec.indicator.latencyNative: "
        "native-histogram latency SLOs are not supported; use a classic histogram (`latency`)"
    ),
    "openslo/placeholder-source.yaml": (
        f"{{file}}:19:13: {_OPENSLO}: spec.indicator.spec.ratioMetric.total.metricSource.type: "
        "metric source 'Datadog' is not Prometheus"
    ),
    "openslo/ratio-timeslices.yaml": (
        f"{{file}}:24:7: {_OPENSLO}: spec.objectives[0]: time-slice budgeting needs "
        "`timeSliceWindow` (e.g. 1m)"
    ),
    "openslo/timeslices-ratio.yaml": None,
    "openslo/timeslices-threshold.yaml": None,
    "openslo/ratio-timeslices-window.yaml": None,
    "openslo/timeslices-v1alpha.yaml": None,
    "openslo/calendar-window.yaml": None,
    "openslo/bad-calendar-quarter.yaml": (
        f"{{file}}:21:7: {_OPENSLO}: spec.timeWindow[0].duration: a calendar window of '3M' is "
        "not supported; sloforge's calendar periods are a month (1M) or a week (1w)"
    ),
    "openslo/parts-only.yaml": NOTHING,
    "openslo/references": None,
    "openslo/bad-missing-reference.yaml": (
        f"{{file}}:8:3: {_OPENSLO}: spec.indicatorRef: refers to SLI 'order-errors', which no "
        "document in the same file or directories defines (known: order-error)"
    ),
}


def _corpus() -> list[str]:
    files = {p.relative_to(FOREIGN).as_posix() for p in FOREIGN.glob("*/*") if p.suffix != ".md"}
    return sorted(files)


def _message(path: str) -> str:
    return str(EXPECTED[path]).format(file=(FOREIGN / path).as_posix())


def _tool(path: str) -> str:
    if path.startswith("pyrra/"):
        return "pyrra"
    if path.startswith("openslo/") or "openslo" in Path(path).name:
        return "openslo"
    return "sloth"


def _expected(path: str) -> str | None:
    return EXPECTED[path]


def _rule_files(files: dict[str, bytes]) -> dict[str, bytes]:
    return {k: v for k, v in files.items() if k.startswith("prometheus/rules/")}


def _promtool_check(tmp_path: Path, files: dict[str, bytes]) -> None:
    promtool = require("promtool")
    paths = []
    for name, body in files.items():
        path = tmp_path / Path(name).name
        path.write_bytes(body)
        paths.append(str(path))
    result = subprocess.run(
        [promtool, "check", "rules", *paths], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_foreign_fixture_has_an_expectation() -> None:
    assert _corpus() == sorted(EXPECTED)


@pytest.mark.slow
@pytest.mark.parametrize("path", _corpus())
def test_foreign_document_imports_validates_and_generates_or_fails_with_its_message(
    path: str, tmp_path: Path
) -> None:
    source = FOREIGN / path
    reason = _expected(path)
    if reason == NOTHING:
        # Parts of an OpenSLO SLO (SLI, AlertPolicy…) compile to nothing; importing one says so.
        assert not load([source]).project.services
        with pytest.raises(SpecError) as caught:
            import_file(_tool(path), str(source))
        assert str(caught.value) == (
            f"{source.as_posix()}: holds no openslo SLO to convert "
            "(OpenSLO SLI, AlertPolicy… are read only inlined in an SLO)"
        )
        return
    if reason is not None:
        with pytest.raises(SpecError) as caught:
            load([source])
        assert str(caught.value) == _message(path)
        return
    project = load([source]).project
    assert project.services, "a file that imports must yield at least one service"
    rules = _rule_files(build_outputs(project))
    assert len(rules) == len(project.services)
    _promtool_check(tmp_path, rules)


@pytest.mark.parametrize("path", [p for p in _corpus() if _expected(p) is None])
def test_import_command_prints_a_document_that_compiles_to_the_same_rules(
    path: str, tmp_path: Path
) -> None:
    source = FOREIGN / path
    (result,) = (
        {r.target: r for r in import_paths([source])}.values()
        if source.is_file()
        else [_merged(import_paths([source]))]
    )
    assert result.converted, result.problems
    text = render(result)
    assert text.startswith("# Converted by `sloforge import")
    assert all(doc["apiVersion"] == "sloforge/v1" for doc in yaml.safe_load_all(text))
    converted = tmp_path / "converted.yaml"
    converted.write_text(text)
    direct = _rule_files(build_outputs(load([source]).project))
    again = _rule_files(build_outputs(load([converted]).project))
    strip = lambda files: {k: v.split(b"\n", 1)[1] for k, v in files.items()}  # noqa: E731 - header names the source
    assert strip(again) == strip(direct)


def _merged(results: list[Imported]) -> Imported:
    """A folder fixture converts file by file; its SLOs come from the one converted file."""
    (converted,) = [r for r in results if r.converted]
    assert all(r.converted or r.skipped for r in results)
    return converted


def test_import_refuses_a_file_of_another_tool() -> None:
    with pytest.raises(SpecError) as caught:
        import_file("pyrra", str(FOREIGN / "sloth/http-events.yml"))
    assert "not a pyrra document: found 'prometheus/v1', expected pyrra.dev" in str(caught.value)


# --- conversions pinned field by field ----------------------------------------------


def _imported(tool: str, path: Path) -> list[dict]:
    return list(yaml.safe_load_all(import_file(tool, str(path))))


def test_sloth_window_template_and_severity_label_map_to_sloforge_fields() -> None:
    (doc,) = _imported("sloth", FOREIGN / "sloth/http-events.yml")
    slo = doc["slos"][0]
    assert slo["sli"]["query"]["errors"].endswith('code=~"(5..|429)"}[$window]))')
    assert slo["alerting"]["page"] == {
        "severity": "pageteam",
        "labels": {"routing_key": "web-oncall"},
    }
    assert slo["alerting"]["ticket"] == {
        "severity": "slack",
        "labels": {"slack_channel": "#alerts-web"},
    }


def test_sloth_raw_ratio_becomes_an_exact_query_sli() -> None:
    (doc,) = _imported("sloth", FOREIGN / "sloth/raw-ratio.yml")
    slo = doc["slos"][0]
    assert slo["strategy"] == "exact"
    ratio = "1 - avg(avg_over_time(wifi_client_satisfaction_ratio[$window]))"
    # The error ratio over a constant 1 wherever the ratio has data.
    assert slo["sli"]["query"] == {"errors": f"({ratio})", "total": f"0 * ({ratio}) + 1"}


def test_pyrra_tiers_scale_with_the_window() -> None:
    (doc,) = _imported("pyrra", FOREIGN / "pyrra/window-14d.yaml")
    tiers = doc["slos"][0]["alerting"]["tiers"]
    assert doc["slos"][0]["window"] == "14d"
    assert [(t["long_window"], t["short_window"], t["burn_rate"]) for t in tiers] == [
        ("30m", "2m30s", 14),
        ("3h", "15m", 7),
        ("12h", "1h", 2),
        ("2d", "3h", 1),
    ]


def test_pyrra_latency_with_matching_series_becomes_a_histogram_sli() -> None:
    (doc,) = _imported("pyrra", FOREIGN / "pyrra/latency-histogram.yaml")
    assert doc["slos"][0]["sli"]["latency"] == {
        "histogram": "proxy_response_duration_seconds",
        "matchers": '{job="proxy", route="api", code!~"5.."}',
        "threshold": 0.25,
    }


def test_pyrra_latency_whose_bucket_filter_differs_keeps_both_selectors() -> None:
    docs = _imported("pyrra", FOREIGN / "pyrra/latency-and-errors.yaml")
    ratio = docs[1]["slos"][0]["sli"]["ratio"]
    assert ratio["good"].endswith('status=~"5..", le="1"}')
    assert ratio["total"] == "ingress_request_duration_seconds_count"


def test_pyrra_grouped_bool_gauge_counts_failed_probes_per_group() -> None:
    (doc,) = _imported("pyrra", FOREIGN / "pyrra/probe-grouped.yaml")
    assert doc["slos"][0]["sli"]["query"] == {
        "errors": (
            "sum by (target) (count_over_time(probe_success[$window]) - "
            "sum_over_time(probe_success[$window]))"
        ),
        "total": "sum by (target) (count_over_time(probe_success[$window]))",
    }


@pytest.mark.slow
def test_openslo_v1_ratio_threshold_and_alert_policy(tmp_path: Path) -> None:
    docs = _imported("openslo", FIXTURES / "openslo-v1.yaml")
    (service,) = docs
    assert service["service"] == "checkout"
    ratio, latency = service["slos"]
    assert ratio["objective"] == 99.5 and ratio["window"] == "28d"
    assert ratio["sli"]["query"]["errors"] == (
        '(sum(rate(http_requests_total{job="checkout"}[$window]))) - '
        '(sum(rate(http_requests_total{job="checkout", code!~"5.."}[$window])))'
    )
    assert ratio["alerting"]["tiers"] == [
        {"severity": "page", "long_window": "1h", "short_window": "5m", "burn_rate": 14.4},
        {"severity": "ticket", "long_window": "1d", "short_window": "2h", "burn_rate": 3.0},
    ]
    assert latency["sli"]["query"]["errors"] == (
        'sum(count_over_time((checkout_latency_seconds{job="checkout"} >= '
        "0.5)[$window:])) or vector(0)"
    )
    files = build_outputs(load([FIXTURES / "openslo-v1.yaml"]).project)
    _promtool_check(tmp_path, _rule_files(files))


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        (
            "openslo-indicator-ref.yaml",
            "spec.indicatorRef: refers to SLI 'checkout-errors', which no document in the same "
            "file or directories defines",
        ),
        (
            "openslo-below-threshold.yaml",
            "a burn-rate condition must fire above its threshold (op gt or gte)",
        ),
        (
            "sloth-unknown-field.yaml",
            "slos[0].slo_period: Sloth field `slo_period` is not understood",
        ),
    ],
)
def test_what_cannot_be_expressed_is_an_error_at_its_field(fixture: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        load([FIXTURES / fixture])
    assert message in str(caught.value)


def test_a_problem_in_a_converted_document_points_at_its_source_line() -> None:
    source = FOREIGN / "sloth/bad-empty-service.yaml"
    with pytest.raises(SpecError) as caught:
        load([source])
    # `spec.service: ""` is on line 7 of the Kubernetes resource, named as written there.
    assert f"{source.as_posix()}:7:3: spec.service: must be lower-case letters" in str(caught.value)


def test_import_command_exit_codes(tmp_path: Path) -> None:
    sloforge = str(ROOT / ".venv" / "bin" / "sloforge")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sloforge, *args], capture_output=True, text=True, timeout=120)

    ok = run("import", "pyrra", str(FOREIGN / "pyrra/ratio-grouped.yaml"))
    assert ok.returncode == 0
    assert yaml.safe_load(ok.stdout)["slos"][0]["sli"]["ratio"]["group_by"] == ["handler"]
    refused = run("import", "pyrra", str(FOREIGN / "pyrra/native-latency.yaml"))
    assert refused.returncode == 1 and not refused.stdout
    assert "spec.indicator.latencyNative: native-histogram" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert run("import", "nagios", str(FOREIGN / "pyrra/ratio-grouped.yaml")).returncode == 2


def test_a_sloth_team_label_becomes_the_owner_so_every_rule_keeps_it() -> None:
    (doc,) = _imported("sloth", FIXTURES / "sloth-team-label.yaml")
    assert doc["owner"] == "payments" and doc["labels"] == {"tier": "1"}
    rules = _rule_files(build_outputs(load([FIXTURES / "sloth-team-label.yaml"]).project))
    groups = yaml.safe_load(rules["prometheus/rules/myservice.rules.yml"])["groups"]
    assert all(
        r["labels"]["team"] == "payments" for g in groups for r in g["rules"] if "labels" in r
    )
