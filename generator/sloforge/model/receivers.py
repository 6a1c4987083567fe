"""Alertmanager receiver integrations: what each one needs, hides and requires of the target.

One table (``INTEGRATIONS``) drives both the validation of a receiver and the
configuration written for it, so adding an integration is one new entry.
Users write Alertmanager's own field names inside an integration block
(``slack: {channel: "#x", api_url_file: /etc/...}``); sloforge refuses inline
secrets, checks that the targeted Alertmanager version can express the block,
and fills in notification text from the sloforge templates where the user gave
none.

Version facts were checked against the real ``amtool check-config`` of 0.25
(Debian) and 0.33; versions in between follow Alertmanager's changelog.
"""

from __future__ import annotations

import difflib
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

from ..errors import excerpt
from .durations import parse_duration

Version = tuple[int, int]

MIN_VERSION: Version = (0, 25)
_VERSION_RE = re.compile(r"^0\.(\d+)(?:\.\d+)?$")
RECEIVER_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def parse_version(text: str) -> Version:
    """'0.25' or '0.25.0' -> (0, 25); ValueError with the accepted form otherwise."""
    match = _VERSION_RE.match(str(text).strip())
    if not match:
        raise ValueError(
            f"must be an Alertmanager version like 0.25 or 0.27.0 (got {excerpt(text)})"
        )
    version = (0, int(match.group(1)))
    if version < MIN_VERSION:
        raise ValueError(
            f"sloforge writes configuration for Alertmanager 0.25 and newer (got {excerpt(text)})"
        )
    return version


def show(version: Version) -> str:
    return f"{version[0]}.{version[1]}"


@dataclass(frozen=True)
class Secret:
    """A field that holds a secret, and the ``*_file`` field that replaces it."""

    inline: str
    file: str  # empty when Alertmanager has no file field for it: then ``advice`` says what to do
    file_since: Version = MIN_VERSION
    # A plain endpoint URL is not a secret; one carrying credentials is.
    inline_unless_credentials: bool = False
    advice: str = ""


@dataclass(frozen=True)
class Integration:
    key: str  # the block name users write: `slack`
    title: str
    since: Version
    secrets: tuple[Secret, ...] = ()
    # Each entry is a set of alternatives, one of which must be present.
    required: tuple[tuple[str, ...], ...] = ()
    # Notification text from the sloforge templates, unless the user sets the field.
    defaults: dict[str, Any] = field(default_factory=dict)
    # Secrets inside a sub-block (e.g. SNS's sigv4), by the path to it.
    nested_secrets: tuple[tuple[tuple[str, ...], Secret], ...] = ()
    # Sub-blocks that must be present, with what to put there.
    required_paths: tuple[tuple[tuple[str, ...], str], ...] = ()
    # Fields of which exactly one must be given.
    exactly_one: tuple[str, ...] = ()

    @property
    def config_key(self) -> str:
        return f"{self.key}_configs"


def _tmpl(name: str) -> str:
    return '{{ template "' + name + '" . }}'


INTEGRATIONS: dict[str, Integration] = {
    i.key: i
    for i in (
        Integration(
            "pagerduty",
            "PagerDuty",
            (0, 25),
            secrets=(
                Secret("routing_key", "routing_key_file"),
                Secret("service_key", "service_key_file"),
            ),
            required=(("routing_key_file", "service_key_file"),),
            defaults={
                "description": _tmpl("sloforge.pagerduty.description"),
                "severity": _tmpl("sloforge.pagerduty.severity"),
                "send_resolved": True,
            },
        ),
        Integration(
            "slack",
            "Slack",
            (0, 25),
            secrets=(Secret("api_url", "api_url_file"),),
            required=(("api_url_file",), ("channel",)),
            defaults={
                "title": _tmpl("sloforge.slack.title"),
                "text": _tmpl("sloforge.slack.text"),
                "send_resolved": True,
            },
        ),
        Integration(
            "email",
            "email",
            (0, 25),
            secrets=(Secret("auth_password", "auth_password_file"),),
            required=(("to",),),
            defaults={
                "headers": {"Subject": _tmpl("sloforge.email.subject")},
                "html": _tmpl("sloforge.email.html"),
                "send_resolved": True,
            },
        ),
        Integration(
            "webhook",
            "webhook",
            (0, 25),
            secrets=(Secret("url", "url_file", (0, 26), inline_unless_credentials=True),),
            required=(("url", "url_file"),),
            defaults={"send_resolved": True},
        ),
        Integration(
            "opsgenie",
            "Opsgenie",
            (0, 25),
            secrets=(Secret("api_key", "api_key_file"),),
            required=(("api_key_file",),),
            defaults={"send_resolved": True},
        ),
        Integration(
            "telegram",
            "Telegram",
            (0, 24),
            # 0.24 and 0.25 only take an inline bot_token, which sloforge never writes:
            # bot_token_file came in 0.26 (chat_id_file in 0.31).
            secrets=(Secret("bot_token", "bot_token_file", (0, 26)),),
            required=(("bot_token_file",), ("chat_id", "chat_id_file")),
            defaults={"send_resolved": True},
        ),
        Integration(
            "msteams",
            "Microsoft Teams",
            (0, 26),
            # msteams_configs came in 0.26. webhook_url_file is parsed from 0.27, but 0.27 still
            # refuses a block without webhook_url ("no msteams webhook URL provided"; fixed by
            # Alertmanager #3728 in 0.28), so a file-only block needs 0.28.
            secrets=(Secret("webhook_url", "webhook_url_file", (0, 28)),),
            required=(("webhook_url_file",),),
            defaults={"send_resolved": True},
        ),
        Integration(
            "msteamsv2",
            "Microsoft Teams (Workflows)",
            (0, 28),
            secrets=(Secret("webhook_url", "webhook_url_file", (0, 28)),),
            required=(("webhook_url_file",),),
            defaults={"send_resolved": True},
        ),
        Integration(
            "discord",
            "Discord",
            (0, 25),
            # discord_configs came in 0.25 with an inline webhook_url only; webhook_url_file is
            # parsed from 0.27 but works alone from 0.28 (Alertmanager #3728, as for msteams).
            secrets=(Secret("webhook_url", "webhook_url_file", (0, 28)),),
            required=(("webhook_url_file",),),
            defaults={"send_resolved": True},
        ),
        Integration(
            "webex",
            "Webex",
            (0, 25),
            # The bot's access token is the HTTP authorization (credentials_file, see HTTP_SECRETS).
            required=(("room_id",),),
            required_paths=(
                (
                    ("http_config", "authorization"),
                    "with `credentials_file` holding the bot's access token",
                ),
            ),
            defaults={"send_resolved": True},
        ),
        Integration(
            "sns",
            "Amazon SNS",
            (0, 25),  # sns_configs came in 0.23; sloforge targets 0.25 and newer
            nested_secrets=(
                (
                    ("sigv4",),
                    Secret(
                        "secret_key",
                        "",
                        advice=(
                            "Alertmanager has no file field for it: give sigv4 a `role_arn` or "
                            "`profile`, or AWS credentials in Alertmanager's environment"
                        ),
                    ),
                ),
            ),
            exactly_one=("topic_arn", "phone_number", "target_arn"),
            defaults={"send_resolved": True},
        ),
        Integration(
            "jira",
            "Jira",
            (0, 28),
            required=(("project",), ("issue_type",)),
        ),
        Integration(
            "rocketchat",
            "Rocket.Chat",
            (0, 28),
            secrets=(
                Secret("token", "token_file", (0, 28)),
                Secret("token_id", "token_id_file", (0, 28)),
            ),
            required=(("token_file",), ("token_id_file",)),
            defaults={"send_resolved": True},
        ),
    )
}

# Secrets of the shared HTTP client settings, under any integration's http_config.
HTTP_SECRETS: tuple[tuple[tuple[str, ...], Secret], ...] = (
    (("basic_auth",), Secret("password", "password_file")),
    (("authorization",), Secret("credentials", "credentials_file")),
    ((), Secret("bearer_token", "bearer_token_file")),
    (("oauth2",), Secret("client_secret", "client_secret_file")),
)

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Finding:
    """A problem with a receiver, at a path relative to the receiver."""

    path: Path
    message: str


def integration_blocks(receiver: dict[str, Any]) -> list[tuple[str, Any]]:
    """The (key, value) pairs of a receiver besides its name."""
    return [(k, v) for k, v in receiver.items() if k != "name"]


def configs(value: Any) -> list[Any]:
    """An integration block is one mapping or a list of them."""
    return value if isinstance(value, list) else [value]


def check_receiver(receiver: dict[str, Any], version: Version) -> list[Finding]:
    found: list[Finding] = []
    blocks = integration_blocks(receiver)
    name = receiver.get("name", "")
    if not isinstance(name, str) or not RECEIVER_NAME_RE.match(name):
        found.append(
            Finding(("name",), f"must be letters, digits, `.`, `_` and `-` (got {excerpt(name)})")
        )
    if not blocks:
        known = ", ".join(INTEGRATIONS)
        found.append(Finding((), f"receiver `{name}` has no integration; add one of: {known}"))
    for key, value in blocks:
        integration = INTEGRATIONS.get(key)
        if integration is None:
            known = ", ".join(INTEGRATIONS)
            found.append(Finding((key,), f"unknown integration `{key}`; sloforge writes {known}"))
            continue
        if integration.since > version:
            found.append(
                Finding(
                    (key,),
                    _too_new(
                        f"{integration.title} (`{integration.config_key}`)",
                        integration.since,
                        version,
                    ),
                )
            )
            continue
        items = configs(value)
        for index, item in enumerate(items):
            path: Path = (key, index) if isinstance(value, list) else (key,)
            if not isinstance(item, dict):
                found.append(Finding(path, f"must be a mapping of {integration.config_key} fields"))
                continue
            found.extend(_check_config(integration, item, path, version))
    return found


@cache
def _field_table() -> dict[str, dict[str, tuple[str, Version]]]:
    """integration -> field -> (kind, first version), from data/receiver_fields.yaml."""
    text = resources.files("sloforge").joinpath("model/data/receiver_fields.yaml").read_text()
    table: dict[str, dict[str, tuple[str, Version]]] = {}
    for key, fields in yaml.safe_load(text).items():
        table[key] = {"send_resolved": ("bool", MIN_VERSION)}
        for name, spec in fields.items():
            table[key][name] = (spec["kind"], parse_version(spec["since"]))
    return table


def _check_fields(
    integration: Integration, item: dict[str, Any], path: Path, version: Version
) -> Iterator[Finding]:
    """Every field of the block is one Alertmanager knows, holds the right kind of value and
    exists in the targeted version (amtool check-config refuses anything else)."""
    fields = _field_table().get(integration.key)
    if fields is None:
        return
    secret_files = {s.file for s in integration.secrets}
    for name, value in item.items():
        where = (*path, name)
        if name not in fields:
            close = difflib.get_close_matches(str(name), list(fields), n=1, cutoff=0.6)
            hint = f", did you mean `{close[0]}`?" if close else ""
            yield Finding(where, f"unknown {integration.title} field `{name}`{hint}")
            continue
        kind, since = fields[name]
        if since > version and name not in secret_files:  # _check_secret words those
            yield Finding(where, _too_new(f"`{name}`", since, version))
        elif not _is_kind(value, kind):
            yield Finding(where, f"must be {_KIND_WORDS[kind]} (got {_shape(value)})")
        elif integration.key == "opsgenie" and name == "responders":
            yield from _responders(where, value)


_RESPONDER_TYPES = ("team", "teams", "user", "escalation", "schedule")


def _responders(path: Path, responders: list[Any]) -> Iterator[Finding]:
    """Alertmanager accepts an Opsgenie responder of these types only (amtool refuses others)."""
    for i, responder in enumerate(responders):
        kind = responder.get("type") if isinstance(responder, dict) else None
        if not isinstance(kind, str) or (kind not in _RESPONDER_TYPES and "{{" not in kind):
            choices = ", ".join(_RESPONDER_TYPES)
            yield Finding((*path, i, "type"), f"must be one of {choices} (got {excerpt(kind)})")


_KIND_WORDS = {
    "text": "text",
    "bool": "true or false",
    "integer": "a whole number",
    "duration": "a duration like 30s or 5m",
    "text list": "a list of text",
    "text mapping": "a mapping of text",
    "list": "a list",
    "mapping": "a mapping",
    "any": "any value",
}


def _is_kind(value: Any, kind: str) -> bool:
    scalar = isinstance(value, str | int | float) and not isinstance(value, bool)
    if kind == "text":
        return scalar
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "duration":
        return isinstance(value, str) and _is_duration(value)
    if kind == "text list":
        return isinstance(value, list) and all(_is_kind(v, "text") for v in value)
    if kind == "text mapping":
        return isinstance(value, dict) and all(_is_kind(v, "text") for v in value.values())
    if kind == "list":
        return isinstance(value, list)
    if kind == "mapping":
        return isinstance(value, dict)
    return True


def _is_duration(text: str) -> bool:
    try:
        parse_duration(text)
    except ValueError:
        return False
    return True


def _shape(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return excerpt(value)


def _too_new(subject: str, since: Version, version: Version) -> str:
    return (
        f"{subject} needs Alertmanager {show(since)} or newer; this configuration targets "
        f"{show(version)} (raise `alertmanager_version` if your Alertmanager is newer)"
    )


def _check_config(
    integration: Integration, item: dict[str, Any], path: Path, version: Version
) -> Iterator[Finding]:
    yield from _check_fields(integration, item, path, version)
    for secret in integration.secrets:
        yield from _check_secret(secret, item, path, version)
    http = item.get("http_config")
    if isinstance(http, dict):
        for sub, secret in HTTP_SECRETS:
            node: Any = http
            for part in sub:
                node = node.get(part) if isinstance(node, dict) else None
            if isinstance(node, dict):
                yield from _check_secret(secret, node, (*path, "http_config", *sub), version)
    for sub, secret in integration.nested_secrets:
        node = item
        for part in sub:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            yield from _check_secret(secret, node, (*path, *sub), version)
    for sub, what in integration.required_paths:
        node = item
        for part in sub:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            yield Finding(path, f"{integration.title} needs `{'.'.join(sub)}` {what}")
    if integration.exactly_one:
        given = [f for f in integration.exactly_one if item.get(f) not in (None, "")]
        if len(given) != 1:
            *head, last = [f"`{f}`" for f in integration.exactly_one]
            yield Finding(
                path,
                f"{integration.title} needs exactly one of {', '.join(head)} or {last} "
                f"(got {len(given)})",
            )
    reported = {s.file for s in integration.secrets if s.inline in item}
    for alternatives in integration.required:
        if reported & set(alternatives):
            continue  # already told to use the file field instead of the inline secret
        if not any(item.get(a) not in (None, "") for a in alternatives):
            need = " or ".join(f"`{a}`" for a in alternatives)
            yield Finding(path, f"{integration.title} needs {need}")


def _check_secret(
    secret: Secret, item: dict[str, Any], path: Path, version: Version
) -> Iterator[Finding]:
    file_ok = secret.file_since <= version
    if secret.inline in item:
        value = item[secret.inline]
        if secret.inline_unless_credentials and not _has_credentials(value):
            return
        if not secret.file:
            yield Finding(
                (*path, secret.inline), f"secrets are never written inline; {secret.advice}"
            )
            return
        use = f"use {secret.file}"
        if not file_ok:
            use += f" (needs alertmanager_version {show(secret.file_since)} or newer)"
        yield Finding((*path, secret.inline), f"secrets are never written inline; {use}")
    if secret.file and secret.file in item and not file_ok:
        yield Finding(
            (*path, secret.file), _too_new(f"`{secret.file}`", secret.file_since, version)
        )


def _has_credentials(url: Any) -> bool:
    """A URL with a password, user info or query string may carry a token."""
    if not isinstance(url, str):
        return False
    parts = urllib.parse.urlsplit(url)
    return bool(parts.username or parts.password or parts.query)


def render_receiver(receiver: dict[str, Any]) -> dict[str, Any]:
    """The Alertmanager receiver for a checked spec: sloforge defaults under the user's fields."""
    out: dict[str, Any] = {"name": receiver["name"]}
    for key, value in integration_blocks(receiver):
        integration = INTEGRATIONS[key]
        out[integration.config_key] = [
            _merge(integration.defaults, item) for item in configs(value)
        ]
    return out


def _merge(defaults: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """The user's fields first, then each default the user did not set (maps merged one level)."""
    merged = dict(item)
    for key, value in defaults.items():
        if key not in merged:
            merged[key] = value
        elif isinstance(value, dict) and isinstance(merged[key], dict):
            merged[key] = {**value, **merged[key]}
    return merged
