"""Every Sloth, Pyrra and OpenSLO file in ../shared/anchors imports, validates and generates
rules promtool accepts, or fails with the reason named below.

``sloforge import`` is checked to print a document that compiles to exactly the
rules the foreign file compiles to directly.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from sloforge.errors import SpecError
from sloforge.pipeline import build_outputs, load
from sloforge.spec.foreign import import_file
from toolbox import ROOT, require

ANCHORS = ROOT.parent / "shared" / "anchors"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "import"

PLUGIN = "is Go code sloforge cannot run"
SLO_PLUGIN = "changes the generated rules in Go code sloforge cannot run"
CALENDAR = "calendar-aligned windows are not supported"
NOTHING = "holds no openslo SLO to convert"

# File -> None when it must import and generate, else the reason it must fail with.
EXPECTED: dict[str, str | None] = {
    # Sloth examples
    "sloth/examples/getting-started.yml": None,
    "sloth/examples/home-wifi.yml": None,
    "sloth/examples/k8s-getting-started.yml": None,
    "sloth/examples/k8s-home-wifi.yml": None,
    "sloth/examples/k8s-multifile.yml": None,
    "sloth/examples/kubernetes-apiserver.yml": None,
    "sloth/examples/multifile.yml": None,
    "sloth/examples/no-alerts.yml": None,
    "sloth/examples/raw-home-wifi.yml": None,
    "sloth/examples/openslo-getting-started.yml": None,
    "sloth/examples/openslo-kubernetes-apiserver.yml": None,
    # only sloth.dev/core/debug plugins, which change nothing
    "sloth/examples/slo-plugin-getting-started.yml": None,
    "sloth/examples/slo-plugin-k8s-getting-started.yml": None,
    "sloth/examples/plugin-getting-started.yml": PLUGIN,
    "sloth/examples/plugin-k8s-getting-started.yml": PLUGIN,
    "sloth/examples/contrib-slo-plugins.yml": "'sloth.dev/contrib/info_labels/v1' " + SLO_PLUGIN,
    "sloth/examples/contrib-denominator-corrected.yaml": (
        "'sloth.dev/contrib/denominator_corrected_rules/v1' "
    )
    + SLO_PLUGIN,
    "sloth/examples/victoria-metrics.yml": "'sloth.dev/contrib/validate_victoria_metrics/v1' "
    + SLO_PLUGIN,
    # Sloth test data
    "sloth/testdata/in-base.yaml": None,
    "sloth/testdata/in-base-k8s.yaml": None,
    "sloth/testdata/in-multifile.yaml": None,
    "sloth/testdata/in-multifile-k8s.yaml": None,
    "sloth/testdata/in-openslo.yaml": None,
    "sloth/testdata/in-invalid-version.yaml": "unsupported Sloth version 'prometheus/v999'",
    "sloth/testdata/in-sli-plugin.yaml": PLUGIN,
    "sloth/testdata/in-slo-plugin.yaml": SLO_PLUGIN,
    "sloth/testdata/in-slo-plugin-k8s.yaml": SLO_PLUGIN,
    "sloth/testdata/validate/good/good-aa.yaml": None,
    "sloth/testdata/validate/good/good-ab.yaml": None,
    "sloth/testdata/validate/good/good-ba.yaml": None,
    "sloth/testdata/validate/good/good-k8s.yaml": None,
    "sloth/testdata/validate/good/good-multi.yaml": None,
    "sloth/testdata/validate/good/good-multi-k8s.yaml": None,
    "sloth/testdata/validate/good/good-openslo.yaml": None,
    "sloth/testdata/validate/bad/bad-aa.yaml": "slos[1].objective: must be less than 100 (got 101)",
    "sloth/testdata/validate/bad/bad-ab.yaml": "slos[1].objective: must be less than 100 (got 101)",
    "sloth/testdata/validate/bad/bad-ba.yaml": "slos[1].objective: must be less than 100 (got 101)",
    "sloth/testdata/validate/bad/bad-k8s.yaml": "service: must be lower-case letters",
    "sloth/testdata/validate/bad/bad-multi.yaml": "a Sloth SLI needs `events` or `raw`",
    "sloth/testdata/validate/bad/bad-multi-k8s.yaml": "alerting.name: is empty",
    # Sloth accepts only 30d by default; a 28d OpenSLO window is fine for sloforge.
    "sloth/testdata/validate/bad/bad-openslo.yaml": None,
    "sloth/testdata/validate_with_duplicates/bad-prom-multi-duplicates.yaml": (
        "duplicate SLO name `slo1`"
    ),
    "sloth/testdata/validate_with_duplicates/prom": "service `svc01` is already defined",
    "sloth/testdata/validate_with_duplicates/k8s": "service `svc01` is already defined",
    "sloth/testdata/validate_with_duplicates/openslo": "service `svc01` is already defined",
    # Pyrra
    "pyrra/pyrra-connect-latency.yaml": "native-histogram latency SLOs are not supported",
    # OpenSLO: the specification's examples use placeholder sources and calendar windows
    "openslo/budgeting-method__occurences-slo.yaml": "metric source 'Any' is not Prometheus",
    "openslo/budgeting-method__ratio-timeslices.yaml": "RatioTimeslices budgeting is not supported",
    "openslo/budgeting-method__timeslices-slo.yaml": CALENDAR,
    "openslo/treat-low-traffic-as-equally-important__timeslices-slo.yaml": CALENDAR,
    "openslo/go-sdk_v1_slos.yaml": CALENDAR,
    "openslo/go-sdk_v1_slis.yaml": NOTHING,
    "openslo/go-sdk_v1_services.yaml": NOTHING,
    "openslo/go-sdk_v1_data_sources.yaml": NOTHING,
    "openslo/go-sdk_v1_alert_policies.yaml": NOTHING,
    "openslo/go-sdk_v1_alert_conditions.yaml": NOTHING,
    "openslo/go-sdk_v1_alert_notification_targets.yaml": NOTHING,
}


def _anchor_files() -> list[str]:
    patterns = (
        "sloth/examples/*.y*ml",
        "sloth/testdata/*.yaml",
        "sloth/testdata/validate/*/*.yaml",
        "sloth/testdata/validate_with_duplicates/*",  # files, and folders loaded as a whole
        "pyrra/*.yaml",
        "openslo/*.yaml",
    )
    return sorted(
        {p.relative_to(ANCHORS).as_posix() for pattern in patterns for p in ANCHORS.glob(pattern)}
    )


def _tool(path: str) -> str:
    if path.startswith("pyrra/"):
        return "pyrra"
    if path.startswith("openslo/") or "openslo" in Path(path).name:
        return "openslo"
    return "sloth"


def _expected(path: str) -> str | None:
    return EXPECTED.get(path)  # unlisted Pyrra examples (and any new file) must import


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


pytestmark = pytest.mark.skipif(
    not ANCHORS.is_dir(), reason=f"reference corpus {ANCHORS} is not present"
)


def test_every_anchor_file_has_an_expectation_or_imports() -> None:
    listed = {p for p in EXPECTED if not p.startswith("pyrra/")}
    missing = listed - set(_anchor_files())
    assert not missing, f"expectations for files that are not in the anchors: {sorted(missing)}"


@pytest.mark.slow
@pytest.mark.parametrize("path", _anchor_files())
def test_anchor_imports_validates_and_generates_or_fails_with_a_named_reason(
    path: str, tmp_path: Path
) -> None:
    source = ANCHORS / path
    reason = _expected(path)
    if reason == NOTHING:
        # Parts of an OpenSLO SLO (SLI, AlertPolicy…) compile to nothing; importing one says so.
        assert not load([source]).project.services
        with pytest.raises(SpecError) as caught:
            import_file(_tool(path), str(source))
        assert reason in str(caught.value)
        return
    if reason is not None:
        with pytest.raises(SpecError) as caught:
            load([source])
        assert reason in str(caught.value)
        return
    project = load([source]).project
    assert project.services, "a file that imports must yield at least one service"
    rules = _rule_files(build_outputs(project))
    assert len(rules) == len(project.services)
    _promtool_check(tmp_path, rules)


@pytest.mark.parametrize(
    "path", [p for p in _anchor_files() if _expected(p) is None and not p.endswith("/prom")]
)
def test_import_command_prints_a_document_that_compiles_to_the_same_rules(
    path: str, tmp_path: Path
) -> None:
    source = ANCHORS / path
    text = import_file(_tool(path), str(source))
    assert text.startswith("# Converted by `sloforge import")
    assert all(doc["apiVersion"] == "sloforge/v1" for doc in yaml.safe_load_all(text))
    converted = tmp_path / "converted.yaml"
    converted.write_text(text)
    direct = _rule_files(build_outputs(load([source]).project))
    again = _rule_files(build_outputs(load([converted]).project))
    strip = lambda files: {k: v.split(b"\n", 1)[1] for k, v in files.items()}  # noqa: E731 - header names the source
    assert strip(again) == strip(direct)


def test_import_refuses_a_file_of_another_tool() -> None:
    with pytest.raises(SpecError) as caught:
        import_file("pyrra", str(ANCHORS / "sloth/examples/getting-started.yml"))
    assert "not a pyrra document: found 'prometheus/v1', expected pyrra.dev" in str(caught.value)


# --- conversions pinned field by field ----------------------------------------------


def _imported(tool: str, path: Path) -> list[dict]:
    return list(yaml.safe_load_all(import_file(tool, str(path))))


def test_sloth_window_template_and_severity_label_map_to_sloforge_fields() -> None:
    (doc,) = _imported("sloth", ANCHORS / "sloth/examples/getting-started.yml")
    slo = doc["slos"][0]
    assert slo["sli"]["query"]["errors"].endswith('code=~"(5..|429)"}[$window]))')
    assert slo["alerting"]["page"] == {"severity": "pageteam", "labels": {"routing_key": "myteam"}}
    assert slo["alerting"]["ticket"] == {
        "severity": "slack",
        "labels": {"slack_channel": "#alerts-myteam"},
    }


def test_sloth_raw_ratio_becomes_an_exact_query_sli() -> None:
    (doc,) = _imported("sloth", ANCHORS / "sloth/examples/raw-home-wifi.yml")
    slo = doc["slos"][0]
    assert slo["strategy"] == "exact"
    assert slo["sli"]["query"]["total"].startswith("0 * (1 - (")


def test_pyrra_tiers_scale_with_the_window() -> None:
    (doc,) = _imported("pyrra", ANCHORS / "pyrra/slo-apiserver-read-response-errors.yaml")
    tiers = doc["slos"][0]["alerting"]["tiers"]
    assert doc["slos"][0]["window"] == "14d"
    assert [(t["long_window"], t["short_window"], t["burn_rate"]) for t in tiers] == [
        ("30m", "2m30s", 14),
        ("3h", "15m", 7),
        ("12h", "1h", 2),
        ("2d", "3h", 1),
    ]


def test_pyrra_latency_with_matching_series_becomes_a_histogram_sli() -> None:
    (doc,) = _imported("pyrra", ANCHORS / "pyrra/caddy-response-latency.yaml")
    assert doc["slos"][0]["sli"]["latency"] == {
        "histogram": "caddy_http_response_duration_seconds",
        "matchers": '{job="caddy", handler="subroute", code!~"5.."}',
        "threshold": 0.05,
    }


def test_pyrra_latency_whose_bucket_filter_differs_keeps_both_selectors() -> None:
    docs = _imported("pyrra", ANCHORS / "pyrra/nginx.yaml")
    ratio = docs[1]["slos"][0]["sli"]["ratio"]
    assert ratio["good"].endswith('status=~"5..", le="1"}')
    assert ratio["total"].startswith("nginx_ingress_controller_request_duration_seconds_count")


def test_pyrra_grouped_bool_gauge_counts_failed_probes_per_group() -> None:
    (doc,) = _imported("pyrra", ANCHORS / "pyrra/prometheus-probe-success.yaml")
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
            "spec.indicatorRef: refers to an SLI document; inline the SLI as `indicator`",
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
    source = ANCHORS / "sloth/testdata/validate/bad/bad-k8s.yaml"
    with pytest.raises(SpecError) as caught:
        load([source])
    # `spec.service: ""` is on line 7 of the Kubernetes resource; its `spec.` prefix is dropped.
    assert f"{source.as_posix()}:7:3: service: must be lower-case letters" in str(caught.value)


def test_import_command_exit_codes(tmp_path: Path) -> None:
    sloforge = str(ROOT / ".venv" / "bin" / "sloforge")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sloforge, *args], capture_output=True, text=True, timeout=120)

    ok = run("import", "pyrra", str(ANCHORS / "pyrra/prometheus-http.yaml"))
    assert ok.returncode == 0
    assert yaml.safe_load(ok.stdout)["slos"][0]["sli"]["ratio"]["group_by"] == ["handler"]
    refused = run("import", "pyrra", str(ANCHORS / "pyrra/pyrra-connect-latency.yaml"))
    assert refused.returncode == 1 and not refused.stdout
    assert "spec.indicator.latencyNative: native-histogram" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert run("import", "nagios", str(ANCHORS / "pyrra/prometheus-http.yaml")).returncode == 2


def test_a_sloth_team_label_becomes_the_owner_so_every_rule_keeps_it() -> None:
    (doc,) = _imported("sloth", FIXTURES / "sloth-team-label.yaml")
    assert doc["owner"] == "payments" and doc["labels"] == {"tier": "1"}
    rules = _rule_files(build_outputs(load([FIXTURES / "sloth-team-label.yaml"]).project))
    groups = yaml.safe_load(rules["prometheus/rules/myservice.rules.yml"])["groups"]
    assert all(
        r["labels"]["team"] == "payments" for g in groups for r in g["rules"] if "labels" in r
    )
