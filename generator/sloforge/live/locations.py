"""Where in the input files an SLO's or alert's fields were written, for located findings."""

from __future__ import annotations

import os
from collections.abc import Iterable

from ..errors import Location
from ..model.domain import SLO, Alert, Service
from ..spec.loader import Document, PathKey, load_paths


class Locator:
    """Positions of SLOs and alerts in the sloforge/v1 documents under ``paths``.

    Converted (Sloth, Pyrra, OpenSLO) documents have no such fields: their
    findings are located at the service's source file.
    """

    def __init__(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        documents, _ = load_paths(list(paths))
        self._services: dict[str, Document] = {}
        for document in documents:
            data = document.data
            if isinstance(data, dict) and data.get("kind") == "ServiceLevels":
                self._services.setdefault(str(data.get("service")), document)

    def service(self, service: Service) -> Location:
        document = self._services.get(service.name)
        return document.locate(("service",)) if document else Location(service.source)

    def slo(self, service: Service, slo: SLO) -> Location:
        return self._locate(service, "slos", slo.name, "name", ())

    def slo_field(self, service: Service, slo: SLO, path: PathKey) -> Location:
        return self._locate(service, "slos", slo.name, "name", ("sli", *path))

    def alert_field(self, service: Service, alert: Alert, field: str) -> Location:
        return self._locate(service, "alerts", alert.name, "name", (field,))

    def _locate(
        self, service: Service, section: str, name: str, key: str, path: PathKey
    ) -> Location:
        document = self._services.get(service.name)
        if document is None:
            return Location(service.source)
        items = document.data.get(section) or []
        for i, item in enumerate(items):
            if isinstance(item, dict) and item.get(key) == name:
                return document.locate((section, i, *path))
        return document.locate(())
