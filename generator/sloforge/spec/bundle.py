"""What validation hands to planning: the checked spec models and where each came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import Problem
from .loader import Document


@dataclass
class Located:
    """A validated spec model and the document it came from, for locating later problems."""

    spec: Any
    document: Document


@dataclass
class Bundle:
    services: list[Located] = field(default_factory=list)
    routing: Located | None = None
    settings: Located | None = None
    warnings: list[Problem] = field(default_factory=list)

    @property
    def sources(self) -> list[str]:
        docs = [s.document for s in self.services]
        docs += [x.document for x in (self.routing, self.settings) if x is not None]
        return sorted({d.file for d in docs})
