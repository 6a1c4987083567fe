"""Bringing Sloth, Pyrra and OpenSLO repositories over: `sloforge import` on files and trees,
kept labels, the migration report, and the converted alerts checked against what each
source tool documents it would generate."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from sloforge.migrate.importer import import_paths
from sloforge.model.durations import format_duration, parse_duration
from sloforge.pipeline import build_outputs, load
from sloforge_testlib import sloforge

FOREIGN = Path(__file__).resolve().parent / "fixtures" / "foreign"

# One fixture per class of real-world document that used to be refused or mislocated.
CLASSES = {
    "a Sloth alerting.labels severity": "sloth/alerting-severity.yml",
    "a trailing empty document": "sloth/trailing-separator.yml",
    "a kubectl List with cluster fields and an offset": "pyrra/kubectl-list.yaml",
    "OpenSLO references across files": "openslo/references",
    "an OpenSLO calendar month": "openslo/calendar-window.yaml",
    "OpenSLO Timeslices over a ratio": "openslo/timeslices-ratio.yaml",
    "OpenSLO Timeslices over a threshold metric, in 5-minute slices": (
        "openslo/timeslices-threshold.yaml"
    ),
    "OpenSLO RatioTimeslices": "openslo/ratio-timeslices-window.yaml",
    "OpenSLO v1alpha Timeslices": "openslo/timeslices-v1alpha.yaml",
}


# --- the classes of documents ----------------------------------------------------------------


def test_a_sloth_alerting_severity_is_each_tiers_severity_unless_a_tier_sets_its_own():
    (result,) = import_paths([FOREIGN / "sloth/alerting-severity.yml"])
    alerting = result.documents[0]["slos"][0]["alerting"]
    assert alerting["labels"] == {"team_channel": "basket"}
    assert alerting["page"] == {"severity": "high"}
    assert alerting["ticket"] == {"severity": "low"}


def test_a_reserved_label_in_sloth_alerting_labels_is_located_there(tmp_path):
    source = tmp_path / "sloth.yml"
    text = (FOREIGN / "sloth/alerting-severity.yml").read_text()
    source.write_text(text.replace("team_channel: basket", "slo: basket"))
    result = sloforge("import", str(source))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{source}:16:9: slos[0].alerting.labels.slo: `slo` is set by sloforge; choose another "
        "label name",
        "1 problem in 1 file",
    ]


def test_cluster_fields_are_ignored_and_an_offset_is_kept_on_every_window():
    (result,) = import_paths([FOREIGN / "pyrra/kubectl-list.yaml"])
    errors, latency = result.documents
    assert errors["service"] == "storefront-errors" and errors["owner"] == "storefront"
    assert errors["slos"][0]["sli"]["query"] == {
        "errors": (
            'sum(rate(http_requests_total{job="storefront", code=~"5.."}[$window] offset 2m))'
        ),
        "total": 'sum(rate(http_requests_total{job="storefront"}[$window] offset 2m))',
    }
    assert latency["slos"][0]["sli"]["latency"]["threshold"] == 0.5


def test_openslo_references_resolve_and_problems_point_into_the_referred_file(tmp_path):
    tree = tmp_path / "openslo"
    tree.mkdir()
    for path in (FOREIGN / "openslo/references").iterdir():
        (tree / path.name).write_text(path.read_text())
    (result, *_) = [r for r in import_paths([tree]) if r.converted]
    tiers = result.documents[0]["slos"][0]["alerting"]["tiers"]
    assert [(t["long_window"], t["short_window"], t["burn_rate"]) for t in tiers] == [
        ("1h", "5m", 14.4),
        ("1d", "2h", 3),
    ]
    policy = tree / "policy.yaml"
    policy.write_text(policy.read_text().replace("threshold: 14.4", "threshold: 0"))
    outcome = sloforge("validate", str(tree))
    line = policy.read_text().splitlines().index("    threshold: 0") + 1
    assert outcome.stderr.splitlines()[0] == (
        f"{policy}:{line}:5: spec.condition.threshold: must be greater than 0 (got 0.0)"
    )


# --- the command ---------------------------------------------------------------------------


def test_one_file_prints_its_conversion_with_the_differences_as_comments():
    result = sloforge("import", str(FOREIGN / "sloth/trailing-separator.yml"))
    assert result.returncode == 0, result.stderr
    header = [line for line in result.stdout.splitlines() if line.startswith("#")]
    assert header == [
        f"# Converted by `sloforge import sloth` from {FOREIGN / 'sloth/trailing-separator.yml'}. "
        "Review, then commit it as your source.",
        "# differs from Sloth: query-availability: the SLI over the period weighs every event "
        "equally",
        "# differs from Sloth: query-availability: one alert rule per window pair instead of one "
        "per severity",
        "# differs from Sloth: query-availability: sloth_service, sloth_slo, sloth_id and "
        "sloth_severity labels are gone",
        "# differs from Sloth: query-availability: page and ticket alerts gain a severity label "
        "(critical, warning)",
    ]
    assert yaml.safe_load(result.stdout)["service"] == "search"


def _tree(root: Path) -> Path:
    """A repository of several tools' files, one refused and one with nothing to convert."""
    for fixture in (
        "sloth/http-events.yml",
        "pyrra/kubectl-list.yaml",
        "pyrra/native-latency.yaml",
        "openslo/parts-only.yaml",
        "openslo/references/slo.yaml",
        "openslo/references/sli.yaml",
        "openslo/references/policy.yaml",
    ):
        target = root / fixture
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text((FOREIGN / fixture).read_text())
    (root / "kustomization.yaml").write_text("resources: [sloth/http-events.yml]\n")
    return root


def test_a_tree_converts_to_a_mirrored_tree_a_summary_and_a_report(tmp_path):
    tree = _tree(tmp_path / "monitoring")
    out = tmp_path / "converted"
    result = sloforge("import", str(tree), "--out", str(out))
    assert result.returncode == 1, result.stderr  # one file is refused
    lines = result.stderr.splitlines()
    assert lines[0] == f"skipped    {tree}/kustomization.yaml: no Sloth, Pyrra or OpenSLO document"
    assert lines[1:3] == [
        f"skipped    {tree}/openslo/parts-only.yaml: only OpenSLO parts (SLI, AlertPolicy…), "
        "read through the SLOs that name them",
        f"skipped    {tree}/openslo/references/policy.yaml: only OpenSLO parts (SLI, "
        "AlertPolicy…), read through the SLOs that name them",
    ]
    assert (
        f"converted  {tree}/openslo/references/slo.yaml -> openslo/references/slo.yaml "
        "(OpenSLO, 1 SLOs, 1 behaviour differences)"
    ) in lines
    assert f"refused    {tree}/pyrra/native-latency.yaml:" in lines
    assert (
        f"converted  {tree}/pyrra/kubectl-list.yaml -> pyrra/kubectl-list.yaml "
        "(Pyrra, 2 SLOs, 4 behaviour differences)"
    ) in lines
    assert lines[-2:] == [
        "3 converted, 1 refused, 4 skipped",
        f"wrote 4 files to {out} (see {out}/MIGRATION.md)",
    ]
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == [
        "MIGRATION.md",
        "openslo/references/slo.yaml",
        "pyrra/kubectl-list.yaml",
        "sloth/http-events.yaml",
    ]
    # What was written is valid as it stands.
    check = sloforge("validate", str(out))
    assert check.returncode == 0, check.stderr
    report = (out / "MIGRATION.md").read_text()
    assert report.startswith(
        "# Migration to sloforge\n\n3 files converted (4 SLOs), 1 refused, 4 skipped.\n"
    )
    assert f"## sloth/http-events.yaml (from Sloth: `{tree}/sloth/http-events.yml`)" in report
    assert "| requests-availability | the SLI over the period weighs every event equally |" in (
        report
    )
    assert "## Refused" in report and "native-histogram latency SLOs are not supported" in report


def test_a_tree_needs_an_output_directory_and_never_overwrites_its_inputs(tmp_path):
    result = sloforge("import", str(FOREIGN / "pyrra"))
    assert result.returncode == 2
    assert "a directory converts to a tree: name where with --out DIR" in result.stderr
    tree = tmp_path / "slo"
    tree.mkdir()
    source = tree / "a.yaml"
    source.write_text((FOREIGN / "sloth/trailing-separator.yml").read_text())
    inside = sloforge("import", str(tree), "--out", str(tree))
    assert inside.returncode == 1
    assert "the output directory is the input directory" in inside.stderr
    assert source.read_text() == (FOREIGN / "sloth/trailing-separator.yml").read_text()


def test_an_unknown_format_name_is_a_usage_error():
    result = sloforge("import", "nagios", str(FOREIGN / "pyrra/ratio-grouped.yaml"))
    assert result.returncode == 2
    assert "unknown format 'nagios'; choose from sloth, pyrra, openslo" in result.stderr


# --- kept labels -----------------------------------------------------------------------------


def _rules(path: Path) -> list[dict]:
    files = build_outputs(load([path]).project)
    return [
        rule
        for name, body in files.items()
        if name.startswith("prometheus/rules/")
        for group in yaml.safe_load(body)["groups"]
        for rule in group["rules"]
    ]


def test_keep_labels_puts_slothss_labels_on_every_rule_and_alert(tmp_path):
    out = tmp_path / "converted"
    result = sloforge(
        "import", str(FOREIGN / "sloth/http-events.yml"), "--keep-labels", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    rules = _rules(out / "http-events.yaml")
    expected = {
        "sloth_id": "storefront-requests-availability",
        "sloth_service": "storefront",
        "sloth_slo": "requests-availability",
    }
    slo_rules = [r for r in rules if r.get("labels", {}).get("slo") == "requests-availability"]
    assert slo_rules and all(expected.items() <= r["labels"].items() for r in slo_rules)
    # The burn-rate tiers; the SLO's absent-data alert carries no tier.
    alerts = [r for r in slo_rules if "slo_tier" in r.get("labels", {})]
    assert {(r["labels"]["slo_tier"], r["labels"]["sloth_severity"]) for r in alerts} == {
        ("page", "page"),
        ("ticket", "ticket"),
    }
    assert "sloth_service, sloth_slo" not in (out / "MIGRATION.md").read_text()


def test_keep_labels_names_a_pyrra_slo_as_pyrra_labels_it(tmp_path):
    out = tmp_path / "converted"
    source = FOREIGN / "pyrra/ratio-grouped.yaml"
    assert sloforge("import", str(source), "--keep-labels", "-o", str(out)).returncode == 0
    rules = _rules(out / "ratio-grouped.yaml")
    assert {r["labels"]["slo"] for r in rules if "labels" in r} == {"gateway-http-errors"}


# --- the source tools' documented alerts ---------------------------------------------------

# Sloth: the SRE workbook's table on its 30-day default period, whatever the SLO says.
SLOTH = [(3600, 300, 14.4), (6 * 3600, 1800, 6), (86400, 7200, 3), (3 * 86400, 6 * 3600, 1)]
# Pyrra: factors 14, 7, 2, 1 on 1h/5m, 6h/30m, 1d/2h, 4d/6h for 28 days, scaled to the window.
PYRRA = [(3600, 300, 14), (6 * 3600, 1800, 7), (86400, 7200, 2), (4 * 86400, 6 * 3600, 1)]


def _documented(tool: str, source: Path, slo: dict) -> set[tuple[str, str, float]]:
    """(long window, short window, error-ratio threshold) per tier, from the tool's docs."""
    budget = 1 - slo["objective"] / 100
    if tool == "Sloth":
        table = SLOTH
    elif tool == "Pyrra":
        scale = parse_duration(slo["window"]) / (28 * 86400)
        table = [(max(60, round(lw * scale)), max(60, round(sw * scale)), f) for lw, sw, f in PYRRA]
    else:  # OpenSLO: the conditions as written; none means sloforge's defaults (the workbook)
        tiers = slo.get("alerting", {}).get("tiers")
        if not tiers:
            table = SLOTH
        else:
            table = [
                (
                    parse_duration(t["long_window"]),
                    parse_duration(t["short_window"]),
                    t["burn_rate"],
                )
                for t in tiers
            ]
    window = slo.get("window", "30d")
    # Calendar periods keep the tiers of their length: a month the 30-day table, a week 7 days.
    period = parse_duration({"month": "30d", "week": "7d"}.get(window, window))
    return {
        (format_duration(lw), format_duration(sw), round(f * budget, 9))
        for lw, sw, f in table
        if lw <= period
    }


_THRESHOLD = re.compile(r"> ([0-9.e-]+)$", re.M)


def _generated(rules: list[dict], service: str, slo: str) -> set[tuple[str, str, float]]:
    found = set()
    for rule in rules:
        labels = rule.get("labels", {})
        if "alert" not in rule or labels.get("slo") != slo or "long_window" not in labels:
            continue
        if labels.get("slo_service") != service:
            continue
        (threshold,) = set(_THRESHOLD.findall(rule["expr"]))
        found.add((labels["long_window"], labels["short_window"], round(float(threshold), 9)))
    return found


def _importable() -> list[str]:
    return sorted(
        p.relative_to(FOREIGN).as_posix()
        for p in FOREIGN.glob("*/*")
        if p.suffix != ".md"
        and any(r.converted for r in import_paths([p]))
        and not any(r.problems for r in import_paths([p]))
    )


@pytest.mark.parametrize("fixture", _importable())
def test_converted_thresholds_and_windows_are_what_the_source_tool_documents(fixture, tmp_path):
    source = FOREIGN / fixture
    results = [r for r in import_paths([source]) if r.converted]
    rules = _rules(source)
    checked = 0
    for result in results:
        for document in result.documents:
            for slo in document["slos"]:
                alerting = slo.get("alerting", {})
                got = _generated(rules, document["service"], slo["name"])
                if alerting.get("page", {}).get("disable"):  # alerting switched off there too
                    assert alerting.get("ticket", {}).get("disable") and got == set()
                    checked += 1
                    continue
                want = _documented(result.tool, source, slo)
                assert got == want, (document["service"], slo["name"])
                checked += 1
    assert checked


# --- converted, generated, tested ------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("fixture", list(CLASSES.values()), ids=list(CLASSES))
def test_each_class_converts_generates_and_passes_sloforge_test(fixture, tmp_path):
    converted = tmp_path / "slo"
    imported = sloforge("import", str(FOREIGN / fixture), "--out", str(converted))
    assert imported.returncode == 0, imported.stderr
    out = tmp_path / "out"
    generated = sloforge("generate", str(converted), "--out", str(out))
    assert generated.returncode == 0, generated.stderr
    tested = sloforge("test", "--out", str(out))
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "FAILED" not in tested.stdout


# --- time slices -------------------------------------------------------------------------

# OpenSLO's documented time-slice semantics, read straight from each source objective:
# timeSliceWindow is the slice (a bare number is minutes); Timeslices: a slice is good when
# its good share is at least timeSliceTarget (for a thresholdMetric, the share of points
# `value op threshold`); RatioTimeslices: the SLI is the mean of the slices' good ratios;
# target is the objective, as a share of slices.
_OPENSLO_OPS = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
SLICED = [
    "openslo/timeslices-ratio.yaml",
    "openslo/timeslices-threshold.yaml",
    "openslo/ratio-timeslices-window.yaml",
    "openslo/timeslices-v1alpha.yaml",
]


def _documented_slices(source: dict) -> dict:
    (objective,) = source["spec"]["objectives"]
    window = objective["timeSliceWindow"]
    slice_seconds = window * 60 if isinstance(window, int) else parse_duration(window)
    indicator = source["spec"].get("indicator", {}).get("spec", {})
    length = format_duration(slice_seconds)
    if source["spec"]["budgetingMethod"] == "RatioTimeslices":
        judged = ["clamp(", ", 0, 1"]  # the slice's own good ratio
    elif "thresholdMetric" in indicator:
        op, value = _OPENSLO_OPS[objective["op"]], objective["value"]
        judged = [f" {op} bool {value})[{length}:]", f">= bool {objective['timeSliceTarget']}"]
    else:
        judged = [f">= bool {objective['timeSliceTarget']}"]
    return {
        "interval": slice_seconds,
        "judged": judged,
        "objective": objective["target"],
    }


def _generated_slices(source: Path) -> dict:
    files = build_outputs(load([source]).project)
    (rules,) = [yaml.safe_load(b) for n, b in files.items() if n.startswith("prometheus/rules/")]
    slo_group = next(g for g in rules["groups"] if "interval" in g and "-budget" not in g["name"])
    budget_group = next(g for g in rules["groups"] if g["name"].endswith("-budget"))
    judged = slo_group["rules"][0]
    objective = next(r for r in budget_group["rules"] if r["record"] == "slo:objective:ratio")
    return {
        "interval": parse_duration(slo_group["interval"]),
        "record": judged["record"],
        "expr": judged["expr"],
        "objective": float(objective["expr"].removeprefix("vector(").removesuffix(")")),
    }


@pytest.mark.parametrize("fixture", SLICED)
def test_converted_time_slices_are_what_openslo_documents(fixture):
    source = FOREIGN / fixture
    want = _documented_slices(yaml.safe_load(source.read_text()))
    got = _generated_slices(source)
    assert got["interval"] == want["interval"]
    assert got["record"] == f"slo:sli_timeslice:good{format_duration(want['interval'])}"
    first, *rest = want["judged"]
    assert first in got["expr"] and got["expr"].rstrip(")").endswith(rest[-1] if rest else first)
    assert got["objective"] == want["objective"]


def test_the_migration_report_says_how_slices_differ():
    (result,) = import_paths([FOREIGN / "openslo/ratio-timeslices-window.yaml"])
    summaries = [d.summary for d in result.differences]
    assert summaries == [
        "a slice without data is not counted",
        "slices are the 1m between rule evaluations",
        "the SLI is the plain mean of the slices' good ratios",
    ]
