# ruff: noqa: E501 - templates read best unbroken
"""sloforge's Go template check agrees with the real promtool, and says why it refuses.

The property test builds hundreds of templates from the pieces Go's template grammar
is made of (good and bad), writes them all into one rule file as annotations and runs
the real promtool once: every template promtool refuses, validate must refuse, and
every template promtool accepts, validate must accept.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
import toolbox
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sloforge.model.gotemplate import (
    ALERTMANAGER_FUNCTIONS,
    PROMETHEUS_FUNCTIONS,
    PROMETHEUS_VARIABLES,
    TemplateError,
    check,
)
from sloforge.tools import binaries as tools


def verdict(text: str) -> str:
    try:
        check(text, PROMETHEUS_FUNCTIONS, PROMETHEUS_VARIABLES)
    except TemplateError as exc:
        return str(exc)
    return "ok"


CASES = [
    ("a plain text without actions", "Payments are failing", "ok"),
    ("the value, humanized", "{{ $value | humanizePercentage }}", "ok"),
    ("a label of the alert", "{{ $labels.instance }} is down", "ok"),
    ("if and else with a comparison", "{{ if gt $value 1.0 }}high{{ else }}low{{ end }}", "ok"),
    (
        "a range declaring two variables",
        "{{ range $k, $v := $labels }}{{ $k }}={{ $v }} {{ end }}",
        "ok",
    ),
    ("trim markers and a comment", "{{- /* why */ -}} {{- $value -}}", "ok"),
    ("printf with a quoted format", '{{ printf "%.2f" $value }}', "ok"),
    (
        "a query piped into first and value",
        '{{ with query "up" }}{{ . | first | value }}{{ end }}',
        "ok",
    ),
    ("arithmetic is not template syntax", "{{ 7*7 }}", "bad character U+002A '*'"),
    ("an unknown function", "{{ $value | humanise }}", 'function "humanise" not defined'),
    ("an undeclared variable", "{{ $instance }}", 'undefined variable "$instance"'),
    ("an end without a start", "done {{ end }}", "unexpected {{end}}"),
    (
        "an if never closed",
        "{{ if $value }}high",
        "unexpected EOF: {{if}} is not closed by {{end}}",
    ),
    ("an else outside an if", "{{ else }}", "unexpected {{else}}"),
    ("an action never closed", "{{ $value ", "unclosed action"),
    ("an empty action", "{{ }}", "missing value for command"),
    ("a literal after a pipe", "{{ $value | 7 }}", "non executable command in pipeline stage 2"),
    ("a field of a string", '{{ "a".b }}', "unexpected . after term '\"a\"'"),
    ("an unterminated string", '{{ printf "%s }}', "unterminated quoted string"),
    ("a parenthesis never closed", "{{ (humanize $value }}", "unclosed left paren"),
    ("a break outside a range", "{{ break }}", "{{break}} outside {{range}}"),
    ("nil alone parses (running it fails, which is Prometheus' business)", "{{ nil }}", "ok"),
    ("a number run into a word", "{{ 12abc }}", "bad number syntax: '12a'"),
]


@pytest.mark.parametrize(("id_", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_the_template_check_accepts_or_says_why_not(id_: str, text: str, expected: str) -> None:
    assert verdict(text) == expected


def test_alertmanager_templates_know_alertmanager_functions() -> None:
    check('{{ define "x" }}{{ .CommonLabels.team | toUpper }}{{ end }}', ALERTMANAGER_FUNCTIONS)
    with pytest.raises(TemplateError, match='function "humanizePercentage" not defined'):
        check("{{ .Value | humanizePercentage }}", ALERTMANAGER_FUNCTIONS)


PIECES = [
    "{{",
    "}}",
    "{{ ",
    " }}",
    "{{- ",
    " -}}",
    " ",
    "$value",
    "$labels",
    "$labels.job",
    ".Labels",
    ".",
    "$x",
    "$x := 1",
    "$",
    "humanize",
    "humanizePercentage",
    "printf",
    '"%.2f"',
    '"s"',
    "`raw`",
    "'c'",
    "1",
    "1.5",
    "-2",
    "0x1F",
    "1e3",
    "true",
    "nil",
    "|",
    "(",
    ")",
    "if",
    "else",
    "end",
    "range",
    "with",
    "define",
    '"t"',
    "template",
    "break",
    "*",
    "+",
    "=",
    ":=",
    ",",
    "/* c */",
    "7*7",
    "humanise",
    "eq",
    "not",
    "and",
    "len",
    "index",
    "x",
    "\n",
]


@st.composite
def templates(draw: st.DrawFn) -> str:
    """Mostly well-formed actions with one or two pieces swapped or dropped."""
    parts = draw(st.lists(st.sampled_from(PIECES), min_size=1, max_size=8))
    shape = draw(st.integers(0, 3))
    if shape == 0:
        return "".join(parts)
    body = " ".join(p for p in parts if p not in ("{{", "}}", "{{ ", " }}", "{{- ", " -}}"))
    text = "{{ " + body + " }}"
    if shape == 2:
        text = "{{ if $value }}" + text + "{{ end }}"
    if shape == 3:
        text = "{{ range $k, $v := $labels }}" + text + "{{ end }}"
    return text


COLLECTED: list[str] = []


@pytest.mark.slow
@settings(
    max_examples=400, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
@given(templates())
def test_generated_templates_are_collected(text: str) -> None:
    """Collects the examples; the next test sends them all to promtool in one run."""
    COLLECTED.append(text)


@pytest.mark.slow
def test_validate_refuses_exactly_the_templates_promtool_refuses() -> None:
    toolbox.require("promtool")
    texts = sorted(set(COLLECTED)) or [c[1] for c in CASES]
    texts += [c[1] for c in CASES]
    rules = {
        "groups": [
            {
                "name": "g",
                "rules": [
                    {"alert": f"A{i}", "expr": "up", "annotations": {"x": text}}
                    for i, text in enumerate(texts)
                ],
            }
        ]
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.yml"
        path.write_text(yaml.safe_dump(rules, allow_unicode=True))
        result = tools.run("promtool", ["check", "rules", str(path)], timeout=120)
    refused = {int(n) for n in re.findall(r'"A(\d+)": annotation "x": template', result.output)}
    disagreements = [
        (text, "promtool refuses" if i in refused else "promtool accepts", verdict(text))
        for i, text in enumerate(texts)
        if (i in refused) == (verdict(text) == "ok")
    ]
    assert disagreements == [], "\n".join(map(repr, disagreements))
    assert refused and len(refused) < len(texts)  # both verdicts were exercised
