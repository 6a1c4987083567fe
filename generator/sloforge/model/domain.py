"""Domain models: what builders see. Frozen, defaults filled in, labels merged."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from . import conventions as names
from .calendar import Calendar
from .durations import format_duration
from .promql import Matcher, Selector
from .routing import Routing

SLIKind = Literal["ratio", "latency", "probe", "query", "timeslices"]
SliceOp = Literal[">=", ">", "<=", "<"]
TierKind = Literal["page", "ticket"]
Strategy = Literal["efficient", "exact"]


@dataclass(frozen=True)
class Tier:
    kind: TierKind
    severity: str
    long_window: int  # seconds
    short_window: int
    burn_rate: float
    budget_consumed: float  # fraction of the period's budget spent when it fires
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()

    def threshold(self, error_budget: float) -> float:
        return self.burn_rate * error_budget

    def detection_seconds(self, error_budget: float, error_ratio: float = 1.0) -> float:
        """Time to fire at a constant error ratio (SPEC section 3)."""
        return self.long_window * self.threshold(error_budget) / error_ratio

    def reset_seconds(self, error_budget: float, error_ratio: float = 1.0) -> float:
        """Time after the errors stop until the short window clears."""
        return self.short_window * (1 - self.threshold(error_budget) / error_ratio)


@dataclass(frozen=True)
class Timeslices:
    """How one time slice is judged: its measure against the per-slice threshold.

    The measure is a ratio SLI's good events over all events within the slice, or
    ``metric`` (PromQL, ``$slice`` replaced by the slice length) at the slice's end.
    With ``op`` None (ratio only) the slice counts its good ratio itself: the budget is
    then the mean of the slices' ratios (OpenSLO's RatioTimeslices).
    """

    slice: int  # seconds; the SLO's rule group is evaluated once per slice
    ratio: SLI | None = None  # kind "ratio"
    metric: str = ""
    op: SliceOp | None = None
    threshold: float = 0.0

    @property
    def averaged(self) -> bool:
        return self.op is None


@dataclass(frozen=True)
class SLI:
    kind: SLIKind
    errors: Selector | None = None
    good: Selector | None = None
    total: Selector | None = None
    histogram: str = ""
    matchers: tuple[Matcher, ...] = ()
    threshold: float = 0.0
    probe: Selector | None = None
    query_errors: str = ""
    query_total: str = ""
    group_by: tuple[str, ...] = ()
    timeslices: Timeslices | None = None


@dataclass(frozen=True)
class SLO:
    service: str
    name: str
    description: str
    objective: float  # percent
    period: int  # seconds
    sli: SLI
    alert_name: str
    tiers: tuple[Tier, ...]
    traffic_guard: float | None
    labels: tuple[tuple[str, str], ...]  # on every series and alert of this SLO
    alert_labels: tuple[tuple[str, str], ...]
    alert_annotations: tuple[tuple[str, str], ...]
    runbook: str
    strategy: Strategy
    owner: str | None = None
    custom_tiers: bool = False  # tiers given in the SLO rather than the workbook defaults
    evaluation_interval: int = 60  # seconds between evaluations of the SLO's rule group
    # window: month|week; ``period`` is then its nominal length (30d, 7d), which the tiers use
    calendar: Calendar | None = None

    absent: Alert | None = None  # the absent-data alert, in the SLO's rule group

    @property
    def period_text(self) -> str:
        """How prose names the SLO period: ``30d`` or ``calendar month (UTC)``."""
        return self.calendar.describe() if self.calendar else format_duration(self.period)

    @property
    def objective_ratio(self) -> float:
        """The objective as a ratio (99.9 -> 0.999): the one place it is divided by 100."""
        return self.objective / 100

    @property
    def error_budget(self) -> float:
        return round(1 - self.objective_ratio, 12)

    @property
    def selector_labels(self) -> tuple[tuple[str, str], ...]:
        """Labels that identify this SLO's recorded series."""
        return tuple((k, v) for k, v in self.labels if k in (names.LABEL_SERVICE, names.LABEL_SLO))

    @property
    def windows(self) -> tuple[int, ...]:
        """Every window an alert reads, shortest first."""
        found = {w for t in self.tiers for w in (t.long_window, t.short_window)}
        return tuple(sorted(found))


@dataclass(frozen=True)
class RecordingRule:
    record: str
    expr: str
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Threshold:
    """A structured alert: ``metric`` compared with ``value``."""

    metric: Selector
    op: Literal[">", "<"]
    value: float


@dataclass(frozen=True)
class Percentile:
    """A percentile alert: the ``quantile`` of a classic histogram above ``value``."""

    histogram: str  # base name; the alert reads <histogram>_bucket
    matchers: tuple[Matcher, ...]
    quantile: float  # 0.95 for p95
    window: int  # seconds, the rate() range
    group_by: tuple[str, ...]
    value: float

    @property
    def buckets(self) -> Selector:
        return Selector(f"{self.histogram}_bucket", self.matchers)


BaselineDirection = Literal["below", "above", "both"]


@dataclass(frozen=True)
class Baseline:
    """A baseline alert: ``metric`` against its own history, through recording rules.

    Seasonal (``weeks`` > 0): the mean of the metric at the same time 1..weeks weeks ago, with
    ``tolerance`` (a fraction: 0.3 is 30%). Statistical (``window`` > 0): the mean plus or minus
    ``deviations`` standard deviations over ``window``, ending ``lag`` seconds ago.
    """

    metric: Selector
    direction: BaselineDirection
    minimum: float | None = None
    weeks: int = 0
    tolerance: float = 0.0
    window: int = 0
    deviations: float = 0.0
    lag: int = 0

    @property
    def seasonal(self) -> bool:
        return self.weeks > 0


@dataclass(frozen=True)
class Alert:
    service: str
    name: str
    expr: str
    for_: int
    severity: str
    labels: tuple[tuple[str, str], ...]
    annotations: tuple[tuple[str, str], ...]
    runbook: str
    summary: str
    threshold: Threshold | None = None
    percentile: Percentile | None = None
    baseline: Baseline | None = None
    tests: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class PanelQuery:
    expr: str
    legend: str = ""


@dataclass(frozen=True)
class Panel:
    """A user-defined dashboard panel."""

    title: str
    kind: Literal["timeseries", "stat", "gauge", "table"]
    queries: tuple[PanelQuery, ...]
    unit: str = "short"
    thresholds: tuple[tuple[float, str], ...] = ()  # (from value, colour), ascending
    description: str = ""
    width: int = 8
    height: int = 8
    alerts: tuple[str, ...] = ()  # alerts whose runbooks link to this panel


@dataclass(frozen=True)
class DashboardRow:
    title: str
    panels: tuple[Panel, ...]
    business: bool = False  # on the business-metrics dashboard, not the service's


@dataclass(frozen=True)
class Service:
    name: str
    owner: str | None
    description: str
    source: str
    labels: tuple[tuple[str, str], ...]
    slos: tuple[SLO, ...] = ()
    recording_rules: tuple[RecordingRule, ...] = ()
    alerts: tuple[Alert, ...] = ()
    dashboard_rows: tuple[DashboardRow, ...] = ()


@dataclass(frozen=True)
class Escalation:
    after: int  # seconds an alert keeps firing before it escalates
    to: str  # catalog name of the escalation's severity


@dataclass(frozen=True)
class SeverityLevel:
    """One entry of the severity catalog: what alerts write, the label they carry, its policy."""

    name: str
    label: str
    kind: TierKind | None = None
    description: str = ""
    response_time: int | None = None  # seconds
    repeat_interval: int | None = None  # seconds
    receivers: tuple[str, ...] = ()
    escalate: Escalation | None = None


@dataclass(frozen=True)
class Settings:
    strategy: Strategy = "efficient"
    evaluation_interval: int = 60
    scrape_interval: int = 30
    runbook_base_url: str | None = None
    dashboard_base_url: str | None = None
    targets: tuple[str, ...] = ("prometheus",)
    severities: tuple[SeverityLevel, ...] = ()  # the catalog, in the order written
    absent_alerts: bool = True

    def severity(self, name: str) -> SeverityLevel | None:
        """The catalog entry an alert's ``severity:`` names: by name, or by its label."""
        found = next((s for s in self.severities if s.name == name), None)
        return found or next((s for s in self.severities if s.label == name), None)

    def severity_by_label(self, label: str) -> SeverityLevel | None:
        return next((s for s in self.severities if s.label == label), None)


@dataclass(frozen=True)
class UserFiles:
    """Hand-maintained files found beside the input documents (see userfiles.py)."""

    runbooks: tuple[tuple[str, bytes], ...] = ()  # "<service>/<Alert>.md" -> content, copied as is
    # "runbooks/alert.md.j2" -> text, overrides a default
    templates: tuple[tuple[str, str], ...] = ()
    # "runbooks/<key>" or "templates/<key>" -> source file
    origins: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Project:
    services: tuple[Service, ...]
    settings: Settings = field(default_factory=Settings)
    routing: Routing | None = None  # compiled by build/alertmanager.py
    sources: tuple[str, ...] = ()
    user_files: UserFiles = field(default_factory=UserFiles)
