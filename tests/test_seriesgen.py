"""Synthetic series for generated tests: a series that one selector matches and another does not.

A ratio SLI written as `good` + `total` needs a bad series: one `total` matches and
`good` does not. Negative matchers (`code!~"5.."`, `code!="200"`) are the usual way to
write `good`, so the values they refuse must be among the candidates.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sloforge.build.seriesgen import label_set_excluded, matches
from sloforge.model.promql import parse_selector
from sloforge_testlib import compile_to, promtool_test
from toolbox import binaries

TOTAL = 'http_requests_total{job="web"}'

EXCLUDED = [
    ("good written with a negative regex", 'http_requests_total{job="web", code!~"5.."}'),
    ("good written with a negative equality", 'http_requests_total{job="web", code!="200"}'),
    ("good written with a negative alternation", 'http_requests_total{job="web", code!~"5..|429"}'),
    ("errors written with a positive regex", 'http_requests_total{job="web", code=~"5.."}'),
    ("good written with a positive equality", 'http_requests_total{job="web", outcome="ok"}'),
]


@pytest.mark.parametrize(("title", "excluded"), EXCLUDED, ids=[t for t, _ in EXCLUDED])
def test_a_series_of_the_total_outside_the_excluded_selector_is_found(
    title: str, excluded: str
) -> None:
    base, other = parse_selector(TOTAL), parse_selector(excluded)
    labels = label_set_excluded(base, other)
    assert all(matches(m, labels.get(m.label, "")) for m in base.matchers), labels
    assert not all(matches(m, labels.get(m.label, "")) for m in other.matchers), labels


GOOD_BY_NEGATION = """\
apiVersion: sloforge/v1
kind: ServiceLevels
service: web
slos:
  - name: availability
    objective: 99.5
    sli:
      ratio:
        good: http_requests_total{job="web", code!~"5.."}
        total: http_requests_total{job="web"}
"""


@pytest.mark.slow  # runs promtool
def test_a_good_selector_with_a_negative_regex_gets_generated_tests_that_pass(
    tmp_path: Path,
) -> None:
    promtools = binaries("promtool")
    if not promtools:
        pytest.skip("promtool is not installed (run `make setup`)")
    source = tmp_path / "slo" / "web.yaml"
    source.parent.mkdir()
    source.write_text(GOOD_BY_NEGATION)
    files = compile_to([source.parent], tmp_path / "out")
    tests = sorted(rel for rel in files if rel.startswith("prometheus/tests/"))
    assert tests, files.keys()
    for rel in tests:
        assert b"untested" not in files[rel], files[rel].decode()[:600]
    for label, promtool in promtools:
        for rel in tests:
            result = promtool_test(promtool, tmp_path / "out" / rel)
            assert result.returncode == 0, (label, rel, result.stdout[-3000:])
