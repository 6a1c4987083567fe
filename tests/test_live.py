"""verify, status, gate and report against a real Prometheus with a day of backfilled history.

The history (tests/fixtures/live/shop.yaml says what it holds) has known error
ratios, so every figure ``status`` prints is checked against a value computed
by hand here. Prometheus runs on 127.0.0.1 with temporary storage, once per
release installed (Debian's 2.x and the current 3.x), and is stopped by pid.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import toolbox
import yaml
from sloforge.build.rules import build_rules
from sloforge.model.calendar import Calendar
from sloforge.pipeline import load
from sloforge_testlib import sloforge

pytestmark = pytest.mark.slow  # real Prometheus servers

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "live" / "shop.yaml"
DAY = 86400
HISTORY = DAY + 1800  # a little more than the SLOs' 1d period
STEP = 60
ROUTE_RPS = 5.0  # per route, two routes
BUY_ERRORS_EARLY, BUY_ERRORS_LATE = 0.004, 0.04  # /buy's error ratio before and in the last 2h
LATE = 2 * 3600
FAST_SHARE = 0.995  # of shop's requests faster than 0.5s
SEARCH_RPS, SEARCH_BAD_LATE, SEARCH_LATE = 1.0, 0.5, 1800


def _history(end: int) -> str:
    """OpenMetrics counters sampled every minute for HISTORY seconds up to ``end``."""
    series: dict[str, list[str]] = {}
    buy_bad = cart_bad = search_bad = 0.0
    start = end - HISTORY
    for ts in range(start, end + 1, STEP):
        elapsed = ts - start
        late = end - ts < LATE
        if ts > start:
            buy_bad += ROUTE_RPS * STEP * (BUY_ERRORS_LATE if late else BUY_ERRORS_EARLY)
            search_bad += SEARCH_RPS * STEP * (SEARCH_BAD_LATE if end - ts < SEARCH_LATE else 0)
        requests = ROUTE_RPS * elapsed
        values = {
            'http_requests_total{job="shop",route="/buy",code="200"}': requests - buy_bad,
            'http_requests_total{job="shop",route="/buy",code="500"}': buy_bad,
            'http_requests_total{job="shop",route="/cart",code="200"}': requests - cart_bad,
            'http_request_duration_seconds_bucket{job="shop",le="0.25"}': 2 * requests * 0.5,
            'http_request_duration_seconds_bucket{job="shop",le="0.5"}': 2 * requests * FAST_SHARE,
            'http_request_duration_seconds_bucket{job="shop",le="+Inf"}': 2 * requests,
            'http_request_duration_seconds_count{job="shop"}': 2 * requests,
            'search_requests_total{job="search",code="200"}': SEARCH_RPS * elapsed - search_bad,
            'search_requests_total{job="search",code="500"}': search_bad,
            'node_cpu_utilisation_ratio{job="node",instance="n1"}': 0.5,
        }
        for name, value in values.items():
            series.setdefault(name, []).append(f"{name} {value:.3f} {ts}")
    lines = [line for samples in series.values() for line in samples]
    return "\n".join(lines) + "\n# EOF\n"


def _expected() -> dict[str, float]:
    """What the SLOs' records hold over the last day, computed from the history's design."""
    early, late = DAY - LATE, LATE
    buy_bad = ROUTE_RPS * (early * BUY_ERRORS_EARLY + late * BUY_ERRORS_LATE)
    total = 2 * ROUTE_RPS * DAY
    return {
        "availability_ratio": buy_bad / total,
        "buy_ratio": buy_bad / (ROUTE_RPS * DAY),
        "total_events": total,
        "bad_events": buy_bad,
        "latency_ratio": 1 - FAST_SHARE,
        "late_ratio": ROUTE_RPS * BUY_ERRORS_LATE / (2 * ROUTE_RPS),
    }


@pytest.fixture(scope="module", params=["stable", "current"])
def prometheus(request, tmp_path_factory):
    """A real Prometheus with the fixture's generated rules and a day of history."""
    promtool, binary = toolbox.release(request.param)
    tmp = tmp_path_factory.mktemp("live")
    project = load([FIXTURE]).project
    docs = [(f"{s.name}.rules.yml", build_rules(s, project.settings)) for s in project.services]
    rule_files = toolbox.every_second(docs, tmp)
    storage = tmp / "data"
    toolbox.backfill(promtool, _history(int(time.time()) - 10), storage)
    with _exporter(tmp / "exporter") as target:
        config = tmp / "prometheus.yml"
        scrape = {"job_name": "exporter", "scrape_interval": "1s"}
        scrape["static_configs"] = [{"targets": [target]}]
        config.write_text(
            yaml.safe_dump(
                {
                    "global": {"evaluation_interval": "1s"},
                    "rule_files": rule_files,
                    "scrape_configs": [scrape],
                }
            )
        )
        with toolbox.prometheus(config, storage, binary=binary) as base:
            deadline = time.monotonic() + 60
            while not (toolbox.rules_evaluated(base) and _has(base, "shop_inflight_requests")):
                assert time.monotonic() < deadline, "rules or scrape not done within 60 s"
                time.sleep(0.5)
            time.sleep(2)  # a second round, so the alert rules saw the recordings
            yield base


EXPORTER = """
import http.server, sys
PAGE = open(sys.argv[2], "rb").read()
class Metrics(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.end_headers()
        self.wfile.write(PAGE)
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Metrics).serve_forever()
"""


@contextlib.contextmanager
def _exporter(root: Path) -> Iterator[str]:
    """A /metrics page with a gauge, so Prometheus has metadata to tell it from a counter."""
    root.mkdir()
    page = root / "metrics"
    page.write_text(
        "# HELP shop_inflight_requests Requests being served.\n"
        "# TYPE shop_inflight_requests gauge\n"
        "shop_inflight_requests 3\n"
    )
    port = toolbox.free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", EXPORTER, str(port), str(page)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        toolbox.wait_http(f"http://127.0.0.1:{port}/metrics")
        yield f"127.0.0.1:{port}"
    finally:
        os.kill(server.pid, signal.SIGTERM)
        server.wait(timeout=10)


def _has(base: str, metric: str) -> bool:
    url = f"{base}/api/v1/query?query={metric}"
    with urllib.request.urlopen(url, timeout=10) as resp:
        return bool(json.load(resp)["data"]["result"])


# --- status ----------------------------------------------------------------------------------


def _status(base: str) -> dict[str, dict]:
    result = sloforge("status", str(FIXTURE), "--prometheus", base, "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["slos"]
    return {
        f"{r['service']}/{r['slo']}" + "".join(f"{{{v}}}" for v in r["group"].values()): r
        for r in rows
    }


def _close(actual: float, expected: float, rel: float = 0.01) -> bool:
    return math.isclose(actual, expected, rel_tol=rel)


def test_status_numbers_equal_the_values_computed_from_the_history(prometheus):
    rows = _status(prometheus)
    want = _expected()
    shop = rows["shop/availability"]
    assert _close(shop["sli"], 100 * (1 - want["availability_ratio"])), shop
    assert _close(shop["budget_remaining"], 1 - want["availability_ratio"] / 0.01), shop
    assert _close(shop["budget_spent"], want["availability_ratio"] / 0.01), shop
    assert _close(shop["events_total"], want["total_events"]), shop
    assert _close(shop["events_bad"], want["bad_events"]), shop
    allowed = 0.01 * want["total_events"]
    assert _close(shop["events_remaining"], allowed - want["bad_events"]), shop
    assert _close(shop["time_remaining_seconds"], shop["budget_remaining"] * 0.01 * DAY)
    assert _close(shop["burn"]["1h"], want["late_ratio"] / 0.01), shop["burn"]
    assert _close(shop["burn"]["5m"], want["late_ratio"] / 0.01), shop["burn"]
    assert shop["firing"] == []

    latency = rows["shop/latency"]
    assert _close(latency["budget_remaining"], 1 - want["latency_ratio"] / 0.01), latency

    assert _close(rows["shop/routes{/buy}"]["budget_remaining"], 1 - want["buy_ratio"] / 0.01)
    assert rows["shop/routes{/cart}"]["budget_remaining"] == 1.0  # no error series: no errors

    search = rows["search/availability"]
    weekly = rows["storefront/weekly"]
    assert weekly["period"] == "calendar week (UTC)"
    since = time.time() - Calendar("week").start(time.time())
    counted = min(since, HISTORY)  # the history may begin after Monday 00:00
    late = min(counted, LATE)
    assert _close(weekly["events_total"], 2 * ROUTE_RPS * counted), weekly
    bad = ROUTE_RPS * (late * BUY_ERRORS_LATE + (counted - late) * BUY_ERRORS_EARLY)
    assert _close(weekly["events_bad"], bad), weekly
    firing = {(f["alert"], f["windows"], f["tier"]) for f in search["firing"]}
    assert ("SearchAvailabilityBudgetBurn", "1h/5m", "page") in firing


def test_status_table_and_markdown_show_the_same_figures(prometheus):
    table = sloforge("status", str(FIXTURE), "-p", prometheus, "--service", "shop")
    markdown = sloforge("status", str(FIXTURE), "-p", prometheus, "-s", "shop", "-f", "markdown")
    assert table.returncode == markdown.returncode == 0, table.stderr + markdown.stderr
    remaining = 100 * (1 - _expected()["availability_ratio"] / 0.01)
    for text in (table.stdout, markdown.stdout):
        line = next(row for row in text.splitlines() if "shop/availability" in row)
        assert f"{remaining:.1f}%" in line, line
        assert "search/" not in text
    assert markdown.stdout.splitlines()[1].startswith("|---|")


# --- gate ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("floor", "code", "verdict"),
    [
        (25, 0, "ok   shop/routes{route=/buy}: budget 30.0% left (floor 25%), no page firing"),
        (40, 3, "FAIL shop/routes{route=/buy}: budget 30.0% left, below the 40% floor"),
    ],
    ids=["a budget above the floor opens the gate", "a budget below the floor closes it"],
)
def test_gate_exits_by_the_budget_floor(prometheus, floor, code, verdict):
    result = sloforge(
        "gate", str(FIXTURE), "-p", prometheus, "--service", "shop", "--min-budget", str(floor)
    )
    assert result.returncode == code, result.stdout + result.stderr
    assert verdict in result.stdout.splitlines()


def test_gate_closes_when_a_page_is_firing(prometheus):
    result = sloforge("gate", str(FIXTURE), "-p", prometheus, "--service", "search")
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stdout.splitlines()[0].startswith(
        "FAIL search/availability: page firing: SearchAvailabilityBudgetBurn 1h/5m"
    )
    assert result.stdout.splitlines()[-1] == "gate closed: 1 of 1 SLOs fail"


# --- verify ----------------------------------------------------------------------------------


def test_verify_passes_the_correct_spec(prometheus):
    result = sloforge("verify", str(FIXTURE), "--prometheus", prometheus)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = "ok: 10 selectors, 11 rule groups, 5 SLO recordings checked against "
    assert result.stdout.startswith(summary)


def _planted(tmp_path: Path, old: str, new: str) -> tuple[Path, int, int]:
    """The fixture with one mistake; the line and column where ``new`` starts."""
    text = FIXTURE.read_text()
    assert text.count(old) >= 1
    planted = text.replace(old, new, 1)
    path = tmp_path / "shop.yaml"
    path.write_text(planted)
    before = planted[: planted.index(new)]
    line = before.count("\n") + 1
    return path, line, len(before) - before.rfind("\n")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'errors: http_requests_total{job="shop", code=~"5.."}',
            'errors: http_requests_total{job="shpo", code=~"5.."}',
            'http_requests_total{job="shpo", code=~"5.."}: no series: no '
            'http_requests_total has job="shpo" (closest values seen: "shop")',
        ),
        (
            "histogram: http_request_duration_seconds",
            "histogram: http_request_duration_second",
            'http_request_duration_second_count{job="shop"}: no series: the metric '
            "http_request_duration_second_count is unknown to Prometheus; similar names: "
            "http_request_duration_seconds_count, http_request_duration_seconds_bucket",
        ),
        (
            "threshold: 0.5",
            "threshold: 0.3",
            'http_request_duration_seconds_bucket{job="shop"}: no bucket at the '
            'threshold: le="0.3" not found (buckets seen: 0.25, 0.5); choose a threshold that '
            "is a bucket boundary",
        ),
        (
            'errors: search_requests_total{job="search", code=~"5.."}',
            'errors: shop_inflight_requests{job="exporter"}',
            'shop_inflight_requests{job="exporter"}: shop_inflight_requests is a gauge (per '
            "Prometheus' metadata), but this SLI reads it with rate(), which needs a counter",
        ),
    ],
    ids=[
        "a label value typo",
        "a metric name typo",
        "a threshold between buckets",
        "a gauge read as a counter",
    ],
)
def test_verify_finds_a_planted_mistake_at_its_line(prometheus, tmp_path, old, new, message):
    path, line, column = _planted(tmp_path, old, new)
    result = sloforge("verify", str(path), "--prometheus", prometheus)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{path}:{line}:{column}: {message}" in result.stdout.splitlines(), result.stdout
    assert result.stdout.splitlines()[-1].startswith("1 problem: ")


def test_verify_says_when_the_rules_are_not_loaded(prometheus, tmp_path):
    path, line, column = _planted(tmp_path, "service: search", "service: catalog")
    result = sloforge("verify", str(path), "--prometheus", prometheus)
    assert result.returncode == 1
    assert (
        f"{path}:{line}:{column}: rule group sloforge-catalog-slo-availability: not loaded: "
        "add the generated "
        "rule file to Prometheus' rule_files and reload"
    ) in result.stdout.splitlines()


# --- report ----------------------------------------------------------------------------------


def _chromium() -> str:
    found = next(
        (shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)), None
    )
    if not found:
        pytest.skip("Debian's chromium is not installed (`make setup` installs it)")
    return found


def test_the_report_renders_every_chart_in_headless_chromium(prometheus, tmp_path):
    out = tmp_path / "report"
    result = sloforge("report", str(FIXTURE), "-p", prometheus, "--out", str(out))
    assert result.returncode == 0, result.stderr
    pages = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html"))
    assert pages == [
        "index.html",
        "search/availability.html",
        "shop/availability.html",
        "shop/latency.html",
        "shop/routes.html",
        "storefront/weekly.html",
    ]
    weekly = (out / "storefront" / "weekly.html").read_text()
    assert "Error budget left this week, since it began" in weekly
    assert weekly.count("<polyline") >= 1
    page = (out / "shop" / "availability.html").read_text()
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "<script" not in page
    # budget left, one chart per alert window (1h, 5m, 6h, 30m, 1d, 2h), the alert timeline
    assert page.count("<svg") == 8
    chromium = _chromium()
    shot = tmp_path / "shop-availability.png"
    profile = tmp_path / "profile"
    run = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=900,2400",
            f"--screenshot={shot}",
            (out / "shop" / "availability.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shot.exists() and shot.stat().st_size > 20_000, run.stderr[-2000:]
    console = [line for line in run.stderr.splitlines() if "CONSOLE" in line]
    assert console == []
    dom = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={profile}",
            "--dump-dom",
            (out / "shop" / "availability.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert dom.count("<svg") == 8
    assert dom.count("<polyline") >= 7  # every line chart drew its data


def test_the_report_will_not_replace_a_directory_of_other_files(prometheus, tmp_path):
    keep = tmp_path / "slo.yaml"
    keep.write_text("precious\n")
    result = sloforge("report", str(FIXTURE), "-p", prometheus, "--out", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: {tmp_path} holds files that are not a sloforge report; the report replaces "
        "its directory whole: choose an empty or new --out"
    )
    assert keep.read_text() == "precious\n"


# --- connection problems -----------------------------------------------------------------------


def test_an_unreachable_prometheus_is_a_clear_error():
    port = toolbox.free_port()
    result = sloforge("status", str(FIXTURE), "-p", f"http://127.0.0.1:{port}")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: cannot reach Prometheus at http://127.0.0.1:{port}: [Errno 111] Connection refused"
    )


def test_a_server_that_is_not_prometheus_is_named(tmp_path):
    page = tmp_path / "api" / "v1"
    page.mkdir(parents=True)
    (page / "query").write_text("<html>login</html>")
    port = toolbox.free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        toolbox.wait_http(f"http://127.0.0.1:{port}/")
        result = sloforge("status", str(FIXTURE), "-p", f"http://127.0.0.1:{port}")
    finally:
        os.kill(server.pid, 15)
        server.wait(timeout=10)
    assert result.returncode == 1
    assert result.stderr.strip().endswith(
        "did not answer with Prometheus API JSON (is --prometheus the Prometheus server's address?)"
    )


# --- TLS and authentication ------------------------------------------------------------------


def _bcrypt(password: str) -> str:
    """A bcrypt hash for Prometheus' web config, from the C library's crypt(3)."""
    crypt = pytest.importorskip("crypt", reason="Python's crypt module is gone (3.13+)")
    hashed = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH))
    if not hashed or not hashed.startswith("$2"):
        pytest.skip("this C library's crypt(3) has no bcrypt")
    return hashed


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    """Prometheus behind TLS (a self-signed certificate for 127.0.0.1) and basic auth."""
    binary = toolbox.require("prometheus")
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    tmp = tmp_path_factory.mktemp("secured")
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    web = tmp / "web.yml"
    web.write_text(
        yaml.safe_dump(
            {
                "tls_server_config": {"cert_file": str(cert), "key_file": str(key)},
                "basic_auth_users": {"sre": _bcrypt("s3cret")},
            }
        )
    )
    config = tmp / "prometheus.yml"
    config.write_text(yaml.safe_dump({"global": {"evaluation_interval": "1s"}}))
    port = toolbox.free_port()
    args = [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={tmp / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        f"--web.config.file={web}",
    ]
    log = tmp / "prometheus.log"
    with log.open("w") as out:
        server = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while "Server is ready" not in log.read_text():
            assert server.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.2)
        password = tmp / "password"
        password.write_text("s3cret\n")
        wrong = tmp / "wrong"
        wrong.write_text("guess\n")
        yield f"https://127.0.0.1:{port}", cert, password, wrong
    finally:
        os.kill(server.pid, signal.SIGTERM)
        server.wait(timeout=15)


def test_tls_and_basic_auth_with_the_ca_file(secured):
    url, cert, password, _ = secured
    auth = ["--user", "sre", "--password-file", str(password), "--ca-file", str(cert)]
    result = sloforge("status", str(FIXTURE), "-p", url, "-s", "search", *auth)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].split()[:5] == [
        "search/availability",
        "99.9%",
        "1d",
        "-",
        "-",
    ]


@pytest.mark.parametrize(
    ("options", "error"),
    [
        (
            ["--user", "sre", "--password-file", "{password}"],
            "error: {url}: the server's TLS certificate is not trusted (self-signed "
            "certificate): pass its CA with --ca-file",
        ),
        (
            ["--ca-file", "{cert}", "--user", "sre", "--password-file", "{wrong}"],
            "error: {url}: HTTP 401 Unauthorized (check --bearer-token-file or "
            "--user/--password-file)",
        ),
        (
            ["--ca-file", "{cert}", "--password-file", "{password}"],
            "error: basic authentication needs both --user and --password-file",
        ),
    ],
    ids=[
        "an unknown certificate authority is refused",
        "a wrong password is named",
        "a password without a user is a usage mistake",
    ],
)
def test_tls_and_auth_mistakes_are_one_clear_line(secured, options, error):
    url, cert, password, wrong = secured
    values = {"url": url, "cert": cert, "password": password, "wrong": wrong}
    args = [o.format(**values) for o in options]
    result = sloforge("status", str(FIXTURE), "-p", url, "-s", "search", *args)
    assert result.returncode == 1
    assert result.stderr.strip() == error.format(**values)


def test_skipping_verification_works_and_warns(secured):
    url, _, password, _ = secured
    auth = ["--user", "sre", "--password-file", str(password), "--insecure-skip-verify"]
    result = sloforge("status", str(FIXTURE), "-p", url, "-s", "search", *auth)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == (
        "warning: --insecure-skip-verify: the Prometheus server's certificate is not checked"
    )
