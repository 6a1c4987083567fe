"""Generated promtool tests must fail when the burn-rate rules are wrong.

For each burn-rate alert rule, the numbers in its expression are scaled by 0.7
and by 1.5, or the expression is replaced by one that never fires; the
generated tests that exercise that alert must then fail. A generated test that
survives such a mutation would prove nothing.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from sloforge.model import baseline as baselines
from sloforge.model.domain import Alert, Baseline
from sloforge.model.durations import format_duration, parse_duration
from sloforge.pipeline import load
from sloforge_testlib import FIXTURES, compile_to, promtool_test
from toolbox import binaries

NUMBER = re.compile(r"(?<![\w:.])(\d+(?:\.\d+)?(?:e[-+]?\d+)?)(?![\w.])")
NEVER = "vector(0) > 1"


def scale_numbers(expr: str, factor: float) -> str:
    """Scale every numeric literal outside label matchers (thresholds, guards)."""
    parts = re.split(r"(\{[^}]*\})", expr)
    scaled = [
        part
        if part.startswith("{")
        else NUMBER.sub(lambda m: repr(float(m.group(1)) * factor), part)
        for part in parts
    ]
    return "".join(scaled)


MUTATIONS = {
    "numbers x0.7": lambda expr: scale_numbers(expr, 0.7),
    "numbers x1.5": lambda expr: scale_numbers(expr, 1.5),
    "never fires": lambda expr: NEVER,
}

WINDOWS = ("1h", "6h", "1d", "3d")
# (fixture, service, alert, long window of the mutated tier). The ``changed`` fixture's
# shop service has the same alerting profile as cart, which holds the profile's timing
# tests: shop's own wiring tests alone must kill every mutant of its tiers.
CASES = (
    [("slo/checkout-minimal.yaml", "shop", "ShopAvailabilityBudgetBurn", w) for w in WINDOWS]
    + [("slo/grouped-latency.yaml", "search", "SearchLatencyBudgetBurn", "1h")]
    + [("changed", "shop", "ShopAvailabilityBudgetBurn", w) for w in WINDOWS]
)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fixture", "service", "alert", "window"),
    CASES,
    ids=[f"{f}: the {w} tier of {a}" for f, _, a, w in CASES],
)
def test_generated_tests_catch_every_mutation(
    tmp_path: Path, fixture: str, service: str, alert: str, window: str
) -> None:
    if not binaries("promtool"):
        pytest.skip("promtool is not installed (run `make setup`)")
    out = tmp_path / "out"
    compile_to([FIXTURES / fixture], out)
    if fixture == "changed":
        timing = sorted(p.name for p in (out / "prometheus" / "tests").glob("shop.*.test.yml"))
        assert timing == [], "the shop service should hold wiring tests only"
    files = _trimmed_tests(out, service, alert)

    def rule_of(rule: dict[str, Any]) -> bool:
        return rule.get("alert") == alert and rule["labels"]["long_window"] == window

    survivors = _survivors(tmp_path, out, service, files, rule_of, EXPR_MUTATIONS)
    assert not survivors, f"generated tests of {alert} ({window} tier) survived: {survivors}"


# --- structured alert kinds -----------------------------------------------------------

# (alert, what the mutation changes): every structured kind of alert-kinds.yaml.
ALERT_CASES = [
    ("KindsCheckoutP95High", "percentile of an integer threshold, both le spellings"),
    ("KindsPspP99High", "percentile per peer over a 10m rate"),
    ("KindsSearchMedianHigh", "median without for"),
    ("KindsRoutesDataAbsent", "absent ratio SLI grouped by route, for 9m"),
    ("KindsLatencyDataAbsent", "absent latency SLI, for 5m"),
    ("KindsProbeDataAbsent", "absent probe SLI, for 44m"),
    ("KindsOrdersDataAbsent", "absent query SLI, for 7m given"),
]


def _scaled_for(rule: dict[str, Any], factor: float) -> None:
    rule["for"] = format_duration(int(parse_duration(rule["for"]) * factor))


# Absent-data alerts have no number to scale: their delay is what must be right.
DELAY_MUTATIONS: dict[str, Callable[[dict[str, Any]], None]] = {
    "for halved": lambda rule: _scaled_for(rule, 0.5),
    "for doubled": lambda rule: _scaled_for(rule, 2),
    "never fires": lambda rule: rule.update(expr=NEVER),
}
EXPR_MUTATIONS: dict[str, Callable[[dict[str, Any]], None]] = {
    name: (lambda rule, m=mutate: rule.update(expr=m(rule["expr"])))  # type: ignore[misc]
    for name, mutate in MUTATIONS.items()
}


def _trimmed_tests(out: Path, service: str, alert: str) -> list[Path]:
    """Each generated test file, cut down to the groups that check ``alert``."""
    files = []
    for path in sorted((out / "prometheus" / "tests").glob(f"{service}.*test.yml")):
        doc = yaml.safe_load(path.read_text())
        doc["tests"] = [
            g
            for g in doc["tests"]
            if any(c.get("alertname") == alert for c in g.get("alert_rule_test", []))
        ]
        if doc["tests"]:
            trimmed = path.with_name(f"mutation-{path.name}")
            trimmed.write_text(yaml.safe_dump(doc, sort_keys=False))
            files.append(trimmed)
    assert files, f"no generated test checks {alert}"
    return files


def _run_all(promtool: str, files: list[Path]) -> bool:
    """Whether every test file passes."""
    return all(promtool_test(promtool, f).returncode == 0 for f in files)


@pytest.mark.slow
@pytest.mark.parametrize(("alert", "what"), ALERT_CASES, ids=[f"{a}: {w}" for a, w in ALERT_CASES])
def test_generated_tests_of_structured_alerts_catch_every_mutation(
    tmp_path: Path, alert: str, what: str
) -> None:
    promtools = binaries("promtool")
    if not promtools:
        pytest.skip("promtool is not installed (run `make setup`)")
    out = tmp_path / "out"
    compile_to([FIXTURES / "slo" / "alert-kinds.yaml"], out)
    rules_path = out / "prometheus" / "rules" / "kinds.rules.yml"
    original = rules_path.read_text()
    files = _trimmed_tests(out, "kinds", alert)
    for label, promtool in promtools:
        assert _run_all(promtool, files), f"generated tests of {alert} fail on {label} promtool"

    mutations = DELAY_MUTATIONS if alert.endswith("DataAbsent") else EXPR_MUTATIONS

    def survives(name: str) -> list[str]:
        copy = tmp_path / f"mutant-{name.replace(' ', '-')}"
        shutil.copytree(out, copy)
        mutated = yaml.safe_load(original)
        rule = next(r for g in mutated["groups"] for r in g["rules"] if r.get("alert") == alert)
        before = dict(rule)
        mutations[name](rule)
        assert rule != before
        (copy / rules_path.relative_to(out)).write_text(yaml.safe_dump(mutated, sort_keys=False))
        mutant_files = [copy / f.relative_to(out) for f in files]
        return [label for label, promtool in promtools if _run_all(promtool, mutant_files)]

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(mutations, pool.map(survives, mutations), strict=True))
    survivors = {name: on for name, on in results.items() if on}
    assert not survivors, f"generated tests of {alert} survived (mutation: promtools): {survivors}"


def test_scale_numbers_leaves_selectors_and_record_names_alone() -> None:
    expr = (
        'slo:sli_error:ratio_rate1h{slo="a", code=~"5.."} > 0.0144\nand\n'
        'slo:sli_error:ratio_rate5m{slo="a"} > 0.0144'
    )
    assert scale_numbers(expr, 0.5) == (
        'slo:sli_error:ratio_rate1h{slo="a", code=~"5.."} > 0.0072\nand\n'
        'slo:sli_error:ratio_rate5m{slo="a"} > 0.0072'
    )


# --- severity ladders (and escalation, which reads their alerts) --------------------------

LADDER = FIXTURES / "ladder"
LADDER_ALERT = "ShopAvailabilityBudgetBurn"
# (severity label, long window) of each rung of the fixture's four-level ladder.
RUNGS = [("critical", "1h"), ("high", "6h"), ("warning", "1d"), ("info", "3d")]


def _tests_expecting(
    out: Path, service: str, wanted: Callable[[dict[str, Any]], bool]
) -> list[Path]:
    """Each generated test file, cut down to the groups where some check expects an alert
    whose labels ``wanted`` accepts to fire."""
    files = []
    for path in sorted((out / "prometheus" / "tests").glob(f"{service}.*test.yml")):
        doc = yaml.safe_load(path.read_text())
        doc["tests"] = [
            g
            for g in doc["tests"]
            if any(
                wanted({"alertname": c.get("alertname"), **a.get("exp_labels", {})})
                for c in g.get("alert_rule_test", [])
                for a in c.get("exp_alerts", [])
            )
        ]
        if doc["tests"]:
            trimmed = path.with_name(f"mutation-{path.name}")
            trimmed.write_text(yaml.safe_dump(doc, sort_keys=False))
            files.append(trimmed)
    assert files, "no generated test expects the alert to fire"
    return files


def _survivors(
    tmp_path: Path,
    out: Path,
    service: str,
    files: list[Path],
    rule_of: Callable[[dict[str, Any]], bool],
    mutations: dict[str, Callable[[dict[str, Any]], None]],
) -> dict[str, list[str]]:
    """{mutation: the promtools on which the trimmed tests still pass}; each mutation edits
    the one rule ``rule_of`` picks, in a copy of ``out``."""
    promtools = binaries("promtool")
    rules_path = out / "prometheus" / "rules" / f"{service}.rules.yml"
    original = rules_path.read_text()
    for label, promtool in promtools:
        assert _run_all(promtool, files), f"generated tests fail on {label} promtool"

    def survives(name: str) -> list[str]:
        copy = tmp_path / f"mutant-{re.sub(r'[^a-z0-9]+', '-', name)}"
        shutil.copytree(out, copy)
        mutated = yaml.safe_load(original)
        (rule,) = [r for g in mutated["groups"] for r in g["rules"] if rule_of(r)]
        before = dict(rule)
        mutations[name](rule)
        assert rule != before
        (copy / rules_path.relative_to(out)).write_text(yaml.safe_dump(mutated, sort_keys=False))
        mutant_files = [copy / f.relative_to(out) for f in files]
        return [label for label, promtool in promtools if _run_all(promtool, mutant_files)]

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(mutations, pool.map(survives, mutations), strict=True))
    return {name: on for name, on in results.items() if on}


def _on_expr(mutate: Callable[[str], str]) -> Callable[[dict[str, Any]], None]:
    def apply(rule: dict[str, Any]) -> None:
        rule["expr"] = mutate(rule["expr"])

    return apply


EXPR_MUTATIONS = {name: _on_expr(mutate) for name, mutate in MUTATIONS.items()}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("severity", "window"), RUNGS, ids=[f"the {s} rung over {w}" for s, w in RUNGS]
)
def test_generated_tests_of_every_ladder_rung_catch_every_mutation(
    tmp_path: Path, severity: str, window: str
) -> None:
    if not binaries("promtool"):
        pytest.skip("promtool is not installed (run `make setup`)")
    out = tmp_path / "out"
    compile_to([LADDER], out)

    def rung(labels: dict[str, Any]) -> bool:
        return labels.get("alertname") == LADDER_ALERT and labels.get("severity") == severity

    def rule_of(rule: dict[str, Any]) -> bool:
        return rule.get("alert") == LADDER_ALERT and rule["labels"]["severity"] == severity

    files = _tests_expecting(out, "shop", rung)
    survivors = _survivors(tmp_path, out, "shop", files, rule_of, EXPR_MUTATIONS)
    assert not survivors, f"tests of the {severity} rung ({window}) survived: {survivors}"


def _scale_for(factor: float) -> Callable[[dict[str, Any]], None]:
    def apply(rule: dict[str, Any]) -> None:
        seconds = parse_duration(rule["for"]) * factor
        rule["for"] = format_duration(int(seconds))

    return apply


def _never(rule: dict[str, Any]) -> None:
    rule["expr"] = NEVER


def _watch_other_severity(rule: dict[str, Any]) -> None:
    rule["expr"] = rule["expr"].replace('severity="critical"', 'severity="high"')


ESCALATION_MUTATIONS = {
    "delay halved": _scale_for(0.5),
    "delay doubled": _scale_for(2),
    "never fires": _never,
    "watches another severity": _watch_other_severity,
}
ESCALATIONS = ["ShopAvailabilityBudgetBurnEscalated", "ShopDownEscalated"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "alert", ESCALATIONS, ids=[f"{a} around its 5m delay" for a in ESCALATIONS]
)
def test_generated_tests_of_escalations_catch_every_mutation(tmp_path: Path, alert: str) -> None:
    if not binaries("promtool"):
        pytest.skip("promtool is not installed (run `make setup`)")
    out = tmp_path / "out"
    compile_to([LADDER], out)
    files = _tests_expecting(out, "shop", lambda labels: labels.get("alertname") == alert)

    def rule_of(rule: dict[str, Any]) -> bool:
        return rule.get("alert") == alert

    survivors = _survivors(tmp_path, out, "shop", files, rule_of, ESCALATION_MUTATIONS)
    assert not survivors, f"tests of {alert} survived: {survivors}"


# --- baseline alerts ----------------------------------------------------------------------

BASELINES = FIXTURES / "slo" / "baseline-alerts.yaml"
# (alert, what it covers): every method and direction of baseline-alerts.yaml.
BASELINE_CASES = [
    ("TrendsOrdersBelowBaseline", "seasonal below over 2 weeks, with a minimum, for 30m"),
    ("TrendsRefundsAboveBaseline", "seasonal above by more than 100%, without for"),
    ("TrendsSignupsUnusual", "seasonal both ways, with a minimum, for 2h"),
    ("TrendsPaymentSuccessLow", "statistical below over 1d, with a minimum, for 15m"),
    ("TrendsLatencyUnusual", "statistical both ways over 6h, at the slow file's 5m steps"),
    ("TrendsQueueSpike", "statistical above over 2d, without for"),
]


def _baseline_mutations(alert: Alert) -> dict[str, Callable[[dict[str, Any]], None]]:
    """The expressions sloforge would write for a tolerance (or k) scaled by 0.7 and 1.5, or
    without the minimum; and one that never fires."""
    b = alert.baseline
    assert b is not None
    field = "tolerance" if b.seasonal else "deviations"

    def compiled(changed: Baseline) -> Callable[[dict[str, Any]], None]:
        expr = baselines.alert_expr(alert.service, alert.name, changed)
        return lambda rule: rule.update(expr=expr)

    mutations = {
        f"{field} x{factor}": compiled(replace(b, **{field: getattr(b, field) * factor}))
        for factor in (0.7, 1.5)
    }
    if b.minimum is not None:
        mutations["minimum ignored"] = compiled(replace(b, minimum=None))
    mutations["never fires"] = _never
    return mutations


def _every_hour(alert: Alert) -> Callable[[dict[str, Any]], None]:
    """The seasonal recording as a plain mean over all the weeks: not the same hour."""
    b = alert.baseline
    assert b is not None

    def apply(rule: dict[str, Any]) -> None:
        rule["expr"] = f"avg_over_time({b.metric.render()}[{b.weeks}w])"

    return apply


@pytest.mark.slow
@pytest.mark.parametrize(
    ("alert", "what"), BASELINE_CASES, ids=[f"{a}: {w}" for a, w in BASELINE_CASES]
)
def test_generated_tests_of_baseline_alerts_catch_every_mutation(
    tmp_path: Path, alert: str, what: str
) -> None:
    if not binaries("promtool"):
        pytest.skip("promtool is not installed (run `make setup`)")
    out = tmp_path / "out"
    compile_to([BASELINES], out)
    (service,) = load([BASELINES]).project.services
    planned = next(a for a in service.alerts if a.name == alert)
    files = _tests_expecting(out, "trends", lambda labels: labels.get("alertname") == alert)

    def rule_of(rule: dict[str, Any]) -> bool:
        return rule.get("alert") == alert

    mutations = _baseline_mutations(planned)
    survivors = _survivors(tmp_path, out, "trends", files, rule_of, mutations)
    assert not survivors, f"tests of {alert} survived: {survivors}"
    assert planned.baseline is not None
    if planned.baseline.seasonal:

        def recording_of(rule: dict[str, Any]) -> bool:
            return rule.get("labels", {}).get("baseline") == alert

        every_hour = {"mean of every hour": _every_hour(planned)}
        survivors = _survivors(tmp_path, out, "trends", files, recording_of, every_hour)
        assert not survivors, f"tests of {alert}'s recording survived: {survivors}"


# --- timeslices SLIs ---------------------------------------------------------------------

SLICES = FIXTURES / "slo" / "timeslices.yaml"
SLICE_ALERTS = {
    "good-minutes": "UptimeGoodMinutesBudgetBurn",
    "queue-minutes": "UptimeQueueMinutesBudgetBurn",
}
# (SLO, long window): 1m slices checked every minute (1h) and every five minutes (1d).
SLICE_TIERS = [("good-minutes", "1h"), ("good-minutes", "1d"), ("queue-minutes", "1h")]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("slo", "window"), SLICE_TIERS, ids=[f"the {w} tier of {s}" for s, w in SLICE_TIERS]
)
def test_generated_tests_of_timeslice_tiers_catch_every_mutation(
    tmp_path: Path, slo: str, window: str
) -> None:
    """The tier's threshold scaled by 0.7 (its quiet run fires) or 1.5 (its firing run stays
    quiet), or never firing: the SLO's generated groups fail on both promtools."""
    if not binaries("promtool"):
        pytest.skip("promtool is not installed (run `make setup`)")
    out = tmp_path / "out"
    compile_to([SLICES], out)
    files = _trimmed_tests(out, "uptime", SLICE_ALERTS[slo])

    def rule_of(rule: dict[str, Any]) -> bool:
        labels = rule.get("labels", {})
        return rule.get("alert") == SLICE_ALERTS[slo] and labels.get("long_window") == window

    survivors = _survivors(tmp_path, out, "uptime", files, rule_of, EXPR_MUTATIONS)
    assert not survivors, f"tests of the {window} tier of {slo} survived: {survivors}"


SLICE_THRESHOLD = re.compile(r"(bool )([0-9.]+)(\)?)$")


def _slice_threshold(factor: float) -> Callable[[dict[str, Any]], None]:
    def apply(rule: dict[str, Any]) -> None:
        rule["expr"] = SLICE_THRESHOLD.sub(
            lambda m: f"{m.group(1)}{float(m.group(2)) * factor!r}{m.group(3)}", rule["expr"]
        )

    return apply


SLICE_THRESHOLD_MUTATIONS = {
    "per-slice threshold x0.7": _slice_threshold(0.7),
    "per-slice threshold x1.5": _slice_threshold(1.5),
}


def _tests_reading(out: Path, service: str, record: str, slo: str) -> list[Path]:
    """Each generated test file, cut down to the groups that check ``record`` of ``slo``."""
    files = []
    for path in sorted((out / "prometheus" / "tests").glob(f"{service}.*test.yml")):
        doc = yaml.safe_load(path.read_text())
        doc["tests"] = [
            g
            for g in doc["tests"]
            if any(
                record in c["expr"] and f'slo="{slo}"' in c["expr"]
                for c in g.get("promql_expr_test", [])
            )
        ]
        if doc["tests"]:
            trimmed = path.with_name(f"mutation-{path.name}")
            trimmed.write_text(yaml.safe_dump(doc, sort_keys=False))
            files.append(trimmed)
    assert files, f"no generated test checks {record} of {slo}"
    return files


@pytest.mark.slow
@pytest.mark.parametrize(
    "slo", list(SLICE_ALERTS), ids=[f"the slices of {s}" for s in SLICE_ALERTS]
)
def test_generated_tests_of_the_per_slice_threshold_catch_its_mutations(
    tmp_path: Path, slo: str
) -> None:
    """The threshold a slice is judged by, scaled by 0.7 and 1.5: the slice just on the good
    side (or just on the bad side) is then judged wrongly, and its check fails."""
    if not binaries("promtool"):
        pytest.skip("promtool is not installed (run `make setup`)")
    out = tmp_path / "out"
    compile_to([SLICES], out)
    record = "slo:sli_timeslice:good1m"
    files = _tests_reading(out, "uptime", record, slo)

    def rule_of(rule: dict[str, Any]) -> bool:
        return rule.get("record") == record and rule["labels"]["slo"] == slo

    survivors = _survivors(tmp_path, out, "uptime", files, rule_of, SLICE_THRESHOLD_MUTATIONS)
    assert not survivors, f"tests of the per-slice threshold of {slo} survived: {survivors}"
