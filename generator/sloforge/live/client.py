"""A small client of Prometheus' HTTP API (v1): the queries the live commands ask.

Works with Prometheus 2.x and 3.x. Authentication reads secrets from files, as
Prometheus itself does: a bearer token file, or a user and a password file.
Every failure becomes a ``LiveError`` that says what went wrong and where.
"""

from __future__ import annotations

import base64
import json
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import LiveError

DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True)
class Connection:
    """Where Prometheus is and how to reach it."""

    url: str
    bearer_token_file: Path | None = None
    user: str | None = None
    password_file: Path | None = None
    ca_file: Path | None = None
    insecure_skip_verify: bool = False
    timeout: float = DEFAULT_TIMEOUT


@dataclass(frozen=True)
class Sample:
    labels: dict[str, str]
    value: float


@dataclass(frozen=True)
class Series:
    labels: dict[str, str]
    points: list[tuple[float, float]]


class Prometheus:
    def __init__(self, connection: Connection) -> None:
        parsed = urllib.parse.urlsplit(connection.url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise LiveError(
                f"--prometheus must be an http(s) URL such as http://localhost:9090 "
                f"(got {connection.url!r})"
            )
        self.base = connection.url.rstrip("/")
        self.timeout = connection.timeout
        self._headers = {"Accept": "application/json", "User-Agent": "sloforge"}
        self._headers.update(_authorization(connection))
        self._context = _tls_context(connection)

    # --- the API calls --------------------------------------------------------------------

    def instant(self, expr: str, at: float | None = None) -> list[Sample]:
        params = {"query": expr} | ({"time": _number(at)} if at is not None else {})
        data = self._get("/api/v1/query", params)
        if data["resultType"] == "scalar":
            return [Sample({}, _float(data["result"][1]))]
        if data["resultType"] != "vector":
            raise LiveError(f"{expr}: expected an instant vector, got {data['resultType']}")
        return [Sample(r["metric"], _float(r["value"][1])) for r in data["result"]]

    def range(self, expr: str, start: float, end: float, step: float) -> list[Series]:
        params = {
            "query": expr,
            "start": _number(start),
            "end": _number(end),
            "step": _number(step),
        }
        data = self._get("/api/v1/query_range", params)
        return [
            Series(r["metric"], [(float(t), _float(v)) for t, v in r["values"]])
            for r in data["result"]
        ]

    def series(self, match: str, start: float | None = None) -> list[dict[str, str]]:
        params: dict[str, Any] = {"match[]": match}
        if start is not None:
            params["start"] = _number(start)
        return list(self._get("/api/v1/series", params))

    def label_values(self, label: str, match: str | None = None) -> list[str]:
        params = {"match[]": match} if match else {}
        return list(self._get(f"/api/v1/label/{urllib.parse.quote(label)}/values", params))

    def metadata(self, metric: str) -> list[dict[str, str]]:
        return list(self._get("/api/v1/metadata", {"metric": metric}).get(metric, []))

    def rule_groups(self) -> list[dict[str, Any]]:
        return list(self._get("/api/v1/rules", {})["groups"])

    def version(self) -> str:
        try:
            return str(self._get("/api/v1/status/buildinfo", {}).get("version", "unknown"))
        except LiveError:
            return "unknown"  # some proxies and old versions do not serve buildinfo

    # --- plumbing -------------------------------------------------------------------------

    def _get(self, path: str, params: Mapping[str, Any]) -> Any:
        query = urllib.parse.urlencode(params, doseq=True)
        url = f"{self.base}{path}" + (f"?{query}" if query else "")
        request = urllib.request.Request(url, headers=self._headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=self._context) as r:
                body = r.read()
        except urllib.error.HTTPError as exc:
            body = exc.read()
            detail = _api_error(body) or f"HTTP {exc.code} {exc.reason}"
            if exc.code in (401, 403):
                detail += " (check --bearer-token-file or --user/--password-file)"
            raise LiveError(f"{self.base}: {detail}") from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, ssl.SSLCertVerificationError):
                raise LiveError(
                    f"{self.base}: the server's TLS certificate is not trusted "
                    f"({reason.verify_message}): pass its CA with --ca-file"
                ) from None
            raise LiveError(f"cannot reach Prometheus at {self.base}: {reason}") from None
        except TimeoutError:
            raise LiveError(
                f"Prometheus at {self.base} did not answer within {self.timeout:g}s "
                f"(raise --timeout for long queries)"
            ) from None
        except OSError as exc:
            raise LiveError(f"cannot reach Prometheus at {self.base}: {exc}") from None
        try:
            answer = json.loads(body)
        except ValueError:
            raise LiveError(
                f"{self.base}{path} did not answer with Prometheus API JSON "
                f"(is --prometheus the Prometheus server's address?)"
            ) from None
        if not isinstance(answer, dict) or answer.get("status") != "success":
            detail = _api_error(body) or "unexpected answer"
            raise LiveError(f"{self.base}{path}: {detail}")
        return answer.get("data")


def _authorization(connection: Connection) -> dict[str, str]:
    if connection.bearer_token_file and connection.password_file:
        raise LiveError("use either --bearer-token-file or --user/--password-file, not both")
    if connection.bearer_token_file:
        token = _secret(connection.bearer_token_file, "--bearer-token-file")
        return {"Authorization": f"Bearer {token}"}
    if connection.password_file or connection.user:
        if not (connection.password_file and connection.user):
            raise LiveError("basic authentication needs both --user and --password-file")
        password = _secret(connection.password_file, "--password-file")
        pair = base64.b64encode(f"{connection.user}:{password}".encode()).decode("ascii")
        return {"Authorization": f"Basic {pair}"}
    return {}


def _secret(path: Path, option: str) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise LiveError(f"{option} {path}: {exc.strerror or exc}") from None
    if not text:
        raise LiveError(f"{option} {path} is empty")
    return text


def _tls_context(connection: Connection) -> ssl.SSLContext | None:
    if not connection.url.startswith("https:"):
        return None
    if connection.insecure_skip_verify:
        print(
            "warning: --insecure-skip-verify: the Prometheus server's certificate is not checked",
            file=sys.stderr,
        )
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    try:
        return ssl.create_default_context(
            cafile=str(connection.ca_file) if connection.ca_file else None
        )
    except (OSError, ssl.SSLError) as exc:
        raise LiveError(f"--ca-file {connection.ca_file}: {exc}") from None


def _api_error(body: bytes) -> str | None:
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    if isinstance(answer, dict) and answer.get("error"):
        return f"{answer.get('errorType', 'error')}: {answer['error']}"
    return None


def _float(text: str) -> float:
    return float(text)  # Prometheus writes NaN and ±Inf as "NaN", "+Inf", "-Inf"


def _number(value: float) -> str:
    return f"{value:.3f}"
