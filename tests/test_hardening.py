# ruff: noqa: E501 - whole messages read best on one line each
"""The defences of issue 14, class by class: each bad input is refused by `validate` and by
`generate`, with the whole located message asserted and nothing changed on disk.

Layouts may hold symbolic links ("-> target" as the content). A file outside the
working directory, ``secret.txt`` beside it, stands for a host file that must never
be read into the output or quoted in a message.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as settings_
from hypothesis import strategies as st
from sloforge.cli import app
from sloforge.model.domain import Tier
from sloforge.review.explain import _timings
from sloforge_testlib import SHOP_SERVICE, hashes, lay_out
from typer.testing import CliRunner

runner = CliRunner()
SECRET = "TOP-SECRET-LINE root:x:0:0:root:/root:/bin/bash and a long tail of private words\n"


@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, str]  # path -> content, or "-> target" for a symbolic link
    expect: list[str]  # every problem line, in order
    args: tuple[str, ...] = ("in",)


def summary(expect: list[str]) -> str:
    count = sum(1 for line in expect if ": warning: " not in line)
    files = len({line.split(":")[0] for line in expect})
    return f"{count} problem{'s' if count != 1 else ''} in {files} file{'s' if files != 1 else ''}"


def refused(case: Case, tmp_path: Path) -> None:
    """validate and generate both exit 1 with exactly ``case.expect``; nothing changes."""
    work = tmp_path / "work"
    (tmp_path / "secret.txt").write_text(SECRET)
    lay_out(work, {"in/shop.yaml": SHOP_SERVICE, **case.files})
    before = hashes(tmp_path)
    for command in ("validate", "generate"):
        args = [command, *case.args] + (["--out", "out"] if command == "generate" else [])
        with contextlib.chdir(work):
            result = runner.invoke(app, args)
        assert "Traceback" not in result.output
        assert (result.exit_code, result.stderr) == (
            1,
            "\n".join([*case.expect, summary(case.expect)]) + "\n",
        ), command
        assert "private" not in result.output  # the end of the host file's line
        assert hashes(tmp_path) == before, f"{command} changed the disk"


# --- class 2: reads stay inside the input directories -------------------------------------------

OUTSIDE = "is a link leading outside the input directories; keep the file itself here"
JSONNET_HEAD = (
    "{apiVersion: 'sloforge/v1', kind: 'ServiceLevels', service: 'web', owner: 'web', slos: [], "
)

READS = [
    Case(
        "a kept runbook that is a link to a host file is refused",
        {"in/runbooks/shop/ShopAvailabilityBudgetBurn.md": "-> ../../../../secret.txt"},
        [f"in/runbooks/shop/ShopAvailabilityBudgetBurn.md: {OUTSIDE}"],
    ),
    Case(
        "a template override that is a link to a host file is refused",
        {"in/templates/runbooks/burn-rate.md.j2": "-> ../../../../secret.txt"},
        [f"in/templates/runbooks/burn-rate.md.j2: {OUTSIDE}"],
    ),
    Case(
        "a runbooks folder that is a link to a folder elsewhere is refused file by file",
        {"in/runbooks": "-> ../../elsewhere", "../elsewhere/shop/Kept.md": "# private\n"},
        [f"in/runbooks/shop/Kept.md: {OUTSIDE}"],
    ),
    Case(
        "a kept runbook that is a link whose target is gone is named",
        {"in/runbooks/shop/Gone.md": "-> nowhere.md"},
        ["in/runbooks/shop/Gone.md: is a link to 'nowhere.md', which does not exist"],
    ),
    Case(
        "Jsonnet importstr of an absolute path is refused",
        {"in/web.jsonnet": JSONNET_HEAD + "description: importstr '/etc/hostname'}\n"},
        [
            'in/web.jsonnet:1:105: Jsonnet runtime error: couldn\'t open import "/etc/hostname": absolute paths cannot be imported; import from the input directories'
        ],
    ),
    Case(
        "Jsonnet importstr climbing out with .. is refused",
        {"in/web.jsonnet": JSONNET_HEAD + "description: importstr '../../secret.txt'}\n"},
        [
            'in/web.jsonnet:1:105: Jsonnet runtime error: couldn\'t open import "../../secret.txt": outside the input directories; imports stay inside them'
        ],
    ),
    Case(
        "Jsonnet import of a link inside the input that leads outside is refused",
        {
            "in/lib.libsonnet": "-> ../../secret.txt",
            "in/web.jsonnet": JSONNET_HEAD + "description: import 'lib.libsonnet'}\n",
        },
        [
            'in/web.jsonnet:1:105: Jsonnet runtime error: couldn\'t open import "lib.libsonnet": outside the input directories; imports stay inside them'
        ],
    ),
    Case(
        "a text file given as input is quoted only by a short escaped excerpt",
        {"notes.yaml": SECRET * 3},
        [
            "notes.yaml:1:1: a document must be a mapping with apiVersion and kind (got str 'TOP-SECRET-LINE root:x:0:0:root:/root:…)"
        ],
        ("notes.yaml",),
    ),
    Case(
        "a dangling link among the input files is an error, not silently skipped",
        {"in/web.yaml": "-> ../moved/web.yaml"},
        ["in/web.yaml: is a link to '../moved/web.yaml', which does not exist"],
    ),
    Case(
        "an input path that is a dangling link is named as one",
        {"web.yaml": "-> moved.yaml"},
        ["web.yaml: is a link to 'moved.yaml', which does not exist"],
        ("in", "web.yaml"),
    ),
]


@pytest.mark.parametrize("case", READS, ids=[c.id for c in READS])
def test_reads_stay_inside_the_input_directories(case: Case, tmp_path: Path) -> None:
    refused(case, tmp_path)


def test_a_jsonnet_import_inside_the_input_directories_still_works(tmp_path: Path) -> None:
    lay_out(
        tmp_path,
        {
            "in/lib/text.txt": "Requests served.",
            "in/web.jsonnet": JSONNET_HEAD + "description: importstr 'lib/text.txt'}\n",
        },
    )
    with contextlib.chdir(tmp_path):
        result = runner.invoke(app, ["validate", "in"])
    assert result.exit_code == 0, result.output


# --- classes 3, 4 and 5: links, what promtool/amtool refuse, silently wrong output -------------


def shop(old: str = "", new: str = "", append: str = "") -> dict[str, str]:
    """The one-SLO shop service with one substring replaced (which must be there)."""
    if old:
        assert old in SHOP_SERVICE, old
    return {"in/shop.yaml": (SHOP_SERVICE.replace(old, new, 1) if old else SHOP_SERVICE) + append}


ROUTING = """\
apiVersion: sloforge/v1
kind: AlertRouting
receivers:
  - name: hook
    webhook: {url: "http://hooks.internal/am"}
default_receiver: hook
"""


def routing(old: str = "", new: str = "", append: str = "") -> dict[str, str]:
    if old:
        assert old in ROUTING, old
    return {"in/routing.yaml": (ROUTING.replace(old, new, 1) if old else ROUTING) + append}


def settings(body: str) -> dict[str, str]:
    return {"in/settings.yaml": f"apiVersion: sloforge/v1\nkind: Settings\n{body}"}


OWNED = "is set by sloforge; choose another label name"
HTTP = "must be an http:// or https:// URL"
PROM_RESERVED = "label names starting with __ are reserved for Prometheus' own use"
TOO_LONG = "is beyond the longest duration Prometheus can hold (about 292 years)"

LINKS = [
    Case(
        "a javascript: runbook base URL would go into every alert",
        settings("runbook_base_url: 'javascript:alert(1)'\n"),
        [
            f"in/settings.yaml:3:1: runbook_base_url: {HTTP} (got `javascript:` in 'javascript:alert(1)')"
        ],
    ),
    Case(
        "a file: dashboard base URL",
        settings("dashboard_base_url: file:///etc/grafana\n"),
        [
            f"in/settings.yaml:3:1: dashboard_base_url: {HTTP} (got `file:` in 'file:///etc/grafana')"
        ],
    ),
    Case(
        "a base URL without a scheme",
        settings("runbook_base_url: wiki.example.com/runbooks\n"),
        [
            f"in/settings.yaml:3:1: runbook_base_url: {HTTP} (got no scheme in 'wiki.example.com/runbooks')"
        ],
    ),
    Case(
        "an https base URL without a host",
        settings("dashboard_base_url: 'https:///d'\n"),
        [
            "in/settings.yaml:3:1: dashboard_base_url: must name a host, like https://example.com/ (got 'https:///d')"
        ],
    ),
    Case(
        "a webhook receiver posting to a file: URL",
        routing('url: "http://hooks.internal/am"', 'url: "file:///etc/passwd"'),
        [
            f"in/routing.yaml:5:15: receivers[0].webhook.url: {HTTP} (got `file:` in 'file:///etc/passwd')"
        ],
    ),
    Case(
        "a proxy URL deep in a receiver's http_config",
        routing(
            'url: "http://hooks.internal/am"',
            'url: "http://hooks.internal/am", http_config: {proxy_url: "gopher://proxy:70"}',
        ),
        [
            f"in/routing.yaml:5:62: receivers[0].webhook.http_config.proxy_url: {HTTP} (got `gopher:` in 'gopher://proxy:70')"
        ],
    ),
]

REFUSED_BY_THE_TOOLS = [
    Case(
        "an SLO window of zero",
        shop("objective: 99.9", "objective: 99.9\n    window: 0d"),
        ["in/shop.yaml:8:5: slos[0].window: must be longer than zero (got 0d)"],
    ),
    Case(
        "an SLO window beyond Prometheus' range",
        shop("objective: 99.9", "objective: 99.9\n    window: 300000000y"),
        [f"in/shop.yaml:8:5: slos[0].window: 300000000y {TOO_LONG}"],
    ),
    Case(
        "a for: beyond Prometheus' range",
        shop(append="alerts:\n  - {name: A, expr: up == 0, severity: warning, for: 999999999y}\n"),
        [f"in/shop.yaml:13:49: alerts[0].for: 999999999y {TOO_LONG}"],
    ),
    Case(
        "a tier window of zero",
        shop(
            append="    alerting:\n      tiers: [{severity: page, long_window: 1h, short_window: 0m, burn_rate: 2}]\n"
        ),
        [
            "in/shop.yaml:13:49: slos[0].alerting.tiers[0].short_window: must be longer than zero (got 0m)"
        ],
    ),
    Case(
        "a label name Prometheus reserves on the service",
        shop("owner: shop", "owner: shop\nlabels: {__name__: shop}"),
        [f"in/shop.yaml:5:10: labels.__name__: {PROM_RESERVED}"],
    ),
    Case(
        "a label name Prometheus reserves on a recording rule",
        shop(
            append="recording_rules:\n  - {record: 'job:up:sum', expr: sum(up), labels: {__x: y}}\n"
        ),
        [f"in/shop.yaml:13:52: recording_rules[0].labels.__x: {PROM_RESERVED}"],
    ),
    Case(
        "a zero repeat_interval",
        routing(append="defaults: {repeat_interval: 0s}\n"),
        ["in/routing.yaml:7:12: defaults.repeat_interval: must be longer than zero (got 0s)"],
    ),
    Case(
        "a zero group_interval on a route",
        routing(
            append="routes:\n  - {matchers: {severity: critical}, receivers: [hook], group_interval: 0m}\n"
        ),
        ["in/routing.yaml:8:57: routes[0].group_interval: must be longer than zero (got 0m)"],
    ),
    Case(
        "an inverted time range",
        routing(
            append="time_intervals:\n  night: [{times: [{start_time: '22:00', end_time: '06:00'}]}]\n"
        ),
        [
            "in/routing.yaml:8:20: time_intervals.night[0].times[0]: start_time 22:00 must be before end_time 06:00 (a range that crosses midnight is two ranges: up to 24:00, from 00:00)"
        ],
    ),
    Case(
        "an empty time range",
        routing(
            append="time_intervals:\n  lunch: [{times: [{start_time: '12:00', end_time: '12:00'}]}]\n"
        ),
        [
            "in/routing.yaml:8:20: time_intervals.lunch[0].times[0]: start_time 12:00 must be before end_time 12:00 (a range that crosses midnight is two ranges: up to 24:00, from 00:00)"
        ],
    ),
]

TEMPLATES = [
    Case(
        "arithmetic in an annotation template",
        shop(append="    alerting:\n      annotations: {hint: '{{ 7*7 }}'}\n"),
        [
            "in/shop.yaml:13:21: slos[0].alerting.annotations.hint: Prometheus cannot parse this template: bad character U+002A '*'"
        ],
    ),
    Case(
        "an unknown function in a plain alert's description",
        shop(
            append="alerts:\n  - {name: A, expr: up == 0, severity: warning, description: '{{ $value | humanise }}'}\n"
        ),
        [
            'in/shop.yaml:13:49: alerts[0].description: Prometheus cannot parse this template: function "humanise" not defined'
        ],
    ),
    Case(
        "an if never closed in a label value",
        shop("owner: shop", "owner: shop\nlabels: {env: '{{ if $labels.env }}prod'}"),
        [
            "in/shop.yaml:5:10: labels.env: Prometheus cannot parse this template: unexpected EOF: {{if}} is not closed by {{end}}"
        ],
    ),
    Case(
        "an undeclared variable in the owner, which becomes the team label",
        shop("owner: shop", "owner: '{{ $team }}'"),
        [
            'in/shop.yaml:4:1: owner: Prometheus cannot parse this template: undefined variable "$team"'
        ],
    ),
    Case(
        "an Alertmanager template override that does not parse",
        {
            "in/templates/alertmanager/slack.tmpl": '{{ define "sloforge.slack.title" }}{{ .Status | toUpper }}\n'
        },
        [
            "in/templates/alertmanager/slack.tmpl: Alertmanager cannot parse this template: unexpected EOF: {{define}} is not closed by {{end}}"
        ],
    ),
    Case(
        "a runbook template override that does not parse",
        {"in/templates/runbooks/burn-rate.md.j2": "# {{ alert }}\n{% for step in steps %}\n"},
        [
            "in/templates/runbooks/burn-rate.md.j2:2:1: Jinja2 syntax error: Unexpected end of template. Jinja was looking for the following tags: 'endfor' or 'else'. The innermost block that needs to be closed is 'for'."
        ],
    ),
]

SILENTLY_WRONG = [
    Case(
        "an objective written as a fraction",
        shop("99.9", "0.999"),
        [
            "in/shop.yaml:7:5: slos[0].objective: is a percentage, so 0.999 means 0.999%; did you mean 99.9?"
        ],
    ),
    Case(
        "an objective of 1 has no percentage to suggest",
        shop("99.9", "1"),
        ["in/shop.yaml:7:5: slos[0].objective: is a percentage, so 1 means 1%"],
    ),
    Case(
        "a default page tier that needs more than every request failing",
        shop("99.9", "90"),
        [
            "in/shop.yaml:7:5: slos[0].objective: the page tier 14.4x over 1h fires only above an error ratio of 144%, which can never happen with this objective; set alerting.tiers with lower burn rates"
        ],
    ),
    Case(
        "a custom tier whose threshold is exactly 100%",
        shop(
            "99.9",
            "99",
            append="    alerting:\n      tiers: [{severity: ticket, long_window: 1d, short_window: 2h, burn_rate: 100}]\n",
        ),
        [
            "in/shop.yaml:13:15: slos[0].alerting.tiers[0]: the ticket tier 100x over 1d fires only above an error ratio of 100%, which can never happen; lower its burn rate"
        ],
    ),
    Case(
        "alertname set on the service",
        shop("owner: shop", "owner: shop\nlabels: {alertname: Other}"),
        [f"in/shop.yaml:5:10: labels.alertname: `alertname` {OWNED}"],
    ),
    Case(
        "slo set in an SLO's alerting labels",
        shop(append="    alerting:\n      labels: {slo: other}\n"),
        [f"in/shop.yaml:13:16: slos[0].alerting.labels.slo: `slo` {OWNED}"],
    ),
    Case(
        "severity set in a page policy's labels",
        shop(append="    alerting:\n      page: {labels: {severity: low}}\n"),
        [f"in/shop.yaml:13:23: slos[0].alerting.page.labels.severity: `severity` {OWNED}"],
    ),
    Case(
        "severity set in a plain alert's labels besides its severity field",
        shop(
            append="alerts:\n  - {name: A, expr: up == 0, severity: warning, labels: {severity: critical}}\n"
        ),
        [f"in/shop.yaml:13:58: alerts[0].labels.severity: `severity` {OWNED}"],
    ),
    Case(
        "slo_service set in a plain alert's labels",
        shop(
            append="alerts:\n  - {name: A, expr: up == 0, severity: warning, labels: {slo_service: x}}\n"
        ),
        [f"in/shop.yaml:13:58: alerts[0].labels.slo_service: `slo_service` {OWNED}"],
    ),
    Case(
        "alertname set on a recording rule",
        shop(
            append="recording_rules:\n  - {record: 'job:up:sum', expr: sum(up), labels: {alertname: x}}\n"
        ),
        [
            "in/shop.yaml:13:52: recording_rules[0].labels.alertname: `alertname` is set by Prometheus; choose another label name"
        ],
    ),
]


@pytest.mark.parametrize("case", LINKS, ids=[c.id for c in LINKS])
def test_links_must_be_http_or_https(case: Case, tmp_path: Path) -> None:
    refused(case, tmp_path)


@pytest.mark.parametrize("case", REFUSED_BY_THE_TOOLS, ids=[c.id for c in REFUSED_BY_THE_TOOLS])
def test_what_promtool_or_amtool_would_refuse_is_refused_by_validate(
    case: Case, tmp_path: Path
) -> None:
    refused(case, tmp_path)


@pytest.mark.parametrize("case", TEMPLATES, ids=[c.id for c in TEMPLATES])
def test_templates_that_would_not_parse_are_refused_by_validate(case: Case, tmp_path: Path) -> None:
    refused(case, tmp_path)


@pytest.mark.parametrize("case", SILENTLY_WRONG, ids=[c.id for c in SILENTLY_WRONG])
def test_what_would_compile_to_silently_wrong_output_is_refused(case: Case, tmp_path: Path) -> None:
    refused(case, tmp_path)


# --- class 7: explain ----------------------------------------------------------------------------


@settings_(max_examples=200, deadline=None, derandomize=True)
@given(
    burn=st.floats(0.01, 10_000),
    long_window=st.integers(60, 90 * 86400),
    short_ratio=st.floats(0.01, 0.99),
    objective=st.floats(0.001, 99.999),
)
def test_explain_never_prints_a_negative_or_meaningless_duration(
    burn: float, long_window: int, short_ratio: float, objective: float
) -> None:
    """Whatever the tier, its detection and reset cells are a positive duration or say why not."""
    tier = Tier(
        kind="page",
        severity="critical",
        long_window=long_window,
        short_window=max(1, int(long_window * short_ratio)),
        burn_rate=burn,
        budget_consumed=0.02,
    )
    for cell in _timings(tier, 1 - objective / 100):
        assert re.fullmatch(r"(\d+(\.\d)?[smhd]|under 1s|never|n/a)", cell), cell


# --- class 5: YAML 1.1 scalars in text fields keep the text as written --------------------------

YAML11 = [
    ("012", "an octal-looking number"),
    ("0x1F", "a hexadecimal number"),
    ("0o17", "an 0o octal number"),
    ("1_000", "a number with an underscore"),
    ("12:30", "a base-60 time"),
    ("1e3", "an exponent without a dot"),
    ("1.50", "a float with a trailing zero"),
    ("on", "on"),
    ("yes", "yes"),
    ("Off", "Off"),
    ("2024-01-01", "a date"),
    (".inf", "infinity"),
]


def label_values(tmp_path: Path, text: str) -> dict[str, str]:
    """Compile the shop service with ``text`` plain (unquoted) as a label value, the owner, an
    alert's severity and an annotation; return what reached the alerting rule."""
    import yaml as pyyaml
    from sloforge.pipeline import build_outputs, load

    source = SHOP_SERVICE.replace("owner: shop", f"owner: {text}\nlabels: {{tier: {text}}}")
    source += (
        f"alerts:\n  - {{name: A, expr: up == 0, severity: {text}, annotations: {{x: {text}}}}}\n"
    )
    (tmp_path / "shop.yaml").write_text(source)
    files = build_outputs(load([tmp_path / "shop.yaml"]).project)
    rules = pyyaml.safe_load(files["prometheus/rules/shop.rules.yml"])
    alert = next(r for g in rules["groups"] for r in g["rules"] if r.get("alert") == "A")
    return {
        "tier": alert["labels"]["tier"],
        "team": alert["labels"]["team"],
        "severity": alert["labels"]["severity"],
        "x": alert["annotations"]["x"],
    }


@pytest.mark.parametrize(("text", "what"), YAML11, ids=[f"{w} ({t})" for t, w in YAML11])
def test_a_yaml_1_1_scalar_in_a_text_field_keeps_the_text_as_written(
    tmp_path: Path, text: str, what: str
) -> None:
    assert label_values(tmp_path, text) == {"tier": text, "team": text, "severity": text, "x": text}


def test_numbers_stay_numbers_where_a_number_is_meant(tmp_path: Path) -> None:
    (tmp_path / "shop.yaml").write_text(SHOP_SERVICE.replace("99.9", "0x63"))
    from sloforge.pipeline import load

    assert load([tmp_path / "shop.yaml"]).project.services[0].slos[0].objective == 99


YAML11_SCALARS = st.one_of(
    st.integers(0, 10**6).map(lambda n: f"0{n:o}"),
    st.integers(0, 10**6).map(lambda n: f"0x{n:X}"),
    st.integers(1, 10**4).map(lambda n: f"{n}_{n % 1000:03d}"),
    st.tuples(st.integers(1, 59), st.integers(0, 59)).map(lambda t: f"{t[0]}:{t[1]:02d}"),
    st.floats(0, 10**6, allow_nan=False).map(lambda f: f"{f:.3f}0"),
    st.sampled_from(
        ["on", "off", "yes", "no", "y", "n", "true", "False", "ON", "Yes", "~", "null"]
    ),
)


@settings_(max_examples=60, deadline=None, derandomize=True)
@given(text=YAML11_SCALARS)
def test_any_yaml_1_1_scalar_as_a_label_value_is_kept_or_refused_never_changed(
    text: str,
) -> None:
    """Property: a plain scalar written as a label value reaches the rules exactly as written,
    or (null: no text at all) is refused with a located message; never a converted value."""
    import tempfile

    from sloforge.errors import SpecError

    with tempfile.TemporaryDirectory() as tmp:
        try:
            got = label_values(Path(tmp), text)
        except SpecError as exc:
            assert text in ("~", "null"), exc
            assert all(p.location.line for p in exc.problems)
            return
    assert got == {"tier": text, "team": text, "severity": text, "x": text}


# --- property tests: values of each class, generated -------------------------------------------

PROPERTY = settings_(max_examples=40, deadline=None, derandomize=True)


def problems_of(files: dict[str, str]) -> list[str] | None:
    """Load ``files`` (under a fresh directory); None when valid, else every problem line."""
    import tempfile

    from sloforge.errors import SpecError
    from sloforge.pipeline import load

    with tempfile.TemporaryDirectory() as tmp:
        lay_out(Path(tmp), files)
        try:
            load([Path(tmp) / "in"])
        except SpecError as exc:
            return [f"{p.path}: {p.message}" for p in exc.problems]
    return None


SEGMENTS = st.sampled_from(["in", "out", "a", "..", ".", "link-in", "link-out"])


@PROPERTY
@given(
    inputs=st.lists(SEGMENTS, min_size=1, max_size=3),
    out=st.lists(SEGMENTS, min_size=1, max_size=3),
)
def test_property_no_arrangement_of_input_and_output_changes_an_input_file(
    inputs: list[str], out: list[str]
) -> None:
    """Class 1: any input path and output path (links included): refused before writing, or
    written beside the inputs; either way every input file keeps its bytes."""
    import tempfile

    from sloforge.errors import SloforgeError
    from sloforge.pipeline import generate

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "w"
        lay_out(root, {"in/shop.yaml": SHOP_SERVICE, "in/a/keep.txt": "keep\n", "link-in": "-> in"})
        (root / "out").mkdir()
        (root / "link-out").symlink_to("out")
        watched = {p: p.read_bytes() for p in (root / "in").rglob("*") if p.is_file()}
        with contextlib.chdir(root), contextlib.suppress(SloforgeError):
            generate([Path(*inputs)], Path(*out))
        assert {p: p.read_bytes() for p in watched if p.is_file()} == watched


IMPORT_SEGMENTS = st.sampled_from(["..", ".", "lib", "/", "etc", "secret.txt", "in", "work"])


@PROPERTY
@given(parts=st.lists(IMPORT_SEGMENTS, min_size=1, max_size=5))
def test_property_a_jsonnet_import_reads_only_inside_the_input_directory(parts: list[str]) -> None:
    """Class 2: whatever path importstr is given, a file outside the input directory is never
    read; only the refusal or the no-match message comes back."""
    import json
    import tempfile

    from sloforge.spec.loader import load_jsonnet

    target = "/".join(parts).replace("//", "/")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        lay_out(root, {"secret.txt": SECRET, "work/in/lib/ok.txt": "fine", "work/in/x.jsonnet": ""})
        source = root / "work" / "in" / "x.jsonnet"
        source.write_text(f"{{ text: importstr {json.dumps(target)} }}\n")
        docs, problems = load_jsonnet(source, [root / "work" / "in"])
    if docs:
        assert docs[0].data["text"] == "fine"
        return
    assert len(problems) == 1
    message = problems[0].message
    assert "private" not in message and "TOP-SECRET" not in message
    assert any(
        reason in message
        for reason in (
            "absolute paths cannot be imported",
            "outside the input directories",
            "no match locally",
        )
    ), message


SCHEMES = st.sampled_from(
    ["http", "https", "HTTPS", "javascript", "file", "ftp", "data", "", "mailto"]
)


@PROPERTY
@given(scheme=SCHEMES, host=st.sampled_from(["", "wiki.example.com", "10.0.0.1:8080"]))
def test_property_only_http_and_https_links_with_a_host_are_accepted(
    scheme: str, host: str
) -> None:
    """Class 3: a base URL is accepted exactly when it is http(s) with a host."""
    url = f"{scheme}://{host}/runbooks" if scheme else f"{host}/runbooks"
    files = {"in/shop.yaml": SHOP_SERVICE, **settings(f"runbook_base_url: '{url}'\n")}
    found = problems_of(
        {k.replace("in/settings.yaml", "in/settings.yaml"): v for k, v in files.items()}
    )
    web = scheme.lower() in ("http", "https") and bool(host)
    assert (found is None) == web, found
    if found:
        assert found[0].startswith("runbook_base_url: must")


UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


@PROPERTY
@given(
    amount=st.one_of(st.integers(0, 10), st.integers(0, 10**15)), unit=st.sampled_from(list(UNITS))
)
def test_property_a_for_duration_is_accepted_exactly_within_prometheus_range(
    amount: int, unit: str
) -> None:
    """Class 4: a plain alert's `for:` of any size: accepted iff Prometheus can hold it."""
    alert = f"alerts:\n  - {{name: A, expr: up == 0, severity: warning, for: {amount}{unit}}}\n"
    found = problems_of({"in/shop.yaml": SHOP_SERVICE + alert})
    fits = amount * UNITS[unit] * 1000 <= 2**63 - 1
    assert found == (None if fits else [f"alerts[0].for: {amount}{unit} {TOO_LONG}"])


@PROPERTY
@given(name=st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,8}", fullmatch=True))
def test_property_a_label_name_prometheus_reserves_is_refused_on_every_label_map(name: str) -> None:
    """Class 4/5: any label name on a plain alert: refused iff Prometheus or sloforge owns it."""
    alert = f"alerts:\n  - {{name: A, expr: up == 0, severity: warning, labels: {{{name}: x}}}}\n"
    found = problems_of({"in/shop.yaml": SHOP_SERVICE + alert})
    if name.startswith("__"):
        assert found == [f"alerts[0].labels.{name}: {PROM_RESERVED}"]
    elif name in (
        "alertname",
        "slo",
        "slo_service",
        "severity",
        "team",
        "long_window",
        "short_window",
        "slo_tier",
    ):
        assert found == [f"alerts[0].labels.{name}: `{name}` {OWNED}"]
    else:
        assert found is None


@PROPERTY
@given(objective=st.floats(0.0001, 99.999, allow_nan=False))
def test_property_an_objective_is_refused_exactly_when_a_default_tier_could_never_fire(
    objective: float,
) -> None:
    """Class 5: fractions get the percentage hint; objectives so low that 14.4x the budget is
    100% or more are refused; every other objective compiles."""
    found = problems_of({"in/shop.yaml": SHOP_SERVICE.replace("99.9", repr(objective))})
    if objective <= 1:
        assert found and found[0].startswith("slos[0].objective: is a percentage"), found
    elif 14.4 * (1 - objective / 100) >= 1:
        assert found and "can never happen with this objective" in found[0], found
    else:
        assert found is None, found
