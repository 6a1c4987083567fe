"""Each deployment target's output, checked by the tool that consumes it where one runs here.

- Prometheus, Thanos and Mimir rule groups: promtool check rules (stable and current). promtool
  refuses Thanos' ``partial_response_strategy`` and Mimir's ``namespace`` keys, so those are
  checked structurally, then removed, and what is left must pass promtool.
- Kubernetes resources (PrometheusRule, AlertmanagerConfig, Secret): a small schema check.
- The configuration Secret for the Prometheus Operator: amtool check-config on its contents.
- The mixin: evaluated with the jsonnet Python binding, it holds exactly the Prometheus target's
  rule groups and the Grafana dashboards.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import _jsonnet
import pytest
import yaml
from sloforge.build.targets import OPERATOR_CONFIG_DIR, TARGETS
from sloforge.errors import CompileError, SpecError
from sloforge.model import conventions as names
from sloforge.output.writer import write_tree
from sloforge.pipeline import build_outputs, load
from toolbox import ROOT, binaries, require

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "targets"
ALL = list(TARGETS)
DNS_1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


@pytest.fixture(scope="module")
def outputs() -> dict[str, bytes]:
    return build_outputs(load([FIXTURE]).project, ALL)


@pytest.fixture(scope="module")
def tree(outputs: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("targets")
    write_tree(out, outputs)
    return out


def _files(outputs: dict[str, bytes], prefix: str) -> dict[str, Any]:
    return {k: yaml.safe_load(v) for k, v in outputs.items() if k.startswith(prefix)}


def _prometheus_groups(outputs: dict[str, bytes]) -> list[dict[str, Any]]:
    return [g for doc in _files(outputs, "prometheus/rules/").values() for g in doc["groups"]]


def _promtool_check(tmp: Path, groups: list[dict[str, Any]]) -> None:
    tmp.mkdir(exist_ok=True)
    path = tmp / "rules.yml"
    path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    found = binaries("promtool") or [("missing", require("promtool"))]
    for label, promtool in found:
        result = subprocess.run(
            [promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, f"promtool ({label}): {result.stdout}{result.stderr}"


def _check_resource(doc: dict[str, Any], api_version: str, kind: str) -> None:
    """The parts of a Kubernetes object the API server and the Operator insist on."""
    assert doc["apiVersion"] == api_version
    assert doc["kind"] == kind
    metadata = doc["metadata"]
    assert DNS_1123.match(metadata["name"]) and len(metadata["name"]) <= 253, metadata["name"]
    assert all(isinstance(v, str) for v in metadata.get("labels", {}).values())
    assert set(doc) <= {"apiVersion", "kind", "metadata", "spec", "type", "stringData"}


# --- rule files ---------------------------------------------------------------------


def test_every_target_is_written(outputs: dict[str, bytes]) -> None:
    prefixes = ("prometheus/rules/", "prometheus-operator/", "mimir/", "thanos/", "mixin/")
    for prefix in prefixes:
        assert any(k.startswith(prefix) for k in outputs), f"nothing under {prefix}"


@pytest.mark.slow
def test_prometheus_rule_files_pass_promtool(outputs: dict[str, bytes], tmp_path: Path) -> None:
    _promtool_check(tmp_path, _prometheus_groups(outputs))


@pytest.mark.slow
def test_prometheus_rule_resources_are_valid_and_hold_the_same_groups(
    outputs: dict[str, bytes], tmp_path: Path
) -> None:
    resources = _files(outputs, "prometheus-operator/rules/")
    assert list(resources) == [names.operator_rule_file("payments")]
    groups = []
    for doc in resources.values():
        _check_resource(doc, "monitoring.coreos.com/v1", "PrometheusRule")
        assert set(doc["spec"]) == {"groups"}
        for group in doc["spec"]["groups"]:
            assert set(group) <= {"name", "interval", "rules", "limit", "partial_response_strategy"}
            assert group["rules"], f"group {group['name']} is empty"
        groups += doc["spec"]["groups"]
    assert groups == _prometheus_groups(outputs)
    _promtool_check(tmp_path, groups)


@pytest.mark.slow
def test_thanos_groups_say_how_to_treat_partial_responses(
    outputs: dict[str, bytes], tmp_path: Path
) -> None:
    groups = [g for doc in _files(outputs, "thanos/").values() for g in doc["groups"]]
    assert groups and all(g["partial_response_strategy"] in ("warn", "abort") for g in groups)
    stripped = [{k: v for k, v in g.items() if k != "partial_response_strategy"} for g in groups]
    assert stripped == _prometheus_groups(outputs)
    _promtool_check(tmp_path, stripped)


@pytest.mark.slow
def test_mimir_namespaces_are_one_file_per_service(
    outputs: dict[str, bytes], tmp_path: Path
) -> None:
    files = _files(outputs, "mimir/")
    assert list(files) == [names.mimir_rules_file("payments")]
    doc = files[names.mimir_rules_file("payments")]
    assert set(doc) == {"namespace", "groups"} and doc["namespace"] == "payments"
    assert doc["groups"] == _prometheus_groups(outputs)
    _promtool_check(tmp_path, doc["groups"])


# --- Alertmanager for the Prometheus Operator ---------------------------------------


def test_alertmanager_config_resource_routes_only_to_defined_receivers(
    outputs: dict[str, bytes],
) -> None:
    doc = yaml.safe_load(outputs[names.OPERATOR_ALERTMANAGER_CONFIG])
    _check_resource(doc, "monitoring.coreos.com/v1alpha1", "AlertmanagerConfig")
    spec = doc["spec"]
    receivers = {r["name"] for r in spec["receivers"]}
    intervals = {t["name"] for t in spec.get("muteTimeIntervals", [])}

    def walk(route: dict[str, Any]) -> None:
        assert route["receiver"] in receivers
        for m in route.get("matchers", []):
            assert set(m) == {"name", "value", "matchType"} and m["matchType"] in (
                "=",
                "!=",
                "=~",
                "!~",
            )
        assert set(route.get("activeTimeIntervals", [])) <= intervals
        assert not any("_" in key for key in route), f"snake_case key in {sorted(route)}"
        for child in route.get("routes", []):
            walk(child)

    walk(spec["route"])
    email = next(r for r in spec["receivers"] if r["name"] == "noc-email")["emailConfigs"][0]
    assert (
        email["smarthost"] == "smtp.example.com:587" and email["from"] == "alertmanager@example.com"
    )
    assert email["authPassword"] == {"name": names.OPERATOR_SECRET_NAME, "key": "smtp-password"}
    assert all(set(h) == {"key", "value"} for h in email["headers"])
    pager = next(r for r in spec["receivers"] if r["name"] == "oncall-pager")
    assert pager["pagerdutyConfigs"][0]["routingKey"] == {
        "name": names.OPERATOR_SECRET_NAME,
        "key": "pagerduty",
    }


@pytest.mark.slow
def test_alertmanager_config_secret_passes_amtool(
    outputs: dict[str, bytes], tmp_path: Path
) -> None:
    secret = yaml.safe_load(outputs[names.OPERATOR_ALERTMANAGER_SECRET])
    _check_resource(secret, "v1", "Secret")
    data = secret["stringData"]
    config = yaml.safe_load(data.pop("alertmanager.yaml"))
    assert config["templates"] == [f"{OPERATOR_CONFIG_DIR}/*.tmpl"]
    assert data and all(name.endswith(".tmpl") for name in data)
    for name, text in data.items():  # the Operator mounts every key in one directory
        (tmp_path / name).write_text(text)
    config["templates"] = [str(tmp_path / "*.tmpl")]
    (tmp_path / "alertmanager.yml").write_text(yaml.safe_dump(config))
    amtool = require("amtool")
    result = subprocess.run(
        [amtool, "check-config", str(tmp_path / "alertmanager.yml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 templates" in result.stdout  # one glob, expanded to the mounted files


def test_time_zones_leave_a_note_instead_of_an_alertmanager_config(tmp_path: Path) -> None:
    routing = (
        (FIXTURE / "routing.yaml")
        .read_text()
        .replace('end_time: "17:00"}]}', 'end_time: "17:00"}], location: Asia/Tehran}')
    )
    assert "Asia/Tehran" in routing
    for name in ("payments.yaml", "settings.yaml"):
        (tmp_path / name).write_text((FIXTURE / name).read_text())
    (tmp_path / "routing.yaml").write_text(routing)
    outputs = build_outputs(load([tmp_path]).project, ["prometheus-operator"])
    note = outputs[names.OPERATOR_ALERTMANAGER_CONFIG].decode()
    assert (
        "# No AlertmanagerConfig: time interval `business-hours` uses location 'Asia/Tehran'"
        in note
    )
    assert yaml.safe_load(note) is None
    assert names.OPERATOR_ALERTMANAGER_SECRET in outputs


# --- mixin ----------------------------------------------------------------------------


def test_mixin_evaluates_to_the_prometheus_rules_and_dashboards(
    tree: Path, outputs: dict[str, bytes]
) -> None:
    # The fields are hidden (::), as in every mixin; consumers read them by name.
    snippet = (
        f"local m = import '{tree / names.MIXIN_MAIN}';\n"
        "{ prometheusRules: m.prometheusRules, prometheusAlerts: m.prometheusAlerts, "
        "grafanaDashboards: m.grafanaDashboards }"
    )
    mixin = json.loads(_jsonnet.evaluate_snippet("consumer.jsonnet", snippet))
    rules, alerts = mixin["prometheusRules"]["groups"], mixin["prometheusAlerts"]["groups"]
    assert all(any("alert" in r for r in g["rules"]) for g in alerts)
    assert not any("alert" in r for g in rules for r in g["rules"])
    by_name = lambda groups: sorted(groups, key=lambda g: g["name"])  # noqa: E731
    assert by_name(rules + alerts) == by_name(_prometheus_groups(outputs))
    dashboards = {Path(k).name for k in outputs if k.startswith("grafana/dashboards/")}
    assert set(mixin["grafanaDashboards"]) == dashboards
    for name in dashboards:
        assert mixin["grafanaDashboards"][name] == json.loads(outputs[f"grafana/dashboards/{name}"])


def test_mixin_extends_what_a_consumer_already_has(tree: Path) -> None:
    snippet = (
        "local base = { prometheusAlerts:: { groups: [{ name: 'theirs', rules: [] }] } };\n"
        f"(base + import '{tree / names.MIXIN_MAIN}').prometheusAlerts.groups[0].name"
    )
    assert json.loads(_jsonnet.evaluate_snippet("consumer.jsonnet", snippet)) == "theirs"


# --- choosing targets -----------------------------------------------------------------


def test_settings_choose_the_targets_and_the_option_overrides_them() -> None:
    project = load([FIXTURE]).project
    assert project.settings.targets == ("prometheus", "mimir")
    chosen = build_outputs(project)
    assert any(k.startswith("mimir/") for k in chosen) and not any(
        k.startswith("thanos/") for k in chosen
    )
    overridden = build_outputs(project, ["thanos"])
    assert any(k.startswith("thanos/") for k in overridden) and not any(
        k.startswith("mimir/") for k in overridden
    )


def test_an_unknown_target_is_named() -> None:
    with pytest.raises(
        CompileError, match="unknown target 'cortex'; choose from prometheus, prometheus-operator"
    ):
        build_outputs(load([FIXTURE]).project, ["cortex"])


def test_generate_with_target_option_writes_the_target(tmp_path: Path) -> None:
    sloforge = ROOT / ".venv" / "bin" / "sloforge"
    result = subprocess.run(
        [str(sloforge), "generate", str(FIXTURE), "--out", str(tmp_path), "--target", "thanos"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / names.thanos_rules_file("payments")).is_file()
    assert not (tmp_path / "mimir").exists()
    check = subprocess.run(
        [str(sloforge), "check", str(FIXTURE), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 1 and "mimir/payments.yaml" in check.stderr


def test_targets_are_deterministic(outputs: dict[str, bytes]) -> None:
    assert build_outputs(load([FIXTURE]).project, ALL) == outputs


def test_an_unknown_target_in_settings_is_located(tmp_path: Path) -> None:
    (tmp_path / "payments.yaml").write_text((FIXTURE / "payments.yaml").read_text())
    (tmp_path / "settings.yaml").write_text(
        "apiVersion: sloforge/v1\nkind: Settings\ntargets: [prometheus, thanoss]\n"
    )
    with pytest.raises(SpecError) as caught:
        load([tmp_path])
    assert str(caught.value) == (
        f"{(tmp_path / 'settings.yaml').as_posix()}:3:23: targets[1]: unknown target 'thanoss'; "
        "choose from prometheus, prometheus-operator, mimir, thanos, mixin, did you mean `thanos`?"
    )


def test_an_unknown_target_option_is_a_usage_error(tmp_path: Path) -> None:
    sloforge = ROOT / ".venv" / "bin" / "sloforge"
    result = subprocess.run(
        [str(sloforge), "generate", str(FIXTURE), "--out", str(tmp_path), "--target", "cortex"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "unknown target 'cortex'; choose from prometheus, prometheus-operator" in result.stderr
    assert not any(tmp_path.iterdir()), "a usage error writes nothing"


def test_validation_knows_exactly_the_targets_that_have_a_builder() -> None:
    # validate reads target names from conventions, never from this build module.
    assert tuple(TARGETS) == names.TARGETS
