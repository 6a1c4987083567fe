"""Percentile, absent-data and baseline alerts: what they accept, refuse and generate.

Errors are asserted whole, located, through the real command line. The promtool
proof of each kind's generated tests lives in test_mutations.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sloforge.cli import app
from sloforge.model.durations import format_duration, parse_duration
from sloforge.pipeline import build_outputs, load
from sloforge.spec.plan import absent_for
from sloforge_testlib import SHOP_SERVICE
from typer.testing import CliRunner

runner = CliRunner()

PERCENTILE = """\
alerts:
  - name: ShopCheckoutP95High
    histogram: http_server_request_duration_seconds
    matchers: '{job="shop"}'
    percentile: 95
    above: 3
    for: 10m
    severity: warning
"""


def percentile(old: str, new: str) -> str:
    assert old in PERCENTILE, old
    return SHOP_SERVICE + PERCENTILE.replace(old, new, 1)


def validate(tmp_path: Path, text: str) -> tuple[int, list[str]]:
    path = tmp_path / "in" / "shop.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    result = runner.invoke(app, ["validate", "in/shop.yaml"], catch_exceptions=False)
    return result.exit_code, [line for line in result.output.splitlines() if line.strip()]


REFUSED = [
    (
        "a percentile written as a fraction is refused with the percent to write",
        percentile("percentile: 95", "percentile: 0.95"),
        "in/shop.yaml:16:5: alerts[0].percentile: is a percent, like objective: "
        "0.95 would be the p0.95; write 95 for p95",
    ),
    (
        "a percentile of 100 or more is refused",
        percentile("percentile: 95", "percentile: 100"),
        "in/shop.yaml:16:5: alerts[0].percentile: must be a percent above 1 and below 100, "
        "e.g. 95 for p95 (got 100)",
    ),
    (
        "a histogram given with its _bucket suffix names the base name to use",
        percentile(
            "histogram: http_server_request_duration_seconds",
            "histogram: http_server_request_duration_seconds_bucket",
        ),
        "in/shop.yaml:14:5: alerts[0].histogram: give the base name without _bucket "
        "(got 'http_server_request_duration_seconds_bucket', "
        "use 'http_server_request_duration_seconds')",
    ),
    (
        "le in group_by is refused because the percentile is computed over it",
        percentile("for: 10m", "for: 10m\n    group_by: [route, le]"),
        "in/shop.yaml:19:5: alerts[0].group_by: `le` is implied (the percentile is computed "
        "over it); list only the labels to keep",
    ),
    (
        "a percentile alert without percentile",
        percentile("    percentile: 95\n", ""),
        "in/shop.yaml:13:5: alerts[0]: a percentile alert needs `percentile` (95 for p95)",
    ),
    (
        "a percentile alert with below instead of above",
        percentile("above: 3", "below: 3"),
        "in/shop.yaml:13:5: alerts[0]: a percentile alert needs `above` "
        "(seconds, or the histogram's unit), not `below`",
    ),
    (
        "histogram and metric together are two forms at once",
        percentile("for: 10m", "for: 10m\n    metric: up"),
        "in/shop.yaml:13:5: alerts[0]: give exactly one of `expr` (free-form PromQL), "
        "`metric` with `above`, `below` or `baseline`, `histogram` with `percentile` and "
        "`above` (got `metric` and `histogram`)",
    ),
    (
        "percentile on a metric alert belongs to histogram alerts",
        SHOP_SERVICE
        + "alerts:\n  - {name: ShopUp, metric: up, below: 1, percentile: 95, severity: info}\n",
        "in/shop.yaml:13:5: alerts[0]: `percentile` belongs to percentile alerts "
        "(with `histogram`)",
    ),
]


@pytest.mark.parametrize(("why", "text", "message"), REFUSED, ids=[c[0] for c in REFUSED])
def test_a_bad_structured_alert_is_refused_with_a_located_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, why: str, text: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    code, lines = validate(tmp_path, text)
    assert (code, lines) == (1, [message, "1 problem in 1 file"])


# --- absent-data alerts ------------------------------------------------------------------

ABSENT_DELAYS = [
    ("a 99.9% 30d SLO's 52 seconds are raised to the 5m floor", 99.9, "30d", "5m"),
    ("a 99% 30d SLO waits 2% of 7.2h, 8.64m, rounded up to 9m", 99, "30d", "9m"),
    ("a 95% 30d SLO waits 43.2m, rounded up to 44m", 95, "30d", "44m"),
    ("a 90% 30d SLO's 86.4m are capped at 1h", 90, "30d", "1h"),
    ("a 99% 7d SLO waits 2% of 1.68h: 2.016m, raised to 5m", 99, "7d", "5m"),
    ("a 97% 28d SLO waits 24.192m, rounded up to 25m", 97, "28d", "25m"),
]


@pytest.mark.parametrize(
    ("why", "objective", "window", "delay"), ABSENT_DELAYS, ids=[c[0] for c in ABSENT_DELAYS]
)
def test_the_absent_delay_is_two_percent_of_the_budget_at_full_outage(
    why: str, objective: float, window: str, delay: str
) -> None:
    seconds = absent_for(objective, parse_duration(window))
    assert format_duration(seconds) == delay


def absent_alerts(tmp_path: Path, service: str, settings: str = "") -> dict[str, dict[str, Any]]:
    """Absent-data alert rules of the compiled input, by name."""
    (tmp_path / "in").mkdir(exist_ok=True)
    (tmp_path / "in" / "shop.yaml").write_text(service)
    if settings:
        (tmp_path / "in" / "settings.yaml").write_text(settings)
    files = build_outputs(load([tmp_path / "in"]).project)
    rules = yaml.safe_load(files["prometheus/rules/shop.rules.yml"])
    return {
        r["alert"]: r
        for g in rules["groups"]
        for r in g["rules"]
        if r.get("alert", "").endswith("DataAbsent") or r.get("alert") == "ShopNoOrders"
    }


def test_every_slo_gets_an_absent_data_alert_on_its_total_series(tmp_path: Path) -> None:
    rule = absent_alerts(tmp_path, SHOP_SERVICE)["ShopAvailabilityDataAbsent"]
    assert (rule["expr"], rule["for"], rule["labels"]) == (
        'absent(http_requests_total{job="shop"})',
        "5m",
        {"severity": "warning", "slo": "availability", "slo_service": "shop", "team": "shop"},
    )


def test_an_slo_can_rename_delay_and_label_its_absent_data_alert(tmp_path: Path) -> None:
    text = SHOP_SERVICE + (
        "    alerting:\n      absent:\n        name: ShopNoOrders\n        for: 15m\n"
        "        severity: critical\n        labels: {component: shop}\n"
    )
    rule = absent_alerts(tmp_path, text)["ShopNoOrders"]
    assert (rule["for"], rule["labels"]["severity"], rule["labels"]["component"]) == (
        "15m",
        "critical",
        "shop",
    )


DISABLED = [
    (
        "one SLO turns its own off",
        SHOP_SERVICE + "    alerting:\n      absent: {disable: true}\n",
        "",
    ),
    (
        "Settings turn them off for the repository",
        SHOP_SERVICE,
        "apiVersion: sloforge/v1\nkind: Settings\nabsent_alerts: false\n",
    ),
]


@pytest.mark.parametrize(("why", "service", "settings"), DISABLED, ids=[c[0] for c in DISABLED])
def test_absent_data_alerts_can_be_turned_off(
    tmp_path: Path, why: str, service: str, settings: str
) -> None:
    assert absent_alerts(tmp_path, service, settings) == {}


def test_an_absent_delay_that_is_not_a_duration_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    text = SHOP_SERVICE + "    alerting:\n      absent: {for: soon}\n"
    code, lines = validate(tmp_path, text)
    assert (code, lines) == (
        1,
        [
            "in/shop.yaml:13:16: slos[0].alerting.absent.for: invalid duration 'soon': "
            "use a Prometheus duration like 5m, 1h or 30d",
            "1 problem in 1 file",
        ],
    )


# --- baseline alerts -----------------------------------------------------------------------

BASELINE = """\
alerts:
  - name: ShopOrdersLow
    metric: shop:orders:increase1h{job="shop"}
    baseline:
      seasonal: {weeks: 4, tolerance: 30}
      min: 5
    for: 30m
    severity: warning
"""


def baseline(old: str, new: str) -> str:
    assert old in BASELINE, old
    return SHOP_SERVICE + BASELINE.replace(old, new, 1)


STATISTICAL = "statistical: {window: 1d, deviations: 3}"

BASELINE_REFUSED = [
    (
        "a metric written as PromQL, not a selector, is refused with where to record it",
        baseline('metric: shop:orders:increase1h{job="shop"}', "metric: sum(increase(orders[1h]))"),
        "in/shop.yaml:14:5: alerts[0].metric: must be a series selector like "
        'metric{label="value"}: record other PromQL under recording_rules and name the record '
        "here, or write the alert as `expr`",
    ),
    (
        "a tolerance written as a fraction is refused with the percent to write",
        baseline("tolerance: 30", "tolerance: 0.3"),
        "in/shop.yaml:16:28: alerts[0].baseline.seasonal.tolerance: is a percent: 0.3 would be "
        "0.3% of the baseline; write 30 for 30%",
    ),
    (
        "a tolerance of zero is refused",
        baseline("tolerance: 30", "tolerance: 0"),
        "in/shop.yaml:16:28: alerts[0].baseline.seasonal.tolerance: must be a percent above 0, "
        "how far from the baseline is still normal (got 0)",
    ),
    (
        "a drop of more than 100% can never happen",
        baseline("tolerance: 30", "tolerance: 120"),
        "in/shop.yaml:15:5: alerts[0].baseline: a tolerance of 120% below the baseline can never "
        "be crossed: a value cannot drop more than 100%; give less than 100, or "
        "`direction: above`",
    ),
    (
        "more than eight past weeks are refused",
        baseline("weeks: 4", "weeks: 9"),
        "in/shop.yaml:16:18: alerts[0].baseline.seasonal.weeks: must be between 1 and 8 past "
        "weeks (got 9): older weeks say little about this one, and Prometheus keeps 15 days by "
        "default",
    ),
    (
        "zero past weeks are refused",
        baseline("weeks: 4", "weeks: 0"),
        "in/shop.yaml:16:18: alerts[0].baseline.seasonal.weeks: must be between 1 and 8 past "
        "weeks (got 0): older weeks say little about this one, and Prometheus keeps 15 days by "
        "default",
    ),
    (
        "a fractional number of weeks is refused",
        baseline("weeks: 4", "weeks: 2.5"),
        "in/shop.yaml:16:18: alerts[0].baseline.seasonal.weeks: must be a whole number of weeks "
        "(got 2.5)",
    ),
    (
        "k of zero standard deviations is refused",
        baseline("seasonal: {weeks: 4, tolerance: 30}", STATISTICAL.replace("3}", "0}")),
        "in/shop.yaml:16:33: alerts[0].baseline.statistical.deviations: must be a positive "
        "number of standard deviations, e.g. 3 (got 0)",
    ),
    (
        "a negative k is refused",
        baseline("seasonal: {weeks: 4, tolerance: 30}", STATISTICAL.replace("3}", "-2}")),
        "in/shop.yaml:16:33: alerts[0].baseline.statistical.deviations: must be a positive "
        "number of standard deviations, e.g. 3 (got -2)",
    ),
    (
        "a statistical window under an hour is too short for a mean and deviation",
        baseline("seasonal: {weeks: 4, tolerance: 30}", STATISTICAL.replace("1d", "30m")),
        "in/shop.yaml:16:21: alerts[0].baseline.statistical.window: must be at least 1h "
        "(got 30m): a mean and standard deviation over less follow every dip, so nothing "
        "stands out from them",
    ),
    (
        "a statistical window over five weeks belongs to the seasonal method",
        baseline("seasonal: {weeks: 4, tolerance: 30}", STATISTICAL.replace("1d", "6w")),
        "in/shop.yaml:16:21: alerts[0].baseline.statistical.window: must be at most 5w "
        "(got 6w): for longer history use `seasonal`",
    ),
    (
        "a statistical window no longer than for reads no history",
        baseline("seasonal: {weeks: 4, tolerance: 30}", STATISTICAL.replace("1d", "1h")).replace(
            "for: 30m", "for: 1h"
        ),
        "in/shop.yaml:13:5: alerts[0]: `baseline.statistical.window` (1h) must be longer than "
        "`for` (1h): the window ends `for` ago, so that a departure waiting out `for` is not "
        "yet part of its own baseline",
    ),
    (
        "both methods at once",
        baseline(
            "seasonal: {weeks: 4, tolerance: 30}",
            f"{STATISTICAL}\n      seasonal: {{tolerance: 30}}",
        ),
        "in/shop.yaml:15:5: alerts[0].baseline: give exactly one of `seasonal` (the same hour "
        "in past weeks) or `statistical` (mean plus or minus k standard deviations) (got both)",
    ),
    (
        "neither method",
        baseline("      seasonal: {weeks: 4, tolerance: 30}\n", ""),
        "in/shop.yaml:15:5: alerts[0].baseline: give exactly one of `seasonal` (the same hour "
        "in past weeks) or `statistical` (mean plus or minus k standard deviations) "
        "(got neither)",
    ),
    (
        "a negative minimum is refused",
        baseline("min: 5", "min: -1"),
        "in/shop.yaml:17:7: alerts[0].baseline.min: is a level of the metric, at least 0 (got -1)",
    ),
    (
        "an unknown direction names the three there are",
        baseline("min: 5", "direction: sideways"),
        "in/shop.yaml:17:7: alerts[0].baseline.direction: must be 'below', 'above' or 'both' "
        "(got 'sideways')",
    ),
    (
        "a baseline with below is two comparisons at once",
        baseline("    baseline:", "    below: 3\n    baseline:"),
        "in/shop.yaml:13:5: alerts[0]: a structured alert needs exactly one of `above`, `below` "
        "or `baseline` (got `below` and `baseline`)",
    ),
    (
        "a baseline on a free-form expr is refused",
        baseline('metric: shop:orders:increase1h{job="shop"}', "expr: up == 0"),
        "in/shop.yaml:13:5: alerts[0]: `baseline` belongs to structured alerts on a `metric`",
    ),
]


@pytest.mark.parametrize(
    ("why", "text", "message"), BASELINE_REFUSED, ids=[c[0] for c in BASELINE_REFUSED]
)
def test_a_bad_baseline_alert_is_refused_with_a_located_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, why: str, text: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    code, lines = validate(tmp_path, text)
    assert (code, lines) == (1, [message, "1 problem in 1 file"])


def compiled(tmp_path: Path, text: str, service: str = "trends") -> list[dict[str, Any]]:
    """The rules of the service's plain group, as compiled."""
    (tmp_path / "in").mkdir(exist_ok=True)
    (tmp_path / "in" / "svc.yaml").write_text(text)
    files = build_outputs(load([tmp_path / "in"]).project)
    (group,) = yaml.safe_load(files[f"prometheus/rules/{service}.rules.yml"])["groups"]
    return [{k: r[k] for k in ("record", "alert", "expr") if k in r} for r in group["rules"]]


TRENDS = """\
apiVersion: sloforge/v1
kind: ServiceLevels
service: trends
alerts:
  - name: SignupsUnusual
    metric: signups:increase1h{job="shop"}
"""


def test_a_seasonal_baseline_both_ways_records_the_weekly_mean_and_compares_both_sides(
    tmp_path: Path,
) -> None:
    text = TRENDS + (
        "    baseline: {seasonal: {weeks: 2, tolerance: 25}, direction: both, min: 10}\n"
        "    severity: warning\n"
    )
    mean = 'baseline:seasonal_mean:2w{baseline="SignupsUnusual", slo_service="trends"}'
    metric = 'signups:increase1h{job="shop"}'
    assert compiled(tmp_path, text) == [
        {
            "record": "baseline:seasonal_mean:2w",
            "expr": f"({metric} offset 1w + {metric} offset 2w) / 2",
        },
        {
            "alert": "SignupsUnusual",
            "expr": f"(\n  {metric} < ignoring (baseline, slo_service) {mean} * 0.75\nor\n"
            f"  {metric} > ignoring (baseline, slo_service) {mean} * 1.25\n)\n"
            f"and ignoring (baseline, slo_service) {mean} >= 10",
        },
    ]


def test_a_statistical_baseline_reads_a_window_ending_for_ago(tmp_path: Path) -> None:
    text = TRENDS + (
        "    baseline: {statistical: {window: 6h, deviations: 2.5}, direction: above}\n"
        "    for: 10m\n    severity: warning\n"
    )
    scope = '{baseline="SignupsUnusual", slo_service="trends"}'
    metric = 'signups:increase1h{job="shop"}'
    assert compiled(tmp_path, text) == [
        {"record": "baseline:mean:6h", "expr": f"avg_over_time({metric}[6h] offset 10m)"},
        {"record": "baseline:stddev:6h", "expr": f"stddev_over_time({metric}[6h] offset 10m)"},
        {
            "alert": "SignupsUnusual",
            "expr": f"{metric} > ignoring (baseline, slo_service) "
            f"(baseline:mean:6h{scope} + 2.5 * baseline:stddev:6h{scope})",
        },
    ]


def test_explain_prints_what_a_baseline_alert_compares(tmp_path: Path) -> None:
    text = TRENDS + (
        "    baseline: {seasonal: {weeks: 2, tolerance: 25}, min: 10}\n"
        "    for: 30m\n    severity: warning\n"
    )
    (tmp_path / "svc.yaml").write_text(text)
    result = runner.invoke(app, ["explain", str(tmp_path), "--slo", "trends/SignupsUnusual"])
    assert (result.exit_code, result.output) == (
        0,
        "trends/SignupsUnusual (baseline alert, severity warning, for 30m)\n"
        '  fires when signups:increase1h{job="shop"} is more than 25% below its mean at this '
        "hour over the past 2 weeks, while that mean is at least 10\n"
        '  below: baseline:seasonal_mean:2w{baseline="SignupsUnusual", slo_service="trends"} '
        "* 0.75\n"
        "  records baseline:seasonal_mean:2w; needs 14d of the metric's history\n",
    )
