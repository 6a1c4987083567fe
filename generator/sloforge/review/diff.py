"""What changed between two generated output trees, as Markdown a reviewer reads in a PR comment.

Both sides are output trees: directories, or the committed output directory
(``out/`` by default) of two git commits, read with ``git archive`` so no
worktree or checkout is touched. Everything is read back from the generated
files alone (objectives from ``slo:objective:ratio``, SLO windows from the
``slo:period_error_budget_remaining:ratio`` expression, alert details from the
rules), so the summary describes exactly what would be deployed.
"""

from __future__ import annotations

import difflib
import io
import re
import subprocess
import tarfile
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeGuard

import promql_parser
import yaml

from ..errors import SloforgeError
from ..model import calendar
from ..model import conventions as names
from ..model.durations import format_duration, parse_duration
from ..model.promql import PromQLError, number, parse
from ..output.writer import read_tree

RULES_PREFIX, RULES_SUFFIX = names.rules_file("\0").split("\0")
# `slo:sli_error:ratio_rate` + window: the record the budget-remaining rule reads over the period.
ERROR_RATIO_PREFIX = names.error_ratio_record(60).removesuffix(format_duration(60))
ALERTMANAGER_CONFIG = names.ALERTMANAGER_CONFIG
SLO_LEVEL = names.RECORD_OBJECTIVE.split(":", 1)[0] + ":"  # sloforge's own recordings
SLI_RECORD_PREFIX = SLO_LEVEL + "sli_"
GIT_TIMEOUT_SECONDS = 60
MAX_EXPR_DIFF_LINES = 12
MIN_ALIKE_TO_GROUP = 4  # this many alerts with the same changes are listed once
MAX_MARKDOWN_CHARS = 60_000  # GitHub refuses comments over 65536 characters
_COMPARISONS = frozenset({">", "<", ">=", "<=", "==", "!="})
# A bucket boundary matcher: le="0.5", or le=~"1|1\.0" for a whole number (both spellings).
_LE_RE = re.compile(r'\ble=~?"((?:[^"\\]|\\.)*)"')
_NUMBER_RE = re.compile(r"(?<![\w:.])\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w.])")
# Labels shown as their own change lines (or in the alert's title) rather than in "labels".
_ALERT_LABELS_SHOWN = (
    names.LABEL_SEVERITY,
    names.LABEL_SLO_TIER,
    names.LABEL_LONG_WINDOW,
    names.LABEL_SHORT_WINDOW,
)


class DiffError(SloforgeError):
    """A side of the diff cannot be read (not a directory, not a git commit, git failed)."""


# --- reading the two sides ----------------------------------------------------------


@dataclass(frozen=True)
class Side:
    label: str
    files: dict[str, bytes]
    note: str = ""


def open_side(arg: str, out_dir: str = "out", repo: Path = Path(".")) -> Side:
    """A directory if ``arg`` is one, else a git commit whose committed ``out_dir`` is read."""
    path = Path(arg)
    if path.is_dir():
        return Side(arg, read_tree(path))
    if not _is_commit(arg, repo):
        raise DiffError(f"{arg}: neither an output directory nor a git commit in {repo}")
    files = read_ref(arg, out_dir, repo)
    note = "" if files else f"`{arg}` has no committed `{out_dir}/`"
    return Side(arg, files, note)


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError:
        raise DiffError("git is not installed; compare two output directories instead") from None
    except subprocess.TimeoutExpired:
        raise DiffError(f"git {args[0]} took over {GIT_TIMEOUT_SECONDS}s") from None


def _is_commit(ref: str, repo: Path) -> bool:
    if ref.startswith("-"):
        return False
    return _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode == 0


def read_ref(ref: str, out_dir: str, repo: Path) -> dict[str, bytes]:
    """The files of ``out_dir`` as committed at ``ref`` (empty when it has none)."""
    out_dir = out_dir.strip("/")
    listed = _git(repo, "ls-tree", "-d", "--name-only", ref, "--", out_dir)
    if listed.returncode != 0 or not listed.stdout.strip():
        return {}
    archive = _git(repo, "archive", "--format=tar", ref, "--", out_dir)
    if archive.returncode != 0:
        message = archive.stderr.decode("utf-8", "replace").strip()
        raise DiffError(f"git archive {ref} {out_dir}: {message}")
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        for member in tar.getmembers():
            handle = tar.extractfile(member) if member.isfile() else None
            if handle is not None:
                files[member.name.removeprefix(out_dir + "/")] = handle.read()
    return dict(sorted(files.items()))


# --- reading generated files back -----------------------------------------------------


@dataclass(frozen=True)
class Rule:
    service: str
    group: str
    name: str
    expr: str
    for_: str
    labels: tuple[tuple[str, str], ...]
    annotations: tuple[tuple[str, str], ...]

    def label(self, name: str) -> str:
        return dict(self.labels).get(name, "")

    @property
    def slo(self) -> tuple[str, str] | None:
        service, slo = self.label(names.LABEL_SERVICE), self.label(names.LABEL_SLO)
        return (service, slo) if service and slo else None


@dataclass(frozen=True)
class Objective:
    ratio: float
    window: int | None  # seconds; None when the rules do not say
    calendar: str | None = None  # month or week: window is then its nominal length

    @property
    def period(self) -> str:
        if self.calendar is not None:
            return f"calendar {self.calendar}"
        return format_duration(self.window) if self.window is not None else "unknown"

    # The SLO's recording rules that read the user's metrics: what the SLI measures.
    sli: tuple[str, ...] = ()


RuleKey = tuple[str, ...]


@dataclass
class Snapshot:
    slos: dict[tuple[str, str], Objective] = field(default_factory=dict)
    alerts: dict[RuleKey, Rule] = field(default_factory=dict)
    records: dict[RuleKey, Rule] = field(default_factory=dict)
    routing: dict[str, Any] | None = None
    other: dict[str, bytes] = field(default_factory=dict)


def snapshot(files: Mapping[str, bytes]) -> Snapshot:
    snap = Snapshot()
    alert_seen: Counter[RuleKey] = Counter()
    record_seen: Counter[RuleKey] = Counter()
    for rel, content in sorted(files.items()):
        data = (
            _yaml(content) if rel.startswith(RULES_PREFIX) or rel == ALERTMANAGER_CONFIG else None
        )
        if rel.startswith(RULES_PREFIX) and rel.endswith(RULES_SUFFIX) and _is_rule_file(data):
            service = rel[len(RULES_PREFIX) : -len(RULES_SUFFIX)]
            for kind, rule in _rules(service, data):
                # Rules keep their identity by name and position, so an edited rule is
                # "changed" rather than one removed and one added.
                if kind == "alert":
                    base = (service, rule.name, rule.label(names.LABEL_SLO_TIER))
                    snap.alerts[(*base, str(alert_seen[base]))] = rule
                    alert_seen[base] += 1
                else:
                    base = (service, rule.group, rule.name)
                    snap.records[(*base, str(record_seen[base]))] = rule
                    record_seen[base] += 1
        elif rel == ALERTMANAGER_CONFIG and isinstance(data, dict):
            snap.routing = data
        else:
            snap.other[rel] = content
    snap.slos = _objectives(snap.records.values())
    return snap


def _yaml(content: bytes) -> Any:
    try:
        return yaml.safe_load(content.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError):
        return None


def _is_rule_file(data: Any) -> TypeGuard[dict[str, Any]]:
    return isinstance(data, dict) and isinstance(data.get("groups"), list)


def _rules(service: str, data: dict[str, Any]) -> Iterable[tuple[str, Rule]]:
    for group in data["groups"]:
        if not isinstance(group, dict):
            continue
        for raw in group.get("rules") or []:
            if not isinstance(raw, dict):
                continue
            kind = "alert" if "alert" in raw else "record"
            yield (
                kind,
                Rule(
                    service=service,
                    group=str(group.get("name", "")),
                    name=str(raw.get(kind, "")),
                    expr=str(raw.get("expr", "")).strip(),
                    for_=str(raw.get("for", "")),
                    labels=_pairs(raw.get("labels")),
                    annotations=_pairs(raw.get("annotations")),
                ),
            )


def _pairs(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        return ()
    return tuple(sorted((str(k), str(v)) for k, v in value.items()))


def _objectives(records: Iterable[Rule]) -> dict[tuple[str, str], Objective]:
    ratios: dict[tuple[str, str], float] = {}
    windows: dict[tuple[str, str], int | str] = {}
    slis: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for rule in records:
        slo = rule.slo
        if slo is None:
            continue
        if rule.name.startswith(SLI_RECORD_PREFIX) and _reads_user_metrics(rule.expr):
            slis.setdefault(slo, []).append((_record_window(rule.name), rule.expr))
        if rule.name == names.RECORD_OBJECTIVE:
            value = _constant(rule.expr)
            if value is not None:
                ratios[slo] = value
        elif rule.name == names.RECORD_BUDGET_REMAINING:
            window = _period_window(rule.expr)
            if window is not None:
                windows[slo] = window
    return {
        slo: _objective(ratio, windows.get(slo), _sli(slis.get(slo, [])))
        for slo, ratio in sorted(ratios.items())
    }


def _sli(records: list[tuple[int, str]]) -> tuple[str, ...]:
    """The SLI as its shortest-window recordings read it (longer ones follow the period)."""
    shortest = min((window for window, _ in records), default=0)
    return tuple(expr for window, expr in records if window == shortest)


def _record_window(name: str) -> int:
    """slo:sli_error_events:rate1m -> 60 (0 when the name ends in no duration)."""
    try:
        return parse_duration(re.sub(r"^.*?(\d+[smhdwy])$", r"\1", name))
    except ValueError:
        return 0


def _objective(ratio: float, window: int | str | None, sli: tuple[str, ...]) -> Objective:
    if isinstance(window, str):
        return Objective(ratio, calendar.NOMINAL[window], window, sli)  # type: ignore[index]
    return Objective(ratio, window, sli=sli)


def _reads_user_metrics(expr: str) -> bool:
    return any(
        isinstance(node, promql_parser.VectorSelector)
        and node.name
        and not str(node.name).startswith(SLO_LEVEL)
        for node in _nodes(expr)
    )


def _nodes(expr: str) -> list[Any]:
    try:
        tree = parse(expr)
    except PromQLError:
        return []
    found: list[Any] = []
    promql_parser.walk(tree, pre_visit=found.append)
    return found


def _constant(expr: str) -> float | None:
    """``vector(0.999)`` or ``0.999`` -> 0.999."""
    literals = [n for n in _nodes(expr) if isinstance(n, promql_parser.NumberLiteral)]
    return float(literals[0].val) if len(literals) == 1 else None


def _period_window(expr: str) -> int | str | None:
    """The period the budget rule reads: seconds, or ``month``/``week`` for a calendar period."""
    for node in _nodes(expr):
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            name = str(node.name)
            for kind in calendar.KINDS:
                if name == names.calendar_ratio_record(kind):
                    return kind
            if name.startswith(ERROR_RATIO_PREFIX):
                try:
                    return parse_duration(name.removeprefix(ERROR_RATIO_PREFIX))
                except ValueError:
                    return None
    return None


def thresholds(expr: str) -> list[str]:
    """The constants an expression compares with, in order: ``["> 0.0144", "> 0.05"]``."""
    found: list[str] = []
    for node in _nodes(expr):
        if not isinstance(node, promql_parser.BinaryExpr) or str(node.op) not in _COMPARISONS:
            continue
        if isinstance(node.rhs, promql_parser.NumberLiteral):
            text = f"{node.op} {number(float(node.rhs.val))}"
        elif isinstance(node.lhs, promql_parser.NumberLiteral):
            text = f"{number(float(node.lhs.val))} {node.op}"
        else:
            continue
        if text not in found:
            found.append(text)
    return found


def _shape(expr: str) -> str:
    """The expression with its numbers blanked: equal shapes differ in constants only
    (a bucket boundary is a constant too, whether written le="0.5" or le=~"1|1\\.0")."""
    return _NUMBER_RE.sub("N", _LE_RE.sub('le="N"', expr))


# --- comparing ------------------------------------------------------------------------


Change = Literal["added", "removed", "changed"]


@dataclass
class Report:
    old: Side
    new: Side
    sections: list[tuple[str, list[str]]] = field(default_factory=list)
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)

    def summary(self) -> str:
        """``1 SLO changed, 4 alert rules changed, 2 other files changed``, in section order."""
        order = {what: i for i, what in enumerate(_COUNTED)}
        keys = sorted(self.counts, key=lambda k: (order.get(k[0], len(order)), k[1]))
        return ", ".join(f"{_plural(self.counts[k], k[0])} {k[1]}".strip() for k in keys)

    def markdown(self) -> str:
        lines = [f"## sloforge diff: `{self.old.label}` → `{self.new.label}`", ""]
        notes = [f"> {note}" for note in (self.old.note, self.new.note) if note]
        lines += [*notes, ""] if notes else []
        if not self.sections:
            lines.append("No changes in the generated output.")
            return "\n".join(lines) + "\n"
        lines += [f"**{self.summary()}**", ""]
        for title, body in self.sections:
            lines += [f"### {title}", "", *body, ""]
        text = "\n".join(lines).rstrip("\n") + "\n"
        if len(text) > MAX_MARKDOWN_CHARS:
            text = _truncate(text, MAX_MARKDOWN_CHARS)
        return text


def _truncate(text: str, limit: int) -> str:
    """Cut at a line end below ``limit``, closing any code block or folded list left open."""
    text = text[: text.rfind("\n", 0, limit - 200)]
    if text.count("```") % 2:
        text += "\n```"
    if text.count("<details>") > text.count("</details>"):
        text += "\n\n</details>"
    return text + "\n\n… truncated; run `sloforge diff` locally for the rest.\n"


def diff(old: Side, new: Side) -> Report:
    if old.note and new.note:
        raise DiffError(f"neither side has output to compare: {old.note}, {new.note}")
    before, after = snapshot(old.files), snapshot(new.files)
    report = Report(old, new)
    slo_changes = _keyed_changes(before.slos, after.slos)
    whole = {key for key, change in slo_changes.items() if change != "changed"}
    retuned = {key for key, change in slo_changes.items() if change == "changed"}
    followed: Counter[tuple[str, str]] = Counter()
    records = _record_lines(before, after, whole, retuned, followed, report.counts)
    slos = _slo_lines(before, after, slo_changes, followed, report.counts)
    alerts = _alert_lines(before, after, whole, report.counts)
    routing = _routing_lines(before.routing, after.routing, report.counts)
    other = _other_lines(before.other, after.other, report.counts)
    for title, body in (
        ("SLOs", slos),
        ("Alerts", alerts),
        ("Recording rules", records),
        ("Routing (alertmanager.yml)", routing),
        ("Other generated files", other),
    ):
        if body:
            report.sections.append((title, body))
    return report


def _keyed_changes(old: Mapping[Any, Any], new: Mapping[Any, Any]) -> dict[Any, Change]:
    out: dict[Any, Change] = {}
    for key in sorted(set(old) | set(new)):
        if key not in old:
            out[key] = "added"
        elif key not in new:
            out[key] = "removed"
        elif old[key] != new[key]:
            out[key] = "changed"
    return out


_COUNTED = (
    "SLO",
    "alert rule",
    "recording rule",
    "routing change",
    "Alertmanager config",
    "other file",
)
Counts = Counter[tuple[str, str]]


def _count(counts: Counts, what: str, change: str) -> None:
    counts[(what, change)] += 1


# --- SLOs


def _slo_lines(
    before: Snapshot,
    after: Snapshot,
    changes: dict[tuple[str, str], Change],
    followed: Counter[tuple[str, str]],
    counts: Counts,
) -> list[str]:
    lines = []
    for key, change in changes.items():
        _count(counts, "SLO", change)
        name = f"`{key[0]}` / `{key[1]}`"
        if change == "changed":
            old, new = before.slos[key], after.slos[key]
            text = f"- **changed** {name}: {_objective_change(old, new)}"
            if followed[key]:
                what = "SLI" if (old.ratio, old.period) == (new.ratio, new.period) else "budget"
                verb = "follows" if followed[key] == 1 else "follow"
                text += f" ({_plural(followed[key], 'recording rule')} {verb} the new {what})"
        else:
            side = after if change == "added" else before
            value = side.slos[key]
            alerts = sum(1 for r in side.alerts.values() if r.slo == key)
            records = sum(1 for r in side.records.values() if r.slo == key)
            text = (
                f"- **{change}** {name}: objective {_percent(value.ratio)}: "
                f"budget {_budget(value)}{_per(value)} "
                f"({_plural(alerts, 'alert rule')}, {_plural(records, 'recording rule')})"
            )
        lines.append(text)
    return lines


def _objective_change(old: Objective, new: Objective) -> str:
    parts = []
    if old.sli != new.sli:
        parts.append(_sli_change("\n".join(old.sli), "\n".join(new.sli)))
    if old.ratio != new.ratio:
        parts.append(f"objective {_percent(old.ratio)} → {_percent(new.ratio)}")
    if old.period != new.period:
        parts.append(f"window {old.period} → {new.period}")
    if (old.ratio, old.window, old.calendar) == (new.ratio, new.window, new.calendar):
        return ", ".join(parts)
    if old.window == new.window and old.calendar == new.calendar:
        budget = f"budget {_budget(old)} → {_budget(new)}{_per(new)}"
    else:
        budget = f"budget {_budget(old)}{_per(old)} → {_budget(new)}{_per(new)}"
    return ", ".join(parts) + ": " + budget


_MATCHER_RE = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def _sli_change(old: str, new: str) -> str:
    """``latency threshold 2.5s → 1s`` when only label values changed, else a general line."""
    old, new = _LE_RE.sub(_plain_le, old), _LE_RE.sub(_plain_le, new)
    before, after = _MATCHER_RE.findall(old), _MATCHER_RE.findall(new)
    same_shape = _MATCHER_RE.sub("", old) == _MATCHER_RE.sub("", new)
    if not same_shape or [k for k, _ in before] != [k for k, _ in after]:
        return "SLI query changed"
    changed: dict[str, tuple[str, str]] = {}
    for (label, was), (_, now) in zip(before, after, strict=True):
        if was != now:
            changed.setdefault(label, (was, now))
    parts = [
        f"latency threshold {was}s → {now}s" if label == "le" else f"SLI `{label}` {was} → {now}"
        for label, (was, now) in changed.items()
    ]
    return ", ".join(parts) or "SLI query changed"


def _plain_le(match: re.Match[str]) -> str:
    """le=~"1|1\\.0" -> le="1": the boundary as written in the SLO."""
    return f'le="{match.group(1).split("|")[0].replace(chr(92), "")}"'


def _percent(ratio: float) -> str:
    return f"{number(round(ratio * 100, 6))}%"


def _budget(value: Objective) -> str:
    """The error budget in minutes per window, or as a share when the window is unknown."""
    if value.window is None:
        return _percent(1 - value.ratio)
    return number(round((1 - value.ratio) * value.window / 60, 2))


def _per(value: Objective) -> str:
    if value.calendar is not None:
        return f" minutes per {value.period} ({format_duration(value.window or 0)})"
    return (
        f" minutes per {format_duration(value.window)}"
        if value.window is not None
        else " of events"
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


# --- alerts and recording rules


def _title(rule: Rule) -> str:
    tier = rule.label(names.LABEL_SLO_TIER)
    windows = _windows(rule)
    detail = ", ".join(x for x in (tier, windows) if x)
    return f"`{rule.service}` **{rule.name}**" + (f" ({detail})" if detail else "")


def _windows(rule: Rule) -> str:
    long, short = rule.label(names.LABEL_LONG_WINDOW), rule.label(names.LABEL_SHORT_WINDOW)
    return f"{long}/{short}" if long and short else ""


def _alert_lines(
    before: Snapshot, after: Snapshot, whole: set[tuple[str, str]], counts: Counts
) -> list[str]:
    lines: list[str] = []
    alike = _alike_changes(before, after, whole)
    for key, change in _keyed_changes(before.alerts, after.alerts).items():
        rule = after.alerts[key] if change != "removed" else before.alerts[key]
        if rule.slo in whole:
            continue  # told on the SLO's line
        if change == "changed":
            details = _alert_changes(before.alerts[key], rule)
            if not details:
                continue
            group = alike.get(tuple(details), [])
            if len(group) >= MIN_ALIKE_TO_GROUP:
                if group[0] == key:
                    titles = [_title(after.alerts[k]) for k in group]
                    lines += _alike_lines("alert rules", ["  " + d for d in details], titles)
            else:
                lines.append(f"- **changed** {_title(rule)}")
                lines += ["  " + d for d in details]
        else:
            severity = rule.label(names.LABEL_SEVERITY) or "no severity"
            held = f", for {rule.for_}" if rule.for_ else ""
            lines.append(f"- **{change}** {_title(rule)}: {severity}{held}")
            if change == "added":
                lines += _code_block(rule.expr, "promql")
        _count(counts, "alert rule", change)
    return lines


def _alike_changes(
    before: Snapshot, after: Snapshot, whole: set[tuple[str, str]]
) -> dict[tuple[str, ...], list[RuleKey]]:
    """Changed alerts grouped by identical change lists (say, a new annotation on every alert)."""
    groups: dict[tuple[str, ...], list[RuleKey]] = {}
    for key in sorted(set(before.alerts) & set(after.alerts)):
        old, new = before.alerts[key], after.alerts[key]
        if new.slo in whole or old == new:
            continue
        groups.setdefault(tuple(_alert_changes(old, new)), []).append(key)
    return groups


def _alike_lines(what: str, details: list[str], titles: list[str]) -> list[str]:
    # Plain text: Markdown is not rendered inside an HTML line.
    which = ", ".join(t.replace("`", "").replace("**", "") for t in titles)
    return [
        f"- **changed** {len(titles)} {what} alike",
        *details,
        f"  <details><summary>which</summary>{which}</details>",
    ]


def _alert_changes(old: Rule, new: Rule) -> list[str]:
    out = []
    if thresholds(old.expr) != thresholds(new.expr):
        out.append(f"- threshold {_join(thresholds(old.expr))} → {_join(thresholds(new.expr))}")
    if old.for_ != new.for_:
        out.append(f"- for {old.for_ or 'none'} → {new.for_ or 'none'}")
    before, after = old.label(names.LABEL_SEVERITY), new.label(names.LABEL_SEVERITY)
    if before != after:
        out.append(f"- severity {before or 'none'} → {after or 'none'}")
    if _windows(old) != _windows(new):
        out.append(f"- windows {_windows(old) or 'none'} → {_windows(new) or 'none'}")
    labels = _mapping_changes(
        {k: v for k, v in old.labels if k not in _ALERT_LABELS_SHOWN},
        {k: v for k, v in new.labels if k not in _ALERT_LABELS_SHOWN},
    )
    if labels:
        out.append(f"- labels {labels}")
    changed = sorted(
        k for k, c in _keyed_changes(dict(old.annotations), dict(new.annotations)).items()
    )
    if changed:
        out.append(f"- annotations changed: {', '.join(changed)}")
    if _shape(old.expr) != _shape(new.expr):
        out += ["- expression:", *_expr_diff(old.expr, new.expr)]
    return out


def _join(items: list[str]) -> str:
    return ", ".join(items) if items else "none"


def _mapping_changes(old: Mapping[str, str], new: Mapping[str, str]) -> str:
    parts = []
    for key, change in _keyed_changes(old, new).items():
        if change == "added":
            parts.append(f"+`{key}={new[key]}`")
        elif change == "removed":
            parts.append(f"-`{key}={old[key]}`")
        else:
            parts.append(f"`{key}` {old[key]} → {new[key]}")
    return ", ".join(parts)


def _record_lines(
    before: Snapshot,
    after: Snapshot,
    whole: set[tuple[str, str]],
    retuned: set[tuple[str, str]],
    followed: Counter[tuple[str, str]],
    counts: Counts,
) -> list[str]:
    lines: list[str] = []
    changed: dict[RuleKey, list[str]] = {}
    for key, change in _keyed_changes(before.records, after.records).items():
        rule = after.records[key] if change != "removed" else before.records[key]
        if rule.slo in whole:
            continue
        old = before.records.get(key)
        if change == "changed" and old is not None:
            if (
                old.labels == rule.labels
                and rule.slo in retuned
                and _shape(old.expr) == _shape(rule.expr)
            ):
                followed[rule.slo] += 1  # the new budget, already told on the SLO's line
                continue
            changed[key] = _record_changes(old, rule)
        _count(counts, "recording rule", change)
    alike: dict[tuple[str, ...], list[RuleKey]] = {}
    for key, details in changed.items():
        alike.setdefault(tuple(details), []).append(key)
    for key, change in _keyed_changes(before.records, after.records).items():
        rule = after.records[key] if change != "removed" else before.records[key]
        if key in changed:
            group = alike[tuple(changed[key])]
            if len(group) < MIN_ALIKE_TO_GROUP:
                lines += [f"- **changed** {_record_title(rule)}", *changed[key]]
            elif group[0] == key:
                rules = [after.records[k] for k in group]
                lines += _alike_lines(
                    "recording rules", changed[key], [_record_title(r) for r in rules]
                )
        elif change != "changed" and rule.slo not in whole:
            lines.append(f"- **{change}** {_record_title(rule)}")
            if change == "added":
                lines += ["  " + line for line in _code_block(rule.expr, "promql")]
    return lines


def _record_changes(old: Rule, new: Rule) -> list[str]:
    out = []
    labels = _mapping_changes(dict(old.labels), dict(new.labels))
    if labels:
        out.append(f"  - labels {labels}")
    if old.expr != new.expr:
        out += ["  " + line for line in _expr_diff(old.expr, new.expr)]
    return out


def _record_title(rule: Rule) -> str:
    slo = rule.label(names.LABEL_SLO)
    where = f" (SLO `{slo}`)" if slo else ""
    return f"`{rule.service}` `{rule.name}`{where}"


def _expr_diff(old: str, new: str) -> list[str]:
    lines = [
        line
        for line in difflib.unified_diff(old.splitlines(), new.splitlines(), n=1, lineterm="")
        if not line.startswith(("---", "+++", "@@"))
    ]
    if len(lines) > MAX_EXPR_DIFF_LINES:
        hidden = len(lines) - MAX_EXPR_DIFF_LINES
        lines = [*lines[:MAX_EXPR_DIFF_LINES], f"  … {hidden} more lines"]
    return ["```diff", *lines, "```"]


def _code_block(expr: str, language: str) -> list[str]:
    lines = expr.splitlines() or [""]
    if len(lines) > MAX_EXPR_DIFF_LINES:
        lines = [*lines[:MAX_EXPR_DIFF_LINES], "…"]
    return [f"  ```{language}", *["  " + line for line in lines], "  ```"]


# --- routing


_ROUTE_FIELDS = (
    "receivers",
    "continue",
    "group_by",
    "group_wait",
    "group_interval",
    "repeat_interval",
    "mute_time_intervals",
    "active_time_intervals",
)


def _routing_lines(
    old: dict[str, Any] | None, new: dict[str, Any] | None, counts: Counts
) -> list[str]:
    if old is None and new is None:
        return []
    if old is None or new is None:
        change = "added" if old is None else "removed"
        _count(counts, "Alertmanager config", change)
        return [f"- **{change}** `{ALERTMANAGER_CONFIG}`"]
    lines: list[str] = []
    lines += _named_lines(
        "receiver", _by_name(old.get("receivers")), _by_name(new.get("receivers"))
    )
    old_routes, new_routes = _routes(old.get("route")), _routes(new.get("route"))
    old_fields = {k: _route_fields(v) for k, v in old_routes.items()}
    new_fields = {k: _route_fields(v) for k, v in new_routes.items()}
    for key, change in _keyed_changes(old_fields, new_fields).items():
        title = "default route" if key == ("(root)", "0") else f"route `{key[0]}`"
        if key[1] != "0":
            title += f" (#{int(key[1]) + 1})"
        if change == "changed":
            details = _mapping_changes(old_fields[key], new_fields[key])
            lines.append(f"- **changed** {title}: {details}")
        else:
            route = new_routes.get(key) or old_routes[key]
            receivers = ", ".join(f"`{r}`" for r in route["receivers"])
            word = "receivers" if len(route["receivers"]) > 1 else "receiver"
            lines.append(f"- **{change}** {title} → {word} {receivers}")
    intervals = ("time_intervals", "mute_time_intervals")
    old_times = {k: v for key in intervals for k, v in _by_name(old.get(key)).items()}
    new_times = {k: v for key in intervals for k, v in _by_name(new.get(key)).items()}
    lines += _named_lines("time interval", old_times, new_times)
    if old.get("inhibit_rules") != new.get("inhibit_rules"):
        before, after = len(old.get("inhibit_rules") or []), len(new.get("inhibit_rules") or [])
        lines.append(f"- **changed** inhibit rules ({before} → {after})")
    shown = {"receivers", "route", "inhibit_rules", *intervals}
    for key in sorted((set(old) | set(new)) - shown):
        if old.get(key) != new.get(key):
            lines.append(f"- **changed** `{key}`")
    if lines:
        counts[("routing change", "")] += len(lines)
    return lines


def _by_name(items: Any) -> dict[str, Any]:
    if not isinstance(items, list):
        return {}
    return {str(i.get("name")): i for i in items if isinstance(i, dict)}


def _named_lines(what: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    lines = []
    for name, change in _keyed_changes(old, new).items():
        if change == "changed":
            details = _mapping_changes(_flatten(old[name]), _flatten(new[name]))
            lines.append(f"- **changed** {what} `{name}`: {details}")
        else:
            value = new.get(name) or old[name]
            kinds = sorted(k for k in value if k != "name") if what == "receiver" else []
            lines.append(
                f"- **{change}** {what} `{name}`" + (f" ({', '.join(kinds)})" if kinds else "")
            )
    return lines


def _flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """Nested configuration as ``slack_configs[0].channel -> #payments`` pairs."""
    if isinstance(value, dict):
        out: dict[str, str] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        out = {}
        for i, item in enumerate(value):
            out.update(_flatten(item, f"{prefix}[{i}]"))
        return out
    return {prefix: _inline(value)}


def _routes(root: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """Every route, keyed by its matchers (and position among routes with the same ones).

    A fan-out (one route to several receivers) is compiled into sibling routes with the
    same matchers, each but the last with ``continue``; it is read back as one route with
    a ``receivers`` list, so a receiver added to or removed from it reads as a change.
    """
    found: dict[tuple[str, str], dict[str, Any]] = {}
    seen: Counter[str] = Counter()

    def visit(members: list[dict[str, Any]], ident: str) -> None:
        last = members[-1]
        route = {**members[0], "receivers": [str(m.get("receiver", "")) for m in members]}
        route.pop("receiver", None)
        route.pop("continue", None)
        if "continue" in last:
            route["continue"] = last["continue"]
        found[(ident, str(seen[ident]))] = route
        seen[ident] += 1
        for member in members:
            for group, child_ident in _fan_outs(member.get("routes")):
                visit(group, child_ident)

    if isinstance(root, dict):
        visit([root], "(root)")
    return found


def _fan_outs(routes: Any) -> list[tuple[list[dict[str, Any]], str]]:
    """Consecutive sibling routes with the same matchers, the earlier ones continuing."""
    groups: list[tuple[list[dict[str, Any]], str]] = []
    for route in routes if isinstance(routes, list) else []:
        if not isinstance(route, dict):
            continue
        ident = _matchers(route)
        if groups and groups[-1][1] == ident and groups[-1][0][-1].get("continue") is True:
            groups[-1][0].append(route)
        else:
            groups.append(([route], ident))
    return groups


def _matchers(route: dict[str, Any]) -> str:
    parts = [str(m) for m in route.get("matchers") or []]
    parts += [f'{k}="{v}"' for k, v in sorted((route.get("match") or {}).items())]
    parts += [f'{k}=~"{v}"' for k, v in sorted((route.get("match_re") or {}).items())]
    return ", ".join(parts) or "(any alert)"


def _route_fields(route: dict[str, Any]) -> dict[str, str]:
    return {k: _inline(route[k]) for k in _ROUTE_FIELDS if k in route}


def _inline(value: Any) -> str:
    """A configuration value as YAML writes it (``true``, ``[a, b]``), never a Python repr."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_inline(v)}" for k, v in value.items()) + "}"
    return str(value)


# --- everything else


def _other_lines(old: dict[str, bytes], new: dict[str, bytes], counts: Counts) -> list[str]:
    changes = _keyed_changes(old, new)
    if not changes:
        return []
    tally = Counter(changes.values())
    summary = ", ".join(f"{tally[c]} {c}" for c in ("added", "removed", "changed") if tally[c])
    for change in changes.values():
        _count(counts, "other file", change)
    lines = [f"<details><summary>{summary}</summary>", ""]
    lines += [f"- {change}: `{path}`" for path, change in changes.items()]
    return [*lines, "", "</details>"]
