"""Generated promtool unit tests: proof that every generated alert fires when it should.

promtool evaluates every rule of the loaded rule file at every step of every
test group, so a test costs about its steps times the rules of the service's
file (docs/performance.md). The burn-rate tests are therefore in two parts:

- **wiring**, for every SLO: constant burns from the first sample, one per
  level (just above and just below each tier's threshold, one level serving
  two tiers where it can), checked a few minutes in: exactly the tiers whose
  threshold the burn exceeds fire, with exact labels and annotations, and the
  SLI recordings hold the injected ratio. A constant burn gives every window
  the same error ratio as soon as it holds data, so minutes show what days would.
- **timing**, once per alerting profile (objective, tiers, strategy, SLI kind:
  everything the timeline model reads), in the first service that has it:
  per tier, a burn just above its threshold fires within one evaluation of
  the modelled detection time and resolves once the short window clears; the
  traffic guard's cases. Each tier runs at the coarsest evaluation interval
  that still samples its short window four times.

Structured threshold alerts are tested on both sides of the threshold and
around ``for:``; free-form alerts run the user's own cases. What cannot be
tested is listed in the file's header and reported by ``sloforge test``.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..model import burnmodel
from ..model import conventions as names
from ..model.domain import SLI, SLO, Alert, Service, Settings, Tier
from ..model.durations import format_duration, parse_duration
from ..model.escalation import Escalation
from ..model.promql import Selector, parse_selector, quote, summed_rate
from ..model.sli import bucket_bounds
from ..model.windows import base_window, period_record, selector
from . import baselinetests, promtemplate, rulefeed, seriesgen, slicetests
from .rules import (
    burn_rate_alert,
    escalation_rule,
    plain_alert_rule,
    plain_escalations,
    slo_escalations,
)
from .seriesgen import Counter, Phase, Unsatisfiable

SAMPLE = 60  # spacing of synthetic input samples
FAST_STEP = 60  # evaluation interval of <service>.test.yml
SLOW_STEP = 300  # evaluation interval of <service>.slow.test.yml
DAYS_STEP = 1800  # evaluation interval of <service>.days.test.yml: multi-day scenarios
TIMING_STEPS = (FAST_STEP, SLOW_STEP, DAYS_STEP)
SHORT_WINDOW_SAMPLES = 4  # a timing test samples the tier's short window at least this often
CALENDAR_STEP = 3600  # evaluation interval of <service>.calendar.test.yml: a month of steps
ABOVE = (1.1, 1.15, 1.2, 1.25, 1.05)
WARMUPS = (0.15, 0.3, 0.5, 1.0)  # healthy traffic before the errors, as a share of the long window
GROUP_VALUES = ("burning", "healthy")
SCALE = 1_000_000  # SLI values are compared as round(ratio * SCALE)
# A wiring burn is this far (as a factor) from every threshold: 0.7 and 1.5 are the mutations
# the burn levels must tell apart (tests/test_mutations.py), 1.03 keeps clear of rounding.
MUTATION_BELOW, MUTATION_ABOVE, CLEARANCE = 0.7, 1.5, 1.03
WIRING_FROM = 5 * FAST_STEP  # wiring checks start once the 5m windows hold data
EDGE_AT = 10 * FAST_STEP  # when the edge cases (no traffic, no error series) are checked
BASE_RATE = 300  # the rate window of a query SLI's recordings (windows.base_window)

Group = dict[str, Any]


class Untestable(ValueError):
    """Why a generated test cannot be built for something (reported, never hidden)."""


# Every reason an SLO's tests cannot be built: reported in the test file, never raised.
_UNTESTABLE = (Untestable, Unsatisfiable, promtemplate.Unsupported, slicetests.SliceUntestable)


@dataclass
class TestFile:
    fast: list[Group] = field(default_factory=list)
    slow: list[Group] = field(default_factory=list)
    days: list[Group] = field(default_factory=list)
    calendar: list[Group] = field(default_factory=list)
    untested: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # header lines: what is fed or injected

    def by_step(self, step: int) -> list[Group]:
        return {FAST_STEP: self.fast, SLOW_STEP: self.slow, DAYS_STEP: self.days}[step]


@dataclass(frozen=True)
class Profile:
    """Everything the timing of an SLO's alerts depends on: SLOs of one profile differ only
    in names, labels and selectors, which their own wiring tests check."""

    alerting: burnmodel.Alerting
    sli_kind: str
    evaluation_interval: int

    @classmethod
    def of(cls, slo: SLO) -> Profile:
        return cls(burnmodel.Alerting.of(slo), slo.sli.kind, slo.evaluation_interval)


def timing_hosts(services: Iterable[Service]) -> dict[Profile, str]:
    """Each alerting profile's timing tests go to the first service (by name) that has it."""
    hosts: dict[Profile, str] = {}
    for service in sorted(services, key=lambda s: s.name):
        for slo in service.slos:
            if slo.tiers and slo.sli.kind != "timeslices":
                hosts.setdefault(Profile.of(slo), service.name)
    return hosts


def build_tests(
    service: Service, settings: Settings, hosts: Mapping[Profile, str] | None = None
) -> TestFile:
    """The service's test groups; ``hosts`` says which service holds each profile's timing
    tests (None: this one holds all of its own)."""
    out = TestFile()
    owned: dict[int, list[_Owned]] = {step: [] for step in TIMING_STEPS}
    reads: dict[str, tuple[Selector, ...]] = {}
    timed: dict[Profile, list[SLO]] = {}
    for slo in service.slos:
        try:
            own = slo_tests(slo, settings)
            timed_here = bool(slo.tiers) and slo.sli.kind != "timeslices"
            profile = Profile.of(slo) if timed_here else None
            timing = _timing_cases(profile) if profile is not None else ()
        except _UNTESTABLE as exc:
            out.untested.append(f"{slo.alert_name} (SLO {slo.name}): {exc}")
            continue
        reads[slo.alert_name] = sli_selectors(slo)
        if slo.calendar is not None and slo.sli.kind == "timeslices":
            out.calendar.append(slicetests.calendar_test(slo))
        elif slo.calendar is not None:
            out.calendar.append(calendar_test(slo))
        for step, built in own.items():
            owned[step] += [_Owned(g, slo.alert_name) for g in built]
        if profile is not None and timing and (hosts is None or hosts.get(profile) == service.name):
            timed.setdefault(profile, []).append(slo)
    for profile, slos in timed.items():
        for i, (step, case) in enumerate(_timing_cases(profile)):
            slo = slos[i % len(slos)]  # side by side on different SLOs' series where possible
            owned[step].append(_Owned(case.group(slo, settings), slo.alert_name))
    for slo in service.slos:
        if slo.absent is not None:
            try:
                absent = absent_tests(slo, settings)
                reads[slo.absent.name] = absent_selectors(slo)
            except _UNTESTABLE as exc:
                out.untested.append(f"{slo.absent.name} (SLO {slo.name}): {exc}")
                continue
            owned[FAST_STEP] += [_Owned(g, slo.absent.name) for g in absent]
    readers = _Readers(reads)
    for step, items in owned.items():
        out.by_step(step).extend(merge(items, readers))
    feeder = rulefeed.Feeder(service)
    for slo in service.slos:
        feeder.note_injected(f"{slo.alert_name} (SLO {slo.name})", sli_selectors_or_none(slo))
    for alert in service.alerts:
        if alert.percentile is not None:
            feeder.note_injected(alert.name, [alert.percentile.buckets])
        try:
            fed = feeder.alert_groups(alert, settings)
            out.fast.extend(alert_tests(alert, settings) if fed is None else fed)
        except (Untestable, Unsatisfiable, promtemplate.Unsupported) as exc:
            out.untested.append(f"{alert.name}: {exc}")
    out.fast.extend(feeder.record_checks())
    out.notes = feeder.notes()
    for escalation, group in escalation_tests(service, settings):
        if isinstance(group, Exception):
            out.untested.append(f"{escalation.alert}: {group}")
        else:
            out.fast.append(group)
    return out


def test_documents(
    service: Service, settings: Settings, hosts: Mapping[Profile, str] | None = None
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """{file name: promtool test document}, and the header lines of its files: what could
    not be tested, what recorded series are injected rather than fed through their rules."""
    built = build_tests(service, settings, hosts)
    baseline, untested = baselinetests.baseline_groups(service, settings, SLOW_STEP)
    built.slow += baseline.get(SLOW_STEP, [])
    rule_files = [f"../rules/{service.name}.rules.yml"]
    docs = {
        names.tests_file(service.name): {
            "rule_files": rule_files,
            "evaluation_interval": format_duration(FAST_STEP),
            "tests": built.fast,
        }
    }
    calendar_order = slicetests.calendar_eval_order(service)
    for path, step, groups, extra in (
        (names.slow_tests_file(service.name), SLOW_STEP, built.slow, {}),
        (names.days_tests_file(service.name), DAYS_STEP, built.days, {}),
        (names.calendar_tests_file(service.name), CALENDAR_STEP, built.calendar, calendar_order),
    ):
        if groups:
            docs[path] = {
                "rule_files": rule_files,
                "evaluation_interval": format_duration(step),
                **extra,
                "tests": groups,
            }
    if baseline.get(baselinetests.STEP):
        docs[names.baseline_tests_file(service.name)] = {
            "rule_files": rule_files,
            "evaluation_interval": format_duration(baselinetests.STEP),
            "tests": baseline[baselinetests.STEP],
        }
    return docs, [f"untested: {reason}" for reason in built.untested + untested] + built.notes


@dataclass
class _Owned:
    group: Group
    owner: str


def merge(groups: list[_Owned], readers: _Readers) -> list[Group]:
    """Run the scenarios of different SLOs side by side in one promtool test group.

    promtool evaluates every rule of the file at every step of every group, so
    one group carrying several SLOs' independent series costs about as much as
    one of them. Two SLOs share a group only if neither reads the other's series.
    """
    ordered = sorted(groups, key=lambda o: -_duration(o.group))
    # Each merged group: the group, its owners, and the owners that read any of its series.
    merged: list[tuple[Group, set[str], set[str]]] = []
    for item in ordered:
        its_readers = readers.of_all(s["series"] for s in item.group["input_series"])
        for group, owners, read_by in merged:
            if item.owner in owners or item.owner in read_by or not its_readers.isdisjoint(owners):
                continue
            for key in ("input_series", "alert_rule_test", "promql_expr_test"):
                if item.group.get(key):
                    group.setdefault(key, []).extend(item.group[key])
            owners.add(item.owner)
            read_by |= its_readers
            break
        else:
            merged.append(({**item.group}, {item.owner}, its_readers))
    return [group for group, *_ in merged]


def _duration(group: Group) -> int:
    times = [parse_duration(c["eval_time"]) for c in group.get("alert_rule_test", [])]
    times += [parse_duration(c["eval_time"]) for c in group.get("promql_expr_test", [])]
    return max(times, default=0)


class _Readers:
    """Which owners' selectors read an input series, found once per series.

    Every group of an SLO repeats the same few series. ``selectors`` maps each
    owner (an alert name, unique in a service) to the selectors its rules read.
    """

    def __init__(self, selectors: Mapping[str, Sequence[Selector]]) -> None:
        self.selectors = selectors
        self._known: dict[str, frozenset[str]] = {}

    def of_all(self, series: Iterable[str]) -> set[str]:
        """Owners that read any of ``series`` (input series as written)."""
        return set().union(*(self.of(one) for one in series))

    def of(self, series: str) -> frozenset[str]:
        if series not in self._known:
            parsed = parse_selector(series)
            labels = {m.label: m.value for m in parsed.matchers}
            self._known[series] = frozenset(
                owner
                for owner, selectors in self.selectors.items()
                if any(_selects(sel, parsed.metric, labels) for sel in selectors)
            )
        return self._known[series]


def _selects(selector: Selector, metric: str, labels: Mapping[str, str]) -> bool:
    """Whether ``selector`` selects the series ``metric{labels}``."""
    return selector.metric == metric and all(
        seriesgen.matches(m, labels.get(m.label, "")) for m in selector.matchers
    )


def sli_selectors_or_none(slo: SLO) -> tuple[Selector, ...]:
    """The SLO's raw selectors, or none when its query is not one sloforge synthesises."""
    try:
        return sli_selectors(slo)
    except (Untestable, slicetests.SliceUntestable):
        return ()


def sli_selectors(slo: SLO) -> tuple[Selector, ...]:
    """Every raw selector the SLO's rules read."""
    sli = slo.sli
    if sli.kind == "timeslices":
        return slicetests.sli_selectors(slo)
    if sli.kind == "latency":
        return (
            Selector(f"{sli.histogram}_bucket", sli.matchers),
            Selector(f"{sli.histogram}_count", sli.matchers),
        )
    if sli.kind == "query":
        return (_simple_query(sli.query_errors), _simple_query(sli.query_total))
    return tuple(s for s in (sli.errors, sli.good, sli.total, sli.probe) if s is not None)


def absent_selectors(slo: SLO) -> tuple[Selector, ...]:
    """What the SLO's absent-data alert watches: its SLI's series."""
    if slo.sli.kind == "query":
        return (_simple_query(slo.sli.query_total),)
    return sli_selectors(slo)


# --- burn-rate alerts: wiring, for every SLO ------------------------------------------------


def slo_tests(slo: SLO, settings: Settings) -> dict[int, list[Group]]:
    """The SLO's own tests by evaluation interval: each wiring burn level and the edge cases,
    at 1m steps (timeslices SLIs: their own tests, slicetests.py)."""
    alerts = _ExpectedAlerts(slo, settings)
    if slo.sli.kind == "timeslices":  # counted in slices: slicetests.py
        fast, slow = slicetests.slo_tests(slo, settings, alerts.at)
        return {FAST_STEP: fast, SLOW_STEP: slow}
    series = SLISeries.for_slo(slo)
    alerting = burnmodel.Alerting.of(slo)
    groups = []
    for i, case in enumerate(_wiring_cases(alerting)):
        group = _checked(slo, case, series, alerts)
        if i == 0:  # every window's recording holds the injected ratio
            t = case.checks[-1][0]
            group["promql_expr_test"] = [
                series.sli_check(slo, w, t, case.scenario.error_ratio) for w in _sli_windows(slo)
            ]
        groups.append(group)
    groups.extend(series.edge_cases(slo, settings))
    return {FAST_STEP: groups}


def _sli_windows(slo: SLO) -> list[int]:
    return sorted(
        {base_window(slo), *(w for t in slo.tiers for w in (t.long_window, t.short_window))}
    )


@dataclass(frozen=True)
class _Case:
    """A scenario for one test group, and which tiers fire at each instant promtool checks."""

    scenario: burnmodel.Scenario
    checks: tuple[tuple[int, tuple[Tier, ...]], ...]

    @classmethod
    def of(cls, timeline: burnmodel.Timeline, instants: Sequence[int]) -> _Case:
        checks = tuple((t, tuple(timeline.tiers_firing_at(t))) for t in instants)
        return cls(timeline.scenario, checks)


def _checked(slo: SLO, case: _Case, series: SLISeries, alerts: _ExpectedAlerts) -> Group:
    """The case's scenario as the SLO's input series, with its alert checks."""
    group = series.group(slo, case.scenario)
    group["alert_rule_test"] = [alerts.at(t, firing) for t, firing in case.checks]
    return group


def burn_levels(alerting: burnmodel.Alerting) -> list[float]:
    """Burn rates that tell every tier's threshold T from T x 0.7 and from T x 1.5.

    Each threshold needs a burn in (0.7 T, T), where its tier must stay quiet, and one
    in (T, 1.5 T), where it must fire. Intervals are stabbed greedily: one burn serves
    every interval it falls in (thresholds less than about 2.1x apart share one), at the
    geometric middle of their overlap, clear of every threshold.
    """
    budget = alerting.error_budget
    thresholds = sorted({t.burn_rate for t in alerting.tiers})
    ceiling = 0.999 / budget  # an error ratio above 1 cannot be injected
    if thresholds and thresholds[-1] * CLEARANCE >= ceiling:
        raise Untestable(
            f"a tier's threshold (burn rate {thresholds[-1]:g}) needs an error ratio of 1 "
            "or more to fire"
        )
    need = sorted(
        [(t * MUTATION_BELOW, t) for t in thresholds]
        + [(t, min(t * MUTATION_ABOVE, ceiling)) for t in thresholds],
        key=lambda iv: (iv[1], iv[0]),
    )
    levels: list[float] = []
    while need:
        lo, hi = need[0]
        for other_lo, other_hi in need[1:]:
            joint = max(lo, other_lo), min(hi, other_hi)
            if joint[1] / joint[0] >= CLEARANCE**2 * 1.02:
                lo, hi = joint
        level = _clear_point(lo, hi, thresholds)
        levels.append(level)
        need = [(a, b) for a, b in need if not (a * CLEARANCE <= level <= b / CLEARANCE)]
    return sorted(levels)


def _clear_point(lo: float, hi: float, thresholds: Sequence[float]) -> float:
    """The middle (geometric) of the widest part of (lo, hi) that no threshold cuts."""
    cuts = [lo, *(t for t in thresholds if lo < t < hi), hi]
    a, b = max(zip(cuts, cuts[1:], strict=False), key=lambda p: p[1] / p[0])
    if b / a < CLEARANCE**2:
        raise Untestable(
            "two tiers' thresholds are too close to tell apart with a burn between them"
        )
    return _ratio(math.sqrt(a * b))


@functools.lru_cache(maxsize=1024)
def _wiring_cases(alerting: burnmodel.Alerting) -> tuple[_Case, ...]:
    """One constant burn per level, from the first sample; checked once every tier that the
    model says fires has fired (a few minutes in, later only behind a traffic guard)."""
    margin = FAST_STEP + 15
    cases = []
    for level in burn_levels(alerting):
        ratio = _ratio(level * alerting.error_budget)
        horizon = 24 * 3600
        timeline = burnmodel.timeline(alerting, burnmodel.Scenario(ratio, 0, math.inf, horizon))
        changes = timeline.transitions()
        last = max([WIRING_FROM, *(t + margin for t, _, _ in changes)])
        check = burnmodel.grid(last, FAST_STEP, up=True)
        expected = [t for t in alerting.tiers if t.burn_rate < level]
        if check >= horizon or timeline.tiers_firing_at(check) != expected:
            raise Untestable(
                f"a constant burn of {level:g}x does not settle on the tiers it exceeds"
            )
        # The series go on one sample past the check: a probe's last sample reads healthy.
        scenario = burnmodel.Scenario(ratio, 0, math.inf, check + SAMPLE)
        cases.append(_Case.of(burnmodel.timeline(alerting, scenario), [check]))
    return tuple(cases)


# --- burn-rate alerts: timing, once per alerting profile ------------------------------------


def step_for(tier: Tier) -> int:
    """The coarsest evaluation interval that samples the tier's short window four times."""
    fits = [s for s in TIMING_STEPS if s * SHORT_WINDOW_SAMPLES <= tier.short_window]
    return max(fits, default=FAST_STEP)


@dataclass(frozen=True)
class _Timing:
    """A timing case of a profile, put on the series of whichever SLO of the profile runs it."""

    case: _Case
    sli: tuple[int, int] | None = None  # (window, instant) of an SLI recording check

    def group(self, slo: SLO, settings: Settings) -> Group:
        series = SLISeries.for_slo(slo)
        group = _checked(slo, self.case, series, _ExpectedAlerts(slo, settings))
        if self.sli is not None:
            window, t = self.sli
            group["promql_expr_test"] = [
                series.sli_check(slo, window, t, self.case.scenario.error_ratio)
            ]
        return group


@functools.lru_cache(maxsize=1024)
def _timing_cases(profile: Profile) -> tuple[tuple[int, _Timing], ...]:
    """(evaluation interval, case): per tier a burn just above its threshold, then the traffic
    guard's cases; the longest first, so they spread over the profile's SLOs."""
    alerting = profile.alerting
    # A query SLI's 5m rates need 5m of errors before a window reads the whole ratio.
    ramp = min(BASE_RATE, *alerting_windows(alerting)) if profile.sli_kind == "query" else 0
    cases = []
    for tier in alerting.tiers:
        step = step_for(tier)
        case = _above_case(alerting, tier)
        start = case.scenario.start
        sli_at = burnmodel.grid(start + tier.short_window + ramp + 3 * step, step, up=True)
        cases.append((step, _Timing(case, (tier.short_window, sli_at))))
    if alerting.traffic_guard is not None and alerting.tiers:
        cases += [(FAST_STEP, _Timing(case)) for case in _guard_cases(alerting)]
    return tuple(sorted(cases, key=lambda c: -c[1].case.scenario.end))


def alerting_windows(alerting: burnmodel.Alerting) -> list[int]:
    return [window for window, _ in alerting.lags]


@functools.lru_cache(maxsize=1024)
def _above_case(alerting: burnmodel.Alerting, tier: Tier) -> _Case:
    """A burn just above the threshold fires on time, with exact labels, and resolves.

    The first error ratio and warm-up whose detection and reset are clear of
    every other tier's transitions.
    """
    threshold = tier.threshold(alerting.error_budget)
    step = step_for(tier)
    margin = step + 15
    for factor, warmup in itertools.product(ABOVE, WARMUPS):
        ratio = _ratio(factor * threshold)
        if ratio >= 1:
            continue
        start = burnmodel.grid(warmup * tier.long_window + 2 * step, step, up=True)
        probe = burnmodel.Scenario(ratio, start, math.inf, start + 2 * tier.long_window)
        detect = _first_change(alerting, tier, probe, True)
        # SPEC section 3's detection time holds once the long window is full of data.
        if detect is None or detect < tier.long_window + margin:
            continue
        stop = burnmodel.grid(detect + max(tier.short_window, 10 * step), step, up=True)
        draft = burnmodel.Scenario(ratio, start, stop, stop + 2 * tier.short_window + 10 * step)
        reset = _first_change(alerting, tier, draft, False, after=detect)
        if reset is None:
            continue
        end = burnmodel.grid(reset + 3 * step, step, up=True)
        timeline = burnmodel.timeline(alerting, burnmodel.Scenario(ratio, start, stop, end))
        instants = (
            burnmodel.grid(detect - step, step, up=False),
            burnmodel.grid(detect + step, step, up=True),
            burnmodel.grid(reset - step, step, up=False),
            burnmodel.grid(reset + step, step, up=True),
        )
        changes = [c for c in timeline.transitions() if c[1] != tier]
        if all(burnmodel.clean(t, changes, margin) for t in instants):
            return _Case.of(timeline, instants)
    raise Untestable(
        f"no error ratio just above the {_tier_name(tier)} threshold gives an unambiguous test "
        f"(threshold {threshold:.6g})"
    )


@functools.lru_cache(maxsize=1024)
def _guard_cases(alerting: burnmodel.Alerting) -> tuple[_Case, ...]:
    """A full outage on traffic under the guard stays quiet; on traffic over it, the alerts fire."""
    assert alerting.traffic_guard is not None
    margin = FAST_STEP + 15
    cases = []
    for traffic in (alerting.traffic_guard / 2, alerting.traffic_guard * 2):
        horizon = 8 * 3600
        scenario = burnmodel.Scenario(1.0, 0, math.inf, horizon, traffic)
        changes = burnmodel.timeline(alerting, scenario).transitions()
        starts = [t for t, _, on in changes if on]
        first = burnmodel.grid(
            (max(starts) if starts else 30 * SAMPLE) + FAST_STEP, FAST_STEP, up=True
        )
        check = next(
            (t for t in range(first, horizon, FAST_STEP) if burnmodel.clean(t, changes, margin)),
            None,
        )
        if check is None:
            raise Untestable(
                "no instant of the traffic-guard scenario is clear of alert transitions"
            )
        scenario = burnmodel.Scenario(1.0, 0, math.inf, check, traffic)
        cases.append(_Case.of(burnmodel.timeline(alerting, scenario), [check]))
    return tuple(cases)


def _first_change(
    alerting: burnmodel.Alerting,
    tier: Tier,
    scenario: burnmodel.Scenario,
    to: bool,
    after: float = -1,
) -> float | None:
    """When ``tier`` next starts (``to``) or stops firing after ``after``; other tiers aside."""
    for lo, hi in burnmodel.firing_intervals(alerting, tier, scenario):
        t = lo if to else hi
        if t > after and (to or hi <= scenario.end):
            return t
    return None


_Alert = tuple[dict[str, str], dict[str, str]]  # an expected alert's labels and annotations


class _ExpectedAlerts:
    """The alerts promtool must see while some tiers of one SLO fire, built on first use.

    Every check of every scenario repeats the same few alerts, so each tier's rule
    is rendered once per SLO, and each set of firing tiers is put in order once.
    """

    def __init__(self, slo: SLO, settings: Settings) -> None:
        self.slo = slo
        self.settings = settings
        self._by_tier: dict[Tier, _Alert] = {}
        self._by_firing: dict[tuple[Tier, ...], list[_Alert]] = {}
        self._expected: dict[tuple[Tier, ...], list[dict[str, dict[str, str]]]] = {}

    def at(self, t: int, firing: tuple[Tier, ...]) -> Group:
        """The check that exactly the ``firing`` tiers' alerts are active at ``t``."""
        # Every check of the same firing tiers shares one list: yamlout writes it
        # in full each time (never as a YAML alias) but builds its text once.
        expected = self._expected.get(firing)
        if expected is None:
            expected = [
                {"exp_labels": dict(labels), "exp_annotations": dict(annotations)}
                for labels, annotations in self._alerts(firing)
            ]
            self._expected[firing] = expected
        return {"eval_time": _at(t), "alertname": self.slo.alert_name, "exp_alerts": expected}

    def _alerts(self, firing: tuple[Tier, ...]) -> list[_Alert]:
        """The firing tiers' alerts, by tier and then long window."""
        alerts = self._by_firing.get(firing)
        if alerts is None:
            alerts = sorted((self._alert(tier) for tier in firing), key=lambda a: _tier_order(a[0]))
            self._by_firing[firing] = alerts
        return alerts

    def _alert(self, tier: Tier) -> _Alert:
        alert = self._by_tier.get(tier)
        if alert is None:
            alert = self._by_tier[tier] = self._build(tier)
        return alert

    def _build(self, tier: Tier) -> _Alert:
        slo = self.slo
        rule = burn_rate_alert(slo, tier, self.settings)
        if any("$value" in v or ".Value" in v for v in rule["annotations"].values()):
            raise Untestable(
                "annotations use $value, which a burn-rate test cannot predict exactly"
            )
        series_labels = {**dict(slo.labels), **SLISeries.burning_group(slo)}
        labels = {**series_labels, **rule["labels"]}
        annotations = {
            k: promtemplate.render(v, 0.0, series_labels) for k, v in rule["annotations"].items()
        }
        return dict(sorted(labels.items())), annotations


def _tier_order(labels: dict[str, str]) -> tuple[str, str]:
    return labels[names.LABEL_SLO_TIER], labels[names.LABEL_LONG_WINDOW]


def _at(t: int) -> str:
    return format_duration(t) if t else "0s"


def _ratio(value: float) -> float:
    return round(value * SCALE) / SCALE


def _tier_name(tier: Tier) -> str:
    return f"{tier.kind} {format_duration(tier.long_window)}/{format_duration(tier.short_window)}"


# --- calendar budgets --------------------------------------------------------------


def calendar_test(slo: SLO) -> Group:
    """Half the budget spent before a period boundary; the next period starts with all of it.

    Errors run at half the error budget from the first sample until the first
    period boundary at least six hours in, then stop. Checked on the hourly
    steps just before and just after the boundary: the period's error ratio and
    budget remaining for the burning group (0.5, then 1) and any healthy group
    (1, then 1). Hourly steps sample one budget-interval tile an hour, which
    changes no ratio of constant traffic (see docs/budgets.md).
    """
    cal = slo.calendar
    assert cal is not None
    boundary = cal.next_start(6 * CALENDAR_STEP)
    before = (boundary - 1) // CALENDAR_STEP * CALENDAR_STEP
    after = -(-(boundary + base_window(slo)) // CALENDAR_STEP) * CALENDAR_STEP
    ratio = _ratio(slo.error_budget / 2)
    scenario = burnmodel.Scenario(ratio, 0, boundary, after + CALENDAR_STEP)
    series = SLISeries.for_slo(slo)
    group = series.group(slo, scenario)
    checks = []
    for t, burning in ((before, ratio), (after, 0.0)):
        values = {
            period_record(slo): burning,
            names.RECORD_BUDGET_REMAINING: 1 - burning / slo.error_budget,
        }
        healthy = {period_record(slo): 0.0, names.RECORD_BUDGET_REMAINING: 1.0}
        for record in values:
            checks.append(series.record_check(slo, record, t, values[record], healthy[record]))
    group["promql_expr_test"] = checks
    return group


# --- synthetic SLI series -----------------------------------------------------------


@dataclass(frozen=True)
class SLISeries:
    """The raw series an SLO reads, for one group value."""

    kind: str
    counters: tuple[Counter, ...] = ()
    gauge: tuple[str, dict[str, str]] | None = None

    @staticmethod
    def burning_group(slo: SLO) -> dict[str, str]:
        return {label: GROUP_VALUES[0] for label in slo.sli.group_by}

    @classmethod
    def for_slo(cls, slo: SLO) -> SLISeries:
        sli = slo.sli
        if sli.kind == "ratio" and sli.errors is not None:
            assert sli.total is not None
            return cls._split(sli.errors, sli.total, "bad")
        if sli.kind == "ratio":
            assert sli.good is not None and sli.total is not None
            return cls._split(sli.good, sli.total, "good")
        if sli.kind == "latency":
            matchers = sli.matchers
            bucket = Selector(f"{sli.histogram}_bucket", matchers)
            count = Selector(f"{sli.histogram}_count", matchers)
            good = seriesgen.label_set([bucket], {"le": bucket_bounds(sli.threshold)[0]})
            every = seriesgen.label_set([count])
            return cls(
                "latency",
                (Counter(bucket.metric, good, "good"), Counter(count.metric, every, "all")),
            )
        if sli.kind == "probe":
            assert sli.probe is not None
            return cls("probe", gauge=(_metric(sli.probe), seriesgen.label_set([sli.probe])))
        errors, total = _simple_query(sli.query_errors), _simple_query(sli.query_total)
        return cls._split(errors, total, "bad")

    @classmethod
    def _split(cls, part: Selector, total: Selector, share: str) -> SLISeries:
        """``part`` counts the ``share`` ("bad" or "good") events among ``total``."""
        _metric(part), _metric(total)
        if part.metric == total.metric:
            # One counter with a label that tells them apart: a series ``part`` matches,
            # and one only ``total`` matches, which holds the other events.
            other = "good" if share == "bad" else "bad"
            matched = Counter(part.metric, seriesgen.label_set([part, total]), share)
            rest = Counter(total.metric, seriesgen.label_set_excluded(total, part), other)
            return cls("ratio", (matched, rest))
        separate = Counter(part.metric, seriesgen.label_set([part]), share)
        return cls("ratio", (separate, Counter(total.metric, seriesgen.label_set([total]), "all")))

    def input_series(
        self, slo: SLO, scenario: burnmodel.Scenario, group: dict[str, str], omit_bad: bool = False
    ) -> list[dict[str, str]]:
        if self.gauge is not None:
            metric, labels = self.gauge
            text = seriesgen.series_text(metric, {**labels, **group})
            return [{"series": text, "values": _gauge_values(scenario)}]
        out = []
        for counter in self.counters:
            if omit_bad and counter.share == "bad":
                continue
            text = seriesgen.series_text(counter.metric, {**counter.labels, **group})
            out.append({"series": text, "values": _counter_values(scenario, counter.share)})
        return out

    def group(self, slo: SLO, scenario: burnmodel.Scenario) -> Group:
        series = []
        if slo.sli.group_by:
            healthy = burnmodel.Scenario(
                0.0, scenario.start, scenario.stop, scenario.end, scenario.traffic
            )
            burning = {label: GROUP_VALUES[0] for label in slo.sli.group_by}
            calm = {label: GROUP_VALUES[1] for label in slo.sli.group_by}
            series += self.input_series(slo, scenario, burning)
            series += self.input_series(slo, healthy, calm)
        else:
            series += self.input_series(slo, scenario, {})
        return {"interval": format_duration(SAMPLE), "input_series": series}

    def sli_check(self, slo: SLO, window: int, t: int, ratio: float) -> Group:
        """The recorded error ratio equals the injected one (and the healthy group's is 0)."""
        return self.record_check(slo, names.error_ratio_record(window), t, ratio, 0.0)

    def record_check(self, slo: SLO, record: str, t: int, burning: float, healthy: float) -> Group:
        """``record`` holds ``burning`` for the burning group (and ``healthy`` for the other)."""
        expected = [(self.burning_group(slo), burning)]
        if slo.sli.group_by:
            expected.append(({label: GROUP_VALUES[1] for label in slo.sli.group_by}, healthy))
        samples = []
        for group, value in expected:
            labels = {**dict(slo.labels), **group}
            body = ", ".join(f"{k}={quote(v)}" for k, v in sorted(labels.items()))
            samples.append({"labels": "{" + body + "}", "value": round(value * SCALE)})
        expr = f"round({selector(record, slo)} * {SCALE})"
        return {"expr": expr, "eval_time": format_duration(t), "exp_samples": samples}

    def edge_cases(self, slo: SLO, settings: Settings) -> list[Group]:
        """No traffic never fires; a missing error series with traffic present is a ratio of 0."""
        groups = []
        check = EDGE_AT
        if self.gauge is None:
            quiet = burnmodel.Scenario(0.0, 0, math.inf, check, traffic=0.0)
            group = self.group(slo, quiet)
            group["alert_rule_test"] = [
                {"eval_time": format_duration(t), "alertname": slo.alert_name, "exp_alerts": []}
                for t in (WIRING_FROM, check)
            ]
            groups.append(group)
        if any(c.share == "bad" for c in self.counters) and not slo.sli.group_by:
            healthy = burnmodel.Scenario(0.0, 0, math.inf, check)
            group = {
                "interval": format_duration(FAST_STEP),
                "input_series": self.input_series(slo, healthy, {}, omit_bad=True),
            }
            group["promql_expr_test"] = [self.sli_check(slo, base_window(slo), check, 0.0)]
            group["alert_rule_test"] = [
                {
                    "eval_time": format_duration(check),
                    "alertname": slo.alert_name,
                    "exp_alerts": [],
                }
            ]
            groups.append(group)
        if slo.sli.kind == "latency":
            groups.extend(self._le_spellings(slo))
        return groups

    def _le_spellings(self, slo: SLO) -> list[Group]:
        """The threshold bucket is found whether ``le`` reads "1" (Prometheus 2) or "1.0" (3)."""
        groups = []
        ratio = _ratio(0.25)
        scenario = burnmodel.Scenario(ratio, 0, math.inf, EDGE_AT)
        for spelling in bucket_bounds(slo.sli.threshold):
            counters = tuple(
                Counter(
                    c.metric,
                    {**c.labels, "le": spelling} if c.share == "good" else c.labels,
                    c.share,
                )
                for c in self.counters
            )
            variant = SLISeries(self.kind, counters)
            group = variant.group(slo, scenario)
            group["promql_expr_test"] = [variant.sli_check(slo, base_window(slo), EDGE_AT, ratio)]
            groups.append(group)
        return groups


def _phases(scenario: burnmodel.Scenario) -> list[tuple[int, float]]:
    """(samples, error ratio) before, during and after the errors."""
    stop = scenario.end if math.isinf(scenario.stop) else int(scenario.stop)
    before = scenario.start // SAMPLE
    during = (stop - scenario.start) // SAMPLE
    after = (scenario.end - stop) // SAMPLE
    return [(before, 0.0), (during, scenario.error_ratio), (after, 0.0)]


# A scenario's values are the same for every SLO that alerts alike: each is written once.
@functools.lru_cache(maxsize=1024)
def _counter_values(scenario: burnmodel.Scenario, share: str) -> str:
    """A counter of the ``share`` ("bad", "good" or "all") of the scenario's events."""
    # Whole numbers of events per sample: fractional steps can make a counter dip, which rate()
    # reads as a reset.
    per_step = round(scenario.traffic * SAMPLE, 6)
    of = {"bad": lambda r: r, "good": lambda r: 1 - r, "all": lambda r: 1.0}[share]
    return seriesgen.counter_values([Phase(n, per_step * of(r)) for n, r in _phases(scenario)])


@functools.lru_cache(maxsize=1024)
def _gauge_values(scenario: burnmodel.Scenario) -> str:
    """A probe's success gauge: 1 outside the errors, 1 - the error ratio during them."""
    (before, _), (during, ratio), (after, _) = _phases(scenario)
    return seriesgen.gauge_values([(before, 1.0), (during, 1 - ratio), (after + 1, 1.0)])


def _metric(selector: Selector) -> str:
    if not selector.metric:
        raise Untestable(
            f"selector {selector.render()} has no metric name to synthesise series for"
        )
    return selector.metric


def _simple_query(query: str) -> Selector:
    """``sum(rate(metric{…}[$window]))`` -> the selector; other shapes are not synthesised."""
    selector = summed_rate(query)
    if selector is None:
        raise Untestable(
            "query SLIs are tested only in the form sum(rate(metric{...}[$window])), "
            "without offset or @"
        )
    return selector


# --- plain alerts ---------------------------------------------------------------------


def alert_tests(alert: Alert, settings: Settings) -> list[Group]:
    if alert.baseline is not None:  # in their own file, hourly: build/baselinetests.py
        return []
    if alert.percentile is not None:
        return _percentile_groups(alert, settings)
    if alert.threshold is None:
        return [_user_group(alert, spec) for spec in alert.tests]
    return _threshold_groups(alert, settings)


def _user_group(alert: Alert, spec: dict[str, Any]) -> Group:
    group: Group = {"interval": spec["interval"], "input_series": spec["input_series"]}
    if spec.get("alert_rule_test"):
        group["alert_rule_test"] = [
            {
                "eval_time": case["eval_time"],
                "alertname": case.get("alertname") or alert.name,
                "exp_alerts": [_user_alert(a) for a in case.get("exp_alerts", [])],
            }
            for case in spec["alert_rule_test"]
        ]
    if spec.get("promql_expr_test"):
        group["promql_expr_test"] = spec["promql_expr_test"]
    return group


def _user_alert(case: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"exp_labels": case.get("exp_labels", {})}
    if case.get("exp_annotations"):
        out["exp_annotations"] = case["exp_annotations"]
    return out


def _threshold_groups(alert: Alert, settings: Settings) -> list[Group]:
    threshold = alert.threshold
    assert threshold is not None
    metric = _metric(threshold.metric)
    rule = plain_alert_rule(alert, settings)
    # Labels the annotations print get an example value, so the test shows them rendered.
    shown = {
        label: "example"
        for text in rule["annotations"].values()
        for label in promtemplate.referenced_labels(text)
        if not any(m.label == label for m in threshold.metric.matchers)
    }
    labels = seriesgen.label_set([threshold.metric], shown)
    step = abs(threshold.value) * 0.1 or 0.1
    direction = 1 if threshold.op == ">" else -1
    firing_value = _sig(threshold.value + direction * step)
    quiet_value = _sig(threshold.value - direction * step)
    hold = alert.for_
    end = hold + 10 * FAST_STEP
    exp_labels = {k: v for k, v in labels.items()}
    exp_labels.update(rule["labels"])
    annotations = {
        k: promtemplate.render(v, firing_value, labels) for k, v in rule["annotations"].items()
    }
    fires = {"exp_labels": dict(sorted(exp_labels.items())), "exp_annotations": annotations}
    series = seriesgen.series_text(metric, labels)
    count = end // FAST_STEP
    checks_fire: list[dict[str, Any]] = []
    if hold >= 2 * FAST_STEP:
        checks_fire.append(
            {
                "eval_time": format_duration(hold - FAST_STEP),
                "alertname": alert.name,
                "exp_alerts": [],
            }
        )
    checks_fire.append(
        {
            "eval_time": format_duration(hold + FAST_STEP),
            "alertname": alert.name,
            "exp_alerts": [fires],
        }
    )
    fire_group = {
        "interval": format_duration(FAST_STEP),
        "input_series": [
            {"series": series, "values": seriesgen.gauge_values([(count + 1, firing_value)])}
        ],
        "alert_rule_test": checks_fire,
    }
    quiet_group = {
        "interval": format_duration(FAST_STEP),
        "input_series": [
            {"series": series, "values": seriesgen.gauge_values([(count + 1, quiet_value)])}
        ],
        "alert_rule_test": [
            {"eval_time": format_duration(t), "alertname": alert.name, "exp_alerts": []}
            for t in (hold + FAST_STEP, end)
        ],
    }
    return [fire_group, quiet_group]


def _sig(value: float) -> float:
    if value == 0:
        return 0.0
    digits = 6 - int(math.floor(math.log10(abs(value)))) - 1
    return round(value, max(digits, 0)) if digits >= 0 else float(round(value, digits))


# --- percentile alerts ------------------------------------------------------------------

PERCENTILE_EVENTS = 100_000  # observations per sample: fine enough for p99.9 shares
# Bucket bounds of the synthetic histogram, as multiples of the alert's threshold T: nothing
# below 0.8T, the fast share in (0.8T, T], the slow share in (T, 1.2T], nothing above. The
# percentile then lands in (0.8T, T] or (T, 1.2T]: a threshold scaled by 0.7 fires on the
# quiet case, one scaled by 1.5 cannot fire on the firing case.
PERCENTILE_BOUNDS = (0.8, 1.0, 1.2)


def _percentile_groups(alert: Alert, settings: Settings) -> list[Group]:
    """p just above the threshold fires after ``for``; just below it never fires.

    Fired by a fast share of 0.8·q (the percentile lands among the slow requests), quiet at
    q + 0.2·(1 - q) (it lands among the fast ones), for every spelling of ``le``.
    """
    p = alert.percentile
    assert p is not None
    rule = plain_alert_rule(alert, settings)
    shown = {
        label: "example"
        for text in rule["annotations"].values()
        for label in promtemplate.referenced_labels(text)
    }
    group = {label: shown.get(label, "example") for label in p.group_by}
    labels = seriesgen.label_set([p.buckets], group)
    bounds = [p.value * f for f in PERCENTILE_BOUNDS]
    fire_fast = round(PERCENTILE_EVENTS * 0.8 * p.quantile)
    quiet_fast = round(PERCENTILE_EVENTS * (p.quantile + 0.2 * (1 - p.quantile)))
    fire_value = _bucket_quantile(p.quantile, bounds, fire_fast)
    kept = {k: v for k, v in labels.items() if k in p.group_by}
    exp_labels = dict(sorted({**kept, **rule["labels"]}.items()))
    annotations = promtemplate.render_stable(rule["annotations"], fire_value, kept)
    fires = {"exp_labels": exp_labels, "exp_annotations": annotations}
    hold = alert.for_
    first = FAST_STEP  # rate() needs two samples: the percentile exists from the second one
    end = first + hold + 10 * FAST_STEP
    fire_checks = []
    if hold:
        fire_checks.append(_no_alert(alert, first + hold - FAST_STEP))
    fire_checks.append(
        {
            "eval_time": format_duration(first + hold + FAST_STEP),
            "alertname": alert.name,
            "exp_alerts": [fires],
        }
    )
    quiet_checks = [_no_alert(alert, first + hold + FAST_STEP), _no_alert(alert, end)]
    groups = []
    for spelling in _le_variants(bounds):
        for fast, checks in ((fire_fast, fire_checks), (quiet_fast, quiet_checks)):
            series = _histogram_series(p.buckets.metric, labels, spelling, fast, end)
            groups.append(
                {
                    "interval": format_duration(FAST_STEP),
                    "input_series": series,
                    "alert_rule_test": checks,
                }
            )
    return groups


def _no_alert(alert: Alert, t: int) -> dict[str, Any]:
    return {"eval_time": format_duration(t), "alertname": alert.name, "exp_alerts": []}


def _le_variants(bounds: Sequence[float]) -> list[tuple[str, ...]]:
    """Each way the bucket bounds can be spelled: "1" (Prometheus 2) and "1.0" (Prometheus 3)."""
    variants = [tuple(bucket_bounds(b)[i] for b in bounds) + ("+Inf",) for i in (0, -1)]
    return list(dict.fromkeys(variants))


def _histogram_series(
    metric: str, labels: Mapping[str, str], les: Sequence[str], fast: int, end: int
) -> list[dict[str, str]]:
    """Buckets of ``PERCENTILE_EVENTS`` observations per sample, ``fast`` of them in the
    second bucket and the rest in the third."""
    per_bucket = (0, fast, PERCENTILE_EVENTS, PERCENTILE_EVENTS)
    samples = end // FAST_STEP
    return [
        {
            "series": seriesgen.series_text(metric, {**labels, "le": le}),
            "values": seriesgen.counter_values([Phase(samples, count)]),
        }
        for le, count in zip(les, per_bucket, strict=True)
    ]


def _bucket_quantile(q: float, bounds: Sequence[float], fast: int) -> float:
    """What histogram_quantile returns for the synthetic buckets (Prometheus' interpolation)."""
    rank = q * PERCENTILE_EVENTS
    if rank <= fast:
        return bounds[0] + (bounds[1] - bounds[0]) * (rank / fast)
    return bounds[1] + (bounds[2] - bounds[1]) * ((rank - fast) / (PERCENTILE_EVENTS - fast))


# --- escalation alerts ----------------------------------------------------------------

ESCALATION_START = 5 * FAST_STEP  # when the injected source alert starts firing
ESCALATION_HOLD = 10 * FAST_STEP  # how long it keeps firing after the escalation fires


def escalation_tests(
    service: Service, settings: Settings
) -> list[tuple[Escalation, Group | Exception]]:
    """One group per escalation rule: its source's firing ``ALERTS`` series, injected.

    The source alerts of each escalation carry exactly the labels their own generated
    tests expect, so the escalation's matchers are checked against what the source
    really produces; the rule itself is checked around its delay: pending one step
    before ``after``, firing at ``after``, gone once the source resolves.
    """
    found: list[tuple[Escalation, Group | Exception]] = []
    for slo in service.slos:
        rule_of = {t: burn_rate_alert(slo, t, settings) for t in slo.tiers}
        series_labels = {**dict(slo.labels), **SLISeries.burning_group(slo)}
        for e in slo_escalations(slo, settings):
            sources = [
                {**series_labels, **rule_of[t]["labels"]}
                for t in slo.tiers
                if t.severity == e.from_label
            ]
            rule = escalation_rule(e, settings, service.name, slo.name)
            found.append((e, _escalation_group(e, sources, rule)))
    alerts = {a.name: a for a in service.alerts}
    for e in plain_escalations(service, settings):
        source = plain_alert_rule(alerts[e.source], settings)["labels"]
        rule = escalation_rule(e, settings, service.name)
        found.append((e, _escalation_group(e, [source], rule)))
    return found


def _escalation_group(
    e: Escalation, sources: list[dict[str, str]], rule: dict[str, Any]
) -> Group | Exception:
    step = FAST_STEP
    start, fired = ESCALATION_START, ESCALATION_START + e.after
    if e.after < 2 * step:
        return Untestable(
            f"escalation delay {format_duration(e.after)} is shorter than two evaluation "
            "intervals, so halving it could not be told apart"
        )
    stop = fired + ESCALATION_HOLD  # last sample of the source; stale after it
    values = f"_x{start // step} 1x{(stop - start) // step} stale"
    series = []
    expected = []
    for labels in sources:
        alert_labels = {
            **labels,
            names.LABEL_ALERTNAME: e.source,
            names.LABEL_ALERTSTATE: "firing",
        }
        series.append(
            {"series": seriesgen.series_text(names.ALERTS_METRIC, alert_labels), "values": values}
        )
        try:
            annotations = {
                k: promtemplate.render(v, 0.0, labels) for k, v in rule["annotations"].items()
            }
        except promtemplate.Unsupported as exc:
            return exc
        expected.append(
            {
                "exp_labels": dict(sorted({**labels, **rule["labels"]}.items())),
                "exp_annotations": annotations,
            }
        )

    def check(t: int, alerts: list[dict[str, Any]]) -> dict[str, Any]:
        return {"eval_time": format_duration(t), "alertname": e.alert, "exp_alerts": alerts}

    return {
        "interval": format_duration(step),
        "input_series": series,
        "alert_rule_test": [
            check(fired - step, []),
            check(fired, expected),
            check(stop, expected),
            check(stop + step, []),
        ],
    }


# --- absent-data alerts -----------------------------------------------------------------

LOOKBACK = 300  # Prometheus' default lookback delta: a series is missing 5m after its last sample


def absent_tests(slo: SLO, settings: Settings) -> list[Group]:
    """The SLI's series stop: quiet while they exist (even without traffic) and until ``for``
    has passed since they went missing, firing after, with exact labels and annotations.

    When absent() turns true depends on the version: Prometheus 3 drops a series exactly
    LOOKBACK after its last sample, Prometheus 2 one evaluation later; a rate() over the
    query SLI's window needs two samples in it. The checks sit one step outside that span.
    """
    alert = slo.absent
    assert alert is not None
    if slo.sli.kind == "timeslices" and slo.sli.timeslices and slo.sli.timeslices.ratio:
        slo = slicetests.measure_slo(slo)  # its ratio's series; the alert reads the same
    if slo.sli.kind == "query":  # only the total matters: the errors may take any shape
        total = _simple_query(slo.sli.query_total)
        series = SLISeries("query", (Counter(total.metric, seriesgen.label_set([total]), "all"),))
    elif slo.sli.kind == "timeslices":  # a metric: its gauge
        assert slo.sli.timeslices is not None
        gauge = slicetests.metric_selector(slo.sli.timeslices)
        series = SLISeries("probe", gauge=(gauge.metric, seriesgen.label_set([gauge])))
    else:
        series = SLISeries.for_slo(slo)
    hold = alert.for_
    last = burnmodel.grid(hold + 3 * FAST_STEP, FAST_STEP, up=True)
    quiet = burnmodel.Scenario(0.0, 0, math.inf, last, traffic=0.0)
    if series.gauge is None:  # counters: a steady trickle, so rates exist for query SLIs
        quiet = burnmodel.Scenario(0.0, 0, math.inf, last, traffic=1.0)
    inputs = series.input_series(slo, quiet, SLISeries.burning_group(slo))
    if slo.sli.kind == "query":
        window = base_window(slo)
        onset = (last + window - FAST_STEP, last + window)
    elif slo.sli.kind == "timeslices":  # a metric reading its gauge over a range, or not
        assert slo.sli.timeslices is not None
        onset = slicetests.absent_onset(slo.sli.timeslices, last, LOOKBACK, FAST_STEP)
    else:
        onset = (last + LOOKBACK, last + LOOKBACK + FAST_STEP)
    rule = plain_alert_rule(alert, settings)
    labels = {**_absent_labels(slo.sli), **rule["labels"]}
    annotations = {k: promtemplate.render(v, 1.0, labels) for k, v in rule["annotations"].items()}
    fires = {"exp_labels": dict(sorted(labels.items())), "exp_annotations": annotations}
    checks = [
        _no_alert(alert, last),
        _no_alert(alert, onset[0] + hold - FAST_STEP),
        {
            "eval_time": format_duration(onset[1] + hold + FAST_STEP),
            "alertname": alert.name,
            "exp_alerts": [fires],
        },
    ]
    return [
        {"interval": format_duration(SAMPLE), "input_series": inputs, "alert_rule_test": checks}
    ]


def _absent_labels(sli: SLI) -> dict[str, str]:
    """The labels absent() gives its one series: the equality matchers of the selector it
    reads first (none for a query SLI, whose total is an aggregation)."""
    first = {
        "ratio": sli.total,
        "latency": Selector(f"{sli.histogram}_count", sli.matchers),
        "probe": sli.probe,
    }.get(sli.kind)
    return {m.label: m.value for m in first.matchers if m.op == "="} if first else {}
