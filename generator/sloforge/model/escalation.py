"""Escalation: an alert still firing after its severity's delay raises a second alert.

The escalation is a Prometheus alerting rule over ``ALERTS``, placed in the same
rule group right after the alerts it watches, so it reads their state of the
same evaluation: it is pending while the source fires and fires once the source
has fired for ``after`` without a break (its ``for``). It carries the source's
labels, the target severity's label and ``escalated_from``; the catalog routes
it like any alert of the target severity. Escalation is one step: an escalation
alert is never escalated again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from . import conventions as names
from .domain import Alert, Settings
from .durations import format_duration
from .promql import Matcher, Selector


@dataclass(frozen=True)
class Escalation:
    source: str  # the watched alert's name
    from_name: str  # catalog names and labels of the two severities
    from_label: str
    to_name: str
    to_label: str
    after: int  # seconds
    scope: tuple[tuple[str, str], ...]  # labels that pin the source (service, SLO)

    @property
    def alert(self) -> str:
        return names.escalation_alert_name(self.source)

    def expr(self) -> str:
        """The source's firing ALERTS series, without the alertstate label."""
        matchers = [
            Matcher(names.LABEL_ALERTNAME, "=", self.source),
            Matcher(names.LABEL_ALERTSTATE, "=", "firing"),
            Matcher(names.LABEL_SEVERITY, "=", self.from_label),
            *(Matcher(k, "=", v) for k, v in self.scope),
        ]
        alerts = Selector(names.ALERTS_METRIC, tuple(matchers)).render()
        return f"max without ({names.LABEL_ALERTSTATE}) ({alerts})"

    def labels(self) -> dict[str, str]:
        """The rule's own labels; every other label comes from the source's series."""
        return {
            **dict(self.scope),
            names.LABEL_SEVERITY: self.to_label,
            names.LABEL_ESCALATED_FROM: self.from_label,
        }

    def summary(self) -> str:
        return (
            f"{self.source} has been firing at {self.from_name} for more than "
            f"{format_duration(self.after)}; escalated to {self.to_name}."
        )

    def as_alert(self, service: str, description: str) -> Alert:
        """The escalation as a plain alert, for the pages that list alerts (runbooks)."""
        return Alert(
            service=service,
            name=self.alert,
            expr=self.expr(),
            for_=self.after,
            severity=self.to_label,
            labels=tuple(sorted(self.labels().items())),
            annotations=(
                (names.ANNOTATION_SUMMARY, self.summary()),
                (names.ANNOTATION_DESCRIPTION, description),
            ),
            runbook=(
                f"{self.source} has kept firing for {format_duration(self.after)}: nobody has "
                f"resolved it yet. Work through the runbook of {self.source} first; this page "
                "is for whoever the escalation reaches."
            ),
            summary=self.summary(),
        )


def escalations(
    settings: Settings, source: str, severities: Iterable[str], scope: dict[str, str]
) -> list[Escalation]:
    """One escalation per severity label of ``source`` whose catalog entry escalates."""
    found = []
    for label in dict.fromkeys(severities):
        level = settings.severity_by_label(label)
        if level is None or level.escalate is None:
            continue
        target = settings.severity(level.escalate.to)
        if target is None:
            continue  # validate.py refuses an unknown target
        found.append(
            Escalation(
                source,
                level.name,
                label,
                target.name,
                target.label,
                level.escalate.after,
                tuple(scope.items()),
            )
        )
    return found
