"""The alert routing as the builders see it: frozen, matchers parsed, names checked.

``spec/plan.py`` makes a ``Routing`` from a validated AlertRouting document;
``build/alertmanager.py`` and ``build/targets.py`` read only these types.
Matchers are the one ``promql.Matcher`` type; ``parse_matcher`` reads the
Alertmanager spelling (``severity="critical"``, ``team=~"pay.*"``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import excerpt
from .promql import Matcher

_MATCHER_RE = re.compile(
    r'^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|([^"\s{},]*))\s*$'
)


def parse_matcher(text: str) -> Matcher:
    """An Alertmanager matcher such as ``severity="critical"`` or ``team=~"pay.*"``."""
    match = _MATCHER_RE.match(text) if isinstance(text, str) else None
    if not match:
        raise ValueError(
            f'is not a matcher like severity="critical" or team=~"pay.*" (got {excerpt(text)})'
        )
    name, op, quoted, bare = match.groups()
    value = _unescape(quoted) if quoted is not None else bare
    if op in ("=~", "!~"):
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regular expression in {excerpt(text)}: {exc}") from None
    return Matcher(name, op, value)


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), text)


def route_matchers(matchers: Mapping[str, str] | list[str]) -> tuple[Matcher, ...]:
    """A route's matchers in one form: an equality map or a list of matcher strings."""
    if isinstance(matchers, Mapping):
        return tuple(Matcher(k, "=", v) for k, v in matchers.items())
    return tuple(parse_matcher(m) for m in matchers)


@dataclass(frozen=True)
class Timing:
    """Grouping and timing of notifications; None leaves Alertmanager's own default."""

    group_by: tuple[str, ...] | None = None
    group_wait: str | None = None  # durations as written, e.g. "30s"
    group_interval: str | None = None
    repeat_interval: str | None = None


@dataclass(frozen=True)
class Route:
    matchers: tuple[Matcher, ...]
    receivers: tuple[str, ...]  # fanned out in order
    timing: Timing = Timing()
    active_during: tuple[str, ...] = ()
    mute_during: tuple[str, ...] = ()
    continue_: bool = False


@dataclass(frozen=True)
class TimeRange:
    start_time: str
    end_time: str


@dataclass(frozen=True)
class TimeInterval:
    """One entry of a named time interval; None fields are left out."""

    times: tuple[TimeRange, ...] | None = None
    weekdays: tuple[str, ...] | None = None
    days_of_month: tuple[str, ...] | None = None
    months: tuple[str, ...] | None = None
    years: tuple[str, ...] | None = None
    location: str | None = None


@dataclass(frozen=True)
class Inhibit:
    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...] = ()


@dataclass(frozen=True)
class Expectation:
    """An ``expect:`` case: alert labels and the receivers they must reach, in order."""

    labels: tuple[tuple[str, str], ...]
    receivers: tuple[str, ...]


@dataclass(frozen=True)
class Smtp:
    smarthost: str
    from_: str
    hello: str | None = None
    auth_username: str | None = None
    auth_password_file: str | None = None
    require_tls: bool | None = None


@dataclass(frozen=True)
class Receiver:
    """A receiver and its integration blocks as the user wrote them (checked by receivers.py).

    ``blocks`` holds plain data (mappings, lists, scalars), frozen by convention:
    ``data()`` hands out a fresh copy each time.
    """

    name: str
    blocks: tuple[tuple[str, Any], ...] = ()

    def data(self) -> dict[str, Any]:
        return {"name": self.name, **{k: plain(v) for k, v in self.blocks}}


@dataclass(frozen=True)
class Routing:
    default_receiver: str
    receivers: tuple[Receiver, ...]
    routes: tuple[Route, ...] = ()
    defaults: Timing = Timing()
    smtp: Smtp | None = None
    time_intervals: tuple[tuple[str, tuple[TimeInterval, ...]], ...] = ()
    mute_during: tuple[str, ...] = ()  # on every route (never on the default receiver)
    inhibit: tuple[Inhibit, ...] = ()
    expect: tuple[Expectation, ...] = ()
    alertmanager_version: str = "0.25"


def plain(value: Any) -> Any:
    """A fresh copy of YAML-like data: mappings with text keys, lists, JSON scalars.

    Anything else (a date YAML parsed, say) becomes its text, as JSON would write it.
    """
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    return str(value)
