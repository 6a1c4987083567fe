"""Dashboards type-check against Grafana's own schema: every generated dashboard, written as a
TypeScript constant of npm @grafana/schema's ``Dashboard`` type, passes ``tsc --noEmit``.

The npm packages are installed once into .cache/npm (gitignored) and reused; where npm is
missing the tests skip and say so.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sloforge.build.dashboards import build_dashboards as _build_dashboards
from sloforge.model import conventions as names
from sloforge.model.domain import Project
from sloforge.output.serialize import serialize
from sloforge.pipeline import load


def build_dashboards(project: Project) -> dict[str, bytes]:
    """What the builder's files hold once written."""
    return serialize(_build_dashboards(project))


ROOT = Path(__file__).resolve().parent.parent
NPM_CACHE = ROOT / ".cache" / "npm"
PACKAGES = {"@grafana/schema": "13.2.3", "typescript": "5.9.3"}

# Grafana's JSON holds an enum as its value ("absolute"), while TypeScript's string enums
# are nominal: only ThresholdsMode.Absolute would pass. Json<T> is T with every string enum
# replaced by the union of its values, which is exactly what the JSON may hold; everything
# else (required fields, unknown fields, null where no null is allowed) is checked as is.
JSON_TYPES = """\
import type { Dashboard } from "@grafana/schema";
export type Json<T> = T extends string ? `${T}`
  : T extends number | boolean | null | undefined ? T
  : T extends Array<infer U> ? Array<Json<U>>
  : T extends object ? { [K in keyof T]: Json<T[K]> }
  : T;
export type DashboardJson = Json<Dashboard>;
"""


def _tsc() -> Path:
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: cannot fetch @grafana/schema and typescript")
    manifest = {"private": True, "dependencies": PACKAGES}
    package = NPM_CACHE / "package.json"
    tsc = NPM_CACHE / "node_modules" / ".bin" / "tsc"
    if not tsc.exists() or not package.exists() or json.loads(package.read_text()) != manifest:
        NPM_CACHE.mkdir(parents=True, exist_ok=True)
        package.write_text(json.dumps(manifest, indent=2) + "\n")
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--no-package-lock", "--silent"],
            cwd=NPM_CACHE,
            check=True,
            timeout=600,
        )
    return tsc


def type_errors(dashboards: dict[str, dict[str, Any]], work: Path) -> list[str]:
    """tsc's error lines for these dashboards (file name -> JSON data), none when all pass."""
    tsc = _tsc()
    schema = NPM_CACHE / "node_modules" / "@grafana" / "schema" / "dist" / "types" / "index.d.ts"
    (work / "grafana-json.ts").write_text(JSON_TYPES)
    files = ["grafana-json.ts"]
    for path, data in sorted(dashboards.items()):
        name = Path(path).stem + ".ts"
        body = json.dumps(data, indent=2, ensure_ascii=False)
        (work / name).write_text(
            'import type { DashboardJson } from "./grafana-json";\n'
            f"export const dashboard: DashboardJson = {body};\n"
        )
        files.append(name)
    config = {
        "compilerOptions": {
            "strict": True,
            "noEmit": True,
            "skipLibCheck": True,
            "target": "es2022",
            "module": "esnext",
            "moduleResolution": "bundler",
            "paths": {"@grafana/schema": [str(schema)]},
        },
        "files": files,
    }
    (work / "tsconfig.json").write_text(json.dumps(config))
    result = subprocess.run(
        [str(tsc), "-p", str(work / "tsconfig.json")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    errors = [line for line in result.stdout.splitlines() if "error TS" in line]
    assert errors or result.returncode == 0, result.stdout + result.stderr
    return errors


def _generated(path: Path) -> dict[str, dict[str, Any]]:
    files = build_dashboards(load([path]).project)
    return {k: json.loads(v) for k, v in files.items() if k.endswith(".json")}


@pytest.mark.slow
@pytest.mark.parametrize(
    "inputs",
    [
        pytest.param(ROOT / "slo", id="the example's dashboards have no type error"),
        pytest.param(
            ROOT / "tests" / "fixtures" / "dashboards",
            id="a service with every SLI kind and a structured alert has no type error",
        ),
    ],
)
def test_dashboards_match_grafanas_schema(inputs, tmp_path):
    dashboards = _generated(inputs)
    assert len(dashboards) >= 2
    assert type_errors(dashboards, tmp_path) == []


@pytest.mark.slow
def test_the_type_check_finds_a_null_and_a_legacy_field(tmp_path):
    """The check itself can fail: grafanalib's nulls and old fields are what it caught."""
    path = names.dashboard_file(names.OVERVIEW_DASHBOARD)
    dashboard = _generated(ROOT / "tests" / "fixtures" / "dashboards")[path]
    dashboard["panels"][0]["description"] = None
    dashboard["timepicker"]["time_options"] = ["5m"]
    errors = type_errors({path: dashboard}, tmp_path)
    # Each line is "<file>(<line>,<col>): <message>"; the messages end in the expected type.
    messages = [e.split("): ", 1)[1].split(" in type ")[0] for e in errors]
    assert messages == [
        "error TS2322: Type 'null' is not assignable to type 'string | undefined'.",
        "error TS2353: Object literal may only specify known properties, "
        "and '\"time_options\"' does not exist",
    ]
