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
    PrivateAttr,
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
    "annotation name": "letters, digits and underscores, not starting with a digit",
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
_slice_query = _checked_by(promql.check_slice_query)
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


def _alert_metric(value: str) -> str:
    try:
        promql.parse_selector(value)
    except promql.PromQLError as exc:
        if "series selector" not in str(exc):
            raise
        raise ValueError(
            'must be a series selector like metric{label="value"}: record other PromQL '
            "under recording_rules and name the record here, or write the alert as `expr`"
        ) from None
    return value


AlertMetric = Annotated[str, AfterValidator(_alert_metric)]
WindowQuery = Annotated[str, AfterValidator(_window_query)]
SliceQuery = Annotated[str, AfterValidator(_slice_query)]
LabelMatchers = Annotated[str, AfterValidator(_matchers)]
Labels = dict[LabelName, str]
# Prometheus checks annotation names as label names (promtool: "invalid annotation name").
AnnotationName = Annotated[
    str, AfterValidator(_pattern(names.LABEL_NAME_PATTERN, "annotation name"))
]
Annotations = dict[AnnotationName, str]


class Spec(BaseModel):
    # A field's docstring is its description in the JSON Schema (editor hover text).
    model_config = ConfigDict(
        extra="forbid", coerce_numbers_to_str=True, frozen=True, use_attribute_docstrings=True
    )
    # Fields written in the document but refused, when partial.salvage built this model from a
    # refused document: they hold their defaults, which checks must not take as written.
    _refused: frozenset[str] = PrivateAttr(default_factory=frozenset)


# --- SLIs ---------------------------------------------------------------------------


class RatioSLI(Spec):
    """Events counted by two counters: bad (``errors``) or ``good``, over ``total``."""

    errors: SeriesSelector | None = None
    """Counter of bad events (give `errors` or `good`)."""
    good: SeriesSelector | None = None
    """Counter of good events (give `errors` or `good`)."""
    total: SeriesSelector
    """Counter of all events."""
    group_by: list[LabelName] = Field(default_factory=list)
    """One error budget per value of these labels."""

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
    """Base name of a classic histogram: `_bucket` and `_count` are implied."""
    matchers: LabelMatchers = ""
    """Label matchers on the histogram, e.g. {job="payments"}."""
    threshold: Annotated[Number, Field(gt=0)]
    """Seconds: requests at or below it are good. Must be a bucket boundary (`le`) of the
    histogram."""
    group_by: list[LabelName] = Field(default_factory=list)
    """One error budget per value of these labels."""

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
    """PromQL for the rate of bad events; `$window` is replaced by each window."""
    total: WindowQuery
    """PromQL for the rate of all events; `$window` is replaced by each window."""


SLICE_THRESHOLDS = ("at_least", "above", "at_most", "below")


class TimeslicesSLI(Spec):
    """The budget counts bad time slices, not bad events (docs/spec.md#timeslices-slis).

    Time is cut into slices of ``slice``; a slice is good when its measure (a
    ``ratio``'s good events over all events within the slice, or a ``metric``) is on
    the good side of the per-slice threshold. The objective is the share of good
    slices; a slice without traffic (no value) is not counted.
    """

    slice: Duration
    """Length of one slice, e.g. 1m: the SLO's rules are evaluated once per slice. Must
    divide 5m, every tier window and the SLO window."""
    ratio: RatioSLI | None = None
    """Measure: good events over all events within each slice (give `ratio` or `metric`)."""
    metric: SliceQuery | None = None
    """Measure: PromQL with one value per slice, read at the slice's end; `$slice` is
    replaced by the slice length, e.g. max_over_time(queue_depth{job="x"}[$slice])."""
    at_least: Number | None = None
    """A slice is good when its measure is at least this (for a ratio: its good ratio,
    in (0, 1])."""
    above: Number | None = None
    """A slice is good when its measure is above this."""
    at_most: Number | None = None
    """A slice is good when its measure is at most this (metric only)."""
    below: Number | None = None
    """A slice is good when its measure is below this (metric only)."""
    average: bool = False
    """Instead of a threshold: each slice counts its good ratio (a metric: its value,
    clamped to 0..1), so the SLI is the mean of the slices' ratios (OpenSLO's
    RatioTimeslices)."""

    @model_validator(mode="after")
    def _one_measure(self) -> TimeslicesSLI:
        if (self.ratio is None) == (self.metric is None):
            got = "both" if self.ratio is not None else "neither"
            raise ValueError(f"exactly one of `ratio` or `metric` is required (got {got})")
        given = [k for k in SLICE_THRESHOLDS if getattr(self, k) is not None]
        if self.average and given:
            raise ValueError(f"`average` counts each slice's ratio: drop `{given[0]}`")
        if not self.average and len(given) != 1:
            got = " and ".join(given) if given else "none"
            raise ValueError(
                "exactly one per-slice threshold is required: at_least, above, at_most or "
                f"below, or `average: true` (got {got})"
            )
        return self


SLI_KINDS = ("ratio", "latency", "probe", "query", "timeslices")


class SLISpec(Spec):
    ratio: RatioSLI | None = None
    """Events counted by counters: `errors` or `good`, over `total`."""
    latency: LatencySLI | None = None
    """Requests faster than a threshold, read from a classic histogram."""
    probe: SeriesSelector | None = None
    """A 0/1 gauge such as probe_success: the share of samples at 1 is good."""
    query: QuerySLI | None = None
    """Free PromQL for error and total rates, with `$window` for each window."""
    timeslices: TimeslicesSLI | None = None
    """Good time slices over all slices: a ratio or a metric judged once per slice."""

    @model_validator(mode="after")
    def _exactly_one(self) -> SLISpec:
        kinds = [k for k in SLI_KINDS if getattr(self, k) is not None]
        if len(kinds) != 1:
            got = " and ".join(kinds) if kinds else "none"
            raise ValueError(
                f"exactly one of ratio, latency, probe, query or timeslices is required (got {got})"
            )
        return self


# --- alerting -----------------------------------------------------------------------


class SeverityPolicy(Spec):
    severity: Annotated[str, Field(min_length=1)] | None = None
    """The `severity` label of these tiers (default: critical for page, warning for ticket, or the
    catalog's)."""
    labels: Labels = Field(default_factory=dict)
    """Extra labels on these tiers' alerts."""
    annotations: Annotations = Field(default_factory=dict)
    """Extra annotations on these tiers' alerts."""
    disable: bool = False
    """Generate no alerts of this kind."""


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
    """The long window: the error ratio over it must exceed the threshold, e.g. 1h."""
    short_window: Duration
    """The short window, shorter than the long one: the alert stops soon after errors stop."""
    burn_rate: Annotated[Number, Field(gt=0)] | None = None
    """How many times faster than the budget allows errors must come (give this or
    `budget_consumed`)."""
    budget_consumed: Annotated[Number, Field(gt=0, le=100)] | None = None
    """Percent of the period's budget spent over the long window when the tier fires (instead of
    `burn_rate`)."""
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
    annotations: Annotations = Field(
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


class AbsentSpec(Spec):
    """The SLO's absent-data alert: fires when the series its SLI reads disappear."""

    disable: bool = Field(
        default=False, description="Do not generate this SLO's absent-data alert."
    )
    name: AlertName | None = Field(
        None,
        description='Alert name; default CamelCase(service)+CamelCase(slo)+"DataAbsent".',
    )
    for_: Duration | None = Field(
        default=None,
        alias="for",
        description="How long the SLI's series must be missing before it fires; default: "
        "the time 100% errors would take to spend 2% of the error budget, kept within "
        "5m..1h (docs/alerts.md).",
    )
    severity: Annotated[str, Field(min_length=1)] | None = Field(
        default=None,
        description="The alert's severity (a catalog name when Settings has one); default: "
        "the catalog's first ticket-class severity, or warning.",
    )
    labels: Labels = Field(default_factory=dict, description="Extra labels on the alert.")
    annotations: Annotations = Field(
        default_factory=dict, description="Extra annotations on the alert."
    )


class AlertingSpec(Spec):
    name: AlertName | None = None
    """Alert name of the SLO's burn-rate alerts; default CamelCase(service) + CamelCase(slo) +
    BudgetBurn."""
    page: SeverityPolicy = Field(default_factory=SeverityPolicy)
    """Severity, labels and annotations of the page tiers (the fast burns); `disable: true` drops
    them."""
    ticket: SeverityPolicy = Field(default_factory=SeverityPolicy)
    """Severity, labels and annotations of the ticket tiers (the slow burns); `disable: true` drops
    them."""
    tiers: list[TierSpec] | None = None
    """Custom burn-rate tiers instead of the default table (any number, each with its own
    severity)."""
    traffic_guard: Annotated[Number, Field(ge=0)] | None = None
    """Minimum events per second over a tier's long window for it to fire, so a trickle of traffic
    cannot page."""
    labels: Labels = Field(default_factory=dict)
    """Extra labels on every burn-rate alert of this SLO."""
    annotations: Annotations = Field(default_factory=dict)
    """Extra annotations on every burn-rate alert of this SLO."""
    absent: AbsentSpec = Field(
        default_factory=lambda: AbsentSpec.model_validate({}),
        description="The absent-data alert, on by default: fires when the SLI's series are "
        "missing (a broken scrape looks like perfect health otherwise).",
    )


class SLOSpec(Spec):
    name: Name
    """SLO name, unique within the service: lower-case letters, digits and dashes."""
    description: str = ""
    """What the SLO promises, in words."""
    objective: Annotated[Number, Field(gt=0, lt=100)]
    """Target in percent of good events, above 0 and below 100 (e.g. 99.9)."""
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
    """How good and bad events are measured: exactly one of ratio, latency, probe, query or
    timeslices."""
    alerting: AlertingSpec = Field(default_factory=AlertingSpec)
    """Burn-rate alerts of this SLO: name, page and ticket policies, custom tiers."""
    labels: Labels = Field(default_factory=dict)
    """Extra labels on this SLO's rules and alerts."""
    runbook: str = ""
    """Diagnosis steps written into the runbook of this SLO's alerts (Markdown)."""
    strategy: Literal["efficient", "exact"] | None = None
    """How windows are computed: `efficient` (from short windows) or `exact`; default from
    Settings."""


# --- plain rules and alerts ---------------------------------------------------------


class RecordingRuleSpec(Spec):
    record: RecordName
    """Name of the recorded series (level:metric:operations, e.g. job:http_requests:rate5m)."""
    expr: PromQL
    """PromQL the rule records."""
    labels: Labels = Field(default_factory=dict)
    """Labels added to the recorded series."""


class PromtoolSeries(Spec):
    series: str
    """A series selector, e.g. http_requests_total{job="shop"}."""
    values: str
    """Values in promtool's expanding notation, e.g. `0+10x60` or `1 1 _ stale`."""


class PromtoolAlert(Spec):
    exp_labels: dict[str, str] = Field(default_factory=dict)
    """Labels the firing alert must carry."""
    exp_annotations: dict[str, str] = Field(default_factory=dict)
    """Annotations the firing alert must carry."""


class PromtoolAlertCase(Spec):
    eval_time: Duration
    """When to evaluate, from the start of the input series, e.g. 10m."""
    alertname: AlertName | None = None
    """The alert checked; default the alert the test belongs to."""
    exp_alerts: list[PromtoolAlert] = Field(default_factory=list)
    """The alerts expected to fire at `eval_time`; empty: none."""


class PromtoolSample(Spec):
    labels: str
    """The sample's series, e.g. {job="shop"}."""
    value: Number
    """The sample's value."""


class PromtoolExprCase(Spec):
    expr: PromQL
    """PromQL to evaluate."""
    eval_time: Duration
    """When to evaluate, from the start of the input series."""
    exp_samples: list[PromtoolSample] = Field(default_factory=list)
    """The samples the expression must return."""


class AlertTestSpec(Spec):
    """A promtool test group for a free-form alert; ``alertname`` defaults to the alert's."""

    name: str = ""
    """Name of the test group."""
    interval: Duration = "1m"
    """Time between the samples of `input_series` (default 1m)."""
    input_series: list[PromtoolSeries]
    """Input series in promtool notation: a selector and its values, e.g. `0+1x30`."""
    alert_rule_test: list[PromtoolAlertCase] = Field(default_factory=list)
    """Times to evaluate the alert at, with the alerts expected to fire then."""
    promql_expr_test: list[PromtoolExprCase] = Field(default_factory=list)
    """PromQL expressions to evaluate, with the samples expected."""


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


# --- baseline alerts ---------------------------------------------------------------------

BASELINE_WEEKS = (1, 8)  # how many past weeks a seasonal baseline may average
BASELINE_MIN_WINDOW = 3600  # a statistical window: at least an hour of the recorded series
BASELINE_MAX_WINDOW = 5 * 7 * 86400  # and at most 5 weeks (retention, query cost)


def _tolerance(value: float) -> float:
    if value <= 0:
        raise ValueError(
            f"must be a percent above 0, how far from the baseline is still normal (got {value:g})"
        )
    if value < 1 and value != int(value):
        raise ValueError(
            f"is a percent: {value:g} would be {value:g}% of the baseline; "
            f"write {value * 100:g} for {value * 100:g}%"
        )
    return value


def _weeks(value: int) -> int:
    low, high = BASELINE_WEEKS
    if not low <= value <= high:
        raise ValueError(
            f"must be between {low} and {high} past weeks (got {value}): older weeks say little "
            "about this one, and Prometheus keeps 15 days by default"
        )
    return value


def _deviations(value: float) -> float:
    if value <= 0:
        raise ValueError(
            f"must be a positive number of standard deviations, e.g. 3 (got {value:g})"
        )
    return value


def _statistical_window(value: str) -> str:
    seconds = parse_duration(value)
    if seconds < BASELINE_MIN_WINDOW:
        raise ValueError(
            f"must be at least 1h (got {value}): a mean and standard deviation over less "
            "follow every dip, so nothing stands out from them"
        )
    if seconds > BASELINE_MAX_WINDOW:
        raise ValueError(f"must be at most 5w (got {value}): for longer history use `seasonal`")
    return value


def _level(value: float) -> float:
    if value < 0:
        raise ValueError(f"is a level of the metric, at least 0 (got {value:g})")
    return value


def _integer(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"must be a whole number of weeks (got {excerpt(value)})")
    return value


class SeasonalBaselineSpec(Spec):
    """The same hour in past weeks: the mean of the metric 1, 2, ... `weeks` weeks ago."""

    weeks: Annotated[int, BeforeValidator(_integer), AfterValidator(_weeks)] = 4
    """How many past weeks to average at the same hour of the same weekday (1 to 8, default 4);
    Prometheus must keep that much history."""
    tolerance: Annotated[float, BeforeValidator(_number), AfterValidator(_tolerance)]
    """How far from the baseline is still normal, in percent: 30 fires below 70% (or above 130%)
    of the baseline. Below 100 when the alert watches drops."""


class StatisticalBaselineSpec(Spec):
    """The mean plus or minus k standard deviations of the metric over a window."""

    window: Annotated[str, BeforeValidator(_duration), AfterValidator(_statistical_window)]
    """The history the mean and standard deviation are taken over (1h to 5w), ending `for`
    before now so a pending anomaly is not part of its own baseline."""
    deviations: Annotated[float, BeforeValidator(_number), AfterValidator(_deviations)]
    """k: how many standard deviations from the mean are still normal (> 0), e.g. 3."""


class BaselineSpec(Spec):
    """Judge `metric` against its own history: give `seasonal` or `statistical`."""

    seasonal: SeasonalBaselineSpec | None = None
    """The baseline is the same hour over the past weeks, with a tolerance in percent."""
    statistical: StatisticalBaselineSpec | None = None
    """The baseline is the mean over a window, with k standard deviations of tolerance."""
    direction: Literal["below", "above", "both"] = "below"
    """Which departures fire: `below` the baseline (default; orders dropping), `above` it, or
    `both`."""
    min: Annotated[float, BeforeValidator(_number), AfterValidator(_level)] | None = None
    """No alert while the baseline itself is below this level (quiet nights: a drop from 2
    orders an hour to 0 is noise). In the metric's unit."""

    @model_validator(mode="after")
    def _one_method(self) -> BaselineSpec:
        if (self.seasonal is None) == (self.statistical is None):
            got = "both" if self.seasonal is not None else "neither"
            raise ValueError(
                "give exactly one of `seasonal` (the same hour in past weeks) or `statistical` "
                f"(mean plus or minus k standard deviations) (got {got})"
            )
        s = self.seasonal
        if s is not None and self.direction != "above" and s.tolerance >= 100:
            raise ValueError(
                f"a tolerance of {s.tolerance:g}% below the baseline can never be crossed: a "
                "value cannot drop more than 100%; give less than 100, or `direction: above`"
            )
        return self


class AlertSpec(Spec):
    name: AlertName
    """Alert name (CamelCase letters and digits); also the runbook's file name."""
    expr: PromQL | None = None
    """Free-form PromQL condition; the alert fires while it returns series. Give `expr`, or
    `metric` with `above`/`below`, or `histogram` with `percentile`."""
    metric: AlertMetric | None = None
    """Structured alert: the series selector compared with `above` or `below` (its promtool tests
    are generated)."""
    above: Number | None = None
    """Structured alert: fire when `metric` (or the percentile) is above this value."""
    below: Number | None = None
    """Structured alert: fire when `metric` is below this value."""
    baseline: BaselineSpec | None = None
    """Baseline alert: fire when `metric` departs from its own history (the same hour in past
    weeks, or mean plus or minus k standard deviations); docs/alerts.md."""
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
    """How long the condition must hold before the alert fires, e.g. 5m (default 0s)."""
    severity: Annotated[str, Field(min_length=1)]
    """The `severity` label: a name from the Settings severity catalog, or any label value routes
    match."""
    summary: str = ""
    """One-line summary annotation, shown as the notification's title."""
    description: str = ""
    """Description annotation; Prometheus templates such as {{ $value }} pass through untouched."""
    runbook: str = ""
    """Diagnosis steps written into the alert's runbook stub (Markdown)."""
    labels: Labels = Field(default_factory=dict)
    """Extra labels on the alert."""
    annotations: Annotations = Field(default_factory=dict)
    """Extra annotations on the alert (e.g. an absolute runbook_url or dashboard_url)."""
    tests: list[AlertTestSpec] = Field(default_factory=list)
    """promtool test groups for a free-form `expr` alert (structured alerts get generated tests)."""

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
        if form != "metric" and self.baseline is not None:
            raise ValueError("`baseline` belongs to structured alerts on a `metric`")
        if form == "expr":
            if self.above is not None or self.below is not None:
                raise ValueError(
                    "`above`/`below` are for structured alerts; put the comparison in `expr`"
                )
        elif form == "metric":
            _check_statistical_lag(self)
            given = [
                f"`{f}`" for f in ("above", "below", "baseline") if getattr(self, f) is not None
            ]
            if len(given) != 1:
                got = " and ".join(given) if given else "none"
                raise ValueError(
                    "a structured alert needs exactly one of `above`, `below` or `baseline` "
                    f"(got {got})"
                )
        else:
            _check_percentile_form(self)
        if self.tests and form != "expr":
            raise ValueError(
                "`tests` are for free-form `expr` alerts; structured alerts get generated tests"
            )
        return self


def _check_statistical_lag(alert: AlertSpec) -> None:
    """The statistical window ends `for` ago (model/baseline.py): it must reach further back."""
    stat = alert.baseline.statistical if alert.baseline is not None else None
    if stat is not None and parse_duration(alert.for_) >= parse_duration(stat.window):
        raise ValueError(
            f"`baseline.statistical.window` ({stat.window}) must be longer than `for` "
            f"({alert.for_}): the window ends `for` ago, so that a departure waiting out "
            "`for` is not yet part of its own baseline"
        )


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
    """Always `sloforge/v1`."""
    kind: Literal["ServiceLevels"]
    """`ServiceLevels`: one service's SLOs, recording rules and plain alerts."""
    service: Name
    """Service name: lower-case letters, digits and dashes; names the output files."""
    owner: Annotated[str, Field(min_length=1)] | None = None
    """Owning team: becomes the label team="<owner>" on every rule and alert."""
    description: str = ""
    """What the service does, in words."""
    labels: Labels = Field(default_factory=dict)
    """Extra labels on every generated rule and alert of the service."""
    slos: list[SLOSpec] = Field(default_factory=list)
    """The service's SLOs."""
    recording_rules: list[RecordingRuleSpec] = Field(default_factory=list)
    """Plain helper recording rules."""
    alerts: list[AlertSpec] = Field(default_factory=list)
    """Plain (non-SLO) alerts: free-form `expr`, or structured `metric` + `above`/`below`."""
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
    """Labels that group alerts into one notification (`...` for every label)."""
    group_wait: Duration | None = None
    """How long to wait before the first notification of a new group."""
    group_interval: Duration | None = None
    """How long to wait before notifying about new alerts in a group."""
    repeat_interval: Duration | None = None
    """How long before a notification is sent again for alerts still firing."""


class RouteSpec(RouteTiming):
    matchers: dict[LabelName, str] | list[str] = Field(default_factory=dict)
    """Which alerts the route takes: an equality map, or a list of matchers like team=~"pay.*".
    Empty: every alert."""
    receivers: list[str] = Field(min_length=1)
    """Receivers the alerts go to; several fan out to all of them."""
    active_during: list[str] = Field(default_factory=list)
    """Time intervals outside which the route sends nothing."""
    mute_during: list[str] = Field(default_factory=list)
    """Time intervals during which the route sends nothing."""
    continue_: bool = Field(False, alias="continue")
    """Also try the following routes after this one matches."""


class TimeRange(Spec):
    start_time: str
    """Start, like 09:00."""
    end_time: str
    """End, like 17:00 (24:00 for the end of the day)."""


class TimeIntervalSpec(Spec):
    times: list[TimeRange] | None = None
    """Times of day, each a start_time and end_time like 09:00."""
    weekdays: list[str] | None = None
    """Days or ranges like monday:friday."""
    days_of_month: list[str] | None = None
    """Days of the month or ranges like 1:5; negative counts from the end."""
    months: list[str] | None = None
    """Months or ranges like january:march."""
    years: list[str] | None = None
    """Years or ranges like 2025:2026."""
    location: str | None = None
    """IANA time zone of the times, e.g. Europe/Berlin (default UTC)."""


class InhibitSpec(Spec):
    source_matchers: list[str]
    """Matchers of the alerts that inhibit, e.g. severity="critical"."""
    target_matchers: list[str]
    """Matchers of the alerts that are inhibited while a source alert fires."""
    equal: list[str] = Field(default_factory=list)
    """Labels that must be equal in source and target for the inhibition to apply."""


class RoutingExpectation(Spec):
    labels: dict[str, str]
    """Labels of an example alert."""
    receivers: list[str]
    """The receivers it must reach, in order."""


class ReceiverSpec(Spec):
    """One receiver: ``name`` and one or more integration blocks (checked by receivers.py)."""

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True, frozen=True)
    name: str
    """The receiver's name, used by routes, `default_receiver` and `expect`."""


def _host_port(value: str) -> str:
    if not re.match(r"^(\[[^\]]+\]|[^\s:/\[\]]+):\d+$", value):
        raise ValueError(f"must be host:port, e.g. smtp.example.com:587 (got {excerpt(value)})")
    return value


class SmtpSpec(Spec):
    """Defaults for every email receiver (Alertmanager's global ``smtp_*`` settings)."""

    smarthost: Annotated[str, AfterValidator(_host_port)]
    """SMTP server as host:port, e.g. smtp.example.com:587."""
    from_: Annotated[str, Field(min_length=1, alias="from")]
    """Sender address of notification emails."""
    hello: str | None = None
    """Host name sent in the SMTP HELO."""
    auth_username: str | None = None
    """SMTP user name."""
    auth_password_file: str | None = None
    """File holding the SMTP password (never inline)."""
    require_tls: bool | None = None
    """Refuse to send without STARTTLS."""


class AlertRoutingSpec(Spec):
    apiVersion: Literal["sloforge/v1"]
    """Always `sloforge/v1`."""
    kind: Literal["AlertRouting"]
    """`AlertRouting`: receivers, routes and muting for the whole repository (one document)."""
    defaults: RouteTiming = Field(default_factory=RouteTiming)
    """Grouping and timing of the root route, inherited by every route that sets none."""
    smtp: SmtpSpec | None = None
    """SMTP server and sender shared by every email receiver."""
    receivers: list[ReceiverSpec] = Field(min_length=1)
    """Where notifications go: each a `name` and one or more integration blocks (slack, pagerduty,
    email, webhook…); secrets only as `*_file` paths."""
    routes: list[RouteSpec] = Field(default_factory=list)
    """Routes in order: the first whose matchers accept an alert takes it (unless `continue`); each
    may fan out to several receivers."""
    default_receiver: str
    """The receiver of alerts no route takes."""
    time_intervals: dict[str, list[TimeIntervalSpec]] = Field(default_factory=dict)
    """Named time intervals (weekdays, times, months…) for `active_during` and `mute_during`."""
    mute_during: list[str] = Field(default_factory=list)
    """Time intervals during which every route is muted (e.g. a maintenance window)."""
    inhibit: list[InhibitSpec] = Field(default_factory=list)
    """Extra inhibit rules, besides the built-in one (a page silences its SLO's tickets)."""
    expect: list[RoutingExpectation] = Field(default_factory=list)
    """Routing tests: alert labels and the receivers they must reach, checked with amtool by
    `sloforge test`."""
    alertmanager_version: str = "0.25"
    """The Alertmanager version the configuration targets (e.g. 0.25, 0.27); receivers and fields
    are checked against it."""


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
    """Always `sloforge/v1`."""
    kind: Literal["Settings"]
    """`Settings`: repository-wide settings (one document at most)."""
    strategy: Literal["efficient", "exact"] = "efficient"
    """Default window strategy: `efficient` (long windows from short ones) or `exact`."""
    evaluation_interval: Duration = "1m"
    """Your Prometheus rule evaluation interval (default 1m)."""
    scrape_interval: Duration = "30s"
    """Your Prometheus scrape interval (default 30s); lint checks ranges against it."""
    runbook_base_url: str | None = None
    """Absolute URL the runbooks are published under; runbook_url annotations are built from it."""
    dashboard_base_url: str | None = None
    """Absolute Grafana URL; dashboard links in alerts are built from it."""
    targets: list[str] = Field(default_factory=lambda: ["prometheus"])
    """Deployment targets to write: prometheus, prometheus-operator, mimir, thanos, mixin."""
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
    absent_alerts: bool = Field(
        default=True,
        description="Generate an absent-data alert for every SLO (each SLO can still turn its "
        "own off with alerting.absent.disable).",
    )


KINDS: dict[str, type[Spec]] = {
    "ServiceLevels": ServiceLevelsSpec,
    "AlertRouting": AlertRoutingSpec,
    "Settings": SettingsSpec,
}
