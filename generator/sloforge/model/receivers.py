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
from collections.abc import Iterable, Iterator, Mapping
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
            # The bot's access token is the HTTP authorization (credentials_file).
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
            # sigv4.secret_key has no file field: receiver_blocks.yaml says what to use.
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


@dataclass(frozen=True)
class FieldSpec:
    """One field of an integration block or sub-block: its kind and first release."""

    kind: str
    since: Version
    secret: str | None = None  # an inline secret: the field to use instead ("" when none)
    advice: str = ""  # what to do instead, when there is no file field


@dataclass(frozen=True)
class BlockSpec:
    """A sub-block (http_config, tls_config, a Slack field…) and the rules Alertmanager applies
    when it loads the configuration (see data/receiver_blocks.yaml)."""

    title: str
    fields: dict[str, FieldSpec]
    required: tuple[str, ...] = ()
    any_of: tuple[tuple[str, ...], ...] = ()
    at_most_one: tuple[tuple[str, ...], ...] = ()
    requires: dict[str, tuple[str, ...]] = field(default_factory=dict)
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)
    not_values: dict[str, tuple[tuple[str, ...], str]] = field(default_factory=dict)


def _field_spec(spec: dict[str, Any]) -> FieldSpec:
    return FieldSpec(
        spec["kind"],
        parse_version(spec["since"]),
        spec.get("secret"),
        " ".join(str(spec.get("advice", "")).split()),
    )


@cache
def _field_table() -> dict[str, BlockSpec]:
    """integration -> its fields, from data/receiver_fields.yaml."""
    text = resources.files("sloforge").joinpath("model/data/receiver_fields.yaml").read_text()
    table: dict[str, BlockSpec] = {}
    for key, fields in yaml.safe_load(text).items():
        specs = {"send_resolved": FieldSpec("bool", MIN_VERSION)}
        specs.update({name: _field_spec(spec) for name, spec in fields.items()})
        table[key] = BlockSpec(INTEGRATIONS[key].title if key in INTEGRATIONS else key, specs)
    return table


@cache
def _block_table() -> dict[str, BlockSpec]:
    """sub-block -> its fields and rules, from data/receiver_blocks.yaml."""
    text = resources.files("sloforge").joinpath("model/data/receiver_blocks.yaml").read_text()
    return {
        name: BlockSpec(
            title=spec["title"],
            fields={key: _field_spec(f) for key, f in spec["fields"].items()},
            required=tuple(spec.get("required", ())),
            any_of=tuple(tuple(group) for group in spec.get("any_of", ())),
            at_most_one=tuple(tuple(group) for group in spec.get("at_most_one", ())),
            requires={k: tuple(v) for k, v in spec.get("requires", {}).items()},
            choices={k: tuple(v) for k, v in spec.get("choices", {}).items()},
            not_values={
                k: (tuple(v["values"]), v["message"]) for k, v in spec.get("not_values", {}).items()
            },
        )
        for name, spec in yaml.safe_load(text).items()
    }


def _check_fields(
    integration: Integration, item: dict[str, Any], path: Path, version: Version
) -> Iterator[Finding]:
    """Every field of the block is one Alertmanager knows, holds the right kind of value and
    exists in the targeted version (amtool check-config refuses anything else); sub-blocks
    are checked the same way, with Alertmanager's rules for them."""
    spec = _field_table().get(integration.key)
    if spec is not None:
        skip = {s.file for s in integration.secrets}  # _check_secret words those
        yield from _check_mapping(spec, item, path, version, skip)


def _check_mapping(
    spec: BlockSpec, item: dict[str, Any], path: Path, version: Version, skip: set[str]
) -> Iterator[Finding]:
    for name, value in item.items():
        where = (*path, name)
        if not isinstance(name, str) or name not in spec.fields:
            close = difflib.get_close_matches(str(name), list(spec.fields), n=1, cutoff=0.6)
            hint = f", did you mean `{close[0]}`?" if close else ""
            yield Finding(where, f"unknown {spec.title} field `{name}`{hint}")
            continue
        field_spec = spec.fields[name]
        if field_spec.since > version and name not in skip:
            yield Finding(where, _too_new(f"`{name}`", field_spec.since, version))
        elif field_spec.secret is not None and value not in (None, "", []):
            use = f"use {field_spec.secret}" if field_spec.secret else field_spec.advice
            yield Finding(where, f"secrets are never written inline; {use}")
        else:
            yield from _check_value(field_spec.kind, value, where, version)
    yield from _check_rules(spec, item, path)


def _check_value(kind: str, value: Any, where: Path, version: Version) -> Iterator[Finding]:
    shape, _, block = kind.partition(" ")
    if shape == "block" and block:
        if not isinstance(value, dict):
            yield Finding(where, f"must be a mapping of {block} fields (got {_shape(value)})")
        else:
            yield from _check_mapping(_block_table()[block], value, where, version, set())
    elif kind.startswith("list of "):
        block = kind.removeprefix("list of ")
        if not isinstance(value, list):
            yield Finding(where, f"must be a list (got {_shape(value)})")
            return
        for i, item in enumerate(value):
            yield from _check_value(f"block {block}", item, (*where, i), version)
    elif kind.startswith("mapping of "):
        block = kind.removeprefix("mapping of ")
        if not isinstance(value, dict):
            yield Finding(where, f"must be a mapping (got {_shape(value)})")
            return
        for key, item in value.items():
            yield from _check_value(f"block {block}", item, (*where, key), version)
    elif not _is_kind(value, kind):
        yield Finding(where, f"must be {_KIND_WORDS[kind]} (got {_shape(value)})")


def _given(item: dict[str, Any], name: str) -> bool:
    """Alertmanager takes an empty value as no value."""
    return item.get(name) not in (None, "", [], {})


def _check_rules(spec: BlockSpec, item: dict[str, Any], path: Path) -> Iterator[Finding]:
    for name in spec.required:
        if not _given(item, name):
            yield Finding(path, f"{spec.title} needs `{name}`")
    for group in spec.any_of:
        if not any(_given(item, name) for name in group):
            yield Finding(path, f"{spec.title} needs {_words(group, 'or')}")
    for group in spec.at_most_one:
        given = [name for name in group if _given(item, name)]
        if len(given) > 1:
            yield Finding(
                path,
                f"{spec.title} takes at most one of {_words(group, 'and')} "
                f"(got {_words(given, 'and')})",
            )
    for name, needs in spec.requires.items():
        if _given(item, name) and not any(_given(item, other) for other in needs):
            yield Finding((*path, name), f"`{name}` needs {_words(needs, 'or')}")
    for name, choices in spec.choices.items():
        value = item.get(name)
        if not isinstance(value, str) or not value or "{{" in value:
            continue  # absent, refused by kind already, or a notification template
        if value.lower() not in {c.lower() for c in choices}:
            yield Finding(
                (*path, name), f"must be one of {', '.join(choices)} (got {excerpt(value)})"
            )
    for name, (values, message) in spec.not_values.items():
        value = item.get(name)
        if isinstance(value, str) and value.lower() in values:
            yield Finding((*path, name), message)


_TEXT_KINDS = ("text", "text list", "text mapping", "text list mapping")


def block_as_written(key: Any, value: Any, path: Path, written: Mapping[Path, str]) -> Any:
    """An integration block with the text of every YAML 1.1 number or boolean put back in its
    text fields (``title: 012``, ``value: yes``): Alertmanager reads those as written."""
    spec = _field_table().get(key) if isinstance(key, str) else None
    if spec is None:
        return value
    if isinstance(value, list):
        return [_mapping_as_written(spec, v, (*path, i), written) for i, v in enumerate(value)]
    return _mapping_as_written(spec, value, path, written)


def _mapping_as_written(spec: BlockSpec, item: Any, path: Path, written: Mapping[Path, str]) -> Any:
    if not isinstance(item, dict):
        return item
    out = dict(item)
    for name, value in item.items():
        field_spec = spec.fields.get(name) if isinstance(name, str) else None
        if field_spec is not None:
            out[name] = _value_as_written(field_spec.kind, value, (*path, name), written)
    return out


def _value_as_written(kind: str, value: Any, path: Path, written: Mapping[Path, str]) -> Any:
    if kind == "text":
        return value if isinstance(value, str) else written.get(path, value)
    if kind in _TEXT_KINDS and isinstance(value, list):
        return [_value_as_written("text", v, (*path, i), written) for i, v in enumerate(value)]
    if kind in _TEXT_KINDS[2:] and isinstance(value, dict):
        inner = "text" if kind == "text mapping" else "text list"
        return {k: _value_as_written(inner, v, (*path, k), written) for k, v in value.items()}
    shape, _, block = kind.partition(" ")
    if shape == "block" and block:
        return _mapping_as_written(_block_table()[block], value, path, written)
    if kind.startswith("list of ") and isinstance(value, list):
        block = kind.removeprefix("list of ")
        return [
            _value_as_written(f"block {block}", v, (*path, i), written) for i, v in enumerate(value)
        ]
    if kind.startswith("mapping of ") and isinstance(value, dict):
        block = kind.removeprefix("mapping of ")
        return {
            k: _value_as_written(f"block {block}", v, (*path, k), written) for k, v in value.items()
        }
    return value


def _words(names: Iterable[str], last: str) -> str:
    quoted = [f"`{n}`" for n in names]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} {last} {quoted[-1]}"


_KIND_WORDS = {
    "text": "text",
    "bool": "true or false",
    "integer": "a whole number",
    "duration": "a duration like 30s or 5m",
    "text list": "a list of text",
    "text mapping": "a mapping of text",
    "text list mapping": "a mapping of lists of text",
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
    if kind == "text list mapping":
        return isinstance(value, dict) and all(_is_kind(v, "text list") for v in value.values())
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
    for sub, what in integration.required_paths:
        node: Any = item
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
