"""Validation of the AlertRouting document: references, reachability, secrets, target version.

Called from ``validate._cross_checks`` because some checks need the
ServiceLevels documents too (which severities do the generated alerts carry?).
Every problem is located in the routing document; coverage gaps are warnings.
"""

from __future__ import annotations

import difflib
import re
import zoneinfo
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from ..errors import Problem, excerpt
from ..model import conventions as names
from ..model.promql import Matcher
from ..model.receivers import check_receiver, configs, integration_blocks, parse_version
from ..model.routing import parse_matcher, route_matchers
from .bundle import Bundle
from .loader import Document, PathKey, format_path
from .models import AlertRoutingSpec, RouteSpec, ServiceLevelsSpec, SeverityLevelSpec
from .partial import present, refused_fields

_TIME_RE = re.compile(r"^([01]\d|2[0-4]):[0-5]\d$")


def is_catch_all(route: RouteSpec) -> bool:
    """A route that takes every alert and stops: nothing after it is ever reached."""
    return not route.matchers and not route.continue_


# --- checks --------------------------------------------------------------------------


def routing_checks(bundle: Bundle) -> list[Problem]:
    if bundle.routing is None:
        return []
    spec: AlertRoutingSpec = bundle.routing.spec
    doc: Document = bundle.routing.document
    catalog = [s for _, s in present(bundle.settings.spec.severities)] if bundle.settings else []
    bundle.warnings.extend(
        _coverage_warnings(spec, doc, [s.spec for s in bundle.services], catalog)
    )
    problems = []
    version = bundle.settings.spec.alertmanager_version if bundle.settings else None
    if bundle.settings is not None and version is not None:
        settings_doc = bundle.settings.document
        path: PathKey = ("alertmanager_version",)
        try:
            parse_version(version)
        except ValueError as exc:
            problems.append(Problem(settings_doc.locate(path), format_path(path), str(exc)))
            version = None
        given = spec.model_fields_set
        own = (  # a salvaged spec may have lost its field set
            spec.alertmanager_version
            if isinstance(given, set) and "alertmanager_version" in given
            else None
        )
        if version is not None and own is not None and own != version:
            problems.append(
                Problem(
                    doc.locate(path),
                    format_path(path),
                    f"is {own!r} but Settings (at {settings_doc.locate(path)}) says {version!r}; "
                    "give the Alertmanager version in one place",
                )
            )
    problems += [Problem(doc.locate(p), format_path(p), m) for p, m in _errors(spec, version)]
    return problems


def effective_version(routing: AlertRoutingSpec, settings_version: str | None) -> str:
    """Settings' alertmanager_version when given, else AlertRouting's (default 0.25)."""
    return settings_version or routing.alertmanager_version


def _errors(spec: AlertRoutingSpec, version: str | None = None) -> Iterator[tuple[PathKey, str]]:
    yield from _version_and_receivers(spec, version)
    receivers = [r.name for _, r in present(spec.receivers)]
    intervals = list(spec.time_intervals)
    yield from _reference(("default_receiver",), spec.default_receiver, "receiver", receivers)
    for i, route in present(spec.routes):
        base: PathKey = ("routes", i)
        for j, name in enumerate(route.receivers):
            yield from _reference((*base, "receivers", j), name, "receiver", receivers)
        for key in ("active_during", "mute_during"):
            for j, name in enumerate(getattr(route, key)):
                yield from _reference((*base, key, j), name, "time interval", intervals)
        yield from _matchers((*base, "matchers"), route.matchers)
    for j, name in enumerate(spec.mute_during):
        yield from _reference(("mute_during", j), name, "time interval", intervals)
    yield from _unreachable(spec.routes)
    for i, rule in present(spec.inhibit):
        for key in ("source_matchers", "target_matchers"):
            yield from _matchers(("inhibit", i, key), getattr(rule, key))
    for i, case in present(spec.expect):
        for j, name in enumerate(case.receivers):
            yield from _reference(("expect", i, "receivers", j), name, "receiver", receivers)
    yield from _time_intervals(spec)


def _version_and_receivers(
    spec: AlertRoutingSpec, settings_version: str | None = None
) -> Iterator[tuple[PathKey, str]]:
    try:
        version = parse_version(effective_version(spec, settings_version))
    except ValueError as exc:
        yield ("alertmanager_version",), str(exc)
        # The receivers are still checked, against the default version.
        version = parse_version(AlertRoutingSpec.model_fields["alertmanager_version"].default)
    seen: dict[str, int] = {}
    for i, receiver in present(spec.receivers):
        data = receiver.model_dump()
        if receiver.name in seen:
            yield (
                ("receivers", i, "name"),
                f"duplicate receiver `{receiver.name}` (first is receivers[{seen[receiver.name]}])",
            )
        seen.setdefault(receiver.name, i)
        for finding in check_receiver(data, version):
            yield ("receivers", i, *finding.path), finding.message
        if spec.smtp is None and "smtp" not in refused_fields(spec):
            yield from _email_needs_smtp(i, data)


def _email_needs_smtp(index: int, data: dict[str, Any]) -> Iterator[tuple[PathKey, str]]:
    for key, value in integration_blocks(data):
        if key != "email":
            continue
        for j, item in enumerate(configs(value)):
            path: PathKey = (
                ("receivers", index, key, j)
                if isinstance(value, list)
                else ("receivers", index, key)
            )
            if isinstance(item, dict) and not (item.get("smarthost") and item.get("from")):
                yield (
                    path,
                    "email needs `smarthost` and `from`, here or once in the top-level "
                    "`smtp` block",
                )


def _reference(
    path: PathKey, name: str, kind: str, known: list[str]
) -> Iterator[tuple[PathKey, str]]:
    if name in known:
        return
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"did you mean `{close[0]}`?" if close else f"defined: {', '.join(known) or 'none'}"
    plural = "time_intervals" if kind == "time interval" else "receivers"
    yield path, f"unknown {kind} `{name}`; {hint} (see `{plural}`)"


def _matchers(path: PathKey, matchers: dict[str, str] | list[str]) -> Iterator[tuple[PathKey, str]]:
    if isinstance(matchers, dict):
        return
    for j, text in enumerate(matchers):
        try:
            parse_matcher(text)
        except ValueError as exc:
            yield (*path, j), str(exc)


def _unreachable(routes: Sequence[RouteSpec | None]) -> Iterator[tuple[PathKey, str]]:
    for i, route in present(routes):
        if is_catch_all(route) and i + 1 < len(routes):
            for later in range(i + 1, len(routes)):
                yield (
                    ("routes", later),
                    f"unreachable: routes[{i}] has no matchers and no `continue`, "
                    "so it takes every alert first "
                    "(move it last, or give it matchers or `continue: true`)",
                )
            return


def _time_intervals(spec: AlertRoutingSpec) -> Iterator[tuple[PathKey, str]]:
    for name, entries in spec.time_intervals.items():
        for i, entry in present(entries):
            base: PathKey = ("time_intervals", name, i)
            for j, span in present(entry.times):
                bad = False
                for key in ("start_time", "end_time"):
                    value = getattr(span, key)
                    if not _TIME_RE.match(value):
                        bad = True
                        yield (
                            (*base, "times", j, key),
                            f"must be a time of day like 09:00 (got {excerpt(value)})",
                        )
                if not bad and span.start_time >= span.end_time:
                    yield (
                        (*base, "times", j),
                        f"start_time {span.start_time} must be before end_time {span.end_time}"
                        " (a range that crosses midnight is two ranges: up to 24:00, from 00:00)",
                    )
            for j, text in enumerate(entry.weekdays or []):
                problem = _weekday_problem(text)
                if problem:
                    yield (*base, "weekdays", j), problem
            if entry.location is not None:
                try:
                    zoneinfo.ZoneInfo(entry.location)
                except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                    yield (
                        (*base, "location"),
                        f"unknown time zone {entry.location!r} "
                        "(use an IANA name like Europe/Berlin)",
                    )


_WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")


def _weekday_problem(text: str) -> str | None:
    """Alertmanager takes a day or an inclusive range that does not wrap past Saturday."""
    days = text.lower().split(":")
    unknown = [d for d in days if d not in _WEEKDAYS]
    if unknown or len(days) > 2:
        return f"must be a weekday or a range like monday:friday (got {excerpt(text)})"
    if len(days) == 2 and _WEEKDAYS.index(days[0]) > _WEEKDAYS.index(days[1]):
        first, last = days
        head = first if first == "saturday" else f"{first}:saturday"
        tail = last if last == "sunday" else f"sunday:{last}"
        return (
            f"range {text!r} wraps past saturday; weeks run sunday to saturday here, "
            f"so split it: [{head}, {tail}]"
        )
    return None


# --- warnings ------------------------------------------------------------------------


def _coverage_warnings(
    spec: AlertRoutingSpec,
    doc: Document,
    services: Iterable[ServiceLevelsSpec],
    catalog: Iterable[SeverityLevelSpec] = (),
) -> list[Problem]:
    """Severities that alerts carry but no route names: only the default receiver gets them."""
    catalog = list(catalog)
    carriers = alert_severities(services, catalog)
    routed = [matchers for _, r in present(spec.routes) if (matchers := _parsed(r)) is not None]
    # A catalog severity with receivers has a route of its own.
    routed += [
        [Matcher(names.LABEL_SEVERITY, "=", s.label or s.name)] for s in catalog if s.receivers
    ]
    warnings = []
    for severity, owners in sorted(carriers.items()):
        if any(_routes_severity(matchers, severity) for matchers in routed):
            continue
        who = ", ".join(sorted(owners))
        warnings.append(
            Problem(
                doc.locate(("routes",)),
                "routes",
                f"no route matches severity `{severity}` (carried by alerts of {who}); "
                f"those alerts only reach the default receiver `{spec.default_receiver}`",
                warning=True,
            )
        )
    return warnings


def _parsed(route: RouteSpec) -> list[Matcher] | None:
    """A route's matchers, or None when they do not parse (an error reported elsewhere)."""
    try:
        return list(route_matchers(route.matchers))
    except ValueError:
        return None


def _routes_severity(matchers: list[Matcher], severity: str) -> bool:
    if not matchers:
        return True
    on_severity = [m for m in matchers if m.label == names.LABEL_SEVERITY]
    return bool(on_severity) and all(m.accepts(severity) for m in on_severity)


def alert_severities(
    services: Iterable[ServiceLevelsSpec], catalog: Iterable[SeverityLevelSpec] = ()
) -> dict[str, set[str]]:
    """severity label -> services whose generated or plain alerts carry it."""
    catalog = list(catalog)
    labels = {s.name: s.label or s.name for s in catalog}
    defaults = {
        kind: next((s.label or s.name for s in catalog if s.class_ == kind), default)
        for kind, default in (("page", names.PAGE_SEVERITY), ("ticket", names.TICKET_SEVERITY))
    }
    found: dict[str, set[str]] = {}

    def carry(name: str, service: str) -> None:
        found.setdefault(labels.get(name, name), set()).add(service)

    for service in services:
        for _, slo in present(service.slos):
            alerting = slo.alerting
            tiers = [t for _, t in present(alerting.tiers)] if alerting.tiers is not None else None
            kinds = {t.severity for t in tiers} if tiers is not None else {"page", "ticket"}
            for kind in ("page", "ticket"):
                policy = getattr(alerting, kind)
                if kind in kinds and not policy.disable:
                    if policy.severity:
                        carry(policy.severity, service.service)
                    else:
                        found.setdefault(defaults[kind], set()).add(service.service)
            for tier in tiers or ():
                if tier.severity not in ("page", "ticket"):
                    carry(tier.severity, service.service)
        for _, alert in present(service.alerts):
            carry(alert.severity, service.service)
    return found
