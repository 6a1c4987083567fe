"""Alertmanager routing: generated configuration checked, routed and run with the real binaries."""

# ruff: noqa: E501  (whole located messages are asserted verbatim)

from __future__ import annotations

import http.server
import json
import re
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sloforge.build.alertmanager import build_alertmanager as _build_alertmanager
from sloforge.build.alertmanager import pagerduty_severities
from sloforge.errors import SpecError
from sloforge.model.domain import Escalation, Project, SeverityLevel
from sloforge.model.receivers import INTEGRATIONS
from sloforge.output.serialize import serialize
from sloforge.pipeline import _artifacts, load
from sloforge.tools.alertmanager_check import check_config, verify_routing
from sloforge_testlib import SHOP_SERVICE
from toolbox import ROOT, alertmanager, binaries, require


def build_alertmanager(project: Project) -> dict[str, bytes]:
    """What the builder's files hold once written."""
    return serialize(_build_alertmanager(project))


AMTOOLS = binaries("amtool")

SERVICE = SHOP_SERVICE

ROUTING = """\
apiVersion: sloforge/v1
kind: AlertRouting
defaults: {group_by: [alertname, slo_service, slo], group_wait: 1s, group_interval: 1s, repeat_interval: 1h}
receivers:
  - name: pager
    pagerduty: {routing_key_file: /etc/am/pd}
  - name: chat
    slack: {channel: "#shop", api_url_file: /etc/am/slack}
  - name: mail
    email: {to: shop@example.com, smarthost: "mail.example.com:25", from: am@example.com}
routes:
  - matchers: {severity: critical}
    receivers: [pager, chat]
  - matchers: {severity: warning}
    receivers: [chat]
    active_during: [office]
default_receiver: mail
time_intervals:
  office:
    - {weekdays: ["monday:friday"], times: [{start_time: "09:00", end_time: "17:00"}]}
mute_during: [office]
expect:
  - labels: {severity: critical, slo_service: shop}
    receivers: [pager, chat]
  - labels: {severity: warning}
    receivers: [chat]
  - labels: {team: shop}
    receivers: [mail]
"""


def project_dir(tmp_path: Path, routing: str, service: str = SERVICE) -> Path:
    src = tmp_path / "slo"
    src.mkdir(parents=True)
    (src / "shop.yaml").write_text(service)
    (src / "routing.yaml").write_text(routing)
    return src


def generate(paths: list[Path], out: Path) -> None:
    """Only the Alertmanager artifact: these tests do not depend on the other builders."""
    for rel, body in build_alertmanager(load(paths).project).items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(body)


def where(file: Path, needle: str) -> str:
    """file:line:col of the first occurrence of ``needle``: where a located problem must point."""
    text = file.read_text()
    index = text.index(needle)
    line = text.count("\n", 0, index) + 1
    col = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"{file.as_posix()}:{line}:{col}"


def problems(src: Path) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load([src])
    return [str(p) for p in caught.value.problems]


@pytest.fixture(params=AMTOOLS or [("missing", "")], ids=lambda b: b[0])
def amtool(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    label, path = request.param
    if not path:
        pytest.skip("amtool is not installed (run `make setup`)")
    monkeypatch.setenv("AMTOOL", path)
    return label


@pytest.fixture(scope="module")
def example_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("example") / "out"
    generate([ROOT / "slo"], out)
    return out


# --- the example repository ----------------------------------------------------------


@pytest.mark.slow
def test_example_configuration_passes_amtool_check_config(example_out: Path, amtool: str) -> None:
    result = check_config(example_out)
    assert result.ok, str(result)


@pytest.mark.slow
def test_example_expectations_route_to_the_expected_receivers(
    example_out: Path, amtool: str
) -> None:
    results = verify_routing(example_out)
    assert [str(r) for r in results if not r.ok] == []
    by_labels = {
        dict(r.labels).get("slo_tier", "") + dict(r.labels).get("alertname", ""): r for r in results
    }
    assert by_labels["ticket"].actual == ("tickets-email",)  # the business-hours-only route
    assert by_labels["SomethingUnclassified"].actual == ("noc-email",)  # the default receiver
    fan_out = [r for r in results if len(r.actual) > 1]
    assert ("oncall-pager", "school-sms", "incident-webhook") in [r.actual for r in fan_out]


# --- the compiled tree ------------------------------------------------------------------


def compiled(tmp_path: Path, routing: str = ROUTING) -> dict:
    files = build_alertmanager(load([project_dir(tmp_path, routing)]).project)
    return yaml.safe_load(files["alertmanager/alertmanager.yml"])


def test_a_route_with_two_receivers_becomes_a_continue_route_then_a_final_one(
    tmp_path: Path,
) -> None:
    routes = compiled(tmp_path)["route"]["routes"]
    assert [(r["receiver"], r.get("continue", False)) for r in routes] == [
        ("pager", True),
        ("chat", False),
        ("chat", False),
    ]
    assert routes[0]["matchers"] == routes[1]["matchers"] == ['severity="critical"']
    assert routes[2]["active_time_intervals"] == ["office"]
    assert all(r["mute_time_intervals"] == ["office"] for r in routes)


def test_built_in_inhibit_rules_pair_page_with_ticket_and_critical_with_warning(
    tmp_path: Path,
) -> None:
    assert compiled(tmp_path)["inhibit_rules"] == [
        {
            "source_matchers": ['slo_tier="page"'],
            "target_matchers": ['slo_tier="ticket"'],
            "equal": ["slo_service", "slo"],
        },
        {
            "source_matchers": ['severity="critical"'],
            "target_matchers": ['severity="warning"'],
            "equal": ["alertname", "slo_service"],
        },
    ]


def test_receivers_get_sloforge_notification_text_unless_they_set_their_own(tmp_path: Path) -> None:
    routing = ROUTING.replace('channel: "#shop",', 'channel: "#shop", title: custom,')
    receivers = {r["name"]: r for r in compiled(tmp_path, routing)["receivers"]}
    slack = receivers["chat"]["slack_configs"][0]
    assert slack["title"] == "custom"
    assert slack["text"] == '{{ template "sloforge.slack.text" . }}'
    assert receivers["mail"]["email_configs"][0]["headers"] == {
        "Subject": '{{ template "sloforge.email.subject" . }}'
    }


def test_templates_are_referenced_beside_the_configuration(tmp_path: Path) -> None:
    files = build_alertmanager(load([project_dir(tmp_path, ROUTING)]).project)
    config = yaml.safe_load(files["alertmanager/alertmanager.yml"])
    assert config["templates"] == ["templates/*.tmpl"]
    names = sorted(k for k in files if k.startswith("alertmanager/templates/"))
    assert names == [
        "alertmanager/templates/email.tmpl",
        "alertmanager/templates/pagerduty.tmpl",
        "alertmanager/templates/slack.tmpl",
        "alertmanager/templates/sloforge-objectives.tmpl",
        "alertmanager/templates/sloforge-severities.tmpl",
    ]
    assert all(files[n].startswith(b"{{/* Generated by sloforge from ") for n in names)
    objectives = files["alertmanager/templates/sloforge-objectives.tmpl"].decode()
    assert (
        '(eq .Labels.slo_service "shop") (eq .Labels.slo "availability") -}}99.9% over 30d'
        in objectives
    )


def test_a_users_template_replaces_the_default_file(tmp_path: Path) -> None:
    src = project_dir(tmp_path, ROUTING)
    (src / "templates" / "alertmanager").mkdir(parents=True)
    own = '{{ define "sloforge.slack.text" }}ours{{ end }}\n{{ define "sloforge.slack.title" }}t{{ end }}\n'
    (src / "templates" / "alertmanager" / "slack.tmpl").write_text(own)
    files = build_alertmanager(load([src]).project)
    assert files["alertmanager/templates/slack.tmpl"].decode().endswith(own)
    assert b"sloforge.email.html" in files["alertmanager/templates/email.tmpl"]


def test_the_compiler_builds_the_alertmanager_artifact() -> None:
    assert _build_alertmanager in _artifacts()


def test_no_routing_document_writes_no_alertmanager_files(tmp_path: Path) -> None:
    src = tmp_path / "slo"
    src.mkdir()
    (src / "shop.yaml").write_text(SERVICE)
    assert build_alertmanager(load([src]).project) == {}


TEMPLATE_NAMES = [
    "sloforge.slack.title",
    "sloforge.slack.text",
    "sloforge.email.subject",
    "sloforge.email.html",
    "sloforge.pagerduty.description",
    "sloforge.pagerduty.severity",
]


@pytest.mark.slow
def test_every_notification_template_renders_with_amtool(example_out: Path) -> None:
    """amtool's example data has alerts with empty labels: the templates must still render."""
    current = dict(AMTOOLS).get("current")
    if not current:
        pytest.skip("amtool template render needs Alertmanager 0.26+ (run `make tools`)")
    glob = str(example_out / "alertmanager" / "templates" / "*.tmpl")
    text = "".join(f'<{{{{ template "{name}" . }}}}>' for name in TEMPLATE_NAMES)
    result = subprocess.run(
        [current, "template", "render", f"--template.glob={glob}", f"--template.text={text}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("<[") and result.stdout.endswith(
        "<info>"
    )  # title first, severity last


# --- amtool on generated trees --------------------------------------------------------------


@pytest.mark.slow
def test_a_failing_expectation_names_labels_expected_and_actual(
    tmp_path: Path, amtool: str
) -> None:
    routing = ROUTING.replace(
        "  - labels: {team: shop}\n    receivers: [mail]",
        "  - labels: {team: shop}\n    receivers: [pager]",
    )
    out = tmp_path / "out"
    generate([project_dir(tmp_path, routing)], out)
    failing = [str(r) for r in verify_routing(out) if not r.ok]
    assert failing == ['routing {team="shop"}: expected receivers pager, got mail']


@pytest.mark.slow
def test_sloforge_test_gets_a_check_per_expectation(tmp_path: Path, amtool: str) -> None:
    from sloforge.tools.alertmanager_check import testing_checks

    routing = ROUTING.replace(
        "  - labels: {team: shop}\n    receivers: [mail]",
        "  - labels: {team: shop}\n    receivers: [pager]",
    )
    out = tmp_path / "out"
    generate([project_dir(tmp_path, routing)], out)
    checks = testing_checks(out)
    assert [(c.suite, c.name, c.passed, c.details) for c in checks] == [
        ("out/alertmanager/alertmanager.yml", "amtool check-config", True, []),
        (
            "out/alertmanager/tests/routing.test.yml",
            'routes {severity="critical", slo_service="shop"}',
            True,
            [],
        ),
        ("out/alertmanager/tests/routing.test.yml", 'routes {severity="warning"}', True, []),
        (
            "out/alertmanager/tests/routing.test.yml",
            'routes {team="shop"}',
            False,
            ['routing {team="shop"}: expected receivers pager, got mail'],
        ),
    ]


@pytest.mark.slow
def test_sloforge_test_skips_routing_when_the_configuration_is_broken(
    tmp_path: Path, amtool: str
) -> None:
    from sloforge.tools.alertmanager_check import testing_checks

    out = tmp_path / "out"
    generate([project_dir(tmp_path, ROUTING)], out)
    config = out / "alertmanager" / "alertmanager.yml"
    config.write_text(config.read_text().replace("receiver: mail", "receiver: nobody", 1))
    checks = testing_checks(out)
    assert [(c.name, c.passed, c.skipped) for c in checks] == [
        ("amtool check-config", False, False),
        ("amtool config routes test", False, True),
    ]
    assert any('undefined receiver "nobody"' in line for line in checks[0].details), checks[
        0
    ].details


BLOCKS = {
    "pagerduty": "pagerduty: {routing_key_file: /etc/am/pd}",
    "slack": 'slack: {channel: "#x", api_url_file: /etc/am/slack}',
    "email": "email: {to: x@example.com}",
    "webhook": 'webhook: [{url: "http://127.0.0.1:9/hook"}, {url_file: /etc/am/hook-url}]',
    "opsgenie": "opsgenie: {api_key_file: /etc/am/og}",
    "telegram": "telegram: {bot_token_file: /etc/am/tg, chat_id: -100123}",
    "msteams": "msteams: {webhook_url_file: /etc/am/teams}",
    "msteamsv2": "msteamsv2: {webhook_url_file: /etc/am/teams2}",
    "jira": 'jira: {api_url: "https://jira.example.com", project: OPS, issue_type: Bug}',
    "rocketchat": 'rocketchat: {token_file: /etc/am/rc, token_id_file: /etc/am/rc-id, channel: "#x"}',
    "discord": "discord: {webhook_url_file: /etc/am/discord}",
    "webex": 'webex: {room_id: "Y2lzY29z", http_config: {authorization: {credentials_file: /etc/am/webex}}}',
    "sns": 'sns: {topic_arn: "arn:aws:sns:eu-west-1:123456789012:alerts", sigv4: {region: eu-west-1}}',
}
REFUSED_BY_0_25 = {"webhook", "telegram", "msteams", "msteamsv2", "jira", "rocketchat", "discord"}


def one_receiver_routing(key: str, version: str) -> str:
    return f"""\
apiVersion: sloforge/v1
kind: AlertRouting
alertmanager_version: "{version}"
smtp: {{smarthost: "mail.example.com:25", from: am@example.com}}
receivers:
  - name: r
    {BLOCKS[key]}
routes:
  - matchers: {{severity: critical}}
    receivers: [r]
  - matchers: {{severity: warning}}
    receivers: [r]
default_receiver: r
"""


def test_the_fixture_covers_every_integration() -> None:
    assert sorted(BLOCKS) == sorted(INTEGRATIONS)


@pytest.mark.slow
@pytest.mark.parametrize("key", sorted(BLOCKS))
def test_current_alertmanager_accepts_every_integration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    current = dict(AMTOOLS).get("current")
    if not current:
        pytest.skip("no current amtool in tools/current/bin (run `make tools`)")
    monkeypatch.setenv("AMTOOL", current)
    out = tmp_path / "out"
    generate([project_dir(tmp_path, one_receiver_routing(key, "0.33"))], out)
    result = check_config(out)
    assert result.ok, str(result)


@pytest.mark.slow
@pytest.mark.parametrize("key", sorted(BLOCKS))
def test_sloforge_refuses_for_0_25_exactly_what_amtool_0_25_rejects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    """The version table against the real 0.25: accepted blocks check clean, refused ones really fail."""
    stable = dict(AMTOOLS).get("stable")
    if not stable or "version 0.25" not in _version(stable):
        pytest.skip("Debian's amtool 0.25 is not installed")
    monkeypatch.setenv("AMTOOL", stable)
    src = project_dir(tmp_path, one_receiver_routing(key, "0.25"))
    try:
        load([src])
        refused = False
    except SpecError as exc:
        assert all("needs" in str(p) for p in exc.problems), exc
        refused = True
    assert refused == (key in REFUSED_BY_0_25)
    out = tmp_path / "out"
    generate([project_dir(tmp_path / "newer", one_receiver_routing(key, "0.33"))], out)
    assert check_config(out).ok == (key not in REFUSED_BY_0_25), str(check_config(out))


def _version(binary: str) -> str:
    return subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30).stdout


# --- bad input: every message whole, located ----------------------------------------------


def test_unknown_receiver_in_a_route(tmp_path: Path) -> None:
    src = project_dir(
        tmp_path, ROUTING.replace("receivers: [chat]\n    active", "receivers: [chatt]\n    active")
    )
    at = where(src / "routing.yaml", "chatt")
    assert problems(src) == [
        f"{at}: routes[1].receivers[0]: unknown receiver `chatt`; did you mean `chat`? (see `receivers`)"
    ]


def test_unknown_time_interval(tmp_path: Path) -> None:
    src = project_dir(
        tmp_path, ROUTING.replace("active_during: [office]", "active_during: [ofice]")
    )
    at = where(src / "routing.yaml", "ofice")
    assert problems(src) == [
        f"{at}: routes[1].active_during[0]: unknown time interval `ofice`; did you mean `office`? (see `time_intervals`)"
    ]


def test_inline_secret_names_the_file_field_to_use(tmp_path: Path) -> None:
    routing = ROUTING.replace(
        "api_url_file: /etc/am/slack", "api_url: https://hooks.slack.com/services/T0/B0/XYZ"
    )
    src = project_dir(tmp_path, routing)
    at = where(src / "routing.yaml", "api_url:")
    assert problems(src) == [
        f"{at}: receivers[1].slack.api_url: secrets are never written inline; use api_url_file"
    ]


def test_webhook_url_with_credentials_is_a_secret(tmp_path: Path) -> None:
    routing = ROUTING.replace(
        "pagerduty: {routing_key_file: /etc/am/pd}",
        'webhook: {url: "https://hooks.example.com/in?token=abc"}',
    )
    src = project_dir(tmp_path, routing)
    at = where(src / "routing.yaml", "url:")
    assert problems(src) == [
        f"{at}: receivers[0].webhook.url: secrets are never written inline; "
        "use url_file (needs alertmanager_version 0.26 or newer)"
    ]


def test_receiver_the_target_version_cannot_express(tmp_path: Path) -> None:
    routing = ROUTING.replace(
        "routes:\n", "  - name: teams\n    msteams: {webhook_url_file: /etc/am/teams}\nroutes:\n"
    )
    src = project_dir(tmp_path, routing)
    at = where(src / "routing.yaml", "msteams:")
    assert problems(src) == [
        f"{at}: receivers[3].msteams: Microsoft Teams (`msteams_configs`) needs Alertmanager 0.26 or newer; "
        "this configuration targets 0.25 (raise `alertmanager_version` if your Alertmanager is newer)"
    ]


def test_telegram_on_0_25_needs_a_token_file_it_does_not_have(tmp_path: Path) -> None:
    routing = ROUTING.replace(
        "routes:\n",
        "  - name: tg\n    telegram: {bot_token_file: /etc/am/tg, chat_id: 1}\nroutes:\n",
    )
    src = project_dir(tmp_path, routing)
    at = where(src / "routing.yaml", "bot_token_file")
    assert problems(src) == [
        f"{at}: receivers[3].telegram.bot_token_file: `bot_token_file` needs Alertmanager 0.26 or newer; "
        "this configuration targets 0.25 (raise `alertmanager_version` if your Alertmanager is newer)"
    ]


def test_an_integration_sloforge_does_not_write_is_refused(tmp_path: Path) -> None:
    routing = ROUTING.replace(
        "pagerduty: {routing_key_file: /etc/am/pd}", "victorops: {api_key_file: /etc/am/vo}"
    )
    src = project_dir(tmp_path, routing)
    at = where(src / "routing.yaml", "victorops:")
    assert problems(src) == [
        f"{at}: receivers[0].victorops: unknown integration `victorops`; sloforge writes "
        "pagerduty, slack, email, webhook, opsgenie, telegram, msteams, msteamsv2, discord, webex, "
        "sns, jira, rocketchat"
    ]


@pytest.mark.slow
def test_a_receiver_may_fan_out_to_several_integrations(tmp_path: Path, amtool: str) -> None:
    routing = ROUTING.replace(
        '    slack: {channel: "#shop", api_url_file: /etc/am/slack}\n',
        '    slack: {channel: "#shop", api_url_file: /etc/am/slack}\n    email: {to: chat@example.com, smarthost: "mail:25", from: am@example.com}\n',
    )
    out = tmp_path / "out"
    generate([project_dir(tmp_path, routing)], out)
    config = yaml.safe_load((out / "alertmanager" / "alertmanager.yml").read_text())
    chat = next(r for r in config["receivers"] if r["name"] == "chat")
    assert sorted(chat) == ["email_configs", "name", "slack_configs"]
    assert check_config(out).ok


def test_a_route_after_a_catch_all_is_unreachable(tmp_path: Path) -> None:
    routing = ROUTING.replace(
        "  - matchers: {severity: critical}\n",
        "  - receivers: [mail]\n  - matchers: {severity: critical}\n",
    )
    src = project_dir(tmp_path, routing)
    message = (
        "unreachable: routes[0] has no matchers and no `continue`, so it takes every alert first "
        "(move it last, or give it matchers or `continue: true`)"
    )
    assert problems(src) == [
        f"{where(src / 'routing.yaml', 'matchers: {severity: critical}')}: routes[1]: {message}",
        f"{where(src / 'routing.yaml', 'matchers: {severity: warning}')}: routes[2]: {message}",
    ]


def test_a_severity_no_route_names_is_a_warning(tmp_path: Path) -> None:
    routing = ROUTING.replace(
        "  - matchers: {severity: warning}\n    receivers: [chat]\n    active_during: [office]\n",
        "",
    )
    src = project_dir(tmp_path, routing)
    loaded = load([src])
    at = where(src / "routing.yaml", "routes:")
    assert [str(w) for w in loaded.warnings] == [
        f"{at}: warning: routes: no route matches severity `warning` (carried by alerts of shop); "
        "those alerts only reach the default receiver `mail`"
    ]


def test_a_wrapping_weekday_range_is_refused_with_the_split_to_use(tmp_path: Path) -> None:
    src = project_dir(tmp_path, ROUTING.replace('"monday:friday"', '"saturday:wednesday"'))
    at = where(src / "routing.yaml", '"saturday:wednesday"')
    assert problems(src) == [
        f"{at}: time_intervals.office[0].weekdays[0]: range 'saturday:wednesday' wraps past saturday; "
        "weeks run sunday to saturday here, so split it: [saturday, sunday:wednesday]"
    ]


# --- a real Alertmanager: the page inhibits the ticket ------------------------------------


class _Sink(http.server.BaseHTTPRequestHandler):
    received: list[tuple[str, dict]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).received.append((self.path, json.loads(body)))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def sink() -> Iterator[tuple[str, list[tuple[str, dict]]]]:
    handler = type("Sink", (_Sink,), {"received": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler.received
    finally:
        server.shutdown()
        server.server_close()


def _post(url: str, data: object) -> None:
    request = urllib.request.Request(
        url, json.dumps(data).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def _get(url: str) -> list[dict]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def _alert(tier: str, severity: str) -> dict:
    now = datetime.now(UTC).isoformat()
    return {
        "labels": {
            "alertname": "ShopAvailabilityBudgetBurn",
            "slo_service": "shop",
            "slo": "availability",
            "team": "shop",
            "severity": severity,
            "slo_tier": tier,
        },
        "annotations": {
            "summary": f"shop availability burning ({tier})",
            "runbook_url": "https://runbooks.example.com/shop/ShopAvailabilityBudgetBurn.md",
            "dashboard_url": "https://grafana.example.com/d/sloforge-shop",
            "error_budget_remaining": "42%",
        },
        "startsAt": now,
    }


def _wait_for(predicate, timeout: float = 20.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.2)
    return predicate()


@pytest.mark.slow
@pytest.mark.parametrize(
    "server", binaries("alertmanager") or [("missing", "")], ids=lambda b: b[0]
)
def test_real_alertmanager_notifies_the_page_and_inhibits_the_ticket(
    tmp_path: Path, sink, server
) -> None:  # type: ignore[no-untyped-def]
    if not server[1]:
        require("alertmanager")
    base, received = sink
    slack_url = tmp_path / "slack-url"
    slack_url.write_text(f"{base}/slack")
    routing = f"""\
apiVersion: sloforge/v1
kind: AlertRouting
defaults: {{group_by: [alertname, slo_service, slo], group_wait: 1s, group_interval: 1s, repeat_interval: 1h}}
receivers:
  - name: hook
    webhook: {{url: "{base}/hook"}}
  - name: chat
    slack: {{channel: "#shop", api_url_file: {slack_url}}}
routes:
  - matchers: {{slo_service: shop}}
    receivers: [hook, chat]
default_receiver: hook
"""
    out = tmp_path / "out"
    generate([project_dir(tmp_path, routing)], out)
    with alertmanager(
        out / "alertmanager" / "alertmanager.yml", tmp_path / "am-data", server[1]
    ) as am:
        _post(f"{am}/api/v2/alerts", [_alert("page", "critical")])
        assert _wait_for(lambda: _get(f"{am}/api/v2/alerts")), "the page alert never showed up"
        _post(f"{am}/api/v2/alerts", [_alert("ticket", "warning")])

        def ticket_inhibited() -> bool:
            alerts = _get(f"{am}/api/v2/alerts")
            return any(
                a["labels"]["slo_tier"] == "ticket" and a["status"]["inhibitedBy"] for a in alerts
            )

        assert _wait_for(ticket_inhibited), "the ticket was not inhibited by the page"
        assert _wait_for(lambda: any(p == "/hook" for p, _ in received)), (
            "the webhook never heard of the page"
        )
        assert _wait_for(lambda: any(p == "/slack" for p, _ in received)), (
            "Slack never heard of the page"
        )
        time.sleep(3)  # several group intervals: room for a wrongly delivered ticket to arrive
    hooks = [body for path, body in received if path == "/hook"]
    tiers = {a["labels"]["slo_tier"] for body in hooks for a in body["alerts"]}
    assert tiers == {"page"}
    slack = next(body for path, body in received if path == "/slack")
    text = slack["attachments"][0]["title"] + "\n" + slack["attachments"][0]["text"]
    for shown in (
        "[FIRING:1] ShopAvailabilityBudgetBurn | shop / availability",
        "*shop availability burning (page)*",
        "*SLO:* shop/availability, objective 99.9% over 30d",
        "*Error budget left:* 42%",
        "<https://runbooks.example.com/shop/ShopAvailabilityBudgetBurn.md|Runbook>",
        "<https://grafana.example.com/d/sloforge-shop|Dashboard>",
    ):
        assert shown in text, f"{shown!r} not in the Slack message:\n{text}"
    assert "ticket" not in text


# --- PagerDuty severities from the catalog ---------------------------------------------------


def _level(name: str, label: str, kind: str | None = None, to: str | None = None) -> SeverityLevel:
    escalate = Escalation(300, to) if to else None
    return SeverityLevel(name, label, kind, escalate=escalate)  # type: ignore[arg-type]


PAGERDUTY_CASES = [
    (
        "the example's P1-P4 keep their labels' meaning and P0, an escalation target, is critical",
        (
            _level("P1", "critical", "page", to="P0"),
            _level("P2", "high", "page"),
            _level("P3", "warning", "ticket"),
            _level("P4", "info", "ticket"),
            _level("P0", "escalated"),
        ),
        {
            "critical": "critical",
            "high": "error",
            "warning": "warning",
            "info": "info",
            "escalated": "critical",
        },
    ),
    (
        "SEV-1..3 map by class in catalog order",
        (
            _level("SEV-1", "SEV-1", "page"),
            _level("SEV-2", "SEV-2", "page"),
            _level("SEV-3", "SEV-3", "ticket"),
        ),
        {"SEV-1": "critical", "SEV-2": "error", "SEV-3": "warning"},
    ),
    (
        "CRITICAL HIGH MEDIUM LOW read as the words they are",
        (
            _level("CRITICAL", "CRITICAL"),
            _level("HIGH", "HIGH"),
            _level("MEDIUM", "MEDIUM"),
            _level("LOW", "LOW"),
        ),
        {"CRITICAL": "critical", "HIGH": "error", "MEDIUM": "warning", "LOW": "info"},
    ),
    (
        "a later ticket is info and an entry with neither class nor known word is warning",
        (_level("T1", "t1", "ticket"), _level("T2", "t2", "ticket"), _level("X", "x")),
        {"t1": "warning", "t2": "info", "x": "warning"},
    ),
    (
        "without a catalog critical and warning stay as they are",
        (),
        {"critical": "critical", "warning": "warning"},
    ),
]


@pytest.mark.parametrize(
    ("levels", "expected"), [c[1:] for c in PAGERDUTY_CASES], ids=[c[0] for c in PAGERDUTY_CASES]
)
def test_every_catalog_severity_maps_to_a_pagerduty_severity(
    levels: tuple[SeverityLevel, ...], expected: dict[str, str]
) -> None:
    assert pagerduty_severities(levels) == expected


CATALOG = """\
apiVersion: sloforge/v1
kind: Settings
severities:
  - {name: P1, label: critical, class: page, escalate: {after: 5m, to: P0}}
  - {name: P2, label: high, class: page}
  - {name: P3, label: warning, class: ticket}
  - {name: P4, label: info, class: ticket}
  - {name: P5, label: p5, class: ticket}
  - {name: SEV-X, label: sev-x}
  - {name: P0, label: escalated}
"""
# What PagerDuty receives for each catalog label, and for a label the catalog lacks.
PAGERDUTY_EXPECTED = {
    "critical": "critical",
    "high": "error",
    "warning": "warning",
    "info": "info",
    "p5": "info",
    "sev-x": "warning",
    "escalated": "critical",
    "unknown": "info",
}


@pytest.mark.slow
@pytest.mark.parametrize(
    "server", binaries("alertmanager") or [("missing", "")], ids=lambda b: b[0]
)
def test_pagerduty_receives_the_catalog_severity_mapped(tmp_path: Path, sink, server) -> None:  # type: ignore[no-untyped-def]
    """A real Alertmanager (0.25 and current) sends PagerDuty events whose severity follows
    the catalog; the events go to a local sink through the receiver's ``url``."""
    if not server[1]:
        require("alertmanager")
    base, received = sink
    key = tmp_path / "pagerduty-key"
    key.write_text("0123456789abcdef0123456789abcdef")
    routing = f"""\
apiVersion: sloforge/v1
kind: AlertRouting
defaults: {{group_by: [severity], group_wait: 1s, group_interval: 1s, repeat_interval: 1h}}
receivers:
  - name: pager
    pagerduty: {{routing_key_file: {key}, url: "{base}/pd"}}
default_receiver: pager
"""
    src = project_dir(tmp_path, routing)
    (src / "settings.yaml").write_text(CATALOG)
    out = tmp_path / "out"
    generate([src], out)
    with alertmanager(
        out / "alertmanager" / "alertmanager.yml", tmp_path / "am-data", server[1]
    ) as am:
        now = datetime.now(UTC).isoformat()
        _post(
            f"{am}/api/v2/alerts",
            [
                # one service each: the built-in critical-silences-warning rule stays out of it
                {
                    "labels": {"alertname": "PdSeverity", "severity": s, "slo_service": s},
                    "startsAt": now,
                }
                for s in PAGERDUTY_EXPECTED
            ],
        )

        def events() -> dict[str, str]:
            """{alert severity label: PagerDuty severity}, once every group has arrived."""
            found = {}
            for path, body in list(received):
                if path == "/pd":
                    details = json.dumps(body["payload"]["custom_details"])
                    # 0.25 writes the labels as text, later versions as JSON
                    label = re.search(r'severity(?: = |": ")([\w-]+)', details)
                    assert label, details
                    found[label.group(1)] = body["payload"]["severity"]
            return found

        _wait_for(lambda: len(events()) == len(PAGERDUTY_EXPECTED))
    assert events() == PAGERDUTY_EXPECTED
