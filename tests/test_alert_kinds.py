"""Percentile, absent-data and baseline alerts: what they accept, refuse and generate.

Errors are asserted whole, located, through the real command line. The promtool
proof of each kind's generated tests lives in test_mutations.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sloforge.cli import app
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
