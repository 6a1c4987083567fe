"""Validation of the severity catalog (Settings ``severities``) and of every severity named.

With a catalog, a severity is one of its names (or labels) wherever an alert or
a burn-rate tier gives one; without, any text is taken as the `severity` label
value. Each
burn-rate tier also needs an inhibition class (page or ticket), from the tier,
its catalog entry, or the `page`/`ticket` short form. Called from
``validate._cross_checks``; every problem is located where the user fixes it.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator

from ..errors import Problem
from ..model.durations import parse_duration
from .bundle import Located
from .loader import PathKey, format_path
from .models import ServiceLevelsSpec, SettingsSpec, SeverityLevelSpec, SLOSpec
from .partial import present, refused_fields

CLASSES = ("page", "ticket")


def severity_checks(
    settings_doc: Located | None, routing_doc: Located | None, services: Iterable[Located]
) -> list[Problem]:
    settings: SettingsSpec | None = settings_doc.spec if settings_doc else None
    # A refused document is salvaged (partial.py): gaps are None, and its catalog is
    # taken as far as it goes, never as a reason to refuse names it would define.
    indexed = dict(present(settings.severities)) if settings else {}
    catalog = list(indexed.values())
    problems: list[Problem] = []
    if settings_doc is not None and catalog:
        doc = settings_doc.document
        routing = routing_doc.spec if routing_doc else None
        receivers = [r.name for _, r in present(routing.receivers)] if routing else None
        for path, message in _catalog_errors(indexed, receivers):
            problems.append(Problem(doc.locate(path), format_path(path), message))
    where = settings_doc.document.file if settings_doc else ""
    for item in services:
        spec: ServiceLevelsSpec = item.spec
        for path, message in _service_errors(spec, catalog, where):
            problems.append(Problem(item.document.locate(path), item.document.show(path), message))
    return problems


def _catalog_errors(
    catalog: dict[int, SeverityLevelSpec], receivers: list[str] | None
) -> Iterator[tuple[PathKey, str]]:
    names: dict[str, int] = {}
    labels: dict[str, int] = {}
    for i, level in catalog.items():
        if level.name in names:
            first = names[level.name]
            yield (
                ("severities", i, "name"),
                (f"duplicate severity `{level.name}` (first is severities[{first}])"),
            )
        names.setdefault(level.name, i)
        label = level.label or level.name
        if label in labels:
            other = catalog[labels[label]].name
            path: PathKey = ("severities", i, "label" if level.label else "name")
            yield (
                path,
                (
                    f"severity label `{label}` is already {other}'s; each severity needs its own "
                    "label so routes and repeat intervals can tell them apart"
                ),
            )
        labels.setdefault(label, i)
    for i, level in catalog.items():
        owner = labels.get(level.name)
        if owner is not None and catalog[owner].name != level.name:
            yield (
                ("severities", i, "name"),
                (
                    f"`{level.name}` is also {catalog[owner].name}'s label; alerts may write "
                    "either, so a name must not be another severity's label"
                ),
            )
    known = list(names)
    for i, level in catalog.items():
        base: PathKey = ("severities", i)
        if level.escalate is not None:
            target = level.escalate.to
            if target == level.name:
                yield (*base, "escalate", "to"), f"`{level.name}` cannot escalate to itself"
            elif target not in names:
                yield (*base, "escalate", "to"), _unknown("severity", target, known)
            if _seconds(level.escalate.after) == 0:
                yield (*base, "escalate", "after"), "must be longer than 0s"
        for j, receiver in enumerate(level.receivers):
            if receivers is not None and receiver not in receivers:
                yield (*base, "receivers", j), _unknown("receiver", receiver, receivers)


def _seconds(text: str) -> int | None:
    try:
        return parse_duration(text)
    except (ValueError, TypeError):
        return None  # already reported by the model


def _shown(level: SeverityLevelSpec) -> str:
    label = level.label or level.name
    return level.name if label == level.name else f"{level.name} ({label})"


def _unknown(kind: str, name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"did you mean `{close[0]}`?" if close else f"defined: {', '.join(known) or 'none'}"
    return f"unknown {kind} `{name}`; {hint}"


def _service_errors(
    spec: ServiceLevelsSpec, catalog: list[SeverityLevelSpec], where: str
) -> Iterator[tuple[PathKey, str]]:
    by_name = {level.label or level.name: level for level in catalog}
    by_name.update({level.name: level for level in catalog})

    def unknown(path: PathKey, name: str) -> Iterator[tuple[PathKey, str]]:
        if catalog and name not in by_name:
            defined = ", ".join(_shown(level) for level in catalog)
            lower = {n.lower(): n for n in by_name}
            close = difflib.get_close_matches(name.lower(), list(lower), n=1, cutoff=0.6)
            hint = f"; did you mean `{lower[close[0]]}`?" if close else ""
            yield (
                path,
                (
                    f"unknown severity `{name}`; the severity catalog in {where} defines "
                    f"{defined}{hint}"
                ),
            )

    for i, slo in present(spec.slos):
        yield from _slo_errors(slo, ("slos", i), by_name, unknown)
    for i, alert in present(spec.alerts):
        if "severity" not in refused_fields(alert):  # an empty one is reported already
            yield from unknown(("alerts", i, "severity"), alert.severity)


Found = Iterator[tuple[PathKey, str]]


def _slo_errors(
    slo: SLOSpec,
    base: PathKey,
    by_name: dict[str, SeverityLevelSpec],
    unknown: Callable[[PathKey, str], Found],
) -> Found:
    alerting = slo.alerting
    for kind in CLASSES:
        policy = getattr(alerting, kind)
        if policy.severity:
            yield from unknown((*base, "alerting", kind, "severity"), policy.severity)
    if alerting.absent.severity is not None:
        yield from unknown((*base, "alerting", "absent", "severity"), alerting.absent.severity)
    if alerting.tiers is None:
        used = set(CLASSES)
    else:
        used = {t.severity for _, t in present(alerting.tiers) if t.severity in CLASSES}
    for kind in sorted(used):
        policy = getattr(alerting, kind)
        has_default = any(level.class_ == kind for level in by_name.values())
        as_written = not refused_fields(policy) and "tiers" not in refused_fields(alerting)
        if (
            by_name
            and as_written
            and not policy.severity
            and not policy.disable
            and not has_default
        ):
            yield (
                (*base, "alerting"),
                (
                    f"{kind} tiers need a severity from the catalog: give "
                    f"`alerting.{kind}.severity` or mark a catalog severity `class: {kind}`"
                ),
            )
    seen: dict[tuple[str, str, str], int] = {}
    for j, tier in present(alerting.tiers):
        path: PathKey = (*base, "alerting", "tiers", j)
        if tier.severity not in CLASSES and "severity" not in refused_fields(tier):
            refused = list(unknown((*path, "severity"), tier.severity))
            yield from refused
            level = by_name.get(tier.severity)
            if not refused and tier.class_ is None and (level is None or level.class_ is None):
                yield (
                    path,
                    (
                        f"a tier of severity `{tier.severity}` needs `class: page` or "
                        "`class: ticket` (a firing page silences the tickets of the same SLO)"
                        + (", here or on its catalog entry" if level is not None else "")
                    ),
                )
        elif tier.class_ is not None and tier.class_ != tier.severity:
            yield (
                (*path, "class"),
                (
                    f"`severity: {tier.severity}` is already the class; drop `class` or name a "
                    "severity"
                ),
            )
        key = (tier.severity, tier.long_window, tier.short_window)
        if key in seen:
            yield (
                path,
                (
                    f"same severity and windows as tiers[{seen[key]}]: the two alerts would carry "
                    "identical labels"
                ),
            )
        seen.setdefault(key, j)
