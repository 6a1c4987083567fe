# ruff: noqa: E501 - whole messages read best on one line each
"""`validate` reports every problem of a run at once, not in waves.

Each case holds mistakes that used to hide one another: a missing apiVersion hid
the model's errors, a refused document hid its duplicate names, a refused
routing document hid its unknown receivers. The whole stderr is asserted.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from sloforge.cli import app
from typer.testing import CliRunner

runner = CliRunner()

SHOP = """\
kind: ServiceLevels
service: shop
owner: shop
slos:
  - name: availability
    objective: 100
    window: 30days
    sli:
      ratio:
        errors: http_requests_total{job="shop", code=~"5.."}
        total: http_requests_total{job="shop"}
      probe: probe_success{job="shop"}
  - name: availability
    objective: 99
    sli:
      probe: probe_success{job="shop"}
    alerting:
      tiers:
        - {severity: page, long_window: 1h, short_window: 2h, burn_rate: 14.4}
alerts:
  - name: shop-down
    expr: up{job="shop"} == 0
    severity: critical
"""

ROUTING = """\
apiVersion: sloforge/v1
kind: AlertRouting
alertmanager_version: latest
receivers:
  - name: team
    slack: {channel: "#shop", api_url: https://hooks.slack.com/x}
routes:
  - matchers: ['severity=critical']
    receivers: [pager]
    repeat_interval: soon
default_receiver: team
"""

CASES = [
    pytest.param(
        {"shop.yaml": SHOP},
        """\
in/shop.yaml:1:1: apiVersion: missing required field `apiVersion` (use sloforge/v1)
in/shop.yaml:6:5: slos[0].objective: must be less than 100 (got 100)
in/shop.yaml:7:5: slos[0].window: invalid duration '30days': use a Prometheus duration like 5m, 1h or 30d, or month or week for a calendar period
in/shop.yaml:8:5: slos[0].sli: exactly one of ratio, latency, probe, query or timeslices is required (got ratio and probe)
in/shop.yaml:13:5: slos[1].name: duplicate SLO name `availability` (first at in/shop.yaml:5:5)
in/shop.yaml:19:11: slos[1].alerting.tiers[0]: short_window (2h) must be shorter than long_window (1h)
in/shop.yaml:21:5: alerts[0].name: is not a valid alert name: use letters, digits and underscores, starting with a letter (got 'shop-down'), e.g. 'ShopDown'
7 problems in 1 file
""",
        id="a missing apiVersion, two SLI kinds and a duplicate name are all reported in one run",
    ),
    pytest.param(
        {"shop.yaml": "apiVersion: sloforge/v2\n" + SHOP.replace("shop-down", "ShopDown")},
        """\
in/shop.yaml:1:1: apiVersion: unknown apiVersion 'sloforge/v2'; sloforge reads sloforge/v1 (Sloth, Pyrra and OpenSLO documents are recognised by their own version)
in/shop.yaml:7:5: slos[0].objective: must be less than 100 (got 100)
in/shop.yaml:8:5: slos[0].window: invalid duration '30days': use a Prometheus duration like 5m, 1h or 30d, or month or week for a calendar period
in/shop.yaml:9:5: slos[0].sli: exactly one of ratio, latency, probe, query or timeslices is required (got ratio and probe)
in/shop.yaml:14:5: slos[1].name: duplicate SLO name `availability` (first at in/shop.yaml:6:5)
in/shop.yaml:20:11: slos[1].alerting.tiers[0]: short_window (2h) must be shorter than long_window (1h)
6 problems in 1 file
""",
        id="an unknown apiVersion does not hide the mistakes of the kind it names",
    ),
    pytest.param(
        {"routing.yaml": ROUTING},
        """\
in/routing.yaml:3:1: alertmanager_version: must be an Alertmanager version like 0.25 or 0.27.0 (got 'latest')
in/routing.yaml:6:31: receivers[0].slack.api_url: secrets are never written inline; use api_url_file
in/routing.yaml:9:17: routes[0].receivers[0]: unknown receiver `pager`; defined: team (see `receivers`)
in/routing.yaml:10:5: routes[0].repeat_interval: invalid duration 'soon': use a Prometheus duration like 5m, 1h or 30d
4 problems in 1 file
""",
        id="a routing document the model refuses still has its receivers and references checked",
    ),
    pytest.param(
        {
            "shop.yaml": "apiVersion: sloforge/v1\n" + SHOP.replace("shop-down", "ShopDown"),
            "routing.yaml": ROUTING.replace("alertmanager_version: latest\n", "").replace(
                "    repeat_interval: soon\n", ""
            ),
        },
        """\
in/routing.yaml:5:31: receivers[0].slack.api_url: secrets are never written inline; use api_url_file
in/routing.yaml:8:17: routes[0].receivers[0]: unknown receiver `pager`; defined: team (see `receivers`)
in/shop.yaml:7:5: slos[0].objective: must be less than 100 (got 100)
in/shop.yaml:8:5: slos[0].window: invalid duration '30days': use a Prometheus duration like 5m, 1h or 30d, or month or week for a calendar period
in/shop.yaml:9:5: slos[0].sli: exactly one of ratio, latency, probe, query or timeslices is required (got ratio and probe)
in/shop.yaml:14:5: slos[1].name: duplicate SLO name `availability` (first at in/shop.yaml:6:5)
in/shop.yaml:20:11: slos[1].alerting.tiers[0]: short_window (2h) must be shorter than long_window (1h)
7 problems in 2 files
""",
        id="alerting errors in a service do not hide the routing document's errors",
    ),
    pytest.param(
        {
            "a.yaml": "apiVersion: sloforge/v1\nkind: ServiceLevels\nservice: shop\nowner: ''\n",
            "b.yaml": "apiVersion: sloforge/v1\nkind: ServiceLevels\nservice: shop\nlabels: {team: x}\n",
        },
        """\
in/a.yaml:4:1: owner: string should have at least 1 character (got '')
in/b.yaml:3:1: service: service `shop` is already defined at in/a.yaml:3:1
in/b.yaml:4:10: labels.team: `team` is set by sloforge; choose another label name
3 problems in 2 files
""",
        id="a refused service document still takes part in the duplicate-service check",
    ),
    pytest.param(
        {"shop.yaml": "apiVersion: sloforge/v1\nservice: shop\n"},
        """\
in/shop.yaml:1:1: kind: missing required field `kind`; expected one of ServiceLevels, AlertRouting, Settings
1 problem in 1 file
""",
        id="without a kind there is no model to check the rest against",
    ),
    pytest.param(
        {"shop.yaml": "service: shop\n"},
        """\
in/shop.yaml:1:1: apiVersion: missing required field `apiVersion` (use sloforge/v1)
in/shop.yaml:1:1: kind: missing required field `kind`; expected one of ServiceLevels, AlertRouting, Settings
2 problems in 1 file
""",
        id="a missing apiVersion and a missing kind are both named",
    ),
]


@pytest.mark.parametrize(("files", "expected"), CASES)
def test_validate_reports_every_problem_in_one_run(
    files: dict[str, str], expected: str, tmp_path: Path
) -> None:
    for name, text in files.items():
        (tmp_path / "in").mkdir(exist_ok=True)
        (tmp_path / "in" / name).write_text(text)
    with contextlib.chdir(tmp_path):
        result = runner.invoke(app, ["validate", "in"])
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", expected)
