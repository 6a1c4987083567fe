"""sloforge's alerts for an imported Sloth spec decide like Sloth's documented rules.

For every Sloth document in ``tests/fixtures/foreign/sloth``, the same synthetic
series run through promtool twice: once against the rules Sloth documents it
generates for a 30-day SLO (built below from the spec, see ``sloth_rules``),
once against the rules sloforge generates from the imported spec. Both runs
must pass the same expectations, written per SLO as "page fires / ticket fires
/ quiet" at a few evaluation times. Alert names and labels differ between the
tools, so each side is asked through its own labels (``sloth_severity`` vs
``slo_tier``).

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
from typing import Any

import pytest
import yaml
from sloforge.model.domain import SLO, Project
from sloforge.pipeline import build_outputs, load
from toolbox import require

pytestmark = pytest.mark.slow  # runs promtool, amtool or the servers

SLOTH = Path(__file__).resolve().parent / "fixtures" / "foreign" / "sloth"

# --- Sloth's documented rules --------------------------------------------------------
#
# For a 30-day SLO Sloth records the error ratio over each alert window as
# slo:sli_error:ratio_rate<window> (the error query over the total query, or the raw
# error-ratio query), labelled sloth_service, sloth_slo and sloth_window, and writes two
# alerts without `for:`, labelled sloth_severity page / ticket: the multi-window,
# multi-burn-rate table of the Google SRE workbook, each pair of windows above
# burn rate x error budget.
SLOTH_ALERTS: dict[str, tuple[tuple[str, str, float], ...]] = {
    "page": (("5m", "1h", 14.4), ("30m", "6h", 6)),
    "ticket": (("2h", "1d", 3), ("6h", "3d", 1)),
}
SLOTH_WINDOWS = sorted({w for pairs in SLOTH_ALERTS.values() for p in pairs for w in p[:2]})


def _field(data: dict[str, Any], snake: str) -> Any:
    """Sloth spells fields in snake_case (prometheus/v1) or camelCase (its Kubernetes CRD)."""
    head, *rest = snake.split("_")
    return data.get(snake, data.get(head + "".join(p.title() for p in rest)))


def _sloth_slo_rules(service: str, labels: dict[str, str], slo: dict[str, Any]) -> list[dict]:
    ids = {"sloth_service": service, "sloth_slo": slo["name"]}
    sli = slo["sli"]
    if "raw" in sli:
        ratio = "(" + _field(sli["raw"], "error_ratio_query") + ")"
    else:
        events = sli["events"]
        ratio = f"({_field(events, 'error_query')})\n/\n({_field(events, 'total_query')})"
    recording = [
        {
            "record": f"slo:sli_error:ratio_rate{w}",
            "expr": ratio.replace("{{.window}}", w),
            "labels": {**labels, **ids, "sloth_window": w},
        }
        for w in SLOTH_WINDOWS
    ]
    alerting = slo.get("alerting") or {}
    budget = 1 - slo["objective"] / 100
    selector = ", ".join(f'{k}="{v}"' for k, v in ids.items())
    alerts = []
    for severity, pairs in SLOTH_ALERTS.items():
        policy = _field(alerting, f"{severity}_alert") or {}
        if policy.get("disable"):
            continue
        expr = " or ".join(
            "("
            + " and ".join(
                f"max(slo:sli_error:ratio_rate{w}{{{selector}}} > ({burn} * {budget!r})) "
                "without (sloth_window)"
                for w in (short, long)
            )
            + ")"
            for short, long, burn in pairs
        )
        alert_labels = {**labels, **(alerting.get("labels") or {})}
        alert_labels |= {**(policy.get("labels") or {}), "sloth_severity": severity}
        alerts.append(
            {"alert": alerting.get("name", "SLOBurn"), "expr": expr, "labels": alert_labels}
        )
    return recording + alerts


def sloth_rules(path: Path) -> list[dict]:
    """One rule group per SLO, as Sloth documents them, for every service of a Sloth file."""
    groups = []
    for doc in yaml.safe_load_all(path.read_text()):
        if doc is None:  # an empty document (a trailing ---) holds nothing, as for Sloth
            continue
        spec = doc["spec"] if doc.get("kind") == "PrometheusServiceLevel" else doc
        labels = spec.get("labels") or {}
        for slo in spec["slos"]:
            rules = _sloth_slo_rules(spec["service"], {**labels, **(slo.get("labels") or {})}, slo)
            groups.append({"name": f"sloth-{spec['service']}-{slo['name']}", "rules": rules})
    return groups


# --- the traffic ---------------------------------------------------------------------

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
    for job in ("storefront", "basket"):
        out.append(
            _counter(
                f'http_request_duration_seconds_count{{job="{job}", code="200"}}',
                EVENTS_PER_MINUTE - bad,
            )
        )
        out.append(_counter(f'http_request_duration_seconds_count{{job="{job}", code="500"}}', bad))
    return out


_WIFI_BAD, _WIFI_GOOD = 0.1, 0.99  # the satisfaction of an unhappy and of a happy client


def _wifi_bad_clients(e: float) -> int:
    return round(e * WIFI_CLIENTS)


def _wifi(e: float) -> Series:
    bad = _wifi_bad_clients(e)
    return [
        {
            "series": f'wifi_client_satisfaction_ratio{{mac="client-{i}"}}',
            "values": f"{_WIFI_BAD if i < bad else _WIFI_GOOD}x{SAMPLES}",
        }
        for i in range(WIFI_CLIENTS)
    ]


def _wifi_ratio(slo: SLO, e: float) -> float:
    """The raw SLI: one minus the mean satisfaction of the clients."""
    bad = _wifi_bad_clients(e)
    return 1 - (bad * _WIFI_BAD + (WIFI_CLIENTS - bad) * _WIFI_GOOD) / WIFI_CLIENTS


def _same(slo: SLO, e: float) -> float:
    return e


HTTP = Traffic(_http, _same)
WIFI = Traffic(_wifi, _wifi_ratio)

TRAFFIC: dict[str, Traffic] = {
    "http-events.yml": HTTP,
    "k8s-events.yaml": HTTP,
    "two-services.yml": HTTP,
    "no-alerts.yml": HTTP,
    "debug-plugin.yml": HTTP,
    "alerting-severity.yml": HTTP,
    "trailing-separator.yml": HTTP,
    "raw-ratio.yml": WIFI,
}

SKIPPED: dict[str, str] = {
    "openslo-v1alpha.yml": (
        "Sloth generates no alerts for OpenSLO v1alpha specs, sloforge adds default tiers"
    ),
}


def _examples() -> list[str]:
    """The Sloth fixtures that import; the others are refusals (tests/test_import.py)."""
    return sorted(
        p.name
        for p in SLOTH.iterdir()
        if p.is_file()
        and not p.name.startswith("bad-")
        and "plugin" not in p.stem
        or p.name == "debug-plugin.yml"
    )


# --- the two sides ------------------------------------------------------------------


@dataclass(frozen=True)
class Side:
    name: str
    service_label: str
    slo_label: str
    tier_label: str

    def query(self) -> str:
        by = f"{self.service_label}, {self.slo_label}, {self.tier_label}"
        # Burn-rate tiers only: sloforge's absent-data alerts have no tier, Sloth has none.
        return f'max by ({by}) (ALERTS{{alertstate="firing", {self.tier_label}!=""}})'

    def sample(self, service: str, slo: str, tier: str) -> dict[str, object]:
        pairs = ((self.service_label, service), (self.slo_label, slo), (self.tier_label, tier))
        labels = ", ".join(f'{k}="{v}"' for k, v in pairs)
        return {"labels": "{" + labels + "}", "value": 1}


SLOTH_SIDE = Side("sloth", "sloth_service", "sloth_slo", "sloth_severity")
SLOFORGE = Side("sloforge", "slo_service", "slo", "slo_tier")


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


def test_every_sloth_fixture_that_imports_is_compared_or_skipped_with_a_reason() -> None:
    assert _examples() == sorted([*TRAFFIC, *SKIPPED])
    for example in _examples():
        assert load([SLOTH / example]).project.services, example


@pytest.mark.parametrize("example", _examples())
def test_sloforge_alerts_decide_like_sloth_on_the_same_series(example: str, tmp_path: Path) -> None:
    if example in SKIPPED:
        pytest.skip(SKIPPED[example])
    project = load([SLOTH / example]).project
    traffic = TRAFFIC[example]
    for side, groups in (
        (SLOTH_SIDE, sloth_rules(SLOTH / example)),
        (SLOFORGE, _sloforge_groups(project)),
    ):
        result = _run(tmp_path / side.name, groups, _test_file(project, traffic, side))
        assert result.returncode == 0, (
            f"{side.name} rules disagree:\n{result.stdout}\n{result.stderr}"
        )


def test_the_comparison_can_fail(tmp_path: Path) -> None:
    """Sloth's rules for the 99.9% SLO against expectations for a 99.99% one must not pass."""
    project = load([SLOTH / "two-services.yml"]).project
    strict = next(s for s in project.services if s.name == "storefront-strict")
    lenient_groups = [
        g for g in sloth_rules(SLOTH / "two-services.yml") if "strict" not in g["name"]
    ]
    test = _test_file(Project(services=(strict,)), HTTP, SLOTH_SIDE)
    for case in test["tests"]:
        for check in case["promql_expr_test"]:
            check["exp_samples"] = [
                {**s, "labels": str(s["labels"]).replace("storefront-strict", "storefront")}
                for s in check["exp_samples"]
            ]
    result = _run(tmp_path / "sloth", lenient_groups, test)
    assert result.returncode != 0
    assert "sloth_severity" in result.stdout + result.stderr
