"""Where an alert's runbook and dashboard live, as written into its annotations."""

from __future__ import annotations

from . import conventions as names
from .model import Settings


def runbook_url(settings: Settings, service: str, alert: str) -> str:
    """The configured base URL, or the runbook's path inside the output directory."""
    path = names.runbook_file(service, alert)
    if settings.runbook_base_url:
        return f"{settings.runbook_base_url.rstrip('/')}/{path.removeprefix('runbooks/')}"
    return path


def dashboard_uid(service: str) -> str:
    return f"sloforge-{service}"[:40]


def dashboard_url(settings: Settings, service: str) -> str | None:
    """Grafana's URL for the service dashboard, when a Grafana base URL is configured."""
    if not settings.dashboard_base_url:
        return None
    return f"{settings.dashboard_base_url.rstrip('/')}/d/{dashboard_uid(service)}"
