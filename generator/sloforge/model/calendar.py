"""Calendar-aligned SLO periods (``window: month`` or ``week``) and their PromQL.

The budget of a calendar period is counted from tiles: every budget
evaluation records the events of the last budget interval (a tile), and files
it under one of a few *slots*, chosen by the period the tile's midpoint falls
in (month number modulo 3, week number modulo 2). A period's budget is the sum
of its slot's tiles over the longest period (31d or 7d): the slot's tiles of
earlier periods are older than that range, so the sum starts afresh at every
boundary, with no self-referencing recording and nothing kept in memory. A
restart loses nothing recorded; a gap loses only the events nobody recorded.

PromQL on Prometheus 2.42 knows UTC only, so a time zone must keep one UTC
offset (no daylight saving time): the offset is added to ``time()``.
"""

from __future__ import annotations

import datetime
import functools
import zoneinfo
from dataclasses import dataclass
from typing import Literal

from .durations import parse_duration

CalendarKind = Literal["month", "week"]
KINDS: tuple[CalendarKind, ...] = ("month", "week")
NOMINAL = {"month": 30 * 86400, "week": 7 * 86400}  # the length burn-rate tiers are planned on
LONGEST = {"month": 31 * 86400, "week": 7 * 86400}  # the range the budget sums over
SLOTS = {"month": 3, "week": 2}  # a LONGEST range touches at most this many periods
MONDAY_SHIFT = 3 * 86400  # 1970-01-01 was a Thursday: time() + 3d counts weeks from a Monday
CHECKED_YEARS = range(2024, 2041)  # a zone must keep one UTC offset over these years


@dataclass(frozen=True)
class Calendar:
    kind: CalendarKind
    time_zone: str = "UTC"
    utc_offset: int = 0  # seconds east of UTC, the same all year

    @property
    def nominal(self) -> int:
        return NOMINAL[self.kind]

    @property
    def longest(self) -> int:
        return LONGEST[self.kind]

    @property
    def slots(self) -> int:
        return SLOTS[self.kind]

    def describe(self) -> str:
        """``calendar month (UTC)`` or ``calendar week (Asia/Tehran, UTC+03:30)``."""
        zone = "UTC" if self.time_zone == "UTC" else f"{self.time_zone}, {offset_text(self)}"
        return f"calendar {self.kind} ({zone})"

    def slot_expr(self, shift: int) -> str:
        """PromQL: the slot of the period holding ``time() - shift``, as a one-sample vector."""
        at = f"time() - {shift}" if shift else "time()"
        if self.utc_offset:
            at += f" + {self.utc_offset}" if self.utc_offset > 0 else f" - {-self.utc_offset}"
        if self.kind == "month":
            now = f"vector({at})"
            return f"(year({now}) * 12 + month({now})) % {self.slots}"
        return f"floor(vector(({at} + {MONDAY_SHIFT}) / {NOMINAL['week']})) % {self.slots}"

    def slot_at(self, t: float) -> int:
        """What ``slot_expr(0)`` evaluates to at Unix time ``t`` (for tests and checks)."""
        local = t + self.utc_offset
        if self.kind == "month":
            day = datetime.datetime.fromtimestamp(local, datetime.UTC)
            return (day.year * 12 + day.month) % self.slots
        return int((local + MONDAY_SHIFT) // NOMINAL["week"]) % self.slots

    def start(self, t: float) -> int:
        """The period boundary at or before Unix time ``t``: when the running period began."""
        local = datetime.datetime.fromtimestamp(t + self.utc_offset, datetime.UTC)
        midnight = datetime.datetime(local.year, local.month, local.day, tzinfo=datetime.UTC)
        if self.kind == "month":
            begun = midnight.replace(day=1)
        else:
            begun = midnight - datetime.timedelta(days=local.weekday())
        return int(begun.timestamp()) - self.utc_offset

    def next_start(self, t: float) -> int:
        """The first period boundary after Unix time ``t``, in Unix seconds."""
        local = datetime.datetime.fromtimestamp(t + self.utc_offset, datetime.UTC)
        if self.kind == "month":
            year, month = (
                (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
            )
            start = datetime.datetime(year, month, 1, tzinfo=datetime.UTC)
        else:
            midnight = datetime.datetime(local.year, local.month, local.day, tzinfo=datetime.UTC)
            start = midnight + datetime.timedelta(days=7 - local.weekday())
        return int(start.timestamp()) - self.utc_offset


def period_seconds(window: str) -> int:
    """An SLO ``window`` in seconds: a duration, or a calendar period's nominal length."""
    if window in NOMINAL:
        return NOMINAL[window]  # type: ignore[index]
    return parse_duration(window)


def offset_text(calendar: Calendar) -> str:
    sign = "+" if calendar.utc_offset >= 0 else "-"
    hours, rest = divmod(abs(calendar.utc_offset), 3600)
    return f"UTC{sign}{hours:02d}:{rest // 60:02d}"


@functools.lru_cache(maxsize=64)
def fixed_offset(zone: str) -> int:
    """The zone's one UTC offset in seconds; ValueError when unknown or when it changes."""
    if zone == "UTC":
        return 0
    try:
        info = zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {zone!r}: use an IANA name such as UTC or Asia/Tehran"
        ) from None
    seen: set[int] = set()
    day = datetime.datetime(CHECKED_YEARS.start, 1, 1, 12)
    last = datetime.datetime(CHECKED_YEARS.stop, 1, 1)
    while day < last:
        offset = info.utcoffset(day)
        seen.add(int(offset.total_seconds()) if offset is not None else 0)
        day += datetime.timedelta(days=1)
    if len(seen) > 1:
        shown = " and ".join(offset_text(Calendar("month", zone, s)) for s in sorted(seen))
        raise ValueError(
            f"time zone {zone!r} changes its UTC offset ({shown}, daylight saving time); "
            "PromQL on Prometheus 2.42 has no time-zone functions, so a calendar period needs "
            "a zone with one offset all year: use UTC or a fixed-offset zone (e.g. Asia/Tehran, "
            "Asia/Kolkata, Etc/GMT-1)"
        )
    return seen.pop()
