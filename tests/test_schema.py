"""`sloforge schema`: JSON Schema an editor can use, with a description on every property."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sloforge.spec.schema import json_schema
from yaml_language_server import Server

ROOT = Path(__file__).resolve().parent.parent
YAML_LANGUAGE_SERVER = "yaml-language-server@1.25.0"


def properties(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, schema) of every property anywhere in the schema."""
    if isinstance(node, dict):
        for name, sub in (node.get("properties") or {}).items():
            yield f"{path}.{name}", sub
        for key, value in node.items():
            yield from properties(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from properties(value, f"{path}[{i}]")


def keywords(node: Any, inside_properties: bool = False) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if not inside_properties:
                yield key
            yield from keywords(value, key in ("properties", "$defs"))
    elif isinstance(node, list):
        for value in node:
            yield from keywords(value)


def test_every_property_has_a_description() -> None:
    found = list(properties(json_schema()))
    assert len(found) > 150
    assert [where for where, sub in found if not sub.get("description", "").strip()] == []


def test_bounds_use_standard_json_schema_keywords_and_the_schema_has_an_id() -> None:
    schema = json_schema()
    assert schema["$id"] == "urn:sloforge:schema:sloforge/v1"
    assert {"gt", "lt", "ge", "le"} & set(keywords(schema)) == set()
    objective = schema["$defs"]["SLOSpec"]["properties"]["objective"]
    assert (objective["exclusiveMinimum"], objective["exclusiveMaximum"]) == (0, 100)


def test_a_description_reads_on_one_line() -> None:
    schema = json_schema()
    tier = schema["$defs"]["TierSpec"]["properties"]["budget_consumed"]["description"]
    assert tier == (
        "Percent of the period's budget spent over the long window when the tier fires "
        "(instead of `burn_rate`)."
    )


PLANTED = """\
apiVersion: sloforge/v1
kind: ServiceLevels
service: shop
slos:
  - name: availability
    objective: 120
    sli:
      probe: probe_success{job="shop"}
colour: red
"""


@pytest.fixture(scope="module")
def language_server(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """yaml-language-server from npm, installed into a temporary folder."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        pytest.skip("npm and node are needed to install and run yaml-language-server")
    prefix = tmp_path_factory.mktemp("npm")
    subprocess.run(
        [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--silent",
         YAML_LANGUAGE_SERVER],
        check=True,
        timeout=600,
    )  # fmt: skip
    server = prefix / "node_modules/yaml-language-server/bin/yaml-language-server"
    return ["node", str(server), "--stdio"]


@pytest.mark.slow
def test_yaml_language_server_accepts_the_example_and_flags_a_planted_mistake(
    language_server: list[str], tmp_path: Path
) -> None:
    schema = tmp_path / "sloforge.schema.json"
    schema.write_text(json.dumps(json_schema()))
    planted = tmp_path / "planted.yaml"
    planted.write_text(PLANTED)
    examples = sorted((ROOT / "slo").glob("*.yaml"))
    found = Server(language_server, schema).diagnose([*examples, planted])
    assert {path.name: found[path] for path in examples} == {path.name: [] for path in examples}
    assert found[planted] == [
        "6:16: Value is above the exclusive maximum of 100.",
        "9:1: Property colour is not allowed.",
    ]
