# ruff: noqa: E501 - whole messages read best on one line each
"""Telegram, Microsoft Teams, Webex, Discord and Amazon SNS receivers, as far as the targeted
Alertmanager version supports them.

Versions (Alertmanager's changelog and configuration structs): Discord and Webex came in
0.25, Microsoft Teams in 0.26, SNS in 0.23; Telegram's bot_token_file in 0.26; Discord's and
Teams' webhook_url_file are parsed from 0.27 but a block with only the file is refused until
0.28. Every receiver passes the real `amtool check-config` of each installed Alertmanager
(Debian's 0.25 and the current release) that is at least the version it targets.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from sloforge.errors import SpecError
from sloforge.pipeline import build_outputs, load
from sloforge.spec.models import SettingsSpec
from sloforge_testlib import SHOP_SERVICE
from toolbox import binaries

SECRETS = "/etc/alertmanager/secrets"


def _write(root: Path, block: str, version: str, settings_version: str | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "shop.yaml").write_text(SHOP_SERVICE)
    (root / "routing.yaml").write_text(
        "apiVersion: sloforge/v1\n"
        "kind: AlertRouting\n"
        f'alertmanager_version: "{version}"\n'
        "receivers:\n"
        "  - name: chat\n"
        f"    {block}\n"
        "default_receiver: chat\n"
    )
    if settings_version is not None:
        (root / "settings.yaml").write_text(
            f'apiVersion: sloforge/v1\nkind: Settings\nalertmanager_version: "{settings_version}"\n'
        )
    return root


def _problems(root: Path) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load([root])
    return [str(p).replace(f"{root}/", "in/") for p in caught.value.problems]


@dataclass(frozen=True)
class Refused:
    id: str
    block: str
    version: str
    messages: list[str]
    settings_version: str | None = None


REFUSED = [
    Refused(
        "telegram's bot_token_file is refused at 0.25, which only takes an inline token",
        "telegram: {bot_token_file: " + SECRETS + "/telegram, chat_id: -100123}",
        "0.25",
        [
            "in/routing.yaml:6:16: receivers[0].telegram.bot_token_file: `bot_token_file` needs Alertmanager 0.26 or newer; this configuration targets 0.25 (raise `alertmanager_version` if your Alertmanager is newer)"
        ],
    ),
    Refused(
        "telegram's inline bot_token is refused at any version",
        'telegram: {bot_token: "123:abc", chat_id: -100123}',
        "0.26",
        [
            "in/routing.yaml:6:16: receivers[0].telegram.bot_token: secrets are never written inline; use bot_token_file"
        ],
    ),
    Refused(
        "microsoft teams is refused before 0.26",
        "msteams: {webhook_url_file: " + SECRETS + "/teams}",
        "0.25",
        [
            "in/routing.yaml:6:5: receivers[0].msteams: Microsoft Teams (`msteams_configs`) needs Alertmanager 0.26 or newer; this configuration targets 0.25 (raise `alertmanager_version` if your Alertmanager is newer)"
        ],
    ),
    Refused(
        "teams' webhook_url_file alone is refused at 0.27, which still demands webhook_url",
        "msteams: {webhook_url_file: " + SECRETS + "/teams}",
        "0.27",
        [
            "in/routing.yaml:6:15: receivers[0].msteams.webhook_url_file: `webhook_url_file` needs Alertmanager 0.28 or newer; this configuration targets 0.27 (raise `alertmanager_version` if your Alertmanager is newer)"
        ],
    ),
    Refused(
        "discord's webhook_url_file is refused at 0.25",
        "discord: {webhook_url_file: " + SECRETS + "/discord}",
        "0.25",
        [
            "in/routing.yaml:6:15: receivers[0].discord.webhook_url_file: `webhook_url_file` needs Alertmanager 0.28 or newer; this configuration targets 0.25 (raise `alertmanager_version` if your Alertmanager is newer)"
        ],
    ),
    Refused(
        "discord's inline webhook url is refused, with the version its file field needs",
        'discord: {webhook_url: "https://discord.com/api/webhooks/1/x"}',
        "0.25",
        [
            "in/routing.yaml:6:15: receivers[0].discord.webhook_url: secrets are never written inline; use webhook_url_file (needs alertmanager_version 0.28 or newer)"
        ],
    ),
    Refused(
        "webex without an authorization block is refused",
        'webex: {room_id: "Y2lzY29zcGFyazovL3Vz"}',
        "0.25",
        [
            "in/routing.yaml:6:5: receivers[0].webex: Webex needs `http_config.authorization` with `credentials_file` holding the bot's access token"
        ],
    ),
    Refused(
        "webex's inline access token is refused",
        'webex: {room_id: "Y2lzY29zcGFyazovL3Vz", http_config: {authorization: {credentials: "tok"}}}',
        "0.25",
        [
            "in/routing.yaml:6:76: receivers[0].webex.http_config.authorization.credentials: secrets are never written inline; use credentials_file"
        ],
    ),
    Refused(
        "an sns secret key is refused: Alertmanager has no file field for it",
        'sns: {topic_arn: "arn:aws:sns:eu-west-1:123456789012:alerts", sigv4: {region: eu-west-1, access_key: AKIA, secret_key: s3cr3t}}',
        "0.25",
        [
            "in/routing.yaml:6:112: receivers[0].sns.sigv4.secret_key: secrets are never written inline; Alertmanager has no file field for it: give sigv4 a `role_arn` or `profile`, or AWS credentials in Alertmanager's environment"
        ],
    ),
    Refused(
        "an sns receiver with two destinations is refused",
        'sns: {topic_arn: "arn:aws:sns:eu-west-1:123456789012:alerts", phone_number: "+15555550100"}',
        "0.25",
        [
            "in/routing.yaml:6:5: receivers[0].sns: Amazon SNS needs exactly one of `topic_arn`, `phone_number` or `target_arn` (got 2)"
        ],
    ),
    Refused(
        "settings and routing naming different versions are refused at the routing",
        "webhook: {url: http://hooks.internal/am}",
        "0.25",
        [
            "in/routing.yaml:3:1: alertmanager_version: is '0.25' but Settings (at in/settings.yaml:3:1) says '0.28'; give the Alertmanager version in one place"
        ],
        settings_version="0.28",
    ),
    Refused(
        "a bad version in settings is refused in settings",
        "webhook: {url: http://hooks.internal/am}",
        "0.25",
        [
            "in/settings.yaml:3:1: alertmanager_version: must be an Alertmanager version like 0.25 or 0.27.0 (got '1.0')"
        ],
        settings_version="1.0",
    ),
]


@pytest.mark.parametrize("case", REFUSED, ids=[c.id for c in REFUSED])
def test_receivers_the_target_version_cannot_express_are_refused_where_written(
    tmp_path: Path, case: Refused
) -> None:
    root = _write(tmp_path / "in", case.block, case.version, case.settings_version)
    assert _problems(root) == case.messages


def test_the_settings_version_applies_when_routing_names_none(tmp_path: Path) -> None:
    root = tmp_path / "in"
    _write(root, "msteams: {webhook_url_file: " + SECRETS + "/teams}", "0.25", "0.28")
    text = (root / "routing.yaml").read_text().replace('alertmanager_version: "0.25"\n', "")
    (root / "routing.yaml").write_text(text)
    assert load([root]).project.routing.alertmanager_version == "0.28"


def test_the_settings_version_is_described_in_the_schema() -> None:
    field = SettingsSpec.model_json_schema()["properties"]["alertmanager_version"]
    assert "receivers and fields newer than it are refused" in field["description"]


# --- amtool check-config on every version that supports each receiver ----------------------

# (id, block, the version it targets)
ACCEPTED = [
    (
        "webex with a credentials file",
        'webex: {room_id: "Y2lzY29zcGFyazovL3Vz", http_config: {authorization: {credentials_file: '
        + SECRETS
        + "/webex}}}",
        "0.25",
    ),
    (
        "sns to a topic with a role",
        'sns: {topic_arn: "arn:aws:sns:eu-west-1:123456789012:alerts", sigv4: {region: eu-west-1, role_arn: "arn:aws:iam::123456789012:role/alertmanager"}}',
        "0.25",
    ),
    (
        "sns by text message",
        'sns: {phone_number: "+15555550100", sigv4: {region: eu-west-1}}',
        "0.25",
    ),
    (
        "telegram with a token file",
        "telegram: {bot_token_file: " + SECRETS + "/telegram, chat_id: -100123}",
        "0.26",
    ),
    (
        "microsoft teams with a url file",
        "msteams: {webhook_url_file: " + SECRETS + "/teams}",
        "0.28",
    ),
    ("discord with a url file", "discord: {webhook_url_file: " + SECRETS + "/discord}", "0.28"),
]


def _amtool_version(amtool: str) -> tuple[int, int]:
    out = subprocess.run([amtool, "--version"], capture_output=True, text=True, check=False)
    match = re.search(r"version (\d+)\.(\d+)", out.stdout + out.stderr)
    assert match, out
    return int(match.group(1)), int(match.group(2))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("block", "version"), [c[1:] for c in ACCEPTED], ids=[c[0] for c in ACCEPTED]
)
def test_every_new_receiver_passes_amtool_check_config_on_each_version_that_supports_it(
    tmp_path: Path, block: str, version: str
) -> None:
    target = tuple(int(p) for p in version.split("."))
    amtools = [(label, a) for label, a in binaries("amtool") if _amtool_version(a) >= target]
    if not amtools:
        pytest.skip(f"no amtool of Alertmanager {version} or newer is installed (run `make setup`)")
    root = _write(tmp_path / "in", block, version)
    files = build_outputs(load([root]).project)
    config_dir = tmp_path / "out" / "alertmanager"
    for rel, content in files.items():
        if rel.startswith("alertmanager/"):
            path = tmp_path / "out" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content if isinstance(content, bytes) else str(content).encode())
    config = config_dir / "alertmanager.yml"
    key = block.split(":")[0] + "_configs"
    assert key in yaml.safe_load(config.read_text())["receivers"][0]
    for label, amtool in amtools:
        result = subprocess.run(
            [amtool, "check-config", str(config)], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, f"{label} amtool:\n{result.stdout}{result.stderr}"


@pytest.mark.slow
def test_stable_and_current_amtool_are_both_exercised() -> None:
    """The version gates above are only proven if both releases are here."""
    versions = sorted(_amtool_version(a) for _, a in binaries("amtool"))
    if len(versions) < 2:
        pytest.skip("only one amtool is installed (run `make setup` for the current release)")
    assert versions[0] <= (0, 25) < versions[-1]
