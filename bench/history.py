"""A Prometheus TSDB with the benchmark's raw history and every recorded series the rules read.

Raw counters are backfilled from OpenMetrics text. Recorded series are then
backfilled with ``promtool tsdb create-blocks-from rules`` one dependency stage
at a time (promtool cannot backfill a rule from another rule of the same run),
restarting Prometheus between stages so the next stage reads the blocks just
written. Series read over a range get the whole history; series read only as an
instant vector get just the tail the final evaluation looks at.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sloforge.build.rules import build_rules
from sloforge.model.domain import SLO
from sloforge.pipeline import load

from . import baseline, promapi, synth

TAIL = 1800


@dataclass(frozen=True)
class Size:
    load_slos: int
    series_per_slo: int
    scenario_series: int
    history_seconds: int
    scrape_seconds: int
    requests_per_second: float = 50.0
    repeats: int = 3


FULL = Size(
    load_slos=10,
    series_per_slo=100,
    scenario_series=5,
    history_seconds=int(3.5 * 86400) + 3600,
    scrape_seconds=60,
)
TINY = Size(
    load_slos=2,
    series_per_slo=10,
    scenario_series=5,
    history_seconds=4 * 3600,
    scrape_seconds=60,
    repeats=1,
)


@dataclass(frozen=True)
class RuleSet:
    name: str
    rules: dict[str, Any]
    slos: tuple[SLO, ...] = ()


@dataclass(frozen=True)
class History:
    storage: Path
    start: int
    end: int  # the instant every evaluation is measured at
    size: Size
    load: dict[str, RuleSet]  # exact, efficient, baseline over the load SLOs
    scenarios: dict[str, RuleSet]  # exact, efficient over the scenario SLOs
    scenario_names: dict[str, str]  # slo id -> scenario name
    raw_samples: int
    build_seconds: float


def sloforge_rules(service: str, ids: list[str], strategy: str, workdir: Path) -> RuleSet:
    source = workdir / f"{service}.yaml"
    synth.write_documents(source, [synth.service_document(service, ids, strategy)])
    project = load([source]).project
    (svc,) = project.services
    return RuleSet(strategy, build_rules(svc, project.settings), svc.slos)


def build(tools: promapi.Tools, size: Size, workdir: Path) -> History:
    began = time.monotonic()
    step = size.scrape_seconds
    end = (
        int(time.time()) // 3600 - 3
    ) * 3600  # on the hour, in the past, so blocks never meet the head
    start = end - size.history_seconds
    load_ids = [synth.slo_id(i) for i in range(size.load_slos)]
    stories = synth.scenarios(size.history_seconds)
    scenario_ids = [synth.slo_id(900 + i) for i in range(len(stories))]
    families = [synth.Family(sid, size.series_per_slo) for sid in load_ids]
    families += [
        synth.Family(sid, size.scenario_series, s)
        for sid, s in zip(scenario_ids, stories, strict=True)
    ]
    storage = workdir / "tsdb"
    storage.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="sloforge-bench-om-", dir=workdir) as tmp:
        om = Path(tmp) / "history.om"
        raw_samples = synth.write_openmetrics(
            om, families, start, end, step, size.requests_per_second
        )
        promapi.backfill_openmetrics(tools, om, storage)
    load_sets = {
        "exact": sloforge_rules("load-exact", load_ids, "exact", workdir),
        "efficient": sloforge_rules("load-efficient", load_ids, "efficient", workdir),
        "baseline": RuleSet("baseline", baseline.rules(load_ids)),
    }
    scenario_sets = {
        "exact": sloforge_rules("scenario-exact", scenario_ids, "exact", workdir),
        "efficient": sloforge_rules("scenario-efficient", scenario_ids, "efficient", workdir),
    }
    every = [r.rules for r in (*load_sets.values(), *scenario_sets.values())]
    for stage in promapi.backfill_plan(every):
        with promapi.serve(tools, storage) as url:
            full = [rec for rec, ranged in stage if ranged]
            tail = [rec for rec, ranged in stage if not ranged]
            promapi.backfill_rules(tools, url, full, start, end, storage)
            promapi.backfill_rules(tools, url, tail, end - TAIL, end, storage)
    return History(
        storage,
        start,
        end,
        size,
        load_sets,
        scenario_sets,
        {sid: s.name for sid, s in zip(scenario_ids, stories, strict=True)},
        raw_samples,
        time.monotonic() - began,
    )
