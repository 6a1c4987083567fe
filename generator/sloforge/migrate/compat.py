"""``--keep-labels``: converted SLOs keep the label names the source tool put on its rules.

Alertmanager routes, silences and dashboards written for Sloth select on
``sloth_service``, ``sloth_slo``, ``sloth_id`` and ``sloth_severity``; Pyrra's
select on ``slo`` holding the resource's name. Keeping them lets a team switch
the rules first and rewrite its routes later (docs/migration.md has the table
that translates each one to sloforge's own labels).
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

from ..spec.loader import Document

SLOTH_LABELS = ("sloth_id", "sloth_service", "sloth_slo")
SLOTH_SEVERITY = "sloth_severity"


def keep_labels(document: Document, tool: str) -> Document:
    data = copy.deepcopy(document.data)
    if tool == "Sloth":
        _sloth(data)
    elif tool == "Pyrra":
        _pyrra(data)
    return replace(document, data=data)


def _sloth(data: dict[str, Any]) -> None:
    service = str(data.get("service"))
    for slo in data.get("slos", []):
        name = str(slo.get("name"))
        values = (f"{service}-{name}", service, name)
        slo["labels"] = {**slo.get("labels", {}), **dict(zip(SLOTH_LABELS, values, strict=True))}
        alerting = slo.setdefault("alerting", {})
        for tier in ("page", "ticket"):
            policy = alerting.setdefault(tier, {})
            policy["labels"] = {**policy.get("labels", {}), SLOTH_SEVERITY: tier}


def _pyrra(data: dict[str, Any]) -> None:
    # Pyrra labels every rule slo="<resource name>", the converted service's name.
    for slo in data.get("slos", []):
        slo["name"] = data.get("service")
