"""sloforge's alerts for an imported Sloth spec decide like Sloth's own generated rules.

For every Sloth example with a generated counterpart in
``../shared/anchors/sloth/examples/_gen``, the same synthetic series run through
promtool twice: once against Sloth's rule file, once against the rules sloforge
generates from the imported spec. Both runs must pass the same expectations,
written per SLO as "page fires / ticket fires / quiet" at a few evaluation
times. Alert names and labels differ between the tools, so each side is asked
through its own labels (``sloth_severity`` vs ``slo_tier``).

The expectations come from the SLO itself: with a constant error ratio e from
the start, a tier fires exactly when e / error budget exceeds its burn rate (in
every window, the ratio of two steadily growing counters is e). Scenarios are
steady burns only, so ticket tiers fire within minutes; what a burn that
stops looks like (the short windows resetting) is not compared here, and each
scenario is checked to be far (>= 20%) from every tier threshold so that rate
extrapolation cannot flip a decision. Error ratios span well above the page
thresholds, between ticket and page, below the ticket threshold, and no
traffic at all.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from sloforge.model.domain import SLO, Project
from sloforge.pipeline import build_outputs, load
from toolbox import ROOT, require

pytestmark = pytest.mark.slow  # runs promtool, amtool or the servers

ANCHORS = ROOT.parent / "shared" / "anchors" / "sloth" / "examples"
GENERATED = ANCHORS / "_gen"

SAMPLES = 40  # one per minute
EVAL_TIMES = ("10m", "25m", "38m")
# Error ratio targets of the scenarios; None is no traffic at all.
SCENARIOS: tuple[float | None, ...] = (0.5, 0.1, 0.002, 0.0002, None)
EVENTS_PER_MINUTE = 10_000
WIFI_CLIENTS = 10  # bad fractions come in tenths

Series = list[dict[str, str]]


@dataclass(frozen=True)
class Traffic:
    """Input series giving each SLO of an example the error ratio it returns."""

    series: Callable[[float], Series]
    ratio: Callable[[SLO, float], float]


def _counter(selector: str, per_minute: float) -> dict[str, str]:
    return {"series": selector, "values": f"0+{per_minute:g}x{SAMPLES}"}


def _http(e: float) -> Series:
    bad = e * EVENTS_PER_MINUTE
    out = []
    for job in ("myservice", "myapp"):
        out.append(
            _counter(
                f'http_request_duration_seconds_count{{job="{job}", code="200"}}',
                EVENTS_PER_MINUTE - bad,
            )
        )
        out.append(_counter(f'http_request_duration_seconds_count{{job="{job}", code="500"}}', bad))
    return out


def _apiserver(e: float) -> Series:
    total, good = EVENTS_PER_MINUTE, EVENTS_PER_MINUTE * (1 - e)
    return [
        _counter('apiserver_request_total{code="200"}', good),
        _counter('apiserver_request_total{code="500"}', total - good),
        _counter('apiserver_request_duration_seconds_count{verb="GET"}', total),
        _counter('apiserver_request_duration_seconds_bucket{le="0.4", verb="GET"}', good),
        _counter('apiserver_request_duration_seconds_bucket{le="5", verb="GET"}', good),
        _counter('apiserver_request_duration_seconds_bucket{le="+Inf", verb="GET"}', total),
    ]


_WIFI_BAD, _WIFI_GOOD = 0.1, 0.99  # below both Sloth thresholds (0.75, 0.5) / above both


def _wifi_bad_clients(e: float) -> int:
    return round(e * WIFI_CLIENTS)


def _wifi(e: float) -> Series:
    bad = _wifi_bad_clients(e)
    return [
        {
            "series": f'unifipoller_client_satisfaction_ratio{{mac="client-{i}"}}',
            "values": f"{_WIFI_BAD if i < bad else _WIFI_GOOD}x{SAMPLES}",
        }
        for i in range(WIFI_CLIENTS)
    ]


def _wifi_ratio(slo: SLO, e: float) -> float:
    bad = _wifi_bad_clients(e)
    if slo.name == "wifi-client-satisfaction":  # raw: one minus the mean satisfaction
        return 1 - (bad * _WIFI_BAD + (WIFI_CLIENTS - bad) * _WIFI_GOOD) / WIFI_CLIENTS
    return bad / WIFI_CLIENTS


def _same(slo: SLO, e: float) -> float:
    return e


HTTP = Traffic(_http, _same)
APISERVER = Traffic(_apiserver, _same)
WIFI = Traffic(_wifi, _wifi_ratio)

TRAFFIC: dict[str, Traffic] = {
    "getting-started.yml": HTTP,
    "k8s-getting-started.yml": HTTP,
    "multifile.yml": HTTP,
    "k8s-multifile.yml": HTTP,
    "no-alerts.yml": HTTP,
    "slo-plugin-getting-started.yml": HTTP,
    "slo-plugin-k8s-getting-started.yml": HTTP,
    "kubernetes-apiserver.yml": APISERVER,
    "home-wifi.yml": WIFI,
    "k8s-home-wifi.yml": WIFI,
    "raw-home-wifi.yml": WIFI,
}

SKIPPED: dict[str, str] = {
    "plugin-getting-started.yml": (
        "its SLI is a Sloth plugin (Go code); sloforge refuses to import it"
    ),
    "plugin-k8s-getting-started.yml": (
        "its SLI is a Sloth plugin (Go code); sloforge refuses to import it"
    ),
    "contrib-slo-plugins.yml": (
        "contrib SLO plugins change Sloth's rules; sloforge refuses to import it"
    ),
    "contrib-denominator-corrected.yaml": (
        "the denominator_corrected plugin changes Sloth's rules; refused on import"
    ),
    "victoria-metrics.yml": (
        "MetricsQL (histogram_share) behind a VictoriaMetrics plugin; promtool cannot run it"
    ),
    "openslo-getting-started.yml": (
        "Sloth generates no alerts for OpenSLO v1alpha specs, sloforge adds default tiers"
    ),
    "openslo-kubernetes-apiserver.yml": (
        "Sloth generates no alerts for OpenSLO v1alpha specs, sloforge adds default tiers"
    ),
}


def _examples() -> list[str]:
    if not GENERATED.is_dir():
        return []
    return sorted(p.name for p in GENERATED.iterdir() if p.suffix in (".yml", ".yaml"))


# --- the two sides ------------------------------------------------------------------


@dataclass(frozen=True)
class Side:
    name: str
    service_label: str
    slo_label: str
    tier_label: str

    def query(self) -> str:
        by = f"{self.service_label}, {self.slo_label}, {self.tier_label}"
        return f'max by ({by}) (ALERTS{{alertstate="firing"}})'

    def sample(self, service: str, slo: str, tier: str) -> dict[str, object]:
        pairs = ((self.service_label, service), (self.slo_label, slo), (self.tier_label, tier))
        labels = ", ".join(f'{k}="{v}"' for k, v in pairs)
        return {"labels": "{" + labels + "}", "value": 1}


SLOTH = Side("sloth", "sloth_service", "sloth_slo", "sloth_severity")
SLOFORGE = Side("sloforge", "slo_service", "slo", "slo_tier")


def _sloth_groups(path: Path) -> list[dict]:
    """Sloth's output: rule files or PrometheusRule resources, after an empty first document."""
    groups = []
    for doc in yaml.safe_load_all(path.read_text()):
        if not doc:
            continue
        groups += doc["spec"]["groups"] if doc.get("kind") == "PrometheusRule" else doc["groups"]
    return groups


def _sloforge_groups(project: Project) -> list[dict]:
    groups = []
    for name, body in build_outputs(project).items():
        if name.startswith("prometheus/rules/"):
            groups += yaml.safe_load(body)["groups"]
    return groups


def _expected(
    project: Project, traffic: Traffic, e: float | None, side: Side
) -> list[dict[str, object]]:
    if e is None:
        return []
    samples = []
    for service in project.services:
        for slo in service.slos:
            burn = traffic.ratio(slo, e) / slo.error_budget
            for tier in slo.tiers:
                far = burn == 0 or not 0.8 <= burn / tier.burn_rate <= 1.25
                assert far, (
                    f"scenario e={e} burns {slo.name} at {burn:.2f}x, too close to "
                    f"{tier.burn_rate}x"
                )
            for kind in ("page", "ticket"):
                if any(t.kind == kind and burn > t.burn_rate for t in slo.tiers):
                    samples.append(side.sample(service.name, slo.name, kind))
    return samples


def _test_file(project: Project, traffic: Traffic, side: Side) -> dict:
    tests = []
    for e in SCENARIOS:
        series = (
            traffic.series(e)
            if e is not None
            else [{"series": 'up{job="unrelated"}', "values": f"1x{SAMPLES}"}]
        )
        expected = _expected(project, traffic, e, side)
        tests.append(
            {
                "name": f"{side.name}: error ratio {e}"
                if e is not None
                else f"{side.name}: no traffic",
                "interval": "1m",
                "input_series": series,
                "promql_expr_test": [
                    {"expr": side.query(), "eval_time": t, "exp_samples": expected}
                    for t in EVAL_TIMES
                ],
            }
        )
    return {"rule_files": ["rules.yml"], "evaluation_interval": "1m", "tests": tests}


def _run(tmp: Path, groups: list[dict], test: dict) -> subprocess.CompletedProcess[str]:
    tmp.mkdir()
    (tmp / "rules.yml").write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    (tmp / "test.yml").write_text(yaml.safe_dump(test, sort_keys=False))
    return subprocess.run(
        [require("promtool"), "test", "rules", "test.yml"],
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("example", _examples() or ["(no _gen folder)"])
def test_sloforge_alerts_decide_like_sloth_on_the_same_series(example: str, tmp_path: Path) -> None:
    if example in SKIPPED:
        pytest.skip(SKIPPED[example])
    if example not in TRAFFIC:
        pytest.fail(
            f"{example} has a Sloth counterpart but no traffic model in TRAFFIC (or "
            f"a reason in SKIPPED)"
        )
    project = load([ANCHORS / example]).project
    traffic = TRAFFIC[example]
    for side, groups in (
        (SLOTH, _sloth_groups(GENERATED / example)),
        (SLOFORGE, _sloforge_groups(project)),
    ):
        result = _run(tmp_path / side.name, groups, _test_file(project, traffic, side))
        assert result.returncode == 0, (
            f"{side.name} rules disagree:\n{result.stdout}\n{result.stderr}"
        )


def test_the_comparison_can_fail(tmp_path: Path) -> None:
    """Sloth's rules for the 99.9% SLO against expectations for a 99.99% one must not pass."""
    project = load([ANCHORS / "multifile.yml"]).project
    strict = next(s for s in project.services if s.name == "myservice2")
    sloth_groups = [g for g in _sloth_groups(GENERATED / "getting-started.yml")]
    renamed = Project(services=(strict,))
    test = _test_file(renamed, HTTP, SLOTH)
    for case in test["tests"]:
        for check in case["promql_expr_test"]:
            check["exp_samples"] = [
                {**s, "labels": str(s["labels"]).replace("myservice2", "myservice")}
                for s in check["exp_samples"]
            ]
    result = _run(tmp_path / "sloth", sloth_groups, test)
    assert result.returncode != 0
    assert "sloth_severity" in result.stdout + result.stderr
