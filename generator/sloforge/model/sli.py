"""PromQL for each SLI kind: error and total events per second over one window.

Both expressions return series with the SLI's ``group_by`` labels only, so
error and total series of the same group match one-to-one.
"""

from __future__ import annotations

from . import conventions as names
from .domain import SLI
from .durations import format_duration
from .promql import Matcher, Selector, number, rate, substitute_slice, substitute_window, sum_by


def error_events(sli: SLI, window: int) -> str:
    """Bad events/second. A missing error series with traffic present counts as zero errors.

    For a timeslices SLI the events are slices: bad slices per second over the window.
    """
    w = format_duration(window)
    if sli.kind == "timeslices":
        judged = _judged(sli, window)
        return f"(count_over_time({judged}) - sum_over_time({judged})) / {window}"
    total = total_events(sli, window)
    if sli.kind == "ratio" and sli.errors is not None:
        return f"{sum_by(sli.group_by, rate(sli.errors.render(), w))}\nor\n0 * {total}"
    if sli.kind == "ratio":
        assert sli.good is not None
        good = sum_by(sli.group_by, rate(sli.good.render(), w))
        return f"{total}\n-\n({good} or 0 * {total})"
    if sli.kind == "latency":
        good = sum_by(sli.group_by, rate(_bucket(sli).render(), w))
        return f"{total}\n-\n({good} or 0 * {total})"
    if sli.kind == "probe":
        assert sli.probe is not None
        sel = sli.probe.render()
        return f"sum(count_over_time({sel}[{w}]) - sum_over_time({sel}[{w}])) / {window}"
    return (
        f"({substitute_window(sli.query_errors, w)})\nor\n"
        f"0 * ({substitute_window(sli.query_total, w)})"
    )


def total_events(sli: SLI, window: int) -> str:
    """All events/second, good and bad (timeslices: slices with a value, per second)."""
    w = format_duration(window)
    if sli.kind == "timeslices":
        return f"count_over_time({_judged(sli, window)}) / {window}"
    if sli.kind == "ratio":
        assert sli.total is not None
        return sum_by(sli.group_by, rate(sli.total.render(), w))
    if sli.kind == "latency":
        count = Selector(f"{sli.histogram}_count", sli.matchers)
        return sum_by(sli.group_by, rate(count.render(), w))
    if sli.kind == "probe":
        assert sli.probe is not None
        return f"sum(count_over_time({sli.probe.render()}[{w}])) / {window}"
    return f"({substitute_window(sli.query_total, w)})"


def slice_good(sli: SLI) -> str:
    """One slice judged: 1 when good, 0 when bad (averaged: the slice's good ratio).

    A slice without a value is not a slice: a ratio with no traffic in it, or a metric
    returning nothing, yields no sample, so it is neither good nor bad.
    """
    ts = sli.timeslices
    assert ts is not None
    if ts.ratio is None:
        measured = f"({substitute_slice(ts.metric, format_duration(ts.slice))})"
        if ts.op is None:  # averaged: the worst series' value is the slice's good ratio
            return f"clamp(min{measured}, 0, 1)"
    else:
        total = total_tile(ts.ratio, ts.slice)
        assert total is not None
        errors = error_tile(ts.ratio, ts.slice, total)
        assert errors is not None
        measured = f"(\n  1 - (\n{_indent(errors, 4)}\n  )\n  /\n  ({total} > 0)\n)"
        if ts.op is None:
            return f"clamp({measured}, 0, 1)"
    assert ts.op is not None
    if ts.ratio is None:  # one slice per instant: good only when every series returned is
        return f"min({measured} {ts.op} bool {number(ts.threshold)})"
    return f"{measured} {ts.op} bool {number(ts.threshold)}"


def _judged(sli: SLI, window: int) -> str:
    """Every slice of the last ``window``, judged again (a subquery, for ad-hoc queries)."""
    ts = sli.timeslices
    assert ts is not None
    return f"({slice_good(sli)})[{format_duration(window)}:{format_duration(ts.slice)}]"


def _indent(text: str, by: int) -> str:
    return "\n".join(" " * by + line for line in text.splitlines())


def total_tile(sli: SLI, window: int) -> str | None:
    """All events/second over the last ``window``, read from the counters at both of its ends.

    Evaluated every ``window``, consecutive results tile time exactly, with no
    overlap, no gap and no extrapolation, so their sums over time count events
    as they happened. None for free-form queries, which only give rates.
    """
    if sli.kind == "ratio":
        assert sli.total is not None
        return _increase(sli.total, sli.group_by, window)
    if sli.kind == "latency":
        return _increase(Selector(f"{sli.histogram}_count", sli.matchers), sli.group_by, window)
    if sli.kind == "probe":
        return total_events(sli, window)  # counting samples in a range already tiles
    return None


def error_tile(sli: SLI, window: int, total: str) -> str | None:
    """Bad events/second over the last ``window``, tiling like ``total_tile``.

    ``total`` is the same window's total events with the group_by labels only
    (the recorded tile), so a missing error series with traffic present reads
    as zero errors without reading the raw totals a second time.
    """
    if sli.kind == "ratio" and sli.errors is not None:
        return f"{_increase(sli.errors, sli.group_by, window)}\nor\n0 * {total}"
    if sli.kind == "ratio":
        assert sli.good is not None
        return f"{total}\n-\n({_increase(sli.good, sli.group_by, window)} or 0 * {total})"
    if sli.kind == "latency":
        return f"{total}\n-\n({_increase(_bucket(sli), sli.group_by, window)} or 0 * {total})"
    if sli.kind == "probe":
        return error_events(sli, window)
    return None


def total_count(sli: SLI, interval: int, bridge: int) -> str:
    """All events since the previous evaluation ``interval`` ago (a calendar tile).

    Counters are read against their last value before ``interval`` ago within
    ``bridge``, so after a gap in the data (a Prometheus restart) the first tile
    counts the events of the whole gap once, and no later tile counts them again.
    """
    if sli.kind == "ratio":
        assert sli.total is not None
        return _bridged(sli.total, sli.group_by, interval, bridge)
    if sli.kind == "latency":
        count = Selector(f"{sli.histogram}_count", sli.matchers)
        return _bridged(count, sli.group_by, interval, bridge)
    if sli.kind == "probe":
        assert sli.probe is not None
        return f"sum(count_over_time({sli.probe.render()}[{format_duration(interval)}]))"
    return f"({substitute_window(sli.query_total, format_duration(interval))}) * {interval}"


def error_count(sli: SLI, interval: int, bridge: int, total: str) -> str:
    """Bad events of the same tile; ``total`` is the recorded total tile with group_by labels."""
    if sli.kind == "ratio" and sli.errors is not None:
        return f"{_bridged(sli.errors, sli.group_by, interval, bridge)}\nor\n0 * {total}"
    if sli.kind == "ratio":
        assert sli.good is not None
        good = _bridged(sli.good, sli.group_by, interval, bridge)
        return f"{total}\n-\n({good} or 0 * {total})"
    if sli.kind == "latency":
        good = _bridged(_bucket(sli), sli.group_by, interval, bridge)
        return f"{total}\n-\n({good} or 0 * {total})"
    if sli.kind == "probe":
        assert sli.probe is not None
        sel, w = sli.probe.render(), format_duration(interval)
        return f"sum(count_over_time({sel}[{w}]) - sum_over_time({sel}[{w}]))"
    w = format_duration(interval)
    errors = substitute_window(sli.query_errors, w)
    return f"(({errors})\nor\n0 * ({substitute_window(sli.query_total, w)})) * {interval}"


def _bridged(counter: Selector, group_by: tuple[str, ...], interval: int, bridge: int) -> str:
    sel = counter.render()
    before = f"last_over_time({sel}[{format_duration(bridge)}] offset {format_duration(interval)})"
    return sum_by(group_by, f"clamp_min({sel} - {before}, 0)")


def _increase(counter: Selector, group_by: tuple[str, ...], window: int) -> str:
    # After a counter reset the difference is negative: that tile counts no events.
    sel = counter.render()
    difference = f"clamp_min({sel} - {sel} offset {format_duration(window)}, 0)"
    return f"{sum_by(group_by, difference)} / {window}"


def bucket_bounds(threshold: float) -> list[str]:
    """How an ``le`` label can spell the threshold: "1" (Prometheus 2) or "1.0" (Prometheus 3)."""
    text = number(threshold)
    if float(threshold).is_integer():
        return [text, f"{text}.0"]
    return [text]


def _bucket(sli: SLI) -> Selector:
    bounds = bucket_bounds(sli.threshold)
    if len(bounds) == 1:
        le = Matcher(names.LABEL_BUCKET, "=", bounds[0])
    else:
        le = Matcher(names.LABEL_BUCKET, "=~", "|".join(b.replace(".", "\\.") for b in bounds))
    return Selector(f"{sli.histogram}_bucket", (*sli.matchers, le))


def absent_data(sli: SLI, window: int) -> str:
    """1 while the series the SLI counts are missing, nothing while they exist.

    What "the SLI's series" are: the ``total`` counter of a ratio (a missing error
    counter with traffic present is zero errors, not missing data), the ``_count``
    and the threshold bucket of a latency histogram, the probe's gauge, and the total
    query of a free-form SLI. For a ``group_by`` SLO this is every group at once: one
    group disappearing is also what removing a route looks like.
    """
    if sli.kind == "ratio":
        assert sli.total is not None
        return f"absent({sli.total.render()})"
    if sli.kind == "latency":
        count = Selector(f"{sli.histogram}_count", sli.matchers)
        return f"absent({count.render()})\nor on ()\nabsent({_bucket(sli).render()})"
    if sli.kind == "probe":
        assert sli.probe is not None
        return f"absent({sli.probe.render()})"
    if sli.kind == "timeslices":
        ts = sli.timeslices
        assert ts is not None
        if ts.ratio is not None:
            return absent_data(ts.ratio, window)
        return f"absent({substitute_slice(ts.metric, format_duration(ts.slice))})"
    return f"absent({substitute_window(sli.query_total, format_duration(window))})"
