"""Check a generated Alertmanager directory with the real amtool.

- ``check_config(out_dir)``: ``amtool check-config`` on ``alertmanager/alertmanager.yml``
  (templates included, resolved relative to the file, as Alertmanager does).
- ``verify_routing(out_dir)``: replays every ``expect:`` case written to
  ``alertmanager/tests/routing.test.yml`` through ``amtool config routes test``.

amtool resolves routes only: ``active_during`` and ``mute_during`` decide at
notification time whether a routed alert is sent, so they do not change a case's
receivers. The binary is ``$AMTOOL`` or ``amtool`` on PATH (see tools.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import ToolError
from ..model import conventions as names
from . import binaries as tools
from .report import Check

ROUTES_TIMEOUT = 60.0


@dataclass(frozen=True)
class ConfigCheck:
    file: str
    ok: bool
    output: str

    def __str__(self) -> str:
        verdict = "ok" if self.ok else "FAILED"
        return f"amtool check-config {self.file}: {verdict}" + (
            "" if self.ok else f"\n{self.output}"
        )


@dataclass(frozen=True)
class RoutingResult:
    labels: tuple[tuple[str, str], ...]
    expected: tuple[str, ...]
    actual: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return sorted(self.expected) == sorted(self.actual)

    @property
    def label_text(self) -> str:
        return "{" + ", ".join(f'{k}="{v}"' for k, v in self.labels) + "}"

    def __str__(self) -> str:
        if self.ok:
            return f"routing {self.label_text}: ok ({', '.join(self.actual)})"
        return (
            f"routing {self.label_text}: expected receivers {', '.join(self.expected) or 'none'}, "
            f"got {', '.join(self.actual) or 'none'}"
        )


def config_path(out_dir: Path) -> Path:
    return Path(out_dir) / names.ALERTMANAGER_CONFIG


def tests_path(out_dir: Path) -> Path:
    return Path(out_dir) / names.ALERTMANAGER_ROUTING_TESTS


def has_alertmanager(out_dir: Path) -> bool:
    return config_path(out_dir).is_file()


def check_config(out_dir: Path) -> ConfigCheck:
    config = config_path(out_dir)
    if not config.is_file():
        raise ToolError(
            f"{config}: no Alertmanager configuration here (run `sloforge generate` first)"
        )
    result = tools.run("amtool", ["check-config", str(config)], timeout=ROUTES_TIMEOUT)
    return ConfigCheck(str(config), result.returncode == 0, result.output)


def verify_routing(out_dir: Path) -> list[RoutingResult]:
    """One result per ``expect:`` case; an empty list when there are none."""
    config = config_path(out_dir)
    cases = _load_cases(tests_path(out_dir))
    return [_route(config, labels, expected) for labels, expected in cases]


def _load_cases(path: Path) -> list[tuple[dict[str, str], list[str]]]:
    if not path.is_file():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return [(dict(c["labels"]), list(c["receivers"])) for c in data.get("tests") or []]
    except (yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
        raise ToolError(f"{path}: not a sloforge routing test file ({exc})") from None


def _route(config: Path, labels: dict[str, str], expected: list[str]) -> RoutingResult:
    args = [
        "config",
        "routes",
        "test",
        f"--config.file={config}",
        *(_label_arg(k, v) for k, v in labels.items()),
    ]
    result = tools.run("amtool", args, timeout=ROUTES_TIMEOUT)
    if result.returncode != 0:
        raise ToolError(f"amtool config routes test failed for {labels}: {result.output}")
    lines = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    actual = tuple(r for r in (lines[0].split(",") if lines else []) if r)
    return RoutingResult(tuple(labels.items()), tuple(expected), actual)


def _label_arg(name: str, value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{name}="{escaped}"'


def testing_checks(out_dir: Path) -> list[Check]:
    """``sloforge test``'s view: check-config, then one check per routing expectation."""
    out_dir = Path(out_dir)
    if not has_alertmanager(out_dir):
        return []
    config_name = _shown(config_path(out_dir), out_dir)
    tests_name = _shown(tests_path(out_dir), out_dir)
    started = time.monotonic()
    config = check_config(out_dir)
    details = [] if config.ok else config.output.splitlines()[-15:]
    checks = [
        Check(config_name, "amtool check-config", config.ok, details, time.monotonic() - started)
    ]
    if not config.ok:
        skipped = "skipped: amtool check-config failed"
        checks.append(
            Check(tests_name, "amtool config routes test", False, [skipped], 0.0, skipped=True)
        )
        return checks
    for labels, expected in _load_cases(tests_path(out_dir)):
        started = time.monotonic()
        result = _route(config_path(out_dir), labels, expected)
        name = f"routes {result.label_text}"
        details = [] if result.ok else [str(result)]
        checks.append(Check(tests_name, name, result.ok, details, time.monotonic() - started))
    return checks


def _shown(path: Path, out_dir: Path) -> str:
    try:
        return path.relative_to(out_dir.parent).as_posix()
    except ValueError:
        return path.as_posix()
