"""The generated rules behave as SPEC section 3 says, checked by promtool on hand-built scenarios.

These scenarios are written here by hand, independently of the generator's own
test model: a 99.9% / 30d ratio SLO under each window strategy, on every
promtool this machine has (Debian's 2.42 and, when fetched, the current 3.x).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sloforge_testlib import FIXTURES, compile_to, promtool_test, write_yaml
from toolbox import binaries

pytestmark = pytest.mark.slow  # runs promtool, amtool or the servers

ALERT = "ShopAvailabilityBudgetBurn"
PER_MINUTE = 600  # 10 requests per second


def counter(*phases: tuple[int, float]) -> str:
    """(minutes, increase per minute) phases -> promtool series notation, starting at 0."""
    parts, value, first = [], 0.0, True
    for minutes, step in phases:
        if first:
            parts.append(f"0+{step}x{minutes}")
            value = step * minutes
            first = False
        else:
            parts.append(f"{value + step}+{step}x{minutes - 1}")
            value += step * minutes
    return " ".join(parts)


def series(ok: str, errors: str | None) -> list[dict[str, str]]:
    out = [{"series": 'http_requests_total{job="shop", code="200"}', "values": ok}]
    if errors is not None:
        out.append({"series": 'http_requests_total{job="shop", code="500"}', "values": errors})
    return out


def firing(selector: str, at: str, fires: bool) -> dict[str, object]:
    expr = f'count(ALERTS{{alertname="{ALERT}", alertstate="firing"{selector}}})'
    return {
        "expr": expr,
        "eval_time": at,
        "exp_samples": [{"labels": "{}", "value": 1}] if fires else [],
    }


SCENARIOS = {
    # Healthy for 2h, then every request fails: the 1h/5m tier pages within 5 minutes.
    "total outage pages within 5 minutes": (
        series(counter((120, PER_MINUTE), (10, 0)), counter((120, 0), (10, PER_MINUTE))),
        [firing(', long_window="1h"', "1h59m", False), firing(', long_window="1h"', "2h5m", True)],
    ),
    # 1% errors (10x the 0.1% budget) after 6h of healthy traffic: the 6h/30m tier pages
    # after 6h * 0.006 / 0.01 = 3.6h; the 1h/5m tier (threshold 1.44%) never does.
    "a steady 10x burn pages through 6h/30m after 3.6h, never through 1h/5m": (
        series(
            counter((360, PER_MINUTE), (230, PER_MINUTE * 0.99)),
            counter((360, 0), (230, PER_MINUTE * 0.01)),
        ),
        [
            firing(', long_window="6h"', "9h30m", False),
            firing(', long_window="6h"', "9h42m", True),
            firing(', long_window="1h"', "7h", False),
            firing(', long_window="1h"', "9h", False),
            firing(', long_window="1h"', "9h45m", False),
        ],
    ),
    # 0.05% errors from the start: half the budget's pace never fires any tier.
    "a steady 0.5x burn never fires": (
        series(counter((1600, PER_MINUTE * 0.9995)), counter((1600, PER_MINUTE * 0.0005))),
        [firing("", at, False) for at in ("1h", "6h", "1d", "1d2h")],
    ),
    # Counters that never move: NaN error ratios, which are not a burn.
    "no traffic never fires": (
        series(counter((200, 0)), counter((200, 0))),
        [firing("", at, False) for at in ("10m", "1h", "3h")],
    ),
}


@pytest.fixture(scope="module", params=["efficient", "exact"])
def compiled(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp(f"burn-{request.param}")
    settings = write_yaml(
        root / "in" / "settings.yaml",
        {"apiVersion": "sloforge/v1", "kind": "Settings", "strategy": request.param},
    )
    compile_to([FIXTURES / "slo" / "checkout-minimal.yaml", settings], root / "out")
    return root / "out"


@pytest.mark.parametrize("promtool", [p for _, p in binaries("promtool")] or ["promtool"])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_burn_rate_alerts_follow_the_workbook(compiled: Path, promtool: str, scenario: str) -> None:
    input_series, checks = SCENARIOS[scenario]
    test_file = compiled / "prometheus" / "tests" / "behaviour.test.yml"
    doc = {
        "rule_files": ["../rules/shop.rules.yml"],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": input_series, "promql_expr_test": checks}],
    }
    test_file.write_text(yaml.safe_dump(doc, sort_keys=False))
    result = promtool_test(promtool, test_file)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("promtool", [p for _, p in binaries("promtool")] or ["promtool"])
def test_a_missing_error_series_with_traffic_is_a_ratio_of_zero(
    compiled: Path, promtool: str
) -> None:
    labels = '{slo="availability", slo_service="shop", team="shop-team"}'
    checks = [
        {
            "expr": f"slo:sli_error:ratio_rate{w}",
            "eval_time": "90m",
            "exp_samples": [{"labels": f"slo:sli_error:ratio_rate{w}{labels}", "value": 0}],
        }
        for w in ("5m", "1h")
    ]
    doc = {
        "rule_files": ["../rules/shop.rules.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": series(counter((100, PER_MINUTE)), None),
                "promql_expr_test": checks,
            }
        ],
    }
    test_file = compiled / "prometheus" / "tests" / "zero.test.yml"
    test_file.write_text(yaml.safe_dump(doc, sort_keys=False))
    result = promtool_test(promtool, test_file)
    assert result.returncode == 0, result.stdout + result.stderr
