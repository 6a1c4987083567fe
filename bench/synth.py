"""Synthetic inputs for the benchmark: SLO documents and counter histories in OpenMetrics text.

Every SLO reads its own counter family ``bench_requests_total{slo_id=…}`` whose
series are routes × status codes, so an SLO's raw cardinality is exactly
``series_per_slo``. Traffic is deterministic (seeded), so two runs of the
benchmark read the same history.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

METRIC = "bench_requests"
CODES = ("200", "201", "404", "500", "503")
ERROR_CODES = ("500", "503")
OBJECTIVE = 99.9
BUDGET = 1 - OBJECTIVE / 100
BASE_ERROR_RATIO = 0.2 * BUDGET  # healthy: a fifth of the budget


@dataclass(frozen=True)
class Scenario:
    """Error ratio (as a multiple of the error budget) over time, on a traffic profile."""

    name: str
    burn: Callable[[float], float]  # seconds since history start -> burn rate
    traffic: Callable[[float], float] = lambda t: 1.0  # multiplier of the usual traffic


def _window(
    start: float, stop: float, inside: float, outside: float = 0.2
) -> Callable[[float], float]:
    return lambda t: inside if start <= t < stop else outside


def scenarios(history: float) -> list[Scenario]:
    """Outage, 10x, 2x, 0.5x, short spikes and a traffic drop, placed so every tier can react."""
    h = 3600.0
    late = history - 10 * h  # leaves time to fire and to resolve before the end
    return [
        Scenario("outage", _window(late, late + 0.5 * h, 1 / BUDGET)),
        Scenario("burn-10x", _window(late - 6 * h, late + 2 * h, 10.0)),
        Scenario("burn-2x", _window(0.25 * history, history - 4 * h, 2.0)),
        Scenario("burn-0.5x", _window(0.0, history, 0.5)),
        Scenario(
            "spikes", lambda t: 1 / BUDGET if (t % (3 * h)) < 180 and t > 0.5 * history else 0.2
        ),
        Scenario(
            "traffic-drop",
            _window(late, late + 3 * h, 20.0),
            traffic=lambda t: 0.05 if late - h <= t < late + 4 * h else 1.0,
        ),
    ]


def slo_id(index: int) -> str:
    return f"s{index:03d}"


def service_document(service: str, ids: list[str], strategy: str | None = None) -> dict[str, Any]:
    """One ServiceLevels document with an availability SLO per id."""
    slos = []
    for sid in ids:
        slo: dict[str, Any] = {
            "name": sid,
            "description": f"Synthetic benchmark SLO {sid}.",
            "objective": OBJECTIVE,
            "window": "30d",
            "sli": {
                "ratio": {
                    "errors": f'{METRIC}_total{{slo_id="{sid}", code=~"5.."}}',
                    "total": f'{METRIC}_total{{slo_id="{sid}"}}',
                }
            },
        }
        if strategy:
            slo["strategy"] = strategy
        slos.append(slo)
    return {
        "apiVersion": "sloforge/v1",
        "kind": "ServiceLevels",
        "service": service,
        "owner": "bench",
        "slos": slos,
    }


def write_documents(path: Path, documents: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False), encoding="utf-8")


@dataclass(frozen=True)
class Family:
    """The series of one SLO: how many, and the scenario driving its errors."""

    sid: str
    series: int
    scenario: Scenario | None = None


def _series_labels(family: Family) -> Iterator[tuple[str, float]]:
    """(label text, share of traffic) for every series; error codes carry the error share."""
    routes = max(1, family.series // len(CODES))
    rng = random.Random(family.sid)
    weights = [rng.uniform(0.5, 2.0) for _ in range(routes)]
    total_weight = sum(weights)
    for r, weight in enumerate(weights):
        for code in CODES:
            share = weight / total_weight
            share *= (
                1 / len(ERROR_CODES) if code in ERROR_CODES else 1 / (len(CODES) - len(ERROR_CODES))
            )
            yield f'slo_id="{family.sid}",route="r{r:02d}",code="{code}"', share


def openmetrics(
    families: list[Family], start: int, end: int, step: int, requests_per_second: float
) -> Iterator[str]:
    """Counter samples from ``start`` to ``end`` (inclusive) every ``step`` seconds, one series at a time."""
    yield f"# TYPE {METRIC} counter\n"
    for family in families:
        scenario = family.scenario
        for labels, share in _series_labels(family):
            is_error = f'code="{ERROR_CODES[0]}"' in labels or f'code="{ERROR_CODES[1]}"' in labels
            rng = random.Random(labels)
            value = rng.uniform(0, 1000)
            lines = []
            for ts in range(start, end + 1, step):
                t = ts - start
                traffic = scenario.traffic(t) if scenario else 1.0
                burn = scenario.burn(t) if scenario else 0.2 + 0.1 * math.sin(t / 7200)
                ratio = min(1.0, burn * BUDGET)
                part = ratio if is_error else 1 - ratio
                value += requests_per_second * traffic * share * part * step * rng.uniform(0.9, 1.1)
                lines.append(f"{METRIC}_total{{{labels}}} {value:.3f} {ts}\n")
            yield "".join(lines)
    yield "# EOF\n"


def write_openmetrics(
    path: Path, families: list[Family], start: int, end: int, step: int, rps: float
) -> int:
    """Writes the history; returns the number of samples."""
    samples = 0
    with path.open("w", encoding="utf-8") as out:
        for chunk in openmetrics(families, start, end, step, rps):
            out.write(chunk)
            samples += chunk.count("\n")
    return samples - 2


def generation_documents(slo_count: int, per_service: int = 10) -> list[dict[str, Any]]:
    """Synthetic ServiceLevels documents totalling ``slo_count`` SLOs, for the generation benchmark."""
    docs = []
    for s in range(0, slo_count, per_service):
        ids = [slo_id(i) for i in range(s, min(slo_count, s + per_service))]
        docs.append(service_document(f"gen-{s // per_service:05d}", ids))
    return docs
