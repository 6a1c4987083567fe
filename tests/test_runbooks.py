"""Runbooks: one per alert, linked from every alert, and hand-edited ones survive regeneration."""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from pathlib import Path

import pytest
import yaml
from sloforge.build.runbooks import block
from sloforge.build.runbooks import build_runbooks as _build_runbooks
from sloforge.errors import CompileError, SpecError
from sloforge.model import conventions as names
from sloforge.model import links
from sloforge.model.domain import Project
from sloforge.output.serialize import serialize
from sloforge.pipeline import build_outputs, generate, load
from sloforge.pipeline import prometheus_rules as _prometheus_rules


def build_runbooks(project: Project) -> dict[str, bytes]:
    """What the builder's files hold once written."""
    return serialize(_build_runbooks(project))


def prometheus_rules(project: Project) -> dict[str, bytes]:
    """What the builder's files hold once written."""
    return serialize(_prometheus_rules(project))


ROOT = Path(__file__).resolve().parent.parent

SERVICE = """\
apiVersion: sloforge/v1
kind: ServiceLevels
service: shop
owner: shop-team
slos:
  - name: availability
    description: 'Orders | payments answered *without* a 5xx'
    objective: 99.5
    sli:
      ratio:
        errors: http_requests_total{job="shop", code=~"5..|429"}
        total: http_requests_total{job="shop"}
    runbook: |
      1. Look at {{ 7 * 7 }} and {% if true %}this{% endif %} literally.
      2. Unclosed fence:
      ```
      kubectl get pods
alerts:
  - name: ShopDown
    expr: up{job="shop"} == 0
    for: 1m
    severity: critical
    summary: Shop is down.
    description: '{{ $labels.instance }} is down.'
    runbook: Restart it.
"""


def _repo(tmp_path: Path, text: str = SERVICE) -> Path:
    slo = tmp_path / "slo"
    slo.mkdir()
    (slo / "shop.yaml").write_text(text)
    return slo


def _alerts(project) -> list[tuple[str, dict]]:
    found = []
    for rel, content in prometheus_rules(project).items():
        for group in yaml.safe_load(content)["groups"]:
            found += [(rel, r) for r in group["rules"] if "alert" in r]
    return found


def test_every_alert_of_the_example_has_a_runbook_and_links_to_it():
    project = load([ROOT / "slo"]).project
    runbooks = build_runbooks(project)
    alerts = _alerts(project)
    assert len(alerts) > 40
    linked = set()
    for rel, rule in alerts:
        service = Path(rel).name.removesuffix(".rules.yml")
        # Escalation alerts too carry their service and have a runbook page of their own.
        assert rule["labels"][names.LABEL_SERVICE] == service
        url = rule["annotations"][names.ANNOTATION_RUNBOOK]
        assert url == links.runbook_url(project.settings, service, rule["alert"])
        assert names.runbook_file(service, rule["alert"]) in runbooks, url
        dashboard = links.dashboard_url(project.settings, service)
        assert rule["annotations"][names.ANNOTATION_DASHBOARD].startswith(dashboard)
        linked.add(names.runbook_file(service, rule["alert"]))
    assert set(runbooks) == linked, "a runbook no alert links to"


def test_a_burn_rate_runbook_covers_every_tier_and_names_the_recorded_series(tmp_path):
    project = load([_repo(tmp_path)]).project
    page = build_runbooks(project)["runbooks/shop/ShopAvailabilityBudgetBurn.md"].decode()
    for row in (
        "| page | critical | 1h | 5m | 14.4x | 7.2% | 2% | 2.1d |",
        "| page | critical | 6h | 30m | 6x | 3% | 5% | 5d |",
        "| ticket | warning | 1d | 2h | 3x | 1.5% | 10% | 10d |",
        "| ticket | warning | 3d | 6h | 1x | 0.5% | 10% | 30d |",
    ):
        assert row in page
    assert 'slo:current_burn_rate:ratio{slo_service="shop", slo="availability"}' in page
    assert 'sum(rate(http_requests_total{job="shop", code=~"5..|429"}[5m]))' in page
    assert "| Owner | shop-team |" in page


def test_user_text_is_data_escaped_for_markdown_and_never_evaluated(tmp_path):
    pages = build_runbooks(load([_repo(tmp_path)]).project)
    burn = pages["runbooks/shop/ShopAvailabilityBudgetBurn.md"].decode()
    assert "Orders \\| payments answered \\*without\\* a 5xx" in burn
    # GFM ends a table cell at "|" even inside code unless it is escaped.
    assert '| SLI | errors `http_requests_total{job="shop", code=~"5..\\|429"}` out of' in burn
    assert "1. Look at {{ 7 * 7 }} and {% if true %}this{% endif %} literally." in burn
    # The unclosed fence in the diagnosis is closed before the generated sections.
    assert "kubectl get pods\n```\n\n## Notes from on-call" in burn
    plain = pages["runbooks/shop/ShopDown.md"].decode()
    assert "`{{ $labels.instance }} is down.`" in plain


def test_an_edited_runbook_survives_regeneration(tmp_path):
    slo = _repo(tmp_path)
    out = tmp_path / "out"
    generate([slo], out)
    stub = out / "runbooks/shop/ShopDown.md"
    assert "This stub is generated on every run" in stub.read_text()
    # The workflow of docs/outputs.md: copy the stub next to the input, edit it, regenerate.
    edited = slo / "runbooks/shop/ShopDown.md"
    edited.parent.mkdir(parents=True)
    shutil.copy(stub, edited)
    edited.write_text(edited.read_text() + "\nCall Dana first (added by hand).\n")
    loaded, _ = generate([slo], out)
    assert stub.read_bytes() == edited.read_bytes()
    assert not loaded.warnings
    # Other runbooks are still stubs.
    assert (
        "This stub is generated"
        in (out / "runbooks/shop/ShopAvailabilityBudgetBurn.md").read_text()
    )


def test_a_runbook_for_an_alert_that_no_longer_exists_is_reported_and_not_copied(tmp_path):
    slo = _repo(tmp_path)
    orphan = slo / "runbooks/shop/ShopGone.md"
    orphan.parent.mkdir(parents=True)
    orphan.write_text("# old\n")
    loaded = load([slo])
    assert [str(w) for w in loaded.warnings] == [
        f"{orphan.as_posix()}: warning: no alert uses this runbook "
        "(was its alert renamed or removed?); it is not copied"
    ]
    assert "runbooks/shop/ShopGone.md" not in build_runbooks(loaded.project)


def test_a_user_template_overrides_the_default_file_by_file(tmp_path):
    slo = _repo(tmp_path)
    (slo / "templates/runbooks").mkdir(parents=True)
    (slo / "templates/runbooks/alert.md.j2").write_text(
        "# {{ alert }} ({{ severity }})\n{{ summary }}\n"
    )
    pages = build_runbooks(load([slo]).project)
    assert pages["runbooks/shop/ShopDown.md"] == b"# ShopDown (critical)\nShop is down.\n"
    assert b"## Where to look" in pages["runbooks/shop/ShopAvailabilityBudgetBurn.md"]


@pytest.mark.parametrize(
    ("template", "message"),
    [
        pytest.param(
            "{{ nope }}",
            "templates/runbooks/alert.md.j2: 'nope' is undefined",
            id="an undefined name",
        ),
        pytest.param(
            "{{ ''.__class__.__mro__ }}",
            "templates/runbooks/alert.md.j2: access to attribute",
            id="sandbox escape",
        ),
    ],
)
def test_a_broken_user_template_is_a_clear_error(tmp_path, template, message):
    slo = _repo(tmp_path)
    (slo / "templates/runbooks").mkdir(parents=True)
    (slo / "templates/runbooks/alert.md.j2").write_text(template)
    with pytest.raises(CompileError) as err:
        build_runbooks(load([slo]).project)
    assert str(err.value).startswith(message)


def test_a_user_template_that_does_not_parse_is_refused_by_validate(tmp_path):
    slo = _repo(tmp_path)
    (slo / "templates/runbooks").mkdir(parents=True)
    (slo / "templates/runbooks/alert.md.j2").write_text("{% if %}")
    with pytest.raises(SpecError) as err:
        load([slo])
    assert str(err.value) == (
        f"{(slo / 'templates/runbooks/alert.md.j2').as_posix()}:1:1: "
        "Jinja2 syntax error: Expected an expression, got 'end of statement block'"
    )


def test_the_same_runbook_with_different_text_in_two_inputs_is_an_error(tmp_path):
    a = _repo(tmp_path)
    b = tmp_path / "more"
    (b / "runbooks/shop").mkdir(parents=True)
    (a / "runbooks/shop").mkdir(parents=True)
    (a / "runbooks/shop/ShopDown.md").write_text("one\n")
    (b / "runbooks/shop/ShopDown.md").write_text("two\n")
    with pytest.raises(SpecError) as err:
        load([a, b])
    assert str(err.value) == (
        f"{(b / 'runbooks/shop/ShopDown.md').as_posix()}: conflicts with "
        f"{(a / 'runbooks/shop/ShopDown.md').as_posix()}: keep one of them"
    )


def test_a_runbook_base_url_replaces_the_path_in_annotations(tmp_path):
    slo = _repo(tmp_path)
    (slo / "settings.yaml").write_text(
        textwrap.dedent(
            """\
            apiVersion: sloforge/v1
            kind: Settings
            runbook_base_url: https://wiki.example.com/runbooks/
            dashboard_base_url: https://grafana.example.com
            """
        )
    )
    project = load([slo]).project
    annotations = {r["alert"]: r["annotations"] for _, r in _alerts(project)}
    assert (
        annotations["ShopDown"][names.ANNOTATION_RUNBOOK]
        == "https://wiki.example.com/runbooks/shop/ShopDown.md"
    )
    assert (
        annotations["ShopDown"][names.ANNOTATION_DASHBOARD]
        == "https://grafana.example.com/d/sloforge-shop"
    )
    burn = annotations["ShopAvailabilityBudgetBurn"][names.ANNOTATION_DASHBOARD]
    assert burn == "https://grafana.example.com/d/sloforge-shop?var-slo=availability"
    page = build_runbooks(project)["runbooks/shop/ShopDown.md"].decode()
    assert "[shop dashboard](<https://grafana.example.com/d/sloforge-shop>)" in page


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("plain", "plain", id="text without fences is kept"),
        pytest.param("```\nx\n```", "```\nx\n```", id="a closed fence is kept"),
        pytest.param(
            "~~~~\nx", "~~~~\nx\n~~~~", id="an unclosed tilde fence is closed with its own marker"
        ),
        pytest.param(
            "```\nx\n~~~", "```\nx\n~~~\n```", id="a different marker does not close a fence"
        ),
    ],
)
def test_diagnosis_blocks_cannot_swallow_the_page(text, expected):
    assert block(text) == expected


def test_runbook_percentages_are_rounded_for_people(tmp_path):
    """A 28d period makes the 1h tier spend 1h x 14.4 / 28d = 2.142857...% of the budget."""
    text = SERVICE.replace("    objective: 99.5\n", "    objective: 99.5\n    window: 28d\n")
    page = build_runbooks(load([_repo(tmp_path, text)]).project)[
        "runbooks/shop/ShopAvailabilityBudgetBurn.md"
    ].decode()
    assert "| page | critical | 1h | 5m | 14.4x | 7.2% | 2.14% | 1.9d |" in page
    assert "| ticket | warning | 1d | 2h | 3x | 1.5% | 10.7% | 9.3d |" in page


# --- links to dashboard panels ----------------------------------------------------------------

PANEL_LINK = re.compile(r"\[([^\]]+)\]\(<([^>]*)/d/([A-Za-z0-9_-]+)\?viewPanel=(\d+)>\)")
QUOTED_PANEL = re.compile(r'"([^"\n]+)" panel')


def _panels(files: dict[str, bytes]) -> dict[tuple[str, int], str]:
    """(dashboard uid, panel id) -> title, for every generated dashboard."""
    found = {}
    for path, content in files.items():
        if path.startswith("grafana/dashboards/"):
            dashboard = json.loads(content)
            for panel in dashboard["panels"]:
                found[(dashboard["uid"], panel["id"])] = panel["title"]
    return found


@pytest.mark.parametrize(
    "inputs",
    [
        pytest.param(ROOT / "slo", id="the example's runbooks"),
        pytest.param(ROOT / "tests/fixtures/dashboards", id="a service with panels of its own"),
    ],
)
def test_every_panel_a_runbook_links_to_exists(inputs):
    project = load([inputs]).project
    files = build_outputs(project)
    panels = _panels(files)
    runbooks = {p: c.decode() for p, c in files.items() if p.startswith("runbooks/")}
    links = [(p, *m.groups()) for p, text in runbooks.items() for m in PANEL_LINK.finditer(text)]
    assert len(links) >= len(runbooks) // 2
    broken = [
        f"{path}: [{title}] -> {uid} panel {panel}"
        for path, title, _, uid, panel in links
        if panels.get((uid, int(panel))) != title.replace("\\", "")
    ]
    assert broken == []


def test_every_panel_a_runbook_names_in_quotes_exists():
    """Diagnosis steps name panels as "Title" panel: each must be on a generated dashboard."""
    files = build_outputs(load([ROOT / "slo"]).project)
    titles = set(_panels(files).values())
    named = {
        (path, m.group(1))
        for path, text in files.items()
        if path.startswith("runbooks/")
        for m in QUOTED_PANEL.finditer(text.decode())
    }
    assert len(named) >= 4
    assert sorted(n for n in named if n[1] not in titles) == []


def test_a_structured_alert_links_to_its_signal_panel(tmp_path):
    text = SERVICE + (
        "  - name: ShopCpuHigh\n"
        '    metric: node_cpu_utilisation_ratio{job="node"}\n'
        "    above: 0.9\n"
        "    severity: warning\n"
    )
    pages = build_runbooks(load([_repo(tmp_path, text)]).project)
    page = pages["runbooks/shop/ShopCpuHigh.md"].decode()
    section = page.split("## Panels\n", 1)[1].split("\n## ", 1)[0]
    assert section.strip().splitlines() == ["- [ShopCpuHigh](</d/sloforge-shop?viewPanel=10>)"]
    down = pages["runbooks/shop/ShopDown.md"].decode()
    assert (
        "_No dashboard panel shows this alert's signal: add one under `dashboard:` in the "
        "service's file with `alerts: [ShopDown]`._"
    ) in down


def test_every_runbook_of_the_example_links_a_panel():
    files = build_outputs(load([ROOT / "slo"]).project)
    without = sorted(
        path
        for path, content in files.items()
        if path.startswith("runbooks/") and not PANEL_LINK.search(content.decode())
    )
    assert without == []
