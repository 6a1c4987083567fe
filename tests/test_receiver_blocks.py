# ruff: noqa: E501 - whole messages read best on one line each
"""The sub-blocks of receiver integrations (http_config and its basic_auth, authorization,
oauth2, tls_config and proxy settings; sigv4; email threading; Slack fields and actions;
PagerDuty images and links; Opsgenie responders) are checked field by field against
model/data/receiver_blocks.yaml: `validate` refuses, located, what Alertmanager would refuse.

The slow tests hold sloforge to the real amtool check-config of Debian's 0.25 and the
current release, both ways: every block sloforge accepts, amtool accepts (the generated
configuration), and every block sloforge refuses, the targeted amtool refuses too (written
as a plain Alertmanager configuration) unless the refusal is sloforge's own policy (secrets
are never written inline).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from sloforge.model.receivers import _block_table, _field_table
from sloforge.pipeline import build_outputs, load
from test_receiver_versions import _amtool_version, _problems, _write
from toolbox import binaries

S = "/etc/alertmanager/secrets"
HOOK = "webhook: {url: http://hooks.internal/am, http_config: "


@dataclass(frozen=True)
class Case:
    id: str
    block: str
    version: str
    message: str | None  # None: accepted
    policy: bool = False  # refused by sloforge's own rules, not Alertmanager's


CASES = [
    Case(
        "a misspelt http_config field is refused with a suggestion",
        HOOK + "{folow_redirects: false}}",
        "0.25",
        "in/routing.yaml:6:60: receivers[0].webhook.http_config.folow_redirects: unknown http_config field `folow_redirects`, did you mean `follow_redirects`?",
    ),
    Case(
        "text where tls_config wants a boolean is refused",
        HOOK + "{tls_config: {insecure_skip_verify: yes please}}}",
        "0.25",
        "in/routing.yaml:6:73: receivers[0].webhook.http_config.tls_config.insecure_skip_verify: must be true or false (got 'yes please')",
    ),
    Case(
        "a misspelt basic_auth field is refused with a suggestion",
        HOOK + "{basic_auth: {username: am, pasword_file: " + S + "/hook}}}",
        "0.25",
        "in/routing.yaml:6:87: receivers[0].webhook.http_config.basic_auth.pasword_file: unknown basic_auth field `pasword_file`, did you mean `password_file`?",
    ),
    Case(
        "a misspelt oauth2 field is refused with a suggestion",
        HOOK
        + "{oauth2: {client_id: am, client_secret_file: "
        + S
        + "/oauth, token_url: 'https://auth.example.com/token', scopes: [alerts], endpont_params: {a: b}}}}",
        "0.25",
        "in/routing.yaml:6:200: receivers[0].webhook.http_config.oauth2.endpont_params: unknown oauth2 field `endpont_params`, did you mean `endpoint_params`?",
    ),
    Case(
        "an oauth2 block without token_url is refused",
        HOOK + "{oauth2: {client_id: am, client_secret_file: " + S + "/oauth}}}",
        "0.25",
        "in/routing.yaml:6:60: receivers[0].webhook.http_config.oauth2: oauth2 needs `token_url`",
    ),
    Case(
        "basic_auth and authorization together are refused",
        HOOK
        + "{basic_auth: {username: am, password_file: "
        + S
        + "/hook}, authorization: {credentials_file: "
        + S
        + "/token}}}",
        "0.25",
        "in/routing.yaml:6:46: receivers[0].webhook.http_config: http_config takes at most one of `basic_auth`, `authorization`, `oauth2`, `bearer_token` and `bearer_token_file` (got `basic_auth` and `authorization`)",
    ),
    Case(
        "an authorization of type Basic is refused",
        HOOK + "{authorization: {type: Basic, credentials_file: " + S + "/token}}}",
        "0.25",
        'in/routing.yaml:6:76: receivers[0].webhook.http_config.authorization.type: cannot be "basic": use `basic_auth` instead',
    ),
    Case(
        "a TLS version that does not exist is refused",
        HOOK + "{tls_config: {min_version: TLS14}}}",
        "0.25",
        "in/routing.yaml:6:73: receivers[0].webhook.http_config.tls_config.min_version: must be one of TLS10, TLS11, TLS12, TLS13 (got 'TLS14')",
    ),
    Case(
        "proxy_from_environment is refused below 0.26",
        HOOK + "{proxy_from_environment: true}}",
        "0.25",
        "in/routing.yaml:6:60: receivers[0].webhook.http_config.proxy_from_environment: `proxy_from_environment` needs Alertmanager 0.26 or newer; this configuration targets 0.25 (raise `alertmanager_version` if your Alertmanager is newer)",
    ),
    Case(
        "no_proxy without proxy_url is refused",
        HOOK + "{no_proxy: localhost}}",
        "0.33",
        "in/routing.yaml:6:60: receivers[0].webhook.http_config.no_proxy: `no_proxy` needs `proxy_url`",
    ),
    Case(
        "a client certificate without its key is refused",
        HOOK + "{tls_config: {cert_file: " + S + "/cert.pem}}}",
        "0.33",
        "in/routing.yaml:6:73: receivers[0].webhook.http_config.tls_config.cert_file: `cert_file` needs `key` or `key_file`",
    ),
    Case(
        "an inline TLS key is refused as a secret",
        HOOK + "{tls_config: {cert_file: " + S + "/cert.pem, key: inline-private-key}}}",
        "0.33",
        "in/routing.yaml:6:120: receivers[0].webhook.http_config.tls_config.key: secrets are never written inline; use key_file",
        policy=True,
    ),
    Case(
        "a list where http_config belongs is refused",
        HOOK + "[follow_redirects]}",
        "0.25",
        "in/routing.yaml:6:46: receivers[0].webhook.http_config: must be a mapping of http_config fields (got a list)",
    ),
    Case(
        "an Opsgenie responder with an empty name is refused (found by the fuzzer: amtool refused the output)",
        "opsgenie: {api_key_file: " + S + "/opsgenie, responders: [{type: team, name: ''}]}",
        "0.25",
        "in/routing.yaml:6:79: receivers[0].opsgenie.responders[0]: an Opsgenie responder needs `id`, `name` or `username`",
    ),
    Case(
        "a Slack field without a value is refused",
        "slack: {channel: '#x', api_url_file: " + S + "/slack, fields: [{title: Runbook}]}",
        "0.25",
        "in/routing.yaml:6:84: receivers[0].slack.fields[0]: a Slack field needs `value`",
    ),
    Case(
        "a Slack action with neither url nor name is refused",
        "slack: {channel: '#x', api_url_file: "
        + S
        + "/slack, actions: [{type: button, text: Open}]}",
        "0.25",
        "in/routing.yaml:6:85: receivers[0].slack.actions[0]: a Slack action needs `url` or `name`",
    ),
    Case(
        "a misspelt sigv4 field is refused with a suggestion",
        "sns: {topic_arn: 'arn:aws:sns:eu-west-1:123456789012:alerts', sigv4: {region: eu-west-1, rol_arn: 'arn:aws:iam::123456789012:role/am'}}",
        "0.25",
        "in/routing.yaml:6:94: receivers[0].sns.sigv4.rol_arn: unknown sigv4 field `rol_arn`, did you mean `role_arn`?",
    ),
    Case(
        "an email thread_by_date other than none or daily is refused",
        "email: {to: noc@example.com, smarthost: 'smtp.example.com:587', from: am@example.com, threading: {enabled: true, thread_by_date: weekly}}",
        "0.33",
        "in/routing.yaml:6:118: receivers[0].email.threading.thread_by_date: must be one of none, daily (got 'weekly')",
    ),
    Case(
        "an http_config with basic auth, a CA, a TLS floor and a proxy is accepted",
        HOOK
        + "{basic_auth: {username: am, password_file: "
        + S
        + "/hook}, tls_config: {ca_file: "
        + S
        + "/ca.pem, server_name: hooks.internal, min_version: TLS12}, follow_redirects: false, proxy_url: 'http://proxy.internal:3128'}}",
        "0.25",
        None,
    ),
    Case(
        "an oauth2 client with scopes, endpoint parameters and its own tls_config is accepted",
        HOOK
        + "{oauth2: {client_id: am, client_secret_file: "
        + S
        + "/oauth, token_url: 'https://auth.example.com/token', scopes: [alerts], endpoint_params: {audience: am}, tls_config: {insecure_skip_verify: false}}}}",
        "0.25",
        None,
    ),
    Case(
        "proxy_from_environment and http_headers are accepted at 0.33",
        HOOK
        + "{proxy_from_environment: true, http_headers: {X-Team: {values: [sre]}, X-Token: {files: ["
        + S
        + "/header]}}}}",
        "0.33",
        None,
    ),
    Case(
        "Slack fields and link and message actions are accepted",
        "slack: {channel: '#x', api_url_file: "
        + S
        + "/slack, fields: [{title: Runbook, value: see wiki, short: true}], actions: [{type: button, text: Open, url: 'https://runbooks.example.com'}, {type: button, text: Ack, name: ack, value: 'yes', confirm: {text: 'Sure?'}}]}",
        "0.25",
        None,
    ),
    Case(
        "Opsgenie responders by name, username and id are accepted",
        "opsgenie: {api_key_file: "
        + S
        + "/opsgenie, responders: [{type: team, name: sre}, {type: user, username: alice}, {type: schedule, id: 4513b7ea}]}",
        "0.25",
        None,
    ),
    Case(
        "sigv4 with a role, an external id and a service name is accepted at 0.33",
        "sns: {topic_arn: 'arn:aws:sns:eu-west-1:123456789012:alerts', sigv4: {region: eu-west-1, role_arn: 'arn:aws:iam::123456789012:role/am', external_id: am, service_name: sns}}",
        "0.33",
        None,
    ),
    Case(
        "email with a client certificate and daily threading is accepted at 0.33",
        "email: {to: noc@example.com, smarthost: 'smtp.example.com:587', from: am@example.com, tls_config: {cert_file: "
        + S
        + "/cert.pem, key_file: "
        + S
        + "/key.pem}, threading: {enabled: true, thread_by_date: daily}}",
        "0.33",
        None,
    ),
    Case(
        "PagerDuty images and links are accepted",
        "pagerduty: {routing_key_file: "
        + S
        + "/pd, images: [{src: 'https://grafana.example.com/x.png', alt: graph}], links: [{href: 'https://runbooks.example.com', text: runbook}]}",
        "0.25",
        None,
    ),
]
REFUSED = [c for c in CASES if c.message is not None]
ACCEPTED = [c for c in CASES if c.message is None]


@pytest.mark.parametrize("case", REFUSED, ids=[c.id for c in REFUSED])
def test_a_bad_sub_block_of_a_receiver_is_refused_where_written(case: Case, tmp_path: Path) -> None:
    assert _problems(_write(tmp_path / "in", case.block, case.version)) == [case.message]


@pytest.mark.parametrize("case", ACCEPTED, ids=[c.id for c in ACCEPTED])
def test_a_good_sub_block_of_a_receiver_compiles(case: Case, tmp_path: Path) -> None:
    files = build_outputs(load([_write(tmp_path / "in", case.block, case.version)]).project)
    key = case.block.split(":")[0]
    config = yaml.safe_load(files["alertmanager/alertmanager.yml"])
    written = yaml.safe_load(case.block)[key]
    generated = config["receivers"][0][f"{key}_configs"][0]
    assert {k: generated[k] for k in written} == written


def test_yaml_1_1_numbers_and_booleans_in_receiver_text_fields_keep_the_text_as_written(
    tmp_path: Path,
) -> None:
    """Alertmanager reads `title: 012` as the text 012 and `value: yes` as yes; so does
    sloforge, at any depth of the block (it used to write 10 and refuse `yes` as a boolean)."""
    block = (
        "slack: {channel: '#x', api_url_file: " + S + "/slack, title: 012, "
        "actions: [{type: button, text: Ack, name: ack, value: yes}], "
        "http_config: {tls_config: {server_name: 0x1F}}}"
    )
    files = build_outputs(load([_write(tmp_path / "in", block, "0.25")]).project)
    slack = yaml.safe_load(files["alertmanager/alertmanager.yml"])["receivers"][0]["slack_configs"][
        0
    ]
    assert (slack["title"], slack["actions"], slack["http_config"]) == (
        "012",
        [{"type": "button", "text": "Ack", "name": "ack", "value": "yes"}],
        {"tls_config": {"server_name": "0x1F"}},
    )


def _amtools(version: str) -> list[tuple[str, str]]:
    """The installed amtools of ``version`` or newer (label, path)."""
    target = tuple(int(p) for p in version.split("."))
    return [(label, a) for label, a in binaries("amtool") if _amtool_version(a) >= target]


def _check_config(amtool: str, config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [amtool, "check-config", str(config)], capture_output=True, text=True, check=False
    )


@pytest.mark.slow
@pytest.mark.parametrize("case", ACCEPTED, ids=[c.id for c in ACCEPTED])
def test_what_sloforge_accepts_every_amtool_of_the_targeted_version_accepts(
    case: Case, tmp_path: Path
) -> None:
    amtools = _amtools(case.version)
    if not amtools:
        pytest.skip(f"no amtool of Alertmanager {case.version} or newer (run `make setup`)")
    files = build_outputs(load([_write(tmp_path / "in", case.block, case.version)]).project)
    config = tmp_path / "alertmanager.yml"
    config.write_bytes(files["alertmanager/alertmanager.yml"])
    for label, amtool in amtools:
        result = _check_config(amtool, config)
        assert result.returncode == 0, f"{label} amtool:\n{result.stdout}{result.stderr}"


@pytest.mark.slow
@pytest.mark.parametrize("case", REFUSED, ids=[c.id for c in REFUSED])
def test_what_sloforge_refuses_the_targeted_amtool_refuses_too_unless_it_is_policy(
    case: Case, tmp_path: Path
) -> None:
    """The block as a plain Alertmanager configuration: the oldest installed amtool that the
    case targets refuses it (0.25 cases on Debian's, 0.33 cases on the current release)."""
    amtools = _amtools(case.version)
    if not amtools:
        pytest.skip(f"no amtool of Alertmanager {case.version} or newer (run `make setup`)")
    label, amtool = amtools[0]
    key, value = next(iter(yaml.safe_load(case.block).items()))
    config = tmp_path / "alertmanager.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "route": {"receiver": "chat"},
                "receivers": [{"name": "chat", f"{key}_configs": [value]}],
            }
        )
    )
    result = _check_config(amtool, config)
    assert (result.returncode == 0) == case.policy, f"{label} amtool:\n{result.stdout}"


def test_every_sub_block_the_field_tables_name_is_defined() -> None:
    """A `block X`, `list of X` or `mapping of X` kind names a block of receiver_blocks.yaml."""
    blocks = _block_table()
    kinds = [
        f.kind
        for spec in [*_field_table().values(), *blocks.values()]
        for f in spec.fields.values()
    ]
    named = {
        k.split(" ", 1)[1].removeprefix("of ")
        for k in kinds
        if k.startswith(("block ", "list of ", "mapping of "))
    }
    assert named and named <= set(blocks)
