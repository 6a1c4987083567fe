"""Where an alert's runbook and dashboard live, as written into its annotations."""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from . import conventions as names
from .domain import Settings

# Grafana dashboard uids are at most 40 characters of [a-zA-Z0-9_-].
_UID_LIMIT = 40
OVERVIEW_UID = names.OVERVIEW_DASHBOARD_UID
BUSINESS_UID = names.BUSINESS_DASHBOARD_UID


def runbook_url(settings: Settings, service: str, alert: str) -> str:
    """The configured base URL, or the runbook's path inside the output directory."""
    path = names.runbook_file(service, alert)
    if settings.runbook_base_url:
        return f"{settings.runbook_base_url.rstrip('/')}/{path.removeprefix('runbooks/')}"
    return path


def dashboard_uid(service: str) -> str:
    uid = f"{names.DASHBOARD_UID_PREFIX}{service}"
    if len(uid) <= _UID_LIMIT:
        return uid
    # Truncating alone would give two long service names the same uid.
    digest = hashlib.sha256(service.encode()).hexdigest()[:8]
    return f"{uid[: _UID_LIMIT - 9]}-{digest}"


def dashboard_url(settings: Settings, service: str, slo: str | None = None) -> str:
    """The service dashboard in Grafana, optionally with one SLO selected.

    With ``dashboard_base_url`` set this is an absolute URL; without it, Grafana's
    own path ``/d/<uid>``, which works inside Grafana and which notification
    templates can prefix with their Grafana address.
    """
    return _grafana_url(
        settings,
        dashboard_uid(service),
        {f"var-{names.DASHBOARD_SLO_VARIABLE}": slo} if slo else {},
    )


def panel_url(settings: Settings, uid: str, panel_id: int) -> str:
    """One panel of a dashboard, opened alone (Grafana's ``viewPanel``)."""
    return _grafana_url(settings, uid, {"viewPanel": str(panel_id)})


def overview_url(settings: Settings) -> str:
    return _grafana_url(settings, OVERVIEW_UID, {})


def _grafana_url(settings: Settings, uid: str, params: dict[str, str]) -> str:
    base = (settings.dashboard_base_url or "").rstrip("/")
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())
    return f"{base}/d/{uid}" + (f"?{query}" if query else "")
