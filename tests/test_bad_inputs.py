# ruff: noqa: E501 - whole messages read best on one line each
"""Every bad input gets a clear, located answer, exit 1, and the previous output untouched.

Each case is fed through the real command line (typer's CliRunner, in process)
twice: `sloforge validate in` and `sloforge generate in --out out`, where out/
already holds the output of a valid run. The whole message is asserted, the
exit code is 1, no traceback is printed, out/ is byte-identical afterwards and
nothing new appears in the working directory.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sloforge.cli import app
from sloforge.spec import loader
from sloforge_testlib import SHOP_SERVICE
from typer.testing import CliRunner

runner = CliRunner()

SERVICE = SHOP_SERVICE

ROUTING = """\
apiVersion: sloforge/v1
kind: AlertRouting
smtp: {smarthost: "smtp.example.com:587", from: am@example.com}
receivers:
  - name: team-email
    email: {to: team@example.com}
default_receiver: team-email
"""

RATIO_SLI = """\
      ratio:
        errors: http_requests_total{job="shop", code=~"5.."}
        total: http_requests_total{job="shop"}
"""


def service(old: str = "", new: str = "", append: str = "") -> str:
    """The valid service with one substring replaced (which must be there) and text appended."""
    if old:
        assert old in SERVICE, old
    return (SERVICE.replace(old, new, 1) if old else SERVICE) + append


def routing(old: str = "", new: str = "", append: str = "") -> str:
    if old:
        assert old in ROUTING, old
    return (ROUTING.replace(old, new, 1) if old else ROUTING) + append


def with_sli(body: str) -> str:
    return service(RATIO_SLI, body)


BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n"
    for prev, name in zip("abcdef", "bcdefg", strict=True)
)

NAME_RULE = (
    "must be lower-case letters, digits and dashes, starting with a letter or digit, "
    "because it names output files"
)
UNWRITABLE = "the new tree is built beside the output directory and swapped in, so its parent must be writable"
SYSTEM_TAG = "!!python/object/apply:os.system ['touch PWNED-system']"
OPEN_TAG = "!!python/object/apply:builtins.open ['PWNED-open', 'w']"


@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, str | bytes]
    expect: list[str]
    out: str = "out"
    commands: tuple[str, ...] = ("validate", "generate")
    setup: str = ""  # a name from SETUPS: prepare the working directory
    extra: dict[str, str] = field(default_factory=dict)


def only(text: str | bytes, name: str = "in/shop.yaml") -> dict[str, str | bytes]:
    return {name: text}


def both(svc: str = SERVICE, route: str = ROUTING) -> dict[str, str | bytes]:
    return {"in/shop.yaml": svc, "in/routing.yaml": route}


CASES = [
    # --- YAML itself --------------------------------------------------------------
    Case(
        "an unclosed flow list is a YAML syntax error at the token that broke it",
        only(service("owner: shop", "owner: [shop")),
        [
            "in/shop.yaml:5:5: invalid YAML: while parsing a flow sequence, expected ',' or ']', but got ':'"
        ],
    ),
    Case(
        "a key indented too far says to check the indentation",
        only(service("    objective: 99.9", "      objective: 99.9")),
        [
            "in/shop.yaml:7:16: invalid YAML: a `key: value` where none can start; check this line's "
            "indentation, or quote a value that contains ': '"
        ],
    ),
    Case(
        "a tab used for indentation is named as a tab",
        only(service("    objective", "\tobjective")),
        ["in/shop.yaml:7:1: invalid YAML: tab characters cannot indent YAML; use spaces"],
    ),
    Case(
        "a key given twice is refused instead of the last one silently winning",
        only(service("owner: shop", "owner: shop\nowner: web")),
        ["in/shop.yaml:5:1: owner: duplicate key `owner`"],
    ),
    Case("an empty file", only(""), ["in/shop.yaml:1:1: file holds no document"]),
    Case(
        "a file of comments only",
        only("# todo: write the SLOs\n"),
        ["in/shop.yaml:1:1: file holds no document"],
    ),
    Case(
        "bytes that are not UTF-8 are located",
        only(service().encode().replace(b"owner: shop", b"owner: sh\xe9p")),
        ["in/shop.yaml:4:10: file is not valid UTF-8 text"],
    ),
    Case(
        "an alias bomb stops at the node budget instead of exhausting memory",
        only(BOMB),
        [
            "in/shop.yaml:1:32: invalid YAML: document expands to more than 200000 values "
            "(too large, or an alias bomb)"
        ],
    ),
    Case(
        "a Python object tag at the top is refused and never executed",
        only(SYSTEM_TAG + "\n"),
        [
            "in/shop.yaml:1:1: unsupported YAML tag !!python/object/apply:os.system; "
            "only plain data is accepted"
        ],
    ),
    Case(
        "a Python object tag inside a field is refused and never executed",
        only(service("owner: shop", f"owner: {OPEN_TAG}")),
        [
            "in/shop.yaml:4:8: owner: unsupported YAML tag !!python/object/apply:builtins.open; "
            "only plain data is accepted"
        ],
    ),
    Case(
        "nesting deeper than the limit is refused",
        only("a: " + "[" * 70 + "]" * 70 + "\n"),
        [f"in/shop.yaml:1:68: a{'[0]' * 64}: nesting deeper than 64 levels"],
    ),
    Case(
        "a file larger than the limit is refused before it is parsed",
        only("# " + "x" * (9 * 1024 * 1024) + "\n"),
        ["in/shop.yaml: file is 9437187 bytes; the limit is 8 MiB"],
    ),
    # --- document shape -------------------------------------------------------------
    Case(
        "a list at the top where a document belongs",
        only("- shop\n- checkout\n"),
        ["in/shop.yaml:1:1: a document must be a mapping with apiVersion and kind (got list)"],
    ),
    Case(
        "a bare word instead of a document",
        only("shop\n"),
        [
            "in/shop.yaml:1:1: a document must be a mapping with apiVersion and kind (got str 'shop')"
        ],
    ),
    Case(
        "a missing apiVersion names the one to use",
        only(service("apiVersion: sloforge/v1\n", "")),
        ["in/shop.yaml:1:1: apiVersion: missing required field `apiVersion` (use sloforge/v1)"],
    ),
    Case(
        "an unknown apiVersion names the one sloforge reads",
        only(service("sloforge/v1", "sloforge/v2")),
        [
            "in/shop.yaml:1:1: apiVersion: unknown apiVersion 'sloforge/v2'; sloforge reads sloforge/v1 "
            "(Sloth, Pyrra and OpenSLO documents are recognised by their own version)"
        ],
    ),
    Case(
        "an apiVersion that is a list (found by the fuzzer: it crashed the lookup)",
        only(service("apiVersion: sloforge/v1", "apiVersion: [sloforge/v1]")),
        ["in/shop.yaml:1:1: apiVersion: must be the text sloforge/v1 (got list)"],
    ),
    Case(
        "a kind that is a number",
        only(service("kind: ServiceLevels", "kind: 3")),
        [
            "in/shop.yaml:2:1: kind: must be one of ServiceLevels, AlertRouting, Settings (got int 3)"
        ],
    ),
    Case(
        "a misspelt kind gets a suggestion",
        only(service("kind: ServiceLevels", "kind: ServiceLevel")),
        [
            "in/shop.yaml:2:1: kind: unknown kind 'ServiceLevel'; expected one of ServiceLevels, "
            "AlertRouting, Settings, did you mean `ServiceLevels`?"
        ],
    ),
    Case(
        "a list where a mapping belongs",
        only(service("owner: shop", "owner: shop\nlabels: [tier]")),
        ["in/shop.yaml:5:1: labels: must be a mapping (got a list)"],
    ),
    Case(
        "a mapping where a list belongs",
        only(SERVICE.split("slos:")[0] + "slos: {name: availability}\n"),
        ["in/shop.yaml:5:1: slos: must be a list (got a mapping)"],
    ),
    # --- fields and values ------------------------------------------------------------
    Case(
        "a misspelt field is one problem with a suggestion, not also a missing field",
        only(service("objective:", "objectve:")),
        ["in/shop.yaml:7:5: slos[0].objectve: unknown field `objectve`, did you mean `objective`?"],
    ),
    Case(
        "an unknown top-level field",
        only(service(append="mascot: blue\n")),
        ["in/shop.yaml:12:1: mascot: unknown field `mascot`"],
    ),
    Case(
        "a misspelt SLI kind is one problem with a suggestion",
        only(service("      ratio:", "      ratoi:")),
        ["in/shop.yaml:9:7: slos[0].sli.ratoi: unknown field `ratoi`, did you mean `ratio`?"],
    ),
    Case(
        "a ratio's fields written one level too high say where they belong",
        only(
            service(
                '      ratio:\n        errors: http_requests_total{job="shop", code=~"5.."}\n'
                '        total: http_requests_total{job="shop"}\n',
                '      good: http_requests_total{job="shop", code!~"5.."}\n'
                '      total: http_requests_total{job="shop"}\n',
            )
        ),
        [
            "in/shop.yaml:9:7: slos[0].sli.good: unknown field `good` here: it belongs under "
            "`ratio`",
            "in/shop.yaml:10:7: slos[0].sli.total: unknown field `total` here: it belongs under "
            "`query` or `ratio`",
        ],
    ),
    Case(
        "a document-level field inside an SLO says it belongs at the top level",
        only(service("    objective: 99.9\n", "    objective: 99.9\n    owner: shop\n")),
        [
            "in/shop.yaml:8:5: slos[0].owner: unknown field `owner` here: it belongs at the "
            "document's top level"
        ],
    ),
    Case(
        "an objective of 0",
        only(service("99.9", "0")),
        ["in/shop.yaml:7:5: slos[0].objective: must be greater than 0 (got 0)"],
    ),
    Case(
        "an objective of 100",
        only(service("99.9", "100")),
        ["in/shop.yaml:7:5: slos[0].objective: must be less than 100 (got 100)"],
    ),
    Case(
        "a negative objective",
        only(service("99.9", "-99.9")),
        ["in/shop.yaml:7:5: slos[0].objective: must be greater than 0 (got -99.9)"],
    ),
    Case(
        "an objective in words",
        only(service("99.9", "three nines")),
        ["in/shop.yaml:7:5: slos[0].objective: must be a number (got 'three nines')"],
    ),
    Case(
        "an objective with a percent sign",
        only(service("99.9", "99.9%")),
        ["in/shop.yaml:7:5: slos[0].objective: must be a number (got '99.9%')"],
    ),
    Case(
        "an objective of yes (a YAML boolean)",
        only(service("99.9", "yes")),
        ["in/shop.yaml:7:5: slos[0].objective: must be a number (got True)"],
    ),
    Case(
        "an objective of .nan",
        only(service("99.9", ".nan")),
        ["in/shop.yaml:7:5: slos[0].objective: must be a finite number (got nan)"],
    ),
    Case(
        "a window with a word unit",
        only(service("    objective: 99.9", "    objective: 99.9\n    window: 30days")),
        [
            "in/shop.yaml:8:5: slos[0].window: invalid duration '30days': "
            "use a Prometheus duration like 5m, 1h or 30d, or month or week for a calendar period"
        ],
    ),
    Case(
        "a window without a unit",
        only(service("    objective: 99.9", "    objective: 99.9\n    window: 30")),
        [
            "in/shop.yaml:8:5: slos[0].window: must be a duration like 30d, "
            "or month or week for a calendar period (got 30)"
        ],
    ),
    Case(
        "a calendar window in a zone with daylight saving time",
        only(
            service(
                "    objective: 99.9",
                "    objective: 99.9\n    window: month\n    time_zone: Europe/Berlin",
            )
        ),
        [
            "in/shop.yaml:9:5: slos[0].time_zone: time zone 'Europe/Berlin' changes its UTC "
            "offset (UTC+01:00 and UTC+02:00, daylight saving time); PromQL on Prometheus 2.42 "
            "has no time-zone functions, so a calendar period needs a zone with one offset all "
            "year: use UTC or a fixed-offset zone (e.g. Asia/Tehran, Asia/Kolkata, Etc/GMT-1)"
        ],
    ),
    Case(
        "a calendar window in an unknown time zone",
        only(
            service(
                "    objective: 99.9",
                "    objective: 99.9\n    window: week\n    time_zone: Mars/Olympus",
            )
        ),
        [
            "in/shop.yaml:9:5: slos[0].time_zone: unknown time zone 'Mars/Olympus': "
            "use an IANA name such as UTC or Asia/Tehran"
        ],
    ),
    Case(
        "a time zone on a rolling window",
        only(service("    objective: 99.9", "    objective: 99.9\n    time_zone: Asia/Tehran")),
        [
            "in/shop.yaml:8:5: slos[0].time_zone: applies only to calendar periods "
            "(window: month or week; got window 30d)"
        ],
    ),
    Case(
        "a for: in words",
        only(
            service(
                append="alerts:\n  - {name: ShopDown, expr: up == 0, for: 5 minutes, severity: warning}\n"
            )
        ),
        [
            "in/shop.yaml:13:37: alerts[0].for: invalid duration '5 minutes': "
            "use a Prometheus duration like 5m, 1h or 30d"
        ],
    ),
    Case(
        "a tier whose short window is longer than its long window",
        only(
            service(
                append="    alerting:\n      tiers:\n"
                "        - {severity: page, long_window: 5m, short_window: 1h, burn_rate: 14.4}\n"
            )
        ),
        [
            "in/shop.yaml:14:11: slos[0].alerting.tiers[0]: short_window (1h) must be shorter than long_window (5m)"
        ],
    ),
    Case(
        "a latency threshold of zero",
        only(with_sli("      latency: {histogram: http_request_duration_seconds, threshold: 0}\n")),
        ["in/shop.yaml:9:59: slos[0].sli.latency.threshold: must be greater than 0 (got 0)"],
    ),
    Case(
        "a histogram given with its _bucket suffix names the base name to use",
        only(
            with_sli(
                "      latency: {histogram: http_request_duration_seconds_bucket, threshold: 0.5}\n"
            )
        ),
        [
            "in/shop.yaml:9:7: slos[0].sli.latency: histogram: give the base name without _bucket "
            "(got 'http_request_duration_seconds_bucket', use 'http_request_duration_seconds')"
        ],
    ),
    Case(
        "a structured alert without a severity",
        only(service(append="alerts:\n  - {name: ShopDown, expr: up == 0}\n")),
        ["in/shop.yaml:13:5: alerts[0].severity: missing required field `severity`"],
    ),
    # --- PromQL -------------------------------------------------------------------------
    Case(
        "an unclosed selector brace",
        only(service('code=~"5.."}', 'code=~"5.."')),
        [
            "in/shop.yaml:10:9: slos[0].sli.ratio.errors: invalid PromQL: unexpected end of input inside braces"
        ],
    ),
    Case(
        "an alert expression with a dangling operator shows the expression",
        only(service(append="alerts:\n  - {name: ShopDown, expr: up ==, severity: warning}\n")),
        [
            "in/shop.yaml:13:22: alerts[0].expr: invalid PromQL: cannot parse 'up ==' "
            "(a missing operand, operator or bracket?)"
        ],
    ),
    Case(
        "a number beyond float range (found by the fuzzer: the parser read +Inf, promtool refused)",
        only(
            service(append="alerts:\n  - {name: ShopDown, expr: up > 1e309, severity: warning}\n")
        ),
        [
            "in/shop.yaml:13:22: alerts[0].expr: invalid PromQL: number 1e309 is out of range (write +Inf)"
        ],
    ),
    Case(
        "a bare duration as an expression (found by the fuzzer: promtool refused it)",
        only(service(append="alerts:\n  - {name: ShopDown, expr: up > 5m, severity: warning}\n")),
        [
            "in/shop.yaml:13:22: alerts[0].expr: invalid PromQL: unexpected duration '5m'; durations go in a range [5m], after offset, or as seconds (300)"
        ],
    ),
    Case(
        "an unclosed parenthesis in a recording rule",
        only(service(append="recording_rules:\n  - {record: 'job:up:sum', expr: 'sum(up'}\n")),
        ["in/shop.yaml:13:28: recording_rules[0].expr: invalid PromQL: unclosed left parenthesis"],
    ),
    Case(
        "a query SLI without $window",
        only(
            with_sli(
                "      query:\n        errors: sum(rate(e_total[5m]))\n        total: sum(rate(t_total[$window]))\n"
            )
        ),
        [
            "in/shop.yaml:10:9: slos[0].sli.query.errors: must contain $window where the range of "
            "each window goes, e.g. rate(x[$window])"
        ],
    ),
    Case(
        "two SLI kinds at once",
        only(service(append='      probe: probe_success{job="blackbox"}\n')),
        [
            "in/shop.yaml:8:5: slos[0].sli: exactly one of ratio, latency, probe, query or timeslices is required (got ratio and probe)"
        ],
    ),
    Case(
        "no SLI kind at all",
        only(SERVICE.split("    sli:")[0] + "    sli: {}\n"),
        [
            "in/shop.yaml:8:5: slos[0].sli: exactly one of ratio, latency, probe, query or timeslices is required (got none)"
        ],
    ),
    # --- names -----------------------------------------------------------------------------
    Case(
        "a duplicate SLO name is one problem",
        only(service(append=SERVICE.split("slos:\n")[1])),
        [
            "in/shop.yaml:12:5: slos[1].name: duplicate SLO name `availability` (first at in/shop.yaml:6:5)"
        ],
    ),
    Case(
        "the same service in two files",
        {"in/a.yaml": SERVICE, "in/b.yaml": SERVICE},
        ["in/b.yaml:3:1: service: service `shop` is already defined at in/a.yaml:3:1"],
    ),
    Case(
        "a service name with a path separator",
        only(service("service: shop", "service: shop/api")),
        [f"in/shop.yaml:3:1: service: {NAME_RULE} (got 'shop/api'), e.g. 'shop-api'"],
    ),
    Case(
        "a service name of ..",
        only(service("service: shop", "service: '..'")),
        [f"in/shop.yaml:3:1: service: {NAME_RULE} (got '..')"],
    ),
    Case(
        "a service name with a space",
        only(service("service: shop", "service: web shop")),
        [f"in/shop.yaml:3:1: service: {NAME_RULE} (got 'web shop'), e.g. 'web-shop'"],
    ),
    Case(
        "a service name in upper case",
        only(service("service: shop", "service: Shop")),
        [f"in/shop.yaml:3:1: service: {NAME_RULE} (got 'Shop'), e.g. 'shop'"],
    ),
    Case(
        "an SLO name that climbs out of the directory",
        only(service("name: availability", "name: ../../etc/availability")),
        [
            f"in/shop.yaml:6:5: slos[0].name: {NAME_RULE} (got '../../etc/availability'), e.g. 'etc-availability'"
        ],
    ),
    Case(
        "an alert name with a space suggests CamelCase",
        only(service(append="alerts:\n  - {name: shop down, expr: up == 0, severity: warning}\n")),
        [
            "in/shop.yaml:13:6: alerts[0].name: is not a valid alert name: use letters, digits and "
            "underscores, starting with a letter (got 'shop down'), e.g. 'ShopDown'"
        ],
    ),
    Case(
        "a label name with a dash suggests an underscore",
        only(service("owner: shop", "owner: shop\nlabels: {tier-id: '1'}")),
        [
            "in/shop.yaml:5:10: labels.tier-id: is not a valid label name: use letters, digits and "
            "underscores, not starting with a digit (got 'tier-id'), e.g. 'tier_id'"
        ],
    ),
    # --- Jsonnet ---------------------------------------------------------------------------
    Case(
        "a Jsonnet syntax error keeps Jsonnet's position",
        only("{\n  apiVersion: 'sloforge/v1',\n", "in/shop.jsonnet"),
        [
            "in/shop.jsonnet:3:1: Jsonnet syntax error: unexpected: end of file while parsing field definition"
        ],
    ),
    Case(
        "a Jsonnet error() is located at the call",
        only(
            "{\n  apiVersion: 'sloforge/v1',\n  kind: error 'kind is not decided yet',\n}\n",
            "in/shop.jsonnet",
        ),
        ["in/shop.jsonnet:3:9: Jsonnet runtime error: kind is not decided yet"],
    ),
    Case(
        "a Jsonnet type error",
        only("{ apiVersion: 'sloforge/v1' } + 3\n", "in/shop.jsonnet"),
        [
            "in/shop.jsonnet:1:1: Jsonnet runtime error: binary operator + requires matching types, "
            "got object and number."
        ],
    ),
    Case(
        "a missing Jsonnet import",
        only("import 'slo-lib.libsonnet'\n", "in/shop.jsonnet"),
        [
            'in/shop.jsonnet:1:1: Jsonnet runtime error: couldn\'t open import "slo-lib.libsonnet": '
            "no match locally or in the Jsonnet library paths."
        ],
    ),
    Case(
        "endless Jsonnet recursion hits the stack limit",
        only("local f(x) = f(x + 1);\nf(0)\n", "in/shop.jsonnet"),
        ["in/shop.jsonnet:1:14: Jsonnet runtime error: max stack frames exceeded."],
    ),
    Case(
        "an endless Jsonnet loop is stopped by the time limit",
        only("local f(x) = if x < 0 then 0 else f(x + 1) tailstrict;\nf(1)\n", "in/shop.jsonnet"),
        [
            "in/shop.jsonnet:1:1: Jsonnet evaluation did not finish within 2s (endless recursion or loop?)"
        ],
    ),
    Case(
        "a huge Jsonnet allocation is stopped by the memory limit",
        only("std.length(std.makeArray(100000000, function(i) [i]))\n", "in/shop.jsonnet"),
        ["in/shop.jsonnet:1:1: Jsonnet evaluation needed more than 256 MiB of memory"],
    ),
    Case(
        "a Jsonnet file that evaluates to nothing",
        only("[]\n", "in/shop.jsonnet"),
        ["in/shop.jsonnet:1:1: Jsonnet evaluated to an empty list"],
    ),
    # --- routing ------------------------------------------------------------------------------
    Case(
        "a route to a misspelt receiver",
        both(
            route=routing(
                append="routes:\n  - matchers: {severity: critical}\n    receivers: [team-emial]\n"
            )
        ),
        [
            "in/routing.yaml:10:17: routes[0].receivers[0]: unknown receiver `team-emial`; "
            "did you mean `team-email`? (see `receivers`)"
        ],
    ),
    Case(
        "an undefined default receiver lists the defined ones",
        both(route=routing("default_receiver: team-email", "default_receiver: pager")),
        [
            "in/routing.yaml:7:1: default_receiver: unknown receiver `pager`; defined: team-email (see `receivers`)"
        ],
    ),
    Case(
        "a route active during an undefined time interval",
        both(
            route=routing(
                append="routes:\n  - matchers: {severity: warning}\n    receivers: [team-email]\n"
                "    active_during: [office-hours]\n"
            )
        ),
        [
            "in/routing.yaml:11:21: routes[0].active_during[0]: unknown time interval `office-hours`; "
            "defined: none (see `time_intervals`)"
        ],
    ),
    Case(
        "muting during an undefined time interval",
        both(route=routing(append="mute_during: [maintenance]\n")),
        [
            "in/routing.yaml:8:15: mute_during[0]: unknown time interval `maintenance`; defined: none (see `time_intervals`)"
        ],
    ),
    Case(
        "a repeated group_by label (found by the fuzzer: amtool refused the output)",
        both(route=routing(append="defaults: {group_by: [alertname, slo, slo]}\n")),
        [
            "in/routing.yaml:8:12: defaults.group_by: lists `slo` more than once; Alertmanager refuses repeated group_by labels"
        ],
    ),
    Case(
        "an empty group_by label (found by the fuzzer: amtool refused the output)",
        both(route=routing(append="defaults: {group_by: [alertname, '']}\n")),
        [
            "in/routing.yaml:8:12: defaults.group_by: '' is not a label name (or `...` for every label)"
        ],
    ),
    Case(
        "an alert name too long for its runbook file (found by the fuzzer: the write failed)",
        only(
            service(
                append=f"alerts:\n  - {{name: {'X' * 300}, expr: up == 0, severity: warning}}\n"
            )
        ),
        [
            "in/shop.yaml:13:6: alerts[0].name: must be at most 200 characters, because it names the runbook file (got 300)"
        ],
    ),
    Case(
        "an empty SMTP smarthost (found by the fuzzer: amtool refused the output)",
        both(route=routing('smarthost: "smtp.example.com:587"', 'smarthost: ""')),
        [
            "in/routing.yaml:3:8: smtp.smarthost: must be host:port, e.g. smtp.example.com:587 (got '')"
        ],
    ),
    Case(
        "an inline Slack webhook URL is a secret",
        both(
            route=routing(
                "default_receiver",
                "  - name: chat\n    slack: {channel: '#shop', api_url: 'https://hooks.slack.com/services/T0/B0/X'}\n"
                "default_receiver",
            )
        ),
        [
            "in/routing.yaml:8:31: receivers[1].slack.api_url: secrets are never written inline; use api_url_file"
        ],
    ),
    Case(
        "an inline PagerDuty routing key is a secret",
        both(
            route=routing(
                "default_receiver",
                "  - name: pager\n    pagerduty: {routing_key: abc123}\ndefault_receiver",
            )
        ),
        [
            "in/routing.yaml:8:17: receivers[1].pagerduty.routing_key: secrets are never written inline; use routing_key_file"
        ],
    ),
    Case(
        "an inline SMTP password points at the _file field",
        both(
            route=routing("from: am@example.com}", "from: am@example.com, auth_password: hunter2}")
        ),
        [
            "in/routing.yaml:3:65: smtp.auth_password: unknown field `auth_password`, "
            "did you mean `auth_password_file`?"
        ],
    ),
    # --- paths and the output directory -----------------------------------------------------------
    Case("an input path that does not exist", {}, ["in: no such file or directory"]),
    Case(
        "an output path that is a file",
        only(SERVICE),
        ["error: notes.txt: output path exists and is not a directory"],
        out="notes.txt",
        commands=("generate",),
        extra={"notes.txt": "keep me\n"},
    ),
    Case(
        "an output directory below a file",
        only(SERVICE),
        ["error: notes.txt/out: cannot create the output directory: notes.txt is a file"],
        out="notes.txt/out",
        commands=("generate",),
        extra={"notes.txt": "keep me\n"},
    ),
    Case(
        "an output directory in a place nobody can write",
        only(SERVICE),
        [
            f"error: /proc/sloforge-out: cannot write in /proc (No such file or directory); {UNWRITABLE}"
        ],
        out="/proc/sloforge-out",
        commands=("generate",),
    ),
]


@pytest.fixture(autouse=True)
def tight_jsonnet_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small limits keep the endless-loop and huge-allocation cases quick."""
    monkeypatch.setattr(loader, "JSONNET_TIMEOUT", 2.0)
    monkeypatch.setattr(loader, "JSONNET_MAX_MEMORY", 256 * 1024 * 1024)


@pytest.fixture(scope="module")
def previous_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The output of a valid run: what every bad run must leave exactly as it was."""
    root = tmp_path_factory.mktemp("previous")
    write(root, both())
    with contextlib.chdir(root):
        result = runner.invoke(app, ["generate", "in", "--out", "out"])
    assert result.exit_code == 0, result.output
    return root / "out"


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` (directories as None), to prove nothing changed."""
    return {
        p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else None)
        for p in sorted(root.rglob("*"))
    }


def expected_output(case: Case, command: str) -> str:
    if case.expect[0].startswith("error: "):
        return "\n".join(case.expect) + "\n"
    files = len({line.split(":")[0] for line in case.expect})
    count = len(case.expect)
    summary = (
        f"{count} problem{'s' if count != 1 else ''} in {files} file{'s' if files != 1 else ''}"
    )
    return "\n".join([*case.expect, summary]) + "\n"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gets_a_clear_message_and_changes_nothing(
    case: Case, previous_output: Path, tmp_path: Path
) -> None:
    write(tmp_path, {**case.files, **case.extra})
    shutil.copytree(previous_output, tmp_path / "out")
    before = snapshot(tmp_path)

    for command in case.commands:
        args = [command, "in"] + (["--out", case.out] if command == "generate" else [])
        with contextlib.chdir(tmp_path):
            result = runner.invoke(app, args)
        assert "Traceback" not in result.output
        assert (result.exit_code, result.stderr) == (1, expected_output(case, command)), command
        assert result.stdout == ""
        assert snapshot(tmp_path) == before, f"{command} changed the working directory"

    assert not list(tmp_path.glob("PWNED*"))


def test_the_corpus_covers_at_least_forty_cases() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


def test_python_tags_would_create_a_file_if_they_were_ever_executed(tmp_path: Path) -> None:
    """The tags in the corpus are live: PyYAML's unsafe loader does run them."""
    import yaml

    with contextlib.chdir(tmp_path):
        yaml.unsafe_load(OPEN_TAG)
    assert (tmp_path / "PWNED-open").exists()


SETPRIV = shutil.which("setpriv")


@pytest.mark.skipif(
    os.geteuid() == 0 and SETPRIV is None, reason="root ignores file modes and setpriv is absent"
)
def test_an_unwritable_output_directory_is_a_clear_error_and_changes_nothing(
    previous_output: Path, tmp_path: Path
) -> None:
    """A read-only parent directory; as root, the run drops the capabilities that ignore modes."""
    write(tmp_path, both())
    shutil.copytree(previous_output, tmp_path / "ro" / "out")
    os.chmod(tmp_path / "ro", 0o555)
    before = snapshot(tmp_path)
    drop = (
        [SETPRIV, "--bounding-set=-dac_override,-dac_read_search,-fowner"]
        if os.geteuid() == 0
        else []
    )
    try:
        proc = subprocess.run(
            [
                *drop,
                str(Path(sys.executable).parent / "sloforge"),
                "generate",
                "in",
                "--out",
                "ro/out",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.chmod(tmp_path / "ro", 0o755)

    assert (proc.returncode, proc.stdout) == (1, ""), proc.stderr
    assert proc.stderr == f"error: ro/out: cannot write in ro (Permission denied); {UNWRITABLE}\n"
    os.chmod(tmp_path / "ro", 0o555)
    assert snapshot(tmp_path) == before


OTHER_COMMANDS = [
    ["check", "in", "--out", "out"],
    ["lint", "in"],
    ["explain", "in"],
]
SAMPLED = [
    c
    for c in CASES
    if c.id
    in {
        "a tab used for indentation is named as a tab",
        "a misspelt field is one problem with a suggestion, not also a missing field",
        "a Python object tag inside a field is refused and never executed",
        "a Jsonnet error() is located at the call",
        "a route to a misspelt receiver",
        "bytes that are not UTF-8 are located",
    }
]


@pytest.mark.parametrize("args", OTHER_COMMANDS, ids=lambda a: a[0])
@pytest.mark.parametrize("case", SAMPLED, ids=[c.id for c in SAMPLED])
def test_every_other_command_refuses_bad_input_the_same_way(
    case: Case, args: list[str], previous_output: Path, tmp_path: Path
) -> None:
    write(tmp_path, case.files)
    shutil.copytree(previous_output, tmp_path / "out")
    before = snapshot(tmp_path)
    with contextlib.chdir(tmp_path):
        result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    # lint words its lines in its own format (`file:line:col: error: message [spec]`).
    location = ":".join(case.expect[0].split(":")[:3])
    assert f"{location}: " in result.output
    assert case.expect[0][len(location) + 2 :][-40:] in result.output
    assert snapshot(tmp_path) == before
