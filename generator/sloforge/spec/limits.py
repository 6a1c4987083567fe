"""Checks beyond the models: what promtool or amtool would refuse, and what would compile
to silently wrong output. Each check reads the validated spec models and the document
positions; ``validate_documents`` runs them all once every document has been read.

- durations beyond Prometheus' range, and zero where a window or interval must be positive;
- label names Prometheus reserves (``__*``) and labels sloforge sets on an alert;
- a burn-rate tier that needs an error ratio of 100% or more (it can never fire), and an
  objective written as a fraction (``0.999`` for 99.9);
- links that are not http(s): runbook and dashboard base URLs, receiver URLs.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any

import yaml

from ..errors import Problem, excerpt
from ..model import conventions as names
from ..model import gotemplate
from ..model.calendar import period_seconds
from ..model.durations import format_duration, parse_duration
from ..model.gotemplate import PROMETHEUS_VARIABLES
from ..model.promql import number
from ..model.receivers import configs, integration_blocks
from .loader import Document, PathKey
from .models import AlertRoutingSpec, ServiceLevelsSpec, SettingsSpec
from .partial import present, refused_fields

Finding = tuple[PathKey, str]

# Prometheus and Alertmanager keep durations as int64 milliseconds.
MAX_DURATION_SECONDS = (2**63 - 1) // 1000

# Labels sloforge writes on every alert it generates; a user's label may not replace them.
OWNED_ALERT_LABELS = frozenset(
    {
        names.LABEL_ALERTNAME,
        names.LABEL_SERVICE,
        names.LABEL_SLO,
        names.LABEL_TEAM,
        names.LABEL_SEVERITY,
        names.LABEL_LONG_WINDOW,
        names.LABEL_SHORT_WINDOW,
        names.LABEL_SLO_TIER,
    }
)
WEB_SCHEMES = ("http", "https")


def limit_checks(bundle: Any) -> list[Problem]:
    """Every finding for a validate.Bundle (typed loosely: validate imports this module)."""
    problems: list[Problem] = []
    found: list[tuple[Document, Iterator[Finding]]] = [
        (item.document, _service(item.spec)) for item in bundle.services
    ]
    if bundle.routing is not None:
        found.append((bundle.routing.document, _routing(bundle.routing.spec)))
    if bundle.settings is not None:
        found.append((bundle.settings.document, _settings(bundle.settings.spec)))
    # A refused document is salvaged type-safely (partial.py): every value kept has its
    # field's type, so the checks run on it as on any other.
    for document, findings in found:
        for path, message in findings:
            problems.append(Problem(document.locate(path), document.show(path), message))
    return problems


# --- services ----------------------------------------------------------------------------------


def _service(spec: ServiceLevelsSpec) -> Iterator[Finding]:
    yield from _label_names(("labels",), spec.labels, owned=True)
    for i, slo in present(spec.slos):
        base: PathKey = ("slos", i)
        if "objective" in refused_fields(slo):
            continue  # reported already, and the checks below start from it
        yield from _objective(slo.objective, (*base, "objective"))
        yield from _duration(slo.window, (*base, "window"), positive=True)
        yield from _label_names((*base, "labels"), slo.labels, owned=True)
        alerting = slo.alerting
        yield from _label_names((*base, "alerting", "labels"), alerting.labels, owned=True)
        for kind in ("page", "ticket"):
            policy = getattr(alerting, kind)
            yield from _label_names((*base, "alerting", kind, "labels"), policy.labels, owned=True)
        for j, tier in present(alerting.tiers):
            for key in ("long_window", "short_window"):
                path = (*base, "alerting", "tiers", j, key)
                yield from _duration(getattr(tier, key), path, positive=True)
            tier_labels = (*base, "alerting", "tiers", j, "labels")
            yield from _label_names(tier_labels, tier.labels, owned=True)
        if 1 < slo.objective < 100 and _plannable(slo):
            yield from _tiers_that_cannot_fire(slo, base)
    for i, alert in present(spec.alerts):
        yield from _duration(alert.for_, ("alerts", i, "for"), positive=False)
        yield from _label_names(("alerts", i, "labels"), alert.labels, owned=True)
    for i, rule in present(spec.recording_rules):
        yield from _label_names(("recording_rules", i, "labels"), rule.labels, owned=False)
    yield from _templates(spec)


def _templates(spec: ServiceLevelsSpec) -> Iterator[Finding]:
    """Every value Prometheus expands as a Go template on an alert (labels, annotations, the
    owner and severities, which become labels) must parse, or promtool refuses the file."""
    texts: list[tuple[PathKey, Any]] = [(("owner",), spec.owner)]
    texts += [(("labels", k), v) for k, v in spec.labels.items()]
    for i, slo in present(spec.slos):
        base: PathKey = ("slos", i)
        alerting = slo.alerting
        texts += [((*base, "labels", k), v) for k, v in slo.labels.items()]
        for key in ("labels", "annotations"):
            texts += [((*base, "alerting", key, k), v) for k, v in getattr(alerting, key).items()]
        for kind in ("page", "ticket"):
            policy = getattr(alerting, kind)
            texts.append(((*base, "alerting", kind, "severity"), policy.severity))
            for key in ("labels", "annotations"):
                where = (*base, "alerting", kind, key)
                texts += [((*where, k), v) for k, v in getattr(policy, key).items()]
        for j, tier in present(alerting.tiers):
            where = (*base, "alerting", "tiers", j)
            texts.append(((*where, "severity"), tier.severity))
            for key in ("labels", "annotations"):
                texts += [((*where, key, k), v) for k, v in getattr(tier, key).items()]
    for i, alert in present(spec.alerts):
        for key in ("severity", "summary", "description"):
            texts.append((("alerts", i, key), getattr(alert, key)))
        for key in ("labels", "annotations"):
            texts += [(("alerts", i, key, k), v) for k, v in getattr(alert, key).items()]
    for path, text in texts:
        if isinstance(text, str) and "{{" in text:
            try:
                gotemplate.check(text, gotemplate.PROMETHEUS_FUNCTIONS, PROMETHEUS_VARIABLES)
            except gotemplate.TemplateError as exc:
                yield path, f"Prometheus cannot parse this template: {exc}"


def _plannable(slo: Any) -> bool:
    """Every field the tiers depend on as written, custom tiers complete and with positive
    windows (otherwise they are reported already)."""
    alerting = slo.alerting
    tiers = alerting.tiers or []
    parts = [slo, alerting, alerting.page, alerting.ticket, *tiers]
    if any(part is None or refused_fields(part) for part in parts):
        return False
    return all(parse_duration(tier.short_window) > 0 for tier in tiers)


def _objective(objective: float, path: PathKey) -> Iterator[Finding]:
    if 0 < objective <= 1:
        percent = objective * 100
        hint = f"; did you mean {number(round(percent, 9))}?" if percent < 100 else ""
        yield path, f"is a percentage, so {number(objective)} means {number(objective)}%{hint}"


def _tiers_that_cannot_fire(slo: Any, base: PathKey) -> Iterator[Finding]:
    """A tier fires when the error ratio exceeds burn rate x error budget: at 1 or more it never
    can, whatever happens."""
    budget = 1 - slo.objective / 100
    for index, kind, long_window, burn in _tier_burn_rates(slo):
        threshold = burn * budget
        if threshold < 1:
            continue
        message = (
            f"the {kind} tier {number(burn)}x over {format_duration(long_window)} fires only "
            f"above an error ratio of {number(round(threshold * 100, 3))}%, which can never happen"
        )
        if index is None:
            yield (
                (*base, "objective"),
                message + " with this objective; set alerting.tiers with lower burn rates",
            )
        else:
            yield (*base, "alerting", "tiers", index), message + "; lower its burn rate"


def _tier_burn_rates(slo: Any) -> Iterator[tuple[int | None, str, int, float]]:
    """(index in alerting.tiers or None for a default tier, kind, long window, burn rate) of
    every tier plan.py would build, computed the same way."""
    period = period_seconds(slo.window)
    alerting = slo.alerting
    if alerting.tiers is None:
        chosen: list[tuple[int | None, dict[str, Any]]] = [
            (None, t) for t in _default_tiers() if parse_duration(t["long_window"]) <= period
        ]
    else:
        chosen = [(j, t.model_dump()) for j, t in enumerate(alerting.tiers)]
    for index, tier in chosen:
        # A ladder tier names a severity; its class (page/ticket) may come from the catalog.
        kind = tier["severity"] if tier["severity"] in ("page", "ticket") else tier.get("class_")
        if kind in ("page", "ticket") and getattr(alerting, kind).disable:
            continue
        long_window = parse_duration(tier["long_window"])
        if tier.get("burn_rate") is not None:
            burn = float(tier["burn_rate"])
        elif tier.get("error_rate") is not None:
            burn = float(tier["error_rate"]) / 100 / (1 - slo.objective / 100)
        elif tier.get("budget_consumed") is not None:
            burn = float(tier["budget_consumed"]) / 100 * period / long_window
        else:
            continue  # neither given: reported by the model
        yield index, tier["severity"], long_window, burn


@cache
def _default_tiers() -> list[dict[str, Any]]:
    text = resources.files("sloforge").joinpath("model/data/tiers.yaml").read_text(encoding="utf-8")
    tiers: list[dict[str, Any]] = yaml.safe_load(text)["tiers"]
    return tiers


# --- labels ------------------------------------------------------------------------------------


def _label_names(path: PathKey, labels: Mapping[str, str], owned: bool) -> Iterator[Finding]:
    for label in labels:
        if label.startswith("__"):
            yield (
                (*path, label),
                "label names starting with __ are reserved for Prometheus' own use",
            )
        elif owned and label in OWNED_ALERT_LABELS:
            yield (*path, label), f"`{label}` is set by sloforge; choose another label name"
        elif label == names.LABEL_ALERTNAME:
            yield (*path, label), "`alertname` is set by Prometheus; choose another label name"


# --- durations ---------------------------------------------------------------------------------


def _duration(text: str, path: PathKey, positive: bool) -> Iterator[Finding]:
    try:
        seconds = parse_duration(text)
    except ValueError:
        return  # the model reported it
    if seconds > MAX_DURATION_SECONDS:
        yield path, f"{text} is beyond the longest duration Prometheus can hold (about 292 years)"
    elif positive and seconds == 0:
        yield path, f"must be longer than zero (got {text})"


# --- routing -----------------------------------------------------------------------------------


def _routing(spec: AlertRoutingSpec) -> Iterator[Finding]:
    timings: list[tuple[PathKey, Any]] = [(("defaults",), spec.defaults)]
    timings += [(("routes", i), route) for i, route in present(spec.routes)]
    for base, timing in timings:
        for key in ("group_wait", "group_interval", "repeat_interval"):
            value = getattr(timing, key)
            if value is not None:
                yield from _duration(value, (*base, key), positive=key != "group_wait")
    for i, receiver in present(spec.receivers):
        data = receiver.model_dump(by_alias=True)
        for key, value in integration_blocks(data):
            for j, item in enumerate(configs(value)):
                block: PathKey = ("receivers", i, key)
                yield from _urls((*block, j) if isinstance(value, list) else block, item)


def _urls(path: PathKey, node: Any) -> Iterator[Finding]:
    """Every field named like a URL, at any depth of an integration block (http_config's
    proxy_url and token_url included). Values holding a notification template are left to it."""
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if isinstance(value, dict):
            yield from _urls((*path, key), value)
        elif _names_a_url(key) and isinstance(value, str) and "{{" not in value:
            problem = web_url_problem(value)
            if problem:
                yield (*path, key), problem


def _names_a_url(key: Any) -> bool:
    return isinstance(key, str) and (
        key == "url" or key.endswith("_url") or key in ("title_link", "client_url")
    )


def web_url_problem(text: str) -> str | None:
    """Why ``text`` is not an absolute http(s) URL, or None."""
    if any(ord(c) < 33 or ord(c) == 127 for c in text):
        return f"must not contain spaces or control characters (got {excerpt(text)})"
    parts = urllib.parse.urlsplit(text.strip())
    if parts.scheme.lower() not in WEB_SCHEMES:
        scheme = f"`{parts.scheme}:` " if parts.scheme else "no scheme "
        return f"must be an http:// or https:// URL (got {scheme}in {excerpt(text)})"
    if not parts.netloc:
        return f"must name a host, like https://example.com/ (got {excerpt(text)})"
    return None


# --- settings ----------------------------------------------------------------------------------


def _settings(spec: SettingsSpec) -> Iterator[Finding]:
    for key in ("runbook_base_url", "dashboard_base_url"):
        value = getattr(spec, key)
        if value is not None:
            problem = web_url_problem(value)
            if problem:
                yield (key,), problem
