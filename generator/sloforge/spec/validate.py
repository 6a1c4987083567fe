"""Stage 2: documents in, validated spec models out, with every problem of the run located."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import Location, Problem, excerpt
from ..model import conventions as names
from .bundle import Bundle, Located
from .limits import OWNED_ALERT_LABELS, limit_checks
from .loader import Document, PathKey, format_path
from .models import (
    API_VERSION,
    KINDS,
    AlertRoutingSpec,
    ServiceLevelsSpec,
    SettingsSpec,
    Spec,
)
from .partial import present, refused_fields, salvage
from .routing import routing_checks
from .scalars import as_written
from .severities import severity_checks
from .timeslices import timeslice_problems

FOREIGN_HINT = " (Sloth, Pyrra and OpenSLO documents are recognised by their own version)"

# Labels a group_by may not name: those sloforge writes on its rules and alerts (alertname
# is Prometheus' own, never on the source series) and the calendar-period slot.
RESERVED_LABELS = (OWNED_ALERT_LABELS - {names.LABEL_ALERTNAME}) | {names.LABEL_PERIOD_SLOT}


def validate_documents(documents: Iterable[Document]) -> tuple[Bundle, list[Problem]]:
    """Check sloforge/v1 documents (foreign ones were converted by spec/foreign first)."""
    bundle = Bundle()
    problems: list[Problem] = []
    for document in documents:
        located, errs = validate_document(document)
        problems.extend(errs)
        for item in located:
            _file(bundle, item, problems)
    problems.extend(_cross_checks(bundle))
    problems.extend(_target_checks(bundle))
    problems.extend(limit_checks(bundle))  # label names sloforge owns are checked there
    return bundle, problems


def _target_checks(bundle: Bundle) -> list[Problem]:
    """Settings may only name targets that exist (build/targets.py has one builder each)."""
    if bundle.settings is None:
        return []
    problems = []
    for i, target in present(bundle.settings.spec.targets):
        if target not in names.TARGETS:
            path = ("targets", i)
            hint = _did_you_mean(target, names.TARGETS)
            message = (
                f"unknown target {excerpt(target)}; choose from {', '.join(names.TARGETS)}{hint}"
            )
            problems.append(
                Problem(bundle.settings.document.locate(path), format_path(path), message)
            )
    return problems


def validate_document(document: Document) -> tuple[list[Located], list[Problem]]:
    data = document.data
    documents_in_a_list = isinstance(data, list) and all(isinstance(d, dict) for d in data)
    if documents_in_a_list and data and all("apiVersion" in d for d in data):
        return _validate_items(document)
    if not isinstance(data, dict):
        got = _kind_of(data)
        return [], [
            Problem(
                document.locate(()),
                "",
                f"a document must be a mapping with apiVersion and kind (got {got})",
            )
        ]
    wrong_type = _untyped_header(document)
    if wrong_type:
        return [], wrong_type
    problems = _header_problems(document)
    kind = data.get("kind")
    if kind not in KINDS:
        return [], problems
    # A wrong or missing apiVersion is one problem; the kind still says which model
    # the rest must follow, so its mistakes are reported in the same run.
    model = KINDS[kind]
    body = as_written(model, {**data, "apiVersion": API_VERSION}, document.written)
    try:
        spec = model.model_validate(body)
    except ValidationError as exc:
        problems += _without_misspelt_missing(
            [_problem(document, model, err) for err in exc.errors()]
        )
        kept = salvage(model, body)
        return ([Located(kept, document)] if kept is not None else []), problems
    return [Located(spec, document)], problems


def _header_problems(document: Document) -> list[Problem]:
    """apiVersion and kind: missing, unknown, or not ours."""
    data = document.data
    problems = []
    if "apiVersion" not in data:
        problems.append(
            Problem(
                document.locate(()),
                "apiVersion",
                f"missing required field `apiVersion` (use {API_VERSION})",
            )
        )
    elif data["apiVersion"] != API_VERSION:
        problems.append(
            Problem(
                document.locate(("apiVersion",)),
                "apiVersion",
                f"unknown apiVersion {excerpt(data['apiVersion'])}; sloforge reads {API_VERSION}"
                + FOREIGN_HINT,
            )
        )
    kind = data.get("kind")
    if kind not in KINDS:
        choices = ", ".join(KINDS)
        what = "missing required field `kind`" if kind is None else f"unknown kind {excerpt(kind)}"
        hint = _did_you_mean(str(kind), KINDS) if kind is not None else ""
        problems.append(
            Problem(document.locate(("kind",)), "kind", f"{what}; expected one of {choices}{hint}")
        )
    return problems


def _without_misspelt_missing(problems: list[Problem]) -> list[Problem]:
    """`objectve: 99` is one mistake: keep the spelling hint, drop "missing `objective`"."""
    hinted = {
        (p.path.rpartition(".")[0], p.message.rsplit("`", 2)[-2])
        for p in problems
        if p.message.startswith("unknown field") and p.message.endswith("`?")
    }
    return [
        p
        for p in problems
        if not (
            p.message.startswith("missing required field")
            and (p.path.rpartition(".")[0], p.path.rpartition(".")[2]) in hinted
        )
    ]


def _untyped_header(document: Document) -> list[Problem]:
    """apiVersion and kind must be text before anything can be looked up by them."""
    expected = {"apiVersion": f"the text {API_VERSION}", "kind": f"one of {', '.join(KINDS)}"}
    return [
        Problem(
            document.locate((key,)), key, f"must be {want} (got {_kind_of(document.data[key])})"
        )
        for key, want in expected.items()
        if key in document.data and not isinstance(document.data[key], str)
    ]


def _validate_items(document: Document) -> tuple[list[Located], list[Problem]]:
    """A YAML list of documents (as OpenSLO's SDK writes them): each is checked alone."""
    located: list[Located] = []
    problems: list[Problem] = []
    for i, item in enumerate(document.data):
        positions = {key[1:]: pos for key, pos in document.positions.items() if key[:1] == (i,)}
        written = {key[1:]: text for key, text in document.written.items() if key[:1] == (i,)}
        part = Document(document.file, document.index, item, positions, written=written)
        got, errs = validate_document(part)
        located.extend(got)
        problems.extend(errs)
    return located, problems


def _file(bundle: Bundle, item: Located, problems: list[Problem]) -> None:
    spec = item.spec
    if isinstance(spec, ServiceLevelsSpec):
        bundle.services.append(item)
        return
    attr = "routing" if isinstance(spec, AlertRoutingSpec) else "settings"
    previous: Located | None = getattr(bundle, attr)
    if previous is not None:
        where = previous.document.locate(())
        problems.append(
            Problem(
                item.document.locate(("kind",)),
                "kind",
                f"only one {spec.kind} document is allowed (another is at {where})",
            )
        )
        return
    setattr(bundle, attr, item)


def _cross_checks(bundle: Bundle) -> list[Problem]:
    problems: list[Problem] = []
    seen_services: dict[str, Location] = {}
    for item in sorted(bundle.services, key=lambda x: (x.document.file, x.document.index)):
        spec: ServiceLevelsSpec = item.spec
        doc = item.document
        where = doc.locate(("service",))
        if spec.service in seen_services:
            problems.append(
                Problem(
                    where,
                    doc.show(("service",)),
                    f"service `{spec.service}` is already defined at {seen_services[spec.service]}",
                )
            )
        else:
            seen_services[spec.service] = where
        problems.extend(_service_checks(spec, doc))
    problems.extend(routing_checks(bundle))
    problems.extend(severity_checks(bundle.settings, bundle.routing, bundle.services))
    return problems


def _service_checks(spec: ServiceLevelsSpec, doc: Document) -> list[Problem]:
    problems: list[Problem] = []

    def dup(kind: str, seen: dict[str, PathKey], key: str, path: PathKey) -> None:
        if key in seen:
            first = doc.locate(seen[key])
            problems.append(
                Problem(
                    doc.locate(path),
                    doc.show(path),
                    f"duplicate {kind} `{key}` (first at {first})",
                )
            )
        else:
            seen[key] = path

    slo_names: dict[str, PathKey] = {}
    alert_names: dict[str, PathKey] = {}
    for i, slo in present(spec.slos):
        repeated_slo = slo.name in slo_names
        dup("SLO name", slo_names, slo.name, ("slos", i, "name"))
        alert_name = slo.alerting.name or names.default_alert_name(spec.service, slo.name)
        if slo.alerting.name or not repeated_slo:  # a repeated SLO name already says it all
            dup("alert name", alert_names, alert_name, ("slos", i, "alerting", "name"))
        ratio, latency = slo.sli.ratio, slo.sli.latency
        measured = ratio or latency
        group_by = measured.group_by if measured is not None else []
        kind = "ratio" if ratio else "latency"
        for j, label in enumerate(group_by):
            if label in RESERVED_LABELS:
                path: PathKey = ("slos", i, "sli", kind, "group_by", j)
                problems.append(
                    Problem(
                        doc.locate(path),
                        doc.show(path),
                        f"`{label}` is set by sloforge and cannot be a group_by label",
                    )
                )
        problems.extend(timeslice_problems(slo, ("slos", i), doc))
        window_written = "window" not in refused_fields(slo)
        if slo.time_zone is not None and window_written and slo.window not in ("month", "week"):
            path = ("slos", i, "time_zone")
            problems.append(
                Problem(
                    doc.locate(path),
                    doc.show(path),
                    f"applies only to calendar periods (window: month or week; got window "
                    f"{slo.window})",
                )
            )
    for i, alert in present(spec.alerts):
        dup("alert name", alert_names, alert.name, ("alerts", i, "name"))
    refused = _refused_alert_names(spec, doc.data)
    for i, row in present(spec.dashboard.rows):
        for j, panel in present(row.panels):
            for k, alert_name in enumerate(panel.alerts):
                if refused is not None and alert_name not in {*alert_names, *refused}:
                    path = ("dashboard", "rows", i, "panels", j, "alerts", k)
                    problems.append(
                        Problem(
                            doc.locate(path),
                            doc.show(path),
                            f"`{alert_name}` is not an alert of this service"
                            + _did_you_mean(alert_name, alert_names),
                        )
                    )
    records: dict[str, PathKey] = {}
    for i, rule in present(spec.recording_rules):
        key = rule.record + str(sorted(rule.labels.items()))
        if key in records:
            path = ("recording_rules", i, "record")
            first = doc.locate(records[key])
            problems.append(
                Problem(
                    doc.locate(path),
                    doc.show(path),
                    f"duplicate recording rule `{rule.record}` (first at {first})",
                )
            )
        else:
            records[key] = ("recording_rules", i, "record")
    return problems


def _refused_alert_names(spec: ServiceLevelsSpec, data: Any) -> set[str] | None:
    """Alert names of the SLOs and alerts the models refused (reported already), read from the
    document as written: a panel naming one is not naming an unknown alert. None when a
    refused one has no readable name, so any name might be its."""
    found: set[str] = set()
    for key, items in (("slos", spec.slos), ("alerts", spec.alerts)):
        written = data.get(key) if isinstance(data, dict) else None
        for i, item in enumerate(items):
            if item is not None:
                continue
            raw = written[i] if isinstance(written, list) and i < len(written) else None
            name = _written_alert_name(key, raw, spec.service)
            if name is None:
                return None
            found.add(name)
    return found


def _written_alert_name(key: str, raw: Any, service: str) -> str | None:
    if not isinstance(raw, dict):
        return None
    if key == "alerts":
        return raw["name"] if isinstance(raw.get("name"), str) else None
    alerting = raw.get("alerting")
    if isinstance(alerting, dict) and isinstance(alerting.get("name"), str):
        return str(alerting["name"])
    return (
        names.default_alert_name(service, raw["name"]) if isinstance(raw.get("name"), str) else None
    )


# --- pydantic errors as located, readable problems ----------------------------------


def _problem(document: Document, model: type[Spec], error: Any) -> Problem:
    path = _data_path(document.data, error["loc"])
    kind = error["type"]
    message = error["msg"]
    field_name = path[-1] if path else ""
    if kind == "extra_forbidden":
        message = _unknown_field(str(field_name), model)
    elif kind == "missing":
        message = f"missing required field `{field_name}`"
    elif kind in ("value_error", "assertion_error"):
        message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    else:
        message = _lower_first(message) + _got(error)
    return Problem(document.locate(path), document.show(path), message)


def _data_path(data: Any, loc: tuple[Any, ...]) -> PathKey:
    """Keep the parts of pydantic's loc that index into the data (drop union branch tags)."""
    path: list[str | int] = []
    node = data
    for part in loc:
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            path.append(part)
            node = node[part]
        elif isinstance(part, str) and isinstance(node, dict) and not _looks_like_type(part):
            path.append(part)  # a missing field: name it, located at its parent
            node = None
    return tuple(path)


def _looks_like_type(part: str) -> bool:
    return (
        any(c in part for c in "[]()")
        or part in {"str", "int", "float", "bool", "list", "dict"}
        or part.startswith("function-")
    )


def _got(error: Any) -> str:
    value = error.get("input")
    if isinstance(value, dict | list):
        return f" (got a {_kind_of(value)})"
    return f" (got {excerpt(value)})"


def _kind_of(value: Any) -> str:
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, list):
        return "list"
    if value is None:
        return "nothing"
    return f"{type(value).__name__} {excerpt(value)}"


def _lower_first(text: str) -> str:
    text = text.replace("Input should be", "must be")
    text = text.replace("must be a valid dictionary", "must be a mapping")
    text = text.replace("must be a valid list", "must be a list")
    text = text.replace("must be a valid string", "must be text")
    return text[:1].lower() + text[1:]


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f", did you mean `{close[0]}`?" if close else ""


def _unknown_field(name: str, model: type[BaseModel]) -> str:
    owners = sorted(_field_owners(model).get(name, ()))
    top = name in model.model_fields
    if not owners and not top:
        return f"unknown field `{name}`" + _did_you_mean(name, _field_names(model))
    if len(owners) > 3:  # a common name (`name`, `for`): where it belongs is no help
        return f"unknown field `{name}` here"
    # a real field, one level off: `sli: {good: …}` for `sli: {ratio: {good: …}}`
    places = (["at the document's top level"] if top else []) + (
        ["under " + " or ".join(f"`{owner}`" for owner in owners)] if owners else []
    )
    return f"unknown field `{name}` here: it belongs " + " or ".join(places)


def _field_owners(model: type[BaseModel], seen: set[type] | None = None) -> dict[str, set[str]]:
    """Each nested field name -> the names of the fields whose mappings hold it."""
    seen = seen if seen is not None else set()
    if model in seen:
        return {}
    seen.add(model)
    out: dict[str, set[str]] = {}
    for name, info in model.model_fields.items():
        for sub in _models_in(info.annotation):
            for child, child_info in sub.model_fields.items():
                out.setdefault(child_info.alias or child, set()).add(info.alias or name)
            for child, owners in _field_owners(sub, seen).items():
                out.setdefault(child, set()).update(owners)
    return out


def _field_names(model: type[BaseModel], seen: set[type] | None = None) -> set[str]:
    """Every field name reachable from ``model``: the vocabulary for spelling hints."""
    seen = seen if seen is not None else set()
    if model in seen:
        return set()
    seen.add(model)
    out: set[str] = set()
    for name, info in model.model_fields.items():
        out.add(info.alias or name)
        for sub in _models_in(info.annotation):
            out |= _field_names(sub, seen)
    return out


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    found = []
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        found.append(annotation)
    for arg in getattr(annotation, "__args__", ()) or ():
        found.extend(_models_in(arg))
    origin = getattr(annotation, "__origin__", None)
    if origin is not None and origin is not annotation:
        found.extend(_models_in(origin))
    return found


def settings_or_default(bundle: Bundle) -> SettingsSpec:
    if bundle.settings is not None:
        return bundle.settings.spec
    return SettingsSpec(apiVersion="sloforge/v1", kind="Settings")
