"""A problem in a Sloth, Pyrra or OpenSLO document names the file, line and field the user
wrote, not the converted sloforge/v1 document (issue 14, class 6).

Converted documents are validated like hand-written ones; spec/foreign/ records
where each converted field came from, so `generate`, `validate` and `import`
all point into the original file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sloforge.errors import SpecError
from sloforge.pipeline import import_file, load

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "import" / "locations"

CASES = [
    pytest.param(
        "sloth",
        "sloth-k8s-objective.yaml",
        "9:7: spec.slos[0].objective: must be less than 100 (got 100.5)",
        id="a Sloth resource's objective is named under its spec",
    ),
    pytest.param(
        "sloth",
        "sloth-total-query.yaml",
        "11:9: slos[0].sli.events.total_query: invalid PromQL: unclosed left parenthesis",
        id="a Sloth query is named by its own field, not the converted sli.query.total",
    ),
    pytest.param(
        "pyrra",
        "pyrra-target.yaml",
        "8:3: spec.target: must be less than 100 (got 100)",
        id="a Pyrra target is the objective it became",
    ),
    pytest.param(
        "pyrra",
        "pyrra-name.yaml",
        "4:3: metadata.name: must be lower-case letters, digits and dashes, starting with a "
        "letter or digit, because it names output files (got 'Checkout_API'), e.g. 'checkout-api'",
        id="a Pyrra resource name is the service it became",
    ),
    pytest.param(
        "openslo",
        "openslo-target.yaml",
        "29:7: spec.objectives[0].target: must be less than 100 (got 100.0)",
        id="an OpenSLO target ratio is named at its line",
    ),
    pytest.param(
        "openslo",
        "openslo-second-document.yaml",
        "48:17: spec.alertPolicies[0].spec.conditions[0].spec.condition.threshold: "
        "must be greater than 0 (got 0.0)",
        id="a merged OpenSLO service points into the second document it came from",
    ),
]


@pytest.mark.parametrize(("tool", "fixture", "expected"), CASES)
def test_a_converted_document_is_located_in_the_original_file(
    tool: str, fixture: str, expected: str
) -> None:
    source = FIXTURES / fixture
    with pytest.raises(SpecError) as caught:
        load([source])
    assert str(caught.value) == f"{source.as_posix()}:{expected}"


@pytest.mark.parametrize(("tool", "fixture", "expected"), CASES)
def test_import_reports_the_same_place(tool: str, fixture: str, expected: str) -> None:
    source = FIXTURES / fixture
    with pytest.raises(SpecError) as caught:
        import_file(tool, str(source))
    assert str(caught.value) == f"{source.as_posix()}:{expected}"
