"""A catalog severity's response time is shown where people act on an alert: the runbook
and `sloforge explain`."""

from __future__ import annotations

from pathlib import Path

import pytest
from sloforge.pipeline import build_outputs, load
from sloforge_testlib import SHOP_SERVICE, sloforge

SETTINGS = """\
apiVersion: sloforge/v1
kind: Settings
severities:
  - {name: P1, label: critical, class: page, response_time: 5m}
  - {name: P2, label: high, class: page}
  - {name: P3, label: warning, class: ticket, response_time: 1h}
"""
ALERTS = """\
alerts:
  - {name: ShopQueueStuck, metric: 'queue_depth{job="shop"}', above: 100, for: 5m, severity: P1}
  - {name: ShopQueueSlow, metric: 'queue_depth{job="shop"}', above: 50, for: 5m, severity: P2}
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    src = tmp_path / "slo"
    src.mkdir()
    (src / "shop.yaml").write_text(SHOP_SERVICE + ALERTS)
    (src / "settings.yaml").write_text(SETTINGS)
    return src


RUNBOOK_LINES = [
    (
        "a plain alert's table gives its severity's response time",
        "runbooks/shop/ShopQueueStuck.md",
        "| Respond within | 5m (P1) |",
    ),
    (
        "a plain alert's escalation says it",
        "runbooks/shop/ShopQueueStuck.md",
        "- Severity `critical`, respond within 5m (P1): pages the on-call now.",
    ),
    (
        "each burn-rate class says its severity's response time",
        "runbooks/shop/ShopAvailabilityBudgetBurn.md",
        "- ticket tiers (severity `warning`, respond within 1h (P3)): opens a ticket for "
        "working hours: the budget burns, but too slowly to wake anyone.",
    ),
]


@pytest.mark.parametrize(
    ("path", "line"), [c[1:] for c in RUNBOOK_LINES], ids=[c[0] for c in RUNBOOK_LINES]
)
def test_runbooks_show_the_response_time(repo: Path, path: str, line: str) -> None:
    files = build_outputs(load([repo]).project)
    assert line in files[path].decode().splitlines()


def test_a_severity_without_response_time_adds_no_row(repo: Path) -> None:
    files = build_outputs(load([repo]).project)
    assert "Respond within" not in files["runbooks/shop/ShopQueueSlow.md"].decode()


def test_explain_prints_the_response_times_of_the_tiers_severities(repo: Path) -> None:
    result = sloforge("explain", str(repo), "--slo", "shop/availability")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "  respond within (severity catalog): P1 5m, P3 1h"
