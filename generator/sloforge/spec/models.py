"""Spec models: pydantic v2 mirrors of the YAML documents, exactly as users write them.

Defaults that depend on other fields (alert names, tiers) are filled in later by
``plan.py``; these models only say what is allowed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from ..errors import excerpt
from ..model import calendar, promql
from ..model import conventions as names
from ..model.durations import parse_duration

API_VERSION = "sloforge/v1"


def _name(value: str) -> str:
    if not names.NAME_RE.match(value):
        # The name becomes file names (rules, tests, runbooks): nothing that could
        # climb out of the output directory or differ by case.
        suggestion = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")
        hint = f", e.g. {suggestion!r}" if suggestion and names.NAME_RE.match(suggestion) else ""
        raise ValueError(
            "must be lower-case letters, digits and dashes, starting with a letter or digit, "
            f"because it names output files (got {excerpt(value)}){hint}"
        )
    if len(value) > 63:
        raise ValueError(f"must be at most 63 characters (got {len(value)})")
    return value


_RULES = {
    "alert name": "letters, digits and underscores, starting with a letter",
    "label name": "letters, digits and underscores, not starting with a digit",
    "record name": "letters, digits, underscores and colons, not starting with a digit",
    "metric name": "letters, digits, underscores and colons, not starting with a digit",
}


def _suggest(what: str, value: str) -> str:
    separators = r"[^A-Za-z0-9]+" if what == "alert name" else r"[^A-Za-z0-9_:]+"
    words = [w for w in re.split(separators, value) if w]
    if what == "alert name":
        guess = "".join(w[:1].upper() + w[1:] for w in words)
    else:
        guess = "_".join(words).replace(":", "_" if what == "label name" else ":")
    return guess if guess and not guess[0].isdigit() else ""


def _pattern(pattern: str, what: str):  # type: ignore[no-untyped-def]
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.match(value):
            rule = f": use {_RULES[what]}" if what in _RULES else ""
            guess = _suggest(what, value)
            hint = f", e.g. {guess!r}" if guess and compiled.match(guess) else ""
            raise ValueError(f"is not a valid {what}{rule} (got {excerpt(value)}){hint}")
        return value

    return check


def _duration(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a duration like 5m, 1h or 30d (got {excerpt(value)})")
    parse_duration(value)
    return value


def _window(value: Any) -> str:
    if value in calendar.KINDS:
        return str(value)
    if not isinstance(value, str):
        raise ValueError(
            f"must be a duration like 30d, or month or week for a calendar period (got {value!r})"
        )
    try:
        parse_duration(value)
    except ValueError as exc:
        raise ValueError(f"{exc}, or month or week for a calendar period") from None
    return value


def _time_zone(value: str) -> str:
    calendar.fixed_offset(value)
    return value


def _number(value: Any) -> Any:
    if isinstance(value, (bool, str)):
        raise ValueError(f"must be a number (got {excerpt(value)})")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"must be a finite number (got {excerpt(value)})")
    return value


def _checked_by(check: Callable[[str], object]) -> Callable[[str], str]:
    """A validator that runs ``check`` (which raises ValueError) and keeps the text."""

    def validate(value: str) -> str:
        check(value)
        return value

    return validate


_promql = _checked_by(promql.check)
_selector = _checked_by(promql.parse_selector)
_window_query = _checked_by(promql.check_template)
_matchers = _checked_by(promql.parse_matchers)


Name = Annotated[str, AfterValidator(_name)]
MAX_ALERT_NAME = 200  # the runbook is <AlertName>.md: file names stop at 255 bytes


def _short(value: str) -> str:
    if len(value) > MAX_ALERT_NAME:
        raise ValueError(
            f"must be at most {MAX_ALERT_NAME} characters, because it names the runbook file "
            f"(got {len(value)})"
        )
    return value


AlertName = Annotated[
    str, AfterValidator(_pattern(names.ALERT_NAME_PATTERN, "alert name")), AfterValidator(_short)
]
LabelName = Annotated[str, AfterValidator(_pattern(names.LABEL_NAME_PATTERN, "label name"))]
RecordName = Annotated[str, AfterValidator(_pattern(names.RECORD_NAME_PATTERN, "record name"))]
Duration = Annotated[str, BeforeValidator(_duration)]
Window = Annotated[str, BeforeValidator(_window)]
TimeZone = Annotated[str, AfterValidator(_time_zone)]
Number = Annotated[float, BeforeValidator(_number)]
PromQL = Annotated[str, AfterValidator(_promql)]
SeriesSelector = Annotated[str, AfterValidator(_selector)]
WindowQuery = Annotated[str, AfterValidator(_window_query)]
LabelMatchers = Annotated[str, AfterValidator(_matchers)]
Labels = dict[LabelName, str]


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True, frozen=True)


# --- SLIs ---------------------------------------------------------------------------


class RatioSLI(Spec):
    """Events counted by two counters: bad (``errors``) or ``good``, over ``total``."""

    errors: SeriesSelector | None = None
    good: SeriesSelector | None = None
    total: SeriesSelector
    group_by: list[LabelName] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_numerator(self) -> RatioSLI:
        if (self.errors is None) == (self.good is None):
            got = "both" if self.errors else "neither"
            raise ValueError(f"exactly one of `errors` or `good` is required (got {got})")
        return self


class LatencySLI(Spec):
    """Requests faster than ``threshold`` seconds are good, read from a classic histogram."""

    histogram: Annotated[
        str, AfterValidator(_pattern(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$", "metric name"))
    ]
    matchers: LabelMatchers = ""
    threshold: Annotated[Number, Field(gt=0)]
    group_by: list[LabelName] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _strip_suffix(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("histogram"), str):
            base = data["histogram"]
            for suffix in ("_bucket", "_count", "_sum"):
                if base.endswith(suffix):
                    raise ValueError(
                        f"histogram: give the base name without {suffix} (got {base!r}, "
                        f"use {base[: -len(suffix)]!r})"
                    )
        return data


class QuerySLI(Spec):
    """Free PromQL returning error and total event rates; ``$window`` marks the range."""

    errors: WindowQuery
    total: WindowQuery


class SLISpec(Spec):
    ratio: RatioSLI | None = None
    latency: LatencySLI | None = None
    probe: SeriesSelector | None = None
    query: QuerySLI | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SLISpec:
        kinds = [k for k in ("ratio", "latency", "probe", "query") if getattr(self, k) is not None]
        if len(kinds) != 1:
            got = " and ".join(kinds) if kinds else "none"
            raise ValueError(
                f"exactly one of ratio, latency, probe or query is required (got {got})"
            )
        return self


# --- alerting -----------------------------------------------------------------------


class SeverityPolicy(Spec):
    severity: Annotated[str, Field(min_length=1)] | None = None
    labels: Labels = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    disable: bool = False


TierClass = Literal["page", "ticket"]


class TierSpec(Spec):
    """One multi-window burn-rate condition (a rung of the SLO's severity ladder).

    Give exactly one of ``burn_rate``, ``budget_consumed`` (percent) or ``error_rate``
    (percent). ``severity: page`` or ``severity: ticket`` is the short form: the tier
    takes the severity of ``alerting.page`` / ``alerting.ticket``.
    """

    severity: Annotated[
        str,
        Field(
            min_length=1,
            description=(
                "`page` or `ticket` (the tier takes alerting.page/ticket's severity), or a "
                "severity: a name of the Settings severity catalog when there is one, else the "
                "`severity` label value itself."
            ),
        ),
    ]
    class_: TierClass | None = Field(
        None,
        alias="class",
        description=(
            "Inhibition class: a firing page silences the tickets of the same SLO. Default: "
            "the catalog entry's `class`; required for other severities without one."
        ),
    )
    long_window: Duration
    short_window: Duration
    burn_rate: Annotated[Number, Field(gt=0)] | None = None
    budget_consumed: Annotated[Number, Field(gt=0, le=100)] | None = None
    error_rate: Annotated[Number, Field(gt=0, le=100)] | None = Field(
        None,
        description=(
            "Fire when the error rate (percent of events) exceeds this over both windows; "
            "the burn rate is error_rate / error budget."
        ),
    )
    labels: Labels = Field(
        default_factory=dict, description="Extra labels on this tier's alert (e.g. for routing)."
    )
    annotations: dict[str, str] = Field(
        default_factory=dict, description="Extra annotations on this tier's alert."
    )

    @model_validator(mode="after")
    def _one_rate(self) -> TierSpec:
        given = [self.burn_rate, self.budget_consumed, self.error_rate]
        if sum(v is not None for v in given) != 1:
            raise ValueError("give exactly one of `burn_rate`, `budget_consumed` or `error_rate`")
        if parse_duration(self.short_window) >= parse_duration(self.long_window):
            raise ValueError(
                f"short_window ({self.short_window}) must be shorter than "
                f"long_window ({self.long_window})"
            )
        return self


class AlertingSpec(Spec):
    name: AlertName | None = None
    page: SeverityPolicy = Field(default_factory=SeverityPolicy)
    ticket: SeverityPolicy = Field(default_factory=SeverityPolicy)
    tiers: list[TierSpec] | None = None
    traffic_guard: Annotated[Number, Field(ge=0)] | None = None
    labels: Labels = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class SLOSpec(Spec):
    name: Name
    description: str = ""
    objective: Annotated[Number, Field(gt=0, lt=100)]
    window: Window = Field(
        "30d",
        description="The SLO period: a rolling duration (30d), or `month` or `week` for a "
        "calendar period whose budget resets when the period begins (see docs/budgets.md).",
    )
    time_zone: TimeZone | None = Field(
        None,
        description="IANA time zone whose midnight starts a calendar period (default UTC); "
        "only with window: month or week, and only zones with one UTC offset all year.",
    )
    sli: SLISpec
    alerting: AlertingSpec = Field(default_factory=AlertingSpec)
    labels: Labels = Field(default_factory=dict)
    runbook: str = ""
    strategy: Literal["efficient", "exact"] | None = None


# --- plain rules and alerts ---------------------------------------------------------


class RecordingRuleSpec(Spec):
    record: RecordName
    expr: PromQL
    labels: Labels = Field(default_factory=dict)


class PromtoolSeries(Spec):
    series: str
    values: str


class PromtoolAlert(Spec):
    exp_labels: dict[str, str] = Field(default_factory=dict)
    exp_annotations: dict[str, str] = Field(default_factory=dict)


class PromtoolAlertCase(Spec):
    eval_time: Duration
    alertname: AlertName | None = None
    exp_alerts: list[PromtoolAlert] = Field(default_factory=list)


class PromtoolSample(Spec):
    labels: str
    value: Number


class PromtoolExprCase(Spec):
    expr: PromQL
    eval_time: Duration
    exp_samples: list[PromtoolSample] = Field(default_factory=list)


class AlertTestSpec(Spec):
    """A promtool test group for a free-form alert; ``alertname`` defaults to the alert's."""

    name: str = ""
    interval: Duration = "1m"
    input_series: list[PromtoolSeries]
    alert_rule_test: list[PromtoolAlertCase] = Field(default_factory=list)
    promql_expr_test: list[PromtoolExprCase] = Field(default_factory=list)


def _histogram_base(value: str) -> str:
    for suffix in ("_bucket", "_count", "_sum"):
        if value.endswith(suffix):
            raise ValueError(
                f"give the base name without {suffix} (got {value!r}, "
                f"use {value[: -len(suffix)]!r})"
            )
    return value


def _percentile(value: float) -> float:
    if not 0 < value < 100:
        raise ValueError(
            f"must be a percent above 1 and below 100, e.g. 95 for p95 (got {value:g})"
        )
    if value <= 1:
        raise ValueError(
            f"is a percent, like objective: {value:g} would be the p{value:g}; "
            f"write {value * 100:g} for p{value * 100:g}"
        )
    return value


def _without_le(labels: list[str]) -> list[str]:
    if "le" in labels:
        raise ValueError(
            "`le` is implied (the percentile is computed over it); list only the labels to keep"
        )
    return labels


HistogramName = Annotated[
    str,
    AfterValidator(_pattern(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$", "metric name")),
    AfterValidator(_histogram_base),
]
Percentile = Annotated[float, BeforeValidator(_number), AfterValidator(_percentile)]

# The fields that make each structured form, for the "give exactly one form" message.
_FORMS = {
    "expr": "`expr` (free-form PromQL)",
    "metric": "`metric` with `above`, `below` or `baseline`",
    "histogram": "`histogram` with `percentile` and `above`",
}


class AlertSpec(Spec):
    name: AlertName
    expr: PromQL | None = None
    metric: SeriesSelector | None = None
    above: Number | None = None
    below: Number | None = None
    histogram: HistogramName | None = Field(
        None,
        description="Percentile alert: base name of a classic histogram (without _bucket); "
        "its _bucket series are read.",
    )
    matchers: LabelMatchers = Field(
        "",
        description="Percentile alert: label matchers on the buckets, e.g. '{job=\"payments\"}'.",
    )
    percentile: Percentile | None = Field(
        None,
        description="Percentile alert: which percentile, as a percent like objective "
        "(95 for p95); above 1 and below 100.",
    )
    window: Duration | None = Field(
        None,
        description="Percentile alert: range of the rate() over the buckets (default 5m).",
    )
    group_by: Annotated[list[LabelName], AfterValidator(_without_le)] = Field(
        default_factory=list,
        description="Percentile alert: one percentile, and one alert, per value of these "
        "labels (le is implied).",
    )
    for_: Duration = Field("0s", alias="for")
    severity: Annotated[str, Field(min_length=1)]
    summary: str = ""
    description: str = ""
    runbook: str = ""
    labels: Labels = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    tests: list[AlertTestSpec] = Field(default_factory=list)

    model_config = ConfigDict(populate_by_name=False)

    @model_validator(mode="after")
    def _one_form(self) -> AlertSpec:
        given = [form for form in _FORMS if getattr(self, form) is not None]
        if len(given) != 1:
            got = " and ".join(f"`{g}`" for g in given) if given else "none"
            raise ValueError(f"give exactly one of {', '.join(_FORMS.values())} (got {got})")
        form = given[0]
        if form != "histogram":
            stray = [f for f in ("percentile", "window") if getattr(self, f) is not None]
            stray += ["matchers"] * bool(self.matchers) + ["group_by"] * bool(self.group_by)
            if stray:
                raise ValueError(f"`{stray[0]}` belongs to percentile alerts (with `histogram`)")
        if form == "expr":
            if self.above is not None or self.below is not None:
                raise ValueError(
                    "`above`/`below` are for structured alerts; put the comparison in `expr`"
                )
        elif form == "metric":
            if (self.above is None) == (self.below is None):
                raise ValueError("a structured alert needs exactly one of `above` or `below`")
        else:
            _check_percentile_form(self)
        if self.tests and form != "expr":
            raise ValueError(
                "`tests` are for free-form `expr` alerts; structured alerts get generated tests"
            )
        return self


def _check_percentile_form(alert: AlertSpec) -> None:
    if alert.percentile is None:
        raise ValueError("a percentile alert needs `percentile` (95 for p95)")
    if alert.above is None or alert.below is not None:
        raise ValueError(
            "a percentile alert needs `above` (seconds, or the histogram's unit), not `below`"
        )
    if alert.above <= 0:
        raise ValueError(f"`above` must be a positive latency (got {alert.above:g})")


# --- dashboards -----------------------------------------------------------------------

PanelKind = Literal["timeseries", "stat", "gauge", "table"]


class PanelQuerySpec(Spec):
    """One query of a panel, with the legend of the series it returns."""

    expr: PromQL = Field(description="PromQL the panel shows.")
    legend: str = Field(
        "",
        description="Series name in the legend, Grafana's template: `{{route}}` is the value "
        "of the route label. Default: the series' labels.",
    )


def _query_mapping(value: Any) -> Any:
    """A query written as a bare PromQL string is short for `{expr: ...}`."""
    return {"expr": value} if isinstance(value, str) else value


class PanelThresholdSpec(Spec):
    """A threshold step: from `value` up, values show in `color`."""

    value: Number = Field(description="Where the step starts, in the panel's unit as stored.")
    color: str = Field(
        "red", min_length=1, description="Grafana colour name (green, orange, red...) or #rrggbb."
    )


class PanelSpec(Spec):
    """A panel of your own on the service's dashboard."""

    title: str = Field(min_length=1, description="Panel title; runbooks refer to it by this.")
    kind: PanelKind = Field(
        "timeseries",
        description="timeseries (a graph over time), stat (the latest value), gauge (the latest "
        "value against thresholds) or table (the latest value of each series).",
    )
    queries: list[
        Annotated[
            PanelQuerySpec,
            BeforeValidator(_query_mapping, json_schema_input_type=str | PanelQuerySpec),
        ]
    ] = Field(
        min_length=1,
        description="What the panel shows: PromQL strings, or `{expr, legend}` mappings.",
    )
    unit: str = Field(
        "short",
        min_length=1,
        description="Grafana unit id: percentunit (0-1 shown as %), s, bytes, reqps, short...",
    )
    thresholds: list[PanelThresholdSpec] = Field(
        default_factory=list,
        description="Steps above a green base, ascending; a time series draws them as lines.",
    )
    description: str = Field("", description="Shown in the panel's info tooltip.")
    width: int = Field(8, ge=1, le=24, description="Width on Grafana's 24-column grid.")
    height: int = Field(8, ge=2, le=40, description="Height in grid rows (30 px each).")
    alerts: list[AlertName] = Field(
        default_factory=list,
        description="Alerts of this service whose runbooks link to this panel.",
    )

    @model_validator(mode="after")
    def _ascending(self) -> PanelSpec:
        values = [t.value for t in self.thresholds]
        if values != sorted(set(values)):
            raise ValueError("`thresholds` values must be ascending and distinct")
        return self


class DashboardRowSpec(Spec):
    """A titled row of panels."""

    row: str = Field(min_length=1, description="Row title.")
    business: bool = Field(
        False,
        description="Put this row on the business-metrics dashboard instead of the service's.",
    )
    panels: list[PanelSpec] = Field(min_length=1, description="Panels, left to right.")


class DashboardSpec(Spec):
    """Panels of your own, added to the generated dashboards."""

    rows: list[DashboardRowSpec] = Field(
        default_factory=list, description="Rows placed after the generated ones."
    )


class ServiceLevelsSpec(Spec):
    apiVersion: Literal["sloforge/v1"]
    kind: Literal["ServiceLevels"]
    service: Name
    owner: Annotated[str, Field(min_length=1)] | None = None
    description: str = ""
    labels: Labels = Field(default_factory=dict)
    slos: list[SLOSpec] = Field(default_factory=list)
    recording_rules: list[RecordingRuleSpec] = Field(default_factory=list)
    alerts: list[AlertSpec] = Field(default_factory=list)
    dashboard: DashboardSpec = Field(
        default_factory=DashboardSpec,
        description="Panels and rows of your own on the service's dashboard (docs/dashboards.md).",
    )


# --- routing ------------------------------------------------------------------------


def _unique_labels(values: list[str]) -> list[str]:
    for value in values:
        if value != "..." and not re.match(names.LABEL_NAME_PATTERN, value):
            raise ValueError(f"{excerpt(value)} is not a label name (or `...` for every label)")
    repeated = sorted({v for v in values if values.count(v) > 1})
    if repeated:
        twice = ", ".join(f"`{v}`" for v in repeated)
        raise ValueError(
            f"lists {twice} more than once; Alertmanager refuses repeated group_by labels"
        )
    return values


class RouteTiming(Spec):
    group_by: Annotated[list[str], AfterValidator(_unique_labels)] | None = None
    group_wait: Duration | None = None
    group_interval: Duration | None = None
    repeat_interval: Duration | None = None


class RouteSpec(RouteTiming):
    matchers: dict[LabelName, str] | list[str] = Field(default_factory=dict)
    receivers: list[str] = Field(min_length=1)
    active_during: list[str] = Field(default_factory=list)
    mute_during: list[str] = Field(default_factory=list)
    continue_: bool = Field(False, alias="continue")


class TimeRange(Spec):
    start_time: str
    end_time: str


class TimeIntervalSpec(Spec):
    times: list[TimeRange] | None = None
    weekdays: list[str] | None = None
    days_of_month: list[str] | None = None
    months: list[str] | None = None
    years: list[str] | None = None
    location: str | None = None


class InhibitSpec(Spec):
    source_matchers: list[str]
    target_matchers: list[str]
    equal: list[str] = Field(default_factory=list)


class RoutingExpectation(Spec):
    labels: dict[str, str]
    receivers: list[str]


class ReceiverSpec(Spec):
    """One receiver: ``name`` and one or more integration blocks (checked by receivers.py)."""

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True, frozen=True)
    name: str


def _host_port(value: str) -> str:
    if not re.match(r"^(\[[^\]]+\]|[^\s:/\[\]]+):\d+$", value):
        raise ValueError(f"must be host:port, e.g. smtp.example.com:587 (got {excerpt(value)})")
    return value


class SmtpSpec(Spec):
    """Defaults for every email receiver (Alertmanager's global ``smtp_*`` settings)."""

    smarthost: Annotated[str, AfterValidator(_host_port)]
    from_: Annotated[str, Field(min_length=1, alias="from")]
    hello: str | None = None
    auth_username: str | None = None
    auth_password_file: str | None = None
    require_tls: bool | None = None


class AlertRoutingSpec(Spec):
    apiVersion: Literal["sloforge/v1"]
    kind: Literal["AlertRouting"]
    defaults: RouteTiming = Field(default_factory=RouteTiming)
    smtp: SmtpSpec | None = None
    receivers: list[ReceiverSpec] = Field(min_length=1)
    routes: list[RouteSpec] = Field(default_factory=list)
    default_receiver: str
    time_intervals: dict[str, list[TimeIntervalSpec]] = Field(default_factory=dict)
    mute_during: list[str] = Field(default_factory=list)
    inhibit: list[InhibitSpec] = Field(default_factory=list)
    expect: list[RoutingExpectation] = Field(default_factory=list)
    alertmanager_version: str = "0.25"


# --- severity catalog -----------------------------------------------------------------

SEVERITY_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
SeverityName = Annotated[str, AfterValidator(_pattern(SEVERITY_NAME_PATTERN, "severity name"))]
_RULES["severity name"] = "letters, digits, `.`, `_` and `-`, like P1 or SEV-1"


class EscalationSpec(Spec):
    """Raise a second alert when an alert of this severity is still firing after a delay."""

    after: Duration = Field(
        description=(
            "How long an alert must have been firing before the escalation alert fires "
            "(the escalation rule's `for`)."
        )
    )
    to: SeverityName = Field(
        description="The catalog severity of the escalation alert, which routes it.",
    )


class SeverityLevelSpec(Spec):
    """One entry of the repository's severity catalog (e.g. P1 or SEV-1)."""

    name: SeverityName = Field(
        description="What SLO tiers and alerts write in `severity:` (e.g. P1, SEV-1, CRITICAL)."
    )
    label: Annotated[str, Field(min_length=1)] | None = Field(
        None,
        description="The `severity` label value alerts carry and routes match; default: `name`.",
    )
    description: str = Field("", description="What this severity means, for people.")
    class_: TierClass | None = Field(
        None,
        alias="class",
        description=(
            "`page` or `ticket`: the inhibition class of burn-rate tiers of this severity. "
            "The first entry of each class is the default severity of SLO page/ticket tiers."
        ),
    )
    response_time: Duration | None = Field(
        None, description="How soon someone must respond (shown in runbooks and `explain`)."
    )
    repeat_interval: Duration | None = Field(
        None,
        description=(
            "Alertmanager repeat_interval for alerts of this severity, on the catalog's route "
            "and on every AlertRouting route that matches only this severity and sets none."
        ),
    )
    receivers: list[str] = Field(
        default_factory=list,
        description=(
            "Default receivers (names from AlertRouting): a route for this severity is added "
            "after the AlertRouting routes."
        ),
    )
    escalate: EscalationSpec | None = Field(
        None, description="Escalate alerts of this severity that keep firing."
    )


# --- settings -----------------------------------------------------------------------


class LintSettingsSpec(Spec):
    """`sloforge lint` options for the whole repository (see docs/lint.md)."""

    disable: list[str] = Field(
        default_factory=list,
        description="Lint rule ids never reported in this repository, e.g. `untested-alert`.",
    )


class SettingsSpec(Spec):
    """Repository-wide settings (at most one document)."""

    apiVersion: Literal["sloforge/v1"]
    kind: Literal["Settings"]
    strategy: Literal["efficient", "exact"] = "efficient"
    evaluation_interval: Duration = "1m"
    scrape_interval: Duration = "30s"
    runbook_base_url: str | None = None
    dashboard_base_url: str | None = None
    targets: list[str] = Field(default_factory=lambda: ["prometheus"])
    alertmanager_version: str | None = Field(
        default=None,
        description=(
            "The Alertmanager release the configuration targets (e.g. 0.25, 0.28); receivers and "
            "fields newer than it are refused. Default 0.25, or AlertRouting's own "
            "alertmanager_version."
        ),
    )
    severities: list[SeverityLevelSpec] = Field(
        default_factory=list,
        description=(
            "The severity catalog: when given, every alert's and tier's `severity` must be one "
            "of these names."
        ),
    )
    lint: LintSettingsSpec = Field(
        default_factory=LintSettingsSpec, description="`sloforge lint` options."
    )


KINDS: dict[str, type[Spec]] = {
    "ServiceLevels": ServiceLevelsSpec,
    "AlertRouting": AlertRoutingSpec,
    "Settings": SettingsSpec,
}
