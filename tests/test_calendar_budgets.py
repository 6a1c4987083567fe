"""Calendar budgets (window: month | week) against real promtool, with hand-computed numbers.

Each case compiles a one-SLO service, feeds promtool counters sampled every
5m (the budget group's interval, so every tile promtool records is one the
real Prometheus records) and checks ``slo:period_error_budget_remaining:ratio``
just before and just after a period boundary. The expected values are worked
out by hand in the case's comment, not by sloforge's code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from sloforge.model.calendar import Calendar, fixed_offset
from sloforge.pipeline import load
from sloforge.review.explain import explain
from sloforge_testlib import compile_to, promtool_test, write_yaml
from toolbox import binaries

PROMTOOLS = binaries("promtool")
STEP = 300  # seconds between input samples and between evaluations
LABELS = '{slo="availability", slo_service="shop", team="shop"}'


@dataclass(frozen=True)
class Case:
    id: str
    window: str
    time_zone: str | None
    objective: float
    # (intervals, errors per 5m, requests per 5m, sampled); sampled=False leaves a gap
    phases: tuple[tuple[int, int, int, bool], ...]
    expected: tuple[tuple[str, int], ...]  # (eval time, round(remaining * 1e6))


CASES = [
    # January: 8640 clean intervals, then 288 intervals of 8 errors in 2000 on January 31.
    # 23:55: 287 error tiles of the 8927 recorded: 2296 / 17,854,000 = 0.0128598% of
    #        requests, 12.8598% of the 0.1% budget spent -> 0.871401 left.
    # 00:00: the tile of 23:55-24:00 is January's: 2304 / 17,856,000 -> 0.870968 left.
    # 00:05: February holds one tile, 1 error in 2000 = 0.05% -> half the budget left; the
    #        2304 January errors are gone. 01:00: twelve such tiles, still 0.5.
    Case(
        "a UTC month: on February 1 the budget no longer counts January 31's errors",
        "month",
        None,
        99.9,
        ((8640, 0, 2000, True), (288, 8, 2000, True), (24, 1, 2000, True)),
        (("30d23h55m", 871401), ("31d", 870968), ("31d5m", 500000), ("31d1h", 500000)),
    ),
    # Etc/GMT+1 is UTC-01:00: local New Year is 01:00 UTC. Until then 4 errors in 2000 per
    # tile (0.2%, twice the budget: -1 left); from 01:05 one tile of 1 in 2000 (0.5 left).
    Case(
        "a month in UTC-01:00: the local New Year at 01:00 UTC starts a full budget",
        "month",
        "Etc/GMT+1",
        99.9,
        ((12, 4, 2000, True), (24, 1, 2000, True)),
        (("55m", -1000000), ("1h", -1000000), ("1h5m", 500000), ("2h", 500000)),
    ),
    # 1970-01-05 was a Monday (4d). Before it 10 errors in 2000 (0.5% of a 1% budget: 0.5
    # left); after it 30 in 2000 (1.5%: -0.5 left), counted from Monday's first tile only.
    Case(
        "a UTC week: Monday 1970-01-05 00:00 starts a new budget",
        "week",
        None,
        99.0,
        ((1152, 10, 2000, True), (12, 30, 2000, True)),
        (("3d23h55m", 500000), ("4d", 500000), ("4d5m", -500000), ("4d1h", -500000)),
    ),
    # After local New Year (01:00 UTC): six tiles of 1 error in 2000, then no samples from
    # 01:35 to 02:00 (Prometheus down) while 10 errors in 2000 happen every 5m, then 1 in
    # 2000 again. The first tile after the gap reads back to 01:30's sample (within the 1h
    # bridge), so the gap's 7 intervals count once: (6 + 70 + 11) / 48,000 = 0.18125%
    # of requests by 03:00, 1.8125 budgets -> -0.8125 left.
    Case(
        "a 30-minute gap in the data counts the events of the gap exactly once",
        "month",
        "Etc/GMT+1",
        99.9,
        (
            (12, 0, 2000, True),
            (6, 1, 2000, True),
            (6, 10, 2000, False),
            (1, 10, 2000, True),
            (11, 1, 2000, True),
        ),
        (("3h", -812500),),
    ),
]


def _service(case: Case) -> str:
    zone = f"    time_zone: {case.time_zone}\n" if case.time_zone else ""
    # No burn-rate tiers: the rolling windows are not under test, and a month of
    # 5m steps costs promtool a rule evaluation per rule per step.
    return (
        "apiVersion: sloforge/v1\nkind: ServiceLevels\nservice: shop\nowner: shop\nslos:\n"
        f"  - name: availability\n    objective: {case.objective}\n"
        f"    window: {case.window}\n{zone}"
        "    sli:\n      ratio:\n"
        '        errors: http_requests_total{job="shop", code=~"5.."}\n'
        '        total: http_requests_total{job="shop"}\n'
        "    alerting: {page: {disable: true}, ticket: {disable: true}}\n"
    )


def _counter(case: Case, share: str) -> str:
    """promtool values: one sample per 5m from 0, ``_`` where the phase leaves a gap."""
    value, out = 0, ["0"]
    for intervals, errors, requests, sampled in case.phases:
        per_step = errors if share == "errors" else requests - errors
        for _ in range(intervals):
            value += per_step
            out.append(str(value) if sampled else "_")
    return " ".join(out)


@pytest.mark.slow
@pytest.mark.parametrize("promtool", [p for _, p in PROMTOOLS], ids=[n for n, _ in PROMTOOLS])
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_the_calendar_budget_matches_the_hand_computed_one(
    case: Case, promtool: str, tmp_path: Path
) -> None:
    (tmp_path / "slo").mkdir()
    (tmp_path / "slo" / "shop.yaml").write_text(_service(case))
    compile_to([tmp_path / "slo"], tmp_path / "out")
    series = [
        {
            "series": 'http_requests_total{job="shop", code="500"}',
            "values": _counter(case, "errors"),
        },
        {"series": 'http_requests_total{job="shop", code="200"}', "values": _counter(case, "good")},
    ]
    checks = [
        {
            "expr": "round(slo:period_error_budget_remaining:ratio * 1000000)",
            "eval_time": at,
            "exp_samples": [{"labels": LABELS, "value": value}],
        }
        for at, value in case.expected
    ]
    test = {
        "rule_files": ["../rules/shop.rules.yml"],
        "evaluation_interval": "5m",
        "tests": [{"interval": "5m", "input_series": series, "promql_expr_test": checks}],
    }
    path = write_yaml(tmp_path / "out" / "prometheus" / "tests" / "hand.test.yml", test)
    result = promtool_test(promtool, path)
    assert result.returncode == 0, result.stdout + result.stderr


SLOTS = [
    ("January 1970 is slot 1 of 3 ((1970 * 12 + 1) % 3)", Calendar("month"), 0, 1),
    ("February 1970 is slot 2", Calendar("month"), 31 * 86400, 2),
    ("the week of Thursday 1970-01-01 is slot 0 of 2", Calendar("week"), 0, 0),
    ("Monday 1970-01-05 starts slot 1", Calendar("week"), 4 * 86400, 1),
    (
        "in UTC+03:30 the month turns at 20:30 UTC the day before",
        Calendar("month", "Asia/Tehran", 12600),
        31 * 86400 - 12600,
        2,
    ),
]


@pytest.mark.parametrize(
    ("calendar", "t", "slot"), [s[1:] for s in SLOTS], ids=[s[0] for s in SLOTS]
)
def test_each_period_has_its_slot(calendar: Calendar, t: int, slot: int) -> None:
    assert calendar.slot_at(t) == slot


BOUNDARIES = [
    ("after New Year 1970 the next month starts on February 1", Calendar("month"), 1, 31 * 86400),
    ("after a Thursday the next week starts on Monday", Calendar("week"), 0, 4 * 86400),
    (
        "in UTC-01:00 the first month starts at 01:00 UTC",
        Calendar("month", "Etc/GMT+1", -3600),
        0,
        3600,
    ),
]


@pytest.mark.parametrize(
    ("calendar", "t", "start"), [b[1:] for b in BOUNDARIES], ids=[b[0] for b in BOUNDARIES]
)
def test_the_next_period_starts_at_local_midnight(calendar: Calendar, t: int, start: int) -> None:
    assert calendar.next_start(t) == start


ZONES = [
    ("UTC has no offset", "UTC", 0),
    ("Tehran keeps UTC+03:30 all year", "Asia/Tehran", 12600),
    ("Etc/GMT+1 is one hour west of UTC", "Etc/GMT+1", -3600),
]


@pytest.mark.parametrize(("zone", "offset"), [z[1:] for z in ZONES], ids=[z[0] for z in ZONES])
def test_a_fixed_offset_zone_gives_its_offset(zone: str, offset: int) -> None:
    assert fixed_offset(zone) == offset


def test_explain_says_when_the_period_starts_and_which_records_hold_it() -> None:
    golden = Path(__file__).resolve().parent / "golden" / "calendar" / "input"
    text = explain(load([golden]).project, "shop/latency")
    lines = [line for line in text.splitlines() if not line.startswith(("  page", "  ticket"))]
    assert lines == [
        "shop/latency: 99% over calendar week (Asia/Tehran, UTC+03:30) (error budget 1% = 1.7h "
        "of full outage per 7d), alert ShopLatencyBudgetBurn, exact windows",
        lines[1],  # the tier table's heading and rule
        lines[2],
        "  budget: spent since Monday 00:00 Asia/Tehran (UTC+03:30), in full again at each "
        "boundary (slo:sli_error:ratio_week, slo:period_error_budget_remaining:ratio; counted "
        "in 5m tiles); burn-rate tiers are planned on 7d and read the rolling windows above",
        "  windows and burn rates are the 30d defaults; on a 7d period a tier fires after burn "
        "rate x long window / period of the budget is spent",
    ]
