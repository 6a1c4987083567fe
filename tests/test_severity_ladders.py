# ruff: noqa: E501 - whole messages read best on one line each
"""Severity ladders, the severity catalog and escalation: syntax, located refusals, rules,
routes, lint.

The fixture tests/fixtures/ladder/ is the delivery platform's four-level ladder
(error rate above 10% / 5% / 2% / 0.5%) on one SLO, with a P1-P4 catalog whose
P1 escalates to P0 after 5 minutes.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from sloforge.errors import SpecError
from sloforge.pipeline import build_outputs, load
from sloforge.review.lint import lint
from sloforge_testlib import FIXTURES, compile_to, promtool_test
from toolbox import binaries

LADDER = FIXTURES / "ladder"


Edits = dict[str, tuple[str, str] | list[tuple[str, str]]]


def _inputs(tmp_path: Path, replace: Edits) -> Path:
    """A copy of the ladder fixture with substrings replaced (each must be there), by file."""
    root = tmp_path / "in"
    root.mkdir()
    for source in sorted(LADDER.iterdir()):
        text = source.read_text()
        edits = replace.get(source.name, [])
        for old, new in edits if isinstance(edits, list) else [edits]:
            assert old in text, old
            text = text.replace(old, new, 1)
        (root / source.name).write_text(text)
    return root


def _problems(root: Path) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load([root])
    prefix = f"{root}/"
    return [str(p).replace(prefix, "in/") for p in caught.value.problems]


@dataclass(frozen=True)
class Bad:
    id: str
    replace: Edits
    messages: list[str]


BAD = [
    Bad(
        "a tier naming a severity the catalog lacks is refused at the tier",
        {"shop.yaml": ("severity: P3,", "severity: P5,")},
        [
            "in/shop.yaml:18:12: slos[0].alerting.tiers[2].severity: unknown severity `P5`; the severity catalog in in/settings.yaml defines P1 (critical), P2 (high), P3 (warning), P4 (info), P0 (escalated)",
        ],
    ),
    Bad(
        "a plain alert naming neither a catalog name nor a catalog label is refused",
        {"shop.yaml": ("severity: P1\n", "severity: urgent\n")},
        [
            "in/shop.yaml:25:5: alerts[0].severity: unknown severity `urgent`; the severity catalog in in/settings.yaml defines P1 (critical), P2 (high), P3 (warning), P4 (info), P0 (escalated)",
        ],
    ),
    Bad(
        "a misspelt severity gets a suggestion",
        {"shop.yaml": ("severity: P1\n", "severity: p1\n")},
        [
            "in/shop.yaml:25:5: alerts[0].severity: unknown severity `p1`; the severity catalog in in/settings.yaml defines P1 (critical), P2 (high), P3 (warning), P4 (info), P0 (escalated); did you mean `P1`?",
        ],
    ),
    Bad(
        "a ladder tier without a class when its catalog entry has none is refused",
        {"settings.yaml": ("label: high, class: page,", "label: high,")},
        [
            "in/shop.yaml:17:11: slos[0].alerting.tiers[1]: a tier of severity `P2` needs `class: page` or `class: ticket` (a firing page silences the tickets of the same SLO), here or on its catalog entry",
        ],
    ),
    Bad(
        "two tiers with the same severity and windows are refused",
        {
            "shop.yaml": (
                "severity: P4, long_window: 3d, short_window: 6h",
                "severity: P3, long_window: 1d, short_window: 2h",
            )
        },
        [
            "in/shop.yaml:19:11: slos[0].alerting.tiers[3]: same severity and windows as tiers[2]: the two alerts would carry identical labels",
        ],
    ),
    Bad(
        "a tier giving both a burn rate and an error rate is refused",
        {"shop.yaml": ("error_rate: 10}", "error_rate: 10, burn_rate: 14.4}")},
        [
            "in/shop.yaml:16:11: slos[0].alerting.tiers[0]: give exactly one of `burn_rate`, `budget_consumed` or `error_rate`",
        ],
    ),
    Bad(
        "a rung whose threshold is an error ratio above 100% is refused at the rung",
        {"shop.yaml": ("error_rate: 10}", "burn_rate: 2000}")},
        [
            "in/shop.yaml:16:11: slos[0].alerting.tiers[0]: the P1 tier 2000x over 1h fires only above an error ratio of 200%, which can never happen; lower its burn rate"
        ],
    ),
    Bad(
        "a catalog receiver AlertRouting does not define is refused in the catalog",
        {"settings.yaml": ("receivers: [chat]}", "receivers: [chatt]}")},
        [
            "in/settings.yaml:7:96: severities[1].receivers[0]: unknown receiver `chatt`; did you mean `chat`?",
        ],
    ),
    Bad(
        "two catalog entries with one label are refused",
        {"settings.yaml": ("label: high,", "label: critical,")},
        [
            "in/settings.yaml:7:16: severities[1].label: severity label `critical` is already P1's; each severity needs its own label so routes and repeat intervals can tell them apart",
        ],
    ),
    Bad(
        "a catalog name that is another entry's label is refused",
        {"settings.yaml": ("label: high,", "label: P1,")},
        [
            "in/settings.yaml:6:6: severities[0].name: `P1` is also P2's label; alerts may write either, so a name must not be another severity's label",
        ],
    ),
    Bad(
        "an escalation to a severity the catalog lacks is refused",
        {"settings.yaml": ("to: P0}", "to: P9}")},
        [
            "in/settings.yaml:6:133: severities[0].escalate.to: unknown severity `P9`; defined: P1, P2, P3, P4, P0",
        ],
    ),
    Bad(
        "a severity escalating to itself is refused",
        {"settings.yaml": ("to: P0}", "to: P1}")},
        ["in/settings.yaml:6:133: severities[0].escalate.to: `P1` cannot escalate to itself"],
    ),
    Bad(
        "an escalation after no time at all is refused",
        {"settings.yaml": ("after: 5m", "after: 0s")},
        ["in/settings.yaml:6:122: severities[0].escalate.after: must be longer than 0s"],
    ),
    Bad(
        "page tiers with no page severity in the catalog are refused at the SLO",
        {
            "settings.yaml": [
                ("class: page, response_time: 5m", "class: ticket, response_time: 5m"),
                ("class: page, response_time: 15m", "class: ticket, response_time: 15m"),
            ],
            "shop.yaml": ("severity: P1, long_window: 1h", "severity: page, long_window: 1h"),
        },
        [
            "in/shop.yaml:14:5: slos[0].alerting: page tiers need a severity from the catalog: give `alerting.page.severity` or mark a catalog severity `class: page`",
        ],
    ),
]


@pytest.mark.parametrize("case", BAD, ids=[c.id for c in BAD])
def test_bad_catalogs_and_ladders_get_located_messages(tmp_path: Path, case: Bad) -> None:
    assert _problems(_inputs(tmp_path, case.replace)) == case.messages


def _rules(root: Path = LADDER) -> list[dict[str, object]]:
    files = build_outputs(load([root]).project)
    doc = yaml.safe_load(files["prometheus/rules/shop.rules.yml"])
    return [r for g in doc["groups"] for r in g["rules"] if "alert" in r]


def test_each_rung_of_the_ladder_has_its_own_threshold_severity_and_class() -> None:
    rungs = [
        (
            r["labels"]["severity"],
            r["labels"]["slo_tier"],
            r["labels"]["long_window"],
            r["expr"].split(" > ")[1].split("\n")[0],
        )
        for r in _rules()
        if r["alert"] == "ShopAvailabilityBudgetBurn"
    ]
    assert rungs == [
        ("critical", "page", "1h", "0.1"),
        ("high", "page", "6h", "0.05"),
        ("warning", "ticket", "1d", "0.02"),
        ("info", "ticket", "3d", "0.005"),
    ]


def test_a_rung_carries_its_own_labels_and_annotations_only() -> None:
    rules = {r["labels"]["long_window"]: r for r in _rules() if "long_window" in r["labels"]}
    assert rules["6h"]["annotations"]["action"] == "Escalate to the engineering lead."
    assert rules["3d"]["labels"]["review"] == "weekly"
    assert "action" not in rules["1h"]["annotations"] and "review" not in rules["1h"]["labels"]


def test_plain_alerts_carry_the_catalog_label_of_their_severity() -> None:
    (down,) = [r for r in _rules() if r["alert"] == "ShopDown"]
    assert down["labels"]["severity"] == "critical"


def test_an_alert_may_name_its_severity_by_the_catalog_label(tmp_path: Path) -> None:
    root = _inputs(tmp_path, {"shop.yaml": ("severity: P1\n", "severity: critical\n")})
    assert _rules(root) == _rules()


def test_an_escalating_severity_watches_its_alerts_in_their_own_group() -> None:
    files = build_outputs(load([LADDER]).project)
    groups = yaml.safe_load(files["prometheus/rules/shop.rules.yml"])["groups"]
    where = {
        r["alert"]: (g["name"], i) for g in groups for i, r in enumerate(g["rules"]) if "alert" in r
    }
    # Right after the alerts they read, in the same group: same evaluation, no lag.
    assert where["ShopAvailabilityBudgetBurnEscalated"][0] == "sloforge-shop-slo-availability"
    assert where["ShopDownEscalated"] == ("sloforge-shop-rules", where["ShopDown"][1] + 1)
    (rule,) = [r for g in groups for r in g["rules"] if r.get("alert") == "ShopDownEscalated"]
    assert rule["expr"] == (
        'max without (alertstate) (ALERTS{alertname="ShopDown", alertstate="firing", '
        'severity="critical", slo_service="shop"})'
    )
    assert (rule["for"], rule["labels"]) == (
        "5m",
        {"escalated_from": "critical", "severity": "escalated", "slo_service": "shop"},
    )


def test_only_escalating_severities_get_escalation_alerts() -> None:
    escalations = [r["alert"] for r in _rules() if r["alert"].endswith("Escalated")]
    # P2-P4 rungs do not escalate: one escalation for the P1 rung, one for the P1 plain alert.
    assert escalations == ["ShopAvailabilityBudgetBurnEscalated", "ShopDownEscalated"]


def _alertmanager() -> dict[str, object]:
    files = build_outputs(load([LADDER]).project)
    return yaml.safe_load(files["alertmanager/alertmanager.yml"])


def test_the_catalog_becomes_routes_after_the_routing_documents_with_its_repeat_intervals() -> None:
    routes = [
        (r["receiver"], r["matchers"], r.get("repeat_interval"), r.get("continue", False))
        for r in _alertmanager()["route"]["routes"]
    ]
    assert routes == [
        # AlertRouting's own route matches only critical: it repeats as P1 says.
        ("pager", ['severity="critical"', 'team="shop"'], "5m", False),
        ("pager", ['severity="critical"'], "5m", True),
        ("sms", ['severity="critical"'], "5m", False),
        ("chat", ['severity="high"'], "15m", False),
        ("chat", ['severity="warning"'], "1h", False),
        ("mail", ['severity="info"'], "1d", False),
        ("lead", ['severity="escalated"'], "5m", False),
    ]


def test_a_route_with_its_own_repeat_interval_keeps_it(tmp_path: Path) -> None:
    root = _inputs(
        tmp_path,
        {"routing.yaml": ("receivers: [pager]\n", "receivers: [pager]\n    repeat_interval: 2h\n")},
    )
    config = yaml.safe_load(build_outputs(load([root]).project)["alertmanager/alertmanager.yml"])
    assert config["route"]["routes"][0]["repeat_interval"] == "2h"


def test_lint_warns_when_a_rung_fires_only_after_the_whole_budget_is_spent(tmp_path: Path) -> None:
    root = _inputs(tmp_path, {"shop.yaml": ("error_rate: 0.5,", "error_rate: 1.5,")})
    report = lint([root])
    late = [str(f).replace(f"{root}/", "in/") for f in report.findings if f.rule == "late-tier"]
    assert late == [
        "in/shop.yaml:19:11: warning: slos[0].alerting.tiers[3]: the 3d/6h tier (burn rate 15) fires only after 150% of the 30d error budget is spent; lower its burn rate or shorten its long window [late-tier]"
    ]


def test_lint_is_quiet_about_a_ladder_that_fires_in_time() -> None:
    assert [f for f in lint([LADDER]).findings if f.rule == "late-tier"] == []


@pytest.mark.slow
@pytest.mark.parametrize(("label", "promtool"), binaries("promtool"))
def test_the_ladders_generated_tests_pass_on_real_promtool(
    tmp_path: Path, label: str, promtool: str
) -> None:
    compile_to([LADDER], tmp_path)
    tests = sorted((tmp_path / "prometheus" / "tests").glob("*.yml"))
    assert [t.name for t in tests] == ["shop.days.test.yml", "shop.slow.test.yml", "shop.test.yml"]
    for test in tests:
        result = promtool_test(promtool, test)
        assert result.returncode == 0, f"{label} promtool:\n{result.stdout}{result.stderr}"


@pytest.mark.slow
@pytest.mark.parametrize(("label", "amtool"), binaries("amtool"))
def test_the_catalogs_routes_pass_amtool_check_config(
    tmp_path: Path, label: str, amtool: str
) -> None:
    compile_to([LADDER], tmp_path)
    config = tmp_path / "alertmanager" / "alertmanager.yml"
    result = subprocess.run(
        [amtool, "check-config", str(config)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"{label} amtool:\n{result.stdout}{result.stderr}"
